"""nginx/Apache releases: a killed publish never becomes a release; the web server can read it.

The fault tests kill a real publish process with SIGKILL while it writes a
release and check what real nginx serves before and after the next publish.
"""

from __future__ import annotations

import grp
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plugins.errors import SchoolpleinError
from publish import accounts
from publish.targets import basic_auth
from publish.targets.basic_auth import local_server
from publish.targets.basic_auth.permissions import WebUser, check_readable
from publish.targets.basic_auth.releases import TRASH
from tests.http_client import Client

ROOT = Path(__file__).resolve().parents[3]
WEB = "www-data"
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="changes file owners (CI runs as root)")


@pytest.fixture
def base():
    """A folder every user may enter (pytest's own tmp is 700): what /srv would be."""
    folder = Path(tempfile.mkdtemp(prefix="schoolplein-", dir="/tmp"))
    folder.chmod(0o755)
    yield folder
    for _ in range(100):  # the trash may still be being emptied in the background
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            break
        time.sleep(0.05)


def releases(deploy: Path) -> list[str]:
    """Everything in releases/ but the trash (releases on their way out, never served)."""
    return sorted(p.name for p in (deploy / "releases").iterdir() if p.name != TRASH)


def live(deploy: Path) -> str:
    return (deploy / "current").resolve().name


def publish(demo_build, sections, demo_accounts, deploy: Path, listen: str = "127.0.0.1:8080",
            out=lambda _: None, **kw) -> basic_auth.Deploy:
    private, _ = demo_accounts
    return basic_auth.publish(demo_build[0], deploy, sections, accounts.load_accounts(private),
                              listen, out=out, **kw)


# --- permissions ---------------------------------------------------------------------------


@needs_root
def test_a_publish_is_readable_by_the_web_server_and_its_password_files_are_not_public(
        base, demo_build, sections, demo_accounts):
    notes = []
    deploy = publish(demo_build, sections, demo_accounts, base / "deploy", web_user=WEB,
                     out=notes.append)
    assert notes == [f"Bestandsrechten in orde voor de webserver ({WEB})."]
    release = deploy.current.resolve()
    assert release.stat().st_mode & 0o777 == 0o755  # was 0o700: unreadable for www-data
    assert all(p.stat().st_mode & 0o777 == (0o755 if p.is_dir() else 0o644)
               for p in release.rglob("*"))
    web_gid = grp.getgrnam(WEB).gr_gid
    passwords = [p for p in deploy.htpasswd.iterdir()]
    assert passwords and all(p.stat().st_mode & 0o777 == 0o640 and p.stat().st_gid == web_gid
                             for p in passwords)
    assert deploy.htpasswd.stat().st_mode & 0o777 == 0o711  # enterable, not listable


@needs_root
@pytest.mark.parametrize(("break_it", "message", "fix"), [
    (lambda d: d.current.resolve().chmod(0o700), "kan deze map niet lezen", "chmod a+rx"),
    (lambda d: next(d.current.resolve().rglob("*.html")).chmod(0o600),
     "kan dit bestand niet lezen", "chmod a+r"),
    (lambda d: next(d.htpasswd.iterdir()).chmod(0o644), "voor iedereen leesbaar",
     "chgrp www-data"),
    (lambda d: os.chown(next(d.htpasswd.iterdir()), -1, 0), "kan het wachtwoordbestand niet lezen",
     "chmod 640"),
    (lambda d: d.root.parent.chmod(0o700), "kan deze map niet in", "chmod o+x"),
])
def test_each_wrong_permission_is_named_with_its_fix(base, demo_build, sections, demo_accounts,
                                                     break_it, message, fix):
    deploy = publish(demo_build, sections, demo_accounts, base / "site" / "deploy", web_user=WEB)
    break_it(deploy)
    passwords = list(deploy.htpasswd.iterdir())
    with pytest.raises(SchoolpleinError) as info:
        check_readable(WEB, deploy.current.resolve(), passwords, served_from=deploy.root)
    [problem] = [p for p in info.value.problems if message in p.message]
    assert fix in problem.fix and problem.file.startswith(str(base))


@needs_root
def test_a_wrong_permission_stops_the_publish_before_the_switch(base, demo_build, sections,
                                                               demo_accounts):
    deploy = publish(demo_build, sections, demo_accounts, base / "site" / "deploy", web_user=WEB)
    before = live(deploy.root)
    (base / "site").chmod(0o700)  # e.g. a deploy folder under /root
    with pytest.raises(SchoolpleinError, match="kan deze map niet in") as info:
        publish(demo_build, sections, demo_accounts, deploy.root, web_user=WEB)
    assert str(base / "site") in info.value.render()
    assert live(deploy.root) == before and releases(deploy.root) == [before]  # no partial left


@needs_root
def test_a_refused_publish_leaves_the_live_password_files_as_they_were(base, demo_build, sections,
                                                                      demo_accounts):
    """Every check first, then writes: a refused publish replaces no live password file."""
    deploy = publish(demo_build, sections, demo_accounts, base / "site" / "deploy", web_user=WEB)
    before = {p.name: p.read_bytes() for p in deploy.htpasswd.iterdir()}
    fewer = dict(list(accounts.load_accounts(demo_accounts[0]).items())[1:])  # one account gone
    (base / "site").chmod(0o700)
    with pytest.raises(SchoolpleinError, match="kan deze map niet in"):
        basic_auth.publish(demo_build[0], deploy.root, sections, fewer, "127.0.0.1:8080",
                           web_user=WEB, out=lambda _: None)
    assert {p.name: p.read_bytes() for p in deploy.htpasswd.iterdir()} == before
    (base / "site").chmod(0o755)
    basic_auth.publish(demo_build[0], deploy.root, sections, fewer, "127.0.0.1:8080",
                       web_user=WEB, out=lambda _: None)
    after = {p.name: p.read_bytes() for p in deploy.htpasswd.iterdir()}
    assert after.keys() == before.keys() and after != before  # the next good publish does it


def test_many_unreadable_files_are_summed_up_with_one_command(base):
    site = base / "site"
    for n in range(25):
        (site / f"p{n}").mkdir(parents=True)
        (site / f"p{n}" / "index.html").write_text("x")
        (site / f"p{n}" / "index.html").chmod(0o600)
    user = WebUser("web", 4242, frozenset({4242}), "web")  # owns nothing here
    with pytest.raises(SchoolpleinError) as info:
        check_readable_as(user, site)
    problems = info.value.problems
    assert len(problems) == 11 and problems[-1].fix == f"chmod -R a+rX {site}"
    assert "en nog 15 bestanden" in problems[-1].message


def check_readable_as(user: WebUser, site: Path) -> None:
    from publish.targets.basic_auth import permissions

    problems = permissions.tree_problems(user, site)
    if problems:
        raise SchoolpleinError(problems)


def test_a_web_user_this_machine_does_not_have_is_a_note_not_an_error(base):
    note = check_readable("geen-webserver-hier", base, [])
    assert "bestaat niet op deze machine" in note and "SCHOOLPLEIN_WEB_USER" in note


KINDS = {"file": 0o644, "dir": 0o755}
OWNERS = [0, 33, 65534]  # root, www-data, nobody
GROUPS = [0, 33, 65534]  # root, www-data, nogroup


@needs_root
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(sorted(KINDS)), st.integers(0, 0o777),
                          st.sampled_from(OWNERS), st.sampled_from(GROUPS)),
                min_size=1, max_size=8),
       st.booleans())
def test_the_verdict_matches_what_the_web_server_user_really_can_do(entries, in_nogroup):
    """Property: for random modes, owners and groups, the stat-based verdict equals the
    kernel's, asked by a process that really runs as www-data (with or without an extra
    group)."""
    if pwd.getpwnam(WEB).pw_uid != 33:
        pytest.skip("www-data is not uid 33 here")
    user = WebUser.find(WEB)
    extra = [65534] if in_nogroup else []
    user = WebUser(user.name, user.uid, user.gids | set(extra), user.group)
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
        folder = Path(tmp)
        folder.chmod(0o755)
        paths = []
        for n, (kind, mode, owner, group) in enumerate(entries):
            path = folder / f"{kind}{n}"
            path.mkdir() if kind == "dir" else path.write_text("x")
            os.chown(path, owner, group)
            path.chmod(mode)
            paths.append((str(path), kind))
        probe = ('for p; do k=${p%%:*}; f=${p#*:}; '
                 'if test -r "$f" && { test "$k" = file || test -x "$f"; }; '
                 'then echo 1; else echo 0; fi; done')
        real = [line == "1" for line in subprocess.run(
            ["/bin/sh", "-c", probe, "sh", *(f"{k}:{p}" for p, k in paths)], user=WEB,
            group=WEB, extra_groups=extra, capture_output=True, text=True, check=True,
            cwd="/").stdout.split()]
        verdict = [user.may(os.stat(p), 5 if k == "dir" else 4) for p, k in paths]
    assert verdict == real, list(zip(entries, verdict, real, strict=True))


# --- locking, pruning, rsync -----------------------------------------------------------------


def test_two_publishes_at_once_are_refused(tmp_path, demo_build, sections, demo_accounts):
    deploy = tmp_path / "deploy"
    publish(demo_build, sections, demo_accounts, deploy)
    with basic_auth.publish_lock(deploy), pytest.raises(SchoolpleinError) as info:
        publish(demo_build, sections, demo_accounts, deploy)
    assert "er loopt al een publicatie" in info.value.render()
    assert len(releases(deploy)) == 1


def test_pruning_keeps_the_live_and_the_previous_release_and_drops_leftovers(
        tmp_path, demo_build, sections, demo_accounts):
    deploy = tmp_path / "deploy"
    names = []
    for _ in range(3):
        publish(demo_build, sections, demo_accounts, deploy)
        names.append(live(deploy))
    assert releases(deploy) == names[1:]
    (deploy / "releases" / ".partial-20991231-000000-000000" / "groep").mkdir(parents=True)
    publish(demo_build, sections, demo_accounts, deploy)
    assert releases(deploy) == [names[2], live(deploy)]


def _trash_emptied(deploy: Path, timeout: float = 30) -> bool:
    trash = deploy / "releases" / TRASH
    deadline = time.monotonic() + timeout
    while trash.exists() and any(trash.iterdir()):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_the_oldest_release_leaves_at_once_and_is_deleted_after_the_publish(
        tmp_path, demo_build, sections, demo_accounts, monkeypatch):
    """The publish returns without waiting for ~15,000 files to be deleted; the oldest
    release is out of releases/ (never served, kept or rsynced) when it returns, and a
    deletion that was cut off is finished after the next publish."""
    deploy = tmp_path / "deploy"
    names = []
    for _ in range(2):
        publish(demo_build, sections, demo_accounts, deploy)
        names.append(live(deploy))
    cut_off = deploy / "releases" / TRASH / "20200101-000000-000000" / "groep" / "fotos"
    cut_off.mkdir(parents=True)
    (cut_off / "0123456789abcdef0123-1600.jpg").write_bytes(b"jpeg")
    monkeypatch.setattr(shutil, "rmtree", lambda *a, **k: pytest.fail("deleted in the publish"))
    publish(demo_build, sections, demo_accounts, deploy)
    assert releases(deploy) == [names[1], live(deploy)]
    monkeypatch.undo()
    assert _trash_emptied(deploy)
    server = tmp_path / "server"
    (deploy / "releases" / TRASH / names[0]).mkdir()  # as if still being deleted
    subprocess.run(basic_auth.rsync_command(deploy, str(server)), check=True)
    assert not (server / "releases" / TRASH).exists()
    assert releases(server) == releases(deploy)


def test_rsync_sends_only_complete_releases(tmp_path, demo_build, sections, demo_accounts):
    deploy = publish(demo_build, sections, demo_accounts, tmp_path / "deploy").root
    partial = deploy / "releases" / ".partial-20991231-000000-000000"  # a publish in progress
    (partial / "groep").mkdir(parents=True)
    server = tmp_path / "server"
    (server / "releases" / ".partial-20200101-000000-000000").mkdir(parents=True)  # old junk
    subprocess.run(basic_auth.rsync_command(deploy, str(server)), check=True)
    assert releases(server) == releases(deploy)[1:] == [live(deploy)]
    assert (server / "current" / "index.html").exists()
    assert not (server / basic_auth.LOCK_NAME).exists()


def test_a_withdrawn_photo_leaves_every_kept_release_and_the_server_at_the_first_publish(
        tmp_path, demo_build, sections, demo_accounts):
    """The release before keeps its pages (a rollback still works) but not the photos the
    new release dropped, and rsync --delete takes them off the server copy in the same run."""
    deploy = tmp_path / "deploy"
    server = tmp_path / "server"
    publish(demo_build, sections, demo_accounts, deploy)
    subprocess.run(basic_auth.rsync_command(deploy, str(server)), check=True)
    output = tmp_path / "output"
    shutil.copytree(demo_build[0], output)
    photos = sorted(output.glob("groep/*/fotos/*"))
    withdrawn = {p.relative_to(output).as_posix() for p in photos[:3]}
    kept = {p.relative_to(output).as_posix() for p in photos[3:]}
    assert withdrawn and kept
    for rel in withdrawn:
        (output / rel).unlink()
    private, _ = demo_accounts
    basic_auth.publish(output, deploy, sections, accounts.load_accounts(private),
                       "127.0.0.1:8080", out=lambda _: None)
    subprocess.run(basic_auth.rsync_command(deploy, str(server)), check=True)
    for root in (deploy, server):
        assert len(releases(root)) == 2
        for name in releases(root):
            release = root / "releases" / name
            assert not [rel for rel in withdrawn if (release / rel).exists()], (root, name)
            assert all((release / rel).exists() for rel in kept)
            assert (release / "index.html").exists()


# --- SIGKILL while writing a release, real nginx ---------------------------------------------

PUBLISH = """
import os, signal, sys
from plugins.roster import load_roster
from plugins.sections import build_section_map
from publish import accounts
from publish.targets import basic_auth

output, deploy, private, listen, hook, stop_at = sys.argv[1:]
real, calls = getattr(os, hook), [0]

def stop_after(*args, **kwargs):  # freeze right after the n-th call; the test kills us
    result = real(*args, **kwargs)
    calls[0] += 1
    if calls[0] == int(stop_at):
        os.kill(os.getpid(), signal.SIGSTOP)
    return result

setattr(os, hook, stop_after)
sections = build_section_map(load_roster("roster"), "Kc de Matrix")
basic_auth.publish(output, deploy, sections, accounts.load_accounts(private), listen)
"""


def kill_publish_at(demo_build, demo_accounts, deploy: Path, listen: str, hook: str,
                    stop_at: int) -> None:
    """Run a publish in its own process; SIGKILL it right after its n-th `os.<hook>` call."""
    proc = subprocess.Popen([sys.executable, "-c", PUBLISH, str(demo_build[0]), str(deploy),
                             str(demo_accounts[0]), listen, hook, str(stop_at)], cwd=ROOT)
    _, status = os.waitpid(proc.pid, os.WUNTRACED)
    assert os.WIFSTOPPED(status), "the publish ended before the kill point"
    try:
        with pytest.raises(SchoolpleinError, match="er loopt al een publicatie"):
            basic_auth.publish_lock(deploy).__enter__()  # it holds the lock while it works
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        os.waitpid(proc.pid, 0)


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.found.append(value)
            elif name == "srcset" and value:
                self.found += [part.split()[0] for part in value.split(",") if part.strip()]


# /mijn/ redirects to the person's own pages; /uitloggen/ answers 401 so the browser forgets.
SERVER_ROUTES = {("/mijn/", 302), ("/uitloggen/", 401)}


def broken_links(base_url: str, login: tuple[str, str], start: list[str]) -> dict[str, int]:
    """Crawl the site as `login` from `start`; every internal URL that is not 200."""
    client = Client(base_url)
    seen, todo, broken = set(start), list(start), {}
    try:
        while todo:
            url = todo.pop()
            status, body, headers = client.get(url, login)
            if (url, status) in SERVER_ROUTES:
                continue  # answered by the server config, not by a file
            if status != 200:
                broken[url] = status
                continue
            if not headers.get("Content-Type", "").startswith("text/html"):
                continue
            parser = _Links()
            parser.feed(body.decode("utf-8"))
            for link in parser.found:
                target = link.split("#")[0]
                if target.startswith("/") and not target.startswith("//") and target not in seen:
                    seen.add(target)
                    todo.append(target)
    finally:
        client.close()
    assert len(seen) > 100  # the whole demo school, photos included
    return broken


@pytest.mark.parametrize(("hook", "at"), [
    ("link", 0.0), ("link", 0.5), ("link", 1.0),  # after the first, middle, last file copied
    ("symlink", None),  # the release is complete but `current` has not moved yet
], ids=["first-file", "half-way", "last-file", "before-the-switch"])
def test_a_publish_killed_while_writing_never_becomes_a_release(
        tmp_path, demo_build, sections, demo_accounts, roster, hook, at):
    total = sum(len(f) for _, _, f in os.walk(demo_build[0]))
    stop_at = 1 if at is None else max(1, round(total * at))
    deploy, port = tmp_path / "deploy", local_server.free_port()
    listen, base_url = f"127.0.0.1:{port}", f"http://127.0.0.1:{port}"
    publish(demo_build, sections, demo_accounts, deploy, listen)
    conf = publish(demo_build, sections, demo_accounts, deploy, listen)
    older, good = releases(deploy)
    directie = roster.staff["mt-01"]
    login = (directie.email, demo_accounts[1]["mt-01"])
    start = ["/", *(s.prefix for s in sections.protected)]
    proc = local_server.start(conf, port)
    # a build whose every file is new (new inodes): the oldest release, taken to be brought
    # up to date, has each of them replaced, one link at a time
    fresh = tmp_path / "fresh-output"
    shutil.copytree(demo_build[0], fresh)
    new_files = {os.stat(os.path.join(d, n)).st_ino for d, _, fs in os.walk(fresh) for n in fs}
    try:
        kill_publish_at((fresh,), demo_accounts, deploy, listen, hook, stop_at)
        left = [n for n in releases(deploy) if n not in (older, good)]
        assert len(left) == 1 and older not in releases(deploy)
        if hook == "link":
            assert left[0].startswith(".partial-")
            linked = sum(os.stat(os.path.join(d, n)).st_ino in new_files
                         for d, _, fs in os.walk(deploy / "releases" / left[0]) for n in fs)
            assert linked == stop_at
        else:
            assert re.fullmatch(r"\d{8}-\d{6}-\d{6}", left[0])  # complete, never switched to
        assert live(deploy) == good
        assert broken_links(base_url, login, start) == {}  # `current` serves the good release

        publish(demo_build, sections, demo_accounts, deploy, listen)  # the next one completes
        newest = live(deploy)
        assert releases(deploy) == [good, newest]  # the leftover and the oldest are pruned
        assert broken_links(base_url, login, start) == {}
    finally:
        local_server.stop(proc)


@needs_root
def test_invoke_publish_checks_what_www_data_can_read(base, tmp_path):
    from tests.helpers import run_invoke

    site = base / "srv"
    env = {"SCHOOLPLEIN_OUTPUT": str(tmp_path / "output"), "SCHOOLPLEIN_DEPLOY": str(site),
           "SCHOOLPLEIN_PRIVATE": str(tmp_path / "private"),
           "SCHOOLPLEIN_PHOTO_CACHE": str(tmp_path / "cache"),
           "SCHOOLPLEIN_AUDIT": str(tmp_path / "audit"), "SCHOOLPLEIN_WEB_USER": WEB}
    first = run_invoke("publish", "--target", "nginx", env=env)
    assert first.returncode == 0, first.stderr
    assert f"Bestandsrechten in orde voor de webserver ({WEB})" in first.stdout
    good = live(site / "nginx")

    site.chmod(0o700)  # as if the deploy folder were moved under /root
    second = run_invoke("publish", "--target", "nginx", env=env)
    assert second.returncode == 1
    assert "de webserver kan niet alles lezen. De vorige versie blijft online." in second.stderr
    assert f"{site}: de webserver ({WEB}) kan deze map niet in" in second.stderr
    assert f"oplossing: chmod o+x {site}" in second.stderr and "Traceback" not in second.stderr
    assert live(site / "nginx") == good and releases(site / "nginx") == [good]
