"""Basic-auth cost on real nginx: a parent opening a group page with all its photos.

    .venv/bin/python benchmarks/auth.py [--rounds 5] [--parents 50]

The demo school is built once and published twice with the same generated
nginx config; only the accounts' bcrypt cost differs:

before  cost 10, the previous default: every request (every photo) pays ~55 ms
after   accounts.BCRYPT_COST (4), the current choice

Measured in the same run, alternating, median of --rounds:
one_parent_ms   one parent, one keep-alive connection: the post page, then every
                thumbnail of it, one after another (what a phone does, minus
                parallelism);
crowd_ms        --parents parents at once, each doing the same on its own connection;
                wall time until the last one finished; crowd_req_p95_ms is the
                95th percentile of single requests in that crowd.
Ratios are before/after. One JSON line.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import http.client
import io
import json
import logging
import re
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from plugins.roster import load_roster  # noqa: E402
from plugins.site import build  # noqa: E402
from publish import accounts  # noqa: E402
from publish.targets import basic_auth  # noqa: E402
from publish.targets.basic_auth import local_server  # noqa: E402

POSTS = {"groep-3": "/groep/groep-3/2026-10-02-kinderboerderij/",
         "groep-4": "/groep/groep-4/2026-10-09-herfstwandeling/"}


def _visit(port: int, login: tuple[str, str], post: str) -> list[float]:
    """Seconds per request: the page, then each thumbnail it shows."""
    token = base64.b64encode(f"{login[0]}:{login[1]}".encode()).decode()
    headers = {"Authorization": f"Basic {token}"}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    times = []
    try:
        start = time.perf_counter()
        conn.request("GET", post, headers=headers)
        resp = conn.getresponse()
        page = resp.read().decode()
        assert resp.status == 200, resp.status
        times.append(time.perf_counter() - start)
        thumbs = sorted(set(re.findall(r'<img src="([^"]+-480\.jpg)"', page)))
        assert len(thumbs) >= 3, thumbs
        for url in thumbs:
            start = time.perf_counter()
            conn.request("GET", url, headers=headers)
            resp = conn.getresponse()
            resp.read()
            assert resp.status == 200, (url, resp.status)
            times.append(time.perf_counter() - start)
    finally:
        conn.close()
    return times


def _measure(port: int, readers: list[tuple[tuple[str, str], str]], crowd: int):
    one = sum(_visit(port, *readers[0]))
    with ThreadPoolExecutor(max_workers=crowd) as pool:
        start = time.perf_counter()
        runs = list(pool.map(lambda i: _visit(port, *readers[i % len(readers)]), range(crowd)))
        wall = time.perf_counter() - start
    singles = sorted(t for run in runs for t in run)
    return one, wall, singles[int(0.95 * (len(singles) - 1))], len(runs[0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--parents", type=int, default=50)
    args = ap.parse_args()
    logging.disable(logging.WARNING)
    work = Path(tempfile.mkdtemp(prefix="sp-auth-bench-"))
    procs = []
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            settings = build(output_path=str(work / "out"), photo_cache_dir=str(work / "cache"),
                             photo_audit_dir=str(work / "audit"))
        sections = settings["SCHOOLPLEIN_SECTIONS"]
        roster = load_roster(ROOT / "roster")
        servers = {}
        for name, cost in (("before", 10), ("after", accounts.BCRYPT_COST)):
            change = accounts.sync_accounts(roster, work / name, rounds=cost, letters=False)
            phrase = {i.person_id: i.passphrase for i in change.issued}
            readers = [((p.email, phrase[p.id]), POSTS[slug]) for p in roster.parents.values()
                       for slug in sorted({roster.children[c].group for c in p.children})
                       if slug in POSTS]
            port = local_server.free_port()
            deploy = basic_auth.publish(work / "out", work / f"deploy-{name}", sections,
                                        accounts.load_accounts(work / name), f"127.0.0.1:{port}")
            procs.append(local_server.start(deploy, port))
            servers[name] = (port, readers)
        results: dict[str, list] = {name: [] for name in servers}
        for _ in range(args.rounds):
            for name, (port, readers) in servers.items():
                results[name].append(_measure(port, readers, args.parents))
        out = {"benchmark": "auth", "rounds": args.rounds, "parents": args.parents,
               "requests_per_visit": results["after"][0][3]}
        for name, runs in results.items():
            out[f"{name}_one_parent_ms"] = round(statistics.median(r[0] for r in runs) * 1000, 1)
            out[f"{name}_crowd_ms"] = round(statistics.median(r[1] for r in runs) * 1000, 1)
            out[f"{name}_crowd_req_p95_ms"] = round(statistics.median(r[2] for r in runs) * 1000, 1)
        for key in ("one_parent_ms", "crowd_ms", "crowd_req_p95_ms"):
            out[f"ratio_{key.removesuffix('_ms')}"] = round(out[f"before_{key}"]
                                                            / out[f"after_{key}"], 1)
        print(json.dumps(out))
    finally:
        for proc in procs:
            local_server.stop(proc)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
