"""`process` killed with SIGKILL at many points and run again equals one uninterrupted run.

The processing runs in a subprocess (tests/postvak/run_process.py). It is killed
(1) at random moments while it journals and applies, while the SMTP server holds
every mail without accepting it, and (2) by the SMTP server itself in the middle
of the K-th mail, before it accepts that mail. After a last clean run, every
submission is applied exactly once and every notice arrived exactly once: the
journal, the roster, the audit trail, quarantine and the mails equal those of a
run that was never interrupted.
"""

from __future__ import annotations

import json
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest

from postvak import process
from postvak.consent import read_audit
from postvak.store import journal, quarantine_list

from .conftest import ADMIN, FAM_A, FAM_B, FAM_K, FAM_S, FAM_V, SITE, Inbox, with_smtp

RUNNER = Path(__file__).with_name("run_process.py")


def workload(inbox: Inbox, rounds: int = 8) -> None:
    b_choices = ["geen", "school", "groep", "school"]
    a_choices = ["school", "groep", "geen", "school"]
    for i in range(rounds):
        day = (date(2026, 11, 10) + timedelta(days=i % 4)).isoformat()
        inbox.put(FAM_A, "marieke.jansen@example.nl", {"soort": "afwezigheid", "kind": "lotte-jansen",
                                                        "reden": "ziek", "van": day})
        inbox.put(FAM_V, "marieke.devries@example.nl", {"soort": "bericht", "aan": "lk-3",
                                                         "tekst": f"Bericht {i} <b>geheim</b>"})
        inbox.put(FAM_B, "peter.jansen@example.nl", {"soort": "beeldgebruik", "kind": "lotte-jansen",
                                                      "keuze": b_choices[i % 4]})
        inbox.put(FAM_A, "marieke.jansen@example.nl", {"soort": "beeldgebruik", "kind": "lotte-jansen",
                                                        "keuze": a_choices[i % 4]})
        inbox.put(FAM_S, "anouk.bakker@example.nl", "{kapot")
        inbox.put(FAM_K, "dennis.kok@example.nl", {"soort": "afwezigheid", "kind": "sem-kok",
                                                    "reden": "arts", "van": day})


def outcome(settings) -> dict:
    """Everything a run leaves behind that must not depend on interruptions."""
    records = {r["id"]: {k: v for k, v in r.items() if k != "processed_at"}
               for r in journal(settings.private)}
    base = settings.private / "postvak"
    return {
        "journal": records,
        "roster": (settings.roster / "leerlingen.csv").read_bytes(),
        "audit": read_audit(settings.private),
        "quarantine": sorted((q.name, q.reason) for q in quarantine_list(settings.private)),
        "urgent": sorted(p.name for p in (base / "spoed").glob("*")),
        "left": sorted(str(p.relative_to(base)) for d in ("ontvangen", "uit")
                       for p in (base / d).glob("*")),
        "temp": sorted(str(p) for p in settings.private.rglob(".tmp-*"))
        + sorted(str(p) for p in settings.roster.glob(".tmp-*")),
    }


def delivered(smtp_server) -> list[tuple[str, str, bytes]]:
    return sorted((msg["Message-ID"], msg["To"], raw) for (_, _, raw), msg
                  in zip(smtp_server.messages, smtp_server.parsed(), strict=True))


def spawn(settings, port: int) -> subprocess.Popen:
    cfg = {"private": str(settings.private), "roster": str(settings.roster), "port": port,
           "site_url": SITE, "sender": settings.sender, "admin_email": ADMIN}
    return subprocess.Popen([sys.executable, str(RUNNER), json.dumps(cfg)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def journal_size(settings) -> int:
    folder = settings.private / "postvak" / "journaal"
    return len(list(folder.glob("*.json"))) if folder.exists() else 0


def copy_school(settings, tmp_path: Path, name: str):
    from dataclasses import replace

    shutil.copytree(settings.private, tmp_path / name / "private")
    shutil.copytree(settings.roster, tmp_path / name / "roster")
    return replace(settings, private=tmp_path / name / "private", roster=tmp_path / name / "roster")


@pytest.mark.parametrize("seed", [1, 2])
def test_killed_anywhere_and_run_again_equals_one_clean_run(school, inbox, smtp_server, tmp_path,
                                                            seed):
    workload(inbox)
    killed = copy_school(school, tmp_path, "killed")
    reference = copy_school(school, tmp_path, "reference")
    process(with_smtp(reference, smtp_server.port))
    expected_mail = delivered(smtp_server)
    expected = outcome(reference)
    total = len(expected["journal"])
    assert total == 40 and len(expected_mail) > 80 and len(expected["quarantine"]) == 8
    smtp_server.messages.clear()
    rng = random.Random(seed)

    # (1) kill while journaling and applying; the SMTP server accepts nothing meanwhile
    smtp_server.stall = True
    kills = 0
    while journal_size(killed) < total or kills == 0:
        seen = journal_size(killed)
        proc = spawn(killed, smtp_server.port)
        deadline = time.monotonic() + 30
        while journal_size(killed) <= seen and time.monotonic() < deadline and seen < total:
            time.sleep(0.001)
        time.sleep(rng.uniform(0, 0.03))
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        kills += 1
        assert kills < 200
    smtp_server.stall = False
    assert smtp_server.messages == []

    # (2) the SMTP server kills the process in the middle of the K-th mail
    for k in (1, rng.randint(2, 9), rng.randint(2, 9)):
        smtp_server.datas = 0
        proc = spawn(killed, smtp_server.port)
        smtp_server.victim, smtp_server.kill_at = proc.pid, k
        proc.wait(60)
        assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()
        smtp_server.kill_at = None

    # (3) a clean run finishes the work
    proc = spawn(killed, smtp_server.port)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode()
    ids = Counter(mid for mid, _, _ in delivered(smtp_server))
    assert set(ids.values()) == {1}, [m for m, n in ids.items() if n > 1]
    assert delivered(smtp_server) == expected_mail
    got = outcome(killed)
    assert got == expected and got["left"] == [] and got["temp"] == []
    assert kills >= 5
