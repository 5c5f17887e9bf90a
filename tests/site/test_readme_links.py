"""The README points only at files inside the repository (a fresh clone has nothing else)."""

from __future__ import annotations

import re

from tests.helpers import ROOT


def test_the_readme_names_no_file_outside_the_repository():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    outside = re.findall(r"[`(\s](\.\./[^\s`)]*|/work/[^\s`)]*|~/[^\s`)]*)", text)
    assert outside == [], outside
    for target in re.findall(r"\]\((?!https?:|#|mailto:)([^)]+)\)", text):
        assert (ROOT / target.split("#")[0]).exists(), target
    for name in ("ARCHITECTURE.md", "scripts/demo.sh", "scripts/test.sh", ".env.example"):
        assert f"`{name}`" in text or name in text
        assert (ROOT / name).exists()
