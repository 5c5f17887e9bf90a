"""The demo stays open whenever it is started: its sign-up dates move with the (given) day."""

from __future__ import annotations

import re
import shutil
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest

import postvak
from plugins.agenda import holiday_in, school_holidays
from plugins.roster import load_roster
from plugins.settings import SCHOOL_TZ, load_settings
from plugins.signups import CONFERENCES, VOLUNTEERS, all_declared, read_header
from tasks.demo_dates import refresh
from tasks.inbox import seed_demo_leave
from tests.helpers import ROOT, demo_school

LATER = [date(2027, 1, 28), date(2027, 6, 1), date(2029, 11, 5)]  # injected "today"s


@pytest.fixture
def content(tmp_path):
    shutil.copytree(ROOT / "content", tmp_path / "content")
    return tmp_path / "content"


@pytest.mark.parametrize("today", LATER, ids=str)
def test_the_demo_has_open_sign_ups_and_a_conference_evening_on_any_later_day(content, today,
                                                                              roster):
    moved = refresh(content, today)
    assert moved
    found, problems = all_declared(content, roster)
    assert not problems
    moment = datetime.combine(today, time(9), SCHOOL_TZ)
    assert all(a.open_at(moment) for a in found.values())
    assert any(a.kind == VOLUNTEERS for a in found.values())
    [talks] = [a for a in found.values() if a.kind == CONFERENCES]
    assert len(talks.slots) > 10 and talks.deadline < talks.slots[0].start
    holidays = school_holidays(content)
    assert not [s for s in talks.slots if holiday_in(holidays, s.start.date(), s.start.date())]
    assert {s.start.weekday() for s in talks.slots} == {1, 3}  # still Tuesday and Thursday
    assert refresh(content, today) == []  # a second start that day moves nothing


def test_a_demo_started_before_its_deadlines_keeps_the_dates_the_teacher_wrote(content):
    before = {p: p.read_bytes() for p in content.rglob("*.md")}
    assert refresh(content, date(2026, 12, 7)) == []
    assert before == {p: p.read_bytes() for p in content.rglob("*.md")}


@pytest.mark.parametrize("today", [date(2026, 12, 7), *LATER], ids=str)
def test_the_demo_leave_request_is_one_the_directie_can_decide(tmp_path, today):
    env = demo_school(tmp_path)
    cfg = load_settings(ROOT, env)
    now = datetime.combine(today, time(8), SCHOOL_TZ)
    seed_demo_leave(cfg, now=now)
    summary = postvak.process(postvak.PostvakSettings.from_settings(cfg), now=now)
    assert len(summary.applied) == 1 and not summary.quarantined, summary.text()
    [request] = postvak.leave.requests(postvak.PostvakSettings.from_settings(cfg))
    assert request.decision == "" and request.start >= today + timedelta(weeks=8)
    assert not holiday_in(school_holidays(cfg.content), request.start, request.end)
    assert load_roster(cfg.roster).children[request.child].first_name == "Ömer"


def test_invoke_demo_moves_a_past_deadline_and_serves_the_open_sign_up(tmp_path):
    """The wiring: a demo whose trip closed (relative to the real day the demo runs on, as
    `invoke demo` only knows that one) is served open, and the banner says what moved."""
    import os
    import signal
    import subprocess
    import sys
    import threading

    from publish.targets.basic_auth import local_server
    from tests.http_client import Client

    env = dict(os.environ, **demo_school(tmp_path))
    trip = tmp_path / "content" / "groep" / "groep-3" / "2026-10-20-hulpouders-gezocht.md"
    today = datetime.now(SCHOOL_TZ).date()
    past = today - timedelta(days=3)
    text = trip.read_text(encoding="utf-8")
    trip.write_text(re.sub(r"(?m)^Aanmelden_tot: \S+", f"Aanmelden_tot: {past}", text),
                    encoding="utf-8")
    port = local_server.free_port()
    proc = subprocess.Popen([str(Path(sys.executable).parent / "invoke"), "demo", "--port",
                             str(port), "--postvak", "0"], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    lines: list[str] = []
    started = threading.Event()

    def read() -> None:
        for line in proc.stdout:
            lines.append(line)
            if "draait op http://127.0.0.1" in line:
                started.set()
        started.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        started.wait(timeout=120)
        assert proc.poll() is None, "".join(lines)
        assert "De data van de inschrijvingen in de demo zijn naar voren geschoven" in "".join(
            lines)
        [(_, moved)] = read_header(trip).entries["aanmelden_tot"][1]
        assert date.fromisoformat(moved[:10]) >= today + timedelta(weeks=5)
        assert (date.fromisoformat(moved[:10]) - past).days % 7 == 0  # whole weeks
        login = next(iter(_demo_logins(lines)))
        status, body, _ = Client(f"http://127.0.0.1:{port}").get(
            "/groep/groep-3/2026-10-20-hulpouders-gezocht/", login)
        assert status == 200 and b"Aanmelden kan tot" in body
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)


def _demo_logins(lines: list[str]):
    """(login, passphrase) pairs the demo's banner prints, parents of groep 3 first."""
    for line in lines:
        found = re.search(r"ouder met kinderen in groep 3\S*.*?\s(\S+@\S+)\s+/\s+(.+)$", line)
        if found:
            yield found[1], found[2].strip()
