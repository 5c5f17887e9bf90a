"""Benchmark: uploads after a clean rebuild, Schoolplein's content sync vs `aws s3 sync`.

The generated school year of benchmarks/build.py (16 groups, 1,300 text-only
posts) is built with Schoolplein and published to a local moto S3 server. Then
one new post is added and the site is rebuilt from scratch (Pelican deletes the
output first: every file has a new mtime, most have the same bytes).
`aws s3 sync` uploads a file when its size differs or the local mtime is newer
than the object's LastModified; Schoolplein compares content.

    .venv/bin/python benchmarks/publish.py

prints one JSON line: {"files", "schoolplein_uploads", "s3sync_rule_uploads", "ratio"}.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import boto3  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402

from benchmarks.build import make_school  # noqa: E402
from plugins.sections import SectionMap  # noqa: E402
from publish.targets.cloudfront.sync import list_bucket, scan_output, sync  # noqa: E402

GROUPS = 16
POSTS = 1300
BUCKET = "schoolplein-benchmark"


def build_site(roster: Path, content: Path, work: Path) -> SectionMap:
    """A real Schoolplein build of the generated school year (output: work/output)."""
    from plugins.site import build

    with contextlib.redirect_stdout(io.StringIO()):
        settings = build(output_path=str(work / "output"), schoolplein_roster=str(roster),
                         path=str(content), photo_cache_dir=str(work / "cache"),
                         photo_audit_dir=str(work / "audit"))
    return settings["SCHOOLPLEIN_SECTIONS"]


def s3_sync_rule(output: Path, s3) -> int:
    """Files `aws s3 sync` would upload: size differs or local mtime newer than LastModified."""
    remote = list_bucket(s3, BUCKET)
    count = 0
    for key, file in scan_output(output).items():
        obj = remote.get(key)
        if obj is None or obj.size != file.size or file.path.stat().st_mtime > obj.last_modified:
            count += 1
    return count


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    logging.disable(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        port = server.get_host_and_port()[1]
        s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}",
                          region_name="eu-central-1", aws_access_key_id="benchmark",
                          aws_secret_access_key="benchmark")
        s3.create_bucket(Bucket=BUCKET,
                         CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
        puts: list[str] = []
        s3.meta.events.register("before-parameter-build.s3.PutObject",
                                lambda params, **_: puts.append(params["Key"]))
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            roster, content = make_school(work, GROUPS, POSTS)
            sections = build_site(roster, content, work)
            output = work / "output"
            started = time.monotonic()
            sync(output, s3, BUCKET, sections, progress=False, out=lambda _: None)
            first = time.monotonic() - started

            time.sleep(1.1)  # LastModified has one-second resolution
            (content / "groep" / "groep-7" / "2027-06-30-nieuw-bericht.md").write_text(
                "Title: Nieuw bericht\nDate: 2027-06-30 10:00\nAuthor: Juf Nummer6\n\n"
                "Een nieuw bericht voor groep 7.\n", encoding="utf-8")
            build_site(roster, content, work)  # clean rebuild: every file new, mtimes newer
            files = len(scan_output(output))
            rule = s3_sync_rule(output, s3)
            puts.clear()
            started = time.monotonic()
            sync(output, s3, BUCKET, sections, progress=False, out=lambda _: None)
            second = time.monotonic() - started
            ours = len(puts)
    finally:
        server.stop()
    print(f"first publish {first:.1f}s, republish {second:.1f}s; uploaded: {sorted(puts)}",
          file=sys.stderr)
    print(json.dumps({"files": files, "schoolplein_uploads": ours, "s3sync_rule_uploads": rule,
                      "ratio": round(rule / max(ours, 1), 1)}))


if __name__ == "__main__":
    main()
