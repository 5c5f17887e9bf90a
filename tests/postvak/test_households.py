"""Two households: the roster declares them, validates them, and sections keep them apart."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plugins.errors import SchoolpleinError
from plugins.roster import load_roster, write_roster
from plugins.sections import build_section_map
from tests.helpers import family_id

from .conftest import CHILDREN, FAM_A, FAM_B, GROUPS, PARENTS, STAFF, write_school


def problems(folder: Path, children=CHILDREN, parents=PARENTS) -> list:
    write_roster(folder, groups=GROUPS, children=children, parents=parents, staff=STAFF)
    with pytest.raises(SchoolpleinError) as info:
        load_roster(folder)
    return info.value.problems


def test_a_declared_child_belongs_to_both_households_and_each_keeps_its_own_page(tmp_path):
    roster = load_roster(write_school(tmp_path))
    assert roster.children["lotte-jansen"].households == (FAM_A, FAM_B)
    assert set(roster.households_of("lotte-jansen")) == {FAM_A, FAM_B}
    assert {p.id for p in roster.parents_of("lotte-jansen")} == {"ouder-a1", "ouder-b1"}
    assert roster.families[FAM_A].children == ("daan-jansen", "lotte-jansen")
    assert roster.families[FAM_B].children == ("lotte-jansen", "mees-deboer")
    sections = build_section_map(roster, "School")
    a, b = sections.get("family", FAM_A), sections.get("family", FAM_B)
    # each household's parents, the shared child's teachers (groep 5/6), the directie
    assert a.readers == {"ouder-a1", "lk-3", "lk-56", "lk-56b", "mt-01"}
    assert b.readers == {"ouder-b1", "ouder-b2", "lk-3", "lk-56", "lk-56b", "mt-01"}
    assert "lotte-jansen" in a.children and "lotte-jansen" in b.children


def test_rosters_without_the_column_still_load(roster):
    assert all(c.households == () for c in roster.children.values())


def test_write_roster_adds_the_optional_column_only_when_used(tmp_path):
    write_roster(tmp_path / "old", children=[row[:5] for row in CHILDREN])
    write_roster(tmp_path / "new", children=CHILDREN)
    assert (tmp_path / "old/leerlingen.csv").read_text().splitlines()[0] == \
        "id,voornaam,achternaam,groep,beeldgebruik"
    assert (tmp_path / "new/leerlingen.csv").read_text().splitlines()[0] == \
        "id,voornaam,achternaam,groep,beeldgebruik,gezinnen"


def line_of(rows, ident) -> int:
    return 2 + [r[0] for r in rows].index(ident)


def test_two_gezin_ids_without_the_declaration_explain_both_fixes(tmp_path):
    children = [(*c[:5], "") for c in CHILDREN]
    found = problems(tmp_path, children=children)
    assert len(found) == 1
    p = found[0]
    assert p.file.endswith("ouders.csv") and p.line == line_of(PARENTS, "ouder-b1")
    assert "twee gezinnen" in p.message and FAM_A in p.message and FAM_B in p.message
    assert "typefout" in p.fix and "hetzelfde gezin-id" in p.fix
    assert f"kolom gezinnen: {FAM_A};{FAM_B}" in p.fix


def test_more_than_two_households_is_an_error(tmp_path):
    third = "twq7heejsexvwczqtbhh"
    children = [c if c[0] != "lotte-jansen" else (*c[:5], f"{FAM_A};{FAM_B};{third}")
                for c in CHILDREN]
    parents = [*PARENTS, ("ouder-c1", "Carla Jansen", "carla@example.nl", third, "lotte-jansen")]
    found = problems(tmp_path, children=children, parents=parents)
    p = next(p for p in found if "3 gezinnen" in p.message)
    assert p.file.endswith("leerlingen.csv") and p.line == line_of(CHILDREN, "lotte-jansen")
    assert "hoogstens 2" in p.fix
    # undeclared, three ids in ouders.csv
    children = [(*c[:5], "") for c in CHILDREN]
    found = problems(tmp_path, children=children, parents=parents)
    assert any("3 gezinnen" in p.message and p.file.endswith("ouders.csv") for p in found)


def test_a_declared_household_without_a_parent_of_the_child_is_an_error(tmp_path):
    ghost = "sunh2rrurpazmcstrtc7"
    children = [c if c[0] != "lotte-jansen" else (*c[:5], f"{FAM_A};{ghost}") for c in CHILDREN]
    found = problems(tmp_path, children=children)
    ghost_problem = next(p for p in found if ghost in p.message)
    assert ghost_problem.file.endswith("leerlingen.csv")
    assert ghost_problem.line == line_of(CHILDREN, "lotte-jansen")
    assert "geen ouder" in ghost_problem.message and "kolom kinderen" in ghost_problem.fix
    # and Peter's household is not declared: named at his line in ouders.csv
    peter = next(p for p in found if "ouder-b1" in p.message)
    assert peter.file.endswith("ouders.csv") and peter.line == line_of(PARENTS, "ouder-b1")
    assert f"voeg {FAM_B} toe" in peter.fix


def test_a_parent_in_two_households_is_an_error(tmp_path):
    parents = [p if p[0] != "ouder-b1" else (*p[:3], f"{FAM_A};{FAM_B}", p[4]) for p in PARENTS]
    found = problems(tmp_path, parents=parents)
    p = next(p for p in found if "meer dan één gezin" in p.message)
    assert p.file.endswith("ouders.csv") and p.line == line_of(PARENTS, "ouder-b1")
    assert "één huishouden" in p.fix and "kolom gezinnen" in p.fix


def test_a_malformed_id_in_the_column_is_named(tmp_path):
    children = [c if c[0] != "lotte-jansen" else (*c[:5], f"{FAM_A};Jansen") for c in CHILDREN]
    found = problems(tmp_path, children=children)
    assert any("ongeldig gezin-id 'jansen'" in p.message and p.line == line_of(CHILDREN, "lotte-jansen")
               for p in found)


@st.composite
def split_schools(draw):
    """Random schools where some children live in two households."""
    n_children = draw(st.integers(2, 8))
    groups = ["groep-1", "groep-2"]
    kids = [f"kind-{i}" for i in range(n_children)]
    n_fams = draw(st.integers(2, 5))
    fams = [family_id(i) for i in range(n_fams)]
    homes = {}
    for kid in kids:
        first = draw(st.sampled_from(fams))
        second = draw(st.sampled_from(fams + [None, None]))
        homes[kid] = sorted({first, second} - {None})
    parents = []
    for n, f in enumerate(fams):
        mine = [k for k in kids if f in homes[k]]
        if mine:
            for p in range(draw(st.integers(1, 2))):
                # a second parent (new partner) may be linked to only some of the children
                linked = mine if p == 0 else draw(st.lists(st.sampled_from(mine), min_size=1,
                                                           unique=True))
                parents.append((f"ouder-{n}-{p}", f"Ouder Nummer{n} {p}",
                                f"o{n}x{p}@example.nl", f, ";".join(linked)))
    children = [(k, f"Kind{i}", "Achter", draw(st.sampled_from(groups)), "",
                 ";".join(homes[k]) if len(homes[k]) > 1 else "") for i, k in enumerate(kids)]
    staff = [("mt-1", "Directeur Een", "mt@example.nl", "directie", ""),
             ("lk-1", "Juf Een", "lk1@example.nl", "leerkracht", "groep-1"),
             ("lk-2", "Juf Twee", "lk2@example.nl", "leerkracht", "groep-2")]
    return [(g, g, "2026") for g in groups], children, parents, staff, homes


@settings(max_examples=60, deadline=None)
@given(split_schools())
def test_each_household_reads_only_its_own_page_and_every_linked_parent_is_found(school):
    groups, children, parents, staff, homes = school
    with tempfile.TemporaryDirectory() as tmp:
        roster = load_roster(write_roster(Path(tmp), groups=groups, children=children,
                                          parents=parents, staff=staff))
    sections = build_section_map(roster, "School")
    for fam in roster.families.values():
        section = sections.get("family", fam.id)
        kids = {k for k, h in homes.items() if fam.id in h}
        assert set(fam.children) == kids
        teachers = {s.id for s in roster.staff.values()
                    if set(s.groups) & {roster.children[k].group for k in kids}}
        assert section.readers == set(fam.parents) | teachers | {"mt-1"}
        for parent in roster.parents.values():
            assert (parent.id in section.readers) == (parent.family == fam.id)
    for kid, fams in homes.items():
        assert set(roster.households_of(kid)) == set(fams)
        assert {p.id for p in roster.parents_of(kid)} == {
            p[0] for p in parents if kid in p[4].split(";")}
