"""A full disk or a read-only target gives the admin a Dutch message naming the path, never a
traceback, and publishes nothing.

The disks are real: a small or read-only tmpfs, mounted in a mount namespace of the task's
own (`unshare --mount`, also for a user who is not root: `--map-root-user`), so nothing
outside the test ever sees it and it goes away with the process.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT, demo_school, run_invoke

UNSHARE = shutil.which("unshare")
INVOKE = Path(sys.executable).parent / "invoke"


def invoke_on_disk(disk: Path, options: str, env: dict, *args: str) -> subprocess.CompletedProcess:
    """`invoke args` with a fresh tmpfs (`options`, e.g. size=300k or ro) mounted on `disk`."""
    assert UNSHARE, "unshare (util-linux) ontbreekt"
    disk.mkdir(parents=True, exist_ok=True)
    script = (f"mount -t tmpfs -o {shlex.quote(options)} schoolplein-test {shlex.quote(str(disk))}"
              f" || exit 97\nexec {shlex.quote(str(INVOKE))} {shlex.join(args)}\n")
    own_root = [] if os.geteuid() == 0 else ["--map-root-user"]
    result = subprocess.run([UNSHARE, "--mount", *own_root, "sh", "-c", script], cwd=ROOT,
                            env={**os.environ, **env}, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode != 97, f"tmpfs mount refused: {result.stderr}"
    return result


def assert_dutch(result, *fragments):
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    assert "Er is niets gepubliceerd" in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


@pytest.fixture
def school(tmp_path):
    return tmp_path, demo_school(tmp_path, SCHOOLPLEIN_WEB_USER="root")


def test_a_full_disk_during_the_build(school):
    tmp, env = school
    disk = tmp / "klein"
    env.update(SCHOOLPLEIN_OUTPUT=str(disk / "output"), SCHOOLPLEIN_PHOTO_CACHE=str(disk / "cache"),
               SCHOOLPLEIN_BUILD_CACHE=str(disk / "build-cache"))
    result = invoke_on_disk(disk, "size=300k", env, "build")
    assert_dutch(result, f"{disk}: schrijven mislukt: de schijf is vol", f"df -h {disk}",
                 "SCHOOLPLEIN_OUTPUT")


def test_a_full_disk_during_the_nginx_publish_keeps_the_live_release(school):
    tmp, env = school
    first = run_invoke("publish", "--target", "nginx", env=env)
    assert first.returncode == 0, first.stderr
    live = (tmp / "deploy" / "nginx" / "current").resolve()
    disk = tmp / "klein"
    env["SCHOOLPLEIN_DEPLOY"] = str(disk)
    result = invoke_on_disk(disk, "size=200k", env, "publish", "--target", "nginx")
    assert_dutch(result, "schrijven mislukt: de schijf is vol", str(disk))
    assert (tmp / "deploy" / "nginx" / "current").resolve() == live


def test_a_read_only_output_folder(school):
    tmp, env = school
    disk = tmp / "alleen-lezen"
    env["SCHOOLPLEIN_OUTPUT"] = str(disk / "output")
    result = invoke_on_disk(disk, "ro", env, "build")
    assert_dutch(result, f"{disk}", "alleen-lezen schijf", "mount -o remount,rw")


def test_a_read_only_deploy_folder(school):
    tmp, env = school
    disk = tmp / "alleen-lezen"
    env["SCHOOLPLEIN_DEPLOY"] = str(disk)
    result = invoke_on_disk(disk, "ro", env, "publish", "--target", "nginx")
    assert_dutch(result, f"{disk}/nginx", "alleen-lezen schijf")
