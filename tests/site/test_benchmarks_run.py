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


def _run(name: str, *args: str) -> dict:
    """The benchmark, run for real on a tiny school: its one JSON line."""
    import json

    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / name), *args],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_build_benchmark_measures_the_command_line_beside_plain_pelican():
    result = _run("build.py", "--posts", "12", "--groups", "2", "--rounds", "1")
    assert result["cli_warm_s"] > 0 and result["cli_plain_warm_s"] > 0
    # the post, its section index and feed, and the team page and editor of who may edit it
    assert result["warm_changed_files"] == 5 and result["warm_photos_encoded"] == 0


def test_the_online_benchmark_serves_the_new_post_on_nginx_and_cloudfront():
    result = _run("online.py", "--posts", "8", "--photos", "2", "--photo-size", "400", "300",
                  "--new-photos", "1", "--rounds", "1")
    assert result["nginx_s"] > 0 and result["cloudfront_s"] > 0
    assert result["cloudfront_requests"].get("PUT", 0) >= 5  # the page, its index, 4 renditions
