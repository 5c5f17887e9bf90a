"""The files of a new release: the build output hard-linked, readable, a .gz beside each page.

A school year's release is ~14,000 files in ~2,000 folders, and one new post changes a few
dozen of them. Linking them all anew cost ~1 s of system time, and every later pass (the
.gz copies, the modes, the web server's check, the withdrawn photos) read them all again.
So the release that a publish would delete anyway (the oldest kept one, complete and
synced when it got its name) is renamed to the new partial release and brought up to date
in one walk: an entry that is the very same file (inode) as in the output stays, any other
is replaced, and what the output no longer has is removed. What it holds then is what a
release made from nothing holds (tests/targets/basic_auth/test_release_reuse.py). Without
such a release (the first publish, after an interrupted one) the walk starts from nothing.

The same walk reads the live release's folders beside it: a changed page whose new file is
the live one's gets its .gz linked, and the photos the live release has and the output not
are named, so the publish removes them from the live release after the switch (withdrawn
photos never wait in a kept release).
"""

from __future__ import annotations

import contextlib
import gzip
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field

from plugins.errors import DISK_ERRNOS
from plugins.photos.settings import PHOTO_DIR

from .servers import COMPRESSED

FILE_MODE, DIR_MODE = 0o644, 0o755
HTACCESS = ".htaccess"  # Apache's per-folder rules: written after the walk (servers.write_htaccess)


@dataclass
class Tree:
    """What the walk found; `unreadable` is what the web server could not read (with `may`)."""

    photos: set[str] = field(default_factory=set)  # relative paths of the release's photos
    gone_from_live: list[str] = field(default_factory=list)  # photos the live one still has
    unreadable: list[tuple[str, os.stat_result, bool]] = field(default_factory=list)
    htaccess: list[str] = field(default_factory=list)  # .htaccess files found in the reused tree
    # (and folders holding nothing else): the ones not written again go after write_htaccess
    htaccess_only: list[str] = field(default_factory=list)  # those folders, not in the output
    written: list[str] = field(default_factory=list)  # entries created or replaced (new inodes)


def _entries(path: str) -> dict[str, os.DirEntry]:
    try:
        with os.scandir(path) as found:
            return {e.name: e for e in found}
    except (FileNotFoundError, NotADirectoryError):
        return {}


def _is_dir(entry: os.DirEntry) -> bool:
    return entry.is_dir(follow_symlinks=False)


def _is_skipped(entry: os.DirEntry) -> bool:
    """A symlink to a folder is not part of a release (os.walk never entered it either)."""
    return entry.is_symlink() and entry.is_dir()


def _remove(path: str, is_dir: bool) -> None:
    if is_dir:
        shutil.rmtree(path)
    else:
        os.unlink(path)


def _link(src: str, dst: str) -> None:
    """A hard link, or a copy where the output is on another file system (a full disk stops)."""
    try:
        os.link(src, dst)
    except OSError as exc:
        if exc.errno in DISK_ERRNOS:
            raise
        shutil.copy2(src, dst)


def _photos_below(root: str, rel: str, into: list[str]) -> None:
    """Every photo under `root/rel` (a folder the output no longer has)."""
    base = len(root) + 1
    for directory, _dirs, files in os.walk(os.path.join(root, rel)):
        if os.path.basename(directory) == PHOTO_DIR:
            into.extend(os.path.join(directory, name)[base:].replace(os.sep, "/")
                        for name in files)


def make_tree(src: str, dst: str, live: str | None,
              may: Callable[[os.stat_result, bool], bool] | None = None) -> Tree:
    """Make `dst` (an existing release to reuse, or nothing yet) hold exactly `src`.

    `live`: the live release (its .gz copies and photos). `may(st, is_dir)`: whether the
    web server may read an entry as it is now; what it may not is in `Tree.unreadable`.
    """
    tree = Tree()

    def settle(path: str, st: os.stat_result, is_dir: bool) -> None:
        wanted = DIR_MODE if is_dir else FILE_MODE
        if st.st_mode & 0o7777 != wanted:  # unchanged inodes stay clean (nothing to sync)
            os.chmod(path, wanted)
            st = os.lstat(path)
        if may is not None and not may(st, is_dir):
            tree.unreadable.append((path, st, is_dir))

    if not os.path.isdir(dst):
        os.mkdir(dst, DIR_MODE)
        tree.written.append(dst)
    settle(dst, os.lstat(dst), True)
    # An inode number names a file only on its own file system: an output on another one
    # is copied, and a copy whose number happens to equal the new output file's is stale.
    device = os.stat(src).st_dev
    reusable = os.stat(dst).st_dev == device
    live_same_fs = live is not None and os.stat(live).st_dev == device
    stack = [""]
    while stack:
        rel = stack.pop()
        here_src, here_dst = os.path.join(src, rel), os.path.join(dst, rel)
        sources = _entries(here_src)
        present = _entries(here_dst)
        lived = _entries(os.path.join(live, rel)) if live is not None else {}
        keep: set[str] = set()
        for name in sorted(sources):
            entry = sources[name]
            if _is_skipped(entry):
                continue
            target = os.path.join(here_dst, name)
            old = present.get(name)
            if _is_dir(entry):
                keep.add(name)
                if old is not None and not _is_dir(old):
                    os.unlink(target)
                    old = None
                if old is None:
                    os.mkdir(target, DIR_MODE)
                    tree.written.append(target)
                    settle(target, os.lstat(target), True)
                else:
                    settle(target, old.stat(follow_symlinks=False), True)
                stack.append(os.path.join(rel, name))
                continue
            keep.add(name)
            inode = entry.inode()
            same = reusable and old is not None and not _is_dir(old) and old.inode() == inode
            if not same:
                if old is not None:
                    _remove(target, _is_dir(old))
                _link(entry.path, target)
                tree.written.append(target)
                st = os.lstat(target)
            else:
                st = old.stat(follow_symlinks=False)
            settle(target, st, False)
            if os.path.basename(here_src) == PHOTO_DIR:
                tree.photos.add(os.path.join(rel, name).replace(os.sep, "/"))
            if os.path.splitext(name)[1] in COMPRESSED:
                gz = name + ".gz"
                if _gzip(entry, target, same and gz in present,
                         lived if live_same_fs else {}, gz, tree):
                    keep.add(gz)
                    settle(target + ".gz", os.lstat(target + ".gz"), False)
        for name, entry in present.items():
            if name in keep:
                continue
            if name == HTACCESS:  # servers.write_htaccess writes them again; the rest goes then
                tree.htaccess.append(entry.path)
                continue
            if _is_dir(entry) and set(_entries(entry.path)) == {HTACCESS}:
                tree.htaccess.append(os.path.join(entry.path, HTACCESS))  # a section's folder
                tree.htaccess_only.append(entry.path)  # that only write_htaccess makes
                continue
            with contextlib.suppress(FileNotFoundError):  # a .gz _gzip removed already
                _remove(entry.path, _is_dir(entry))
        if live is not None:
            gone = tree.gone_from_live
            for name, entry in lived.items():
                source = sources.get(name)
                if (source is not None and not _is_skipped(source)
                        and _is_dir(source) == _is_dir(entry)):
                    continue  # the same name and kind in the new release (a folder: walked)
                # gone, a link to a folder (never part of a release) or another kind now
                if _is_dir(entry):
                    _photos_below(live, os.path.join(rel, name), gone)
                elif os.path.basename(here_src) == PHOTO_DIR:
                    gone.append(os.path.join(rel, name).replace(os.sep, "/"))
    return tree


def _gzip(entry: os.DirEntry, target: str, kept: bool, lived: dict[str, os.DirEntry],
          gz: str, tree: Tree) -> bool:
    """A .gz of `target` beside it (True), or none where compressing does not make it smaller.

    `kept`: the reused release's .gz belongs to this very file. A file that is the very same
    file as the live release's gets that .gz linked: gzip of the same bytes gives the same
    bytes (mtime=0). Anything else is compressed (level 9, once per publish).
    """
    if kept:
        return True
    packed_path = target + ".gz"
    with_live = lived.get(entry.name)
    if with_live is not None and not _is_dir(with_live) and with_live.inode() == entry.inode():
        old = os.path.join(os.path.dirname(with_live.path), gz)
        try:
            if os.path.lexists(packed_path):
                os.unlink(packed_path)
            os.link(old, packed_path)
            tree.written.append(packed_path)
            return True
        except OSError:
            pass  # compressed below (a full disk stops there, naming the file)
    with open(target, "rb") as fh:
        data = fh.read()
    packed = gzip.compress(data, compresslevel=9, mtime=0)
    if len(packed) >= len(data):
        if os.path.lexists(packed_path):
            os.unlink(packed_path)
        return False
    if os.path.lexists(packed_path):
        os.unlink(packed_path)  # never write into a .gz another release shares
    with open(packed_path, "wb") as fh:
        fh.write(packed)
    tree.written.append(packed_path)
    return True
