"""The thread file the build reads: one per family, written whole, only this household's items."""

from __future__ import annotations

import json
import os
import stat

import pytest

from plugins import family_threads
from plugins.errors import SchoolpleinError
from plugins.roster import load_roster
from postvak import process, threads
from postvak.households import recipients as postvak_recipients
from postvak.messages import DIRECTIE
from postvak.thread import export_threads

from .conftest import FAM_A, FAM_B, FAM_K, FAM_V, MORNING, write_school


def submit_both_households(inbox):
    inbox.put(FAM_A, "marieke.jansen@example.nl",
              {"soort": "bericht", "aan": "lk-56", "tekst": "Van mama <b>vet</b>"})
    inbox.put(FAM_B, "peter.jansen@example.nl",
              {"soort": "afwezigheid", "kind": "lotte-jansen", "reden": "ziek",
               "toelichting": "Koorts"})
    inbox.put(FAM_B, "peter.jansen@example.nl",
              {"soort": "afwezigheid", "kind": "daan-jansen", "reden": "ziek"})  # not B's child


def test_every_family_gets_its_own_file_that_reads_back_as_its_thread(school, inbox):
    submit_both_households(inbox)
    process(school)
    roster = load_roster(school.roster)
    written = export_threads(school.private, roster)
    folder = school.private / family_threads.FOLDER
    assert sorted(written) == sorted(folder / f"{f}.json" for f in roster.families)
    expected = threads(school.private, roster)
    for family_id in roster.families:
        assert family_threads.read_thread(school.private, family_id) == expected[family_id]
    a = family_threads.read_thread(school.private, FAM_A)
    b = family_threads.read_thread(school.private, FAM_B)
    assert [i.text for i in a] == ["Van mama <b>vet</b>"]  # as typed: the page escapes it
    assert [(i.sender, i.text) for i in b] == [("Peter Jansen", "Koorts"), ("Peter Jansen", "")]
    assert b[1].status.startswith("niet verwerkt: ")
    assert not {i.id for i in a} & {i.id for i in b}
    assert family_threads.read_thread(school.private, FAM_V) == ()  # empty, but written
    data = json.loads((folder / f"{FAM_A}.json").read_text(encoding="utf-8"))
    assert data["v"] == 1 and data["family"] == FAM_A and set(data["items"][0]) == set(
        family_threads.ITEM_KEYS)
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    assert not list(folder.glob(".tmp-*"))


def test_a_household_file_never_holds_the_other_households_words(school, inbox):
    """The shared child's other household reports and chooses too: none of it crosses over."""
    inbox.put(FAM_A, "marieke.jansen@example.nl",
              {"soort": "beeldgebruik", "kind": "lotte-jansen", "keuze": "geen"})
    inbox.put(FAM_B, "peter.jansen@example.nl",
              {"soort": "bericht", "aan": "directie", "tekst": "Alleen voor ons huis"})
    inbox.put(FAM_B, "eva.deboer@example.nl",
              {"soort": "afwezigheid", "kind": "lotte-jansen", "reden": "arts",
               "toelichting": "Tandarts"})
    process(school)
    export_threads(school.private, load_roster(school.roster))
    raw_a = family_threads.thread_file(school.private, FAM_A).read_text(encoding="utf-8")
    raw_b = family_threads.thread_file(school.private, FAM_B).read_text(encoding="utf-8")
    for word in ("Alleen voor ons huis", "Tandarts", "Peter", "Eva"):
        assert word not in raw_a
    assert "Marieke" not in raw_b and "geen enkele foto" not in raw_b


def test_export_rewrites_only_what_changed_and_drops_families_that_left(school, inbox, tmp_path):
    roster = load_roster(school.roster)
    assert len(export_threads(school.private, roster)) == len(roster.families)
    assert export_threads(school.private, roster) == []  # nothing changed: nothing written
    inbox.put(FAM_V, "marieke.devries@example.nl",
              {"soort": "bericht", "aan": "lk-3", "tekst": "Hallo"})
    assert export_threads(school.private, roster) == [
        family_threads.thread_file(school.private, FAM_V)]
    assert family_threads.read_thread(school.private, FAM_V)[0].status == "ontvangen"
    process(school, now=MORNING)
    export_threads(school.private, roster)
    assert family_threads.read_thread(school.private, FAM_V)[0].status.startswith("doorgestuurd")
    smaller = write_school(tmp_path / "smaller")
    (smaller / "ouders.csv").write_text("\n".join(
        line for line in (smaller / "ouders.csv").read_text(encoding="utf-8").splitlines()
        if FAM_V not in line) + "\n", encoding="utf-8")
    (smaller / "leerlingen.csv").write_text("\n".join(
        line for line in (smaller / "leerlingen.csv").read_text(encoding="utf-8").splitlines()
        if "devries" not in line) + "\n", encoding="utf-8")
    removed = export_threads(school.private, load_roster(smaller))
    assert removed == [family_threads.thread_file(school.private, FAM_V)]
    assert not removed[0].exists()


@pytest.mark.parametrize("text, message", [
    ("{", "geen geldige JSON"),
    ('{"v": 2, "family": "%s", "items": []}', "onbekende versie 2"),
    ('{"v": true, "family": "%s", "items": []}', "onbekende versie True"),
    ('{"v": 1, "family": "%s"}', "precies de velden v, family en items"),
    ('{"v": 1, "family": "48b33g69cu7p4fq2nvx3", "items": []}', "hoort bij een ander gezin"),
    ('{"v": 1, "family": "%s", "items": [{"id": "x"}]}', "onderdeel 1: verwacht precies"),
    ('{"v": 1, "family": "%s", "items": [{"id": "a", "kind": "bericht", "at": 5, "sender": "",'
     ' "summary": "", "text": "", "status": ""}]}', "onderdeel 1: geen tekst in at"),
    ('{"v": 1, "family": "%s", "items": [{"id": "a", "kind": "bericht",'
     ' "at": "2026-11-10T07:00:00", "sender": "", "summary": "", "text": "", "status": ""}]}',
     "geen tijdstip met tijdzone"),
    ('{"v": 1, "family": "%s", "items": [{"id": "../x", "kind": "bericht",'
     ' "at": "2026-11-10T07:00:00+01:00", "sender": "", "summary": "", "text": "",'
     ' "status": ""}]}', "ongeldig id"),
])
def test_a_file_that_breaks_the_schema_stops_the_build_naming_it(school, text, message):
    path = family_threads.thread_file(school.private, FAM_A)
    path.parent.mkdir(parents=True)
    path.write_text(text.replace("%s", FAM_A), encoding="utf-8")
    with pytest.raises(SchoolpleinError) as caught:
        family_threads.read_thread(school.private, FAM_A)
    problem = caught.value.problems[0]
    assert problem.file.endswith(f"postvak/gezinnen/{FAM_A}.json")
    assert message in problem.message and "invoke postvak" in problem.fix


def test_the_page_offers_exactly_the_recipients_processing_accepts(school, roster):
    """Both sides derive "whom may this household write to" from the roster: they must agree."""
    assert family_threads.DIRECTIE == DIRECTIE
    for current in (load_roster(school.roster), roster):  # the small school and the demo school
        for family_id in current.families:
            page = {r.id: r.name for r in family_threads.recipients(current, family_id)}
            accepted = postvak_recipients(current, family_id)
            assert set(page) == set(accepted)
            assert {k: v for k, v in page.items() if k != DIRECTIE} == {
                k: v for k, v in accepted.items() if k != DIRECTIE}


def test_a_parent_sees_why_for_their_own_input_but_not_what_exists_at_school():
    from postvak.thread import GENERIC, parent_reason

    assert parent_reason("afwezigheid: 2026-10-01 ligt meer dan 7 dagen terug") == (
        "afwezigheid: 2026-10-01 ligt meer dan 7 dagen terug")
    assert parent_reason("'tekst' is te lang: 2100 tekens (hoogstens 2000)").startswith("'tekst'")
    for secret in ("kind 'daan-jansen' hoort niet bij dit gezin", "onbekend kind 'nobody-here'",
                   "bericht: 'lk-09' is geen leerkracht van de kinderen van dit gezin",
                   "interne fout (KeyError: 'x')", "onbekende afzender 'x@y.nl'"):
        assert parent_reason(secret) == GENERIC


def test_submissions_are_handed_over_by_receipt_time_and_a_reused_id_hides_nothing(school,
                                                                                   tmp_path):
    """Across logins the spool is handed over by the server's clock, not by path: Marieke's
    message (received first) is the one applied, and the later one with the same id from
    another family shows as not processed in its own thread, never hiding hers."""
    from postvak import intake
    from publish.targets.basic_auth.inbox import collect_spool

    ident = "1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed"
    spool = tmp_path / "spool"
    # "dennis" sorts before "marieke", but Marieke's PUT came first
    for login, family, msec, text in (("marieke.jansen@example.nl", FAM_A, "1762754400.100", "Eerst"),
                                      ("dennis.kok@example.nl", FAM_K,
                                       "1762754460.200", "Later")):
        folder = spool / login / msec / "gezin" / family / "postvak"
        folder.mkdir(parents=True)
        (folder / f"{ident}.json").write_text(json.dumps(
            {"v": 1, "soort": "bericht", "aan": "directie", "tekst": text}))
    order = []

    def store(received):
        order.append(received.sender)
        intake(received, school.private)

    assert collect_spool(spool, store) == 2
    assert order == ["marieke.jansen@example.nl", "dennis.kok@example.nl"]
    summary = process(school)
    assert summary.applied == (ident,)
    found = threads(school.private, load_roster(school.roster))
    assert [i.text for i in found[FAM_A]] == ["Eerst"]
    [other] = found[FAM_K]
    assert other.status.startswith("niet verwerkt")


def test_a_reused_id_from_another_family_shows_in_its_own_thread_whatever_came_first(school,
                                                                                       inbox):
    first = inbox.put(FAM_K, "dennis.kok@example.nl",
                      {"soort": "bericht", "aan": "directie", "tekst": "Eerst"})
    inbox.put(FAM_A, "marieke.jansen@example.nl",
              {"soort": "bericht", "aan": "directie", "tekst": "Later"}, ident=first.id)
    process(school)
    found = threads(school.private, load_roster(school.roster))
    assert [i.status.startswith("niet verwerkt") for i in found[FAM_A]] == [True]
    assert [i.text for i in found[FAM_K]] == ["Eerst"]
