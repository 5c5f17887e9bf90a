"""Roster validation: every error class names file, row and fix, all at once."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from plugins.errors import SchoolpleinError
from plugins.roster import Consent, family_id_problem, load_roster, name_parts, names_in_id, new_family_id

ROOT = Path(__file__).resolve().parents[2]


def append(path: Path, line: str) -> int:
    """Append a CSV row; return its spreadsheet line number."""
    text = path.read_text(encoding="utf-8")
    path.write_text(text + line + "\n", encoding="utf-8")
    return len(text.splitlines()) + 1


def problems_of(roster_dir) -> list:
    with pytest.raises(SchoolpleinError) as info:
        load_roster(roster_dir)
    return info.value.problems


def test_demo_roster_is_valid_and_has_the_cases_the_demo_needs(roster):
    assert len(roster.groups) >= 6 and "groep-5-6" in roster.groups
    assert 35 <= len(roster.families) <= 50
    two_groups = [f for f in roster.families.values()
                  if len({roster.children[c].group for c in f.children}) > 1]
    assert two_groups
    sems = [c for c in roster.children_in("groep-3") if c.first_name == "Sem"]
    assert len(sems) == 2
    names = {c.first_name for c in roster.children.values()}
    assert {"Zoë", "Ömer", "Eliška"} <= names
    assert any(c.consent is Consent.NONE for c in roster.children.values())


CASES = [
    ("leerlingen.csv", "zoe-devries,Kopie,Dubbel,groep-3,", "komt dubbel voor", "eigen id"),
    ("leerlingen.csv", "nieuw-kind,Nieuw,Kind,groep-9,", "onbekende groep 'groep-9'",
     "groep-1-2"),
    ("ouders.csv", "ouder-900,Piet Onbekend,piet@example.nl,6b45wf7k2z4fhtbxgubr,geen-kind",
     "onbekend kind 'geen-kind'", "leerlingen.csv"),
    ("personeel.csv", "lk-99,Juf Nieuw Lid,nieuw@example.nl,leerkracht,groep-10",
     "onbekende groep 'groep-10'", "groepen.csv"),
    ("ouders.csv", "ouder-901,Piet,piet2@example.nl,6b45wf7k2z4fhtbxgubr,zoe-devries",
     "geen volledige eigen naam", "eigen naam"),
    ("ouders.csv", "ouder-902,Piet de Vries,piet.example.nl,6b45wf7k2z4fhtbxgubr,zoe-devries",
     "ongeldig e-mailadres", "geldig adres"),
    ("leerlingen.csv", "kind-x,Kind,Iks,groep-3,misschien", "beeldgebruik", "geen, groep of school"),
    ("ouders.csv", "ouder-903,Piet de Vries,piet3@example.nl,jan,zoe-devries",
     "ongeldig gezin-id", "willekeurig id"),
]


@pytest.mark.parametrize(("file", "row", "message", "fix"), CASES)
def test_each_roster_error_names_file_row_and_fix(roster_dir, file, row, message, fix):
    line = append(roster_dir / file, row)
    problems = problems_of(roster_dir)
    match = [p for p in problems if message in p.message]
    assert match, [str(p) for p in problems]
    assert match[0].file.endswith(file) and match[0].line == line
    assert fix in match[0].fix
    assert f"{file}:{line}" in str(match[0])


def test_all_errors_are_reported_at_once(roster_dir):
    for file, row, *_ in CASES[:4]:
        append(roster_dir / file, row)
    problems = problems_of(roster_dir)
    assert len(problems) >= 4
    assert {Path(p.file).name for p in problems} >= {"leerlingen.csv", "ouders.csv",
                                                     "personeel.csv"}


def test_missing_column_and_semicolon_csv_are_explained(roster_dir):
    (roster_dir / "groepen.csv").write_text("slug;naam;schooljaar\ngroep-3;Groep 3;2026\n")
    text = "\n".join(str(p) for p in problems_of(roster_dir))
    assert "groepen.csv:1" in text and "komma" in text
    (roster_dir / "groepen.csv").write_text("slug,schooljaar\ngroep-3,2026\n")
    assert "kolom ontbreekt: naam" in "\n".join(str(p) for p in problems_of(roster_dir))


def test_a_child_in_two_families_is_an_error(roster_dir):
    append(roster_dir / "ouders.csv",
           "ouder-904,Kees de Vries,kees@example.nl,t99rmcz38db9yz5e6yvd,zoe-devries")
    assert any("twee gezinnen" in p.message for p in problems_of(roster_dir))


def test_an_unreadable_file_is_reported_alone_with_its_line(roster_dir):
    kids = roster_dir / "leerlingen.csv"
    lines = kids.read_text(encoding="utf-8").splitlines()
    kids.write_bytes("\n".join(lines).encode("cp1252", errors="replace"))
    problems = problems_of(roster_dir)
    assert len(problems) == 1
    first_non_ascii = next(i for i, ln in enumerate(lines, start=1) if not ln.isascii())
    assert problems[0].line == first_non_ascii and "UTF-8" in problems[0].fix


# --- family ids: random, never a name (the id is the family page's address) -------------------

def set_family(roster_dir, parent_ids, family):
    """Give these parents (ouders.csv) another family id; return the first one's line."""
    path = roster_dir / "ouders.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    first = None
    for n, line in enumerate(lines):
        cells = line.split(",")
        if cells[0] in parent_ids:
            cells[3] = family
            lines[n] = ",".join(cells)
            first = first or n + 1
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return first


@pytest.mark.parametrize(("family", "why"), [
    ("jan", "geen 16 tot 40"),
    ("devriesfamilie2024", "bevat 0, i, l"),
    ("abcdefghjkmnpqrstuvw", "alleen letters"),
    ("2345678923456789", "alleen letters of alleen cijfers"),
    ("aaaa2345bbbb2345cccc", "maar 7 verschillende tekens"),
])
def test_a_family_id_that_is_not_random_stops_the_build_with_a_random_one(roster_dir, family, why):
    line = set_family(roster_dir, {"ouder-040", "ouder-041"}, family)
    [problem] = problems_of(roster_dir)
    assert problem.file.endswith("ouders.csv") and problem.line == line
    assert f"ongeldig gezin-id '{family}'" in problem.message and why in problem.message
    suggested = re.search(r"bv\. ([a-z0-9]+);", problem.fix).group(1)
    assert family_id_problem(suggested) == "" and "ouders.csv" in problem.fix


@pytest.mark.parametrize(("family", "parts"), [
    ("dekker7x2q9wm4h3ztc5", "dekker"),  # the family's own surname
    ("7x2qhanna9wm4h3ztc5b", "hanna"),  # its child's first name
    ("7x2q9wmf4h3ztcjansen", "jansen"),  # the surname of another family: still a name
])
def test_a_family_id_holding_a_name_from_the_roster_is_refused(roster_dir, family, parts):
    line = set_family(roster_dir, {"ouder-040", "ouder-041"}, family)
    [problem] = problems_of(roster_dir)
    assert problem.line == line and f"bevat een naam uit het rooster ({parts})" in problem.message
    suggested = re.search(r"bv\. ([a-z0-9]+);", problem.fix).group(1)
    assert family_id_problem(suggested) == "" and parts not in suggested


def test_names_in_family_ids_are_found_whatever_their_case_and_accents(roster_dir):
    append(roster_dir / "leerlingen.csv", "renee-kaptyn,Renée,Kaptijn,groep-3,")
    append(roster_dir / "ouders.csv", "ouder-950,Hanna Kaptijn,hk@example.nl,"
                                      "q7renee2k9wm4h3zt5cx,renee-kaptyn")
    [problem] = problems_of(roster_dir)
    assert "(renee)" in problem.message
    assert name_parts("Zoë de Vries", "ÖMER van der Berg") == {"zoe", "vries", "omer", "berg"}


def test_the_rule_lets_random_ids_through():
    """new_family_id's ids pass (it draws again the rare time one does not); short name parts
    turn up in random ids by chance, so they count only from four letters (own) or six (anyone)."""
    assert all(family_id_problem(new_family_id()) == "" for _ in range(500))
    assert names_in_id("k7m2p9x4q3w8e6r5t2y9", {"teun", "emma"}, {"jansen"}) == []
    assert names_in_id("k7m2p9emmaq3w8e6r5t2", {"emma"}, set()) == ["emma"]
    assert names_in_id("k7m2p9emmaq3w8e6r5t2", set(), {"emma"}) == []  # another's short name
    assert names_in_id("k7m2sem9q3w8e6r5t2y4", {"sem"}, {"sem"}) == []
