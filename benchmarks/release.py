"""Benchmark: the nginx release after one new post, one code tree against another.

The part of `invoke publish --target nginx` after the build: `releases.publish` (links,
.gz, modes, the web server's check, withdrawn photos, pruning) on a synthetic school-year
output (default 14,000 files: 2,000 post pages, 12,000 photo renditions in the sections'
`fotos/`). Each round makes the next output as the incremental build does (every
unchanged file hard-linked from the last output, the new post, its photos and the
section's index page new inodes) and times one publish of it; the deleting of old
releases that the publish leaves to a process of its own is waited for outside the timing.
The two trees alternate round by round, in processes of their own (PYTHONPATH is the tree),
on the same synthetic output, with the same settings (keep 2, web user checked).

    .venv/bin/python benchmarks/release.py --base /tmp/wt-main-base --rounds 3

prints one JSON line: medians of wall and CPU (process, user + system) per tree, and the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ("<!doctype html><html lang=nl><body><article><h1>Bericht {n}</h1>"
        + "<p>Vandaag hebben we in de klas geknutseld en buiten gespeeld. </p>" * 60
        + "</article></body></html>")


def make_output(root: Path, sections, posts: int, photos: int) -> None:
    rng = random.Random(18)
    dirs = [s.dir.strip("/") for s in sections.protected] or ["school"]
    for n in range(posts):
        folder = root / dirs[n % len(dirs)] / f"bericht-{n}"
        folder.mkdir(parents=True)
        (folder / "index.html").write_text(PAGE.format(n=n))
    for n in range(photos):
        folder = root / dirs[n % len(dirs)] / "fotos"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{n:05d}-480.jpg").write_bytes(rng.randbytes(6000))
    for d in dirs:
        (root / d / "index.html").write_text(PAGE.format(n=d))


def next_output(previous: Path, new: Path, sections, n: int) -> None:
    """The incremental build's next output: links, plus one new post with 4 photos."""
    shutil.copytree(previous, new, copy_function=os.link)
    d = [s.dir.strip("/") for s in sections.protected][0]
    post = new / d / f"nieuw-{n}"
    post.mkdir()
    (post / "index.html").write_text(PAGE.format(n=f"nieuw {n}"))
    for i in range(4):
        (new / d / "fotos" / f"nieuw-{n}-{i}-480.jpg").write_bytes(os.urandom(6000))
    index = new / d / "index.html"
    index.unlink()
    index.write_text(PAGE.format(n=f"index {n}"))


def side(args) -> None:
    """One round of one tree (its code on PYTHONPATH): prints the publish's wall and CPU."""
    here = Path(__file__).resolve().parent  # benchmarks/publish.py is not the package
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
    from plugins.roster import load_roster
    from plugins.sections import build_section_map
    from publish import accounts
    from publish.targets.basic_auth import releases

    work = Path(args.work)
    roster = load_roster(ROOT / "roster")
    sections = build_section_map(roster, "Kc de Matrix")
    if not (work / "output-0").exists():
        accounts.sync_accounts(roster, work / "private", rounds=4, school="Kc de Matrix",
                               letters=False)
        shutil.copytree(args.master, work / "output-0", copy_function=os.link)
    accs = accounts.load_accounts(work / "private")
    n = max(int(p.name.split("-")[1]) for p in work.glob("output-*"))
    previous, new = work / f"output-{n}", work / f"output-{n + 1}"
    next_output(previous, new, sections, n)
    t0, c0 = time.perf_counter(), os.times()
    releases.publish(new, work / "deploy", sections, accs, "127.0.0.1:1",
                     web_user=args.web_user, out=lambda _m: None)
    c1, t1 = os.times(), time.perf_counter()
    shutil.rmtree(previous)
    for _ in range(600):  # the old releases' deletion, beside the work: never in the timing
        if not any(p.exists() for p in (work / "deploy" / ".weg",
                                        work / "deploy" / "releases" / ".weg")):
            break
        time.sleep(0.1)
    print(json.dumps({"wall": t1 - t0, "cpu": (c1.user + c1.system) - (c0.user + c0.system),
                      "code": releases.__file__}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the baseline tree (e.g. a worktree of main)")
    parser.add_argument("--new", default=str(ROOT), help="the tree measured against it")
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--photos", type=int, default=12000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=2, help="untimed publishes first (two releases)")
    parser.add_argument("--web-user", default="www-data")
    parser.add_argument("--side", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    parser.add_argument("--master", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        side(args)
        return
    sys.path.insert(0, str(ROOT))
    from plugins.roster import load_roster
    from plugins.sections import build_section_map

    sections = build_section_map(load_roster(ROOT / "roster"), "Kc de Matrix")
    trees = {"base": Path(args.base).resolve(), "new": Path(args.new).resolve()}
    with tempfile.TemporaryDirectory(prefix="release-bench-") as tmp:
        os.chmod(tmp, 0o755)  # the web server's check reads every folder above the deploy
        master = Path(tmp) / "master"
        make_output(master, sections, args.posts, args.photos)
        files = sum(len(f) for _, _, f in os.walk(master))
        results: dict[str, list[dict]] = {name: [] for name in trees}
        for r in range(args.warmup + args.rounds):
            for name in (trees if r % 2 == 0 else reversed(list(trees))):
                env = {**os.environ, "PYTHONPATH": str(trees[name]),
                       "PYTHONDONTWRITEBYTECODE": "1"}
                done = subprocess.run(
                    [sys.executable, str(Path(__file__).resolve()), "--side", "--base", "-",
                     "--work", str(Path(tmp) / name), "--master", str(master),
                     "--web-user", args.web_user], env=env,
                    capture_output=True, text=True, cwd=trees[name])
                if done.returncode:
                    sys.exit(f"{name} ({trees[name]}):\n{done.stderr}")
                found = json.loads(done.stdout.strip().splitlines()[-1])
                if r >= args.warmup:
                    results[name].append(found)
    med = {name: {k: statistics.median(x[k] for x in rows) for k in ("wall", "cpu")}
           for name, rows in results.items()}
    print(json.dumps({
        "files": files, "rounds": args.rounds, "cores": os.cpu_count(),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "base_wall_s": round(med["base"]["wall"], 3), "new_wall_s": round(med["new"]["wall"], 3),
        "base_cpu_s": round(med["base"]["cpu"], 3), "new_cpu_s": round(med["new"]["cpu"], 3),
        "wall_ratio": round(med["new"]["wall"] / med["base"]["wall"], 3),
        "cpu_ratio": round(med["new"]["cpu"] / med["base"]["cpu"], 3),
        "code": {name: rows[0]["code"] for name, rows in results.items()},
        "walls": {name: [round(x["wall"], 3) for x in rows] for name, rows in results.items()},
    }))


if __name__ == "__main__":
    main()
