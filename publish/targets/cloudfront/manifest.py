"""What the bucket holds after the last complete publish, and the hashes of the files sent.

A publish after one new post must not list a school year's objects (14 list
requests per 14,000 objects) nor read and hash every photo again. After a publish
that completed, this file names every object it left in the bucket with its size,
MD5 and sha256, and each output file's identity (device, inode, size, mtime) when
it was hashed. The next publish compares with it instead of listing the bucket,
and hashes only the files whose identity changed.

It is trusted only as the record of a publish that finished: before a publish
changes anything in the bucket the record of the bucket is dropped (fsync), so an
interrupted publish, a record of another bucket, one whose last real listing is older
than MAX_AGE (someone may have changed the bucket by hand, a restored backup of
`private/` may miss this morning's uploads), a clock gone back, or an unreadable file
mean: list the bucket. The age counts from the last listing, not from the last
publish: a publish that trusted the record carries the listing's time forward.
Deleting the file does the same. It lives in the private folder: keys name the
family sections.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path

FILE_NAME = "cloudfront-bucket.json"
MAX_AGE = 24 * 3600  # a full comparison with the bucket at least once a day


class BucketManifest:
    def __init__(self, path: Path | str):
        self.path = Path(path)
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            self.bucket, self.at = data["bucket"], float(data["at"])
            self.listed_at = float(data["listed_at"])
            self.files: dict[str, list] = dict(data["files"])
        except (OSError, ValueError, KeyError, TypeError):
            self.bucket, self.at, self.listed_at, self.files = None, 0.0, 0.0, {}

    @classmethod
    def in_folder(cls, private_dir: Path | str) -> BucketManifest:
        return cls(Path(private_dir) / FILE_NAME)

    def objects(self, bucket: str, now: float | None = None) -> dict[str, tuple] | None:
        """(size, md5, sha256) per key the bucket holds, or None: list the bucket instead."""
        age = (time.time() if now is None else now) - self.listed_at
        if self.bucket != bucket or not 0 <= age <= MAX_AGE:
            return None
        return {key: (entry[2], entry[4], entry[5]) for key, entry in self.files.items()}

    def hashes(self, key: str, identity: list[int]) -> tuple[str, str] | None:
        """(md5, sha256) of a file that is the same file (identity) as when it was hashed."""
        entry = self.files.get(key)
        return (entry[4], entry[5]) if entry and entry[:4] == identity else None

    def forget_bucket(self) -> None:
        """Before the bucket changes: until this publish completes, nothing is known of it."""
        if self.bucket is not None:
            self.bucket = None
            self._write()

    def record(self, bucket: str, files: Mapping[str, list], listed: bool) -> None:
        """The bucket holds exactly `files` (key -> identity + [md5, sha256]) now.

        `listed`: this publish compared with a listing of the bucket (else with this
        record, whose listing time stays).
        """
        now = time.time()
        self.bucket, self.at, self.files = bucket, now, dict(files)
        if listed:
            self.listed_at = now
        self._write()

    def _write(self) -> None:
        from postvak.store import write_file  # whole, durable, owner-only

        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_file(self.path, json.dumps({"bucket": self.bucket, "at": self.at,
                                          "listed_at": self.listed_at,
                                          "files": self.files}).encode("utf-8"))
