"""Notices to parents: composing the mails, and what they add to a publish.

    .venv/bin/python benchmarks/notices.py [--groups 40] [--rounds 3]

A generated school (--groups x 25 families, one parent each: 1,000 by default)
is built and published with the basic-auth target. Then, each round, one school
post and one group post are added, the site is rebuilt (not timed) and
published twice over the same output, the same work in the same run:

publish_ms             the publish alone (a release for nginx/Apache)
publish_notices_ms     the same publish, then the notices: what is new is read from the
                       output (postvak.news.after_publish, at-once mails for a quarter of
                       the parents) and the evening's daily summaries for the others
                       (send_digests), every mail sent to a real aiosmtpd on 127.0.0.1
ratio                  publish_notices_ms / publish_ms (medians)
compose_mails_per_s    text + HTML + MIME of one summary with five items, per parent, on
                       one core (median of three passes over every parent); the standard
                       library's email package (header objects, quoted-printable) is most of it
compose_text_only_per_s  the same without building the MIME message
mails_received         what the SMTP server accepted over all rounds
Everything runs in one process: the per-core figure is the figure.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiosmtpd.controller import Controller  # noqa: E402

from benchmarks.build import make_school  # noqa: E402
from benchmarks.postvak import Inbox  # noqa: E402
from plugins.notice_prefs import Preference, encode_prefs, prefs_file  # noqa: E402
from plugins.site import build  # noqa: E402
from postvak import (  # noqa: E402
    PostvakSettings,
    SmtpSettings,
    news,  # noqa: E402
)
from postvak.mail import to_eml  # noqa: E402
from publish.targets import basic_auth  # noqa: E402
from publish.targets.basic_auth import local_server  # noqa: E402

EVENING = datetime.fromisoformat("2026-11-09T18:05:00+01:00")


def _build(work: Path, roster: Path, content: Path):
    with contextlib.redirect_stdout(io.StringIO()):
        return build(output_path=str(work / "out"), schoolplein_roster=str(roster),
                     path=str(content), photo_cache_dir=str(work / "cache"),
                     photo_audit_dir=str(work / "audit"), schoolplein_private=str(work / "private"),
                     schoolplein_today="2026-11-01")


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--groups", type=int, default=40, help="25 families per group")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    logging.disable(logging.WARNING)
    work = Path(tempfile.mkdtemp(prefix="sp-notices-bench-"))
    smtp = Controller(Inbox(), hostname="127.0.0.1", port=local_server.free_port())
    smtp.start()
    try:
        roster_dir, content = make_school(work, groups=args.groups, posts=40)
        pv = PostvakSettings(private=work / "private", roster=roster_dir,
                             site_url="https://ouders.example.nl",
                             sender="Schoolplein <noreply@ouders.example.nl>",
                             smtp=SmtpSettings("127.0.0.1", smtp.port, starttls=False))
        built = _build(work, roster_dir, content)
        roster, sections = built["SCHOOLPLEIN_ROSTER_OBJ"], built["SCHOOLPLEIN_SECTIONS"]
        parents = sorted(roster.parents.values(), key=lambda p: p.id)
        path = prefs_file(pv.private)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(encode_prefs({p.id: Preference("direct") for p in parents[::4]}))
        listen = f"127.0.0.1:{local_server.free_port()}"

        def publish() -> None:
            with contextlib.redirect_stdout(io.StringIO()):
                basic_auth.publish(work / "out", work / "deploy", sections, {}, listen)

        publish()
        news.after_publish(pv, work / "out", sections, roster, EVENING)  # the baseline
        plain, with_notices, sent = [], [], []
        for r in range(1, args.rounds + 1):
            day = (EVENING + timedelta(days=r)).date().isoformat()
            for folder in ("school", "groep/groep-1"):
                (content / folder).mkdir(parents=True, exist_ok=True)
                (content / folder / f"{day}-nieuw-{r}.md").write_text(
                    f"Title: Nieuws {r} uit {folder}\nDate: {day} 10:00\n\nTekst.\n")
            built = _build(work, roster_dir, content)
            sections = built["SCHOOLPLEIN_SECTIONS"]
            plain.append(_timed(publish))
            moment = EVENING + timedelta(days=r)

            def publish_and_notices(sections=sections, moment=moment) -> None:
                publish()
                done = news.after_publish(pv, work / "out", sections, roster,
                                          moment - timedelta(hours=6))
                digests = news.send_digests(pv, sections, roster, moment)
                sent.append(done.delivery.sent + digests.delivery.sent)

            with_notices.append(_timed(publish_and_notices))

        items = [{"key": f"bericht:/school/{n}/", "fp": "1", "section": "school", "kind": "bericht",
                  "title": f"Bericht {n} over de week", "url": f"/school/{n}/", "date": "",
                  "when": "", "cancelled": False} for n in range(5)]
        rates, texts = [], []
        for _ in range(3):
            start = time.perf_counter()
            names = news._names(roster)  # once per round, as send_digests does
            composed = [news.compose(pv, roster, "x", parent, items, "dagelijks", EVENING,
                                     names=names) for parent in parents]
            middle = time.perf_counter()
            for mail, page in composed:
                to_eml(mail, pv.sender, html=page, headers={"List-Unsubscribe": "<x>"})
            rates.append(len(parents) / (time.perf_counter() - start))
            texts.append(len(parents) / (middle - start))
        p_ms, n_ms = statistics.median(plain), statistics.median(with_notices)
        print(json.dumps({
            "benchmark": "notices", "families": len(roster.families), "parents": len(parents),
            "rounds": args.rounds, "publish_ms": round(p_ms), "publish_notices_ms": round(n_ms),
            "ratio": round(n_ms / p_ms, 2), "mails_per_round": sent,
            "mails_received": smtp.handler.count,
            "compose_mails_per_s": round(statistics.median(rates)),
            "compose_text_only_per_s": round(statistics.median(texts)),
        }))
    finally:
        smtp.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
