"""The roster: who exists, who is whose child, who teaches which group, consent.

It is the private CSV export an admin keeps in `roster/` and edits in a
spreadsheet. It is validated on every build and never copied into the output.
All problems are reported at once, each with file, row and fix.

Files (header row first, `;` separates several values in one cell):

    groepen.csv     slug, naam, schooljaar
    leerlingen.csv  id, voornaam, achternaam, groep, beeldgebruik [, gezinnen]
    ouders.csv      id, naam, email, gezin, kinderen
    personeel.csv   id, naam, email, rol, groepen

Two households (separated parents): each household is its own family (gezin
id, family page, postvak). A child in two households lists both ids in the
optional `gezinnen` column; without that declaration a child under two gezin
ids stays an error, because that is usually a typo.
"""

from __future__ import annotations

import csv
import io
import re
import secrets
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from .errors import Problem, SchoolpleinError, display_path

FILES = {
    "groups": ("groepen.csv", ("slug", "naam", "schooljaar")),
    "children": ("leerlingen.csv", ("id", "voornaam", "achternaam", "groep", "beeldgebruik")),
    "parents": ("ouders.csv", ("id", "naam", "email", "gezin", "kinderen")),
    "staff": ("personeel.csv", ("id", "naam", "email", "rol", "groepen")),
}
# Columns a roster may leave out; write_roster adds them when a row is that long.
OPTIONAL = {"children": ("gezinnen",)}
MAX_HOUSEHOLDS = 2

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
FAMILY_ID_RE = re.compile(r"^[a-z0-9]{16,40}$")
EMAIL_RE = re.compile(r"^[^@\s;,:]+@[^@\s;,:]+\.[a-z]{2,}$", re.IGNORECASE)
FAMILY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no i, l, o, 0, 1: misread from a letter
FAMILY_ID_DISTINCT = 10  # different characters at least: not `aaaa2345bbbb2345cccc`
# A name part of the family's own people this long or longer may not be in its id; of anyone
# in the roster, NAME_PART_ANYONE. Shorter parts ("sem", "emma") turn up in random ids by
# chance: with these lengths 1 random 20-character id in ~200,000 holds one (demo roster,
# measured), with 3 and 5 it was 1 in ~11,000.
NAME_PART_OWN, NAME_PART_ANYONE = 4, 6
PARTICLES = frozenset({"de", "den", "der", "van", "het", "ten", "ter", "te", "la", "le", "du",
                       "da", "von", "op", "in", "el", "al", "bin", "ben", "dos", "del"})
FAMILY_ID_RULE = (f"16 tot 40 tekens uit {FAMILY_ALPHABET} (geen i, l, o, 0 of 1), letters en "
                  f"cijfers door elkaar, minstens {FAMILY_ID_DISTINCT} verschillende tekens, en "
                  "geen naam of deel van een naam uit het rooster")


class Consent(StrEnum):
    """Photo consent per child ("beeldgebruik" in "Mijn kinderen")."""

    NONE = "geen"  # in no image at all
    GROUP = "groep"  # group pages only
    SCHOOL = "school"  # group pages and school-wide pages

    @property
    def allowed_kinds(self) -> frozenset[str]:
        """Section kinds whose pages may show this child."""
        return {
            Consent.NONE: frozenset(),
            Consent.GROUP: frozenset({"group", "family", "archive"}),  # archive: a past group
            Consent.SCHOOL: frozenset({"group", "family", "archive", "school"}),
        }[self]


class Role(StrEnum):
    TEACHER = "leerkracht"
    MANAGEMENT = "directie"


@dataclass(frozen=True)
class Group:
    slug: str
    name: str
    school_year: str


@dataclass(frozen=True)
class Child:
    id: str
    first_name: str
    last_name: str
    group: str
    consent: Consent | None  # None: no recorded choice, the school's default applies
    households: tuple[str, ...] = ()  # declared family ids ("gezinnen"); () = not declared

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass(frozen=True)
class Parent:
    id: str
    name: str
    email: str
    family: str
    children: tuple[str, ...]


@dataclass(frozen=True)
class Staff:
    id: str
    name: str
    email: str
    role: Role
    groups: tuple[str, ...]


@dataclass(frozen=True)
class Family:
    id: str
    parents: tuple[str, ...]
    children: tuple[str, ...]


Person = Parent | Staff


@dataclass(frozen=True)
class Roster:
    groups: Mapping[str, Group]
    children: Mapping[str, Child]
    parents: Mapping[str, Parent]
    staff: Mapping[str, Staff]
    families: Mapping[str, Family] = field(default_factory=dict)

    def people(self) -> Iterator[Person]:
        yield from self.parents.values()
        yield from self.staff.values()

    def person(self, person_id: str) -> Person:
        return self.parents.get(person_id) or self.staff[person_id]

    def children_in(self, group: str) -> tuple[Child, ...]:
        return tuple(c for c in self.children.values() if c.group == group)

    def teachers_of(self, group: str) -> frozenset[str]:
        return frozenset(
            s.id for s in self.staff.values() if s.role is Role.TEACHER and group in s.groups
        )

    def management(self) -> frozenset[str]:
        return frozenset(s.id for s in self.staff.values() if s.role is Role.MANAGEMENT)

    def consent_of(self, child_id: str, default: Consent) -> Consent:
        return self.children[child_id].consent or default

    def households_of(self, child_id: str) -> tuple[str, ...]:
        """The family ids the child belongs to (two for separated parents)."""
        return tuple(f.id for f in self.families.values() if child_id in f.children)

    def parents_of(self, child_id: str) -> tuple[Parent, ...]:
        """Every parent linked to the child, in all of its households."""
        return tuple(p for p in self.parents.values() if child_id in p.children)


def write_roster(directory: Path | str, **rows: list) -> Path:
    """Write roster CSVs (keys of FILES: groups, children, parents, staff), header first.

    The inverse of load_roster for tools that generate a roster: the demo,
    benchmarks and property tests. Cells holding several values use ';'.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for key, table in rows.items():
        name, columns = FILES[key]
        width = max((len(row) for row in table), default=0)
        columns = (*columns, *OPTIONAL.get(key, ())[:max(0, width - len(columns))])
        with (directory / name).open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(columns)
            writer.writerows(table)
    return directory


def new_family_id(names: frozenset[str] = frozenset(),
                  choice: Callable[[str], str] = secrets.choice) -> str:
    """Random, stable once written to the roster, unguessable (~99 bits); drawn again in the
    rare case it breaks the family-id rule (or holds one of `names`, folded name parts).
    `choice`: a seeded random.choice for generated test and benchmark rosters."""
    while True:
        ident = "".join(choice(FAMILY_ALPHABET) for _ in range(20))
        if not family_id_problem(ident) and not any(n in ident for n in names):
            return ident


def family_id_problem(ident: str) -> str:
    """Why `ident` does not look random (Dutch), or "" when it does; names: `names_in_id`.

    The id is the family page's address, so it must not say whose page it is,
    and nobody should be able to guess one. The rule (README, roster): 16 to 40
    characters from FAMILY_ALPHABET, at least one letter and one digit, and at
    least FAMILY_ID_DISTINCT different characters. new_family_id's output
    passes it but for ~0.3 % of draws, which it draws again.
    """
    if not FAMILY_ID_RE.match(ident):
        return "geen 16 tot 40 kleine letters en cijfers"
    if odd := sorted(set(ident) - set(FAMILY_ALPHABET)):
        return f"bevat {', '.join(odd)} (i, l, o, 0 en 1 worden verkeerd overgetypt)"
    if ident.isalpha() or ident.isdigit():
        return "alleen letters of alleen cijfers: dat lijkt een woord of nummer, niet willekeurig"
    if len(set(ident)) < FAMILY_ID_DISTINCT:
        return (f"maar {len(set(ident))} verschillende tekens: dat is niet willekeurig (minstens "
                f"{FAMILY_ID_DISTINCT})")
    return ""


def name_parts(*names: str) -> set[str]:
    """Folded words of names (case and accents ignored), without particles: 'Zoë de Vries' ->
    {'zoe', 'vries'}."""
    out = set()
    for name in names:
        text = unicodedata.normalize("NFKD", name)
        text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
        out |= {w for w in re.split(r"[^a-z]+", text) if w and w not in PARTICLES}
    return out


def names_in_id(ident: str, own: set[str], anyone: set[str]) -> list[str]:
    """The name parts an id holds: the family's own of NAME_PART_OWN+ letters, anyone's of
    NAME_PART_ANYONE+."""
    return sorted({p for p in own if len(p) >= NAME_PART_OWN and p in ident}
                  | {p for p in anyone if len(p) >= NAME_PART_ANYONE and p in ident})


def _split(cell: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in cell.split(";") if v.strip())


def _read(path: Path, columns: tuple[str, ...], problems: list[Problem]) -> list[tuple[int, dict]]:
    """Rows with their spreadsheet line number (header is line 1)."""
    shown = display_path(path)
    if not path.exists():
        problems.append(
            Problem(shown, None, "bestand ontbreekt", f"maak {path.name} met kolommen: "
                    + ", ".join(columns))
        )
        return []
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        problems.append(
            Problem(shown, line, "geen UTF-8 tekst (bv. een é of ë uit een oud Excel-formaat)",
                    "sla het bestand op als 'CSV UTF-8 (door komma's gescheiden)'")
        )
        return []
    first = text.splitlines()[0] if text.splitlines() else ""
    if first.count(";") > first.count(","):
        problems.append(
            Problem(shown, 1, "kolommen gescheiden door ';' in plaats van ','",
                    "sla het bestand op als 'CSV UTF-8 (door komma's gescheiden)'")
        )
        return []
    reader = csv.reader(io.StringIO(text, newline=""), dialect=csv.excel)
    header = [h.strip().lower() for h in next(reader, [])]
    missing = [c for c in columns if c not in header]
    if missing:
        problems.append(
            Problem(shown, 1, "kolom ontbreekt: " + ", ".join(missing),
                    "de eerste regel moet zijn: " + ",".join(columns))
        )
        return []
    twice = sorted({h for h in header if h and header.count(h) > 1})
    if twice:  # csv would keep only the last one: a second 'beeldgebruik' could loosen consent
        problems.append(Problem(shown, 1, "kolom staat dubbel in de kopregel: " + ", ".join(twice),
                                "houd één kolom per naam over: " + ",".join(columns)))
        return []
    rows = []
    end = reader.line_num
    for cells in reader:
        line, end = end + 1, reader.line_num  # a quoted cell may span lines: report where it starts
        if not any(c.strip() for c in cells):
            continue  # an empty spreadsheet row
        if len(cells) != len(header):
            problems.append(_cell_count_problem(shown, line, len(cells), header))
            continue
        if unnamed := [i for i, h in enumerate(header) if not h and cells[i].strip()]:
            problems.append(_unnamed_column_problem(shown, line, cells, unnamed, header))
            continue
        rows.append((line, {k: v.strip() for k, v in zip(header, cells, strict=True)}))
    return rows


def _unnamed_column_problem(shown: str, line: int, cells: list[str], unnamed: list[int],
                            header: list[str]) -> Problem:
    """A value under a header cell that is empty: whose column is it? Never guess.

    Excel pads every row of a sheet to its widest row when it saves, the header
    included: the "one comma too many" slip then fits the header, and its `geen`
    lands in a column without a name while `beeldgebruik` stays empty (the
    school's default, often the widest consent).
    """
    where = ", ".join(f"'{cells[i].strip()}' in kolom {i + 1}" for i in unnamed)
    named = ",".join(h for h in header if h)
    return Problem(
        shown, line, f"waarde in een kolom zonder naam in de kopregel ({where}; een komma te "
        "veel? Excel vult dan iedere regel aan, ook de kopregel)",
        f"zet de waarde in de juiste kolom ({named}) en haal de lege kolom weg: in Excel de "
        "kolom verwijderen, of in een teksteditor de komma te veel op deze regel en de komma aan "
        "het eind van iedere regel")


def _cell_count_problem(shown: str, line: int, cells: int, header: list[str]) -> Problem:
    """A row that does not fit its header: never guess which cell is which.

    csv.DictReader would silently drop extra cells (`kind,Jayden,Koster,groep-3,,geen`
    loses the `geen`) or leave missing ones empty (the school's default consent).
    """
    if cells > len(header):
        what = f"{cells - len(header)} cel(len) te veel (een komma te veel?)"
    else:
        what = f"{len(header) - cells} cel(len) te weinig (een komma te weinig?)"
    return Problem(
        shown, line, f"deze regel heeft {cells} cellen, de kopregel {len(header)}: {what}",
        "zet iedere waarde in zijn eigen kolom, precies onder de kopregel ("
        + ",".join(header) + "); een waarde met een komma erin komt tussen aanhalingstekens",
    )


def load_roster(directory: Path | str) -> Roster:
    """Read and validate the roster; raise SchoolpleinError listing every problem."""
    directory = Path(directory)
    problems: list[Problem] = []
    raw = {key: _read(directory / name, cols, problems) for key, (name, cols) in FILES.items()}
    if problems:  # a file or row is unreadable: checking rows against it only adds noise
        raise SchoolpleinError(problems)
    where = {key: display_path(directory / name) for key, (name, _) in FILES.items()}

    def bad(key: str, line: int, message: str, fix: str) -> None:
        problems.append(Problem(where[key], line, message, fix))

    seen_ids: dict[str, tuple[str, int]] = {}

    def unique(key: str, line: int, ident: str, kind: str) -> bool:
        if not ident:
            bad(key, line, f"{kind} zonder id", "vul een uniek id in (kleine letters, cijfers, -)")
            return False
        if not ID_RE.match(ident):
            bad(key, line, f"ongeldig id '{ident}'",
                "gebruik alleen kleine letters, cijfers, '-' en '_'")
            return False
        if ident in seen_ids:
            other_file, other_line = seen_ids[ident]
            bad(key, line, f"id '{ident}' komt dubbel voor (ook in {other_file}:{other_line})",
                "geef iedere leerling, ouder en medewerker een eigen id")
            return False
        seen_ids[ident] = (where[key], line)
        return True

    groups: dict[str, Group] = {}
    for line, row in raw["groups"]:
        slug = row["slug"]
        if not SLUG_RE.match(slug):
            bad("groups", line, f"ongeldige slug '{slug}'",
                "gebruik kleine letters, cijfers en '-', bv. groep-5-6")
            continue
        if slug in groups:
            bad("groups", line, f"groep '{slug}' komt dubbel voor", "verwijder de dubbele regel")
            continue
        if not row["naam"]:
            bad("groups", line, f"groep '{slug}' heeft geen naam", "vul de kolom naam in")
        groups[slug] = Group(slug, row["naam"] or slug, row["schooljaar"])

    def known_group(key: str, line: int, slug: str) -> bool:
        if slug in groups:
            return True
        hint = ", ".join(sorted(groups)) or "(geen groepen)"
        bad(key, line, f"onbekende groep '{slug}'", f"kies een groep uit groepen.csv: {hint}")
        return False

    children: dict[str, Child] = {}
    for line, row in raw["children"]:
        ident = row["id"]
        misplaced = _misplaced_consent(row, groups)
        if misplaced:
            bad("children", line, f"waarde '{row[misplaced]}' staat in kolom {misplaced}: dat is "
                "een waarde voor beeldgebruik (verschoven of in de verkeerde kolom getypt?)",
                "zet geen, groep of school in de kolom beeldgebruik en vul in kolom "
                f"{misplaced} de juiste waarde in")
            continue
        if not unique("children", line, ident, "leerling"):
            continue
        if not row["voornaam"] or not row["achternaam"]:
            bad("children", line, f"leerling '{ident}' mist voor- of achternaam",
                "vul voornaam en achternaam in")
        consent_cell = row["beeldgebruik"].lower()
        consent = None
        if consent_cell:
            try:
                consent = Consent(consent_cell)
            except ValueError:
                bad("children", line, f"onbekende waarde beeldgebruik '{row['beeldgebruik']}'",
                    "gebruik geen, groep of school (of laat leeg voor de standaard)")
        households = _split(row.get("gezinnen", "").lower())
        for fam in households:
            if not FAMILY_ID_RE.match(fam):
                bad("children", line, f"ongeldig gezin-id '{fam}' in de kolom gezinnen",
                    "gebruik de gezin-id's uit ouders.csv, gescheiden door ';'")
        if len(households) > MAX_HOUSEHOLDS:
            bad("children", line, f"leerling '{ident}' staat bij {len(households)} gezinnen "
                "in de kolom gezinnen",
                f"een kind hoort bij hoogstens {MAX_HOUSEHOLDS} huishoudens; laat er twee staan")
        if known_group("children", line, row["groep"]):
            children[ident] = Child(ident, row["voornaam"], row["achternaam"], row["groep"],
                                    consent, households)

    def check_person(key: str, line: int, row: dict) -> bool:
        ok = True
        if len(row["naam"].split()) < 2:
            bad(key, line, f"'{row['naam'] or row['id']}' heeft geen volledige eigen naam",
                "vul voor- en achternaam in: iedereen gebruikt zijn eigen naam")
            ok = False
        if not EMAIL_RE.match(row["email"]):
            bad(key, line, f"ongeldig e-mailadres '{row['email']}'",
                "vul een geldig adres in, bv. naam@example.nl")
            ok = False
        return ok

    emails: dict[str, tuple[str, int]] = {}

    def unique_email(key: str, line: int, email: str) -> None:
        low = email.lower()
        if low in emails:
            f, n = emails[low]
            bad(key, line, f"e-mailadres '{email}' is al in gebruik ({f}:{n})",
                "ieder account heeft een eigen e-mailadres (dat is de inlognaam)")
        emails[low] = (where[key], line)

    parents: dict[str, Parent] = {}
    bad_ids: set[str] = set()
    for line, row in raw["parents"]:
        ident = row["id"]
        if not unique("parents", line, ident, "ouder"):
            continue
        ok = check_person("parents", line, row)
        unique_email("parents", line, row["email"])
        family = row["gezin"].lower()
        if len(_split(family)) > 1:
            bad("parents", line, f"ouder '{ident}' staat bij meer dan één gezin ({row['gezin']})",
                "een ouder hoort bij één huishouden: laat één gezin-id staan. Heeft een kind "
                "twee huishoudens, zet dan beide id's bij het kind in leerlingen.csv (kolom "
                "gezinnen)")
            ok = False
        elif why := family_id_problem(family):
            ok = False
            if family not in bad_ids:  # one message (one suggested id) per family
                bad_ids.add(family)
                bad("parents", line, f"ongeldig gezin-id '{row['gezin']}': {why}; het staat in "
                    "het webadres van de gezinspagina en mag niet te raden zijn",
                    f"gebruik een willekeurig id ({FAMILY_ID_RULE}), bv. {new_family_id()}; "
                    "verander het in ouders.csv bij alle ouders van dit gezin (en in "
                    "content/gezin/ en de kolom gezinnen van leerlingen.csv)")
        kids = _split(row["kinderen"])
        if not kids:
            bad("parents", line, f"ouder '{ident}' heeft geen kinderen",
                "vul in de kolom kinderen de id's van de kinderen in, gescheiden door ';'")
            ok = False
        for kid in kids:
            if kid not in children:
                bad("parents", line, f"onbekend kind '{kid}'",
                    "gebruik een id uit leerlingen.csv")
                ok = False
        if ok:
            parents[ident] = Parent(ident, row["naam"], row["email"].lower(), family, kids)

    staff: dict[str, Staff] = {}
    for line, row in raw["staff"]:
        ident = row["id"]
        if not unique("staff", line, ident, "medewerker"):
            continue
        ok = check_person("staff", line, row)
        unique_email("staff", line, row["email"])
        try:
            role = Role(row["rol"].lower())
        except ValueError:
            bad("staff", line, f"onbekende rol '{row['rol']}'", "gebruik leerkracht of directie")
            continue
        taught = _split(row["groepen"])
        for slug in taught:  # "school": may post school news (plugins.sections.SCHOOL_WRITER)
            ok = (slug == "school" or known_group("staff", line, slug)) and ok
        if role is Role.TEACHER and not taught:
            bad("staff", line, f"leerkracht '{ident}' heeft geen groep",
                "vul in de kolom groepen de groep(en) in, gescheiden door ';'")
            ok = False
        if ok:
            staff[ident] = Staff(ident, row["naam"], row["email"].lower(), role, taught)

    _names_in_family_ids(parents, children, staff, raw, where, problems)
    families = _families(parents, children, raw, where, problems)
    if problems:
        raise SchoolpleinError(problems)
    return Roster(groups, children, parents, staff, families)


def _misplaced_consent(row: dict[str, str], groups: Mapping[str, Group]) -> str | None:
    """The column of leerlingen.csv that holds a consent word instead of its own value.

    A consent word typed or shifted into another column leaves `beeldgebruik`
    empty or wrong, and an empty one means the school's (usually widest)
    default: a child without consent could be shown. The rule, per column:
    - id: a bare consent word is never a child's id;
    - groep: a consent word that is not one of the school's group slugs;
    - voornaam/achternaam: written in lower case as the consent column expects
      (pupil administrations export names capitalised), or in any case when
      `beeldgebruik` is empty. A real surname such as 'School' with a filled-in
      consent is left alone; with an empty one the admin fills in beeldgebruik,
      which is what the fix asks anyway.
    """
    words = {c.value for c in Consent}
    if row["id"].lower() in words:
        return "id"
    if row["groep"].lower() in words and row["groep"] not in groups:
        return "groep"
    for column in ("voornaam", "achternaam"):
        value = row[column]
        if value.lower() in words and (value in words or not row["beeldgebruik"]):
            return column
    return None


def _names_in_family_ids(parents: dict[str, Parent], children: dict[str, Child],
                         staff: dict[str, Staff], raw, where, problems: list[Problem]) -> None:
    """A family id that holds a name says whose page it is: refuse it (once per family)."""
    anyone = name_parts(*(c.full_name for c in children.values()),
                        *(p.name for p in parents.values()), *(s.name for s in staff.values()))
    line_of = {row["id"]: line for line, row in raw["parents"]}
    own: dict[str, set[str]] = defaultdict(set)
    for p in parents.values():
        own[p.family] |= name_parts(p.name, *(children[k].full_name for k in p.children
                                                 if k in children))
    reported: set[str] = set()
    for p in parents.values():
        if p.family in reported or not (found := names_in_id(p.family, own[p.family], anyone)):
            continue
        reported.add(p.family)
        avoid = frozenset(n for n in own[p.family] | anyone if len(n) >= NAME_PART_OWN)
        problems.append(Problem(
            where["parents"], line_of.get(p.id),
            f"gezin-id '{p.family}' bevat een naam uit het rooster ({', '.join(found)}); het staat "
            "in het webadres van de gezinspagina en mag niet zeggen van wie die is",
            f"gebruik een willekeurig id, bv. {new_family_id(avoid)}; verander het in ouders.csv "
            "bij alle ouders van dit gezin (en in content/gezin/ en de kolom gezinnen van "
            "leerlingen.csv)"))


def _families(parents: dict[str, Parent], children: dict[str, Child], raw, where,
              problems: list[Problem]) -> dict[str, Family]:
    """Families are guardians sharing children; the `gezin` column must agree.

    A child may belong to two households only when its `gezinnen` cell lists
    both; every declared household must hold a parent of that child.
    """
    members: dict[str, list[Parent]] = defaultdict(list)
    for p in parents.values():
        members[p.family].append(p)
    parent_line = {row["id"]: line for line, row in raw["parents"]}
    child_line = {row["id"]: line for line, row in raw["children"]}
    homes: dict[str, dict[str, Parent]] = defaultdict(dict)  # child -> family -> first parent
    for p in parents.values():
        for kid in p.children:
            homes[kid].setdefault(p.family, p)

    def bad(key: str, line: int | None, message: str, fix: str) -> None:
        problems.append(Problem(where[key], line, message, fix))

    for kid, child in children.items():
        found = homes.get(kid, {})
        declared = child.households
        if not declared:
            if len(found) > 1:
                # Name the row that came last: it is the one most likely mistyped.
                latest = max(found.values(), key=lambda p: parent_line.get(p.id, 0))
                names = " en ".join(sorted(found))
                if len(found) > MAX_HOUSEHOLDS:
                    bad("parents", parent_line.get(latest.id),
                        f"kind '{kid}' staat bij {len(found)} gezinnen ({names})",
                        f"een kind hoort bij hoogstens {MAX_HOUSEHOLDS} huishoudens: verbeter "
                        "het gezin-id van de ouders in ouders.csv")
                else:
                    bad("parents", parent_line.get(latest.id),
                        f"kind '{kid}' staat bij twee gezinnen ({names})",
                        "een typefout? Geef alle ouders van dit kind hetzelfde gezin-id. Heeft het "
                        "kind twee huishoudens (gescheiden ouders)? Zet dan in leerlingen.csv bij "
                        f"'{kid}' in de kolom gezinnen: {';'.join(sorted(found))}")
            continue
        for fam in declared:
            if fam not in found:
                bad("children", child_line.get(kid),
                    f"gezin '{fam}' staat bij leerling '{kid}' (kolom gezinnen), maar geen ouder "
                    f"van '{kid}' heeft dat gezin-id",
                    f"zet '{kid}' bij een ouder van dat gezin in ouders.csv (kolom kinderen), of "
                    "haal het id weg uit de kolom gezinnen")
        for fam, parent in sorted(found.items()):
            if fam not in declared:
                bad("parents", parent_line.get(parent.id),
                    f"ouder '{parent.id}' (gezin {fam}) heeft kind '{kid}', maar dat gezin staat "
                    f"niet in de kolom gezinnen van '{kid}' ({';'.join(declared)})",
                    f"klopt het gezin-id van '{parent.id}'? Zo ja: voeg {fam} toe aan de kolom "
                    f"gezinnen van '{kid}' in leerlingen.csv")
    return {
        fam: Family(
            fam,
            tuple(sorted(p.id for p in ps)),
            tuple(sorted({k for p in ps for k in p.children})),
        )
        for fam, ps in members.items()
    }
