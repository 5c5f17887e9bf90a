"""Processing: notices to the right people, quarantine with reasons, exactly once, threads."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

from plugins.roster import load_roster
from postvak import Received, family_thread, intake, process, quarantine_list, store
from postvak.store import journal

from .conftest import ADMIN, FAM_A, FAM_B, FAM_K, FAM_S, FAM_V, MORNING, SITE, mailbox, text_of

MIRJAM = "mirjam.visser@school.example.nl"  # groep 3
PIETER, ANNE = "pieter.bos@school.example.nl", "anne.smit@school.example.nl"  # groep 5/6
DIRECTIE = "directie@school.example.nl"


def by_recipient(settings) -> dict[str, list]:
    found: dict[str, list] = {}
    for msg in mailbox(settings):
        found.setdefault(msg["To"], []).append(msg)
    return found


def test_an_absence_reaches_teachers_directie_administration_and_both_households(school, inbox):
    inbox.put(FAM_A, "Marieke.Jansen@example.nl",
              {"soort": "afwezigheid", "kind": "lotte-jansen", "reden": "arts",
               "toelichting": "Orthodontist in Utrecht, komt om 11 uur"})
    summary = process(school)
    assert len(summary.applied) == 1 and not summary.quarantined
    assert summary.mail.sent == 6 and summary.mail.queued == 0
    mails = by_recipient(school)
    assert set(mails) == {PIETER, ANNE, DIRECTIE, ADMIN, "marieke.jansen@example.nl",
                          "peter.jansen@example.nl"}
    assert all(len(m) == 1 for m in mails.values())  # one each, also for a double role
    assert "eva.deboer@example.nl" not in mails  # Peter's partner is not Lotte's parent
    for msg in mailbox(school):
        text = text_of(msg)
        assert "Orthodontist" not in text  # the note stays on the family page
        assert "dinsdag 10 november 2026" in text and "arts/tandarts" in text
    teacher = text_of(mails[PIETER][0])
    assert "Lotte" in teacher and "Jansen" not in teacher and "Groep 5/6" in teacher
    assert f"{SITE}/gezin/{FAM_A}/" in teacher
    assert "Lotte Jansen" in text_of(mails[ADMIN][0])  # the pupil register needs the full name
    assert f"/gezin/{FAM_B}/" in text_of(mails["peter.jansen@example.nl"][0])
    assert "Marieke" not in text_of(mails["peter.jansen@example.nl"][0])  # not who reported it
    assert f"/gezin/{FAM_A}/" not in text_of(mails["peter.jansen@example.nl"][0])


def test_a_late_report_is_accepted_and_flagged(school, inbox):
    inbox.put(FAM_K, "dennis.kok@example.nl", {"soort": "afwezigheid", "kind": "sem-kok",
                                               "reden": "ziek"},
              at=MORNING.replace(hour=9, minute=12))
    assert len(process(school).applied) == 1
    mirjam = by_recipient(school)[MIRJAM][0]
    assert "09.12 uur, na 08.30 uur" in text_of(mirjam)
    assert "Sem K." in text_of(mirjam)  # two Sems in groep 3
    assert journal(school.private)[0]["data"]["te_laat"] is True


def test_a_message_tells_its_recipient_where_never_what(school, inbox):
    text = "<script>alert('x')</script> Mag Zoë vrijdag eerder weg? **dringend**"
    inbox.put(FAM_V, "marieke.devries@example.nl", {"soort": "bericht", "aan": "lk-3",
                                                     "tekst": text})
    inbox.put(FAM_V, "marieke.devries@example.nl", {"soort": "bericht", "aan": "directie",
                                                     "tekst": "Vraag over de ouderbijdrage"})
    process(school)
    mails = by_recipient(school)
    assert set(mails) == {MIRJAM, DIRECTIE}
    for msg in mailbox(school):
        body = text_of(msg)
        assert "eerder weg" not in body and "ouderbijdrage" not in body and "script" not in body
        assert f"{SITE}/gezin/{FAM_V}/" in body and "Marieke de Vries" in body
        assert "Zoë" not in body
    items = family_thread(school.private, load_roster(school.roster), FAM_V)
    assert [i.text for i in items] == [text, "Vraag over de ouderbijdrage"]  # as typed
    assert [i.status for i in items] == ["doorgestuurd aan Juf Mirjam Visser",
                                         "doorgestuurd aan de directie"]
    assert items[0].sender == "Marieke de Vries"


def test_bad_submissions_are_quarantined_with_a_reason_and_the_rest_goes_on(school, inbox):
    good = [
        inbox.put(FAM_S, "anouk.bakker@example.nl", {"soort": "afwezigheid", "kind": "sem-bakker",
                                                     "reden": "ziek"}),
    ]
    bad = {
        "geen geldige JSON": inbox.put(FAM_S, "anouk.bakker@example.nl", "{kapot"),
        "onbekend kind": inbox.put(FAM_S, "anouk.bakker@example.nl", {
            "soort": "afwezigheid", "kind": "pietje-puk", "reden": "ziek"}),
        "hoort niet bij dit gezin": inbox.put(FAM_S, "anouk.bakker@example.nl", {
            "soort": "afwezigheid", "kind": "sem-kok", "reden": "ziek"}),
        "geen leerkracht van de kinderen": inbox.put(FAM_S, "anouk.bakker@example.nl", {
            "soort": "bericht", "aan": "lk-56", "tekst": "Hallo"}),
        "meer dan 7 dagen terug": inbox.put(FAM_S, "anouk.bakker@example.nl", {
            "soort": "afwezigheid", "kind": "sem-bakker", "reden": "ziek", "van": "2026-10-01"}),
        "onbekende soort": inbox.put(FAM_S, "anouk.bakker@example.nl", {"soort": "reservering"}),
        "onbekende afzender": inbox.put(FAM_S, "inbreker@example.nl", {
            "soort": "bericht", "aan": "lk-3", "tekst": "Hallo"}),
        "geen ouder van dit gezin": inbox.put(FAM_S, "dennis.kok@example.nl", {
            "soort": "bericht", "aan": "lk-3", "tekst": "Hallo"}),
        "medewerker": inbox.put(FAM_S, "mirjam.visser@school.example.nl", {
            "soort": "bericht", "aan": "lk-3", "tekst": "Hallo"}),
        "onbekend gezin": inbox.put("zzzz2345zzzz2345zzzz", "anouk.bakker@example.nl", {
            "soort": "bericht", "aan": "lk-3", "tekst": "Hallo"}),
    }
    good.append(inbox.put(FAM_S, "Anouk.bakker@example.nl", {"soort": "bericht", "aan": "lk-3",
                                                            "tekst": "Dank!"}))
    summary = process(school)
    assert summary.applied == tuple(g.id for g in good)
    reasons = {q.id: q.reason for q in summary.quarantined}
    assert len(reasons) == len(bad)
    for expected, received in bad.items():
        assert expected in reasons[received.id], (expected, reasons[received.id])
    listed = {q.id: q for q in quarantine_list(school.private)}
    assert set(listed) == set(reasons)  # the admin sees all of them, with the body
    assert listed[bad["geen geldige JSON"].id].preview == "{kapot"
    assert not store.inbox(school.private)
    assert "1 verwerkt" not in summary.text() and "10 in quarantaine" in summary.text()
    # the family sees its own rejected reports, not those of strangers in its postvak
    items = family_thread(school.private, load_roster(school.roster), FAM_S)
    rejected = [i for i in items if i.status.startswith("niet verwerkt")]
    assert len(rejected) == 6 and all(i.sender == "Anouk Bakker" for i in rejected)


def test_oversized_and_misnamed_bodies_are_kept_in_quarantine(school, inbox):
    big = inbox.put(FAM_S, "anouk.bakker@example.nl", b"{" + b" " * 20000 + b"}")
    odd = inbox.put(FAM_S, "anouk.bakker@example.nl", {"soort": "bericht"}, ident="../../etc/passwd")
    process(school)
    reasons = {q.id: q for q in quarantine_list(school.private)}
    assert "te groot: 20002 bytes" in reasons[big.id].reason
    assert len(reasons[big.id].body) == 16 * 1024
    assert "ongeldige naam" in reasons[odd.id].reason
    assert all("/" not in p.name for p in (school.private / "postvak/quarantaine").iterdir())


def test_each_submission_is_applied_once_and_a_replayed_id_is_quarantined(school, inbox):
    first = inbox.put(FAM_V, "marieke.devries@example.nl", {"soort": "bericht", "aan": "lk-3",
                                                             "tekst": "Hallo"})
    intake(first, school.private)  # the collector retries before deleting its copy: no change
    assert len(process(school).applied) == 1
    again = process(school)
    assert again.applied == () and again.mail.sent == 0
    intake(first, school.private)  # a late retry after processing: still nothing new
    assert process(school).applied == ()
    replay = replace(first, received_at=first.received_at + timedelta(hours=2),
                     body=json.dumps({"v": 1, "soort": "bericht", "aan": "lk-3",
                                      "tekst": "Nog eens"}).encode())
    intake(replay, school.private)
    intake(replay, school.private)
    summary = process(school)
    assert summary.applied == ()
    replays = [q for q in quarantine_list(school.private) if q.id == first.id]
    assert len(replays) == 1 and replays[0].reason.startswith("al ontvangen")
    assert len(mailbox(school)) == 1 and len(journal(school.private)) == 1
    assert [i.text for i in family_thread(school.private, load_roster(school.roster), FAM_V)] == [
        "Hallo"]


def test_threads_never_show_the_other_household(school, inbox):
    inbox.put(FAM_A, "marieke.jansen@example.nl", {"soort": "bericht", "aan": "lk-56",
                                                    "tekst": "Van mama"})
    inbox.put(FAM_B, "peter.jansen@example.nl", {"soort": "bericht", "aan": "lk-56",
                                                  "tekst": "Van papa"})
    inbox.put(FAM_B, "eva.deboer@example.nl", {"soort": "afwezigheid", "kind": "lotte-jansen",
                                                "reden": "ziek", "toelichting": "Koorts"})
    process(school)
    inbox.put(FAM_A, "marieke.jansen@example.nl", {"soort": "bericht", "aan": "directie",
                                                    "tekst": "Nog niet verwerkt"})
    roster = load_roster(school.roster)
    a, b = (family_thread(school.private, roster, f) for f in (FAM_A, FAM_B))
    assert [(i.sender, i.text or i.summary) for i in a] == [
        ("Marieke Jansen", "Van mama"), ("Marieke Jansen", "Bericht")]
    assert a[-1].status == "ontvangen"
    assert [(i.sender, i.text) for i in b] == [("Peter Jansen", "Van papa"),
                                               ("Eva de Boer", "Koorts")]
    assert b[1].status == "doorgestuurd aan Meester Pieter Bos en Juf Anne Smit"
    assert b[1].summary == "Afwezigheid Lotte: dinsdag 10 november 2026, ziek"


def test_accented_logins_in_either_spelling_map_to_the_parent(school, inbox):
    import unicodedata

    nfd = unicodedata.normalize("NFD", "Youssef.nováková@example.nl")
    inbox.put(FAM_V, nfd, {"soort": "bericht", "aan": "lk-3", "tekst": "Hoi"})
    assert len(process(school).applied) == 1
    parents = [m for m in mailbox(school) if "nováková" in m["To"]]
    assert not parents  # a message notifies only the teacher
    inbox.put(FAM_V, "youssef.nováková@example.nl", {"soort": "afwezigheid", "kind": "zoe-devries",
                                                      "reden": "ziek"})
    process(school)
    assert any("nováková" in m["To"] for m in mailbox(school))


def test_received_needs_a_timezone(school):
    import pytest

    with pytest.raises(ValueError):
        intake(Received("0f8fad5b-d9cb-469f-a165-70867728950e", FAM_A, "x", MORNING.replace(
            tzinfo=None), b"{}", "test"), school.private)
