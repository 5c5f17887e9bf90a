"""From a teacher's tap on *Plaatsen* until the parents can read the post, with the demo's rounds.

    .venv/bin/python benchmarks/editor.py [--posts 20] [--photos 5] [--every 5]

A private copy of the demo school (content/ in git) is built and served by real
nginx on 127.0.0.1, and the demo's postvak rounds run beside it every --every
seconds (tasks.inbox.collect_and_process, as `invoke demo` does: collect,
process, commit, build, local release). Each post is what the editor sends:
--photos JPEGs of 2048 x 1536 (as the phone scales them), each PUT into the
staff postvak, then the manifest. The clock runs from the first PUT until a
parent of the group gets the post's page with 200.

Each tap comes at a random moment of the round cycle.
Reported (one JSON line): p50/p95 of that time, and its parts per post (medians):
upload (the PUTs), wait (until the round that takes it starts), process (collect,
check, write, git commit), build, publish (the release nginx serves). Baseline:
the git route's work for the same post (the folder written by hand, then the same
build and release, no upload, no round): ratio = p50 / baseline p50.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import http.client
import io
import json
import logging
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

KIDS = ["sem-bakker", "zoe-devries", "jayden-koster", "isa-debruijn", "floor-smit"]


def photo(seed: int) -> bytes:
    from PIL import Image

    rnd = random.Random(seed)
    small = Image.new("RGB", (64, 48))
    small.putdata([(rnd.randrange(256), rnd.randrange(256), rnd.randrange(256))
                   for _ in range(64 * 48)])
    out = io.BytesIO()
    small.resize((2048, 1536), Image.BICUBIC).save(out, "JPEG", quality=85)
    return out.getvalue()


class Http:
    def __init__(self, port: int, login: tuple[str, str]):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        token = base64.b64encode(f"{login[0]}:{login[1]}".encode()).decode()
        self.auth = {"Authorization": f"Basic {token}"}

    def request(self, method: str, path: str, body: bytes | None = None) -> int:
        for attempt in (1, 2, 3):  # a reload of nginx closes kept-alive connections
            try:
                self.conn.request(method, path, body=body, headers=self.auth)
                response = self.conn.getresponse()
                response.read()
                return response.status
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                if attempt == 3:
                    raise
        raise AssertionError("unreachable")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=20)
    parser.add_argument("--photos", type=int, default=5)
    parser.add_argument("--every", type=float, default=5.0, help="seconds between rounds")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    with contextlib.redirect_stdout(io.StringIO()):  # Pelican's own lines: one JSON line only
        summary = run(args)
    print(json.dumps(summary))


def run(args) -> dict:

    from plugins.roster import load_roster
    from plugins.settings import SCHOOL_TZ, load_settings
    from postvak.teampost import slugify
    from publish import accounts
    from publish.targets import basic_auth
    from publish.targets.basic_auth import local_server
    from publish.targets.basic_auth.inbox import collect_spool, collect_team_spool
    from tasks.common import build
    from tasks.inbox import collect_and_process

    tmp = Path(tempfile.mkdtemp(prefix="sp-editor-bench-"))
    try:
        for name in ("roster", "content"):
            shutil.copytree(ROOT / name, tmp / name)
        git = ["git", "-C", str(tmp / "content"), "-c", "user.name=Beheer",
               "-c", "user.email=beheer@example.nl"]
        for step in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "Start"]):
            subprocess.run(git + step, check=True, capture_output=True)
        port = local_server.free_port()
        env = {f"SCHOOLPLEIN_{k.upper()}": str(tmp / v) for k, v in (
            ("roster", "roster"), ("content", "content"), ("private", "private"),
            ("output", "output"), ("deploy", "deploy"), ("photo_cache", "cache"),
            ("build_cache", "build-cache"), ("audit", "audit"))}
        env["SCHOOLPLEIN_SITEURL"] = f"http://127.0.0.1:{port}"
        cfg = load_settings(ROOT, env)
        roster = load_roster(cfg.roster)
        change = accounts.sync_accounts(roster, cfg.private, rounds=4, letters=False)
        words = {i.person_id: i.passphrase for i in change.issued}
        listen = f"127.0.0.1:{port}"
        timings: dict[str, float] = {}

        def release() -> basic_auth.Deploy:
            start = time.perf_counter()
            built = build(cfg)
            timings["build"] = time.perf_counter() - start
            start = time.perf_counter()
            deploy = basic_auth.publish(cfg.output, cfg.deploy / "local", built["SCHOOLPLEIN_SECTIONS"],
                                        accounts.load_accounts(cfg.private), listen,
                                        out=lambda _text: None)
            timings["publish"] = time.perf_counter() - start
            return deploy

        deploy = release()
        proc = local_server.start(deploy, port)
        rounds: list[dict] = []
        stop = threading.Event()

        def rebuild() -> None:
            release()
            local_server.reload(proc)
            rounds[-1].update(build=timings["build"], publish=timings["publish"],
                              published=time.perf_counter())

        def collect_team(store) -> int:
            n = collect_team_spool(deploy.spool, store)
            rounds[-1]["collected"] = n
            return n

        def loop() -> None:
            while not stop.is_set():
                rounds.append({"start": time.perf_counter(), "collected": 0})
                collect_and_process(cfg, lambda s: collect_spool(deploy.spool, s), rebuild,
                                    out=lambda _t: None, collect_team=collect_team)
                rounds[-1]["end"] = time.perf_counter()
                stop.wait(args.every)

        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        teacher = roster.staff["lk-02"]
        parent = roster.parents["ouder-001"]
        put = Http(port, (teacher.email, words[teacher.id]))
        read = Http(port, (parent.email, words[parent.id]))
        results = []
        try:
            for n in range(args.posts):
                images = {f"foto-{i + 1:02d}.jpg": photo(n * 100 + i) for i in range(args.photos)}
                time.sleep(random.Random(n).uniform(0, args.every))  # a tap at any moment
                title = f"Meting {n + 1:02d}"
                ident = str(uuid.uuid4())
                manifest = {"v": 1, "soort": "bericht", "sectie": "group:groep-3", "titel": title,
                            "tekst": "Gemeten.", "fotos": [
                                {"bestand": name, "sha256": hashlib.sha256(data).hexdigest(),
                                 "kinderen": KIDS[:3 + i % 3]}
                                for i, (name, data) in enumerate(images.items())]}
                start = time.perf_counter()
                for name, data in images.items():
                    assert put.request("PUT", f"/team/lk-02/postvak/{ident}/{name}", data) == 201
                assert put.request("PUT", f"/team/lk-02/postvak/{ident}/manifest.json",
                                   json.dumps(manifest).encode()) == 201
                uploaded = time.perf_counter()
                day = datetime.now(SCHOOL_TZ).strftime("%Y-%m-%d")
                url = f"/groep/groep-3/{day}-{slugify(title)}/"
                while read.request("GET", url) != 200:
                    if time.perf_counter() - start > 120:
                        raise SystemExit(f"post {title} did not appear within 120 s")
                    time.sleep(0.05)
                seen = time.perf_counter()
                took = next(r for r in reversed(rounds) if r.get("collected") and r["start"] < seen)
                while "end" not in took:  # the release is live before the round has finished
                    time.sleep(0.05)
                results.append({"total": seen - start, "upload": uploaded - start,
                                "wait": max(0.0, took["start"] - uploaded),
                                "process": took["published"] - took["build"] - took["publish"]
                                - took["start"], "build": took["build"],
                                "publish": took["publish"]})
        finally:
            stop.set()
            thread.join(timeout=120)
        # the git route: the same post folder written by hand, then the same build and release
        baseline = []
        for n in range(max(3, args.posts // 4)):
            folder = tmp / "content" / "groep" / "groep-3" / f"2026-12-01-hand-{n}"
            folder.mkdir()
            (folder / "index.md").write_text(f"Title: Hand {n}\nDate: 2026-12-01\n"
                                             "Author: Meester Pieter Bos\n\nGemeten.\n")
            lines = []
            for i in range(args.photos):
                (folder / f"foto-{i + 1:02d}.jpg").write_bytes(photo(10_000 + n * 100 + i))
                lines.append(f"foto-{i + 1:02d}.jpg: " + ", ".join(KIDS[:3 + i % 3]))
            (folder / "fotos.txt").write_text("\n".join(lines) + "\n")
            start = time.perf_counter()
            release()
            local_server.reload(proc)
            baseline.append(time.perf_counter() - start)
        local_server.stop(proc)
        totals = [r["total"] for r in results]

        def med(key: str) -> float:
            return round(statistics.median(r[key] for r in results) * 1000)

        summary = {
            "benchmark": "editor", "posts": args.posts, "photos_per_post": args.photos,
            "round_every_s": args.every,
            "p50_ms": round(percentile(totals, 0.5) * 1000),
            "p95_ms": round(percentile(totals, 0.95) * 1000),
            "median_parts_ms": {k: med(k) for k in ("upload", "wait", "process", "build",
                                                    "publish")},
            "baseline_git_route_p50_ms": round(statistics.median(baseline) * 1000),
            "ratio_p50_to_baseline": round(percentile(totals, 0.5) / statistics.median(baseline), 2),
            "cores": 1, "note": "sequential posts; one round builds and publishes each",
        }
        return summary
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
