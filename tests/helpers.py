"""Helpers every test folder shares: the project root and running `invoke` as the admin does."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APACHE = shutil.which("apache2") or "/usr/sbin/apache2"


def run_invoke(*args, env=None, cwd=ROOT) -> subprocess.CompletedProcess:
    full_env = dict(os.environ, **(env or {}))
    invoke = shutil.which("invoke", path=str(Path(sys.executable).parent)) or "invoke"
    return subprocess.run([invoke, *args], cwd=cwd, env=full_env, capture_output=True,
                          text=True, timeout=300)


def demo_school(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A private copy of the demo school's roster and content, and the .env that points at it."""
    for name in ("roster", "content"):
        shutil.copytree(ROOT / name, tmp_path / name)
    return {**school_env(tmp_path), **extra}


def school_env(folder: Path) -> dict[str, str]:
    """The .env that puts every folder of a school (roster, content, private, …) in `folder`."""
    return {f"SCHOOLPLEIN_{key.upper()}": str(folder / name) for key, name in (
        ("roster", "roster"), ("content", "content"), ("private", "private"),
        ("output", "output"), ("deploy", "deploy"), ("photo_cache", "cache"),
        ("build_cache", "build-cache"), ("audit", "audit"))}


def passphrase(letters: str, email_address: str) -> str:
    """The passphrase the accounts letters (HTML) give `email_address`."""
    row = re.search(re.escape(email_address) + r"</code></td><td><code>([^<]+)</code>", letters)
    return row.group(1)


def demo_site(tmp_path: Path, port: int) -> tuple[dict[str, str], str]:
    """A private demo school for nginx on `port`, with accounts: its env and the letters' HTML."""
    env = demo_school(tmp_path, SCHOOLPLEIN_LISTEN=f"127.0.0.1:{port}",
                      SCHOOLPLEIN_WEB_USER=os.environ.get("USER", "root"),
                      SCHOOLPLEIN_SITEURL=f"http://127.0.0.1:{port}")
    accounts = run_invoke("accounts", env=env)
    assert accounts.returncode == 0, accounts.stderr
    return env, next((tmp_path / "private" / "letters").glob("*.html")).read_text()


def start_apache(apache_conf: Path, run: Path, listen: str) -> subprocess.Popen:
    """Apache in the foreground on `listen` with the generated vhost; waits until it answers."""
    from publish.targets import basic_auth

    run.mkdir(exist_ok=True)
    os.chmod(run, 0o777)
    conf = run / "httpd.conf"
    conf.write_text(basic_auth.apache_main(apache_conf, run, listen))
    check = subprocess.run([APACHE, "-t", "-f", str(conf)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    proc = subprocess.Popen([APACHE, "-DFOREGROUND", "-f", str(conf)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    host, port = listen.rsplit(":", 1)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection((host, int(port)), timeout=0.2).close()
            return proc
        except OSError:
            assert proc.poll() is None and time.monotonic() < deadline, (
                proc.stderr.read() if proc.poll() is not None else "apache start timeout")
            time.sleep(0.05)


@contextmanager
def apache_serving(deploy, run: Path, listen: str):
    """start_apache for a `with` block, stopped at its end; yields the error log."""
    from publish.targets.basic_auth import local_server

    proc = start_apache(deploy.apache_conf, run, listen)
    try:
        yield run / "error.log"
    finally:
        local_server.stop(proc)


def cache_cases(output: Path, family: str) -> list[str]:
    """One URL of every kind of file a build writes, for the cache-header tests of every target:
    a photo, protected pages and feeds of each section kind, public pages, assets, error pages."""
    photo = next((output / "groep" / "groep-3" / "fotos").iterdir()).name
    post = next(p.parent.name for p in (output / "school").glob("*/index.html"))
    return [f"/groep/groep-3/fotos/{photo}", "/groep/groep-3/", "/groep/groep-3/feed.atom",
            "/school/", f"/school/{post}/", f"/gezin/{family}/", "/", "/hulp/", "/login/",
            "/uitloggen/", "/theme/css/site.css", "/robots.txt", "/404.html"]


PROJECT_PARTS = ("pelicanconf.py", "publishconf.py", "plugins", "publish", "postvak", "tasks",
                 "theme", "roster", "content")


def project_copy(tmp_path: Path, **extra: str) -> tuple[Path, dict[str, str]]:
    """A copy of the whole project (code, theme, demo school) to change files the build reads
    (theme/, plugins/) without touching the worktree; its env points every folder inside it."""
    root = tmp_path / "project"
    root.mkdir()
    for part in PROJECT_PARTS:
        src = ROOT / part
        if src.is_dir():
            shutil.copytree(src, root / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, root / part)
    # the editable install maps `plugins`, `publish`, … to the worktree: the copy's come first
    return root, {**school_env(root), "PYTHONPATH": str(root), **extra}


def family_id(n: int) -> str:
    """The n-th family id of a generated test roster: random-looking (the roster's rule),
    the same in every run."""
    import random

    from plugins.roster import new_family_id

    return new_family_id(choice=random.Random(f"gezin-{n}").choice)
