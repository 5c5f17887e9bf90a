"""The CloudFront invalidation journal: paths that must still leave the edge.

Photos are sent with `max-age=31536000, immutable`, so CloudFront may keep a
withdrawn photo for a year unless its path is invalidated. The bucket cannot
tell a re-run what an interrupted publish already deleted, so every path that
must be invalidated is written here (durably: fsync + rename) *before* the
publish deletes or overwrites anything, and an entry is removed only after
CloudFront accepted an invalidation that covers it. Every publish first sends
what an earlier one left.

The journal is private (`SCHOOLPLEIN_PRIVATE`, default private/): the paths
name family sections.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

FILE_NAME = "cloudfront-invalidations.json"


@dataclass(frozen=True)
class Entry:
    path: str  # a CloudFront path as sent: `/groep/groep-3/fotos/…jpg`, `/school/*`
    reason: str  # Dutch, for the dry run
    since: str  # when it was recorded (ISO time)


def covers(invalidated: str, path: str) -> bool:
    """Whether an invalidation path (possibly ending in `*`) covers a journal path."""
    if invalidated == path:
        return True
    return invalidated.endswith("*") and path.rstrip("*").startswith(invalidated[:-1])


class InvalidationJournal:
    """A small JSON file of pending invalidation paths, rewritten atomically."""

    def __init__(self, path: Path | str):
        self.path = Path(path)

    @classmethod
    def in_folder(cls, private_dir: Path | str) -> InvalidationJournal:
        return cls(Path(private_dir) / FILE_NAME)

    def pending(self) -> tuple[Entry, ...]:
        """What is still to be invalidated; `/*` when the journal cannot be read (fail closed)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return tuple(Entry(**e) for e in data["wachtend"])
        except FileNotFoundError:
            return ()
        except (ValueError, TypeError, KeyError, AttributeError):
            return (Entry("/*", "journaal onleesbaar: alles vernieuwen", ""),)

    def record(self, paths: Iterable[str], reason: str) -> None:
        """Add paths (existing ones keep their first reason); durable before returning."""
        entries = {e.path: e for e in self.pending()}
        now = datetime.now().astimezone().isoformat(timespec="seconds")
        new = [p for p in dict.fromkeys(paths) if p not in entries]
        if not new:
            return
        entries.update({p: Entry(p, reason, now) for p in new})
        self._write(entries.values())

    def clear(self, invalidated: Iterable[str]) -> tuple[Entry, ...]:
        """Drop every entry an accepted invalidation covers; return what was dropped."""
        batch = tuple(invalidated)
        entries = self.pending()
        done = tuple(e for e in entries if any(covers(b, e.path) for b in batch))
        if done:
            self._write(e for e in entries if e not in done)
        return done

    def _write(self, entries: Iterable[Entry]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        data = {"uitleg": "CloudFront-paden die nog vernieuwd moeten worden; de volgende "
                          "'invoke publish --target cloudfront' doet dat eerst",
                "wachtend": [asdict(e) for e in entries]}
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False, indent=1)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)
        folder = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)  # the rename itself survives a crash
        finally:
            os.close(folder)
