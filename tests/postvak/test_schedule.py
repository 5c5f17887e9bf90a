"""The 08:35 day list, the --watch loop and the systemd units for a server."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import datetime, time

from plugins.errors import Problem, SchoolpleinError
from plugins.settings import SCHOOL_TZ
from postvak import process, send_daylists, systemd_units, tick, watch
from tests.helpers import demo_school, run_invoke

from .conftest import FAM_A, FAM_B, FAM_K, FAM_V, MORNING, with_smtp

TUESDAY_0835 = datetime(2026, 11, 10, 8, 35, tzinfo=SCHOOL_TZ)
MIRJAM = "mirjam.visser@school.example.nl"


def absences(inbox):
    inbox.put(FAM_A, "marieke.jansen@example.nl", {"soort": "afwezigheid", "kind": "lotte-jansen",
                                                    "reden": "arts", "toelichting": "Beugel"})
    inbox.put(FAM_B, "peter.jansen@example.nl", {"soort": "afwezigheid", "kind": "lotte-jansen",
                                                  "reden": "arts"})  # the other household too
    inbox.put(FAM_K, "dennis.kok@example.nl", {"soort": "afwezigheid", "kind": "sem-kok",
                                                "reden": "ziek", "van": "2026-11-09",
                                                "tot": "2026-11-12"})
    inbox.put(FAM_V, "marieke.devries@example.nl", {"soort": "afwezigheid", "kind": "zoe-devries",
                                                     "reden": "anders", "van": "2026-11-11"})
    inbox.put(FAM_A, "marieke.jansen@example.nl", {"soort": "afwezigheid", "kind": "daan-jansen",
                                                    "reden": "ziek"}, at=MORNING.replace(hour=8,
                                                                                        minute=33))


def daylists(smtp_server) -> dict[str, str]:
    return {m["To"]: m.get_content().replace("\r\n", "\n") for m in smtp_server.parsed()
            if m["Subject"].startswith("Afmeldingen voor vandaag")}


def test_each_teacher_gets_one_day_list_for_their_groups(school, inbox, smtp_server):
    settings = with_smtp(school, smtp_server.port)
    absences(inbox)
    process(settings)
    assert send_daylists(settings, TUESDAY_0835.replace(minute=34)) is None
    assert send_daylists(settings, datetime(2026, 11, 14, 9, 0, tzinfo=SCHOOL_TZ)) is None  # Sat
    delivery = send_daylists(settings, TUESDAY_0835)
    assert delivery.sent == 3
    lists = daylists(smtp_server)
    assert set(lists) == {MIRJAM, "pieter.bos@school.example.nl", "anne.smit@school.example.nl"}
    mirjam = lists[MIRJAM]
    assert "- Daan (Groep 3): ziek, gemeld na 08.30 uur" in mirjam
    assert "- Sem K. (Groep 3): ziek\n" in mirjam
    assert "Zoë" not in mirjam and "Lotte" not in mirjam  # Zoë is absent tomorrow
    assert lists["pieter.bos@school.example.nl"].count("Lotte (Groep 5/6): arts/tandarts") == 1
    assert "Beugel" not in "".join(lists.values()) and "Jansen" not in "".join(lists.values())
    # exactly once per teacher per day: again later, or after a crash lost the day's marker
    assert send_daylists(settings, TUESDAY_0835.replace(hour=11)) is None
    for marker in (school.private / "postvak/daglijst").iterdir():
        marker.unlink()
    assert send_daylists(settings, TUESDAY_0835.replace(hour=11)).sent == 0
    assert len(daylists(smtp_server)) == 3
    before = len(smtp_server.messages)
    wednesday = send_daylists(settings, TUESDAY_0835.replace(day=11))
    assert wednesday.sent == 3 and len(smtp_server.messages) == before + 3
    mirjam = smtp_server.parsed()[-3:]
    [text] = [m.get_content() for m in mirjam if m["To"] == MIRJAM]
    assert "Zoë (Groep 3): anders" in text and "Sem K. (Groep 3): ziek\r\n" in text


def test_a_day_without_reports_says_so(school, smtp_server):
    settings = with_smtp(school, smtp_server.port)
    tick(settings, TUESDAY_0835)
    assert all("niemand afgemeld" in text for text in daylists(smtp_server).values())


def test_tick_processes_then_sends_the_list_when_due(school, inbox):
    absences(inbox)
    early = tick(school, MORNING)
    assert len(early.summary.applied) == 5 and early.daylist is None
    due = tick(school, TUESDAY_0835)
    assert due.summary.applied == () and due.daylist.sent == 3


def test_watch_keeps_going_after_a_failed_round():
    rounds, naps, said = [], [], []

    def cycle():
        rounds.append(1)
        if len(rounds) == 2:
            raise SchoolpleinError(Problem("roster/ouders.csv", 4, "ongeldig e-mailadres"))
        if len(rounds) == 3:
            raise OSError("schijf vol")
        if len(rounds) == 4:
            raise KeyError("een fout in de code")  # a bug must not silence the postvak either

    done = watch(cycle, 30, stop=lambda: len(rounds) >= 5, sleep=naps.append, report=said.append)
    assert done == 5 and len(naps) == 4 and all(0 <= n <= 30 for n in naps)
    assert "ouders.csv:4" in said[0] and "schijf vol" in said[1]
    assert "KeyError" in said[2] and "een fout in de code" in said[2]


def test_systemd_units_verify_and_run_every_minute_and_at_the_day_list_time(tmp_path):
    project = tmp_path / "srv" / "schoolplein"
    (project / ".venv/bin").mkdir(parents=True)
    invoke = project / ".venv/bin/invoke"
    invoke.write_text("#!/bin/sh\n")
    os.chmod(invoke, 0o755)
    units = systemd_units(project, "schoolplein", daylist_at=time(8, 35),
                          writable=("/srv/postvak-spool",))
    assert set(units) == {"schoolplein-postvak.service", "schoolplein-postvak.timer",
                          "schoolplein-daglijst.service", "schoolplein-daglijst.timer"}
    service = units["schoolplein-postvak.service"]
    assert "User=schoolplein" in service and f"ExecStart={invoke} postvak\n" in service
    assert f"ReadWritePaths={project} /srv/postvak-spool" in service
    assert "OnUnitInactiveSec=60s" in units["schoolplein-postvak.timer"]
    assert f"ExecStart={invoke} postvak --daglijst" in units["schoolplein-daglijst.service"]
    calendar = "Mon..Fri *-*-* 08:35:00 Europe/Amsterdam"
    assert f"OnCalendar={calendar}" in units["schoolplein-daglijst.timer"]
    for name, text in units.items():
        (tmp_path / name).write_text(text)
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze ontbreekt: voer scripts/bootstrap.sh uit"
    check = subprocess.run([analyze, "verify", *(str(tmp_path / n) for n in sorted(units))],
                           capture_output=True, text=True)
    assert check.returncode == 0 and check.stderr == "", check.stderr
    cal = subprocess.run([analyze, "calendar", calendar], capture_output=True, text=True)
    assert cal.returncode == 0 and "Next elapse" in cal.stdout


def test_invoke_writes_units_for_the_chosen_target_and_the_admins_folders(tmp_path):
    env = demo_school(tmp_path)
    result = run_invoke("postvak", "--target", "cloudfront", "--systemd", str(tmp_path / "units"),
                        env=env)
    assert result.returncode == 0, result.stderr
    service = (tmp_path / "units" / "schoolplein-postvak.service").read_text()
    assert "postvak --target cloudfront\n" in service
    paths = next(line for line in service.splitlines() if line.startswith("ReadWritePaths="))
    for folder in ("private", "roster", "output", "deploy", "audit"):
        assert str(tmp_path / folder) in paths.split(), (folder, paths)
