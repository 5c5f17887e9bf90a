"""Sign-ups through the postvak: volunteers (hulpouders) and conference slots (gesprekken).

What a post declares is plugins/signups.py; what parents may send is messages.py
(Volunteer, Booking). Every decision is one journal record, computed against the
state all earlier records left (the `Ledger`, a fold over the journal in the order
the records were written), and records are written in the order the server
received the submissions: so the server's receipt time decides who gets the last
place or a slot, and two families racing for one slot always get the same winner
(the earlier receipt; the same second: the smaller submission id).

Refusals about the parent's own input (the deadline passed, a slot that does not
exist, twice the same) are `Rejected` and quarantined with a reason the family page
shows. A slot someone else was quicker to take is not bad input: it is journaled as
*bezet* with the free moments, and the parent is told by mail and on the page.

At the deadline (plus a little grace for submissions still on their way) a round
writes one closing record per activity: the teachers get the list by mail and the
pages are rebuilt without the form. `export_state` writes what the build shows
(plugins.signups.STATE_FILE).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from plugins import signups as declared
from plugins.roster import Parent, Roster
from plugins.signups import CONFERENCES, VOLUNTEERS, Activity, Slot

from . import signup_notices as notices
from . import store
from .messages import Booking, Rejected, Volunteer

KINDS = ("hulpouder", "gesprek")
CLOSE_KIND = "sluiting"
GRACE = timedelta(minutes=5)  # a submission received before the deadline may still be collected
FREE_SHOWN = 8


@dataclass
class Ledger:
    """What every journal record so far decided about sign-ups and leave."""

    volunteers: dict[str, list[dict]] = field(default_factory=dict)  # key -> in sign-up order
    bookings: dict[str, dict[str, dict]] = field(default_factory=dict)  # key -> slot -> booking
    closed: set[str] = field(default_factory=set)
    leave: dict[str, dict] = field(default_factory=dict)  # request id -> request (+ decision)

    @classmethod
    def from_journal(cls, private: Path) -> Ledger:
        ledger = cls()
        for record in store.journal(private):
            ledger.add(record)
        return ledger

    def add(self, record: dict) -> None:
        kind, data = record.get("kind"), record.get("data") or {}
        if kind == "hulpouder":
            people = self.volunteers.setdefault(data["activiteit"], [])
            people[:] = [p for p in people if p["ouder"] != record["person"]]
            if data["uitkomst"] in ("aangemeld", "wachtlijst"):
                family = record["envelope"]["family"]
                people.append({"ouder": record["person"], "gezin": family,
                               "at": record["received_at"], "id": record["id"]})
        elif kind == "gesprek" and data["uitkomst"] != "bezet":
            slots = self.bookings.setdefault(data["activiteit"], {})
            for slot in [s for s, b in slots.items() if b["kind"] == data["kind"]]:
                del slots[slot]
            if data["uitkomst"] in ("geboekt", "verzet"):
                slots[data["moment"]] = {"kind": data["kind"], "ouder": record["person"],
                                         "gezin": record["envelope"]["family"],
                                         "at": record["received_at"], "id": record["id"]}
        elif kind == CLOSE_KIND:
            self.closed.add(data["activiteit"])
        elif kind == "verlof":
            self.leave[record["id"]] = {**data, "id": record["id"], "ouder": record["person"],
                                        "gezin": record["envelope"]["family"],
                                        "at": record["received_at"], "besluit": ""}
        elif kind == "verlofbesluit" and data["aanvraag"] in self.leave:
            self.leave[data["aanvraag"]].update(besluit=data["besluit"], door=data["door"],
                                                notitie=data["toelichting"],
                                                besloten=record["received_at"])

    def booking_of(self, key: str, child: str) -> str | None:
        return next((s for s, b in self.bookings.get(key, {}).items() if b["kind"] == child), None)

    def free(self, activity: Activity) -> list[Slot]:
        taken = self.bookings.get(activity.key, {})
        return [s for s in activity.slots if s.id not in taken]


def ledger(state) -> Ledger:
    """The round's ledger (built once from the journal, then kept up to date by `noted`)."""
    if getattr(state, "_signup_ledger", None) is None:
        state._signup_ledger = Ledger.from_journal(state.private)
    return state._signup_ledger


def noted(state, record: dict) -> None:
    """Call after every journaled record: the ledger follows without reading the journal again."""
    if getattr(state, "_signup_ledger", None) is not None:
        state._signup_ledger.add(record)


def activities(state) -> dict[str, Activity]:
    """What the posts declare now; a post that declares it wrongly has no sign-up (the build
    names its problem)."""
    if getattr(state, "_signup_activities", None) is None:
        content = state.settings.content
        found = {}
        if content is not None and Path(content).is_dir():
            found, _problems = declared.all_declared(Path(content), state.roster)
        state._signup_activities = found
    return state._signup_activities


def _activity(state, family, ref: str, kind: str, word: str) -> Activity:
    groups = {state.roster.children[c].group for c in family.children}
    found = next((a for a in activities(state).values() if a.ref == ref), None)
    if found is not None and found.group not in groups:
        raise Rejected(f"{word}: dit bericht is niet voor de groep van een van uw kinderen")
    if found is None or found.kind != kind:
        what = "als hulpouder aanmelden" if kind == VOLUNTEERS else "een gesprek inplannen"
        raise Rejected(f"{word}: bij dit bericht kunt u geen {what}")
    return found


def _closed(activity: Activity, when: datetime, word: str) -> None:
    if not activity.open_at(when):
        raise Rejected(f"{word}: de inschrijving is gesloten sinds "
                       f"{notices.moment_text(activity.deadline)} (ontvangen "
                       f"{notices.moment_text(when)})")


def evaluate(envelope, state, person: Parent, family, submission) -> dict:
    """The journal record for a Volunteer or Booking, or Rejected with the parent's reason."""
    base = {"id": envelope.id, "envelope": envelope.to_json(), "person": person.id,
            "received_at": envelope.received_at.isoformat(), "urgent": False, "consent": None}
    if isinstance(submission, Volunteer):
        return _volunteer(envelope, state, person, family, submission, base)
    assert isinstance(submission, Booking)
    return _booking(envelope, state, person, family, submission, base)


def _volunteer(envelope, state, person, family, wish: Volunteer, base: dict) -> dict:
    activity = _activity(state, family, wish.activity, VOLUNTEERS, "aanmelden")
    when = envelope.received_at
    _closed(activity, when, "aanmelden")
    people = ledger(state).volunteers.get(activity.key, [])
    place = next((n for n, p in enumerate(people) if p["ouder"] == person.id), None)
    moved: Parent | None = None
    if wish.join:
        if place is not None:
            where = "aangemeld" if place < activity.places else "op de wachtlijst"
            raise Rejected(f"aanmelden: u staat al op de lijst ({where})")
        place = len(people)
        outcome = "aangemeld" if place < activity.places else "wachtlijst"
    else:
        if place is None:
            raise Rejected("aanmelden: u stond niet op de lijst; er is niets veranderd")
        outcome = "afgemeld"
        if place < activity.places and len(people) > activity.places:
            moved = state.roster.parents.get(people[activity.places]["ouder"])
    data = {"activiteit": activity.key, "titel": activity.title,
            "label": declared.label(activity, state.roster),
            "actie": "aanmelden" if wish.join else "afmelden", "uitkomst": outcome,
            "plek": place + 1 - activity.places if outcome == "wachtlijst" else 0,
            "opgeschoven": moved.id if moved else ""}
    items = notices.volunteer_notices(state.settings, person, activity, data, moved)
    return dict(base, kind="hulpouder", data=data, mails=state.mails(envelope.id, items, when))


def _booking(envelope, state, person, family, wish: Booking, base: dict) -> dict:
    roster, book = state.roster, ledger(state)
    activity = _activity(state, family, wish.activity, CONFERENCES, "gesprek")
    if wish.child not in family.children:
        raise Rejected("gesprek: dit kind hoort niet bij uw gezin")
    child = roster.children[wish.child]
    if child.group != activity.group:
        raise Rejected(f"gesprek: deze gesprekken zijn niet voor de groep van {child.first_name}")
    when = envelope.received_at
    _closed(activity, when, "gesprek")
    mine = book.booking_of(activity.key, child.id)
    data = {"activiteit": activity.key, "titel": activity.title,
            "label": declared.label(activity, roster), "kind": child.id,
            "moment": wish.slot or "", "vorig": mine or "", "vrij": []}
    if wish.slot is None:
        if mine is None:
            raise Rejected(f"gesprek: er stond geen gesprek voor {child.first_name}; er is niets "
                           "veranderd")
        data["uitkomst"] = "afgezegd"
    else:
        slot = activity.slot(wish.slot)
        if slot is None:
            raise Rejected("gesprek: dit moment bestaat niet (meer); kies een moment uit de "
                           "lijst op Mijn gezin")
        if mine == slot.id:
            raise Rejected(f"gesprek: dit moment staat al voor {child.first_name} geboekt")
        overlap = _overlap(state, family, child.id, slot)
        if overlap:
            raise Rejected(f"gesprek: op dat moment heeft u al een gesprek voor {overlap}; "
                           "kies een ander moment")
        if slot.id in book.bookings.get(activity.key, {}):
            data["uitkomst"] = "bezet"
            data["vrij"] = [notices.slot_text(activity, s)
                            for s in book.free(activity)[:FREE_SHOWN]]
        else:
            data["uitkomst"] = "verzet" if mine else "geboekt"
    items = notices.booking_notices(roster, state.settings, person, child, activity, data)
    return dict(base, kind="gesprek", data=data, mails=state.mails(envelope.id, items, when))


def _overlap(state, family, child: str, slot: Slot) -> str:
    """Another child of this household with a talk at that time: its label, else ''."""
    found = activities(state)
    for key, slots in ledger(state).bookings.items():
        for slot_id, booking in slots.items():
            other = found.get(key).slot(slot_id) if key in found else None
            if (booking["kind"] != child and booking["kind"] in family.children and other
                    and other.overlaps(slot)):
                name = state.roster.children[booking["kind"]].first_name
                return f"{name} ({notices.slot_text(found[key], other)})"
    return ""


def close_due(state, now: datetime | None) -> list[str]:
    """Journal a closing record for every activity whose deadline passed; the ids written."""
    now = now or datetime.now(UTC)
    book, written = ledger(state), []
    for activity in sorted(activities(state).values(), key=lambda a: a.key):
        if activity.key in book.closed or now < activity.deadline + GRACE:
            continue
        ident = f"{CLOSE_KIND}-" + hashlib.sha256(activity.key.encode()).hexdigest()[:24]
        if store.journal_path(state.private, ident).exists():
            continue
        items = notices.close_notices(state.roster, state.settings, activity, book)
        record = {"id": ident, "kind": CLOSE_KIND, "envelope": None, "person": "",
                  "received_at": activity.deadline.isoformat(), "urgent": False, "consent": None,
                  "data": {"activiteit": activity.key, "titel": activity.title},
                  "mails": state.mails(ident, items, now)}
        state.journal(record)
        written.append(ident)
    return written


def state_change(private: Path) -> tuple[Path, bytes] | None:
    """What the pages show (plugins.signups.STATE_FILE) when it differs from the file: the
    caller marks a publish first, then writes it (thread.export_threads, under the lock)."""
    book = Ledger.from_journal(private)
    keys = set(book.volunteers) | set(book.bookings) | book.closed
    data = {key: {"hulpouders": [{k: p[k] for k in ("ouder", "gezin", "at")}
                                 for p in book.volunteers.get(key, [])],
                  "gesprekken": {s: {k: b[k] for k in ("kind", "ouder", "at")}
                                 for s, b in sorted(book.bookings.get(key, {}).items())},
                  "gesloten": key in book.closed}
            for key in sorted(keys)}
    path = declared.state_file(private)
    encoded = declared.encode_state(data)
    if (path.exists() and path.read_bytes() == encoded) or (not data and not path.exists()):
        return None  # unchanged, or nothing to show yet (a missing file means nobody yet)
    return path, encoded


# --- what the family page's thread says ------------------------------------------------------

def thread_text(roster: Roster, record: dict) -> tuple[str, str, str]:
    """(summary, text, status) of a hulpouder or gesprek record in the sender's own thread."""
    data = record["data"]
    if record["kind"] == "hulpouder":
        summary = f"Hulpouder: {data['label']}"  # never the post's title (another section)
        status = {"aangemeld": "aangemeld",
                  "wachtlijst": f"op de wachtlijst (plek {data['plek']})",
                  "afgemeld": "afgemeld"}[data["uitkomst"]]
        return summary, "", status
    child = roster.children.get(data["kind"])
    name = child.first_name if child else "uw kind"
    moment = notices.slot_id_text(data["moment"] or data["vorig"])
    summary = f"Oudergesprek {name}: {moment}"
    status = {"geboekt": "geboekt", "verzet": "verzet naar dit moment",
              "afgezegd": "afgezegd"}.get(data["uitkomst"])
    if status is None:
        free = ", ".join(data["vrij"]) or "geen"
        status = f"niet geboekt: bezet, kies een ander moment (nog vrij: {free})"
    return summary, "", status
