"""The agenda: school-wide, group and family events as teachers write them.

An event lives in its section's own folder (the folder decides who sees it, as
for posts), written in one of two ways:

1. In a post's metadata: the event is the post (its title, its address), and
   its id is the post's name, so moving the date keeps it the same event:

       Title: Ouderavond groep 3
       Date: 2026-11-20
       Agenda: 2026-12-08 19.30-21.00
       Waar: lokaal 3                  (optional)
       Afgelast: ja                    (optional: the event stays, marked cancelled)

2. In the section's agenda file, `content/<section folder>/agenda.txt`: blocks
   of `Veld: waarde` lines separated by a blank line; `#` starts a comment.

       Wat: Studiedag (alle kinderen vrij)
       Wanneer: 2026-10-14
       Id: studiedag-oktober           (optional; needed when a title repeats)

Wanneer: `2026-10-14` (all day), `2026-12-21 t/m 2027-01-01` (days),
`2026-12-08 19.30` (an hour), `2026-12-08 19.30-21.00`, or
`2027-06-10 09.00 t/m 2027-06-12 14.00` (a camp). A bad date, an end before
its start, an unknown field or a repeated id stops the build with file, line
and fix. Everything here is pure; pages and feeds are written by
plugins.agenda_output.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path

from .errors import Problem, SchoolpleinError, display_path
from .filters import datum
from .settings import SCHOOL_TZ

FILE_NAME = "agenda.txt"
FIELDS = ("wat", "wanneer", "waar", "id", "afgelast")
FIELD_NAMES = "Wat, Wanneer, Waar, Id en Afgelast"
# What a teacher may write in a post's metadata beside 'Agenda:' by mistake.
POST_MISTAKES = {"plaats": "Waar", "locatie": "Waar", "tijd": "Agenda", "datum": "Agenda",
                 "wanneer": "Agenda"}
DAYS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")
ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_DAY = r"(\d{4})-(\d{1,2})-(\d{1,2})"
_TIME = r"(\d{1,2})[.:](\d{2})"
WHEN_RES = (
    ("day", re.compile(rf"^{_DAY}$")),
    ("days", re.compile(rf"^{_DAY}\s+t/m\s+{_DAY}$")),
    ("at", re.compile(rf"^{_DAY}\s+{_TIME}$")),
    ("from_to", re.compile(rf"^{_DAY}\s+{_TIME}\s*-\s*{_TIME}$")),
    ("span", re.compile(rf"^{_DAY}\s+{_TIME}\s+t/m\s+{_DAY}\s+{_TIME}$")),
)
WHEN_FIX = ("schrijf de datum als JJJJ-MM-DD, eventueel met een tijd: '2026-10-14', "
            "'2026-12-21 t/m 2027-01-01', '2026-12-08 19.30', '2026-12-08 19.30-21.00' of "
            "'2027-06-10 09.00 t/m 2027-06-12 14.00'")
ONE_HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Event:
    """One event of one section. `start`/`end` are dates (all day, `end` inclusive) or
    timezone-aware datetimes."""

    uid: str  # stable across moves and cancellations: "<section name>/<id>"
    section: str  # the section's name (Section.name)
    title: str
    start: date | datetime
    end: date | datetime
    place: str = ""
    cancelled: bool = False
    url: str = ""  # root-relative: the post, or the section page's #agenda
    source: str = ""  # "content/school/agenda.txt:12", for messages

    @property
    def all_day(self) -> bool:
        return not isinstance(self.start, datetime)

    @property
    def last_day(self) -> date:
        return self.end if self.all_day else self.end.astimezone(SCHOOL_TZ).date()

    @property
    def first_day(self) -> date:
        return self.start if self.all_day else self.start.astimezone(SCHOOL_TZ).date()

    def fingerprint(self) -> str:
        """What a phone must hear about when it changes (SEQUENCE rises)."""
        text = "\x1f".join((self.title, self.start.isoformat(), self.end.isoformat(), self.place,
                            str(self.cancelled), self.url))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]

    def upcoming(self, today: date) -> bool:
        return self.last_day >= today


def parse_when(text: str) -> tuple[date | datetime, date | datetime]:
    """(start, end) of a 'Wanneer:' value; ValueError with a Dutch reason."""
    value = " ".join(text.split())
    for kind, pattern in WHEN_RES:
        match = pattern.match(value)
        if not match:
            continue
        n = [int(g) for g in match.groups()]
        if kind == "day":
            day = _day(*n[:3])
            return day, day
        if kind == "days":
            return _ordered(_day(*n[:3]), _day(*n[3:6]))
        if kind == "at":
            start = _moment(_day(*n[:3]), *n[3:5])
            return start, start + ONE_HOUR
        if kind == "from_to":
            day = _day(*n[:3])
            return _ordered(_moment(day, *n[3:5]), _moment(day, *n[5:7]))
        return _ordered(_moment(_day(*n[:3]), *n[3:5]), _moment(_day(*n[5:8]), *n[8:10]))
    raise ValueError(f"'{value[:60]}' is geen datum of tijd die het platform begrijpt")


def _day(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"de datum {year}-{month:02d}-{day:02d} bestaat niet") from None


def _moment(day: date, hour: int, minute: int) -> datetime:
    try:
        return datetime.combine(day, time(hour, minute), SCHOOL_TZ)
    except ValueError:
        raise ValueError(f"de tijd {hour:02d}.{minute:02d} bestaat niet") from None


def _ordered(start, end):
    if end < start:
        raise ValueError(f"het einde ({_short(end)}) ligt vóór het begin ({_short(start)})")
    if end == start and isinstance(start, datetime):
        raise ValueError(f"begin en einde zijn gelijk ({_short(start)})")
    return start, end


def _short(value: date | datetime) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H.%M")
    return value.isoformat()


def _yes(text: str) -> bool | None:
    low = text.strip().lower()
    return True if low in ("ja", "j", "yes") else False if low in ("nee", "n", "no", "") else None


def read_agenda_file(path: Path, section_name: str, section_url: str,
                     problems: list[Problem]) -> list[Event]:
    """The events of one section's agenda.txt; what is wrong goes into `problems`."""
    shown = display_path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        problems.append(Problem(shown, None, "het bestand is geen UTF-8-tekst",
                                "sla het op als UTF-8 (Unicode) tekst"))
        return []
    blocks: list[tuple[int, dict[str, tuple[int, str]]]] = []
    current: dict[str, tuple[int, str]] = {}
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.startswith("#"):
            continue
        if not line:
            if current:
                blocks.append((start, current))
            current = {}
            continue
        key, sep, value = line.partition(":")
        field = key.strip().lower()
        if not sep or field not in FIELDS:
            what = f"onbekend veld '{key.strip()[:30]}'" if sep else f"regel zonder veld: '{line[:40]}'"
            problems.append(Problem(shown, number, what,
                                    f"gebruik {FIELD_NAMES}, elk als 'Veld: waarde' op een eigen "
                                    "regel, met een lege regel tussen twee afspraken"))
            continue
        if field in current:
            problems.append(Problem(shown, number, f"'{key.strip()}' staat twee keer in deze "
                                    "afspraak", "zet een lege regel tussen twee afspraken"))
            continue
        if not current:
            start = number
        current[field] = (number, value.strip())
    if current:
        blocks.append((start, current))
    events = []
    for first, block in blocks:
        event = _block_event(block, first, shown, section_name, section_url, problems)
        if event is not None:
            events.append(event)
    return events


def _block_event(block, first, shown, section_name, section_url, problems) -> Event | None:
    def bad(line, message, fix) -> None:
        problems.append(Problem(shown, line, message, fix))

    missing = [name for name in ("wat", "wanneer") if not block.get(name, (0, ""))[1]]
    if missing:
        bad(first, f"afspraak zonder {' en '.join(m.capitalize() for m in missing)}",
            "geef elke afspraak een regel 'Wat: …' en 'Wanneer: …'")
        return None
    line, when = block["wanneer"]
    try:
        start, end = parse_when(when)
    except ValueError as exc:
        bad(line, f"Wanneer: {exc}", WHEN_FIX)
        return None
    title = block["wat"][1]
    ident = block.get("id", (0, ""))[1] or slug(title)
    if not ID_RE.match(ident):
        bad(block.get("id", (first,))[0], f"ongeldig id '{ident[:40]}'",
            "gebruik kleine letters, cijfers en '-', bv. studiedag-oktober")
        return None
    cancelled = _yes(block.get("afgelast", (0, ""))[1])
    if cancelled is None:
        bad(block["afgelast"][0], "Afgelast: schrijf 'ja' of 'nee'", "bv. 'Afgelast: ja'")
        return None
    return Event(f"{section_name}/{ident}", section_name, title, start, end,
                 block.get("waar", (0, ""))[1], cancelled, f"{section_url}#agenda",
                 f"{shown}:{first}")


def slug(title: str) -> str:
    table = str.maketrans("áàäâéèëêíìïîóòöôúùüûçñ", "aaaaeeeeiiiioooouuuucn")
    return re.sub(r"[^a-z0-9]+", "-", title.lower().translate(table)).strip("-")[:60] or "afspraak"


def post_event(metadata: dict, source: str, section_name: str, url: str, post_id: str,
               title: str, problems: list[Problem]) -> Event | None:
    """The event a post declares with 'Agenda:', or None."""
    if "agenda" not in metadata:
        return None
    line_of = _metadata_lines(source)
    shown = display_path(source)
    for wrong, right in POST_MISTAKES.items():
        if wrong in metadata:
            problems.append(Problem(shown, line_of.get(wrong), f"onbekend veld '{wrong.capitalize()}' "
                                    "bij een afspraak", f"gebruik '{right}:' (de velden van een "
                                    "afspraak in een bericht zijn Agenda, Waar en Afgelast)"))
            return None
    try:
        start, end = parse_when(str(metadata["agenda"]))
    except ValueError as exc:
        problems.append(Problem(shown, line_of.get("agenda"), f"Agenda: {exc}", WHEN_FIX))
        return None
    cancelled = _yes(str(metadata.get("afgelast", "")))
    if cancelled is None:
        problems.append(Problem(shown, line_of.get("afgelast"), "Afgelast: schrijf 'ja' of 'nee'",
                                "bv. 'Afgelast: ja'"))
        return None
    return Event(f"{section_name}/{post_id}", section_name, title, start, end,
                 str(metadata.get("waar", "")).strip(), cancelled, url, shown)


def _metadata_lines(source: str) -> dict[str, int]:
    """Line of each metadata key at the top of a Markdown post (for messages)."""
    found: dict[str, int] = {}
    try:
        lines = Path(source).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return found
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            break
        key = line.partition(":")[0].strip().lower()
        found.setdefault(key, number)
    return found


def check_unique(events: list[Event], problems: list[Problem]) -> list[Event]:
    """Two events of a section with one id would be one event on a phone: refuse."""
    seen: dict[str, Event] = {}
    kept = []
    for event in events:
        other = seen.get(event.uid)
        if other is not None:
            file, _, line = event.source.rpartition(":")
            problems.append(Problem(file or event.source, int(line) if line.isdigit() else None,
                                    f"twee afspraken met hetzelfde id '{event.uid.split('/', 1)[1]}' "
                                    f"(ook {other.source})",
                                    "geef elk een eigen regel 'Id: …', bv. studiedag-oktober en "
                                    "studiedag-maart, zodat telefoons een verschoven afspraak "
                                    "herkennen"))
            continue
        seen[event.uid] = event
        kept.append(event)
    return kept


# --- how a parent reads it ---------------------------------------------------------------------

def long_day(day: date) -> str:
    return f"{DAYS[day.weekday()]} {datum(day)}"


def describe_when(event: Event) -> str:
    """'vrijdag 5 december 2026, 08.30–12.00 uur', Dutch and in school time."""
    if event.all_day:
        if event.start == event.end:
            return long_day(event.start)
        return f"{long_day(event.start)} t/m {long_day(event.end)}"
    start, end = event.start.astimezone(SCHOOL_TZ), event.end.astimezone(SCHOOL_TZ)
    if start.date() == end.date():
        return f"{long_day(start.date())}, {start:%H.%M}–{end:%H.%M} uur"
    return f"{long_day(start.date())} {start:%H.%M} uur t/m {long_day(end.date())} {end:%H.%M} uur"


def shown(events, today: date, section_titles: dict[str, str]) -> list[dict]:
    """Upcoming events, next first, as plain values for the pages (past ones fall off)."""
    upcoming = sorted((e for e in events if e.upcoming(today)),
                      key=lambda e: (_sort_key(e.start), e.title, e.uid))
    return [{"uid": e.uid, "title": e.title, "when": describe_when(e), "place": e.place,
             "url": e.url, "cancelled": e.cancelled, "start": e.start.isoformat(),
             "end": e.end.isoformat(), "section": section_titles.get(e.section, "")}
            for e in upcoming]


def _sort_key(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.combine(value, time(0), SCHOOL_TZ)


# --- the state that makes SEQUENCE rise ----------------------------------------------------------

KEEP_DAYS = 60  # a removed event stays in the feeds as cancelled this long after its end


@dataclass(frozen=True)
class Versioned:
    """An event as the feeds carry it: with its SEQUENCE and when it last changed."""

    event: Event
    sequence: int
    changed: datetime
    removed: bool = False  # no longer in content: sent as cancelled so phones drop it


def version(events: list[Event], state: dict, now: datetime, today: date
            ) -> tuple[list[Versioned], dict]:
    """Each event with its SEQUENCE, plus the state to keep (private/agenda/stand.json).

    New event: 0. Changed (date, time, title, place, cancelled): the previous one + 1.
    Removed from content: + 1 once and sent as cancelled until KEEP_DAYS after its end.
    """
    known = state.get("events", {})
    stamp = now.isoformat()
    out: list[Versioned] = []
    kept: dict[str, dict] = {}
    present = set()
    for event in events:
        present.add(event.uid)
        record = known.get(event.uid)
        fp = event.fingerprint()
        if record is None:
            record = {"fp": fp, "seq": 0, "changed": stamp}
        elif record["fp"] != fp or record.get("removed"):
            record = {"fp": fp, "seq": record["seq"] + 1, "changed": stamp}
        record = dict(record, event=_plain(event))
        record.pop("removed", None)
        kept[event.uid] = record
        out.append(Versioned(event, record["seq"], datetime.fromisoformat(record["changed"])))
    for uid, record in sorted(known.items()):
        if uid in present:
            continue
        event = _event(record["event"])
        if event.last_day < today - timedelta(KEEP_DAYS):
            continue  # long past: phones have forgotten it too
        if not record.get("removed"):
            record = dict(record, seq=record["seq"] + 1, changed=stamp, removed=True)
        kept[uid] = record
        out.append(Versioned(replace(event, cancelled=True), record["seq"],
                             datetime.fromisoformat(record["changed"]), removed=True))
    return out, {"v": 1, "events": kept}


def _plain(event: Event) -> dict:
    return {"uid": event.uid, "section": event.section, "title": event.title,
            "start": event.start.isoformat(), "end": event.end.isoformat(), "place": event.place,
            "cancelled": event.cancelled, "url": event.url}


def _event(data: dict) -> Event:
    def when(text: str) -> date | datetime:
        return datetime.fromisoformat(text) if "T" in text else date.fromisoformat(text)

    return Event(data["uid"], data["section"], data["title"], when(data["start"]),
                 when(data["end"]), data["place"], data["cancelled"], data["url"])


def raise_problems(problems: list[Problem]) -> None:
    if problems:
        raise SchoolpleinError(problems)


# --- the school's holidays (leave requests are checked against them) ---------------------------

HOLIDAY_WORD = "vakantie"  # an all-day event of the school agenda whose Wat names it


def school_holidays(content_root: Path) -> list[Event]:
    """The holidays in `content/school/agenda.txt`: all-day, not cancelled, 'vakantie' in the
    name (Kerstvakantie, Zomervakantie). A file the build refuses gives what it can read."""
    path = Path(content_root) / "school" / FILE_NAME
    if not path.is_file() or path.is_symlink():
        return []
    events = read_agenda_file(path, "school", "/school/", [])
    return sorted((e for e in events if e.all_day and not e.cancelled
                   and HOLIDAY_WORD in e.title.casefold()), key=lambda e: e.start)


def holiday_in(holidays: list[Event], first: date, last: date) -> Event | None:
    """The first holiday that shares a day with first..last (inclusive)."""
    return next((h for h in holidays if h.start <= last and first <= h.end), None)
