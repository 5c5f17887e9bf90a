"""A parent's own settings through the postvak: how often mail comes, and the calendar address."""

from __future__ import annotations

import re

import pytest

from plugins.calendar_feeds import read_addresses
from plugins.notice_prefs import read_prefs
from plugins.roster import load_roster
from plugins.sections import build_section_map
from postvak import export_threads, process
from postvak.messages import Rejected, parse
from tests.postvak.conftest import FAM_B, FAM_V, MORNING, mailbox, text_of

FEED_RE = re.compile(r"webcal://[^/\s]+(/agenda/([a-z0-9]{32})/agenda\.ics)")


def test_a_parent_chooses_a_weekly_digest_for_themselves_only(school, inbox):
    inbox.put(FAM_V, "marieke.devries@example.nl",
              {"soort": "meldingen", "keuze": "wekelijks", "dag": "maandag"})
    summary = process(school, MORNING)
    assert len(summary.applied) == 1 and not summary.quarantined
    prefs = read_prefs(school.private)
    assert prefs["ouder-v1"].choice == "wekelijks" and prefs["ouder-v1"].day == "maandag"
    assert "ouder-v2" not in prefs  # the other parent keeps the school's default
    thread = export_threads(school.private, load_roster(school.roster))
    text = next(p for p in thread if p.stem == FAM_V).read_text()
    assert "één overzicht per week, op maandag" in text


@pytest.mark.parametrize("body, reason", [
    ({"v": 1, "soort": "meldingen", "keuze": "elk uur"}, "onbekende keuze"),
    ({"v": 1, "soort": "meldingen", "keuze": "wekelijks", "dag": "zonnedag"}, "onbekende dag"),
    ({"v": 1, "soort": "meldingen", "keuze": "dagelijks", "dag": "maandag"}, "alleen bij"),
    ({"v": 1, "soort": "agenda", "actie": "wissen"}, "onbekende actie"),
    ({"v": 1, "soort": "agenda", "actie": "sturen", "gezin": "x"}, "onbekend veld"),
])
def test_bad_choices_are_refused_with_a_reason(body, reason):
    import json

    with pytest.raises(Rejected, match=reason):
        parse(json.dumps(body).encode(), MORNING)


def test_the_calendar_address_is_mailed_to_the_asking_parent_and_renewed_for_all(school, inbox):
    inbox.put(FAM_V, "marieke.devries@example.nl", {"soort": "agenda", "actie": "sturen"})
    process(school, MORNING)
    first = mailbox(school)
    assert [m["To"] for m in first] == ["marieke.devries@example.nl"]
    token = FEED_RE.search(text_of(first[0])).group(2)
    address = read_addresses(school.private)[FAM_V]
    assert address.token == token and address.known_to == {"ouder-v1"}
    roster = load_roster(school.roster)
    feed = next(s for s in build_section_map(roster, "School", feeds=read_addresses(school.private)).feeds)
    assert feed.owner == FAM_V and feed.readers == {"ouder-v1"} and feed.key == token
    # the family page never shows the address (the children's teachers read that page)
    threads = export_threads(school.private, roster)
    assert all(token not in p.read_text() for p in threads)

    inbox.put(FAM_V, "marieke.devries@example.nl", {"soort": "agenda", "actie": "nieuw"})
    process(school, MORNING)
    renewed = mailbox(school, skip={m["X-Schoolplein-Mail"] + ".eml" for m in first})
    assert sorted(m["To"] for m in renewed) == ["marieke.devries@example.nl",
                                                "youssef.nováková@example.nl"]
    new = {FEED_RE.search(text_of(m)).group(2) for m in renewed}
    assert len(new) == 1 and token not in new
    assert "werkt niet meer" in text_of(renewed[0])
    assert read_addresses(school.private)[FAM_V].known_to == {"ouder-v1", "ouder-v2"}


def test_a_feed_stops_when_a_parent_who_had_it_leaves_the_family(school, inbox):
    inbox.put(FAM_B, "eva.deboer@example.nl", {"soort": "agenda", "actie": "sturen"})
    process(school, MORNING)
    roster = load_roster(school.roster)
    assert build_section_map(roster, "School", feeds=read_addresses(school.private)).feeds
    csv = school.roster / "ouders.csv"
    csv.write_text("".join(line + "\n" for line in csv.read_text().splitlines()
                           if not line.startswith("ouder-b2,")))
    (school.roster / "leerlingen.csv").write_text("".join(
        line + "\n" for line in (school.roster / "leerlingen.csv").read_text().splitlines()
        if not line.startswith("mees-deboer,")))
    roster = load_roster(school.roster)
    assert not build_section_map(roster, "School", feeds=read_addresses(school.private)).feeds
