"""A publish after one change does only that change's work, and the release is the same.

The incremental build hard-links every unchanged page from the previous output; the
release links them again. Their .gz copies are linked from the live release instead of
compressed anew, and the release reaches the disk with one syncfs instead of one fsync
per file. What nginx serves must not differ from a release made from scratch.
"""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path

from publish import accounts
from publish.targets import basic_auth
from publish.targets.basic_auth import releases
from publish.targets.basic_auth.servers import COMPRESSED


def _output(demo_build, tmp_path: Path) -> Path:
    """A copy of the demo output that the test may change (as the build does: new inodes)."""
    out = tmp_path / "output"
    shutil.copytree(demo_build[0], out)
    return out


def _replace(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".new")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _gz_of(release: Path) -> dict[str, bytes]:
    return {p.relative_to(release).as_posix(): p.read_bytes() for p in release.rglob("*.gz")}


def _publish(out, deploy, sections, demo_accounts):
    return basic_auth.publish(out, deploy, sections,
                              accounts.load_accounts(demo_accounts[0]), "127.0.0.1:1")


def test_a_second_publish_links_unchanged_gz_and_compresses_the_changed_page(
        demo_build, sections, demo_accounts, tmp_path):
    out = _output(demo_build, tmp_path)
    first = _publish(out, tmp_path / "deploy", sections, demo_accounts).current.resolve()
    page = out / "school" / "index.html"
    _replace(page, page.read_bytes().replace(b"</body>", b"<p>Nieuw bericht</p></body>"))
    # the next build's output: unchanged files linked from the output the release came from
    second = _publish(out, tmp_path / "deploy", sections, demo_accounts).current.resolve()
    assert first != second
    changed = second / "school" / "index.html.gz"
    assert b"Nieuw bericht" in gzip.decompress(changed.read_bytes())
    assert changed.stat().st_ino != (first / "school" / "index.html.gz").stat().st_ino
    same = second / "index.html.gz"
    assert same.stat().st_ino == (first / "index.html.gz").stat().st_ino  # linked, not redone

    # byte for byte what a release made from scratch holds
    scratch = _publish(_output(demo_build, tmp_path / "x"), tmp_path / "scratch", sections,
                       demo_accounts).current.resolve()
    expected = _gz_of(scratch)
    expected["school/index.html.gz"] = gzip.compress(
        (second / "school" / "index.html").read_bytes(), compresslevel=9, mtime=0)
    assert _gz_of(second) == expected
    for rel, packed in _gz_of(second).items():
        assert gzip.decompress(packed) == (second / rel[:-3]).read_bytes()
    assert all(p.suffix in COMPRESSED for p in (second / r[:-3] for r in expected))


def test_without_syncfs_every_file_and_folder_is_fsynced(demo_build, sections, demo_accounts,
                                                         tmp_path, monkeypatch):
    synced: list[str] = []
    real = releases._fsync
    monkeypatch.setattr(releases, "_syncfs", lambda root: False)
    monkeypatch.setattr(releases, "_fsync", lambda p: (synced.append(str(p)), real(p)))
    out = _output(demo_build, tmp_path)
    live = _publish(out, tmp_path / "deploy", sections, demo_accounts).current.resolve()
    written = {os.path.join(d, n) for d, ds, fs in os.walk(live) for n in fs + ds}
    renamed = {p.replace(f"{releases.PARTIAL_PREFIX}{live.name}", live.name) for p in synced}
    assert len(written) > 50 and written <= renamed


def test_syncfs_is_used_on_linux(tmp_path):
    assert releases._syncfs(tmp_path) is True
