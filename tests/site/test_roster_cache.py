"""The roster cache (plugins.roster_cache) reuses only an identical roster, and keeps it private."""

from __future__ import annotations

import shutil
import stat

import pytest

from plugins import roster_cache
from plugins.errors import SchoolpleinError
from plugins.roster import load_roster
from plugins.sections import build_section_map
from tests.helpers import ROOT


@pytest.fixture
def school(tmp_path, monkeypatch):
    """A copy of the demo roster and a counter of real parses."""
    shutil.copytree(ROOT / "roster", tmp_path / "roster")
    parses = []

    def counting(folder):
        parses.append(folder)
        return load_roster(folder)

    monkeypatch.setattr(roster_cache, "load_roster", counting)
    return tmp_path / "roster", tmp_path / "cache", parses


def test_the_same_roster_is_parsed_once(school):
    roster_dir, cache, parses = school
    first = roster_cache.load(roster_dir, "Kc de Matrix", cache)
    again = roster_cache.load(roster_dir, "Kc de Matrix", cache)
    assert len(parses) == 1
    assert again == first
    assert again[1] == build_section_map(load_roster(roster_dir), "Kc de Matrix")
    entries = list(cache.glob("roster-*.pickle"))
    assert len(entries) == 1 and stat.S_IMODE(entries[0].stat().st_mode) == 0o600


@pytest.mark.parametrize("edit", ["consent", "moved", "one_byte", "school_name", "symlink"])
def test_any_roster_change_is_parsed_anew(school, edit, tmp_path):
    """A withdrawn consent, a child in another group, any byte: the cached map is not used."""
    roster_dir, cache, parses = school
    name = "Kc de Matrix"
    before = roster_cache.load(roster_dir, name, cache)
    pupils = roster_dir / "leerlingen.csv"
    rows = pupils.read_text(encoding="utf-8").splitlines()
    child_id, first, last, group, consent, *rest = rows[1].split(",")
    if edit == "consent":
        rows[1] = ",".join([child_id, first, last, group, "geen", *rest])
        pupils.write_text("\n".join(rows) + "\n", encoding="utf-8")
    elif edit == "moved":
        other = next(r.split(",")[3] for r in rows[2:] if r.split(",")[3] != group)
        rows[1] = ",".join([child_id, first, last, other, consent, *rest])
        pupils.write_text("\n".join(rows) + "\n", encoding="utf-8")
    elif edit == "one_byte":
        pupils.write_bytes(pupils.read_bytes() + b"\n")
    elif edit == "school_name":
        name = "Een andere school"
    else:  # the same bytes through a symlink: not the same roster for the loader's checks
        real = tmp_path / "elders.csv"
        shutil.move(pupils, real)
        pupils.symlink_to(real)
    try:
        after = roster_cache.load(roster_dir, name, cache)
    except SchoolpleinError:
        assert edit == "symlink"  # the loader refuses it: then nothing came from the cache
        assert len(parses) == 2
        return
    assert len(parses) == 2
    assert after[1] == build_section_map(load_roster(roster_dir), name)
    if edit == "consent":
        assert after[0].children[child_id].consent != before[0].children[child_id].consent
    if edit == "moved":
        assert after[0].children[child_id].group != group
        assert child_id not in before[1].get("group", other).children
        assert child_id in after[1].get("group", other).children
    assert len(list(cache.glob("roster-*.pickle"))) == 1  # the old roster's entry is gone


def test_a_roster_with_problems_is_never_cached(school):
    roster_dir, cache, parses = school
    pupils = roster_dir / "leerlingen.csv"
    pupils.write_text(pupils.read_text(encoding="utf-8") + "x,Y,Z,geen-groep,,\n",
                      encoding="utf-8")
    for _ in range(2):
        with pytest.raises(SchoolpleinError):
            roster_cache.load(roster_dir, "Kc de Matrix", cache)
    assert len(parses) == 2
    assert not list(cache.glob("roster-*.pickle"))


def test_a_damaged_entry_is_parsed_anew(school):
    roster_dir, cache, parses = school
    roster_cache.load(roster_dir, "Kc de Matrix", cache)
    entry = next(cache.glob("roster-*.pickle"))
    entry.write_bytes(b"not a pickle")
    roster, _sections = roster_cache.load(roster_dir, "Kc de Matrix", cache)
    assert len(parses) == 2 and roster == load_roster(roster_dir)
