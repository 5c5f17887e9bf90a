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

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

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


def _state(release: Path, deploy: Path) -> dict[str, tuple[int, bytes]]:
    """Every entry of a release: its mode and bytes (folders: mode only; the deploy folder's
    own path, which the .htaccess files name, left out)."""
    found = {}
    for directory, dirs, files in os.walk(release):
        for name in dirs + files:
            path = os.path.join(directory, name)
            rel = os.path.relpath(path, release)
            found[rel] = (os.lstat(path).st_mode, b"" if name in dirs else
                          Path(path).read_bytes().replace(bytes(deploy), b"DEPLOY"))
    return found


CHANGES = ("edit", "remove", "remove-folder", "add-folder", "file-to-folder", "withdraw-photo",
           "incompressible")


def _change(out: Path, what: str, n: int) -> None:
    """One change a build can make to its output (new inodes, as the build writes)."""
    pages = sorted(out.rglob("index.html"))
    photos = sorted(out.rglob("fotos/*"))
    page = pages[n % len(pages)]
    if what == "edit":
        _replace(page, page.read_bytes().replace(b"</body>", f"<p>{n}</p></body>".encode()))
    elif what == "remove" and len(pages) > 3:
        page.unlink()
    elif what == "remove-folder":
        folders = sorted({p.parent for p in pages if p.parent != out})
        shutil.rmtree(folders[n % len(folders)])
    elif what == "add-folder":
        (out / "school" / f"nieuw-{n}").mkdir(parents=True, exist_ok=True)
        (out / "school" / f"nieuw-{n}" / "index.html").write_text(f"<p>nieuw {n}</p>" * 40)
    elif what == "file-to-folder":
        page.unlink()
        (page / "index.html").parent.mkdir(parents=True)
        (page / "index.html").write_text(f"<p>{n}</p>" * 30)
    elif what == "withdraw-photo" and photos:
        photos[n % len(photos)].unlink()
    elif what == "incompressible":
        _replace(page, os.urandom(64))  # its .gz would be larger: none


@settings(max_examples=6, deadline=None, phases=(Phase.explicit, Phase.generate),  # no shrink:
          suppress_health_check=[HealthCheck.too_slow,
                                                                HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(st.tuples(st.sampled_from(CHANGES), st.integers(0, 10_000)),
                         min_size=1, max_size=3), min_size=2, max_size=4))
def test_a_release_brought_up_to_date_equals_one_made_from_nothing(
        demo_build, sections, demo_accounts, tmp_path_factory, publishes):
    """Property: after any series of builds (edits, removals, folders gone or new, a page
    turned into a folder, withdrawn photos, a page gzip cannot shrink), the release made by
    updating the oldest kept one holds exactly the entries, modes and bytes of a release
    made from the same output from nothing, its files are the output's (same inodes), and
    no kept release holds a photo the live one does not."""
    tmp = tmp_path_factory.mktemp("reuse")
    out = _output(demo_build, tmp)
    deploy = tmp / "deploy"
    _publish(out, deploy, sections, demo_accounts)
    for step, changes in enumerate(publishes):
        for what, n in changes:
            _change(out, what, n)
        live = _publish(out, deploy, sections, demo_accounts).current.resolve()
        scratch_out = tmp / f"scratch-out-{step}"
        shutil.copytree(out, scratch_out)
        scratch = _publish(scratch_out, tmp / f"scratch-{step}", sections,
                           demo_accounts).current.resolve()
        made, expected = _state(live, deploy), _state(scratch, tmp / f"scratch-{step}")
        assert made == expected, sorted(k for k in made.keys() | expected.keys()
                                        if made.get(k) != expected.get(k))[:10]
        for directory, _dirs, files in os.walk(out):
            for name in files:
                rel = os.path.relpath(os.path.join(directory, name), out)
                assert os.stat(live / rel).st_ino == os.stat(out / rel).st_ino, rel
        photos = {p.relative_to(live) for p in live.rglob("fotos/*")}
        for kept in (deploy / "releases").iterdir():
            if releases.RELEASE_RE.match(kept.name):
                assert {p.relative_to(kept) for p in kept.rglob("fotos/*")} <= photos


def test_a_htaccess_in_the_build_output_is_never_written_through(
        demo_build, sections, demo_accounts, tmp_path):
    """The release writes Apache's rules beside and over a `.htaccess` it linked from the
    output, never into it: that file is the output's, and (through the incremental build's
    links) the live release's. The output keeps its bytes, every release its own rules."""
    out = _output(demo_build, tmp_path)
    section = sections.protected[0].dir.strip("/")
    theirs = {".htaccess": "# uit de build\n", f"{section}/.htaccess": "# sectie, uit de build\n"}
    for rel, text in theirs.items():
        (out / rel).write_text(text)
    deploy = tmp_path / "deploy"
    first = _publish(out, deploy, sections, demo_accounts).current.resolve()
    rules = {rel: (first / rel).read_text() for rel in theirs}
    assert all("Require" in text or "Rewrite" in text or "Header" in text
               for text in rules.values()), rules
    for _ in range(3):  # the third publish reuses the first release
        page = sorted(out.rglob("index.html"))[0]
        _replace(page, page.read_bytes() + b"<!-- nieuw -->")
        live = _publish(out, deploy, sections, demo_accounts).current.resolve()
        for rel, text in theirs.items():
            assert (out / rel).read_text() == text, rel
            assert (live / rel).read_text() == rules[rel], rel
            assert os.stat(live / rel).st_ino != os.stat(out / rel).st_ino, rel
        for kept in (deploy / "releases").iterdir():
            if releases.RELEASE_RE.match(kept.name):
                assert {rel: (kept / rel).read_text() for rel in theirs} == rules, kept


@pytest.mark.parametrize("now", ["a link to a folder", "a file"])
def test_photos_whose_folder_became_something_else_leave_the_kept_release(
        demo_build, sections, demo_accounts, tmp_path, now):
    """A photo folder that the next output has as a link to a folder (never part of a
    release) or as a file is gone from the new release, so its photos leave the kept one
    (the release before) in the same publish."""
    out = _output(demo_build, tmp_path)
    folder = next(p for p in sorted(out.rglob("fotos")) if any(p.iterdir()))
    rel = folder.relative_to(out)
    deploy = tmp_path / "deploy"
    _publish(out, deploy, sections, demo_accounts)
    elsewhere = tmp_path / "elders"
    shutil.copytree(folder, elsewhere)
    shutil.rmtree(folder)
    if now == "a file":
        folder.write_text("<p>geen foto's meer</p>")
    else:
        folder.symlink_to(elsewhere, target_is_directory=True)
    live = _publish(out, deploy, sections, demo_accounts).current.resolve()
    assert not (live / rel).is_dir()
    kept = [p for p in (deploy / "releases").iterdir() if releases.RELEASE_RE.match(p.name)]
    assert len(kept) == 2
    for release in kept:
        left = sorted((release / rel).iterdir()) if (release / rel).is_dir() else []
        assert left == [], (release.name, left)
