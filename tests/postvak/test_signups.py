"""Sign-ups through the postvak: volunteers, conference slots, refusals a parent can read."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from plugins import signups as declared
from plugins.errors import SchoolpleinError
from plugins.roster import load_roster
from postvak import export_threads, family_thread, process, quarantine_list
from postvak.notices import period
from postvak.thread import parent_reason

from .conftest import FAM_A, FAM_B, FAM_K, FAM_S, FAM_V, MORNING, mailbox, text_of

MIRJAM = "mirjam.visser@school.example.nl"  # groep 3
TRIP = "groep/groep-3/2026-11-01-uitje"
TALKS3 = "groep/groep-3/2026-11-02-gesprekken"
TALKS56 = "groep/groep-5-6/2026-11-02-gesprekken"
NEWS = "groep/groep-3/2026-11-03-nieuws"
DEADLINE = MORNING + timedelta(days=7)  # Tuesday 17 November, 07:00
NOW = MORNING + timedelta(days=1)  # when the rounds run (before the deadline)


def post(content: Path, key: str, header: str) -> Path:
    path = content / (key + ".md")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"Title: {key.rsplit('/', 1)[-1]}\nDate: 2026-11-01 10:00\n{header}\n\nTekst.\n",
                    encoding="utf-8")
    return path


@pytest.fixture
def signups(school, tmp_path):
    content = tmp_path / "content"
    stop = f"Aanmelden_tot: {DEADLINE:%Y-%m-%d %H:%M}"
    post(content, TRIP, f"Hulpouders: 2\n{stop}")
    post(content, TALKS3, f"Gesprekken: 2026-11-24, 15:30-16:10, 10 min, pauze 15:50-16:00\n{stop}")
    post(content, TALKS56, "Gesprekken: Meester Pieter Bos, 2026-11-24, 15:30-16:00, 15 min\n"
                           f"    Juf Anne Smit, 2026-11-24, 15:30-15:45, 15 min\n{stop}")
    post(content, NEWS, "Author: Juf Mirjam")
    return replace(school, content=content)


def ref(key: str) -> str:
    """What the family page's form sends for the post at `key`."""
    return declared.Activity(key, "", "", "", MORNING).ref


def volunteer(inbox, family, login, action="aanmelden", key=TRIP, **kw):
    return inbox.put(family, login, {"soort": "hulpouder", "activiteit": ref(key),
                                     "actie": action}, **kw)


def book(inbox, family, login, child, slot, key=TALKS3, **kw):
    body = {"soort": "gesprek", "activiteit": ref(key), "kind": child,
            "actie": "boeken" if slot else "afzeggen"}
    if slot:
        body["moment"] = slot
    return inbox.put(family, login, body, **kw)


def other_families_named(roster, mail) -> list[str]:
    """Names of parents or children of other families that a parent's mail mentions."""
    own = next((p.family for p in roster.parents.values() if p.email == mail["To"]), mail["To"])
    text = text_of(mail)
    names = [p.name for p in roster.parents.values() if p.family != own]
    names += [c.full_name for c in roster.children.values()
              if own not in roster.households_of(c.id)]
    return [n for n in names if n in text]


def state(settings) -> dict:
    export_threads(settings.private, load_roster(settings.roster))
    return declared.read_state(settings.private)


def shown_reasons(settings, family) -> list[str]:
    items = family_thread(settings.private, load_roster(settings.roster), family)
    return [i.status for i in items if i.status.startswith("niet verwerkt")]


def test_the_declaration_gives_slots_around_the_break(signups):
    found = declared.load(signups.content, load_roster(signups.roster))
    talks = found[TALKS3]
    assert [s.label for s in talks.slots] == ["di 24 nov 15.30 uur", "di 24 nov 15.40 uur",
                                              "di 24 nov 16.00 uur"]
    assert {s.teacher for s in talks.slots} == {"lk-3"}  # the group's only teacher
    assert found[TRIP].places == 2 and found[TRIP].deadline == DEADLINE
    assert NEWS not in found
    two = found[TALKS56]
    assert [s.id for s in two.slots] == ["lk-56-20261124-1530", "lk-56b-20261124-1530",
                                         "lk-56-20261124-1545"]


@pytest.mark.parametrize("header, message, line", [
    ("Hulpouders: veel\nAanmelden_tot: 2026-12-01 12:00", "geen aantal", 3),
    ("Hulpouders: 3", "'Aanmelden_tot:' ontbreekt", 3),
    ("Hulpouders: 3\nAanmelden_tot: 1 december", "geen datum en tijd", 4),
    ("Aanmelden_tot: 2026-12-01 12:00", "zonder 'Hulpouders:'", 3),
    ("Gesprekken: 2026-11-24, 15:30-17:30\nAanmelden_tot: 2026-11-20 12:00", "onvolledige", 3),
    ("Gesprekken: Juf Onbekend, 2026-11-24, 15:30-17:30, 10 min\nAanmelden_tot: 2026-11-20",
     "geen leerkracht van deze groep", 3),
    ("Gesprekken: 2026-11-24, 15:30-17:30, 10 min\n    2026-11-24, 17:00-18:00, 10 min\n"
     "Aanmelden_tot: 2026-11-20", "overlapt", 4),
    ("Gesprekken: 2026-11-24, 15:30-17:30, 10 min\nAanmelden_tot: 2026-11-25",
     "na het eerste gesprek", 4),
])
def test_a_wrong_declaration_names_file_line_and_fix(signups, header, message, line):
    path = post(signups.content, "groep/groep-3/2026-11-09-fout", header)
    with pytest.raises(SchoolpleinError) as caught:
        declared.load(signups.content, load_roster(signups.roster))
    problem = caught.value.problems[0]
    assert message in problem.message and problem.line == line
    assert problem.file.endswith(str(path.relative_to(path.parents[3]))) and problem.fix


def test_a_sign_up_outside_a_group_stops_the_build(signups):
    post(signups.content, "school/2026-11-09-feest", "Hulpouders: 3\nAanmelden_tot: 2026-12-01")
    with pytest.raises(SchoolpleinError, match="alleen bij een bericht voor een groep"):
        declared.load(signups.content, load_roster(signups.roster))


def test_volunteers_fill_the_places_then_wait_and_move_up_by_mail(signups, inbox):
    volunteer(inbox, FAM_V, "marieke.devries@example.nl")
    volunteer(inbox, FAM_K, "dennis.kok@example.nl")
    volunteer(inbox, FAM_S, "anouk.bakker@example.nl")  # the third: waiting list
    assert len(process(signups, now=NOW).applied) == 3
    lijst = state(signups)[TRIP]["hulpouders"]
    assert [p["ouder"] for p in lijst] == ["ouder-v1", "ouder-k1", "ouder-s1"]
    anouk = [m for m in mailbox(signups) if m["To"] == "anouk.bakker@example.nl"]
    assert "wachtlijst (plek 1)" in text_of(anouk[0])
    seen = {m["Message-ID"] for m in mailbox(signups)}

    volunteer(inbox, FAM_V, "marieke.devries@example.nl", "afmelden")
    assert len(process(signups, now=NOW).applied) == 1
    assert [p["ouder"] for p in state(signups)[TRIP]["hulpouders"]] == ["ouder-k1", "ouder-s1"]
    new = [m for m in mailbox(signups) if m["Message-ID"] not in seen]
    assert {m["To"] for m in new} == {"marieke.devries@example.nl", "anouk.bakker@example.nl"}
    moved = next(m for m in new if m["To"] == "anouk.bakker@example.nl")
    assert "van de wachtlijst af" in text_of(moved)
    roster = load_roster(signups.roster)
    for m in mailbox(signups):  # a parent never reads who else signed up
        assert not other_families_named(roster, m), m["To"]
    assert [i.status for i in family_thread(signups.private, roster, FAM_S)] == [
        "op de wachtlijst (plek 1)"]


def test_bad_sign_ups_are_quarantined_with_a_reason_the_parent_reads(signups, inbox):
    volunteer(inbox, FAM_K, "dennis.kok@example.nl")
    volunteer(inbox, FAM_K, "dennis.kok@example.nl")  # twice
    volunteer(inbox, FAM_K, "dennis.kok@example.nl", key=NEWS)  # a post without sign-up
    volunteer(inbox, FAM_K, "dennis.kok@example.nl", key="groep/groep-5-6/2026-11-02-gesprekken")
    volunteer(inbox, FAM_S, "anouk.bakker@example.nl", "afmelden")  # never signed up
    volunteer(inbox, FAM_S, "anouk.bakker@example.nl", at=DEADLINE + timedelta(seconds=1))
    summary = process(signups, now=NOW)
    assert len(summary.applied) == 1 and len(summary.quarantined) == 5
    export_threads(signups.private, load_roster(signups.roster))
    assert shown_reasons(signups, FAM_K) == [
        "niet verwerkt: aanmelden: u staat al op de lijst (aangemeld)",
        "niet verwerkt: aanmelden: bij dit bericht kunt u geen als hulpouder aanmelden",
        "niet verwerkt: aanmelden: dit bericht is niet voor de groep van een van uw kinderen"]
    assert shown_reasons(signups, FAM_S) == [
        "niet verwerkt: aanmelden: u stond niet op de lijst; er is niets veranderd",
        "niet verwerkt: aanmelden: de inschrijving is gesloten sinds dinsdag 17 november 2026 "
        "om 07.00 uur (ontvangen dinsdag 17 november 2026 om 07.00 uur)"]


def test_two_families_racing_for_one_slot_the_earlier_receipt_wins(signups, inbox):
    slot = "lk-3-20261124-1530"
    at = MORNING + timedelta(hours=1)
    # stored in the other order: the server's receipt time decides, never the order of intake
    book(inbox, FAM_S, "anouk.bakker@example.nl", "sem-bakker", slot, at=at + timedelta(seconds=1))
    book(inbox, FAM_K, "dennis.kok@example.nl", "sem-kok", slot, at=at)
    assert len(process(signups, now=NOW).applied) == 2
    assert state(signups)[TALKS3]["gesprekken"] == {
        slot: {"kind": "sem-kok", "ouder": "ouder-k1", "at": at.isoformat()}}
    roster = load_roster(signups.roster)
    [lost] = family_thread(signups.private, roster, FAM_S)
    assert lost.status == ("niet geboekt: bezet, kies een ander moment (nog vrij: di 24 nov "
                           "15.40 uur, di 24 nov 16.00 uur)")
    anouk = next(m for m in mailbox(signups) if m["To"] == "anouk.bakker@example.nl")
    assert "bezet, kies een ander moment" in text_of(anouk) and "16.00 uur" in text_of(anouk)
    assert "Kok" not in text_of(anouk) and "Dennis" not in text_of(anouk)


def test_move_cancel_and_one_booking_per_child_across_households(signups, inbox):
    first, second = "lk-56-20261124-1530", "lk-56b-20261124-1530"
    book(inbox, FAM_A, "marieke.jansen@example.nl", "lotte-jansen", first, key=TALKS56)
    book(inbox, FAM_B, "peter.jansen@example.nl", "lotte-jansen", second, key=TALKS56)  # moves it
    assert len(process(signups, now=NOW).applied) == 2
    assert list(state(signups)[TALKS56]["gesprekken"]) == [second]
    to = [m["To"] for m in mailbox(signups)]
    assert to.count("marieke.jansen@example.nl") == 2 and to.count("peter.jansen@example.nl") == 2
    assert "eva.deboer@example.nl" not in to  # not Lotte's parent
    moved = [m for m in mailbox(signups) if "verzet naar" in m.get_content()]
    assert {m["To"] for m in moved} == {"marieke.jansen@example.nl", "peter.jansen@example.nl"}
    assert all("Peter" not in m.get_content() for m in moved
               if m["To"] == "marieke.jansen@example.nl")  # not who in the other household
    book(inbox, FAM_A, "marieke.jansen@example.nl", "lotte-jansen", None, key=TALKS56)
    assert len(process(signups, now=NOW).applied) == 1
    assert state(signups)[TALKS56]["gesprekken"] == {}


def test_bad_bookings_are_quarantined_with_a_reason(signups, inbox):
    slot3, slot56 = "lk-3-20261124-1530", "lk-56-20261124-1530"
    book(inbox, FAM_V, "marieke.devries@example.nl", "zoe-devries", slot3)
    book(inbox, FAM_V, "marieke.devries@example.nl", "zoe-devries", slot3)  # twice
    book(inbox, FAM_V, "marieke.devries@example.nl", "omer-devries", slot56, key=TALKS56)  # overlap
    book(inbox, FAM_V, "marieke.devries@example.nl", "zoe-devries", "lk-3-20261124-1550")  # break
    book(inbox, FAM_V, "marieke.devries@example.nl", "sem-kok", "lk-3-20261124-1540")  # not theirs
    book(inbox, FAM_V, "marieke.devries@example.nl", "omer-devries", "lk-3-20261124-1540")  # group
    book(inbox, FAM_V, "marieke.devries@example.nl", "zoe-devries", None, key=TRIP)  # no slots
    book(inbox, FAM_V, "marieke.devries@example.nl", "zoe-devries", slot3,
         at=DEADLINE + timedelta(minutes=1))
    summary = process(signups, now=NOW)
    assert len(summary.applied) == 1 and len(summary.quarantined) == 7
    export_threads(signups.private, load_roster(signups.roster))
    assert shown_reasons(signups, FAM_V) == [
        "niet verwerkt: gesprek: dit moment staat al voor Zoë geboekt",
        "niet verwerkt: gesprek: op dat moment heeft u al een gesprek voor Zoë (di 24 nov "
        "15.30 uur); kies een ander moment",
        "niet verwerkt: gesprek: dit moment bestaat niet (meer); kies een moment uit de lijst "
        "op Mijn gezin",
        "niet verwerkt: gesprek: dit kind hoort niet bij uw gezin",
        "niet verwerkt: gesprek: deze gesprekken zijn niet voor de groep van Ömer",
        "niet verwerkt: gesprek: bij dit bericht kunt u geen een gesprek inplannen",
        "niet verwerkt: gesprek: de inschrijving is gesloten sinds dinsdag 17 november 2026 om "
        "07.00 uur (ontvangen dinsdag 17 november 2026 om 07.01 uur)"]
    assert all(parent_reason(q.reason) == q.reason for q in quarantine_list(signups.private))


def test_at_the_deadline_the_teacher_gets_the_list_once(signups, inbox):
    volunteer(inbox, FAM_K, "dennis.kok@example.nl")
    volunteer(inbox, FAM_S, "anouk.bakker@example.nl")
    volunteer(inbox, FAM_V, "youssef.nováková@example.nl")
    book(inbox, FAM_V, "marieke.devries@example.nl", "zoe-devries", "lk-3-20261124-1540")
    process(signups, now=NOW)
    assert not [m for m in mailbox(signups) if m["To"] == MIRJAM]
    process(signups, now=DEADLINE + timedelta(minutes=10))
    process(signups, now=DEADLINE + timedelta(minutes=20))  # once
    mirjam = [m for m in mailbox(signups) if m["To"] == MIRJAM]
    assert len(mirjam) == 2
    trip = next(text_of(m) for m in mirjam if "uitje" in m["Subject"])
    assert "- Dennis Kok, ouder van Sem K." in trip and "- Anouk Bakker, ouder van Sem B." in trip
    assert "- Youssef de Vries, ouder van Zoë (wachtlijst)" in trip
    talks = next(text_of(m) for m in mirjam if "gesprekken" in m["Subject"])
    assert "1 van de 3 gesprekken" in talks and "/personeel/groep-3/" in talks
    assert "Zoë" not in talks  # the schedule itself is behind the login
    assert state(signups)[TRIP]["gesloten"] is True


# --- leave requests -----------------------------------------------------------------------

def leave_request(inbox, family, login, child, start, end, reason, **extra):
    body = {"soort": "verlof", "kind": child, "van": f"{start}", "tot": f"{end}",
            "reden": reason, **extra}
    return inbox.put(family, login, body)


def test_a_leave_request_is_decided_by_the_directie_and_every_parent_is_told(signups, inbox):
    from postvak import leave

    soon = MORNING.date() + timedelta(days=20)
    # too late for a holiday (8 weeks), no employer's statement, too long, on a weekend
    leave_request(inbox, FAM_A, "marieke.jansen@example.nl", "lotte-jansen", soon,
                  soon + timedelta(days=2), "vakantie", werkgeversverklaring=True)
    far = MORNING.date() + timedelta(weeks=10)  # a Tuesday
    leave_request(inbox, FAM_A, "marieke.jansen@example.nl", "lotte-jansen", far,
                  far + timedelta(days=3), "vakantie")
    leave_request(inbox, FAM_A, "marieke.jansen@example.nl", "lotte-jansen", far,
                  far + timedelta(days=20), "gewichtig", toelichting="Bruiloft in Marokko")
    leave_request(inbox, FAM_A, "marieke.jansen@example.nl", "sem-kok", far, far, "gewichtig",
                  toelichting="x")
    good = leave_request(inbox, FAM_A, "marieke.jansen@example.nl", "lotte-jansen", far,
                         far + timedelta(days=3), "vakantie", werkgeversverklaring=True,
                         toelichting="Seizoenswerk in de bollenteelt")
    leave_request(inbox, FAM_B, "peter.jansen@example.nl", "lotte-jansen",
                  far + timedelta(days=14), far + timedelta(days=15), "vakantie",
                  werkgeversverklaring=True)  # the second holiday this school year
    summary = process(signups, now=NOW)
    assert summary.applied == (good.id,) and len(summary.quarantined) == 5
    export_threads(signups.private, load_roster(signups.roster))
    reasons = shown_reasons(signups, FAM_A)
    assert reasons[0].startswith("niet verwerkt: verlof: vakantieverlof vraagt u minstens 8 "
                                 "weken van tevoren aan")
    assert "werkgeversverklaring" in reasons[1] and "leerplichtambtenaar" in reasons[2]
    assert reasons[3] == "niet verwerkt: verlof: dit kind hoort niet bij uw gezin"
    assert shown_reasons(signups, FAM_B) == [
        "niet verwerkt: verlof: vakantieverlof kan één keer per schooljaar; voor dit kind is het "
        f"dit schooljaar al aangevraagd ({period(far, far + timedelta(days=3))})"]
    directie = [m for m in mailbox(signups) if m["To"] == "directie@school.example.nl"]
    assert len(directie) == 1 and "bollenteelt" not in text_of(directie[0])
    assert "Lotte" in text_of(directie[0]) and "Werkgeversverklaring" in text_of(directie[0])
    seen = {m["Message-ID"] for m in mailbox(signups)}

    with pytest.raises(SchoolpleinError, match="wie besluit ontbreekt"):
        leave.decide(signups, good.id, "toegekend", " ")
    [open_] = leave.requests(signups)
    assert open_.decision == "" and open_.employer
    decided = leave.decide(signups, good.id[:8], "toegekend", "Ingrid Hoekstra",
                           "Verklaring ontvangen op 12 november.", now=NOW + timedelta(hours=2))
    assert decided.decision == "toegekend"
    with pytest.raises(SchoolpleinError, match="al besloten"):
        leave.decide(signups, good.id, "afgewezen", "Ingrid Hoekstra")
    told = [m for m in mailbox(signups) if m["Message-ID"] not in seen]
    assert {m["To"] for m in told} == {"marieke.jansen@example.nl", "peter.jansen@example.nl"}
    assert all("toegekend" in m["Subject"] and "Verklaring ontvangen" not in text_of(m)
               and "Marieke" not in text_of(m).replace("Beste Marieke", "") for m in told)
    export_threads(signups.private, load_roster(signups.roster))
    roster = load_roster(signups.roster)
    for family in (FAM_A, FAM_B):  # both households see the decision, with the note
        item = family_thread(signups.private, roster, family)[-1]
        assert item.kind == "verlofbesluit" and item.status == "toegekend door Ingrid Hoekstra"
        assert item.text == "Verklaring ontvangen op 12 november."
    request = next(i for i in family_thread(signups.private, roster, FAM_A) if i.id == good.id)
    assert request.status == "toegekend door de directie"
    assert not any("bollenteelt" in i.text for i in family_thread(signups.private, roster, FAM_B))
    audit = (signups.private / "postvak" / "verlof-audit.csv").read_text().splitlines()
    assert len(audit) == 2 and "Ingrid Hoekstra" in audit[1] and good.id in audit[1]
    assert (NOW + timedelta(hours=2)).isoformat() in audit[1]


# --- first come, first served: a model ----------------------------------------------------

SLOTS = ["lk-3-20261124-1530", "lk-3-20261124-1540", "lk-3-20261124-1600"]
BOOKERS = [(FAM_V, "marieke.devries@example.nl", "zoe-devries"),
           (FAM_K, "dennis.kok@example.nl", "sem-kok"),
           (FAM_S, "anouk.bakker@example.nl", "sem-bakker"),
           (FAM_B, "eva.deboer@example.nl", "mees-deboer"),
           (FAM_A, "marieke.jansen@example.nl", "daan-jansen")]


def model(actions):
    """The rule in a few lines: in receipt order (ties: the smaller id), a free slot is
    taken, a taken one refused, a cancel frees the child's slot."""
    booked: dict[str, str] = {}  # child -> slot
    for _at, _ident, child, slot in sorted(actions, key=lambda a: (a[0], a[1])):
        if slot is None:
            booked.pop(child, None)
        elif slot not in booked.values():
            booked[child] = slot
    return booked


def test_bookings_in_any_order_equal_the_first_come_first_served_model(tmp_path_factory):
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from .conftest import Inbox

    action = st.tuples(st.integers(0, 40), st.integers(0, len(BOOKERS) - 1),
                       st.sampled_from([*SLOTS, None]))

    @settings(max_examples=40, deadline=None)
    @given(st.lists(action, min_size=1, max_size=14), st.randoms(), st.booleans())
    def check(actions, rnd, one_round):
        base = tmp_path_factory.mktemp("fcfs")
        content = base / "content"
        post(content, TALKS3, "Gesprekken: 2026-11-24, 15:30-16:10, 10 min, pauze 15:50-16:00\n"
                              f"Aanmelden_tot: {DEADLINE:%Y-%m-%d %H:%M}")
        settings_ = replace(signups_settings(base), content=content)
        inbox = Inbox(settings_)
        sent = []
        order = list(range(len(actions)))
        rnd.shuffle(order)  # the collector hands them over in any order; rounds in between
        for n, i in enumerate(order):
            second, who, slot = actions[i]
            family, login, child = BOOKERS[who]
            at = MORNING + timedelta(seconds=second)
            received = book(inbox, family, login, child, slot, at=at)
            sent.append((at, received.id, child, slot))
            if n % 4 == 3 and not one_round:
                process(settings_, now=NOW)
        process(settings_, now=NOW)
        got = {b["kind"]: s for s, b in state(settings_).get(TALKS3, {"gesprekken": {}})[
            "gesprekken"].items()}
        # submissions processed in an earlier round than one received before them: the rule
        # is receipt order within what the server had; replay exactly that
        assert got == model(processed_order(settings_, sent))
        if one_round:  # everything was there: the server's receipt time alone decides
            assert got == model(sent)
        assert len(set(got.values())) == len(got)  # no slot booked twice

    check()


def signups_settings(base):
    from plugins.roster import Consent
    from postvak import PostvakSettings

    from .conftest import SITE, write_school

    return PostvakSettings(private=base / "private", roster=write_school(base / "roster"),
                           site_url=SITE, sender="Schoolplein <noreply@ouders.example.nl>",
                           consent_default=Consent.SCHOOL)


def processed_order(settings, sent):
    """The actions in the order the journal decided them (by seq), each with its receipt."""
    from postvak.store import journal, quarantine_list

    by_id = {ident: (at, ident, child, slot) for at, ident, child, slot in sent}
    decided = [by_id[r["id"]] for r in journal(settings.private) if r["id"] in by_id]
    # refused as bad input (e.g. cancelling nothing, the same slot twice) changes nothing
    assert len(decided) + len(quarantine_list(settings.private)) == len(sent)
    return [(n, ident, child, slot) for n, (_at, ident, child, slot) in enumerate(decided)]
