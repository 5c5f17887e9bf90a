"""The yearly rollover: who may read what after it, and bad exports that change nothing."""

from __future__ import annotations

import hashlib
import shutil
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plugins.archive import load_archives
from plugins.errors import SchoolpleinError
from plugins.roster import FAMILY_ID_RE, load_roster
from plugins.sections import build_section_map
from records.rollover import apply, plan_rollover, propose
from tests.helpers import ROOT, demo_school, run_invoke

from .schools import export_for, school, write_export, write_school

DURING = date(2027, 9, 1)  # the new year has started; the archive is kept
AFTER = date(2028, 8, 1)  # the day after 12 months of retention


def roll(base: Path, year1, export):
    roster_dir = write_school(base / "roster", year1)
    content = base / "content"
    (content / "groep" / "groep-1").mkdir(parents=True)
    (content / "groep" / "groep-1" / "2027-01-01-x.md").write_text("Title: x\n\nx\n")
    old = load_roster(roster_dir)
    plan = plan_rollover(roster_dir, write_export(base / "export", export))
    apply(plan, roster_dir, content, base / "private")
    return old, load_roster(roster_dir), roster_dir, content


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_after_rollover_the_section_map_follows_the_new_roster_and_the_archive_is_frozen(
        data, tmp_path_factory):
    year1 = data.draw(school())
    old, new, roster_dir, content = roll(tmp_path_factory.mktemp("jaar"), year1,
                                         data.draw(export_for(year1)))
    before = build_section_map(old, "School")
    after = build_section_map(new, "School", load_archives(roster_dir, 12, DURING).live)
    former = set(old.parents) - set(new.parents)
    for section in after.protected:
        if section.kind == "group":  # no parent reads a current group without a child in it
            for pid in section.readers & set(new.parents):
                assert set(new.parents[pid].children) & section.children, (pid, section.key)
        if section.kind != "archive":  # who left reads no school, group or family page
            assert not section.readers & former, section.prefix
    for group in (s for s in before.protected if s.kind == "group"):
        frozen = after.get("archive", f"2026-2027-{group.key}")
        assert frozen.prefix == f"/archief/2026-2027/{group.key}/"
        assert frozen.readers == group.readers  # exactly last year's readers
        assert frozen.children == group.children
    for pid in former:  # only the archives of the years their child was there
        assert {s.kind for s in after.readable_by(pid) if s.protected} <= {"archive"}
        assert after.homes[pid].startswith("/archief/2026-2027/")
    for pid in set(old.parents) & set(new.parents):  # family pages keep their id
        assert new.parents[pid].family == old.parents[pid].family
    for parent in new.parents.values():
        assert FAMILY_ID_RE.match(parent.family)
        assert after.homes[parent.id] == f"/gezin/{parent.family}/"
    assert (content / "archief" / "2026-2027" / "groep-1" / "2027-01-01-x.md").is_file()
    assert not (content / "groep" / "groep-1").exists()
    # after the retention period nobody reads the archive, and who left reads nothing at all
    expired = load_archives(roster_dir, 12, AFTER)
    assert not expired.live and [a.year for a in expired.expired] == ["2026-2027"]
    later = build_section_map(new, "School", expired.live)
    assert not [s for s in later if s.kind == "archive"]
    assert all(not later.readable_by(pid)[1:] for pid in former)  # the public part only


def test_newcomers_get_one_random_family_id_per_household(tmp_path):
    rows = {"groups": [["groep-1", "Groep 1", "2026-2027"]],
            "children": [["kind-a", "Sem", "Kok", "groep-1", ""]],
            "parents": [["ouder-a", "Anouk Kok", "a@example.nl", "68amruh9btpfys3dk9wr", "kind-a"]],
            "staff": [["mt-1", "Ingrid Hoekstra", "mt@example.nl", "directie", ""]]}
    export = {"groups": [["groep-1", "Groep 1", "2027-2028"], ["groep-2", "Groep 2", "2027-2028"]],
              "children": [["kind-a", "Sem", "Kok", "groep-2"], ["kind-b", "Tess", "Kok", "groep-1"],
                           ["kind-c", "Liam", "Jansen", "groep-1"]],
              "parents": [["ouder-a", "Anouk Kok", "a@example.nl", "", "kind-a;kind-b"],
                          ["ouder-c", "Bas Jansen", "c@example.nl", "", "kind-c"],
                          ["ouder-d", "Esther Jansen", "d@example.nl", "", "kind-c"]],
              "staff": [["mt-1", "Ingrid Hoekstra", "mt@example.nl", "directie", ""]]}
    _old, new, _, _ = roll(tmp_path, rows, export)
    assert new.parents["ouder-a"].family == "68amruh9btpfys3dk9wr"  # a sibling joins the family
    assert new.parents["ouder-c"].family == new.parents["ouder-d"].family != "68amruh9btpfys3dk9wr"
    assert new.children["kind-a"].group == "groep-2"


# --- bad input: a clear error with the export's file and line, and nothing changed --------------

def tree_digest(*folders: Path) -> str:
    h = hashlib.sha256()
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            h.update(str(path.relative_to(folder)).encode())
            if path.is_file():
                h.update(path.read_bytes())
    return h.hexdigest()


@pytest.fixture
def demo(tmp_path):
    env = demo_school(tmp_path)
    export = tmp_path / "export"
    propose(tmp_path / "roster", export)
    return tmp_path, env, export


def edit(path: Path, old: str, new: str) -> int:
    """Replace the first line holding `old`; returns that line's number (1-based)."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    for n, line in enumerate(lines):
        if old in line:
            lines[n] = line.replace(old, new)
            path.write_text("".join(lines), encoding="utf-8")
            return n + 1
    raise AssertionError(old)


def add(path: Path, row: str) -> int:
    text = path.read_text(encoding="utf-8")
    path.write_text(text + row + "\n", encoding="utf-8")
    return text.count("\n") + 1


@pytest.mark.parametrize("case", ["unknown group", "two groups", "duplicate id", "wrong year",
                                  "parent of unknown child"])
def test_a_bad_export_names_file_line_and_fix_and_changes_nothing(demo, case):
    base, env, export = demo
    pupils, parents = export / "leerlingen.csv", export / "ouders.csv"
    if case == "unknown group":
        line, file, words = edit(pupils, ",groep-4,", ",groep-9,"), pupils, "onbekende groep 'groep-9'"
    elif case == "two groups":
        line, file, words = (add(pupils, "sem-bakker,Sem,Bakker,groep-7,"), pupils,
                             "leerling 'sem-bakker' staat in twee groepen")
    elif case == "duplicate id":
        line, file, words = (add(parents, "sem-kok,Dennis Kok,dubbel@example.nl,,sem-kok"),
                             parents, "id 'sem-kok' komt dubbel voor")
    elif case == "wrong year":
        line, file, words = edit(export / "groepen.csv", "2027-2028", "2026-2027"), \
            export / "groepen.csv", "verwacht 2027-2028"
    else:
        line, file, words = (add(parents, "ouder-999,Nieuwe Ouder,nieuw@example.nl,,niemand"),
                             parents, "onbekend kind 'niemand'")
    before = tree_digest(base / "roster", base / "content")
    with pytest.raises(SchoolpleinError) as caught:
        plan_rollover(base / "roster", export)
    problems = [p for p in caught.value.problems if words in p.message]
    assert problems, caught.value.render()
    assert problems[0].file.endswith(f"export/{file.name}")
    assert problems[0].line == line and problems[0].fix
    done = run_invoke("schooljaar", "--export", str(export), "--toepassen", env=env)
    assert done.returncode == 1 and words in done.stderr and "oplossing" in done.stderr
    assert f"{file.name}:{line}" in done.stderr
    assert tree_digest(base / "roster", base / "content") == before
    assert not (base / "roster" / "archief").exists()


def test_the_review_writes_nothing_and_a_second_rollover_is_refused(demo):
    base, env, export = demo
    before = tree_digest(base / "roster", base / "content")
    review = run_invoke("schooljaar", "--export", str(export), env=env)
    assert review.returncode == 0, review.stderr
    assert "Er is nog niets veranderd" in review.stdout and "2026-2027 -> 2027-2028" in review.stdout
    assert tree_digest(base / "roster", base / "content") == before
    done = run_invoke("schooljaar", "--export", str(export), "--toepassen", env=env)
    assert done.returncode == 0, done.stderr
    assert (base / "roster" / "archief" / "2026-2027" / "lezers.csv").is_file()
    again = run_invoke("schooljaar", "--export", str(export), "--toepassen", env=env)
    assert again.returncode == 1 and "verwacht 2028-2029" in again.stderr


def test_the_proposal_moves_everyone_up_and_group_8_leaves(tmp_path):
    shutil.copytree(ROOT / "roster", tmp_path / "roster")
    notes = propose(tmp_path / "roster", tmp_path / "export")
    old = load_roster(tmp_path / "roster")
    plan = plan_rollover(tmp_path / "roster", tmp_path / "export")
    for cid, child in old.children.items():
        moved = plan.new.children.get(cid)
        if child.group == "groep-8":
            assert moved is None
        elif child.group == "groep-3":
            assert moved.group == "groep-4"
    assert any("combinatiegroep" in n for n in notes)
