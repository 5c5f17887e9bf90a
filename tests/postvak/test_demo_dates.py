"""The demo stays open whenever it is started: its sign-up dates move with the (given) day."""

from __future__ import annotations

import shutil
from datetime import date, datetime, time, timedelta

import pytest

import postvak
from plugins.agenda import holiday_in, school_holidays
from plugins.roster import load_roster
from plugins.settings import SCHOOL_TZ, load_settings
from plugins.signups import CONFERENCES, VOLUNTEERS, all_declared
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
