"""Which family's feed gets which booking: both households of a child, accepted places only."""

from __future__ import annotations

from datetime import datetime

from plugins import booking_events
from plugins import signups as declared
from plugins.agenda import Event
from plugins.roster import load_roster
from plugins.settings import SCHOOL_TZ

from .conftest import FAM_A, FAM_B, FAM_K, FAM_S, FAM_V
from .test_signups import TALKS56, TRIP, signups  # noqa: F401  (the fixture)

AT = "2026-11-10T08:00:00+00:00"
DAY = datetime(2026, 11, 20, 9, 0, tzinfo=SCHOOL_TZ)


def by_family(found) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for event in found:
        out.setdefault(booking_events.family_of(event.section), []).append(event.title)
    return out


def test_both_households_get_a_shared_childs_talk_and_only_accepted_volunteers_a_place(
        signups):  # noqa: F811  (the fixture of test_signups)
    roster = load_roster(signups.roster)
    activities = declared.load(signups.content, roster)
    slot = activities[TALKS56].slots[0]
    trip = Event("group-groep-3/uitje", "group-groep-3", "Uitje", DAY, DAY.replace(hour=12),
                 url=f"/{TRIP}/")
    volunteers = [{"ouder": p, "gezin": f, "at": AT} for p, f in (
        ("ouder-k1", FAM_K), ("ouder-v1", FAM_V), ("ouder-s1", FAM_S))]  # two places
    state = {TALKS56: {"gesprekken": {slot.id: {"kind": "lotte-jansen", "ouder": "ouder-b1",
                                                  "at": AT}}},
             TRIP: {"hulpouders": volunteers}}
    found = booking_events.events(roster, activities, state, {TRIP: trip},
                                  lambda f: f"/gezin/{f}/")
    talk = f"Oudergesprek Lotte met {slot.teacher_name}"
    assert by_family(found) == {FAM_A: [talk], FAM_B: [talk],
                                FAM_K: ["Hulpouder: Uitje (Dennis Kok)"],
                                FAM_V: ["Hulpouder: Uitje (Marieke de Vries)"]}  # Anouk waits
    assert len({e.uid for e in found}) == len(found)  # one event per household
    # a post without a date in the agenda, or a cancelled trip: no volunteer event
    assert not [e for e in booking_events.events(roster, activities, state, {},
                                                 lambda f: "/") if "Hulpouder" in e.title]
    cancelled = Event(trip.uid, trip.section, trip.title, trip.start, trip.end, cancelled=True,
                      url=trip.url)
    assert not [e for e in booking_events.events(roster, activities, state, {TRIP: cancelled},
                                                 lambda f: "/") if "Hulpouder" in e.title]
