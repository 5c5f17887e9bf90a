"""The tags and decisions of each post folder, remembered: a warm build reads no tag file again.

Reading every photo's XMP, its sidecars and fotos.txt and deciding each photo costs
about 3 ms a photo: at 2,000 photos that is most of a one-post build. Both are pure
functions of their inputs, so an entry keeps them under a key of everything they
depend on:

* the code that reads and decides (tags.py, xmp.py, names.py, rules.py, blur.py,
  settings.py, errors.py) and the photo settings (minimum children, consent default,
  blur, ...);
* the roster the decision reads (every child, group, consent and family, canonically:
  any roster change, a consent withdrawn or a child moved, is another key) and the
  post's section (its key, prefix, readers and children: a post moved to another
  section, or a section whose audience changed, is another key);
* the folder, the working directory (the display paths in messages) and every file
  in the folder by its identity, with and without following a symlink
  (plugins.digests: any write moves the ctime; a renamed, added or removed file
  changes the listing);
* per photo, its sha256 and whether it is a symlink (a photo edited in place is
  another digest).

A folder with a file changed less than RACY_NS before the build is not stored (the
same clock tick could hide a change). Decisions made on the tags of other copies of
the same picture (photos.posts._join_copies) are never taken from here: they are made
again at every build. Only this build's folders are kept. The entries hold tag text
and child ids, as private as the photo cache they live in (owner-only, never in the
output); a file that cannot be read, or of another version, is ignored.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import hashlib
import os
import pickle
import time
from collections.abc import Mapping
from pathlib import Path, PurePath

from .. import digests

VERSION = 1
_HERE = Path(__file__).resolve().parent
CODE = (*(_HERE / n for n in ("tags.py", "xmp.py", "names.py", "rules.py", "blur.py",
                              "settings.py", "outcomes.py")), _HERE.parent / "errors.py")
FILE = "outcomes.pickle"


def canonical(obj) -> object:
    """A value of primitives whose repr is the same in every process (sets sorted)."""
    if isinstance(obj, str | int | float | bool | type(None)):
        return obj
    if isinstance(obj, bytes):
        return ("bytes", hashlib.sha256(obj).hexdigest())
    if isinstance(obj, enum.Enum):
        return (type(obj).__qualname__, canonical(obj.value))
    if isinstance(obj, datetime.date | datetime.time | datetime.timedelta):
        return repr(obj)
    if isinstance(obj, PurePath):
        return ("path", str(obj))
    if dataclasses.is_dataclass(obj):
        return (type(obj).__qualname__,
                tuple((f.name, canonical(getattr(obj, f.name))) for f in dataclasses.fields(obj)))
    if isinstance(obj, Mapping):
        return ("map", tuple(sorted(((repr(canonical(k)), canonical(v)) for k, v in obj.items()),
                                    key=lambda kv: kv[0])))
    if isinstance(obj, set | frozenset):
        return ("set", tuple(sorted(repr(canonical(v)) for v in obj)))
    if isinstance(obj, list | tuple):
        return ("seq", tuple(canonical(v) for v in obj))
    raise TypeError(f"no canonical form for {type(obj).__name__}")


def fingerprint(*parts) -> str:
    return hashlib.sha256(repr(canonical(parts)).encode()).hexdigest()


def _identity(st: os.stat_result) -> tuple[int, ...]:
    return (st.st_mode, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def listing(folder: Path) -> tuple[tuple, int]:
    """(every entry of the folder by name with its identity, the newest change in ns)."""
    rows, newest = [], 0
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        own = os.lstat(entry.path)
        try:
            target = os.stat(entry.path)
        except OSError:
            target = None
        rows.append((entry.name, _identity(own), _identity(target) if target else None))
        for st in (own, target):
            if st is not None:
                newest = max(newest, st.st_mtime_ns, st.st_ctime_ns)
    return tuple(rows), newest


class Outcomes:
    """One file of entries by folder: {folder: (key, tags, loose, {photo name: (key, decision)})}."""

    def __init__(self, cache_dir: Path, roster, settings):
        self.path = Path(cache_dir) / FILE
        self.base = fingerprint(VERSION, *(p.read_bytes() for p in CODE), settings, roster,
                                os.getcwd())
        self.started = time.time_ns()
        self.entries: dict[str, tuple] = {}
        self.fresh: dict[str, tuple] = {}
        self.sections: dict[int, tuple] = {}  # id -> (the section, kept alive; its fingerprint)
        self.dirty = False
        try:
            with open(self.path, "rb") as fh:
                data = pickle.load(fh)
            if isinstance(data, dict) and data.get("v") == VERSION and data.get(
                    "base") == self.base and isinstance(data.get("folders"), dict):
                self.entries = data["folders"]
        except (OSError, ValueError, EOFError, pickle.UnpicklingError, AttributeError,
                ImportError, TypeError, IndexError):
            pass

    def folder_key(self, folder: Path, section) -> tuple[str, bool]:
        """(the folder's key, whether it may be stored: nothing in it changed just now)."""
        rows, newest = listing(folder)
        if id(section) not in self.sections:  # many posts share a section: its readers once
            self.sections[id(section)] = (section, fingerprint(section))
        return (fingerprint(str(folder), self.sections[id(section)][1], rows),
                self.started - newest > digests.RACY_NS)

    def tags(self, folder: Path, key: str):
        """(tags by photo name, loose problems) of the folder under `key`, or None."""
        entry = self.entries.get(str(folder))
        return (entry[1], entry[2]) if entry and entry[0] == key else None

    def decision(self, folder: Path, key: str, photo: str, item_key: tuple):
        entry = self.entries.get(str(folder))
        if not entry or entry[0] != key:
            return None
        found = entry[3].get(photo)
        return found[1] if found and found[0] == item_key else None

    def keep(self, folder: Path, key: str, storable: bool, tags, loose,
             decisions: dict[str, tuple]) -> None:
        if not storable:
            self.dirty = self.dirty or str(folder) in self.entries
            return
        value = (key, tags, loose, decisions)
        self.fresh[str(folder)] = value
        old = self.entries.get(str(folder))
        if old is None or old[0] != key or old[3].keys() != decisions.keys() or any(
                old[3][n][0] != d[0] for n, d in decisions.items()):
            self.dirty = True

    def save(self, prune: bool = True) -> None:
        """Whole or not at all, owner-only; `prune`: only this build's folders are kept."""
        if not prune:
            self.fresh = {**self.entries, **self.fresh}
        if not self.dirty and self.fresh.keys() == self.entries.keys():
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{FILE}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            pickle.dump({"v": VERSION, "base": self.base, "folders": self.fresh}, fh,
                        protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, self.path)
