"""Basic-auth target: one password file, nginx config, Apache .htaccess.

One credential check for the whole school (one realm, one password file),
then a per-section decision; all of it is derived from the section map. The
deploy folder holds complete releases and `current` is swapped atomically, so
a failed build never reaches parents and files dropped from the output (a
revoked photo) disappear from what nginx serves at the next publish. A release
is written under a temporary name and renamed when complete, so a killed
publish never becomes one.
"""

from __future__ import annotations

import contextlib
import fcntl
import getpass
import grp
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from plugins.errors import Problem, SchoolpleinError
from plugins.sections import ROOTS, SectionMap

from . import permissions, security_headers
from .accounts import Account, login_spellings

TEMPLATES = Path(__file__).parent / "templates"
REALM = "Ouderplatform"  # one realm: the browser asks once and reuses it for every section
PASSWORD_FILE = "schoolplein.htpasswd"  # every login, one realm
GROUP_FILE = "schoolplein.groups"  # Apache: section name -> logins that may read it
HOMES_FILE = "schoolplein.homes"  # Apache RewriteMap: login -> own pages (/mijn/)
NOBODY_FILE = "uitloggen.htpasswd"  # no logins: /uitloggen/ refuses every password
AUTH_DELAY_MS = 200  # nginx: every failed login waits this long (see nginx-server.conf.j2)
CACHE = {"cache_photo": security_headers.CACHE_PHOTO, "cache_page": security_headers.CACHE_PAGE,
         "cache_protected": security_headers.CACHE_PROTECTED_PAGE}
GROUP_LINE_LOGINS = 40  # Apache reads at most 8 kB per line of a group file
RELEASE_RE = re.compile(r"^\d{8}-\d{6}-\d{6}$")  # a complete release: its final name
PARTIAL_PREFIX = ".partial-"  # a release being written; never served, rsynced or kept
LOCK_NAME = ".publish.lock"


@dataclass(frozen=True)
class Deploy:
    """Layout of a deploy folder."""

    root: Path

    @property
    def current(self) -> Path:
        return self.root / "current"

    @property
    def htpasswd(self) -> Path:
        return self.root / "htpasswd"

    @property
    def password_file(self) -> Path:
        return self.htpasswd / PASSWORD_FILE

    @property
    def nginx_conf(self) -> Path:
        return self.root / "nginx-schoolplein.conf"

    @property
    def apache_conf(self) -> Path:
        return self.root / "apache-schoolplein.conf"


def _env() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                       keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)


@dataclass(frozen=True)
class Access:
    """Everything the servers need to decide access, derived from the section map.

    `logins` maps every accepted spelling of a login to its person; only
    people with an account and at least one readable section appear.
    """

    sections: SectionMap
    logins: dict[str, str]  # spelling -> person id
    hashes: dict[str, str]  # person id -> bcrypt hash

    @classmethod
    def derive(cls, sections: SectionMap, accounts: dict[str, Account]) -> Access:
        readers = set().union(*(s.readers for s in sections.protected))
        logins: dict[str, str] = {}
        for pid in sorted(readers & accounts.keys()):
            for spelling in login_spellings(accounts[pid].login):
                logins.setdefault(spelling, pid)
        return cls(sections, logins, {pid: accounts[pid].hash for pid in set(logins.values())})

    def password_lines(self) -> list[str]:
        return sorted(f"{login}:{self.hashes[pid]}" for login, pid in self.logins.items())

    def logins_of(self, section) -> list[str]:
        return sorted(login for login, pid in self.logins.items() if pid in section.readers)

    def grants(self) -> list[str]:
        """'<section>:<person>' for every person with an account who may read the section."""
        people = set(self.hashes)
        return sorted(f"{s.name}:{pid}" for s in self.sections.protected
                      for pid in s.readers & people)

    def homes(self) -> list[tuple[str, str]]:
        return sorted((pid, self.sections.homes.get(pid, ROOTS["school"])) for pid in self.hashes)


def htpasswd_lines(section, accounts: dict[str, Account]) -> list[str]:
    """The password lines of the logins that may read `section` (every spelling)."""
    access = Access.derive(SectionMap((section,)), accounts)
    return access.password_lines()


def _write_private(path: Path, text: str) -> None:
    """Readable by the web server's group only (set by the admin on the folder), never others."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.chmod(tmp, 0o640)
    os.replace(tmp, path)


def write_password_files(access: Access, folder: Path) -> None:
    """The one password file, Apache's group file and its /mijn/ map."""
    folder.mkdir(parents=True, exist_ok=True)
    _write_private(folder / PASSWORD_FILE, "".join(line + "\n" for line in access.password_lines()))
    groups = []
    for section in access.sections.protected:
        logins = access.logins_of(section)
        for start in range(0, len(logins), GROUP_LINE_LOGINS):
            groups.append(f"{section.name}: " + " ".join(logins[start:start + GROUP_LINE_LOGINS]))
    _write_private(folder / GROUP_FILE, "".join(line + "\n" for line in groups))
    homes = dict(access.homes())
    _write_private(folder / HOMES_FILE, "".join(
        f"{login} {homes[pid]}\n" for login, pid in sorted(access.logins.items())))
    _write_private(folder / NOBODY_FILE, "")
    for stale in folder.glob("*.htpasswd"):  # per-section files of earlier releases
        if stale.name not in (PASSWORD_FILE, NOBODY_FILE):
            stale.unlink()


def _ascii_case_folded(logins: dict[str, str]) -> list[tuple[str, str]]:
    """nginx lower-cases (ASCII) the value it looks up in a map: one key per folded login."""
    folded: dict[str, str] = {}
    for login, pid in sorted(logins.items()):
        folded.setdefault(login.encode().lower().decode(), pid)
    return sorted(folded.items())


def nginx_server(access: Access, root: Path, password_file: Path, listen: str,
                 hsts: bool = False) -> str:
    entries = len(access.logins) + len(access.grants()) + len(access.hashes)
    return _env().get_template("nginx-server.conf.j2").render(
        sections=access.sections.protected, root=root, password_file=password_file,
        listen=listen, realm=REALM, headers=security_headers.headers(hsts),
        roots=[r.strip("/") for r in ROOTS.values()], logins=_ascii_case_folded(access.logins),
        grants=access.grants(), homes=access.homes(), default_home=ROOTS["school"],
        auth_delay_ms=AUTH_DELAY_MS, nobody_file=password_file.with_name(NOBODY_FILE),
        map_hash_max_size=max(2048, 2 * entries), **CACHE,
    )


def nginx_main(server_conf: Path, run_dir: Path) -> str:
    """A complete nginx.conf for `invoke serve` and the tests (no root needed)."""
    user = getpass.getuser()
    return _env().get_template("nginx-main.conf.j2").render(
        server_conf=server_conf, run=run_dir, user=user if os.geteuid() == 0 else None,
    )


APACHE_MODULES = ("mpm_event", "authz_core", "authn_core", "authn_file", "auth_basic",
                  "authz_user", "authz_groupfile", "dir", "mime", "headers", "rewrite")


def apache_main(vhost: Path, run_dir: Path, listen: str) -> str:
    """A complete httpd.conf for the tests; Apache never serves as root, so name a user."""
    module_dir = Path("/usr/lib/apache2/modules")
    root = os.geteuid() == 0
    return _env().get_template("apache-main.conf.j2").render(
        run=run_dir, listen=listen, vhost=vhost, modules=APACHE_MODULES, module_dir=module_dir,
        user="www-data" if root else None, group="www-data" if root else None,
    )


def apache_vhost(listen: str, root: Path, htpasswd: Path) -> str:
    return _env().get_template("apache-vhost.conf.j2").render(
        listen=listen, root=root, htpasswd=htpasswd, homes=htpasswd / HOMES_FILE)


def write_htaccess(sections: SectionMap, site: Path, htpasswd: Path, hsts: bool) -> None:
    env = _env()
    auth = {"realm": REALM, "password_file": htpasswd / PASSWORD_FILE,
            "group_file": htpasswd / GROUP_FILE, "nobody_file": htpasswd / NOBODY_FILE}
    (site / ".htaccess").write_text(env.get_template("htaccess-root.j2").render(
        headers=security_headers.headers(hsts), roots=[r.strip("/") for r in ROOTS.values()],
        **CACHE))
    for section in sections.protected:
        folder = site / section.dir
        folder.mkdir(parents=True, exist_ok=True)
        (folder / ".htaccess").write_text(env.get_template("htaccess-section.j2").render(
            section=section, **auth))
    for folder, template in (("mijn", "htaccess-mijn.j2"), ("uitloggen", "htaccess-uitloggen.j2")):
        (site / folder).mkdir(exist_ok=True)
        (site / folder / ".htaccess").write_text(env.get_template(template).render(**auth))


def _files(root: Path) -> dict[str, Path]:
    return {p.relative_to(root).as_posix(): p for p in root.rglob("*")
            if p.is_file() and p.name != ".htaccess"}


def plan(output: Path, deploy_root: Path) -> tuple[list[str], list[str], list[str]]:
    """What a publish would add, change and remove compared with the live release."""
    current = Deploy(Path(deploy_root).resolve()).current
    new = _files(Path(output))
    old = _files(current.resolve()) if current.exists() else {}
    changed = sorted(k for k in new.keys() & old.keys()
                     if new[k].read_bytes() != old[k].read_bytes())
    return sorted(new.keys() - old.keys()), changed, sorted(old.keys() - new.keys())


def _copy_tree(src: Path, dst: Path) -> None:
    """Hard-link where possible: releases are cheap, and the output dir is rebuilt anyway."""
    def link_or_copy(a, b):
        try:
            os.link(a, b)
        except OSError:
            shutil.copy2(a, b)
    shutil.copytree(src, dst, copy_function=link_or_copy)


def _make_readable(root: Path) -> None:
    """Folders 755, files 644: the web server reads the release as its own user.

    Access is enforced by nginx/Apache (basic auth), not by file modes; the build
    staging folder is 700 (mkdtemp) and would otherwise be copied as such.
    """
    os.chmod(root, 0o755)
    for directory, dirs, files in os.walk(root):
        for name in dirs:
            os.chmod(os.path.join(directory, name), 0o755)
        for name in files:
            os.chmod(os.path.join(directory, name), 0o644)


def _fsync(path: Path | str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(root: Path) -> None:
    """Every file and folder on disk before the release gets its final name."""
    for directory, _dirs, files in os.walk(root, topdown=False):
        for name in files:
            _fsync(os.path.join(directory, name))
        _fsync(directory)


def _password_files(deploy: Deploy) -> list[Path]:
    """The password file(s) the web server reads: one file, or a folder of them."""
    if deploy.htpasswd.is_dir():
        return sorted(p for p in deploy.htpasswd.iterdir() if p.is_file())
    return [deploy.htpasswd] if deploy.htpasswd.is_file() else []


def _grant_web_group(deploy: Deploy, web_user: str) -> None:
    """Password files 640 with the web server's group (when this user may chgrp them).

    Never world-readable; the folder holding them is enterable but not listable.
    """
    user = permissions.WebUser.find(web_user)
    files = _password_files(deploy)
    if deploy.htpasswd.is_dir():
        os.chmod(deploy.htpasswd, 0o711)
    for path in files:
        os.chmod(path, 0o640)
        if user is not None:
            with contextlib.suppress(PermissionError):  # the check below says how to fix it
                os.chown(path, -1, grp.getgrnam(user.group).gr_gid)


@contextlib.contextmanager
def publish_lock(root: Path):
    """One publish (or rsync) of a deploy folder at a time; released when the process dies."""
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SchoolpleinError(Problem(
                str(root), None, "er loopt al een publicatie naar deze map",
                "wacht tot die klaar is en publiceer dan opnieuw")) from None
        yield
    finally:
        os.close(fd)


def _prune(releases: Path, live: Path, previous: Path | None, keep: int) -> None:
    """Keep the live release and the one before it (complete ones only); drop partials.

    A release counts as complete only under its final name (RELEASE_RE); a
    `.partial-*` folder is what a killed publish left behind.
    """
    complete = [p for p in releases.iterdir() if p.is_dir() and RELEASE_RE.match(p.name)]
    others = sorted((p for p in complete if p != live),
                    key=lambda p: (p == previous, p.name), reverse=True)
    for old in others[max(keep - 1, 0):]:
        shutil.rmtree(old)
    for leftover in releases.glob(PARTIAL_PREFIX + "*"):
        shutil.rmtree(leftover)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def rsync_command(deploy_root: Path, dest: str) -> list[str]:
    """rsync of the deploy folder: complete releases only, never a partial or the lock."""
    return ["rsync", "-a", "--delete", "--delete-excluded", "--delay-updates",
            f"--exclude=/releases/{PARTIAL_PREFIX}*", f"--exclude=/{LOCK_NAME}",
            "--exclude=/current.tmp", f"{deploy_root}/", f"{dest}/"]


def publish(output: Path, deploy_root: Path, sections: SectionMap,
            accounts: dict[str, Account], listen: str, hsts: bool = False,
            keep: int = 2, server_root: Path | None = None, web_user: str | None = None,
            out: Callable[[str], None] = print) -> Deploy:
    """Make a new release from a checked build output and switch to it atomically.

    The release is written as `releases/.partial-<stamp>`, made readable, synced
    to disk and only then renamed to `releases/<stamp>`: a publish killed on the
    way never becomes a release, and the next one removes what it left. With
    `web_user` (production), everything the web server reads is checked for
    that user first (publish.permissions); a problem stops the publish before
    `current` moves. `server_root` is where the deploy folder lives on the web
    server (rsync target); the generated configs name paths there.
    """
    deploy = Deploy(Path(deploy_root).resolve())
    served = Deploy(Path(server_root) if server_root else deploy.root)
    releases = deploy.root / "releases"
    with publish_lock(deploy.root):
        releases.mkdir(parents=True, exist_ok=True)
        os.chmod(deploy.root, 0o755)
        os.chmod(releases, 0o755)
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        partial, release = releases / (PARTIAL_PREFIX + stamp), releases / stamp
        try:
            _copy_tree(Path(output), partial)
            access = Access.derive(sections, accounts)
            write_password_files(access, deploy.htpasswd)
            write_htaccess(sections, partial, served.htpasswd, hsts)
            _make_readable(partial)
            if web_user:
                _grant_web_group(deploy, web_user)
                out(permissions.check_readable(
                    web_user, partial, _password_files(deploy),
                    served_from=None if server_root else deploy.root))
            _fsync_tree(partial)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        os.rename(partial, release)
        _fsync(releases)
        _write_atomic(deploy.nginx_conf,
                      nginx_server(access, served.current, served.password_file, listen, hsts))
        _write_atomic(deploy.apache_conf, apache_vhost(listen, served.current, served.htpasswd))
        previous = deploy.current.resolve() if deploy.current.is_symlink() else None
        link = deploy.root / "current.tmp"
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(release.relative_to(deploy.root))
        os.replace(link, deploy.current)
        _fsync(deploy.root)
        _prune(releases, release, previous, keep)
    return deploy
