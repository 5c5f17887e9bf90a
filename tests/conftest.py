"""Fixtures shared by every test folder: the demo roster and school, accounts, nginx, Apache,
Chromium."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from plugins.roster import load_roster
from plugins.site import build
from publish import accounts
from publish.targets import basic_auth
from publish.targets.basic_auth import local_server
from tests.chromium import chromium
from tests.helpers import APACHE, ROOT, apache_serving


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium (Playwright, the system's /usr/bin/chromium), one per test module."""
    with chromium() as started:
        yield started


@pytest.fixture(scope="session")
def roster():
    """The demo school's roster (Kc de Matrix), as committed in roster/."""
    return load_roster(ROOT / "roster")


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory):
    """The demo school as a parent would get it (photos included)."""
    tmp = tmp_path_factory.mktemp("demo")
    settings = build(output_path=str(tmp / "output"), photo_cache_dir=str(tmp / "cache"),
                     photo_audit_dir=str(tmp / "audit"), schoolplein_private=str(tmp / "private"))
    return tmp / "output", settings


@pytest.fixture(scope="session")
def sections(demo_build):
    return demo_build[1]["SCHOOLPLEIN_SECTIONS"]


@pytest.fixture(scope="session")
def demo_accounts(roster, tmp_path_factory):
    """Accounts for everyone (cheap bcrypt cost: nginx verifies on every request)."""
    private = tmp_path_factory.mktemp("private")
    change = accounts.sync_accounts(roster, private, rounds=4, school="Kc de Matrix")
    passwords = {i.person_id: i.passphrase for i in change.issued}
    return private, passwords


@pytest.fixture(scope="session")
def nginx_site(demo_build, sections, demo_accounts, tmp_path_factory):
    output, _ = demo_build
    private, _ = demo_accounts
    port = local_server.free_port()
    deploy = basic_auth.publish(output, tmp_path_factory.mktemp("deploy"), sections,
                                accounts.load_accounts(private), f"127.0.0.1:{port}")
    proc = local_server.start(deploy, port)
    try:
        yield f"http://127.0.0.1:{port}", deploy
    finally:
        local_server.stop(proc)


@pytest.fixture(scope="session")
def apache_site(demo_build, sections, demo_accounts):
    output, _ = demo_build
    private, _ = demo_accounts
    with apache(output, sections, private) as (url, error_log, _deploy):
        yield url, error_log


@contextlib.contextmanager
def apache(output, sections, private):
    """Real Apache serving a release of `output` (url, error log, deploy)."""
    assert Path(APACHE).exists(), "apache2 ontbreekt: voer scripts/bootstrap.sh uit"
    # Apache's workers drop root to www-data: the publish itself makes the release and the
    # password files readable (and the postvak writable) for that user, as on a real server.
    base = Path(tempfile.mkdtemp(prefix="sp-apache-", dir="/tmp"))
    os.chmod(base, 0o755)
    port = local_server.free_port()
    listen = f"127.0.0.1:{port}"
    deploy = basic_auth.publish(output, base / "deploy", sections,
                                accounts.load_accounts(private), listen,
                                web_user="www-data" if os.geteuid() == 0 else None)
    try:
        with apache_serving(deploy, base / "run", listen) as error_log:
            yield f"http://{listen}", error_log, deploy
    finally:
        shutil.rmtree(base, ignore_errors=True)
