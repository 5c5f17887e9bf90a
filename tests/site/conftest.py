"""Fixtures of the site tests."""

from __future__ import annotations

import shutil

import pytest

from tests.helpers import ROOT


@pytest.fixture
def roster_dir(tmp_path):
    """A private copy of the demo roster, to break on purpose."""
    dst = tmp_path / "roster"
    shutil.copytree(ROOT / "roster", dst)
    return dst
