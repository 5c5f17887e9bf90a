"""Two builds in one process never see each other's state (plugins.state)."""

from __future__ import annotations

import shutil

import pytest

from plugins.errors import SchoolpleinError
from plugins.site import build
from plugins.state import KEY
from tests.helpers import ROOT


def _run(tmp_path, content, name):
    return build(output_path=str(tmp_path / name), path=str(content),
                 photo_cache_dir=str(tmp_path / "cache"), photo_audit_dir=str(tmp_path / "audit"))


def test_a_failed_build_leaves_nothing_for_the_next(tmp_path):
    broken, good = tmp_path / "broken", tmp_path / "good"
    shutil.copytree(ROOT / "content", broken)
    shutil.copytree(ROOT / "content", good)
    (broken / "onbekend").mkdir()
    (broken / "onbekend" / "x.md").write_text("Title: X\nDate: 2026-11-01\n\nx\n")
    with pytest.raises(SchoolpleinError, match="onbekende map 'onbekend'"):
        _run(tmp_path, broken, "out-broken")
    first = _run(tmp_path, good, "out-good")  # no routing problem carried over
    second = _run(tmp_path, good, "out-again")
    assert first[KEY] is not second[KEY]
    assert first[KEY].photo_hashes and first[KEY].photo_hashes == second[KEY].photo_hashes
    assert first[KEY].problems == [] and second[KEY].problems == []
