"""Photo consent across households: the rule, the roster update and the audit trail.

The rule is fail-closed (most restrictive wins; README, "Beeldgebruik bij twee gezinnen"):
- a narrower choice by any parent linked to the child applies at once;
- a wider one applies only when every linked parent's latest recorded choice
  allows it (the new consent is the narrowest of those choices), or when the
  admin records the school's decision (`process.record_admin_decision`).
The effective consent is the child's `beeldgebruik` cell in roster/leerlingen.csv
(empty = the school's default); every choice and decision is one line in the
private audit trail, which is also where each parent's latest choice is read.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from plugins.errors import Problem, SchoolpleinError
from plugins.roster import FILES, Consent

from . import csvedit

ORDER = (Consent.NONE, Consent.GROUP, Consent.SCHOOL)  # narrow to wide
AUDIT_FIELDS = ("tijd", "inzending", "kind", "door", "gezin", "keuze", "oud", "nieuw", "van_kracht")
SCHOOL = "school:"  # prefix of `door` for the admin's decisions
DESCRIBE = {
    Consent.NONE: "op geen enkele foto",
    Consent.GROUP: "alleen op foto's op de groepspagina en de eigen gezinspagina",
    Consent.SCHOOL: "op foto's op de groepspagina's en de schoolpagina's",
}


def rank(consent: Consent) -> int:
    return ORDER.index(consent)


@dataclass(frozen=True)
class Outcome:
    choice: Consent  # what was asked for
    old: Consent  # effective before
    new: Consent  # effective after

    @property
    def narrowed(self) -> bool:
        return rank(self.new) < rank(self.old)

    @property
    def widened(self) -> bool:
        return rank(self.new) > rank(self.old)

    @property
    def pending(self) -> bool:
        """The choice is wider than what now applies: it waits for the other parents."""
        return rank(self.choice) > rank(self.new)


def decide(current: Consent, choice: Consent, chooser: str, recorded: Mapping[str, Consent],
           linked: Iterable[str]) -> Outcome:
    """A linked parent's choice against the current consent and the others' latest choices."""
    if rank(choice) <= rank(current):
        return Outcome(choice, current, choice)
    choices = dict(recorded, **{chooser: choice})
    linked = set(linked) | {chooser}
    if all(p in choices for p in linked):
        agreed = min((choices[p] for p in linked), key=rank)
        if rank(agreed) > rank(current):
            return Outcome(choice, current, agreed)
    return Outcome(choice, current, current)


def audit_path(private: Path) -> Path:
    return Path(private) / "postvak" / "beeldgebruik-audit.csv"


def _audit_rows(lines: Iterable[str]) -> list[dict[str, str]]:
    # A line torn by a power cut has missing cells: it never counts.
    return [r for r in csv.DictReader(lines) if None not in r.values()]


def read_audit(private: Path) -> list[dict[str, str]]:
    path = audit_path(private)
    if not path.exists():
        return []
    with path.open(encoding="utf-8", newline="") as fh:
        return _audit_rows(fh)


def recorded_choices(private: Path, child: str, current: Consent) -> dict[str, Consent]:
    """Each parent's latest choice for the child since the consent last became narrower.

    The README's rule (Beeldgebruik bij twee gezinnen, points 3 and 4): a choice
    made before a narrowing (a parent's withdrawal), before a school decision or
    before the admin changed the roster cell by hand no longer counts toward a
    wider consent: after that, every parent must choose again (fail closed). A
    hand edit shows as a line whose old value is not what the line before it set,
    or as a `current` that differs from what the trail last set.
    """
    latest: dict[str, Consent] = {}
    last_set: Consent | None = None
    for row in read_audit(private):
        if row["kind"] != child:
            continue
        try:
            chosen, old, new = Consent(row["keuze"]), Consent(row["oud"]), Consent(row["nieuw"])
        except ValueError:
            continue
        school = row["door"].startswith(SCHOOL)
        edited = last_set is not None and old != last_set  # the cell changed outside the trail
        if school or edited or rank(new) < rank(old):
            latest = {}
        if not school:
            latest[row["door"]] = chosen
        last_set = new
    if last_set is not None and last_set != current:
        return {}
    return latest


def append_audit(private: Path, row: Mapping[str, str]) -> None:
    """Append one audit line unless the line for that submission is already there."""
    path = audit_path(private)
    data = path.read_bytes() if path.exists() else b""
    rows = _audit_rows(io.StringIO(data.decode("utf-8"), newline=""))
    if any(r["inzending"] == row["inzending"] for r in rows):
        return
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    csvedit.append_row(path, data, AUDIT_FIELDS, row)


def write_consent(roster_dir: Path, child: str, consent: Consent) -> bool:
    """Set the child's `beeldgebruik` cell; the rest of leerlingen.csv stays byte for byte."""
    name = FILES["children"][0]
    path = Path(roster_dir) / name
    try:
        return csvedit.set_cell(path, "id", child, "beeldgebruik", consent.value)
    except (csvedit.CsvEditError, UnicodeDecodeError) as exc:
        raise SchoolpleinError(Problem(
            str(path), None, f"beeldgebruik van '{child}' niet bijgewerkt: {exc}",
            f"zet in {name} bij '{child}' in de kolom beeldgebruik: {consent.value}, of sla het "
            "bestand opnieuw op als 'CSV UTF-8 (door komma's gescheiden)'")) from exc
