"""The README's benchmark commands start (their full runs are too long for the suite)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.helpers import ROOT

BENCHMARKS = sorted(p.name for p in (ROOT / "benchmarks").glob("*.py") if p.name != "__init__.py")


def test_the_readme_names_every_benchmark():
    readme = (ROOT / "README.md").read_text()
    assert all(f"benchmarks/{name}" in readme for name in BENCHMARKS)


@pytest.mark.parametrize("name", BENCHMARKS)
def test_a_benchmark_starts_and_explains_itself(name):
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / name), "--help"],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-1500:]
    assert "usage:" in done.stdout
