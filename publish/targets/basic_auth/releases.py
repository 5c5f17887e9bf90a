"""Releases of the basic-auth target: complete, readable for the web server, switched atomically.

The deploy folder holds complete releases and `current` is swapped atomically,
so a failed build never reaches parents and files dropped from the output (a
revoked photo) disappear from what nginx serves at the next publish. A release
is written under a temporary name and renamed when complete, so a killed
publish never becomes one.
"""

from __future__ import annotations

import contextlib
import fcntl
import grp
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from plugins.errors import Problem, SchoolpleinError
from plugins.photos.settings import PHOTO_DIR
from plugins.sections import SectionMap
from publish.accounts import Account
from publish.freshness import Stale

from . import permissions
from .access import (
    PASSWORD_FILE,
    Access,
    discard_password_files,
    install_password_files,
    write_password_files,
)
from .release_tree import Tree, make_tree
from .servers import (
    APACHE_DIR,
    TEAM_DIR,
    apache_login_hook,
    apache_vhost,
    nginx_server,
    write_htaccess,
)

RELEASE_RE = re.compile(r"^\d{8}-\d{6}-\d{6}$")  # a complete release: its final name
PARTIAL_PREFIX = ".partial-"  # a release being written; never served, rsynced or kept
TRASH = ".weg"  # in releases/: releases on their way out, deleted beside the work
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
    def spool(self) -> Path:
        """The postvak: what parents PUT lands here, outside every release (never served)."""
        return self.root / "postvak"

    @property
    def nginx_conf(self) -> Path:
        return self.root / "nginx-schoolplein.conf"

    @property
    def apache_conf(self) -> Path:
        return self.root / "apache-schoolplein.conf"

    @property
    def apache_login_hook(self) -> Path:
        return self.root / "apache-schoolplein.lua"


def _files(root: Path) -> dict[str, Path]:
    return {p.relative_to(root).as_posix(): p for p in root.rglob("*")
            if p.is_file() and p.name != ".htaccess" and p.suffix != ".gz"}


def plan(output: Path, deploy_root: Path) -> tuple[list[str], list[str], list[str]]:
    """What a publish would add, change and remove compared with the live release."""
    current = Deploy(Path(deploy_root).resolve()).current
    new = _files(Path(output))
    old = _files(current.resolve()) if current.exists() else {}
    changed = sorted(k for k in new.keys() & old.keys()
                     if new[k].read_bytes() != old[k].read_bytes())
    return sorted(new.keys() - old.keys()), changed, sorted(old.keys() - new.keys())


def _fsync(path: Path | str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _syncfs(root: Path) -> bool:
    """syncfs(2) on the file system holding `root`: every file and folder written to it is
    on disk when it returns 0. False where there is no syncfs (not Linux) or it failed."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        syncfs = libc.syncfs
    except (OSError, AttributeError):
        return False
    fd = os.open(root, os.O_RDONLY)
    try:
        return syncfs(fd) == 0
    finally:
        os.close(fd)


def _fsync_tree(root: Path) -> None:
    """Every file and folder on disk before the release gets its final name.

    One syncfs(2) of the release's file system: a school year's release is ~15,000
    files and folders, and one fsync each took 1-3 ms (40 s) even for the unchanged
    pages that were already on disk. Without syncfs (or if it fails): fsync each.
    """
    if _syncfs(root):
        return
    for directory, _dirs, files in os.walk(root, topdown=False):
        for name in files:
            _fsync(os.path.join(directory, name))
        _fsync(directory)


def _grant_web_group(deploy: Deploy, user: permissions.WebUser | None,
                     files: list[Path]) -> None:
    """Password files 640 with the web server's group (when this user may chgrp them).

    Never world-readable; the folder holding them is enterable but not listable.
    """
    if deploy.htpasswd.is_dir():
        os.chmod(deploy.htpasswd, 0o711)
    for path in files:
        os.chmod(path, 0o640)
    _chgrp(files, user)


def _make_spool(deploy: Deploy, user: permissions.WebUser | None, sections: SectionMap) -> None:
    """The postvak spool: writable for the web server's group, closed to everyone else.

    The setgid bit keeps what the server creates inside in that group, so the
    admin's `invoke postvak` (root or a member of the group) can read and remove
    it. Apache's DAV needs each family's folder to exist before a PUT.
    """
    folders = [deploy.spool, deploy.spool / APACHE_DIR, deploy.spool / TEAM_DIR,
               deploy.spool / TEAM_DIR / APACHE_DIR]  # the staff postvak's part (postvak.team)
    folders += [deploy.spool / APACHE_DIR / s.key for s in sections.protected
                if s.kind == "family"]
    folders += [deploy.spool / TEAM_DIR / APACHE_DIR / s.key for s in sections.protected
                if s.kind == "team"]
    for folder in folders:
        folder.mkdir(exist_ok=True)
        os.chmod(folder, 0o2770)
    _chgrp(folders, user)


def _chgrp(paths: list[Path], user: permissions.WebUser | None) -> None:
    """Give `paths` the web server's primary group, when this user may (else the check says how)."""
    if user is None:
        return
    gid = grp.getgrnam(user.group).gr_gid
    for path in paths:
        with contextlib.suppress(PermissionError):
            os.chown(path, -1, gid)


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


def _kept_and_going(releases: Path, live: Path | None, previous: Path | None,
                   keep: int) -> tuple[list[Path], list[Path]]:
    """The complete releases beside `live` that stay (newest first) and those that go.

    `live` and the release before it (`previous`) are kept first; a release counts
    only under its final name (RELEASE_RE), never a partial or the trash."""
    complete = [p for p in releases.iterdir() if p.is_dir() and RELEASE_RE.match(p.name)]
    others = sorted((p for p in complete if p != live),
                    key=lambda p: (p == previous, p.name), reverse=True)
    return others[:max(keep - 1, 0)], others[max(keep - 1, 0):]


def _reusable(releases: Path, live: Path | None, keep: int) -> Path | None:
    """The newest complete release this publish would delete after its switch (never the
    live one): the new release is made by bringing it up to date (release_tree)."""
    _kept, going = _kept_and_going(releases, None, live, keep)  # as after the switch
    return next((p for p in going if p != live), None)


def _prune(releases: Path, live: Path, previous: Path | None, keep: int,
           gone_from_previous: list[str] | None = None, photos: set[str] | None = None) -> None:
    """Keep the live release and the one before it (complete ones only); drop partials.

    What goes is renamed into the trash at once (no longer a release: never served, kept
    or rsynced) and deleted by a process of its own: a school year's release is ~15,000
    files, which took 19 s to delete, after the new release was already live. The trash
    is inside releases/, so the rename never crosses a file system (EXDEV). Then every
    kept release loses the photos the live one no longer has: `gone_from_previous` names
    them for `previous` (release_tree found them), any other kept release is walked.
    """
    kept, going = _kept_and_going(releases, live, previous, keep)
    going += releases.glob(PARTIAL_PREFIX + "*")
    trash = releases / TRASH
    failed: OSError | None = None
    for old in going:
        try:
            _to_trash(old, trash)
        except OSError as exc:  # still a release: it must lose the withdrawn photos too
            failed = failed or exc
            kept.append(old)
    if going:
        _fsync(releases)
    _drop_withdrawn_photos(releases, live, kept, previous, gone_from_previous, photos)
    _empty_trash(trash)
    _empty_trash(releases.parent / TRASH)  # where older versions left it
    if failed is not None:
        raise failed


def _to_trash(old: Path, trash: Path) -> None:
    trash.mkdir(mode=0o700, exist_ok=True)
    os.rename(old, trash / old.name.removeprefix(PARTIAL_PREFIX))


def _empty_trash(trash: Path) -> None:
    """Delete the trash in a process of its own (also what a cut-off deletion left)."""
    import subprocess

    if trash.is_dir() and any(trash.iterdir()):
        subprocess.Popen(["rm", "-rf", "--", *map(str, trash.iterdir())], start_new_session=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _photos(release: Path) -> dict[str, str]:
    found = {}
    base = len(str(release)) + 1
    for directory, _dirs, files in os.walk(release):
        if os.path.basename(directory) == PHOTO_DIR:
            for name in files:  # os.walk lists symlinks to files among the files
                path = os.path.join(directory, name)
                found[path[base:].replace(os.sep, "/")] = path
    return found


def _drop_withdrawn_photos(releases: Path, live: Path, kept: list[Path],
                           previous: Path | None = None,
                           gone_from_previous: list[str] | None = None,
                           photos: set[str] | None = None) -> None:
    """Every kept release loses the photos the live one no longer has, at this publish.

    A withdrawn (or dropped) photo must not wait on disk in the release before,
    nor on the server: rsync --delete removes it there in the same run. A
    rollback to the kept release then shows its pages without those photos.
    """
    wanted = photos if photos is not None else _photos(live).keys()
    for release in kept:
        if release == previous and gone_from_previous is not None:
            gone = [os.path.join(release, rel) for rel in gone_from_previous]
        else:
            gone = [path for rel, path in _photos(release).items() if rel not in wanted]
        for path in gone:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        for folder in {os.path.dirname(path) for path in gone}:
            with contextlib.suppress(FileNotFoundError):
                _fsync(folder)


def _settle_htaccess(release: Path, written: list[Path], tree: Tree) -> None:
    """The .htaccess files just written readable like the rest; those of a reused release
    that were not written again (a section gone) removed."""
    for path in written:
        for folder in reversed(path.relative_to(release).parents[:-1]):
            os.chmod(release / folder, 0o755)  # folders write_htaccess may have made
        os.chmod(path, 0o644)
    for stale in set(tree.htaccess) - {str(p) for p in written}:
        os.unlink(stale)
        if os.path.dirname(stale) in tree.htaccess_only:  # a section's folder, now empty
            os.rmdir(os.path.dirname(stale))


def _discard(partial: Path, releases: Path) -> None:
    """A release that will not go live: into the trash (emptied after the next publish)."""
    if partial.exists():
        try:
            _to_trash(partial, releases / TRASH)
        except OSError:
            shutil.rmtree(partial, ignore_errors=True)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def rsync_command(deploy_root: Path, dest: str) -> list[str]:
    """rsync of the deploy folder: complete releases only, never a partial or the lock."""
    return ["rsync", "-a", "--delete", "--delete-excluded", "--delay-updates",
            "--filter=P /postvak/", "--exclude=/postvak/",  # the server's inbox: never touched
            f"--exclude=/releases/{PARTIAL_PREFIX}*", f"--exclude=/{LOCK_NAME}",
            "--exclude=/current.tmp", f"--exclude=/releases/{TRASH}/", f"--exclude=/{TRASH}/",
            f"{deploy_root}/", f"{dest}/"]


def publish(output: Path, deploy_root: Path, sections: SectionMap,
            accounts: dict[str, Account], listen: str, hsts: bool = False,
            keep: int = 2, server_root: Path | None = None, web_user: str | None = None,
            out: Callable[[str], None] = print,
            fresh: Callable[[], bool] | None = None) -> Deploy:
    """Make a new release from a checked build output and switch to it atomically.

    The release is written as `releases/.partial-<stamp>`, made readable, synced
    to disk and only then renamed to `releases/<stamp>`: a publish killed on the
    way never becomes a release, and the next one removes what it left. With
    `web_user` (production), everything the web server reads is checked for
    that user first (publish.permissions); a problem stops the publish before
    `current` moves. `server_root` is where the deploy folder lives on the web
    server (rsync target); the generated configs name paths there. `fresh`
    (publish.freshness) is asked right before the switch: False removes the new
    release, keeps the live one and raises Stale (the caller builds again).
    After the switch every kept release loses the photos the new one dropped.
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
        # Every check first, then writes: the password files are written beside the live
        # ones (*.new) and only moved into place once the release and they passed.
        live = deploy.current.resolve() if deploy.current.is_symlink() else None
        live_dir = live if live is not None and live.is_dir() else None
        reuse = _reusable(releases, live, keep)
        try:
            if reuse is not None:
                os.rename(reuse, partial)  # from now on a partial: never served or kept
                _fsync(releases)  # before any change inside: it never comes back as complete
            user = permissions.WebUser.find(web_user) if web_user else None
            may = ((lambda st, is_dir: permissions.may_read(user, st, is_dir))
                   if user is not None else None)
            tree = make_tree(str(output), str(partial), live_dir and str(live_dir), may)
            access = Access.derive(sections, accounts)
            staged = write_password_files(access, deploy.htpasswd)
            _settle_htaccess(partial, write_htaccess(sections, partial, served.htpasswd), tree)
            _make_spool(deploy, user, sections)
            if web_user:
                _grant_web_group(deploy, user, staged)
                out(permissions.check_readable(
                    user or web_user, partial, staged,
                    served_from=None if server_root else deploy.root, spool=deploy.spool,
                    unreadable=tree.unreadable))
            _fsync_tree(partial)
            for path in staged:
                _fsync(path)
        except BaseException:
            _discard(partial, releases)
            discard_password_files(deploy.htpasswd)
            raise
        if fresh is not None and not fresh():  # the inputs changed since the build read them
            _discard(partial, releases)
            discard_password_files(deploy.htpasswd)  # nor the accounts it derived
            raise Stale
        install_password_files(staged)
        os.rename(partial, release)
        _fsync(releases)
        _write_atomic(deploy.nginx_conf,
                      nginx_server(access, served.current, served.password_file, listen,
                                   served.spool, hsts))
        _write_atomic(deploy.apache_login_hook, apache_login_hook(served.htpasswd))
        os.chmod(deploy.apache_login_hook, 0o644)  # Apache's workers read it (a 077 umask won't do)
        _write_atomic(deploy.apache_conf, apache_vhost(listen, served.current, served.htpasswd,
                                                       sections, served.spool / APACHE_DIR,
                                                       served.apache_login_hook, hsts))
        previous = deploy.current.resolve() if deploy.current.is_symlink() else None
        link = deploy.root / "current.tmp"
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(release.relative_to(deploy.root))
        os.replace(link, deploy.current)
        _fsync(deploy.root)
        # the withdrawn photos leave the kept releases also when a release cannot go
        _prune(releases, release, previous, keep,
               tree.gone_from_live if previous == live_dir else None, tree.photos)
    return deploy
