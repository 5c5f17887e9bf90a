"""The secret scan after one new post reads only what is new, and still misses no secret.

A file that is the very same file as at the last scan that passed (device, inode, size,
mtime) is not read again; a new or rewritten file is, and every file is compared with a
secret that is new since that scan.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from publish import secret_scan
from publish.secret_scan import Verified, leaks
from publish.targets.cloudfront.signing import generate_key_pair


def _school(tmp_path: Path):
    private = tmp_path / "private"
    key = private / "cloudfront-private-key.pem"
    generate_key_pair(key)
    (private / "accounts.csv").write_text("person_id,login,hash\nouder-001,a@b.nl,$2b$04$x\n")
    out = tmp_path / "output"
    for n in range(20):
        page = out / "groep" / f"groep-{n}" / "index.html"
        page.parent.mkdir(parents=True)
        page.write_text(f"<p>Bericht {n}</p>" * 40)
    return private, key, out, Verified(tmp_path / "cache" / secret_scan.VERIFIED, out)


def _scan(private: Path, out: Path, record: Path) -> list[str]:
    secrets = [p for p in private.rglob("*") if p.is_file()]
    return sorted(p.file.rsplit("output/", 1)[1]
                  for p in leaks(out, secrets, Verified(record, out)))


def _reads(monkeypatch) -> list[str]:
    read: list[str] = []
    real = secret_scan.holds_private_key
    monkeypatch.setattr(secret_scan, "holds_private_key",
                        lambda path: (read.append(Path(path).name), real(path))[1])
    return read


def test_after_a_passed_scan_only_the_new_page_is_read(tmp_path, monkeypatch):
    private, _key, out, verified = _school(tmp_path)
    assert _scan(private, out, verified.path) == []
    new = out / "groep" / "groep-3" / "2027-03-01-nieuw" / "index.html"
    new.parent.mkdir()
    new.write_text("<p>Nieuw</p>")
    read = _reads(monkeypatch)
    assert _scan(private, out, verified.path) == []
    assert read == ["index.html"]  # the new page; none of the 20 unchanged ones


def test_a_page_rewritten_with_a_key_is_found_though_it_was_trusted(tmp_path):
    private, key, out, verified = _school(tmp_path)
    assert _scan(private, out, verified.path) == []
    page = out / "groep" / "groep-4" / "index.html"
    with open(page, "ab") as fh:  # the same inode, written in place
        fh.write(b"-----BEGIN PRIVATE KEY-----\n")
    shutil.copy(key, out / "groep" / "groep-5" / "index.html")  # a copy: new bytes, same name
    assert _scan(private, out, verified.path) == ["groep/groep-4/index.html",
                                                  "groep/groep-5/index.html"]


def test_a_new_secret_equal_to_an_unchanged_page_is_found(tmp_path):
    """The page was fine at the last scan; the secret it equals came later."""
    private, _key, out, verified = _school(tmp_path)
    assert _scan(private, out, verified.path) == []
    shutil.copy(out / "groep" / "groep-7" / "index.html", private / "brief-ouder-007.html")
    assert _scan(private, out, verified.path) == ["groep/groep-7/index.html"]


def test_a_failed_scan_trusts_nothing_next_time(tmp_path, monkeypatch):
    private, key, out, verified = _school(tmp_path)
    shutil.copy(key, out / "groep" / "groep-1" / "index.html")
    assert _scan(private, out, verified.path) == ["groep/groep-1/index.html"]
    assert not verified.path.exists()
    read = _reads(monkeypatch)
    assert _scan(private, out, verified.path) == ["groep/groep-1/index.html"]
    assert len(read) == 19  # every page but the copy (found by its hash) read in full


def test_another_output_folder_is_read_in_full(tmp_path, monkeypatch):
    private, _key, out, verified = _school(tmp_path)
    assert _scan(private, out, verified.path) == []
    aside = tmp_path / "aside"
    os.rename(out, aside)  # the same files (inodes) under another folder: a dry run's
    read = _reads(monkeypatch)
    assert leaks(aside, [private / "accounts.csv"], Verified(verified.path, aside)) == []
    assert len(read) == 20


def test_the_record_of_the_secrets_hashes_is_for_its_owner_only(tmp_path):
    private, _key, out, verified = _school(tmp_path)
    assert _scan(private, out, verified.path) == []
    assert "BEGIN" not in verified.path.read_text()  # hashes, never the secrets themselves
    assert verified.path.stat().st_mode & 0o077 == 0
