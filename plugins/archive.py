"""Archive sections: last year's groups, for exactly last year's readers, until retention ends.

At the rollover (`invoke schooljaar`) the roster as it was is frozen in
`roster/archief/<schooljaar>/`: the four CSV files unchanged, plus
`lezers.csv`, the readers each group section had on the last day (its parents,
teachers and the directie), one row per reader. The section map takes an
archive section's readers from that file and nothing else, so whatever the new
roster says (a child moved group, a teacher left, a family left the school),
`/archief/<schooljaar>/<groep>/` stays readable by exactly those people; the
frozen roster only supplies the children's names for the photo tags.

Retention: an archive is kept until `SCHOOLPLEIN_RETENTION_MONTHS` (default 12)
after its school year ended (31 July). After that date it is no archive
section any more: the build leaves its posts out and the first publish deletes
it (records.retention). Parents of a child who left keep their login only
while an archive they may read is kept.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

from .errors import Problem, SchoolpleinError, display_path
from .roster import Consent, Parent, Roster, load_roster
from .sections import ROOTS, Section

FOLDER = "archief"  # roster/archief/<year>/ and content/archief/<year>/<group>/
READERS_FILE = "lezers.csv"
READER_COLUMNS = ("groep", "lezer", "rol")
ROLES = ("ouder", "leerkracht", "directie")
YEAR_RE = re.compile(r"^(\d{4})-(\d{4})$")
YEAR_END = (7, 31)  # a Dutch school year ends with July


def valid_year(year: str) -> bool:
    match = YEAR_RE.match(year)
    return bool(match) and int(match[2]) == int(match[1]) + 1


def next_year(year: str) -> str:
    start = int(year[:4]) + 1
    return f"{start}-{start + 1}"


def year_end(year: str) -> date:
    return date(int(year[5:]), *YEAR_END)


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    last = (date(year + month // 12, month % 12 + 1, 1) - date(year, month, 1)).days
    return date(year, month, min(day.day, last))


def kept_until(year: str, months: int) -> date:
    """The last day an archive of `year` is kept; the first publish after it removes it."""
    return add_months(year_end(year), months)


def today() -> date:
    from .settings import SCHOOL_TZ

    return datetime.now(SCHOOL_TZ).date()


@dataclass(frozen=True)
class Archive:
    """One frozen school year."""

    year: str
    roster: Roster  # as it was on the last day: names for the tags, logins of those who left
    readers: Mapping[str, frozenset[str]]  # group slug -> person ids, from lezers.csv
    until: date  # kept through this day

    def expired(self, on: date) -> bool:
        return on > self.until

    def prefix(self, slug: str) -> str:
        return f"{ROOTS['archive']}{self.year}/{slug}/"

    def sections(self) -> list[Section]:
        return [Section("archive", f"{self.year}-{slug}", self.prefix(slug),
                        f"{group.name} ({self.year})", self.readers.get(slug, frozenset()),
                        frozenset(c.id for c in self.roster.children_in(slug)))
                for slug, group in sorted(self.roster.groups.items())]


@dataclass(frozen=True)
class Archives:
    live: tuple[Archive, ...] = ()  # in the section map, oldest first
    expired: tuple[Archive, ...] = field(default=())  # past retention: left out, then removed


def folder(roster_dir: Path | str, year: str) -> Path:
    return Path(roster_dir) / FOLDER / year


def kept_years(roster_dir: Path | str, months: int, on: date | None = None) -> tuple[str, ...]:
    """The years under roster/archief/ still kept on `on` (today), by folder name alone."""
    base = Path(roster_dir) / FOLDER
    on = on or today()
    return tuple(sorted(p.name for p in base.iterdir() if valid_year(p.name)
                        and on <= kept_until(p.name, months))) if base.is_dir() else ()


def load_archives(roster_dir: Path | str, months: int, on: date | None = None) -> Archives:
    """Every frozen year under roster/archief/, split into kept and expired on `on` (today)."""
    base = Path(roster_dir) / FOLDER
    if not base.is_dir():
        return Archives()
    on = on or today()
    found: list[Archive] = []
    problems: list[Problem] = []
    for path in sorted(p for p in base.iterdir() if not p.name.startswith(".")):
        if not path.is_dir() or not valid_year(path.name):
            problems.append(Problem(display_path(path), None,
                                    "onbekend bestand of map in roster/archief/",
                                    "hier staan alleen mappen per schooljaar, bv. 2026-2027 "
                                    "(gemaakt door 'invoke schooljaar')"))
            continue
        try:
            frozen = load_roster(path)
            readers = read_readers(path / READERS_FILE, frozen)
        except SchoolpleinError as exc:
            problems.extend(exc.problems)
            continue
        found.append(Archive(path.name, frozen, readers, kept_until(path.name, months)))
    if problems:
        raise SchoolpleinError(problems)
    return Archives(tuple(a for a in found if not a.expired(on)),
                    tuple(a for a in found if a.expired(on)))


def read_readers(path: Path, frozen: Roster) -> dict[str, frozenset[str]]:
    """lezers.csv: who read each group on the last day; every id must be in the frozen roster."""
    shown = display_path(path)
    if not path.is_file():
        raise SchoolpleinError(Problem(shown, None, "bestand ontbreekt",
                                       "'invoke schooljaar' schrijft dit bestand; zet de "
                                       "reservekopie terug"))
    reader = csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline=""))
    header = [h.strip().lower() for h in next(reader, [])]
    if tuple(header) != READER_COLUMNS:
        raise SchoolpleinError(Problem(shown, 1, "onverwachte kopregel",
                                       "de eerste regel moet zijn: " + ",".join(READER_COLUMNS)))
    people = {p.id for p in frozen.people()}
    readers: dict[str, set[str]] = {slug: set() for slug in frozen.groups}
    problems = []
    for line, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(READER_COLUMNS):
            problems.append(Problem(shown, line, f"{len(cells)} cellen in plaats van 3",
                                    "groep,lezer,rol"))
            continue
        slug, person, role = (c.strip() for c in cells)
        if slug not in frozen.groups:
            problems.append(Problem(shown, line, f"onbekende groep '{slug}'",
                                    "gebruik een groep uit groepen.csv van dit schooljaar"))
        elif person not in people:
            problems.append(Problem(shown, line, f"onbekende lezer '{person}'",
                                    "gebruik een id uit ouders.csv of personeel.csv van dit "
                                    "schooljaar"))
        elif role not in ROLES:
            problems.append(Problem(shown, line, f"onbekende rol '{role}'",
                                    "gebruik " + ", ".join(ROLES)))
        else:
            readers[slug].add(person)
    if problems:
        raise SchoolpleinError(problems)
    return {slug: frozenset(ids) for slug, ids in readers.items()}


def readers_csv(roster: Roster, group_readers: Mapping[str, Iterable[str]]) -> str:
    """lezers.csv for a year that ends now: the group sections' readers, with their role."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(READER_COLUMNS)
    mt = roster.management()
    for slug in sorted(group_readers):
        for person in sorted(group_readers[slug]):
            role = "directie" if person in mt else "ouder" if person in roster.parents \
                else "leerkracht"
            writer.writerow((slug, person, role))
    return out.getvalue()


def former_parents(roster: Roster, archives: Iterable[Archive]) -> dict[str, Parent]:
    """Parents no longer in the roster who still read a kept archive (newest row wins)."""
    found: dict[str, Parent] = {}
    for arch in archives:
        readers = frozenset().union(*arch.readers.values())
        for pid, parent in arch.roster.parents.items():
            if pid not in roster.parents and pid in readers:
                found[pid] = parent
    return found


def photo_roster(roster: Roster, archives: Iterable[Archive]) -> Roster:
    """The roster the photo rules judge with: today's, plus the children who left.

    A child still at school has today's consent, in the archive too (consent is
    retroactive). A child who left keeps the narrowest consent any kept archive
    records for them: nobody can widen it any more, and the admin narrows it by
    editing the archive's leerlingen.csv.
    """
    order = list(Consent)
    children = dict(roster.children)
    left: dict[str, list] = {}
    for arch in archives:
        for cid, child in arch.roster.children.items():
            if cid not in roster.children:
                left.setdefault(cid, []).append(child)
    for cid, rows in left.items():
        recorded = [c.consent for c in rows if c.consent is not None]
        children[cid] = replace(rows[-1], group="", consent=min(recorded, key=order.index)
                                if recorded else None)
    return replace(roster, children=children) if left else roster


def account_roster(roster: Roster, archives: Iterable[Archive]) -> Roster:
    """Today's roster plus the parents who left but still read a kept archive (their logins)."""
    former = former_parents(roster, archives)
    if not former:
        return roster
    families = dict(roster.families)
    for arch in archives:
        for fid, family in arch.roster.families.items():
            kept = tuple(p for p in family.parents if p in former)
            if kept and fid not in roster.families:
                families[fid] = replace(family, parents=kept)
    return replace(roster, parents={**former, **roster.parents}, families=families)
