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
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import uuid
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


# --- a whole round (`invoke postvak`) killed at every step -----------------------------------

ROUND_STEPS = [
    "postvak.schedule:intake:after:2",  # two of three stored, the spool not yet emptied
    "postvak.store:mark_to_publish:before:1",  # first record applied, no marker yet
    "postvak.store:mark_applied:before:2",
    "postvak.process:deliver:before:1",  # processed, no mail sent
    "postvak.schedule:send_daylists:before:1",
    "postvak:export_threads:before:1",  # under the site lock, before the threads
    "postvak.store:mark_to_publish:after:4",  # the export's marker, no thread file yet
    "tasks.common:build:after:1",  # built, not released
    "publish.targets.basic_auth.releases:_fsync_tree:after:1",  # release written, not live
    "publish.targets.basic_auth.releases:_prune:before:1",  # live, not acknowledged
]
TEXT = "Kunnen we donderdag even bellen over de excursie?"


@pytest.fixture(scope="module")
def published_school(tmp_path_factory):
    """The demo school, published once to the nginx target (copied for every kill)."""
    from tests.helpers import demo_school, run_invoke

    tmp = tmp_path_factory.mktemp("round")
    env = demo_school(tmp, SCHOOLPLEIN_WEB_USER=os.environ.get("USER", "root"))
    assert run_invoke("accounts", env=env).returncode == 0
    assert run_invoke("publish", "--target", "nginx", env=env).returncode == 0
    (tmp / "env.json").write_text(json.dumps(env))
    return tmp


def spool_submissions(spool: Path, parent) -> dict[str, str]:
    """What nginx would have stored for three PUTs of one parent; returns id -> kind."""
    bodies = [{"soort": "beeldgebruik", "kind": "zoe-devries", "keuze": "geen"},
              {"soort": "bericht", "aan": "lk-02", "tekst": TEXT},
              {"soort": "afwezigheid", "kind": "omer-devries", "reden": "ziek"}]
    ids = {}
    for n, body in enumerate(bodies):
        ident = str(uuid.uuid4())
        folder = (spool / parent.email / f"{time.time() + n:.3f}" / "gezin" / parent.family
                  / "postvak")
        folder.mkdir(parents=True)
        (folder / f"{ident}.json").write_text(json.dumps({"v": 1, **body}))
        ids[ident] = body["soort"]
    return ids


@pytest.mark.parametrize("step", ROUND_STEPS,
                         ids=[f"{s.split(':')[1]}-{s.split(':')[2]}-{s.split(':')[3]}"
                              for s in ROUND_STEPS])
def test_a_round_killed_at_any_step_publishes_everything_at_the_next_run(published_school,
                                                                        tmp_path, roster, step):
    from tests.helpers import ROOT as REPO
    from tests.helpers import run_invoke

    school = tmp_path / "school"
    shutil.copytree(published_school, school, symlinks=True)
    env = {k: v.replace(str(published_school), str(school))
           for k, v in json.loads((published_school / "env.json").read_text()).items()}
    release = (school / "deploy" / "nginx" / "current").resolve()
    audit = json.loads(max((school / "audit").glob("fotos-*.json")).read_text())["fotos"]
    zoe = [url for p in audit if p["published"] and "zoe-devries" in
           {t["child"] for t in p.get("tags", ())} for url in p["outputs"]]
    assert zoe and all((release / url.lstrip("/")).exists() for url in zoe)
    parent = roster.parents["ouder-001"]
    ids = spool_submissions(school / "deploy" / "nginx" / "postvak", parent)

    killed = subprocess.run([sys.executable, str(REPO / "tests" / "run_task.py"), f"{step}:kill",
                             "postvak", "--target", "nginx"], cwd=REPO,
                            env=dict(os.environ, **env), capture_output=True, text=True,
                            timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr

    again = run_invoke("postvak", "--target", "nginx", env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    private = school / "private" / "postvak"
    assert {p.stem for p in (private / "journaal").glob("*.json")} == set(ids)
    live = (school / "deploy" / "nginx" / "current").resolve()
    page = (live / "gezin" / parent.family / "index.html").read_text()
    assert TEXT in page  # the message reached the family page
    assert not [url for url in zoe if (live / url.lstrip("/")).exists()]  # photos gone
    assert not list((private / "spoed").glob("*")) and not list((private / "publiceren").glob("*"))
    mails = [p.read_bytes() for p in (school / "private" / "mail").glob("*.eml")]
    teacher = roster.staff["lk-02"].email.encode()
    assert sum(teacher in m and b"Subject:" in m for m in mails) >= 1  # the teacher was told
    assert len({m for m in mails}) == len(mails)
    quiet = run_invoke("postvak", "--target", "nginx", env=env)
    assert quiet.returncode == 0 and "Gepubliceerd" not in quiet.stdout, quiet.stdout
