"""What a family page shows of the postvak: that household's own submissions, in order.

Only items sent to this family's own postvak (the path's family id) by one of
its own parents appear, plus the school's consent decisions about its children.
The other household of a shared child never shows up here, not even its
absence reports or consent choices (those parents are told by mail).
`text` is the parent's own words exactly as typed: the page must escape it.

The build never imports this package: `export_threads` writes each family's
thread to a private file (format: plugins/family_threads.py) that the family
page reads. Call it after every run that can change a status: `process`,
`tick` (mail retries turn "verwerkt" into "doorgestuurd aan ..."), and
`record_admin_decision`.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

from plugins.family_threads import FOLDER, ThreadItem, encode, thread_file
from plugins.roster import Consent, Roster

from . import family_choices, leave, parentjson, signups, store
from .consent import DESCRIBE
from .households import person_for_login
from .messages import REASONS, SHAPES
from .notices import period
from .process import ADMIN_KIND
from .store import Received

RECEIVED, PROCESSED = "ontvangen", "verwerkt"


def family_thread(private: Path, roster: Roster, family_id: str) -> tuple[ThreadItem, ...]:
    return threads(private, roster).get(family_id, ())


def threads(private: Path, roster: Roster,
            problems: list[str] | None = None) -> dict[str, tuple[ThreadItem, ...]]:
    """Every family's thread in one pass over the postvak (oldest first).

    An entry that cannot be shown (a bug, a damaged record) is left out and
    named in `problems`; the other entries and families are exported anyway.
    """
    found: dict[str, list[ThreadItem]] = {fid: [] for fid in roster.families}
    problems = [] if problems is None else problems

    def add(family_id: str, make) -> None:
        try:
            item = make()
        except Exception as exc:  # one entry must never stop every family page
            problems.append(f"gezin {family_id}: onderdeel weggelaten ({type(exc).__name__}: "
                            f"{exc})"[:300])
            return
        if item is not None:
            found[family_id].append(_clean(item))

    book = signups.Ledger.from_journal(private)  # sign-ups and leave (issue 20)
    for record in store.journal(private):
        if record.get("kind") in SIGNUP_THREAD_KINDS:
            for fid in _signup_families(roster, record):
                if fid in found:
                    add(fid, lambda record=record: _signup_item(roster, record, book))
            continue
        if record.get("kind") == ADMIN_KIND:
            for fid in roster.households_of(record["data"]["kind"]):
                if fid in found:
                    add(fid, lambda record=record: _decision(roster, record))
            continue
        envelope = Received.from_json(record["envelope"])
        if envelope.family in found:
            add(envelope.family, lambda r=record, e=envelope: _item(private, roster, r, e))
    for entry in store.quarantine_list(private):
        if entry.family in found:
            add(entry.family, lambda e=entry: _refused(private, roster, e))
    for envelope in store.inbox(private):
        if envelope.family in found:
            add(envelope.family, lambda e=envelope: _waiting(roster, e))
    return {fid: tuple(sorted(items, key=lambda i: (i.at, i.id))) for fid, items in found.items()}


SIGNUP_THREAD_KINDS = (*signups.KINDS, signups.CLOSE_KIND, leave.KIND, leave.DECISION_KIND)


def _signup_families(roster: Roster, record: dict) -> tuple[str, ...]:
    """Whose page shows it: the sender's household; a leave decision every household of the
    child; a sign-up's closing no family page (the teachers get it)."""
    if record["kind"] == leave.DECISION_KIND:
        return roster.households_of(record["data"]["kind"])
    if record["kind"] == signups.CLOSE_KIND or record.get("envelope") is None:
        return ()
    return (Received.from_json(record["envelope"]).family,)


def _signup_item(roster: Roster, record: dict, book) -> ThreadItem:
    kind = record["kind"]
    at = datetime.fromisoformat(record["received_at"])
    if kind == leave.DECISION_KIND:
        summary, text, status = leave.decision_text(roster, record)
        return ThreadItem(record["id"], kind, at, "de directie", summary, text, status)
    if kind == leave.KIND:
        summary, text, status = leave.thread_text(roster, record, book)
    else:
        summary, text, status = signups.thread_text(roster, record)
    parent = roster.parents.get(record["person"])
    return ThreadItem(record["id"], kind, at, parent.name if parent else "", summary, text, status)


def _clean(item: ThreadItem) -> ThreadItem:
    """Every field as valid UTF-8 text, whatever a record holds (the page writes it out)."""
    return replace(item, **{f: parentjson.safe_text(getattr(item, f), 10_000)
                            for f in ("id", "kind", "sender", "summary", "text", "status")})


def _refused(private: Path, roster: Roster, entry) -> ThreadItem | None:
    if entry.reason.startswith(store.REPLAY) and _first_family(private, entry.id) == entry.family:
        return None  # the first one is in this thread already; another family's never hides it
    name = _own_parent(roster, entry.family, entry.sender)
    if not name:
        return None
    return ThreadItem(entry.name, _kind(entry.body), entry.received_at, name, "Niet verwerkt", "",
                      f"niet verwerkt: {parent_reason(entry.reason)}")


def _waiting(roster: Roster, envelope: Received) -> ThreadItem | None:
    name = _own_parent(roster, envelope.family, envelope.sender)
    if not name:
        return None
    kind = _kind(envelope.body)
    return ThreadItem(envelope.id, kind, envelope.received_at, name, kind.capitalize(), "",
                      RECEIVED)


def export_threads(private: Path, roster: Roster, problems: list[str] | None = None) -> list[Path]:
    """Write every family's thread for the build: `private/postvak/gezinnen/<family-id>.json`.

    One file per family in the roster (an empty thread too, so a missing file
    means "not exported yet"), each written whole (temp file, fsync, rename) and
    only when its content changed; files of families no longer in the roster are
    removed. Before the first file changes, a marker in `publiceren/` says the
    site must be published again, so a round killed after the export still
    publishes at the next run. Holds the postvak lock, so it sees no
    half-processed submission: call it after `process` returned, never inside it
    (the publish does, under the site lock). Returns the files written or removed;
    entries it had to leave out are added to `problems`.
    """
    with store.locked(private):
        found = threads(private, roster, problems)
        folder = Path(private) / FOLDER
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        changed = {}
        for family_id, items in found.items():
            path = thread_file(private, family_id)
            data = encode(family_id, items)
            if not (path.exists() and path.read_bytes() == data):
                changed[path] = data
        stale = [p for p in folder.glob("*.json") if p.stem not in found]
        signup_state = signups.state_change(private)  # what the sign-up forms and lists show
        if changed or stale or signup_state:
            store.mark_to_publish(private, f"gezinnen-{uuid.uuid4()}")
        for path, data in changed.items():
            store.write_file(path, data, sync_dir=False)
        if signup_state:
            store.write_file(*signup_state)
        for path in stale:
            path.unlink()
        store.fsync_dir(folder)
    return [*changed, *stale]


# Reasons about the parent's own input (dates, lengths): shown as they are. Anything about
# who or what exists at school (a child id, a recipient, a sender) is not: the page would
# tell a curious parent which pupils or staff ids exist. The admin sees every reason.
OWN_INPUT = re.compile(r"^((aanmelden|gesprek|verlof): "  # sign-ups and leave: about own input only
                       r"|afwezigheid: .*(ligt|valt|schooldagen|voor 'van'|geen datum|bestaat "
                       r"niet|onbekende reden)|'[a-z_]+' is (te lang|leeg|geen tekst)|'[a-z_]+' "
                       r"bevat onzichtbare|te groot)")
GENERIC = "de school bekijkt het; is het dringend, bel dan de school"


def parent_reason(reason: str) -> str:
    first = reason.splitlines()[0]
    return first if OWN_INPUT.match(first) else GENERIC


def _first_family(private: Path, ident: str) -> str:
    """The family of the first submission stored under `ident` ('' when none is left)."""
    known = store.known_envelope(private, ident)
    return known[1].family if known else ""


def _own_parent(roster: Roster, family_id: str, login: str) -> str:
    """The sender's name if they are a parent of that family; '' hides the item."""
    family = roster.families.get(family_id)
    person = person_for_login(roster, login)
    if family is None or person is None or person.id not in family.parents:
        return ""
    return person.name


def _kind(body: bytes) -> str:
    """What kind a stored body claims to be, read again through the one bounded parser."""
    try:
        data = parentjson.load(body)
    except parentjson.Unreadable:
        return "onbekend"
    kind = data.get("soort") if isinstance(data, dict) else None
    return kind if isinstance(kind, str) and kind in SHAPES else "onbekend"


def _first_name(roster: Roster, child: str) -> str:
    found = roster.children.get(child)
    return found.first_name if found else "uw kind"


def _sent_to(private: Path, record: dict, role: str) -> list[str]:
    names = [m["name"] or m["to"] for m in record["mails"] if m["role"] == role]
    if names and all(store.was_sent(private, m["id"]) for m in record["mails"]
                     if m["role"] == role):
        return names
    return []


def _item(private: Path, roster: Roster, record: dict, envelope: Received) -> ThreadItem:
    data, kind = record["data"], record["kind"]
    parent = roster.parents.get(record["person"])
    sender = parent.name if parent else ""
    at = datetime.fromisoformat(record["received_at"])
    status, text = PROCESSED, ""
    if kind == "afwezigheid":
        start, end = date.fromisoformat(data["van"]), date.fromisoformat(data["tot"])
        summary = (f"Afwezigheid {_first_name(roster, data['kind'])}: {period(start, end)}, "
                   f"{REASONS[data['reden']]}" + (" (na 08:30 gemeld)" if data["te_laat"] else ""))
        text = data["toelichting"]
        teachers = _sent_to(private, record, "leerkracht")
        if teachers:
            status = "doorgestuurd aan " + " en ".join(teachers)
    elif kind in family_choices.KINDS:
        summary, status = family_choices.thread_summary(record)
    elif kind == "bericht":
        summary, text = f"Bericht aan {data['aan_naam']}", data["tekst"]
        if _sent_to(private, record, "ontvanger"):
            status = f"doorgestuurd aan {data['aan_naam']}"
    else:
        summary = (f"Beeldgebruik {_first_name(roster, data['kind'])}: "
                   f"{DESCRIBE[Consent(data['keuze'])]}")
        if data["wacht"]:
            status = "verwerkt; gaat in als alle ouders dit kiezen"
        elif data["nieuw"] != data["oud"]:
            status = "verwerkt; geldt direct"
    return ThreadItem(record["id"], kind, at, sender, summary, text, status)


def _decision(roster: Roster, record: dict) -> ThreadItem:
    data = record["data"]
    summary = (f"Besluit van de school over het beeldgebruik van "
               f"{_first_name(roster, data['kind'])}: {DESCRIBE[Consent(data['keuze'])]}")
    return ThreadItem(record["id"], ADMIN_KIND, datetime.fromisoformat(record["received_at"]),
                      "de school", summary, "", PROCESSED)
