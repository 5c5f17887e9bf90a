"""The agenda: what teachers write, what pages show, what calendar apps receive (icalendar)."""

from __future__ import annotations

import re
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from plugins.agenda import Event, parse_when, version
from plugins.agenda_output import Agenda, write
from plugins.calendar_feeds import FeedAddress, address_file, encode_addresses, new_token, to_ics
from plugins.errors import SchoolpleinError
from plugins.roster import load_roster, write_roster
from plugins.sections import build_section_map
from plugins.settings import SCHOOL_TZ
from plugins.site import build
from tests.helpers import ROOT
from tests.helpers import family_id as make_family_id

SITE = "https://ouders.example.nl"


def build_demo(tmp: Path, today: str = "2026-12-07", private: Path | None = None) -> tuple[Path, dict]:
    out = tmp / "out"
    shutil.rmtree(out, ignore_errors=True)
    built = build(output_path=str(out), path=str(tmp / "content"),
                  photo_cache_dir=str(tmp / "cache"), photo_audit_dir=str(tmp / "audit"),
                  schoolplein_private=str(private or tmp / "private"), schoolplein_today=today,
                  schoolplein_siteurl=SITE)
    return out, built


@pytest.fixture
def school(tmp_path):
    shutil.copytree(ROOT / "content", tmp_path / "content",
                    ignore=shutil.ignore_patterns("*.jpg", "*.heic", "*.png"))
    return tmp_path


def events_of(data: bytes) -> dict[str, object]:
    return {str(e["UID"]): e for e in Calendar.from_ical(data).walk("VEVENT")}


@pytest.mark.parametrize("text, fault, line", [
    ("Wat: Studiedag\nWanneer: 2027-02-30\n", "de datum 2027-02-30 bestaat niet", 2),
    ("Wat: Kamp\nWanneer: 2027-06-12 09.00 t/m 2027-06-10 14.00\n", "ligt vóór het begin", 2),
    ("Wat: Ouderavond\nWanneer: 2027-01-19 21.00-19.30\n", "ligt vóór het begin", 2),
    ("Wat: Ouderavond\nWanneer: 2027-01-19 25.00\n", "de tijd 25.00 bestaat niet", 2),
    ("Wat: Kerst\nWanneer: 17 december\n", "geen datum of tijd", 2),
    ("Wat: Kerst\nWanneer: 2026-12-17\nPlaats: aula\n", "onbekend veld 'Plaats'", 3),
    ("Wanneer: 2026-12-17\n", "afspraak zonder Wat", 1),
    ("Wat: Studiedag\nWanneer: 2027-02-08\n\nWat: Studiedag\nWanneer: 2027-06-14\n",
     "twee afspraken met hetzelfde id 'studiedag'", 4),
    ("Wat: Kerst\nWanneer: 2026-12-17\nAfgelast: misschien\n", "Afgelast: schrijf 'ja' of 'nee'", 3),
])
def test_a_bad_agenda_file_stops_the_build_with_file_line_and_fix(school, text, fault, line):
    (school / "content" / "groep" / "groep-3" / "agenda.txt").write_text(text)
    with pytest.raises(SchoolpleinError) as caught:
        build_demo(school)
    problem = next(p for p in caught.value.problems if fault in p.message)
    assert problem.file.endswith("content/groep/groep-3/agenda.txt") and problem.line == line
    assert problem.fix
    assert not (school / "out").exists()  # nothing half written


def test_a_bad_agenda_line_in_a_post_names_the_post_and_its_line(school):
    post = school / "content" / "school" / "2026-11-02-sinterklaas.md"
    post.write_text(post.read_text().replace("Author:", "Agenda: 2026-12-04 12.00-09.00\nAuthor:"))
    with pytest.raises(SchoolpleinError) as caught:
        build_demo(school)
    (problem,) = [p for p in caught.value.problems if "Agenda:" in p.message]
    assert problem.file.endswith("2026-11-02-sinterklaas.md") and problem.line == 3
    post.write_text(post.read_text().replace("Agenda: 2026-12-04 12.00-09.00", "Agenda: 2026-12-04\n"
                                             "Plaats: aula"))
    with pytest.raises(SchoolpleinError, match="gebruik 'Waar:'"):
        build_demo(school)


def test_an_agenda_file_outside_a_section_folder_stops_the_build(school):
    (school / "content" / "groep" / "groep-3" / "2026-10-02-kinderboerderij" / "agenda.txt"
     ).write_text("Wat: x\nWanneer: 2027-01-01\n")
    with pytest.raises(SchoolpleinError, match="agendabestand buiten een sectiemap"):
        build_demo(school)


def test_pages_show_what_is_coming_next_first_and_past_events_fall_off(school):
    out, _ = build_demo(school, today="2026-12-18")
    page = (out / "school" / "index.html").read_text()
    agenda = page[page.index('id="agenda"'):page.index("</section>", page.index('id="agenda"'))]
    titles = re.findall(r"<strong>([^<]+)</strong>", agenda)
    assert titles[0] == "Kerstvakantie" and "Kerstviering op school" not in titles  # the 17th
    assert titles.index("Voorjaarsvakantie") < titles.index("Meivakantie")
    assert "zaterdag 19 december 2026 t/m zondag 3 januari 2027" in agenda
    group = (out / "groep" / "groep-3" / "index.html").read_text()
    assert "Ouderavond groep 3" in group and "dinsdag 19 januari 2027, 19.30–21.00 uur" in group
    assert "lokaal 3" in group and "Schoolreis groep 5/6" not in group
    later, _ = build_demo(school, today="2027-09-01")
    assert 'id="agenda"' not in (later / "school" / "index.html").read_text()


def test_the_family_page_carries_only_its_own_events_and_names_its_sections_agendas(school):
    roster = load_roster(ROOT / "roster")
    family = roster.parents["ouder-001"].family
    (school / "content" / "gezin" / family / "agenda.txt").write_text(
        "Wat: Tienminutengesprek\nWanneer: 2027-02-02 15.30-15.40\nWaar: lokaal 3\n")
    out, _ = build_demo(school)
    page = (out / "gezin" / family / "index.html").read_text()
    assert "Tienminutengesprek" in page
    assert "Ouderavond groep 3" not in page and "Kerstvakantie" not in page  # merged by the browser
    sources = re.search(r'data-agenda-sources="([^"]+)"', page).group(1).split()
    assert sources == ["/school/agenda.json", "/groep/groep-3/agenda.json",
                       "/groep/groep-5-6/agenda.json", f"/gezin/{family}/agenda.json"]
    for source in sources:
        assert (out / source.lstrip("/")).is_file()


def test_the_demos_feed_round_trips_through_icalendar(school):
    out, _ = build_demo(school)
    data = (out / "school" / "agenda.ics").read_bytes()
    cal = Calendar.from_ical(data)
    assert cal.to_ical() == data  # a round trip gives back the same calendar
    events = events_of(data)
    kerst = events["school.kerstviering-op-school@ouders.example.nl"]
    assert kerst.decoded("DTSTART") == datetime(2026, 12, 17, 17, 30, tzinfo=SCHOOL_TZ)
    assert kerst.decoded("DTEND") == datetime(2026, 12, 17, 19, 0, tzinfo=SCHOOL_TZ)
    assert str(kerst["LOCATION"]) == "aula en lokalen" and str(kerst["STATUS"]) == "CONFIRMED"
    vakantie = events["school.kerstvakantie@ouders.example.nl"]
    assert vakantie.decoded("DTSTART") == date(2026, 12, 19)
    assert vakantie.decoded("DTEND") == date(2027, 1, 4)  # exclusive: the 3rd is the last day
    assert str(vakantie["URL"]) == f"{SITE}/school/#agenda"


def test_a_moved_and_a_cancelled_event_keep_their_uid_with_a_rising_sequence(school):
    out, _ = build_demo(school)
    before = events_of((out / "groep" / "groep-3" / "agenda.ics").read_bytes())
    agenda = school / "content" / "groep" / "groep-3" / "agenda.txt"
    agenda.write_text(agenda.read_text().replace("2027-01-19 19.30-21.00", "2027-01-26 19.30-21.00")
                      .replace("Waar: vertrek vanaf het schoolplein",
                               "Waar: vertrek vanaf het schoolplein\nAfgelast: ja"))
    post = school / "content" / "groep" / "groep-3" / "2026-11-13-project-ruimte.md"
    post.write_text(post.read_text().replace("Agenda: 2027-01-29 14.00-15.00\n", ""))
    out, _ = build_demo(school)
    after = events_of((out / "groep" / "groep-3" / "agenda.ics").read_bytes())
    assert set(after) == set(before)  # nothing new: the same events, updated
    ouderavond = "group-groep-3.ouderavond-groep-3@ouders.example.nl"
    excursie = "group-groep-3.excursie-naar-het-planetarium@ouders.example.nl"
    project = "group-groep-3.2026-11-13-project-ruimte@ouders.example.nl"
    assert after[ouderavond].decoded("DTSTART").day == 26
    for uid in (ouderavond, excursie, project):
        assert after[uid]["SEQUENCE"] == before[uid]["SEQUENCE"] + 1
    assert str(after[excursie]["STATUS"]) == "CANCELLED"
    assert str(after[project]["STATUS"]) == "CANCELLED"  # removed: sent as cancelled
    assert "Project: de ruimte" not in (out / "groep" / "groep-3" / "index.html").read_text(
    ).split('id="agenda"')[1].split("</section>")[0]
    again, _ = build_demo(school)  # nothing changed: the same bytes
    assert (again / "groep" / "groep-3" / "agenda.ics").read_bytes() == (
        out / "groep" / "groep-3" / "agenda.ics").read_bytes()


def test_parse_when_accepts_what_teachers_write():
    assert parse_when("2026-10-14") == (date(2026, 10, 14), date(2026, 10, 14))
    start, end = parse_when("2027-06-10  09:00 t/m 2027-06-12 14.00")
    assert (start.day, start.hour, end.day, end.hour) == (10, 9, 12, 14)
    start, end = parse_when("2026-12-08 19.30")
    assert end - start == timedelta(hours=1)


# --- property: a family's feed holds exactly the events of the sections its parents read ----------

GROUPS = ["groep-1", "groep-2", "groep-3"]


@st.composite
def schools(draw):
    n_families = draw(st.integers(1, 5))
    children, parents = [], []
    for f in range(n_families):
        family = make_family_id(f)
        kids = [f"kind-{f}-{k}" for k in range(draw(st.integers(1, 3)))]
        for kid in kids:
            children.append((kid, f"K{f}{kid[-1]}", "Test", draw(st.sampled_from(GROUPS)), "", ""))
        for p in range(draw(st.integers(1, 2))):
            own = draw(st.lists(st.sampled_from(kids), min_size=1, unique=True)) if p else kids
            parents.append((f"ouder-{f}-{p}", f"Ouder {f}{p}", f"o{f}{p}@example.nl", family,
                            ";".join(own)))
    events = draw(st.lists(st.tuples(st.sampled_from(["school", *GROUPS, "family"]),
                                     st.integers(0, n_families - 1), st.integers(0, 200)),
                           max_size=25))
    asked = draw(st.lists(st.integers(0, n_families - 1), min_size=1, unique=True))
    return children, parents, events, asked


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(schools())
def test_a_familys_feed_holds_exactly_the_events_of_its_sections(tmp_path, school_spec):
    children, parents, raw_events, asked = school_spec
    folder = tmp_path / f"r{abs(hash(str(school_spec)))}"
    write_roster(folder, groups=[(g, g.title(), "2026-2027") for g in GROUPS], children=children,
                 parents=parents, staff=[("mt", "Ingrid Hoekstra", "mt@example.nl", "directie", "")])
    roster = load_roster(folder)
    families = sorted(roster.families)
    addresses = {families[i]: FeedAddress(new_token(), frozenset(roster.families[families[i]].parents),
                                          "") for i in asked}
    sections = build_section_map(roster, "School", feeds=addresses)
    events: dict[str, list[Event]] = {}
    for n, (kind, fam, day) in enumerate(raw_events):
        section = (sections.get("school", "school") if kind == "school" else
                   sections.get("family", families[fam]) if kind == "family" else
                   sections.get("group", kind))
        when = date(2027, 1, 1) + timedelta(days=day)
        events.setdefault(section.name, []).append(
            Event(f"{section.name}/e{n}", section.name, f"Afspraak {n}", when, when,
                  url=f"/{section.dir}/#agenda"))
    flat = [e for v in events.values() for e in v]
    versioned, _ = version(flat, {}, datetime(2026, 12, 1, tzinfo=SCHOOL_TZ), date(2026, 12, 1))
    agenda = Agenda(date(2026, 12, 1), SITE, events)
    for item in versioned:
        agenda.versioned.setdefault(item.event.section, []).append(item)
    out = folder / "out"
    write(agenda, out, sections, "School")
    for family_id, address in addresses.items():
        readers = [roster.parents[p] for p in address.known_to]
        # what each of these parents may read, straight from the roster
        readable = {"school", f"family-{family_id}"} | {
            f"group-{g}" for g in GROUPS
            if all(any(roster.children[c].group == g for c in p.children) for p in readers)}
        expected = {f"{e.uid.replace('/', '.')}@ouders.example.nl" for e in flat
                    if e.section in readable}
        data = (out / "agenda" / address.token / "agenda.ics").read_bytes()
        assert set(events_of(data)) == expected
        assert Calendar.from_ical(data).to_ical() == data


def test_to_ics_is_stable_for_the_same_input():
    event = Event("school/x", "school", "Sport", date(2027, 3, 1), date(2027, 3, 1))
    items, _ = version([event], {}, datetime(2026, 12, 1, tzinfo=SCHOOL_TZ), date(2026, 12, 1))
    assert to_ics(items, "S", SITE) == to_ics(items, "S", SITE)


# --- the output check knows the feed sections ------------------------------------------------------

def _feed_build(school):
    roster = load_roster(ROOT / "roster")
    family = roster.parents["ouder-001"].family
    private = school / "private"
    address_file(private).parent.mkdir(parents=True, exist_ok=True)
    token = new_token()
    address_file(private).write_bytes(encode_addresses(
        {family: FeedAddress(token, frozenset(roster.families[family].parents), "")}))
    out, built = build_demo(school, private=private)
    return out, built, token, family


def test_the_output_check_refuses_a_feed_address_anywhere_else(school):
    from plugins.output_check import check_output

    out, built, token, _family = _feed_build(school)
    sections = built["SCHOOLPLEIN_SECTIONS"]
    check_output(out, sections, {"ouders.example.nl"})  # as built: fine
    page = out / "school" / "index.html"
    page.write_text(page.read_text().replace("</main>", f"<p>agenda/{token}/agenda.ics</p></main>"))
    with pytest.raises(SchoolpleinError, match="noemt een agenda-adres"):
        check_output(out, sections, {"ouders.example.nl"})


def test_the_output_check_refuses_a_feed_event_its_readers_may_not_read(school):
    from plugins.output_check import check_output

    out, built, token, _family = _feed_build(school)
    sections = built["SCHOOLPLEIN_SECTIONS"]
    feed = out / "agenda" / token / "agenda.ics"
    other = (out / "groep" / "groep-4" / "agenda.ics")
    other.write_bytes((out / "groep" / "groep-3" / "agenda.ics").read_bytes().replace(
        b"/groep/groep-3/", b"/groep/groep-4/"))
    cal = Calendar.from_ical(feed.read_bytes())
    for event in Calendar.from_ical(other.read_bytes()).walk("VEVENT"):
        event["UID"] = str(event["UID"]).replace("groep-3", "groep-4")
        cal.add_component(event)
    feed.write_bytes(cal.to_ical())
    with pytest.raises(SchoolpleinError) as caught:
        check_output(out, sections, {"ouders.example.nl"})
    assert any(p.file == f"output/agenda/{token}/agenda.ics" and "andere sectie" in p.message
               for p in caught.value.problems)
