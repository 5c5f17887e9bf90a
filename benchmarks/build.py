"""A generated school year built by Schoolplein and by plain Pelican: cold, and warm after one post.

    .venv/bin/python benchmarks/build.py [--groups 16] [--posts 1300] [--photos 200] [--rounds 3]
    .venv/bin/python benchmarks/build.py --scale      # 1,300 -> 5,000 posts, 200 -> 2,000 photos

Both read the same posts. "Plain Pelican" is Pelican with its default settings
and theme (site-wide index, archives, tags, categories, authors, feeds) and its
content cache on, as a Pelican user would run it. Schoolplein builds the way
`invoke build` does (tasks/common.py: a fresh staging folder, the reader cache,
the previous output reused where nothing changed), switches Pelican's
aggregates off, writes per-section indexes and feeds, routes every post and
checks the output. The with-photos variant adds --photos 12 MP JPEGs in post
folders (tagged with three children each), encoded cold on all cores.

Each round, in a fresh interpreter per build (Pelican's signals are
process-global): a cold build, then one new text post, then the warm build.
Reported: medians of the rounds, the ratios the issue sets (warm Schoolplein /
its cold build <= 5 %, warm Schoolplein / warm plain Pelican <= 0.5), how many
files each writes, how many output files the warm build changed (bytes or
mtime; only the new post, its section index and its feed should) and how many
photos it re-encoded (0). One JSON line.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import multiprocessing
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from plugins.roster import new_family_id, write_roster  # noqa: E402

WORDS = ("de klas heeft vandaag samen gewerkt aan een mooi project over de herfst en we "
         "hebben veel geleerd over dieren bomen bladeren kastanjes het weer en elkaar").split()


def make_school(root: Path, groups: int, posts: int, seed: int = 7) -> tuple[Path, Path]:
    rng = random.Random(seed)
    roster, content = root / "roster", root / "content"
    slugs = [f"groep-{i}" for i in range(1, groups + 1)]

    kids, parents = [], []
    ids = random.Random(seed + 1)  # family ids from their own generator: the rest stays as it was
    for i in range(groups * 25):
        kids.append([f"kind-{i}", f"Kind{i}", f"Achternaam{i}", slugs[i % groups], ""])
        fam = new_family_id(choice=ids.choice)
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


def add_photos(content: Path, roster: Path, photos: int, per_post: int = 10) -> None:
    """`photos` 12 MP JPEGs in group post folders, each tagged with three of its children."""
    from benchmarks.photos import make_photo

    kids: dict[str, list[str]] = {}
    for line in (roster / "leerlingen.csv").read_text().splitlines()[1:]:
        cells = line.split(",")
        kids.setdefault(cells[3], []).append(cells[1])
    groups = sorted(kids)
    master = content.parent / "master-foto.jpg"
    for n in range(photos):
        group = groups[(n // per_post) % len(groups)]
        folder = content / "groep" / group / f"2026-10-{1 + (n // per_post) % 28:02d}-fotos-{n // per_post}"
        if not (folder / "index.md").exists():
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "index.md").write_text(
                f"Title: Foto's {n // per_post}\nDate: 2026-10-{1 + (n // per_post) % 28:02d} 12:00\n\n"
                "Een middag buiten.\n", encoding="utf-8")
        if not master.exists():
            make_photo(master, 3)
        photo = folder / f"foto-{n}.jpg"
        # distinct bytes per photo (a comment), the same pixels: encoding cost is realistic
        photo.write_bytes(master.read_bytes()[:-2] + f"foto {n}".encode() + b"\xff\xd9")
        names = kids[group][n % 5: n % 5 + 3]
        with (folder / "fotos.txt").open("a", encoding="utf-8") as fh:
            fh.write(f"{photo.name}: {', '.join(names)}\n")


def run_schoolplein(work: Path, out: Path) -> dict:
    """One `invoke build` (tasks.common.build) into `out`, reusing what it can."""
    import dataclasses

    from plugins.settings import load_settings
    from tasks.common import build

    cfg = dataclasses.replace(load_settings(ROOT, dict(os.environ)), roster=work / "roster",
                              content=work / "content", output=out,
                              build_cache=work / "build-cache", photo_cache=work / "photo-cache",
                              audit=work / "audit", private=work / "private")
    start = time.perf_counter()
    built = build(cfg)
    seconds = time.perf_counter() - start
    state = built["SCHOOLPLEIN_BUILD_STATE"]
    return {"s": seconds, "encoded": state.photos_encoded}


def run_plain(content: Path, out: Path, cache: Path) -> dict:
    from pelican import Pelican
    from pelican.settings import read_settings

    settings = read_settings(None, override={
        "PATH": str(content), "OUTPUT_PATH": str(out), "SITENAME": "Plain",
        "TIMEZONE": "Europe/Amsterdam", "CACHE_CONTENT": True, "LOAD_CONTENT_CACHE": True,
        "CACHE_PATH": str(cache), "DELETE_OUTPUT_DIRECTORY": True,
        "IGNORE_FILES": [".#*", "*.jpg", "fotos.txt"],
    })
    start = time.perf_counter()
    Pelican(settings).run()
    return {"s": time.perf_counter() - start, "encoded": 0}


def _quiet(queue, fn, *args) -> None:
    logging.disable(logging.WARNING)
    with contextlib.redirect_stdout(io.StringIO()):
        queue.put(fn(*args))


def fresh(fn, *args) -> dict:
    """Run one build in a new interpreter (not a pool worker: the photo pool needs children)."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_quiet, args=(queue, fn, *args))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def _files(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.relative_to(folder).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns)
            for p in folder.rglob("*") if p.is_file()}


def measure(groups: int, posts: int, photos: int, rounds: int) -> dict:
    work = Path(tempfile.mkdtemp(prefix="sp-bench-"))
    runs: dict[str, list[float]] = {k: [] for k in ("plain_cold", "plain_warm", "cold", "warm")}
    changed, encoded = [], []
    try:
        roster, content = make_school(work, groups, posts)
        if photos:
            add_photos(content, roster, photos)
        for n in range(rounds):
            for path in (work / "plain", work / "plain-cache", work / "out",
                         work / "build-cache", work / "photo-cache"):
                shutil.rmtree(path, ignore_errors=True)
            extra = content / "school" / f"2027-01-{1 + n:02d}-nieuw-{n}.md"
            extra.unlink(missing_ok=True)
            runs["plain_cold"].append(fresh(run_plain, content, work / "plain",
                                                 work / "plain-cache")["s"])
            runs["cold"].append(fresh(run_schoolplein, work, work / "out")["s"])
            before = _files(work / "out")
            extra.write_text(f"Title: Nieuw bericht {n}\nDate: 2027-01-{1 + n:02d} 09:00\n\n"
                             "Vandaag op school.\n", encoding="utf-8")
            runs["plain_warm"].append(fresh(run_plain, content, work / "plain",
                                                 work / "plain-cache")["s"])
            warm = fresh(run_schoolplein, work, work / "out")
            runs["warm"].append(warm["s"])
            encoded.append(warm["encoded"])
            after = _files(work / "out")
            changed.append(sum(1 for rel, v in after.items() if before.get(rel) != v))
            extra.unlink()
        med = {k: statistics.median(v) for k, v in runs.items()}
        return {
            "groups": groups, "posts": posts, "photos": photos, "rounds": rounds,
            "plain_files": sum(1 for p in (work / "plain").rglob("*") if p.is_file()),
            "schoolplein_files": sum(1 for p in (work / "out").rglob("*") if p.is_file()),
            "plain_cold_s": round(med["plain_cold"], 3), "plain_warm_s": round(med["plain_warm"], 3),
            "cold_s": round(med["cold"], 3), "warm_s": round(med["warm"], 3),
            "warm_over_cold": round(med["warm"] / med["cold"], 3),
            "warm_over_plain_warm": round(med["warm"] / med["plain_warm"], 3),
            "cold_over_plain_cold": round(med["cold"] / med["plain_cold"], 3),
            "warm_changed_files": max(changed), "warm_photos_encoded": max(encoded),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--groups", type=int, default=16)
    ap.add_argument("--posts", type=int, default=1300)
    ap.add_argument("--photos", type=int, default=0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--scale", action="store_true",
                    help="1,300 and 5,000 posts with 200 and 2,000 photos: time per post/photo")
    args = ap.parse_args()
    logging.disable(logging.WARNING)
    if not args.scale:
        result = {"benchmark": "build", **measure(args.groups, args.posts, args.photos,
                                                  args.rounds)}
        result["target_met"] = (result["warm_over_plain_warm"] <= 0.5
                                and (not args.photos or result["warm_over_cold"] <= 0.05))
        print(json.dumps(result))
        return
    text = [measure(args.groups, n, 0, 1) for n in (1300, 5000)]
    photo = [measure(args.groups, 1300, n, 1) for n in (200, 2000)]
    print(json.dumps({
        "benchmark": "build-scale",
        "posts": [r["posts"] for r in text],
        "cold_ms_per_post": [round(r["cold_s"] / r["posts"] * 1000, 2) for r in text],
        "warm_s": [r["warm_s"] for r in text],
        "photos": [r["photos"] for r in photo],
        "cold_ms_per_photo": [round((r["cold_s"] - text[0]["cold_s"]) / r["photos"] * 1000, 1)
                              for r in photo],
        "warm_s_with_photos": [r["warm_s"] for r in photo],
        "warm_photos_encoded": [r["warm_photos_encoded"] for r in photo],
    }))


if __name__ == "__main__":
    main()
