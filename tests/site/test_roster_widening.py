"""Roster changes that show a child to more people are listed before anyone publishes.

Builds run in-process (plugins.site.build) on a copy of the demo roster with one
small post; the snapshot of the last good build lives beside the private audit.
"""

from __future__ import annotations

import csv
import json
import logging
import shutil
from pathlib import Path

import pytest

from plugins.errors import SchoolpleinError
from plugins.roster import load_roster, write_roster
from plugins.roster_changes import SNAPSHOT_NAME
from plugins.site import build

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def school(tmp_path):
    shutil.copytree(ROOT / "roster", tmp_path / "roster")
    post = tmp_path / "content" / "school" / "2026-10-01-nieuws.md"
    post.parent.mkdir(parents=True)
    post.write_text("Title: Nieuws\nDate: 2026-10-01\n\nTekst.\n", encoding="utf-8")
    return tmp_path


def run(tmp, caplog) -> list[str]:
    """Build; return the roster warnings it logged."""
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        build(output_path=str(tmp / "out"), schoolplein_roster=str(tmp / "roster"),
              path=str(tmp / "content"), photo_audit_dir=str(tmp / "audit"),
              photo_cache_dir=str(tmp / "cache"), photo_consent_default="school")
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("rooster:")]


def edit(roster_dir: Path, key: str, change) -> None:
    """Rewrite one roster file through `change(rows)` (rows without the header)."""
    name = {"children": "leerlingen.csv", "parents": "ouders.csv"}[key]
    with (roster_dir / name).open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))[1:]
    change(rows)
    write_roster(roster_dir, **{key: rows})


def set_cell(rows, ident: str, column: int, value: str) -> None:
    next(r for r in rows if r[0] == ident)[column] = value


def move_child_to_another_family(rows) -> tuple[str, str]:
    """Move one child of a two-child family to another family; return (child, new family)."""
    by_family: dict[str, list[list[str]]] = {}
    for r in rows:
        by_family.setdefault(r[3], []).append(r)
    source = next(f for f, ps in by_family.items() if ";" in ps[0][4])
    child = by_family[source][0][4].split(";")[0]
    target = next(f for f, ps in by_family.items() if f != source)
    for r in by_family[source]:
        r[4] = ";".join(k for k in r[4].split(";") if k != child)
    for r in by_family[target]:
        r[4] += ";" + child
    return child, target


def test_widening_changes_are_warned_once_by_id_and_listed_in_the_audit(school, caplog):
    assert run(school, caplog) == []  # the first build records the state, reports nothing
    assert (school / "audit" / SNAPSHOT_NAME).exists()
    assert not list((school / "out").rglob(SNAPSHOT_NAME))

    edit(school / "roster", "children", lambda rows: (
        set_cell(rows, "eliska-novakova", 4, ""),  # geen -> the school's default
        set_cell(rows, "elif-yilmaz", 4, "school"),  # groep -> school
        set_cell(rows, "sem-bakker", 3, "groep-4"),  # moves to another group
        set_cell(rows, "zoe-devries", 4, "geen"),  # narrower: not reported
    ))
    moved = {}
    edit(school / "roster", "parents", lambda rows: moved.update(
        zip(("child", "family"), move_child_to_another_family(rows), strict=True)))
    roster = load_roster(school / "roster")

    warnings = run(school, caplog)
    expected = {("eliska-novakova", "geen -> school"), ("elif-yilmaz", "groep -> school"),
                ("sem-bakker", "groep-3 -> groep-4"), (moved["child"], "ander gezin")}
    assert len(warnings) == len(expected)
    for child, what in expected:
        assert any(f"leerling {child}:" in w and what in w for w in warnings), warnings
    names = {n for c in roster.children.values() for n in (c.first_name, c.last_name)}
    assert not [w for w in warnings if any(n in w.split() for n in names)]
    assert moved["family"] not in "\n".join(warnings)  # family ids stay off the console

    audit = max((school / "audit").glob("fotos-*.txt")).read_text(encoding="utf-8")
    assert "Rooster: sinds de vorige geslaagde build" in audit
    assert "eliska-novakova (Eliška Nováková): beeldgebruik geen -> school" in audit
    assert "sem-bakker (Sem Bakker): groep groep-3 -> groep-4" in audit
    assert moved["family"] in audit
    data = json.loads(max((school / "audit").glob("fotos-*.json")).read_text(encoding="utf-8"))
    assert {c["child"] for c in data["rooster_ruimer"]} == {c for c, _ in expected}

    assert run(school, caplog) == []  # recorded: the next build is quiet


def test_a_failed_build_keeps_the_previous_state(school, caplog):
    run(school, caplog)
    snapshot = (school / "audit" / SNAPSHOT_NAME).read_bytes()
    edit(school / "roster", "children",
         lambda rows: set_cell(rows, "eliska-novakova", 4, "school"))
    bad = school / "content" / "onbekend" / "x.md"
    bad.parent.mkdir()
    bad.write_text("Title: X\nDate: 2026-10-01\n\nTekst.\n", encoding="utf-8")
    with pytest.raises(SchoolpleinError):
        run(school, caplog)
    assert (school / "audit" / SNAPSHOT_NAME).read_bytes() == snapshot

    bad.unlink()
    warnings = run(school, caplog)  # still reported: the failed build did not count
    assert len(warnings) == 1 and "leerling eliska-novakova: beeldgebruik ruimer" in warnings[0]


def test_a_wider_school_default_is_reported_for_every_child_without_a_choice(school, caplog):
    run(school, caplog)
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        build(output_path=str(school / "out"), schoolplein_roster=str(school / "roster"),
              path=str(school / "content"), photo_audit_dir=str(school / "audit"),
              photo_cache_dir=str(school / "cache"), photo_consent_default="groep")
    run(school, caplog)  # default groep -> school again
    roster = load_roster(school / "roster")
    no_choice = {c.id for c in roster.children.values() if c.consent is None}
    reported = {w.split()[2].rstrip(":") for w in caplog.messages if w.startswith("rooster:")}
    assert reported == no_choice


def test_invoke_check_leaves_the_warning_for_the_next_build(tmp_path):
    """A check on a temporary roster must not record it: the publish after still warns."""
    from tests.helpers import demo_school, run_invoke

    env = demo_school(tmp_path)
    assert run_invoke("build", env=env).returncode == 0
    snapshot = (tmp_path / "audit" / SNAPSHOT_NAME).read_bytes()
    edit(tmp_path / "roster", "children", lambda rows: set_cell(rows, "eliska-novakova", 4, "school"))
    checked = run_invoke("check", env=env)
    assert checked.returncode == 0, checked.stderr
    assert "leerling eliska-novakova: beeldgebruik ruimer" in checked.stdout + checked.stderr
    assert (tmp_path / "audit" / SNAPSHOT_NAME).read_bytes() == snapshot
    built = run_invoke("build", env=env)
    assert "leerling eliska-novakova: beeldgebruik ruimer" in built.stdout + built.stderr
