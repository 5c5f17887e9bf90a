"""Calendar feeds (RFC 5545): each family's secret, revocable address, and the .ics bytes.

A phone's calendar app cannot log in (no basic-auth prompt, no CloudFront
cookies), so a family's feed is reached by an unguessable address instead:

    /agenda/<token>/agenda.ics      token: 32 random characters a-z0-9 (~165 bits)

The section map knows each address as a section of kind "feed" whose readers
are the parents the address was sent to (plugins.sections); the servers serve
exactly those addresses without a login, nothing else under /agenda/. The
postvak makes and renews addresses on a parent's request and mails them; the
build reads them from one private file whose format is defined here (the
build never imports the postvak):

    private/agenda/adressen.json
    {"v": 1,
     "gezinnen": {"<family-id>": {"token": "<32 chars>",
                                  "bekend_bij": ["<parent id>", ...],   # who got it by mail
                                  "sinds": "2026-12-07T09:00:00+00:00"}}}

An address stops working (no section, so no file: 404) when it is renewed,
or when a parent it was sent to is no longer a parent of that family.
"""

from __future__ import annotations

import json
import re
import secrets
import string
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from .agenda import Versioned, _sort_key
from .errors import Problem, SchoolpleinError, display_path

VERSION = 1
FILE = Path("agenda", "adressen.json")  # under the private folder
STATE_FILE = Path("agenda", "stand.json")  # SEQUENCE per event (plugins.agenda.version)
FEED_NAME = "agenda.ics"
TOKEN_LENGTH = 32
TOKEN_ALPHABET = string.ascii_lowercase + string.digits
TOKEN_RE = re.compile(rf"^[a-z0-9]{{{TOKEN_LENGTH}}}$")
REFRESH = timedelta(hours=2)  # how often a phone should look again
FIX = ("dit bestand schrijft 'invoke postvak' als een ouder een agenda-adres vraagt; verander het "
       "niet met de hand (een gezin vraagt een nieuw adres op Mijn gezin)")


@dataclass(frozen=True)
class FeedAddress:
    token: str
    known_to: frozenset[str]  # parent ids the address was mailed to
    since: str


def new_token() -> str:
    return "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))


def feed_path(token: str) -> str:
    return f"/agenda/{token}/{FEED_NAME}"


def address_file(private: Path | str) -> Path:
    return Path(private) / FILE


def read_addresses(private: Path | str) -> dict[str, FeedAddress]:
    """Every family's feed address; {} when none was asked for yet."""
    path = address_file(private)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (ValueError, UnicodeDecodeError):
        raise SchoolpleinError(Problem(display_path(path), None, "geen geldige JSON", FIX)) from None
    if not isinstance(data, dict) or data.get("v") != VERSION or not isinstance(
            data.get("gezinnen"), dict):
        raise SchoolpleinError(Problem(display_path(path), None, f"onbekende versie (verwacht "
                                       f"\"v\": {VERSION})", FIX))
    found = {}
    for family, entry in data["gezinnen"].items():
        ok = (isinstance(entry, dict) and isinstance(entry.get("token"), str)
              and TOKEN_RE.match(entry["token"]) and isinstance(entry.get("bekend_bij"), list)
              and all(isinstance(p, str) for p in entry["bekend_bij"]))
        if not ok:
            raise SchoolpleinError(Problem(display_path(path), None,
                                           f"gezin {family[:40]}: ongeldig agenda-adres", FIX))
        found[family] = FeedAddress(entry["token"], frozenset(entry["bekend_bij"]),
                                    str(entry.get("sinds", "")))
    return found


def encode_addresses(addresses: dict[str, FeedAddress]) -> bytes:
    data = {"v": VERSION, "gezinnen": {
        family: {"token": a.token, "bekend_bij": sorted(a.known_to), "sinds": a.since}
        for family, a in sorted(addresses.items())}}
    return (json.dumps(data, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def read_state(private: Path | str) -> dict:
    path = Path(private) / STATE_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"v": 1, "events": {}}
    except (ValueError, UnicodeDecodeError):
        raise SchoolpleinError(Problem(
            display_path(path), None, "geen geldige JSON",
            "dit bestand houdt bij hoe vaak een afspraak veranderde; zet het terug uit een "
            "reservekopie (verwijderen mag ook: telefoons zien verschoven afspraken dan pas na "
            "een nieuwe wijziging)")) from None
    return data if isinstance(data, dict) and isinstance(data.get("events"), dict) else {
        "v": 1, "events": {}}


def save_state(private: Path | str, state: dict) -> None:
    path = Path(private) / STATE_FILE
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    data = json.dumps(state, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    if path.exists() and path.read_text(encoding="utf-8") == data:
        return
    tmp = path.with_suffix(".tmp")
    tmp.write_text(data, encoding="utf-8")
    tmp.replace(path)


def to_ics(items: list[Versioned], name: str, site_url: str) -> bytes:
    """One calendar; the same inputs give the same bytes (DTSTAMP is when an event changed)."""
    from icalendar import Calendar
    from icalendar import Event as VEvent

    host = urlsplit(site_url).hostname or "schoolplein.invalid"
    cal = Calendar()
    cal.add("prodid", "-//Schoolplein//Agenda//NL")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", "Europe/Amsterdam")
    cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT2H")
    for item in sorted(items, key=lambda v: (_sort_key(v.event.start), v.event.uid)):
        event = item.event
        ev = VEvent()
        ev.add("uid", f"{event.uid.replace('/', '.')}@{host}")
        changed = item.changed.astimezone(UTC)
        ev.add("dtstamp", changed)
        ev.add("last-modified", changed)
        ev.add("sequence", item.sequence)
        ev.add("summary", event.title)
        if event.all_day:
            ev.add("dtstart", event.start)
            ev.add("dtend", event.end + timedelta(days=1))  # DTEND of a date is exclusive
        else:
            ev.add("dtstart", event.start.astimezone(UTC))
            ev.add("dtend", event.end.astimezone(UTC))
        if event.place:
            ev.add("location", event.place)
        ev.add("url", f"{site_url.rstrip('/')}{event.url}")
        ev.add("status", "CANCELLED" if event.cancelled else "CONFIRMED")
        ev.add("transp", "TRANSPARENT" if event.all_day else "OPAQUE")
        cal.add_component(ev)
    return cal.to_ical()


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
