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

import json
import re
from datetime import date, datetime
from pathlib import Path

from plugins.family_threads import FOLDER, ThreadItem, encode, thread_file
from plugins.roster import Consent, Roster

from . import family_choices, store
from .consent import DESCRIBE
from .households import person_for_login
from .messages import REASONS, SHAPES
from .notices import period
from .process import ADMIN_KIND
from .store import Received

RECEIVED, PROCESSED = "ontvangen", "verwerkt"


def family_thread(private: Path, roster: Roster, family_id: str) -> tuple[ThreadItem, ...]:
    return threads(private, roster).get(family_id, ())


def threads(private: Path, roster: Roster) -> dict[str, tuple[ThreadItem, ...]]:
    """Every family's thread in one pass over the postvak (oldest first)."""
    found: dict[str, list[ThreadItem]] = {fid: [] for fid in roster.families}
    for record in store.journal(private):
        if record["kind"] == ADMIN_KIND:
            item = _decision(roster, record)
            for fid in roster.households_of(record["data"]["kind"]):
                found[fid].append(item)
            continue
        envelope = Received.from_json(record["envelope"])
        if envelope.family in found:
            found[envelope.family].append(_item(private, roster, record, envelope))
    for entry in store.quarantine_list(private):
        if entry.reason.startswith(store.REPLAY):
            continue  # the first one is in the thread already
        name = _own_parent(roster, entry.family, entry.sender)
        if name:
            found[entry.family].append(ThreadItem(
                entry.name, _kind(entry.body), entry.received_at, name,
                "Niet verwerkt", "", f"niet verwerkt: {parent_reason(entry.reason)}"))
    for envelope in store.inbox(private):
        name = _own_parent(roster, envelope.family, envelope.sender)
        if name:
            kind = _kind(envelope.body)
            found[envelope.family].append(ThreadItem(envelope.id, kind, envelope.received_at, name,
                                                     kind.capitalize(), "", RECEIVED))
    return {fid: tuple(sorted(items, key=lambda i: (i.at, i.id))) for fid, items in found.items()}


def export_threads(private: Path, roster: Roster) -> list[Path]:
    """Write every family's thread for the build: `private/postvak/gezinnen/<family-id>.json`.

    One file per family in the roster (an empty thread too, so a missing file
    means "not exported yet"), each written whole (temp file, fsync, rename) and
    only when its content changed; files of families no longer in the roster are
    removed. Holds the postvak lock, so it sees no half-processed submission:
    call it after `process` returned, never inside it. Returns the files written or
    removed.
    """
    with store.locked(private):
        found = threads(private, roster)
        folder = Path(private) / FOLDER
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        written = []
        for family_id, items in found.items():
            path = thread_file(private, family_id)
            data = encode(family_id, items)
            if path.exists() and path.read_bytes() == data:
                continue
            store.write_file(path, data, sync_dir=False)
            written.append(path)
        for stale in folder.glob("*.json"):
            if stale.stem not in found:
                stale.unlink()
                written.append(stale)
        store.fsync_dir(folder)
    return written


# Reasons about the parent's own input (dates, lengths): shown as they are. Anything about
# who or what exists at school (a child id, a recipient, a sender) is not: the page would
# tell a curious parent which pupils or staff ids exist. The admin sees every reason.
OWN_INPUT = re.compile(r"^(afwezigheid: .*(ligt|valt|schooldagen|voor 'van'|geen datum|bestaat "
                       r"niet|onbekende reden)|'[a-z_]+' is (te lang|leeg|geen tekst)|'[a-z_]+' "
                       r"bevat onzichtbare|te groot)")
GENERIC = "de school bekijkt het; is het dringend, bel dan de school"


def parent_reason(reason: str) -> str:
    first = reason.splitlines()[0]
    return first if OWN_INPUT.match(first) else GENERIC


def _own_parent(roster: Roster, family_id: str, login: str) -> str:
    """The sender's name if they are a parent of that family; '' hides the item."""
    family = roster.families.get(family_id)
    person = person_for_login(roster, login)
    if family is None or person is None or person.id not in family.parents:
        return ""
    return person.name


def _kind(body: bytes) -> str:
    try:
        kind = json.loads(body).get("soort")
    except (ValueError, AttributeError):
        return "onbekend"
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
