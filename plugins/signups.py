"""Sign-ups declared in a group post: volunteers (hulpouders) and conference slots (gesprekken).

A teacher declares them in the post's Markdown header, next to Title and Date:

    Hulpouders: 4
    Aanmelden_tot: 2026-12-01 12:00

    Gesprekken: 2027-02-09, 15:30-17:30, 10 min, pauze 16:30-16:45
        Meester Pieter Bos, 2027-02-11, 08:30-09:30, 15 min
    Aanmelden_tot: 2027-02-05 12:00

`Gesprekken` takes one block per line (indented lines continue it, as Markdown's
metadata does): optionally who (a teacher of the group or the directie, by name or
staff id from personeel.csv; left out: the group's only teacher), the day, the
time span, the length of one talk and any breaks. Times are school time
(Europe/Amsterdam). This module is the one reader of that header: the build uses it
to check the post and show the forms, the postvak (which never runs Pelican) to
decide each submission against it. Bad input stops the build with file, line and fix.

The postvak's decisions reach the build the other way round, as one private file
(like the family threads; plugins never import postvak):

    private/postvak/inschrijvingen.json
    {"v": 1, "activiteiten": {"<key>": {
        "hulpouders": [{"ouder": "<parent id>", "gezin": "<family id>", "at": "<iso>"}, ...],
        "gesprekken": {"<slot id>": {"kind": "<child id>", "ouder": "<parent id>",
                                     "at": "<iso>"}},
        "gesloten": false}}}

`hulpouders` in sign-up order (the first `places` are in, the rest wait); a missing
file means nobody signed up yet.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path, PurePosixPath

from .errors import Problem, SchoolpleinError, display_path
from .filters import MONTHS
from .roster import Roster
from .routing import slug_for
from .settings import SCHOOL_TZ

VOLUNTEERS, CONFERENCES = "hulpouders", "gesprekken"
KEYS = {"hulpouders": VOLUNTEERS, "gesprekken": CONFERENCES, "aanmelden_tot": "deadline"}
MAX_PLACES = 200
MAX_SLOTS = 400
STATE_FILE = Path("postvak", "inschrijvingen.json")  # under the private folder
SLOT_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}-\d{8}-\d{4}\Z")
HEADER_RE = re.compile(r"^ {0,3}(?P<key>[A-Za-z0-9_-]+):\s*(?P<value>.*)$")
CONTINUED_RE = re.compile(r"^ {4,}(?P<value>.*)$")
SPAN_RE = re.compile(r"^(\d{1,2})[:.](\d{2})\s*-\s*(\d{1,2})[:.](\d{2})$")
LENGTH_RE = re.compile(r"^(\d{1,3})\s*min(?:uten)?$")
BREAK_RE = re.compile(r"^pauze\s+(.+)$", re.IGNORECASE)
DEADLINE_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:\s+(\d{1,2})[:.](\d{2}))?$")
DAYS = ("ma", "di", "wo", "do", "vr", "za", "zo")


@dataclass(frozen=True)
class Slot:
    id: str  # "<staff id>-<YYYYMMDD>-<HHMM>": stable as long as the block declares it
    teacher: str  # staff id
    teacher_name: str
    start: datetime  # school time, aware
    end: datetime

    @property
    def label(self) -> str:
        """'di 9 feb 15.30 uur' (with whom, when the post has several teachers: `with_teacher`)."""
        return short_moment(self.start)

    def overlaps(self, other: Slot) -> bool:
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True)
class Activity:
    """One post's sign-up, as declared."""

    key: str  # the post's address without slashes around it: groep/<slug>/<post>
    kind: str  # VOLUNTEERS or CONFERENCES
    group: str  # the group's slug: only families with a child in it may sign up
    title: str
    deadline: datetime  # school time, aware; sign-ups received after it are refused
    places: int = 0  # VOLUNTEERS
    slots: tuple[Slot, ...] = ()  # CONFERENCES, in time order
    source: str = ""  # the Markdown file (for messages)

    @property
    def ref(self) -> str:
        """What a form sends and a family page shows: 'act-' and 12 hex digits of the key's
        sha256. Never the post's address, which names content of the group section."""
        return "act-" + hashlib.sha256(self.key.encode()).hexdigest()[:12]

    @property
    def anchor(self) -> str:
        """The id of its form on Mijn gezin (the post's Aanmelden link goes there)."""
        return "aanmelden-" + self.ref

    def slot(self, ident: str) -> Slot | None:
        return next((s for s in self.slots if s.id == ident), None)

    def open_at(self, moment: datetime) -> bool:
        return moment <= self.deadline

    @property
    def several_teachers(self) -> bool:
        return len({s.teacher for s in self.slots}) > 1


@dataclass
class Header:
    """A post's header lines: (line number, key, value) with continuation lines joined as a list."""

    title: str = ""
    entries: dict[str, tuple[int, list[tuple[int, str]]]] = field(default_factory=dict)


def read_header(path: Path) -> Header:
    """The metadata block as Markdown's meta extension reads it (until the first blank line)."""
    header = Header()
    current = None
    with path.open(encoding="utf-8", errors="replace") as fh:
        for number, line in enumerate(fh, 1):
            line = line.rstrip("\n").rstrip("\r")
            if not line.strip():
                break
            continued = CONTINUED_RE.match(line)
            if continued and current is not None:
                header.entries[current][1].append((number, continued["value"].strip()))
                continue
            found = HEADER_RE.match(line)
            if not found:
                break
            key = found["key"].lower()
            if key == "title":
                header.title = found["value"].strip()
            current = key
            header.entries.setdefault(key, (number, []))[1].append((number, found["value"].strip()))
    return header


def short_moment(moment: datetime) -> str:
    local = moment.astimezone(SCHOOL_TZ)
    return f"{DAYS[local.weekday()]} {local.day} {MONTHS[local.month - 1][:3]} {local:%H.%M} uur"


def label(activity: Activity, roster: Roster) -> str:
    """How a family page names a sign-up: never the post's title, which belongs to the group
    section (a teacher of the family's other child, who reads the family page, may not read
    that group)."""
    group = roster.groups[activity.group].name if activity.group in roster.groups else ""
    what = "Hulpouders" if activity.kind == VOLUNTEERS else "Oudergesprekken"
    local = activity.deadline.astimezone(SCHOOL_TZ)
    return f"{what} {group} (inschrijven tot {local.day} {MONTHS[local.month - 1]})"


def activity_key(relpath: PurePosixPath) -> str | None:
    """groep/<slug>/<post> for a post under content/groep/<slug>/ (None elsewhere)."""
    parts = relpath.parts
    if len(parts) < 3 or parts[0] != "groep":
        return None
    return f"groep/{parts[1]}/{slug_for(relpath)}"


def declared(source: Path, content_root: Path, roster: Roster) -> Activity | None:
    """The sign-up a post declares (None when it declares none); SchoolpleinError when wrong."""
    header = read_header(source)
    if not any(k in header.entries for k in ("hulpouders", "gesprekken")):
        if "aanmelden_tot" in header.entries:
            line = header.entries["aanmelden_tot"][0]
            raise _bad(source, line, "'Aanmelden_tot:' zonder 'Hulpouders:' of 'Gesprekken:'",
                       "zet erbij waarvoor ouders zich aanmelden, bv. 'Hulpouders: 4', of "
                       "haal de regel weg")
        return None
    relpath = PurePosixPath(source.resolve().relative_to(content_root.resolve()).as_posix())
    key = activity_key(relpath)
    first = min(header.entries[k][0] for k in ("hulpouders", "gesprekken") if k in header.entries)
    if key is None or key.split("/")[1] not in roster.groups:
        raise _bad(source, first, "aanmelden kan alleen bij een bericht voor een groep",
                   "zet het bericht in content/groep/<groep>/ (de ouders van die groep kunnen "
                   "zich dan aanmelden)")
    if "hulpouders" in header.entries and "gesprekken" in header.entries:
        raise _bad(source, first, "'Hulpouders:' en 'Gesprekken:' in één bericht",
                   "maak voor de gesprekken een apart bericht")
    group = key.split("/")[1]
    for name, (line, values) in header.entries.items():
        if name in KEYS and name != "gesprekken" and len(values) > 1:
            raise _bad(source, line, f"'{name}' staat er meer dan één keer",
                       "laat één regel staan")
    if "aanmelden_tot" not in header.entries:
        raise _bad(source, first, "'Aanmelden_tot:' ontbreekt",
                   "zet eronder tot wanneer ouders zich kunnen aanmelden, bv. "
                   "'Aanmelden_tot: 2026-12-01 12:00'")
    line, [(_, raw)] = header.entries["aanmelden_tot"]
    deadline = _deadline(source, line, raw)
    title = header.title or key.rsplit("/", 1)[-1]
    if "hulpouders" in header.entries:
        line, [(_, raw)] = header.entries["hulpouders"]
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_PLACES:
            raise _bad(source, line, f"'Hulpouders: {raw[:30]}' is geen aantal",
                       f"schrijf hoeveel hulpouders u zoekt, een getal van 1 tot {MAX_PLACES}, "
                       "bv. 'Hulpouders: 4'")
        return Activity(key, VOLUNTEERS, group, title, deadline, places=int(raw),
                        source=display_path(source))
    slots = _slots(source, header.entries["gesprekken"][1], roster, group)
    first_start = min(s.start for s in slots)
    if deadline > first_start:
        raise _bad(source, header.entries["aanmelden_tot"][0],
                   "'Aanmelden_tot' ligt na het eerste gesprek",
                   f"kies een moment vóór {short_moment(first_start)}")
    return Activity(key, CONFERENCES, group, title, deadline, slots=tuple(slots),
                    source=display_path(source))


def _bad(source: Path, line: int | None, message: str, fix: str) -> SchoolpleinError:
    return SchoolpleinError(Problem(display_path(source), line, message, fix))


def _deadline(source: Path, line: int, raw: str) -> datetime:
    found = DEADLINE_RE.match(raw)
    try:
        day = date.fromisoformat(found[1]) if found else None
        at = time(int(found[2]), int(found[3])) if found and found[2] else time(23, 59)
    except ValueError:
        day = None
    if day is None:
        raise _bad(source, line, f"'Aanmelden_tot: {raw[:40]}' is geen datum en tijd",
                   "schrijf 'Aanmelden_tot: JJJJ-MM-DD UU:MM', bv. 'Aanmelden_tot: 2026-12-01 "
                   "12:00' (zonder tijd: tot 23.59 uur)")
    return datetime.combine(day, at, SCHOOL_TZ)


def _teacher(roster: Roster, group: str, who: str) -> tuple[str, str] | None:
    wanted = who.strip().casefold()
    for staff in roster.staff.values():
        if wanted in (staff.id.casefold(), staff.name.casefold()) and (
                staff.id in roster.teachers_of(group) or staff.id in roster.management()):
            return staff.id, staff.name
    return None


def _slots(source: Path, lines: list[tuple[int, str]], roster: Roster, group: str) -> list[Slot]:
    fix = ("schrijf per regel '[wie,] JJJJ-MM-DD, UU:MM-UU:MM, N min[, pauze UU:MM-UU:MM]', "
           "bv. 'Gesprekken: 2027-02-09, 15:30-17:30, 10 min, pauze 16:30-16:45'")
    slots: list[Slot] = []
    teachers = sorted(roster.teachers_of(group))
    for number, text in lines:
        parts = [p.strip() for p in text.split(",") if p.strip()]
        if parts and not re.match(r"^\d{4}-", parts[0]):
            found = _teacher(roster, group, parts[0])
            if found is None:
                raise _bad(source, number, f"'{parts[0][:40]}' is geen leerkracht van deze groep",
                           "gebruik de naam of het id uit personeel.csv van een leerkracht van "
                           "de groep (of de directie)")
            teacher, parts = found, parts[1:]
        elif len(teachers) == 1:
            teacher = (teachers[0], roster.staff[teachers[0]].name)
        else:
            raise _bad(source, number, "niet gezegd met welke leerkracht (de groep heeft er "
                       f"{len(teachers)})", "zet de naam vooraan: 'Gesprekken: Juf Anne Smit, "
                       "2027-02-09, 15:30-17:30, 10 min'")
        if len(parts) < 3:
            raise _bad(source, number, f"onvolledige regel '{text[:60]}'", fix)
        try:
            day = date.fromisoformat(parts[0])
        except ValueError:
            raise _bad(source, number, f"'{parts[0][:20]}' is geen datum", fix) from None
        start, end = _span(source, number, day, parts[1], fix)
        length = LENGTH_RE.match(parts[2])
        if not length or not 5 <= int(length[1]) <= 120:
            raise _bad(source, number, f"'{parts[2][:20]}' is geen lengte van een gesprek",
                       "schrijf de lengte als '10 min' (5 tot 120 minuten)")
        breaks = []
        for extra in parts[3:]:
            found = BREAK_RE.match(extra)
            if not found:
                raise _bad(source, number, f"onbekend onderdeel '{extra[:30]}'", fix)
            breaks.append(_span(source, number, day, found[1], fix))
        step = timedelta(minutes=int(length[1]))
        at = start
        while at + step <= end:
            if not any(at < b_end and b_start < at + step for b_start, b_end in breaks):
                slot = Slot(f"{teacher[0]}-{at:%Y%m%d-%H%M}", teacher[0], teacher[1], at,
                            at + step)
                clash = next((s for s in slots if s.teacher == slot.teacher and s.overlaps(slot)),
                             None)
                if clash:
                    raise _bad(source, number, f"overlapt met een eerder blok van "
                               f"{teacher[1]} ({clash.label})", "laat de blokken van één "
                               "leerkracht niet overlappen")
                slots.append(slot)
            at += step
        if len(slots) > MAX_SLOTS:
            raise _bad(source, number, f"meer dan {MAX_SLOTS} gesprekken", "maak de blokken korter")
    if not slots:
        raise _bad(source, lines[0][0], "geen enkel gesprek past in de blokken", fix)
    return sorted(slots, key=lambda s: (s.start, s.teacher))


def _span(source: Path, number: int, day: date, text: str, fix: str) -> tuple[datetime, datetime]:
    found = SPAN_RE.match(text.strip())
    try:
        start = time(int(found[1]), int(found[2])) if found else None
        end = time(int(found[3]), int(found[4])) if found else None
    except ValueError:
        start = end = None
    if start is None or end is None or end <= start:
        raise _bad(source, number, f"'{text[:30]}' is geen tijdvak (van-tot)", fix)
    return datetime.combine(day, start, SCHOOL_TZ), datetime.combine(day, end, SCHOOL_TZ)


def all_declared(content_root: Path, roster: Roster) -> tuple[dict[str, Activity], list[Problem]]:
    """Every sign-up under content/groep/, and the problems of the posts that declare one wrongly.

    Drafts count too (their Status is Pelican's business): a key is its address.
    """
    found: dict[str, Activity] = {}
    problems: list[Problem] = []
    root = Path(content_root)
    from .archive import FOLDER as ARCHIVE

    for source in sorted(root.glob("*/**/*.md")):
        if source.is_symlink():
            continue  # the build refuses it; never read through it
        if source.relative_to(root).parts[0] == ARCHIVE:
            continue  # last year's posts (plugins.archive): read-only, their sign-ups are over
        try:
            activity = declared(source, root, roster)
        except SchoolpleinError as exc:
            problems.extend(exc.problems)
            continue
        if activity is not None:
            found[activity.key] = activity
    return found, problems


def load(content_root: Path, roster: Roster) -> dict[str, Activity]:
    """The declared sign-ups; raises when a post declares one wrongly (the build says where)."""
    found, problems = all_declared(content_root, roster)
    if problems:
        raise SchoolpleinError(problems)
    return found


# --- the postvak's decisions, as the build reads them --------------------------------------

def state_file(private: Path | str) -> Path:
    return Path(private) / STATE_FILE


def read_state(private: Path | str) -> dict[str, dict]:
    """key -> {"hulpouders": [...], "gesprekken": {...}, "gesloten": bool}; {} when none yet."""
    path = state_file(private)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        raise SchoolpleinError(Problem(display_path(path), None, "geen geldige JSON",
                                       "dit bestand schrijft 'invoke postvak'; draai dat opnieuw")
                               ) from None
    if not isinstance(data, dict) or data.get("v") != 1 or not isinstance(
            data.get("activiteiten"), dict):
        raise SchoolpleinError(Problem(display_path(path), None, "onbekende opbouw",
                                       "dit bestand schrijft 'invoke postvak'; draai dat opnieuw"))
    return data["activiteiten"]


def encode_state(activities: dict[str, dict]) -> bytes:
    return (json.dumps({"v": 1, "activiteiten": activities}, ensure_ascii=False, indent=1,
                       sort_keys=True) + "\n").encode("utf-8")
