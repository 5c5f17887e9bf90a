"""A generated school year built by Schoolplein and by plain Pelican: cold, and warm after one post.

    .venv/bin/python benchmarks/build.py [--groups 16] [--posts 1300] [--photos 200] [--rounds 3]
    .venv/bin/python benchmarks/build.py --scale      # 1,300 -> 5,000 posts, 200 -> 2,000 photos
    .venv/bin/python benchmarks/build.py --scale --scale-photos 200,2000,7800   # a full year

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
Then one more new post, and the warm build as a teacher runs it: the command
line, `.venv/bin/invoke build` as a process (interpreter start, imports,
settings, roster, section map and the output check included), against plain
Pelican's own command line (`pelican -s <the same settings>`) on the same
content, both as subprocesses (cli_*), both without PYTHONDONTWRITEBYTECODE
(as on a school's machine: the compiled modules are kept; each side's warm-up
run writes them; "cli_env" in the JSON says so).
Reported: medians of the rounds, wall seconds (*_s) and CPU seconds of the
process and its children (*_cpu_s, which other work on a shared machine
disturbs less), the ratios the issue sets (warm Schoolplein / its cold build
<= 5 %, warm Schoolplein / warm plain Pelican <= 0.5, both in-process and
through the command line), how many files each writes, how many output files
the warm build changed (bytes or mtime; only the new post, its section index
and its feed should) and how many photos it re-encoded (0). One JSON line.
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
import resource
import shutil
import statistics
import subprocess
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


def add_photos(content: Path, roster: Path, photos: int, per_post: int = 10,
               size: tuple[int, int] = (4000, 3000)) -> None:
    """`photos` JPEGs (12 MP) in group post folders, each tagged with three of its children."""
    from benchmarks.photos import make_photo, variant

    kids: dict[str, list[str]] = {}
    for line in (roster / "leerlingen.csv").read_text().splitlines()[1:]:
        cells = line.split(",")
        kids.setdefault(cells[3], []).append(cells[1])
    groups = sorted(kids)
    master = content.parent / "master-foto.jpg"
    if not master.exists():
        make_photo(master, 3, size)
    master_bytes = master.read_bytes()
    for n in range(photos):
        group = groups[(n // per_post) % len(groups)]
        folder = content / "groep" / group / f"2026-10-{1 + (n // per_post) % 28:02d}-fotos-{n // per_post}"
        if not (folder / "index.md").exists():
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "index.md").write_text(
                f"Title: Foto's {n // per_post}\nDate: 2026-10-{1 + (n // per_post) % 28:02d} 12:00\n\n"
                "Een middag buiten.\n", encoding="utf-8")
        photo = folder / f"foto-{n}.jpg"
        # distinct pixels per photo, made without encoding: renditions as many as a real year's
        photo.write_bytes(variant(master_bytes, n))
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


def plain_settings(content: Path, out: Path, cache: Path) -> dict:
    return {"PATH": str(content), "OUTPUT_PATH": str(out), "SITENAME": "Plain",
            "TIMEZONE": "Europe/Amsterdam", "CACHE_CONTENT": True, "LOAD_CONTENT_CACHE": True,
            "CACHE_PATH": str(cache), "DELETE_OUTPUT_DIRECTORY": True,
            "IGNORE_FILES": [".#*", "*.jpg", "fotos.txt"]}


def run_plain(content: Path, out: Path, cache: Path) -> dict:
    from pelican import Pelican
    from pelican.settings import read_settings

    settings = read_settings(None, override=plain_settings(content, out, cache))
    start = time.perf_counter()
    Pelican(settings).run()
    return {"s": time.perf_counter() - start, "encoded": 0}


def _cpu() -> float:
    """CPU seconds of this process and its reaped children (the photo pool)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
        resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _quiet(queue, fn, *args) -> None:
    logging.disable(logging.WARNING)
    with contextlib.redirect_stdout(io.StringIO()):
        start = _cpu()
        result = fn(*args)
        queue.put({**result, "cpu": _cpu() - start})


BIN = Path(sys.executable).parent  # the venv's scripts: invoke, pelican


# As on a school's machine: Python keeps the compiled modules (__pycache__). A sandbox or CI
# may set PYTHONDONTWRITEBYTECODE, and then every start compiles the project's modules again
# (~0.4 s), which plain Pelican's installed modules do not pay. Both command lines run without
# it, after a warm-up run each that writes the bytecode.
CLI_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run_process(cmd: list[str], env: dict | None = None) -> dict:
    """One command as a process: wall seconds, and CPU seconds with its children (wait4)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=CLI_ENV if env is None else env,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    stderr = proc.stderr.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{stderr.decode()[-3000:]}")
    return {"s": seconds, "cpu": usage.ru_utime + usage.ru_stime}


def cli_schoolplein(work: Path, out: Path) -> dict:
    """`invoke build` as the admin runs it, with the generated school's folders."""
    env = dict(CLI_ENV, SCHOOLPLEIN_ROSTER=str(work / "roster"),
               SCHOOLPLEIN_CONTENT=str(work / "content"), SCHOOLPLEIN_OUTPUT=str(out),
               SCHOOLPLEIN_BUILD_CACHE=str(work / "build-cache"),
               SCHOOLPLEIN_PHOTO_CACHE=str(work / "photo-cache"),
               SCHOOLPLEIN_AUDIT=str(work / "audit"), SCHOOLPLEIN_PRIVATE=str(work / "private"))
    return run_process([str(BIN / "invoke"), "build"], env)


def cli_plain(content: Path, out: Path, cache: Path) -> dict:
    """Plain Pelican's own command line with run_plain's settings."""
    conf = out.parent / "plain-pelicanconf.py"
    conf.write_text("".join(f"{k} = {v!r}\n" for k, v in plain_settings(content, out, cache)
                            .items()), encoding="utf-8")
    return run_process([str(BIN / "pelican"), "-s", str(conf), "-q"])


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


def _new_post(content: Path, n: int, what: str) -> Path:
    extra = content / "school" / f"2027-01-{1 + n % 28:02d}-{what}-{n}.md"
    extra.write_text(f"Title: {what.title()} bericht {n}\nDate: 2027-01-{1 + n % 28:02d} 09:00\n\n"
                     "Vandaag op school.\n", encoding="utf-8")
    return extra


KINDS = ("plain_cold", "plain_warm", "cold", "warm", "cli_plain_warm", "cli_warm")


def measure(groups: int, posts: int, photos: int, rounds: int, cli: bool = True) -> dict:
    work = Path(tempfile.mkdtemp(prefix="sp-bench-"))
    runs: dict[str, list[float]] = {k: [] for k in KINDS}
    cpu: dict[str, list[float]] = {k: [] for k in KINDS}

    def timed(kind: str, result: dict) -> dict:
        runs[kind].append(result["s"])
        cpu[kind].append(result["cpu"])
        return result

    changed, encoded = [], []
    try:
        roster, content = make_school(work, groups, posts)
        if photos:
            add_photos(content, roster, photos)
        for n in range(rounds):
            for path in (work / "plain", work / "plain-cache", work / "out",
                         work / "build-cache", work / "photo-cache"):
                shutil.rmtree(path, ignore_errors=True)
            timed("plain_cold", fresh(run_plain, content, work / "plain", work / "plain-cache"))
            timed("cold", fresh(run_schoolplein, work, work / "out"))
            before = _files(work / "out")
            extras = [_new_post(content, n, "nieuw")]
            timed("plain_warm", fresh(run_plain, content, work / "plain", work / "plain-cache"))
            warm = timed("warm", fresh(run_schoolplein, work, work / "out"))
            encoded.append(warm["encoded"])
            after = _files(work / "out")
            changed.append(sum(1 for rel, v in after.items() if before.get(rel) != v))
            if cli:  # one more post, built as a teacher runs it after their last build
                cli_schoolplein(work, work / "out")
                cli_plain(content, work / "plain", work / "plain-cache")
                extras.append(_new_post(content, n, "later"))
                timed("cli_plain_warm", cli_plain(content, work / "plain", work / "plain-cache"))
                timed("cli_warm", cli_schoolplein(work, work / "out"))
            for extra in extras:
                extra.unlink()
        med = {k: statistics.median(v) for k, v in runs.items() if v}
        med_cpu = {k: statistics.median(v) for k, v in cpu.items() if v}
        cli_figures = {
            "cli_env": "PYTHONDONTWRITEBYTECODE unset, bytecode written by a warm-up run each",
            "cli_plain_warm_s": round(med["cli_plain_warm"], 3),
            "cli_warm_s": round(med["cli_warm"], 3),
            "cli_plain_warm_cpu_s": round(med_cpu["cli_plain_warm"], 3),
            "cli_warm_cpu_s": round(med_cpu["cli_warm"], 3),
            "cli_warm_over_cli_plain_warm": round(med["cli_warm"] / med["cli_plain_warm"], 3),
            "cli_warm_over_cli_plain_warm_cpu": round(
                med_cpu["cli_warm"] / med_cpu["cli_plain_warm"], 3),
            "cli_warm_over_cold": round(med["cli_warm"] / med["cold"], 3),
            "cli_warm_over_cold_cpu": round(med_cpu["cli_warm"] / med_cpu["cold"], 3),
        } if cli else {}
        return {
            "groups": groups, "posts": posts, "photos": photos, "rounds": rounds,
            "plain_files": sum(1 for p in (work / "plain").rglob("*") if p.is_file()),
            "schoolplein_files": sum(1 for p in (work / "out").rglob("*") if p.is_file()),
            "plain_cold_s": round(med["plain_cold"], 3), "plain_warm_s": round(med["plain_warm"], 3),
            "cold_s": round(med["cold"], 3), "warm_s": round(med["warm"], 3),
            "warm_over_cold": round(med["warm"] / med["cold"], 3),
            "warm_over_plain_warm": round(med["warm"] / med["plain_warm"], 3),
            "cold_over_plain_cold": round(med["cold"] / med["plain_cold"], 3),
            "cold_cpu_s": round(med_cpu["cold"], 3), "warm_cpu_s": round(med_cpu["warm"], 3),
            "plain_warm_cpu_s": round(med_cpu["plain_warm"], 3),
            **cli_figures,
            "warm_changed_files": max(changed), "warm_photos_encoded": max(encoded),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _counts(text: str) -> list[int]:
    return [int(n) for n in text.split(",")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--groups", type=int, default=16)
    ap.add_argument("--posts", type=int, default=1300)
    ap.add_argument("--photos", type=int, default=0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--scale", action="store_true",
                    help="time per post and per photo, cold and warm, for --scale-posts and "
                         "--scale-photos (default 1,300/5,000 posts, 200/2,000 photos)")
    ap.add_argument("--scale-posts", type=_counts, default=[1300, 5000])
    ap.add_argument("--scale-photos", type=_counts, default=[200, 2000],
                    help="e.g. 200,2000,7800 (the full school year: about 42 GB of 12 MP "
                         "JPEGs in the temp folder and an hour of encoding on 2 cores)")
    args = ap.parse_args()
    if args.scale and args.rounds == 3:
        args.rounds = 1  # the scale runs are long: one round unless asked
    logging.disable(logging.WARNING)
    if not args.scale:
        result = {"benchmark": "build", **measure(args.groups, args.posts, args.photos,
                                                  args.rounds)}
        result["target_met"] = (result["cli_warm_over_cli_plain_warm"] <= 0.5
                                and (not args.photos or result["cli_warm_over_cold"] <= 0.05))
        print(json.dumps(result))
        return
    print(json.dumps(scale(args.groups, args.scale_posts, args.scale_photos, args.rounds)))


def scale(groups: int, post_counts: list[int], photo_counts: list[int], rounds: int) -> dict:
    """Time per post and per photo, cold and warm (+1 post), as the school year grows.

    Per post: the text-only build over its post count. Per photo: what the photos add to
    the build of the smallest post count (cold: encoding; warm: the cache lookups and
    links), over the photo count. Cost should grow with the work, not faster.
    """
    text = [measure(groups, n, 0, rounds, cli=False) for n in post_counts]
    base = text[0]
    photo = [measure(groups, post_counts[0], n, rounds, cli=False) for n in photo_counts]

    def per(results, key, count, minus=None) -> list[float]:
        return [round((r[key] - (minus[key] if minus else 0)) / r[count] * 1000, 2)
                for r in results]

    return {
        "benchmark": "build-scale", "rounds": rounds, "cores": os.cpu_count(),
        "posts": post_counts,
        "cold_ms_per_post": per(text, "cold_s", "posts"),
        "cold_cpu_ms_per_post": per(text, "cold_cpu_s", "posts"),
        "warm_ms_per_post": per(text, "warm_s", "posts"),
        "warm_cpu_ms_per_post": per(text, "warm_cpu_s", "posts"),
        "warm_s": [r["warm_s"] for r in text],
        "photos": photo_counts,
        "cold_ms_per_photo": per(photo, "cold_s", "photos", base),
        "cold_cpu_ms_per_photo": per(photo, "cold_cpu_s", "photos", base),
        "warm_ms_per_photo": per(photo, "warm_s", "photos", base),
        "warm_cpu_ms_per_photo": per(photo, "warm_cpu_s", "photos", base),
        "warm_s_with_photos": [r["warm_s"] for r in photo],
        "warm_photos_encoded": [r["warm_photos_encoded"] for r in photo],
    }


if __name__ == "__main__":
    main()
