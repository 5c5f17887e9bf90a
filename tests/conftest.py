"""Fixtures shared by every test folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from plugins.roster import load_roster

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def roster():
    """The demo school's roster (Kc de Matrix), as committed in roster/."""
    return load_roster(ROOT / "roster")
