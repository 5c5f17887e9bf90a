"""A parent's own settings through the postvak: how often they get mail, and the calendar address.

Two kinds of submission (postvak.messages): "meldingen" sets how often the sending
parent hears about what is new (postvak.news reads it); "agenda" mails the
family's calendar-feed address (sturen) or replaces it (nieuw). Both follow the
journal's rule (postvak.process): `evaluate` decides everything, the random
token included, into one record; `apply` makes the record true and may run
twice. The files they write are defined in plugins (the build reads them):
plugins.notice_prefs and plugins.calendar_feeds.
"""

from __future__ import annotations

from datetime import UTC, datetime

from plugins.calendar_feeds import FeedAddress, address_file, encode_addresses, new_token, read_addresses
from plugins.notice_prefs import Preference, encode_prefs, prefs_file, read_prefs
from plugins.roster import Family, Parent

from . import notices, store
from .messages import FeedRequest, NoticeChoice

KINDS = ("meldingen", "agenda")


def evaluate(base: dict, state, person: Parent, family: Family,
             submission: NoticeChoice | FeedRequest) -> dict:
    """The journal record for one choice (no side effects)."""
    when = datetime.fromisoformat(base["received_at"])
    if isinstance(submission, NoticeChoice):
        return dict(base, kind="meldingen", mails=[],
                    data={"keuze": submission.choice, "dag": submission.day})
    roster, settings = state.roster, state.settings
    current = read_addresses(state.private).get(family.id)
    valid = current is not None and current.known_to <= set(family.parents)
    if submission.action == "sturen" and valid:
        token, known, told = current.token, current.known_to | {person.id}, [person]
    elif submission.action == "sturen":
        token, known, told = new_token(), frozenset({person.id}), [person]
    else:  # nieuw: every parent of the family gets the new address, the old one stops
        token, known = new_token(), frozenset(family.parents)
        told = [roster.parents[p] for p in family.parents]
    items = notices.feed_address_notices(settings, told, token,
                                         renewed=submission.action == "nieuw")
    return dict(base, kind="agenda", data={"actie": submission.action},
                agenda={"gezin": family.id, "token": token, "bekend_bij": sorted(known)},
                mails=state.mails(base["id"], items, when))


def apply(private, record: dict) -> None:
    """Idempotent: the preference or the address the record decided."""
    if record.get("kind") == "meldingen":
        prefs = read_prefs(private)
        old = prefs.get(record["person"])
        if old is None or old.seq < record["seq"]:
            data = record["data"]
            prefs[record["person"]] = Preference(data["keuze"], data["dag"], record["seq"])
            _write(prefs_file(private), encode_prefs(prefs))
    elif record.get("kind") == "agenda":
        effect = record["agenda"]
        addresses = read_addresses(private)
        new = FeedAddress(effect["token"], frozenset(effect["bekend_bij"]),
                          record.get("processed_at") or datetime.now(UTC).isoformat())
        old = addresses.get(effect["gezin"])
        if old is None or (old.token, old.known_to) != (new.token, new.known_to):
            addresses[effect["gezin"]] = new
            _write(address_file(private), encode_addresses(addresses))


def _write(path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    store.write_file(path, data)


def thread_summary(record: dict) -> tuple[str, str]:
    """(summary, status) for the family page; never the address itself (staff read the page)."""
    data = record["data"]
    if record["kind"] == "meldingen":
        return (f"Mails over nieuwe berichten: {Preference(data['keuze'], data['dag']).text()}",
                "verwerkt")
    if data["actie"] == "nieuw":
        return "Nieuw agenda-adres gevraagd", "verwerkt; het vorige agenda-adres werkt niet meer"
    return "Agenda-adres gevraagd", "verwerkt"
