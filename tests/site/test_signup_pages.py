"""What each audience reads of the sign-ups, in the built demo school at fixed moments.

The postvak's state file (private/postvak/inschrijvingen.json) is written here as `invoke
postvak` would; the build's clock is injected (SCHOOLPLEIN_NOW), so nothing depends on today."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from plugins import signups as declared
from plugins.site import build
from tests.helpers import ROOT

TRIP = "groep/groep-3/2026-10-20-hulpouders-gezocht"
TALKS = "groep/groep-3/2026-12-01-oudergesprekken"
MARIEKE_FAMILY = "68amruh9btpfys3dk9wr"  # Marieke and Youssef de Vries: Zoë (3), Ömer (5/6)
BAKKER_FAMILY = "53b6w76x3k6x62bawk82"  # Anouk Bakker: Sem (3)
BEFORE = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)
AFTER = datetime(2027, 3, 2, 9, 0, tzinfo=UTC)  # past the trip's and the talks' deadlines


def state(first_slot: str) -> dict:
    at = "2026-12-08T10:00:00+00:00"
    return {TRIP: {"hulpouders": [{"ouder": "ouder-001", "gezin": MARIEKE_FAMILY, "at": at},
                                  {"ouder": "ouder-003", "gezin": BAKKER_FAMILY, "at": at}],
                   "gesprekken": {}, "gesloten": False},
            TALKS: {"hulpouders": [], "gesprekken": {first_slot: {
                "kind": "sem-bakker", "ouder": "ouder-003", "at": at}}, "gesloten": False}}


@pytest.fixture(scope="module", params=[BEFORE, AFTER], ids=["open", "closed"])
def built(request, tmp_path_factory, roster):
    tmp = tmp_path_factory.mktemp("signups")
    activities, problems = declared.all_declared(ROOT / "content", roster)
    assert not problems
    first_slot = activities[TALKS].slots[0]
    path = declared.state_file(tmp / "private")
    path.parent.mkdir(parents=True)
    path.write_bytes(declared.encode_state(state(first_slot.id)))
    build(output_path=str(tmp / "output"), photo_cache_dir=str(tmp / "cache"),
          photo_audit_dir=str(tmp / "audit"), schoolplein_private=str(tmp / "private"),
          schoolplein_now=request.param)
    return tmp / "output", request.param, activities, first_slot


def read(output, rel: str) -> str:
    return (output / rel).read_text(encoding="utf-8")


def test_the_post_shows_places_left_and_never_who(built):
    output, now, _, _ = built
    post = read(output, f"{TRIP}/index.html")
    assert "Nog 1 van de 3 plaatsen vrij." in post
    assert "Marieke" not in post and "Anouk" not in post and "Bakker" not in post
    talks = read(output, f"{TALKS}/index.html")
    assert re.search(r"Nog \d+ van de \d+ momenten vrij", talks) and "Sem" not in talks
    if now == BEFORE:
        assert 'href="/mijn/#aanmelden-act-' in post and "Aanmelden kan tot 1 maart 2027" in post
    else:
        assert "De inschrijving is gesloten sinds 1 maart 2027" in post
        assert "/mijn/#aanmelden" not in post


def test_a_family_page_shows_its_own_sign_ups_and_the_free_moments_only(built, roster):
    output, now, activities, first_slot = built
    page = read(output, f"gezin/{MARIEKE_FAMILY}/index.html")
    assert "Marieke de Vries: aangemeld" in page
    assert "Anouk" not in page and "Sem" not in page  # another family's sign-up and booking
    assert "Zoë: nog geen moment gekozen" in page
    assert f'value="{first_slot.id}"' not in page  # taken by another family: not offered
    assert "Hulpouders Groep 5/6" in page  # Ömer's group too; never the posts' titles
    assert "Hulpouders gezocht voor Groep 3" not in page
    bakker = read(output, f"gezin/{BAKKER_FAMILY}/index.html")
    assert re.search(r"Sem: gesprek op \w+ \d+ \w+ 15\.30 uur", bakker), bakker
    assert "Marieke" not in bakker
    if now == BEFORE:
        assert page.count('data-soort="hulpouder"') == 2
        assert f'data-activiteit="{activities[TRIP].ref}"' in page
        assert 'data-kind="zoe-devries"' in page and "Verzetten" in bakker
    else:
        assert 'data-soort="hulpouder"' not in page and 'data-soort="gesprek"' not in page
        assert "De aanmelding is gesloten sinds 1 maart 2027" in page
        assert "Inplannen is gesloten sinds" in bakker
    assert 'data-soort="verlof"' in page  # leave can be asked for at any time


def test_the_staff_page_names_who_and_the_schedule(built):
    output, _, _, _ = built
    staff = read(output, "personeel/groep-3/index.html")
    assert "Marieke de Vries" in staff and "Anouk Bakker" in staff
    assert "Sem Bakker" in staff and "2 van de 3 plaatsen bezet" in staff
    csv_text = read(output, "personeel/groep-3/2026-12-01-oudergesprekken.csv")
    assert "Sem Bakker" in csv_text and "Anouk Bakker" in csv_text
    ics = read(output, "personeel/groep-3/2026-12-01-oudergesprekken.ics")
    assert ics.count("BEGIN:VEVENT") == 1 and "Oudergesprek Sem Bakker" in ics
