"""Build a generated school year with Schoolplein and with plain Pelican; print one JSON line.

    .venv/bin/python benchmarks/build.py [--groups 16] [--posts 1300] [--rounds 3]

Both builds read the same 1,300 text-only posts. "Plain Pelican" is Pelican
with its default settings and theme (site-wide index, archives, tags,
categories, authors, feeds). Schoolplein switches those off and writes
per-section indexes and feeds, routes every post, and checks the output for
cross-section links. Builds alternate and the median of each is compared as
a ratio, so machine noise hits both sides alike. Target: ratio <= 1.25.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import multiprocessing
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from plugins.roster import write_roster  # noqa: E402

WORDS = ("de klas heeft vandaag samen gewerkt aan een mooi project over de herfst en we "
         "hebben veel geleerd over dieren bomen bladeren kastanjes het weer en elkaar").split()


def make_school(root: Path, groups: int, posts: int, seed: int = 7) -> tuple[Path, Path]:
    rng = random.Random(seed)
    roster, content = root / "roster", root / "content"
    slugs = [f"groep-{i}" for i in range(1, groups + 1)]

    kids, parents = [], []
    for i in range(groups * 25):
        kids.append([f"kind-{i}", f"Kind{i}", f"Achternaam{i}", slugs[i % groups], ""])
        fam = f"{i:04d}" + "x" * 16
        parents.append([f"ouder-{i}", f"Ouder Nummer{i}", f"ouder{i}@example.nl", fam,
                        f"kind-{i}"])
    staff = [["mt-1", "Directeur Eén", "d@example.nl", "directie", ""]] + [
        [f"lk-{i}", f"Juf Nummer{i}", f"lk{i}@example.nl", "leerkracht", s]
        for i, s in enumerate(slugs)]
    write_roster(roster, groups=[[s, s.replace("-", " ").title(), "2026-2027"] for s in slugs],
                 children=kids, parents=parents, staff=staff)
    for n in range(posts):
        folder = content / ("school" if n % 10 == 0 else f"groep/{slugs[n % groups]}")
        folder.mkdir(parents=True, exist_ok=True)
        day = 1 + n % 28
        month = 9 + (n // 28) % 4
        body = "\n\n".join(" ".join(rng.choices(WORDS, k=60)) for _ in range(4))
        (folder / f"2026-{month:02d}-{day:02d}-bericht-{n}.md").write_text(
            f"Title: Bericht {n} over de week\nDate: 2026-{month:02d}-{day:02d} 10:00\n"
            f"Author: Juf Nummer{n % groups}\nTags: klas, week{n % 5}\n\n{body}\n",
            encoding="utf-8")
    return roster, content


def run_schoolplein(roster: Path, content: Path, out: Path, work: Path) -> float:
    from plugins.site import build

    start = time.perf_counter()
    build(output_path=str(out), schoolplein_roster=str(roster), path=str(content),
          photo_cache_dir=str(work / "cache"), photo_audit_dir=str(work / "audit"))
    return time.perf_counter() - start


def run_plain(content: Path, out: Path) -> float:
    from pelican import Pelican
    from pelican.settings import read_settings

    settings = read_settings(None, override={
        "PATH": str(content), "OUTPUT_PATH": str(out), "SITENAME": "Plain",
        "TIMEZONE": "Europe/Amsterdam", "CACHE_CONTENT": False, "LOAD_CONTENT_CACHE": False,
        "DELETE_OUTPUT_DIRECTORY": True,
    })
    start = time.perf_counter()
    Pelican(settings).run()
    return time.perf_counter() - start


def _quiet(fn, *args) -> float:
    logging.disable(logging.WARNING)
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--groups", type=int, default=16)
    ap.add_argument("--posts", type=int, default=1300)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    logging.disable(logging.WARNING)
    work = Path(tempfile.mkdtemp(prefix="sp-bench-"))
    try:
        roster, content = make_school(work, args.groups, args.posts)
        ours, plain = [], []
        # Each build in a fresh interpreter: Pelican's signals are process-global, so a
        # plain build after a Schoolplein one in the same process would run our plugins.
        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(1, maxtasksperchild=1) as pool:
            for _ in range(args.rounds):
                plain.append(pool.apply(_quiet, (run_plain, content, work / "plain")))
                ours.append(pool.apply(_quiet, (run_schoolplein, roster, content,
                                                work / "ours", work)))
        files = sum(1 for p in (work / "ours").rglob("*") if p.is_file())
        result = {
            "benchmark": "build", "groups": args.groups, "posts": args.posts,
            "rounds": args.rounds, "output_files": files,
            "plain_pelican_s": round(statistics.median(plain), 3),
            "schoolplein_s": round(statistics.median(ours), 3),
        }
        result["ratio"] = round(result["schoolplein_s"] / result["plain_pelican_s"], 3)
        result["target_met"] = result["ratio"] <= 1.25
        print(json.dumps(result))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
