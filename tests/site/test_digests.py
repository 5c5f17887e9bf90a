"""The digest cache (plugins.digests): a file is read again whenever it may have changed."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from unittest import mock

import pytest

from plugins import digests as module
from plugins.digests import Digests
from plugins.team_pages import post_version


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def reads(monkeypatch):
    """The files read in full (the cache's misses), by name."""
    seen: list[str] = []
    real = module.sha256_of

    def counting(path):
        seen.append(os.path.basename(path))
        return real(path)

    monkeypatch.setattr(module, "sha256_of", counting)
    monkeypatch.setattr(module, "RACY_NS", 0)  # trust an entry at once: the tests run fast
    return seen


def warm(tmp_path: Path, *paths: Path, ctime: bool = True) -> Digests:
    """A cache that has seen `paths`, saved and loaded again as the next build does."""
    cache = Digests(tmp_path / "digests.json", ctime=ctime)
    for path in paths:
        cache.sha256(path)
    cache.save()
    return Digests(tmp_path / "digests.json", ctime=ctime)


def test_an_unchanged_file_is_not_read_again(tmp_path, reads):
    photo = tmp_path / "a.jpg"
    photo.write_bytes(b"foto" * 1000)
    cache = warm(tmp_path, photo)
    reads.clear()
    assert cache.sha256(photo) == sha(b"foto" * 1000)
    assert reads == []


def test_new_bytes_with_size_inode_and_mtime_kept_are_read(tmp_path, reads):
    """In place, `os.utime` back: only the ctime moved, and that is enough."""
    photo = tmp_path / "a.jpg"
    photo.write_bytes(b"A" * 4096)
    cache = warm(tmp_path, photo)
    before = photo.stat()
    with open(photo, "r+b") as fh:
        fh.write(b"B")
    os.utime(photo, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = photo.stat()
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (
        before.st_ino, before.st_size, before.st_mtime_ns)
    assert cache.sha256(photo) == sha(b"B" + b"A" * 4095)


def test_two_files_swapped_by_rename_get_each_other_s_digest(tmp_path, reads):
    a, b = tmp_path / "a.jpg", tmp_path / "b.jpg"
    a.write_bytes(b"1" * 100)
    b.write_bytes(b"2" * 100)
    cache = warm(tmp_path, a, b)
    a.rename(tmp_path / "t")
    b.rename(a)
    (tmp_path / "t").rename(b)
    assert (cache.sha256(a), cache.sha256(b)) == (sha(b"2" * 100), sha(b"1" * 100))


def test_a_replaced_file_is_read(tmp_path, reads):
    photo = tmp_path / "a.jpg"
    photo.write_bytes(b"oud!")
    cache = warm(tmp_path, photo)
    stat = photo.stat()
    (tmp_path / "nieuw").write_bytes(b"new!")
    os.utime(tmp_path / "nieuw", ns=(stat.st_atime_ns, stat.st_mtime_ns))
    os.replace(tmp_path / "nieuw", photo)
    assert cache.sha256(photo) == sha(b"new!")


@pytest.mark.parametrize("damage", ["not json", "other version", "wrong digest form",
                                    "another file's identity", "short entry"])
def test_a_corrupt_or_foreign_cache_is_ignored(tmp_path, reads, damage):
    photo, other = tmp_path / "a.jpg", tmp_path / "b.jpg"
    photo.write_bytes(b"echt")
    other.write_bytes(b"ander")
    warm(tmp_path, photo, other)
    path = tmp_path / "digests.json"
    data = json.loads(path.read_text())
    entry = data["files"][str(photo)]
    if damage == "not json":
        path.write_text("{kapot")
    else:
        if damage == "other version":
            data["v"] = 99
        elif damage == "wrong digest form":
            entry[6] = "X" * 64
        elif damage == "another file's identity":
            data["files"][str(photo)] = data["files"][str(other)]
        else:
            data["files"][str(photo)] = entry[:5] + [entry[6]]
        path.write_text(json.dumps(data))
    reads.clear()
    assert Digests(path).sha256(photo) == sha(b"echt")
    assert reads == ["a.jpg"]


def test_a_change_within_the_racy_window_is_read_again(tmp_path, reads):
    """Written just before it was hashed: the same clock tick could hide a second write."""
    photo = tmp_path / "a.jpg"
    photo.write_bytes(b"vers")
    with mock.patch.object(module, "RACY_NS", 10**12):  # "just now" is anything this year
        cache = warm(tmp_path, photo)
        reads.clear()
        assert cache.sha256(photo) == sha(b"vers")
    assert reads == ["a.jpg"]


def test_renditions_are_not_read_again_for_a_new_hard_link(tmp_path, reads):
    """Every output links the cache's renditions, which moves their ctime: not a change."""
    rendition = tmp_path / "r.jpg"
    rendition.write_bytes(b"klein")
    cache = warm(tmp_path, rendition, ctime=False)
    os.link(rendition, tmp_path / "uitvoer.jpg")
    reads.clear()
    assert cache.sha256(rendition) == sha(b"klein") and reads == []
    rendition.write_bytes(b"KLEIN")  # a write moves the mtime: read
    assert cache.sha256(rendition) == sha(b"KLEIN")


def test_the_cache_holds_no_bytes_and_only_its_owner_reads_it(tmp_path, reads):
    photo = tmp_path / "a.jpg"
    photo.write_bytes(b"geheim-kind")
    warm(tmp_path, photo)
    path = tmp_path / "digests.json"
    assert b"geheim-kind" not in path.read_bytes()
    assert path.stat().st_mode & 0o077 == 0


def test_a_post_s_version_is_the_same_with_the_build_s_cache(tmp_path, reads):
    """The team page's version (cached) equals the one the postvak checks (read in full)."""
    folder = tmp_path / "2026-10-02-uitje"
    folder.mkdir()
    (folder / "index.md").write_text("Title: Uitje\n\nTekst.\n")
    (folder / "a.jpg").write_bytes(b"A" * 500)
    cache = warm(tmp_path, *folder.iterdir())
    assert post_version(folder, cache) == post_version(folder)
    before = (folder / "a.jpg").stat()
    with open(folder / "a.jpg", "r+b") as fh:
        fh.write(b"B")
    os.utime(folder / "a.jpg", ns=(before.st_atime_ns, before.st_mtime_ns))
    assert post_version(folder, cache) == post_version(folder)
