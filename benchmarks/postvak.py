"""The postvak under a school morning: 500 families report an absence within one minute.

    .venv/bin/python benchmarks/postvak.py [--families 500] [--seconds 60] [--workers 16]

A generated school (one child and one parent per family, 20 groups) is built
and published to real nginx on 127.0.0.1 with the generated config. Every
family PUTs one absence, spread evenly over --seconds (the morning rush);
then one round of `invoke postvak`'s work (collect from the spool, process,
send every notice to a real aiosmtpd server on 127.0.0.1) runs once.

Reported (one JSON line):
lost                  submissions sent with 201 but not applied (must be 0)
put_p50_ms/put_p95_ms PUT latency as the parents saw it
process_ms_per_item   collect + process + mail, per submission (one core, fsync on)
mails_sent/received   notices the postvak sent and the SMTP server received
baseline_ms_per_item  the same submissions written straight into the private inbox
                      with postvak.intake (no web server, no processing): the
                      floor of durable storage on this machine; ratio = process/floor
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import http.client
import io
import json
import logging
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiosmtpd.controller import Controller  # noqa: E402

import postvak  # noqa: E402
from benchmarks.build import make_school  # noqa: E402
from plugins.roster import load_roster  # noqa: E402
from plugins.settings import load_settings  # noqa: E402
from plugins.site import build  # noqa: E402
from publish import accounts  # noqa: E402
from publish.targets import basic_auth  # noqa: E402
from publish.targets.basic_auth import local_server  # noqa: E402
from publish.targets.basic_auth.inbox import collect_spool  # noqa: E402


class Inbox:
    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        with self.lock:
            self.count += len(envelope.rcpt_tos)
        return "250 OK"


def _put(port: int, login: tuple[str, str], family: str, child: str) -> tuple[int, float]:
    token = base64.b64encode(f"{login[0]}:{login[1]}".encode()).decode()
    body = json.dumps({"v": 1, "soort": "afwezigheid", "kind": child, "reden": "ziek"}).encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    start = time.perf_counter()
    conn.request("PUT", f"/gezin/{family}/postvak/{uuid.uuid4()}.json", body=body,
                 headers={"Authorization": f"Basic {token}", "Content-Type": "application/json"})
    status = conn.getresponse().status
    conn.close()
    return status, time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--families", type=int, default=500)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--workers", type=int, default=16)
    args = ap.parse_args()
    logging.disable(logging.WARNING)
    work = Path(tempfile.mkdtemp(prefix="sp-postvak-bench-"))
    smtp = Controller(Inbox(), hostname="127.0.0.1", port=local_server.free_port())
    smtp.start()
    proc = None
    try:
        roster_dir, content = make_school(work, groups=20, posts=20)
        families = args.families
        kids = (work / "roster" / "leerlingen.csv").read_text().splitlines()
        assert len(kids) - 1 >= families, "make_school made too few families"
        with contextlib.redirect_stdout(io.StringIO()):
            built = build(output_path=str(work / "out"), schoolplein_roster=str(roster_dir),
                          path=str(content), photo_cache_dir=str(work / "cache"),
                          photo_audit_dir=str(work / "audit"))
        roster = load_roster(roster_dir)
        change = accounts.sync_accounts(roster, work / "private", letters=False)
        phrase = {i.person_id: i.passphrase for i in change.issued}
        port = local_server.free_port()
        deploy = basic_auth.publish(work / "out", work / "deploy", built["SCHOOLPLEIN_SECTIONS"],
                                    accounts.load_accounts(work / "private"),
                                    f"127.0.0.1:{port}")
        proc = local_server.start(deploy, port)
        parents = sorted(roster.parents.values(), key=lambda p: p.id)[:families]
        gap = args.seconds / families

        def one(i: int):
            time.sleep(max(0.0, i * gap - (time.perf_counter() - start)))
            p = parents[i]
            return _put(port, (p.email, phrase[p.id]), p.family, p.children[0])

        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.workers) as pool:
            results = list(pool.map(one, range(families)))
        accepted = sum(1 for status, _ in results if status == 201)
        latencies = sorted(seconds * 1000 for _, seconds in results)

        env = {"SCHOOLPLEIN_ROSTER": str(roster_dir), "SCHOOLPLEIN_PRIVATE": str(work / "private"),
               "SCHOOLPLEIN_SMTP_HOST": "127.0.0.1", "SCHOOLPLEIN_SMTP_PORT": str(smtp.port),
               "SCHOOLPLEIN_SMTP_STARTTLS": "false", "SCHOOLPLEIN_ADMIN_EMAIL":
               "administratie@example.nl"}
        pv = postvak.PostvakSettings.from_settings(load_settings(ROOT, env))
        t0 = time.perf_counter()
        collected = collect_spool(deploy.spool, lambda r: postvak.intake(r, pv.private))
        summary = postvak.process(pv)
        process_s = time.perf_counter() - t0

        floor_dir = work / "floor"
        t0 = time.perf_counter()
        for i, p in enumerate(parents):
            postvak.intake(postvak.Received(
                str(uuid.UUID(int=i, version=4)), p.family, p.email, datetime.now(UTC),
                b'{"v":1}', "floor"), floor_dir)
        floor_s = time.perf_counter() - t0
        per_item = process_s * 1000 / max(collected, 1)
        floor_item = floor_s * 1000 / families
        print(json.dumps({
            "benchmark": "postvak", "families": families, "seconds": args.seconds,
            "accepted": accepted, "collected": collected, "applied": len(summary.applied),
            "lost": accepted - len(summary.applied),
            "put_p50_ms": round(statistics.median(latencies), 1),
            "put_p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))], 1),
            "process_ms_per_item": round(per_item, 1), "baseline_ms_per_item": round(floor_item, 2),
            "ratio": round(per_item / floor_item, 1),
            "mails_sent": summary.mail.sent, "mails_received": smtp.handler.count,
        }))
    finally:
        if proc is not None:
            local_server.stop(proc)
        smtp.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
