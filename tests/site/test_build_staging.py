"""A killed build leaves nothing where it could be committed or served; the next one cleans up."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from plugins.settings import load_settings
from tasks.common import staging_root
from tests.helpers import ROOT, demo_school, run_invoke

PAUSE = '''
import os, time
import plugins.output_check as check

def pause(*args, **kwargs):  # the whole site is staged, family pages included: stop here
    open(os.environ["SCHOOLPLEIN_TEST_PAUSED"], "w").close()
    time.sleep(600)

check.check_output = pause
'''


def test_a_killed_build_leaves_nothing_beside_the_output_and_the_next_build_cleans_up(tmp_path):
    env = demo_school(tmp_path)
    legacy = tmp_path / ".build-k3x9_q2a"  # what a build killed before this change left
    (legacy / "gezin").mkdir(parents=True)
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(PAUSE)
    paused = tmp_path / "paused"
    invoke = Path(sys.executable).parent / "invoke"
    proc = subprocess.Popen([str(invoke), "build"], cwd=ROOT, start_new_session=True,
                            env={**os.environ, **env, "PYTHONPATH": str(hook),
                                 "SCHOOLPLEIN_TEST_PAUSED": str(paused)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 180
    while not paused.exists():
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, "the build never reached its output check"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stderr.close()

    staged = list((tmp_path / "build-cache" / "staging").glob("bouw-*/gezin/*/index.html"))
    assert staged, "the family pages were staged in the build cache"
    beside = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("."))
    assert beside == [], beside  # nothing beside the output; the old kind of leftover is gone

    again = run_invoke("build", env=env)
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "output" / "index.html").is_file()
    left = [p.name for p in (tmp_path / "build-cache" / "staging").iterdir()
            if not p.name.endswith("-vorige")]  # the old output's async removal may still run
    assert left == [], left


def test_the_default_staging_folder_is_git_ignored():
    cfg = load_settings(ROOT, {})
    root = staging_root(cfg, cfg.output)
    try:
        assert root.is_relative_to(cfg.build_cache)
        ignored = subprocess.run(["git", "check-ignore", "-q", str(root / "bouw-x" / "index.html")],
                                 cwd=ROOT)
        assert ignored.returncode == 0
    finally:
        shutil.rmtree(cfg.build_cache / "staging", ignore_errors=True)
        for folder in (cfg.build_cache, cfg.build_cache.parent):
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
