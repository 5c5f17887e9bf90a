"""The last look before any target publishes: no secret in the output, wherever it sits.

The build refuses symlinks in its sources (plugins.sources) and the CloudFront
target uploads by allow-list, but a secret can still come in as a plain copy
(`cp private/cloudfront-private-key.pem theme/static/css/x.css`, a hard link,
a plugin bug). So every target, before it sends a byte or replaces a live
file, refuses an output file whose bytes equal a file under private/, the
CloudFront private key, .env or a roster file, or which holds a PEM
private-key header (`-----BEGIN … PRIVATE KEY-----`) anywhere in it.
One module, used by every target (publish.targets.*.TARGET.publish and plan).

A publish after one new post must not read a school year's photos again: a file
that is the very same file as at the last scan that passed (device, inode, size
and mtime, which the incremental build and the hard-linked releases keep) was
read then and is only compared with the secrets that are new since
(`build cache/geheimen-scan.json`). Every new or changed file is read in full.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

from plugins.errors import Problem, SchoolpleinError, display_path
from plugins.settings import Settings

PEM_KEY_RE = re.compile(rb"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")
_MARK = b"PRIVATE KEY-----"
_CHUNK = 1 << 20
_OVERLAP = 64  # a header split across two chunks is still found
VERIFIED = "geheimen-scan.json"  # in the build cache: what the last passed scan read
FIX = ("haal het bestand uit de bron (content/, theme/ of een plugin) en bouw opnieuw; geheimen "
       "horen alleen in private/ en .env. Staat de sleutel ergens anders dan in private/, "
       "maak dan een nieuwe ('invoke rotate-keys'): hij kan gezien zijn")


def secret_files(settings: Settings) -> list[Path]:
    """Every file whose bytes may never be published: private/, the key, .env, the roster."""
    found: list[Path] = []
    for folder in (settings.private, settings.roster):
        found += _regular_files(folder)
    for single in (settings.cloudfront_private_key_file, settings.root / ".env",
                   settings.env_file):
        if single is not None and single.is_file():
            found.append(single)
    return list(dict.fromkeys(found))


def _regular_files(folder: Path) -> Iterator[Path]:
    if not folder.is_dir():
        return
    for directory, _dirs, names in os.walk(folder, followlinks=False):
        for name in names:
            path = Path(directory, name)
            if not path.is_symlink() and path.is_file():
                yield path


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def holds_private_key(path: Path) -> bool:
    """True when the file holds a PEM private-key header anywhere (read in chunks)."""
    tail = b""
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            data = tail + chunk
            if _MARK in data and PEM_KEY_RE.search(data):
                return True
            tail = data[-_OVERLAP:]
    return False


def _identity(st: os.stat_result) -> list[int]:
    """What proves a file is the one read before: a rewrite changes mtime or size, a copy
    or replacement the inode (a hard link shares it, and its bytes)."""
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns]


class Verified:
    """The last scan that passed: each output file's identity, and the secrets' hashes.

    Missing or unreadable means nothing is trusted (every file is read again)."""

    def __init__(self, path: Path | None, output: Path):
        self.path, self.output = path, str(Path(output).resolve())
        self.files: dict[str, list[int]] = {}
        self.secrets: dict[str, list] = {}  # path -> identity + [sha256]
        if path is None:
            return
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data["output"] == self.output:  # a dry run's folder aside is another output
                self.files, self.secrets = dict(data["files"]), dict(data["secrets"])
        except (OSError, ValueError, KeyError, TypeError):
            self.files, self.secrets = {}, {}

    def secret_hash(self, secret: Path, st: os.stat_result) -> str:
        """A secret's sha256, read again only when it is not the file hashed last time."""
        known = self.secrets.get(str(secret))
        if known and known[:4] == _identity(st):
            return known[4]
        return _sha256(secret)

    def save(self, files: dict[str, list[int]], secrets: dict[str, list]) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        from postvak.store import write_file  # whole and owner-only (0600)

        # owner-only: it holds the secrets' hashes (a short password file's can be guessed)
        write_file(self.path, json.dumps({"output": self.output, "files": files,
                                          "secrets": secrets}).encode("utf-8"))


def leaks(output: Path, secrets: Iterable[Path], verified: Verified | None = None
          ) -> list[Problem]:
    """A Problem for every output file that is a copy of a secret or holds a private key.

    With `verified` (the last scan that passed), a file whose identity is unchanged is
    compared only with the secrets whose bytes that scan did not know; when nothing is
    found, `verified` is rewritten with this scan."""
    verified = verified or Verified(None, output)
    by_size: dict[int, dict[str, Path]] = {}
    known_hashes = {entry[4] for entry in verified.secrets.values()}
    new_by_size: dict[int, dict[str, Path]] = {}
    seen_secrets: dict[str, list] = {}
    for secret in secrets:
        try:
            st = secret.stat()
            size = st.st_size
            digest = verified.secret_hash(secret, st) if size else ""
        except OSError:
            continue
        if size:  # an empty file equals every empty file: nothing to leak
            by_size.setdefault(size, {})[digest] = secret
            seen_secrets[str(secret)] = [*_identity(st), digest]
            if digest not in known_hashes:
                new_by_size.setdefault(size, {})[digest] = secret
    problems, files = [], {}
    base = len(str(output)) + 1
    for directory, _dirs, names in os.walk(output, followlinks=False):
        for name in sorted(names):
            path = Path(directory, name)
            st = os.lstat(path)
            if not stat.S_ISREG(st.st_mode):
                continue  # the targets refuse symlinks and the like themselves, before this
            rel = str(path)[base:]
            identity = _identity(st)
            trusted = verified.files.get(rel) == identity
            files[rel] = identity
            same = (new_by_size if trusted else by_size).get(st.st_size)
            copy_of = same.get(_sha256(path)) if same else None
            if copy_of is not None:
                problems.append(Problem(display_path(path), None,
                                        f"dit bestand is een kopie van {display_path(copy_of)} "
                                        "(geheim of persoonlijk); er is niets gepubliceerd", FIX))
            elif not trusted and holds_private_key(path):
                problems.append(Problem(display_path(path), None,
                                        "dit bestand bevat een privésleutel (-----BEGIN … PRIVATE "
                                        "KEY-----); er is niets gepubliceerd", FIX))
    if not problems:
        verified.save(files, seen_secrets)
    return problems


def refuse_secrets(output: Path, settings: Settings) -> None:
    """Stop a publish, before anything goes out, when the output holds a secret."""
    problems = leaks(Path(output), secret_files(settings),
                     Verified(Path(settings.build_cache) / VERIFIED, output))
    if problems:
        raise SchoolpleinError(problems)
