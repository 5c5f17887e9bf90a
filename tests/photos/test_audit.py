"""The private audit: complete for the teacher, never under the output, no names on the console."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from plugins.errors import SchoolpleinError
from plugins.photo_audit import console_lines, write_audit
from plugins.photos import process_posts

from .conftest import group_photo


def test_audit_lists_every_photo_and_sidecar_problem(post, roster, sections, settings,
                                                     tmp_path):
    group_photo(post / "ok.jpg", ["Zoë", "Sem B.", "Sara"])
    group_photo(post / "typo.jpg", ["Zoy", "Sem B.", "Sara"])
    group_photo(post / "elders.jpg", ["Eliška", "Sem B.", "Sara"])  # groep-4 child
    (post / "fotos.txt").write_text("Zoë en Sem op de foto\n")
    [result] = process_posts([(post, sections.get("group", "groep-3"))], roster, settings,
                             tmp_path / "out")
    now = datetime(2026, 10, 2, 9, 30)
    json_path, txt_path = write_audit(list(result.reports), tmp_path / "audit",
                                      tmp_path / "out", now,
                                      [str(p) for p in result.sidecar_problems])
    assert txt_path.name == "fotos-20261002-093000.txt"
    data = json.loads(json_path.read_text())
    assert {f["photo"].rsplit("/", 1)[-1]: f["code"] for f in data["fotos"]} == {
        "elders.jpg": "unknown_name", "ok.jpg": "published", "typo.jpg": "unknown_name"}
    text = txt_path.read_text()
    assert "'Zoy'" in text and "bedoel je Zoë" in text  # the teacher may see tag text
    assert "fotos.txt:1" in text
    console = "\n".join(console_lines(result.reports, result.sidecar_problems))
    assert "typo.jpg" in console and "fotos.txt:1" in console
    for name in ("Zoë", "Zoy", "Eliška", "Sem", "Sara"):
        assert name not in console
    assert not list((tmp_path / "out").rglob("fotos-*"))


def test_audit_dir_inside_output_is_refused(tmp_path):
    with pytest.raises(SchoolpleinError, match="uitvoermap"):
        write_audit([], tmp_path / "out" / "prive", tmp_path / "out")
