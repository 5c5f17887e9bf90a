"""The yearly rollover: the next school year's roster, checked and shown before anything is written.

Input is the pupil administration's export for the new year: a folder with the
roster's files (groepen.csv, leerlingen.csv, ouders.csv and, optionally,
personeel.csv). The export need not know the platform's own columns:
- `beeldgebruik` may be missing; a child who stays keeps today's consent (the
  narrower one when the export says something else: parents may have withdrawn
  it on the family page since the export was made);
- `gezin` may be empty: a parent who stays keeps their family id (the family
  page keeps its address), a new parent joins the family of a parent who shares
  a child, otherwise new families get a random id (plugins.roster.new_family_id).
Without an export, `propose` writes one: every child one group up, groep 8
leaves; the admin edits it where the school decided otherwise.

The new roster is validated as a whole before anything changes: every problem
names the export's file, line and fix, and nothing is written. `apply` then
freezes the old year (plugins.archive), moves last year's group posts into the
archive, parks the pages of families who left outside the site, and writes the
new roster. Run again after an interruption, it finishes the job.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from plugins import archive
from plugins.errors import Problem, SchoolpleinError, display_path
from plugins.roster import FILES, Consent, Roster, _read, load_roster, new_family_id
from plugins.sections import build_section_map

# Columns an export must have; the others (FILES) are filled in from today's roster.
EXPORT_COLUMNS = {
    "groups": ("slug", "naam", "schooljaar"),
    "children": ("id", "voornaam", "achternaam", "groep"),
    "parents": ("id", "naam", "email", "kinderen"),
    "staff": ("id", "naam", "email", "rol", "groepen"),
}
PARKED = Path("vertrokken", "gezin")  # under the private folder: pages of families who left
ORDER = list(Consent)  # narrow to wide


@dataclass(frozen=True)
class Plan:
    """What the rollover will do; nothing is written until `apply`."""

    old_year: str
    new_year: str
    old: Roster
    new: Roster
    tables: dict[str, list[list[str]]]  # the new roster's rows per FILES key, header first
    readers: dict[str, frozenset[str]]  # last year's group readers, frozen in lezers.csv
    notes: tuple[str, ...] = field(default=())  # consent kept narrower, ids generated

    @property
    def left_families(self) -> list[str]:
        return sorted(set(self.old.families) - set(self.new.families))

    def lines(self, kept_until) -> list[str]:
        """The review, in Dutch: ids only, in the order the admin checks them."""
        old, new = self.old, self.new
        out = [f"Schooljaar {self.old_year} -> {self.new_year}"]
        added = sorted(set(new.groups) - set(old.groups))
        gone = sorted(set(old.groups) - set(new.groups))
        out.append(f"Groepen {self.new_year}: " + ", ".join(sorted(new.groups))
                   + (f" (nieuw: {', '.join(added)})" if added else "")
                   + (f" (vervallen: {', '.join(gone)})" if gone else ""))
        moves: dict[tuple[str, str], list[str]] = defaultdict(list)
        for cid, child in sorted(new.children.items()):
            before = old.children.get(cid)
            moves[(before.group if before else "", child.group)].append(cid)
        leavers = sorted(set(old.children) - set(new.children))
        stayed = sum(len(v) for (a, b), v in moves.items() if a and a == b)
        moved = sum(len(v) for (a, b), v in moves.items() if a and a != b)
        newcomers = sum(len(v) for (a, _), v in moves.items() if not a)
        out.append(f"Leerlingen: {moved} naar een andere groep, {stayed} in dezelfde groep, "
                   f"{len(leavers)} vertrekken, {newcomers} nieuw")
        for (before, after), ids in sorted(moves.items()):
            label = f"{before} -> {after}" if before else f"nieuw in {after}"
            out.append(f"  {label}: {', '.join(ids)}")
        if leavers:
            out.append(f"  vertrekken: {', '.join(leavers)}")
        new_parents = sorted(set(new.parents) - set(old.parents))
        left_parents = sorted(set(old.parents) - set(new.parents))
        new_families = sorted(set(new.families) - set(old.families))
        out.append(f"Ouders: {len(new_parents)} nieuw ({len(new_families)} nieuwe gezinnen, "
                   f"krijgen een account met 'invoke accounts'), {len(left_parents)} vertrekken "
                   f"({len(self.left_families)} gezinnen)")
        if new_parents:
            out.append(f"  nieuw: {', '.join(new_parents)}")
        if left_parents:
            out.append(f"  vertrekken: {', '.join(left_parents)}: meteen geen school-, groeps- "
                       f"of gezinspagina meer; alleen nog het archief {self.old_year}, tot en met "
                       f"{kept_until}")
        for sid, member in sorted(new.staff.items()):
            before = old.staff.get(sid)
            if before is None:
                out.append(f"Personeel nieuw: {sid} ({', '.join(member.groups) or member.role})")
            elif before.groups != member.groups or before.role != member.role:
                out.append(f"Personeel: {sid} {';'.join(before.groups) or before.role} -> "
                           f"{';'.join(member.groups) or member.role}")
        for sid in sorted(set(old.staff) - set(new.staff)):
            out.append(f"Personeel vertrekt: {sid}")
        out.append(f"Archief: /archief/{self.old_year}/<groep>/ voor {len(old.groups)} groepen, "
                   f"te lezen door precies de lezers van nu ({sum(map(len, self.readers.values()))}"
                   f" in totaal); bewaard tot en met {kept_until}")
        out.extend(f"Let op: {n}" for n in self.notes)
        return out


# --- reading the export -------------------------------------------------------------------------

def _cells(rows: list[tuple[int, dict]], columns: tuple[str, ...]) -> list[tuple[int, list[str]]]:
    return [(line, [row.get(c, "") for c in columns]) for line, row in rows]


def read_export(export: Path) -> dict[str, list[tuple[int, dict]]]:
    """The export's rows with their line numbers; unreadable files stop here."""
    export = Path(export)
    problems: list[Problem] = []
    if not export.is_dir():
        raise SchoolpleinError(Problem(str(export), None, "map met de export bestaat niet",
                                       "geef de map met groepen.csv, leerlingen.csv en ouders.csv"))
    found = {}
    for key, columns in EXPORT_COLUMNS.items():
        name = FILES[key][0]
        if key == "staff" and not (export / name).exists():
            continue  # no personeel.csv: everyone keeps their groups
        found[key] = _read(export / name, columns, problems)
    if problems:
        raise SchoolpleinError(problems)
    return found


def plan_rollover(roster_dir: Path, export: Path) -> Plan:
    """Check the export against today's roster and compute the new one; raise on any problem."""
    roster_dir, export = Path(roster_dir), Path(export)
    old = load_roster(roster_dir)
    old_year = current_year(old, roster_dir)
    new_year = archive.next_year(old_year)
    if archive.folder(roster_dir, old_year).exists() and not _resumable(roster_dir, old_year):
        raise SchoolpleinError(Problem(display_path(archive.folder(roster_dir, old_year)), None,
                                       f"het archief van {old_year} bestaat al",
                                       "het schooljaar is al omgezet; kijk in roster/groepen.csv"))
    rows = read_export(export)
    problems: list[Problem] = []
    where = {key: display_path(export / FILES[key][0]) for key in FILES}

    def bad(key, line, message, fix):
        problems.append(Problem(where[key], line, message, fix))

    for line, row in rows["groups"]:
        if row["schooljaar"] != new_year:
            bad("groups", line, f"schooljaar '{row['schooljaar']}', verwacht {new_year}",
                f"de export is voor het nieuwe schooljaar: zet {new_year} in de kolom schooljaar "
                f"(het rooster is nu van {old_year})")
    seen: dict[str, tuple[int, str]] = {}
    for line, row in rows["children"]:
        first = seen.setdefault(row["id"], (line, row["groep"]))
        if first[0] != line and first[1] != row["groep"]:
            bad("children", line, f"leerling '{row['id']}' staat in twee groepen ({first[1]} op "
                f"regel {first[0]} en {row['groep']} hier)",
                "een kind zit in één groep: verwijder de verkeerde regel")
    if problems:
        raise SchoolpleinError(problems)
    tables, notes = _merge(old, rows)
    new = _validate(tables, rows, export)
    readers = {s.key: s.readers for s in build_section_map(old, "").protected
               if s.kind == "group"}
    return Plan(old_year, new_year, old, new, tables, readers, tuple(notes))


def current_year(roster: Roster, roster_dir: Path) -> str:
    years = sorted({g.school_year for g in roster.groups.values()})
    if len(years) != 1 or not archive.valid_year(years[0]):
        raise SchoolpleinError(Problem(display_path(Path(roster_dir) / FILES["groups"][0]), None,
                                       f"geen eenduidig schooljaar ({', '.join(years) or 'leeg'})",
                                       "zet in de kolom schooljaar bij iedere groep hetzelfde "
                                       "jaar, bv. 2026-2027"))
    return years[0]


def _narrowest(*values: Consent | None) -> Consent | None:
    known = [v for v in values if v is not None]
    return min(known, key=ORDER.index) if known else None


def _merge(old: Roster, rows) -> tuple[dict[str, list[list[str]]], list[str]]:
    """The new roster's cells: the export's rows, completed from today's roster."""
    notes: list[str] = []
    children = []
    for _line, row in rows["children"]:
        before = old.children.get(row["id"])
        consent = row.get("beeldgebruik", "").strip()
        try:
            given = Consent(consent.lower()) if consent else None
        except ValueError:
            pass  # kept as written: load_roster names the bad value with its line
        else:
            chosen = _narrowest(before.consent, given) if before else given
            if before and given and chosen != given:
                notes.append(f"beeldgebruik van {row['id']}: de export zegt '{given}', het "
                             f"rooster '{before.consent}'; het voorzichtigste blijft")
            consent = chosen.value if chosen else ""
        homes = row.get("gezinnen", "") or (";".join(before.households) if before else "")
        children.append([row["id"], row["voornaam"], row["achternaam"], row["groep"], consent,
                         homes])
    parents = []
    families = _family_ids(old, rows["parents"], notes)
    for (_line, row), family in zip(rows["parents"], families, strict=True):
        parents.append([row["id"], row["naam"], row["email"], family, row["kinderen"]])
    if "staff" in rows:
        staff = [[row[c] for c in FILES["staff"][1]] for _line, row in rows["staff"]]
    else:
        staff = [[s.id, s.name, s.email, s.role.value, ";".join(s.groups)]
                 for s in old.staff.values()]
    groups = [[row[c] for c in FILES["groups"][1]] for _line, row in rows["groups"]]
    with_homes = any(c[5] for c in children)
    return {"groups": groups, "children": [c if with_homes else c[:5] for c in children],
            "parents": parents, "staff": staff}, notes


def _family_ids(old: Roster, parent_rows, notes: list[str]) -> list[str]:
    """Each parent's family id: kept, given, shared with a co-parent, or new and random."""
    chosen: list[str] = []
    for _line, row in parent_rows:
        before = old.parents.get(row["id"])
        given = row.get("gezin", "").strip().lower()
        if before is not None:
            if given and given != before.family:
                notes.append(f"ouder {row['id']}: gezin-id uit de export genegeerd; de "
                             "gezinspagina houdt haar adres")
            chosen.append(before.family)
        else:
            chosen.append(given)
    # New parents without an id share one with the parents of their children, or get a new one.
    by_child: dict[str, set[int]] = defaultdict(set)
    for n, (_line, row) in enumerate(parent_rows):
        for kid in filter(None, (k.strip() for k in row["kinderen"].split(";"))):
            by_child[kid].add(n)
    group = list(range(len(parent_rows)))

    def find(n: int) -> int:
        while group[n] != n:
            group[n] = group[group[n]]
            n = group[n]
        return n

    for members in by_child.values():
        first, *rest = sorted(members)
        for other in rest:
            group[find(other)] = find(first)
    known: dict[int, set[str]] = defaultdict(set)
    for n, family in enumerate(chosen):
        if family:
            known[find(n)].add(family)
    fresh: dict[int, str] = {}
    for n, family in enumerate(chosen):
        if not family:
            ids = known[find(n)]
            if len(ids) == 1:
                chosen[n] = next(iter(ids))
            elif not ids:
                chosen[n] = fresh.setdefault(find(n), new_family_id())
            # two households already: load_roster asks which one, with the line
    return chosen


def _validate(tables: dict[str, list[list[str]]], rows, export: Path) -> Roster:
    """load_roster on the new rows, with every problem pointing at the export's own line."""
    with tempfile.TemporaryDirectory(prefix="schooljaar-") as tmp:
        stage = Path(tmp)
        lines: dict[str, dict[int, int]] = {}
        for key, table in tables.items():
            name, columns = FILES[key]
            header = list(columns) + (["gezinnen"] if table and len(table[0]) > len(columns)
                                      else [])
            _write_csv(stage / name, [header, *table])
            source = rows.get(key)
            lines[display_path(stage / name)] = (
                {n: line for n, (line, _row) in enumerate(source, start=2)} if source else {})
        try:
            return load_roster(stage)
        except SchoolpleinError as exc:
            fixed = []
            for p in exc.problems:
                mapping = lines.get(p.file)
                if mapping is None:
                    fixed.append(p)
                    continue
                name = Path(p.file).name
                target = export / name if name != FILES["staff"][0] or "staff" in rows else None
                shown = display_path(target) if target else f"{name} (het huidige rooster)"
                line = mapping.get(p.line, p.line) if mapping else p.line
                message = p.message.replace(str(stage), display_path(export))
                fixed.append(Problem(shown, line, message, p.fix))
            raise SchoolpleinError(fixed) from None


def _write_csv(path: Path, table: list[list[str]]) -> None:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(table)
    path.write_text(buffer.getvalue(), encoding="utf-8")


# --- the proposal -------------------------------------------------------------------------------

def _numbers(slug: str) -> list[int]:
    return [int(n) for n in re.findall(r"\d+", slug)]


def propose(roster_dir: Path, out: Path) -> list[str]:
    """Write a move-up export to `out`: every child one group further, groep 8 leaves.

    Children of a combination group (groep 5/6) stay in it if their next year is
    taught there; they are listed for the admin, who knows which year each child is in.
    """
    old = load_roster(roster_dir)
    year = archive.next_year(current_year(old, roster_dir))
    by_number = {n: slug for slug in sorted(old.groups) for n in _numbers(slug)}
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    children, review = [], []
    for child in old.children.values():
        numbers = _numbers(child.group)
        target = by_number.get(min(numbers) + 1) if numbers else child.group
        if len(numbers) > 1:
            review.append(child.id)
        if target:
            children.append([child.id, child.first_name, child.last_name, target,
                             child.consent.value if child.consent else ""])
    staying = {c[0] for c in children}
    parents = []
    for p in old.parents.values():
        kids = [k for k in p.children if k in staying]
        if kids:
            parents.append([p.id, p.name, p.email, p.family, ";".join(kids)])
    _write_csv(out / FILES["groups"][0], [list(FILES["groups"][1]),
                                          *([g.slug, g.name, year] for g in old.groups.values())])
    _write_csv(out / FILES["children"][0], [list(FILES["children"][1]), *children])
    _write_csv(out / FILES["parents"][0], [list(FILES["parents"][1]), *parents])
    _write_csv(out / FILES["staff"][0], [list(FILES["staff"][1]), *(
        [s.id, s.name, s.email, s.role.value, ";".join(s.groups)] for s in old.staff.values())])
    notes = [f"voorstel geschreven in {display_path(out)}: iedereen één groep verder, groep 8 "
             "vertrekt; pas het aan waar de school iets anders besloot"]
    if review:
        notes.append("combinatiegroep: controleer wie er doorschuift: " + ", ".join(sorted(review)))
    return notes


# --- writing ------------------------------------------------------------------------------------

def _resumable(roster_dir: Path, year: str) -> bool:
    """An archive folder an interrupted `apply` left: it holds exactly today's roster."""
    frozen = archive.folder(roster_dir, year)
    return all((frozen / name).is_file()
                and (frozen / name).read_bytes() == (Path(roster_dir) / name).read_bytes()
                for name, _ in FILES.values())


def apply(plan: Plan, roster_dir: Path, content_dir: Path, private_dir: Path) -> list[str]:
    """Freeze last year, move its posts into the archive, park the pages of families who left,
    then write the new roster. Returns what it did (Dutch)."""
    roster_dir, content_dir = Path(roster_dir), Path(content_dir)
    done = []
    frozen = archive.folder(roster_dir, plan.old_year)
    if not frozen.exists():
        stage = Path(tempfile.mkdtemp(prefix=f".{plan.old_year}-", dir=_mkdir(frozen.parent)))
        for name, _ in FILES.values():
            if (roster_dir / name).exists():
                shutil.copy2(roster_dir / name, stage / name)
        (stage / archive.READERS_FILE).write_text(archive.readers_csv(plan.old, plan.readers),
                                                 encoding="utf-8")
        os.rename(stage, frozen)
    done.append(f"rooster {plan.old_year} bevroren in {display_path(frozen)}")
    moved = 0
    for slug in sorted(plan.old.groups):
        source = content_dir / "groep" / slug
        target = content_dir / archive.FOLDER / plan.old_year / slug
        if source.is_dir() and not target.exists():
            _mkdir(target.parent)
            os.rename(source, target)
            moved += 1
    done.append(f"berichten van {moved} groepen verplaatst naar "
                f"{display_path(content_dir / archive.FOLDER / plan.old_year)}/")
    parked = 0
    for family in plan.left_families:
        source = content_dir / "gezin" / family
        if source.is_dir():
            target = Path(private_dir) / PARKED / family
            _mkdir(target.parent)
            shutil.move(str(source), str(target))
            parked += 1
    if parked:
        done.append(f"gezinspagina's van {parked} vertrokken gezinnen bewaard buiten de site "
                    f"({display_path(Path(private_dir) / PARKED)}/; 'invoke vergeet' wist ze)")
    for key, table in plan.tables.items():
        name, columns = FILES[key]
        header = list(columns) + (["gezinnen"] if table and len(table[0]) > len(columns) else [])
        tmp = roster_dir / f".{name}.tmp"
        _write_csv(tmp, [header, *table])
        os.replace(tmp, roster_dir / name)
    done.append(f"nieuw rooster {plan.new_year} geschreven in {display_path(roster_dir)}/")
    return done


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
