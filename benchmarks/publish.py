"""Benchmark: uploads after a clean rebuild, Schoolplein's content sync vs `aws s3 sync`.

A school year (16 groups, 1,300 text-only posts, paginated section indexes and
feeds listing the latest posts) is published to a local moto S3 server. Then
every file is deleted and regenerated (new mtimes, same bytes) and one new
post is added. `aws s3 sync` uploads a file when its size differs or the local
mtime is newer than the object's LastModified; Schoolplein compares content.

    .venv/bin/python benchmarks/publish.py

prints one JSON line: {"files", "schoolplein_uploads", "s3sync_rule_uploads", "ratio"}.
"""

from __future__ import annotations

import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import boto3  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402

from plugins.sections import Section, SectionMap  # noqa: E402
from publish.s3sync import list_bucket, scan_output, sync  # noqa: E402

GROUPS = 16
POSTS = 1300
PER_PAGE = 10
FEED_ITEMS = 20
BUCKET = "schoolplein-benchmark"


def section_map() -> SectionMap:
    none = frozenset()
    sections = [Section("public", "public", "/", "Kc de Matrix", none, none),
                Section("school", "school", "/school/", "Kc de Matrix", none, none)]
    sections += [Section("group", f"groep-{n}", f"/groep/groep-{n}/", f"Groep {n}", none, none)
                 for n in range(1, GROUPS + 1)]
    return SectionMap(tuple(sections))


def school_year(posts: int) -> dict[str, list[tuple[str, str]]]:
    """Posts per section directory, newest last: (slug, title)."""
    rng = random.Random(2026)
    dirs = ["school"] + [f"groep/groep-{n}" for n in range(1, GROUPS + 1)]
    by_dir: dict[str, list[tuple[str, str]]] = {d: [] for d in dirs}
    for n in range(posts):
        day = f"2026-{9 + n * 10 // posts:02d}-{1 + n % 28:02d}"
        by_dir[rng.choice(dirs)].append((f"{day}-bericht-{n:04d}", f"Bericht {n}"))
    return by_dir


def page(title: str, body: str) -> str:
    return (f'<!doctype html><html lang="nl"><head><meta charset="utf-8"><title>{title}</title>'
            f'<link rel="stylesheet" href="/theme/css/main.3f2a9c1d.css"></head>'
            f"<body><main><h1>{title}</h1>{body}</main></body></html>\n")


def generate(root: Path, by_dir: dict[str, list[tuple[str, str]]]) -> None:
    """The build output; a new post changes its section's index pages and feed."""
    if root.exists():
        shutil.rmtree(root)
    files = {
        "index.html": page("Kc de Matrix", "<p>Welkom</p>"),
        "login/index.html": page("Inloggen", ""),
        "login/login.js": "// login\n",
        "privacy/index.html": page("Privacy", "<p>Privacyverklaring</p>"),
        "robots.txt": "User-agent: *\nDisallow: /\n",
        "theme/css/main.3f2a9c1d.css": "body{font-family:sans-serif}\n" * 40,
        "403.html": page("Niet ingelogd", ""),
    }
    for d, posts in by_dir.items():
        for slug, title in posts:
            text = f"<p>{title}: " + "Vandaag hebben we veel geleerd. " * 30 + "</p>"
            files[f"{d}/{slug}/index.html"] = page(title, text)
        newest = list(reversed(posts))
        pages = [newest[i:i + PER_PAGE] for i in range(0, len(newest), PER_PAGE)] or [[]]
        for n, chunk in enumerate(pages, start=1):
            items = "".join(f'<li><a href="/{d}/{s}/">{t}</a></li>' for s, t in chunk)
            key = f"{d}/index.html" if n == 1 else f"{d}/pagina/{n}/index.html"
            files[key] = page(d, f"<ul>{items}</ul><p>Pagina {n} van {len(pages)}</p>")
        entries = "".join(f"<entry><title>{t}</title><id>/{d}/{s}/</id></entry>"
                          for s, t in newest[:FEED_ITEMS])
        files[f"{d}/feed.atom"] = f'<?xml version="1.0"?><feed>{entries}</feed>\n'
    for key, text in files.items():
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


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
        sections = section_map()
        by_dir = school_year(POSTS)
        with tempfile.TemporaryDirectory() as tmp:
            output = Path(tmp) / "output"
            generate(output, by_dir)
            started = time.monotonic()
            sync(output, s3, BUCKET, sections, progress=False, out=lambda _: None)
            first = time.monotonic() - started

            time.sleep(1.1)  # LastModified has one-second resolution
            by_dir["groep/groep-7"].append(("2027-06-30-nieuw-bericht", "Nieuw bericht"))
            generate(output, by_dir)  # clean rebuild: every file new, mtimes newer
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
