"""What a family page shows of the postvak, read from the file the processing leaves for the build.

Imports run one way (plugins never import postvak), so the two sides meet in a
file: after every processing run `postvak.thread.export_threads` writes one
file per family, and the build reads the one of each family page it writes.
This module holds that file's format, both directions, so it has one
definition:

    private/postvak/gezinnen/<family-id>.json   (UTF-8, written whole: temp file + rename)

    {"v": 1,                       # schema version; a reader refuses any other
     "family": "<family-id>",      # must equal the file's name
     "items": [                    # oldest first; only this household's own items
       {"id": "<submission id>",   # the client's uuid (a quarantined one: its quarantine name)
        "kind": "bericht",         # afwezigheid, bericht, beeldgebruik, besluit, onbekend, ...
        "at": "2026-11-10T07:00:01+01:00",   # when the server received it (with offset)
        "sender": "Marieke de Vries",        # the parent's own name; "de school" for a decision
        "summary": "Bericht aan Meester Pieter Bos",  # one line in Dutch
        "text": "...",             # the parent's words exactly as typed: escape when shown
        "status": "verwerkt"}]}    # ontvangen / verwerkt / doorgestuurd aan ... / niet verwerkt: ...

A missing file is an empty thread (a new family, or no processing yet); a file
that does not follow the schema stops the build with an error naming it. The
page also needs whom the family may write to and its children's photo
consent: both derived here from the roster, like the section map.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from markupsafe import Markup

from .errors import Problem, SchoolpleinError, display_path
from .filters import datum
from .output_check import TOKEN_RE
from .roster import Consent, Roster
from .settings import SCHOOL_TZ

VERSION = 1
FOLDER = Path("postvak", "gezinnen")  # under the private folder
DIRECTIE = "directie"  # the message recipient that stands for every directie member
ITEM_KEYS = ("id", "kind", "at", "sender", "summary", "text", "status")
ID_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{0,99}$")
KIND_RE = re.compile(r"^[a-z]{1,30}$")
HIDDEN_ID = "[gezinscode weggelaten]"
FIX = ("dit bestand schrijft 'invoke postvak' na elke verwerking; draai dat opnieuw (het schrijft "
       "de bestanden van alle gezinnen opnieuw) en verander het bestand niet met de hand")
# What each photo consent means, as a parent reads it on the family page.
CONSENT_TEXT = {
    Consent.NONE: "Geen foto's",
    Consent.GROUP: "Alleen op de groepspagina (en uw gezinspagina)",
    Consent.SCHOOL: "Op de groepspagina en de schoolpagina's",
}


@dataclass(frozen=True)
class ThreadItem:
    """One of a household's own submissions (or the school's decision about its child)."""

    id: str
    kind: str  # afwezigheid, bericht, beeldgebruik, besluit (or "onbekend" in quarantine)
    at: datetime  # when the server received it
    sender: str  # the parent's own name; "de school" for a decision
    summary: str  # one line in Dutch
    text: str  # the parent's words as typed (message, absence note): escape when rendering
    status: str  # ontvangen / verwerkt / doorgestuurd aan <naam> / niet verwerkt: <reden>


@dataclass(frozen=True)
class Post:
    """A staff post in content/gezin/<id>/: the teacher's Markdown, rendered by Pelican."""

    title: Markup
    url: str
    author: str
    content: Markup
    photos: int  # shown on the post's own page


@dataclass(frozen=True)
class Turn:
    """One entry of the conversation: a parent's item or a staff post."""

    at: datetime
    when: str  # Dutch, Europe/Amsterdam
    item: ThreadItem | None = None
    post: Post | None = None


@dataclass(frozen=True)
class Recipient:
    id: str  # a staff id or DIRECTIE: the message's "aan"
    name: str
    label: str  # what the parent picks from


@dataclass(frozen=True)
class FamilyChild:
    id: str
    first_name: str
    group: str  # the group's display name
    consent: Consent  # what applies now (the roster's cell or the school's default)
    default: bool  # no recorded choice: the school's default applies
    deciders: tuple[str, ...]  # names of this household's parents who may choose
    everyone_decides: bool  # every parent of this household may choose


def thread_file(private: Path | str, family_id: str) -> Path:
    return Path(private) / FOLDER / f"{family_id}.json"


def encode(family_id: str, items: tuple[ThreadItem, ...] | list[ThreadItem]) -> bytes:
    """The file's bytes for one family (the writer's half of the schema)."""
    data = {"v": VERSION, "family": family_id,
            "items": [{"id": i.id, "kind": i.kind, "at": i.at.isoformat(), "sender": i.sender,
                       "summary": i.summary, "text": i.text, "status": i.status} for i in items]}
    return (json.dumps(data, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def read_thread(private: Path | str, family_id: str) -> tuple[ThreadItem, ...]:
    """One family's thread; () when processing has not written it yet."""
    path = thread_file(private, family_id)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return ()

    def bad(message: str) -> SchoolpleinError:
        return SchoolpleinError(Problem(display_path(path), None, message, FIX))

    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise bad("geen geldige JSON (UTF-8)") from None
    if not isinstance(data, dict) or set(data) != {"v", "family", "items"}:
        raise bad("verwacht een object met precies de velden v, family en items")
    if type(data["v"]) is not int or data["v"] != VERSION:
        raise bad(f"onbekende versie {data['v']!r} (deze build leest versie {VERSION})")
    if data["family"] != family_id:
        raise bad(f"het bestand hoort bij een ander gezin ({str(data['family'])[:40]!r})")
    if not isinstance(data["items"], list):
        raise bad("'items' is geen lijst")
    items = []
    for number, entry in enumerate(data["items"], 1):
        if not isinstance(entry, dict) or set(entry) != set(ITEM_KEYS):
            raise bad(f"onderdeel {number}: verwacht precies de velden {', '.join(ITEM_KEYS)}")
        wrong = [k for k in ITEM_KEYS if not isinstance(entry[k], str)]
        if wrong:
            raise bad(f"onderdeel {number}: geen tekst in {', '.join(wrong)}")
        if not ID_RE.match(entry["id"]) or not KIND_RE.match(entry["kind"]):
            raise bad(f"onderdeel {number}: ongeldig id of soort ({entry['id'][:40]!r}, "
                      f"{entry['kind'][:20]!r})")
        try:
            at = datetime.fromisoformat(entry["at"])
        except ValueError:
            at = None
        if at is None or at.utcoffset() is None:
            raise bad(f"onderdeel {number}: 'at' is geen tijdstip met tijdzone ({entry['at'][:40]!r})")
        items.append(ThreadItem(entry["id"], entry["kind"], at, entry["sender"], entry["summary"],
                                entry["text"], entry["status"]))
    return tuple(items)


def hide_other_families(item: ThreadItem, own: str, family_ids: frozenset[str] | set[str]) -> ThreadItem:
    """Replace every other family's id in what a parent typed (or what quotes it).

    A parent can type anything, also a 20-letter word that is another family's
    id. The output check refuses such a page (fail closed) and would stop the
    school's whole publish, urgent photo withdrawals included, so the page never
    shows it. Tokens are found exactly as the output check finds them.
    """
    def hide(text: str) -> str:
        return TOKEN_RE.sub(lambda m: HIDDEN_ID if m.group() != own and m.group() in family_ids
                            else m.group(), text)

    return replace(item, id=hide(item.id), sender=hide(item.sender), summary=hide(item.summary),
                   text=hide(item.text), status=hide(item.status))


def moment(when: datetime) -> str:
    """'10 november 2026 om 07.00 uur', school time."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=SCHOOL_TZ)
    local = when.astimezone(SCHOOL_TZ)
    return f"{datum(local)} om {local:%H.%M} uur"


def conversation(items, articles, own: str, family_ids) -> list[Turn]:
    """The household's items and the staff's posts, oldest first (a conversation)."""
    family_ids = frozenset(family_ids)
    turns = [Turn(i.at, moment(i.at), item=hide_other_families(i, own, family_ids))
             for i in items]
    for article in articles:
        at = article.date if article.date.tzinfo else article.date.replace(tzinfo=SCHOOL_TZ)
        author = str(getattr(article, "author", "") or "")
        # Pelican rendered the teacher's Markdown: trusted HTML, as on the post's own page.
        post = Post(Markup(article.title), f"/{article.url}", author, Markup(article.content),
                    len(getattr(article, "photos", ()) or ()))
        turns.append(Turn(at, moment(at), post=post))
    return sorted(turns, key=lambda t: (t.at, t.item.id if t.item else t.post.url))


def plain(value):
    """The page's values as str, int, bool, list and dict (Markup and Consent are str).

    The incremental writer fingerprints a page's keyword arguments and reuses the
    page when none changed; it can only sum up plain values (anything else: render
    every build). Jinja reads `turn.item.text` from dicts too; no field may be
    named like a dict method (items, keys, values, get, ...).
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def recipients(roster: Roster, family_id: str) -> tuple[Recipient, ...]:
    """Whom the household may write to: its children's teachers, then the directie.

    The one rule: the form offers these, and postvak.households.recipients checks
    each message against them.
    """
    taught: dict[str, list[str]] = {}
    for child_id in roster.families[family_id].children:
        child = roster.children[child_id]
        for teacher in sorted(roster.teachers_of(child.group)):
            taught.setdefault(teacher, []).append(child.first_name)
    found = [Recipient(t, roster.staff[t].name,
                       f"{roster.staff[t].name}, leerkracht van {' en '.join(names)}")
             for t, names in sorted(taught.items(), key=lambda kv: roster.staff[kv[0]].name)]
    return (*found, Recipient(DIRECTIE, "de directie", "De directie"))


def family_children(roster: Roster, family_id: str, default: Consent) -> tuple[FamilyChild, ...]:
    family = roster.families[family_id]
    found = []
    for child_id in family.children:
        child = roster.children[child_id]
        deciders = tuple(roster.parents[p].name for p in family.parents
                         if child_id in roster.parents[p].children)
        found.append(FamilyChild(child.id, child.first_name, roster.groups[child.group].name,
                                 roster.consent_of(child_id, default), child.consent is None,
                                 deciders,
                                 len(deciders) == len(family.parents)))
    return tuple(found)
