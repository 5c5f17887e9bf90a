"""The sha256 of large inputs, read once: remembered by each file's identity, as git's index does.

A warm build needs the digest of every source photo (the photo cache's key, the
leak check), of every rendition it links out (photos.cache.intact) and of every
file of every post (team_pages.post_version). Reading 2,000 photos of 12 MP for
that costs more than the rest of a one-post build. An entry holds the file's
identity, (device, inode, size, mtime_ns, ctime_ns), with its path; a file whose
identity is the same still has the same bytes. Any write changes the ctime,
which no program can set back (`os.utime` restores the mtime only, and itself
moves the ctime); a rename or a replaced file changes the path or the inode.

Fail closed: an entry is only trusted when all of it matches and it is well formed;
a cache that cannot be read, is of another version, or holds anything else is
ignored and the file is read. An entry recorded less than RACY_NS after the
file's last change is not trusted either: a change in the same clock tick could
leave the identity as it was ("racy git"); such a file is hashed again until its
entry is old enough. The cache holds paths and hashes only, never bytes.

`ctime=False` is for the photo cache's renditions only: the build hard-links them
into every output and release, and each link moves their ctime, so with it they
would be read at every build. Only the cache writes them (a new file, renamed into
place), so there (device, inode, size, mtime_ns) names their bytes, as it names an
output file's in plugins.incremental's manifest.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import time
from collections.abc import Iterable
from pathlib import Path

VERSION = 1
RACY_NS = 2_000_000_000  # coarser than any file system's time stamps (FAT: 2 s)
_HEX = re.compile(r"^[0-9a-f]{64}$")


def _identity(st: os.stat_result, ctime: bool = True) -> list[int]:
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns if ctime else 0]


def _valid(entry) -> bool:
    return (isinstance(entry, list) and len(entry) == 7
            and all(type(n) is int for n in entry[:6]) and isinstance(entry[6], str)
            and _HEX.match(entry[6]) is not None)


def sha256_of(path: str | os.PathLike) -> tuple[str, os.stat_result, os.stat_result]:
    """(sha256 of the bytes, the file's stat before and after the read), from one open file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        before = os.fstat(f.fileno())
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
        after = os.fstat(f.fileno())
    return h.hexdigest(), before, after


class Digests:
    """sha256 by path and identity, kept in one JSON file (`path=None`: this process only)."""

    def __init__(self, path: Path | str | None, ctime: bool = True):
        self.path = Path(path) if path is not None else None
        self.ctime = ctime
        self.entries: dict[str, list] = {}
        self.seen: set[str] = set()  # every file asked about, by its absolute path
        self.dirty = False
        if self.path is None:
            return
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and data.get("v") == VERSION and data.get(
                    "ctime") is ctime and isinstance(data.get("files"), dict):
                self.entries = data["files"]
        except (OSError, ValueError):
            pass

    def sha256(self, path: str | os.PathLike) -> str:
        """The file's sha256: from the cache when its identity is unchanged, else read."""
        name = os.path.abspath(path)
        self.seen.add(name)
        st = os.stat(name)
        entry = self.entries.get(name)
        changed = max(st.st_mtime_ns, st.st_ctime_ns if self.ctime else 0)
        if (_valid(entry) and entry[:5] == _identity(st, self.ctime)
                and entry[5] - changed > RACY_NS):
            return entry[6]
        recorded = time.time_ns()  # before the read: a change after it is never older
        digest, before, after = sha256_of(name)
        if stat.S_ISREG(before.st_mode) and _identity(before) == _identity(after):
            self.entries[name] = [*_identity(before, self.ctime), recorded, digest]
        else:
            self.entries.pop(name, None)  # changed while read: nothing to remember
        self.dirty = True
        return digest

    def forget_except(self, paths: Iterable[str | os.PathLike]) -> None:
        """Keep the entries of `paths` only (files gone or no longer used are forgotten)."""
        live = {os.path.abspath(p) for p in paths}
        kept = {k: v for k, v in self.entries.items() if k in live}
        if len(kept) != len(self.entries):
            self.entries, self.dirty = kept, True

    def save(self) -> None:
        """Whole or not at all, owner-only: a build killed mid-write leaves the previous file."""
        if self.path is None or not self.dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"v": VERSION, "ctime": self.ctime, "files": self.entries}, fh)
        os.replace(tmp, self.path)
        self.dirty = False
