"""The last look before any target publishes: no secret in the output, wherever it sits.

The build refuses symlinks in its sources (plugins.sources) and the CloudFront
target uploads by allow-list, but a secret can still come in as a plain copy
(`cp private/cloudfront-private-key.pem theme/static/css/x.css`, a hard link,
a plugin bug). So every target, before it sends a byte or replaces a live
file, refuses an output file whose bytes equal a file under private/, the
CloudFront private key, .env or a roster file, or which holds a PEM
private-key header (`-----BEGIN … PRIVATE KEY-----`) anywhere in it.
One module, used by every target (publish.targets.*.TARGET.publish and plan).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from plugins.errors import Problem, SchoolpleinError, display_path
from plugins.settings import Settings

PEM_KEY_RE = re.compile(rb"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")
_MARK = b"PRIVATE KEY-----"
_CHUNK = 1 << 20
_OVERLAP = 64  # a header split across two chunks is still found
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


def leaks(output: Path, secrets: Iterable[Path]) -> list[Problem]:
    """A Problem for every output file that is a copy of a secret or holds a private key."""
    by_size: dict[int, dict[str, Path]] = {}
    for secret in secrets:
        try:
            size = secret.stat().st_size
        except OSError:
            continue
        if size:  # an empty file equals every empty file: nothing to leak
            by_size.setdefault(size, {})[_sha256(secret)] = secret
    problems = []
    for directory, _dirs, names in os.walk(output, followlinks=False):
        for name in sorted(names):
            path = Path(directory, name)
            if path.is_symlink() or not path.is_file():
                continue  # the targets refuse those themselves, before this
            same = by_size.get(path.stat().st_size)
            copy_of = same.get(_sha256(path)) if same else None
            if copy_of is not None:
                problems.append(Problem(display_path(path), None,
                                        f"dit bestand is een kopie van {display_path(copy_of)} "
                                        "(geheim of persoonlijk); er is niets gepubliceerd", FIX))
            elif holds_private_key(path):
                problems.append(Problem(display_path(path), None,
                                        "dit bestand bevat een privésleutel (-----BEGIN … PRIVATE "
                                        "KEY-----); er is niets gepubliceerd", FIX))
    return problems


def refuse_secrets(output: Path, settings: Settings) -> None:
    """Stop a publish, before anything goes out, when the output holds a secret."""
    problems = leaks(Path(output), secret_files(settings))
    if problems:
        raise SchoolpleinError(problems)
