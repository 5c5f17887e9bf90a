"""No publish goes live with inputs older than what is on disk: one site lock, and a fingerprint.

Every build that is published (`invoke publish`, `invoke beeldgebruik`, a
postvak round, the demo's rebuild) runs under one site lock, from before its
build reads anything until its release is live, so two publishes never
overlap and the later one always read the later roster. A second publish
waits for the lock; it never gives up (a withdrawal round must publish).

The postvak processes outside that lock (an absence must reach the teacher
while a slow publish runs), so it can change the roster during a build. The
publish therefore takes a fingerprint of every input before the build and
compares it again after the build and right before the switch; when anything
changed, the switch does not happen (`Stale`) and the build starts over.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from plugins.settings import Settings

LOCK_NAME = "publiceren.lock"  # in the private folder


class Stale(Exception):
    """The inputs changed after the build read them: build again, never switch to it."""


@contextlib.contextmanager
def site_lock(settings: Settings, out: Callable[[str], None] = print,
              poll: float = 0.2) -> Iterator[None]:
    """Hold the one site lock; wait (saying so once) while another publish holds it.

    The lock is an flock on `private/publiceren.lock`: the kernel releases it when
    its holder exits or is killed, so a crashed publish never blocks the next one.
    """
    folder = Path(settings.private)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not told:
                    out("Er loopt al een publicatie; deze wacht tot die klaar is.")
                    told = True
                time.sleep(poll)
        yield
    finally:
        os.close(fd)


def _hash_files(digest, root: Path) -> None:
    """Small inputs (roster, threads, accounts): by content."""
    if root.is_file():
        digest.update(root.name.encode() + b"\0" + root.read_bytes() + b"\0")
        return
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")


def _stat_files(digest, root: Path) -> None:
    """Content (photos too): by every file's name, size, inode and change times.

    A rewritten or replaced file always gets a new ctime (which no program can
    set back) or a new inode, so this notices every edit without reading photos.
    """
    for directory, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(directory, name)
            st = os.lstat(path)
            digest.update(f"{os.path.relpath(path, root)}\0{st.st_size}\0{st.st_ino}\0"
                          f"{st.st_mtime_ns}\0{st.st_ctime_ns}\n".encode())


def fingerprint(settings: Settings) -> str:
    """Everything a build and publish read that can change while they run."""
    from plugins.family_threads import FOLDER as THREADS  # the file the build reads
    from plugins.team_pages import STATUS_FOLDER as TEAM_STATUS  # and the team pages' statuses
    from publish.accounts import store_path

    digest = hashlib.sha256()
    for label, path, how in (("roster", settings.roster, _hash_files),
                             ("threads", settings.private / THREADS, _hash_files),
                             ("team", settings.private / TEAM_STATUS, _hash_files),
                             ("accounts", store_path(settings.private), _hash_files),
                             ("content", settings.content, _stat_files)):
        digest.update(f"[{label}]\n".encode())
        if Path(path).exists():
            how(digest, Path(path))
    return digest.hexdigest()
