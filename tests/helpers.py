"""Helpers every test folder shares: the project root and running `invoke` as the admin does."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
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
    env = {f"SCHOOLPLEIN_{key.upper()}": str(tmp_path / folder) for key, folder in (
        ("roster", "roster"), ("content", "content"), ("private", "private"),
        ("output", "output"), ("deploy", "deploy"), ("photo_cache", "cache"),
        ("build_cache", "build-cache"), ("audit", "audit"))}
    return {**env, **extra}


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


def cache_cases(output: Path, family: str) -> list[str]:
    """One URL of every kind of file a build writes, for the cache-header tests of every target:
    a photo, protected pages and feeds of each section kind, public pages, assets, error pages."""
    photo = next((output / "groep" / "groep-3" / "fotos").iterdir()).name
    post = next(p.parent.name for p in (output / "school").glob("*/index.html"))
    return [f"/groep/groep-3/fotos/{photo}", "/groep/groep-3/", "/groep/groep-3/feed.atom",
            "/school/", f"/school/{post}/", f"/gezin/{family}/", "/", "/hulp/", "/login/",
            "/uitloggen/", "/theme/css/site.css", "/robots.txt", "/404.html"]
