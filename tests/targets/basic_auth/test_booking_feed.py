"""A family's own bookings in its own calendar feed, served by real nginx, and nowhere else.

The postvak's state file is written here as `invoke postvak` would; the build's clock is
injected (SCHOOLPLEIN_NOW, SCHOOLPLEIN_TODAY), so nothing depends on today."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from icalendar import Calendar

from plugins import signups as declared
from plugins.calendar_feeds import FeedAddress, address_file, encode_addresses, new_token
from plugins.site import build
from publish import accounts
from publish.targets import basic_auth
from publish.targets.basic_auth import local_server
from tests.helpers import ROOT
from tests.http_client import Client

TRIP = "groep/groep-3/2026-10-20-hulpouders-gezocht"
TALKS = "groep/groep-3/2026-12-01-oudergesprekken"
MARIEKE_FAMILY = "68amruh9btpfys3dk9wr"  # Marieke and Youssef de Vries: Zoë (3), Ömer (5/6)
BAKKER_FAMILY = "53b6w76x3k6x62bawk82"  # Anouk Bakker: Sem (3)
NOW = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)
AT = "2026-12-08T10:00:00+00:00"


def state(zoe: str | None, sem: str | None, marieke: bool) -> dict:
    talks = {}
    if zoe:
        talks[zoe] = {"kind": "zoe-devries", "ouder": "ouder-001", "at": AT}
    if sem:
        talks[sem] = {"kind": "sem-bakker", "ouder": "ouder-003", "at": AT}
    people = [{"ouder": "ouder-003", "gezin": BAKKER_FAMILY, "at": AT}]
    if marieke:
        people.insert(0, {"ouder": "ouder-001", "gezin": MARIEKE_FAMILY, "at": AT})
    return {TRIP: {"hulpouders": people, "gesprekken": {}, "gesloten": False},
            TALKS: {"hulpouders": [], "gesprekken": talks, "gesloten": False}}


class Site:
    def __init__(self, tmp: Path, roster, demo_accounts):
        self.tmp, self.private = tmp, tmp / "private"
        self.content = tmp / "content"
        shutil.copytree(ROOT / "content", self.content)
        post = self.content / (TRIP + ".md")  # the trip's day in the agenda (set here)
        post.write_text(re.sub(r"(?m)^Agenda: .*$", "Agenda: 2027-01-20 09.00-12.00",
                               post.read_text(encoding="utf-8")), encoding="utf-8")
        assert "Agenda: 2027-01-20" in post.read_text(encoding="utf-8")
        self.activities, problems = declared.all_declared(self.content, roster)
        assert not problems
        self.tokens = {f: new_token() for f in (MARIEKE_FAMILY, BAKKER_FAMILY)}
        path = address_file(self.private)
        path.parent.mkdir(parents=True)
        path.write_bytes(encode_addresses({
            f: FeedAddress(t, frozenset(roster.families[f].parents), "")
            for f, t in self.tokens.items()}))
        self.accounts = accounts.load_accounts(demo_accounts[0])
        self.port, self.proc, self.builds = local_server.free_port(), None, 0

    def publish(self, signups: dict) -> None:
        path = declared.state_file(self.private)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(declared.encode_state(signups))
        self.builds += 1
        self.output = self.tmp / f"out-{self.builds}"
        built = build(output_path=str(self.output), path=str(self.content),
                      photo_cache_dir=str(self.tmp / "cache"),
                      photo_audit_dir=str(self.tmp / "audit"),
                      schoolplein_private=str(self.private), schoolplein_today="2026-12-07",
                      schoolplein_now=NOW)
        deploy = basic_auth.publish(self.output, self.tmp / "deploy", built["SCHOOLPLEIN_SECTIONS"],
                                    self.accounts, f"127.0.0.1:{self.port}")
        if self.proc is None:
            self.proc = local_server.start(deploy, self.port)
        else:
            local_server.reload(self.proc)

    def feed(self, family: str) -> dict[str, dict]:
        """The family's feed as a phone fetches it (no login): summary -> event."""
        status, body, _ = self.client.get(f"/agenda/{self.tokens[family]}/agenda.ics")
        assert status == 200
        return {str(e["SUMMARY"]): e for e in Calendar.from_ical(body).walk("VEVENT")}

    def slot(self, n: int):
        return self.activities[TALKS].slots[n]


@pytest.fixture(scope="module")
def site(tmp_path_factory, roster, demo_accounts):
    found = Site(tmp_path_factory.mktemp("bookingfeed"), roster, demo_accounts)
    found.publish(state(found.slot(0).id, found.slot(1).id, marieke=True))
    found.client = Client(f"http://127.0.0.1:{found.port}")
    try:
        yield found
    finally:
        found.client.close()
        local_server.stop(found.proc)


ZOE = "Oudergesprek Zoë met Meester Pieter Bos"
SEM = "Oudergesprek Sem met Meester Pieter Bos"
VOLUNTEER = "Hulpouder: Hulpouders gezocht voor Groep 3 (Marieke de Vries)"


def test_a_booking_and_a_volunteer_place_are_in_the_familys_own_feed_only(site):
    mine = site.feed(MARIEKE_FAMILY)
    assert mine[ZOE]["DTSTART"].dt == site.slot(0).start.astimezone(UTC)
    assert mine[ZOE]["DTEND"].dt == site.slot(0).end.astimezone(UTC)
    assert str(mine[ZOE]["STATUS"]) == "CONFIRMED"
    assert str(mine[VOLUNTEER]["STATUS"]) == "CONFIRMED"
    assert mine[VOLUNTEER]["DTSTART"].dt == datetime(2027, 1, 20, 8, 0, tzinfo=UTC)
    assert SEM not in mine and not [s for s in mine if "Anouk" in s]
    theirs = site.feed(BAKKER_FAMILY)
    assert SEM in theirs and ZOE not in theirs
    assert [s for s in theirs if s.startswith("Hulpouder:")] == [
        "Hulpouder: Hulpouders gezocht voor Groep 3 (Anouk Bakker)"]  # second of three places
    # no section feed (group, school, family pages' agenda.ics/json) carries a booking
    carriers = sorted(p.relative_to(site.output).as_posix() for p in site.output.rglob("agenda.*")
                      if "Oudergesprek" in p.read_text(encoding="utf-8", errors="replace")
                      or "Hulpouder:" in p.read_text(encoding="utf-8", errors="replace"))
    assert carriers == sorted(f"agenda/{site.tokens[f]}/agenda.ics"
                              for f in (MARIEKE_FAMILY, BAKKER_FAMILY))


def test_a_moved_booking_moves_and_a_cancelled_one_is_cancelled_in_the_feed(site):
    before = site.feed(MARIEKE_FAMILY)
    site.publish(state(site.slot(5).id, None, marieke=False))
    mine = site.feed(MARIEKE_FAMILY)
    assert mine[ZOE]["UID"] == before[ZOE]["UID"]  # the same event on the phone ...
    assert mine[ZOE]["DTSTART"].dt == site.slot(5).start.astimezone(UTC)  # ... at its new time
    assert int(mine[ZOE]["SEQUENCE"]) == int(before[ZOE]["SEQUENCE"]) + 1
    assert str(mine[VOLUNTEER]["STATUS"]) == "CANCELLED"  # withdrawn: the phone drops it
    assert int(mine[VOLUNTEER]["SEQUENCE"]) == int(before[VOLUNTEER]["SEQUENCE"]) + 1
    theirs = site.feed(BAKKER_FAMILY)
    assert str(theirs[SEM]["STATUS"]) == "CANCELLED" and ZOE not in theirs
