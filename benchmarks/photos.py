"""Photo pipeline benchmark: naive Pillow vs the Schoolplein pipeline (cold, warm) vs the floor.

    .venv/bin/python benchmarks/photos.py [--n 6]

Generates N 12-megapixel JPEGs (4000x3000, noise blended with gradients so they
do not compress trivially, quality 90) in a temp dir, then measures in the
same run, all numbers in milliseconds of WALL time PER PHOTO (total / N):

naive_ms   single process, one photo after another: open, full decode,
           resize(LANCZOS) from full size to 1600 px and to 480 px, save each
           as JPEG (q82, progressive) and WebP (q80, Pillow's default method 4) -
           what a plugin written without care does.
cold_ms    the real pipeline with an empty cache: source hashing (stat index),
           draft decode, reduce+LANCZOS, sRGB, encode JPEG+WebP, write the cache
           and copy to the output dir; cold work spread over a process pool with
           os.cpu_count() workers (so on 2 cores it uses both; pool start-up is
           included in the time).
warm_ms    the same call again with the cache filled (a rebuild): no decoding
           or encoding, only stat, manifest read and copy to a fresh output dir.
floor_ms   single process, per photo: the draft-mode decode alone plus encoding
           the four outputs from already-resized images - the unavoidable work
           of one photo on one core, with no resize, colour or I/O overhead.

Every measurement runs --repeat times (default 3, each cold run with a fresh
cache) and the fastest is reported: the machine is shared, and the minimum is
the least noisy estimate of what the code costs.

The ratios: naive_over_cold (speed-up over naive; partly from DCT scaling,
partly from the pool), cold_over_floor (pipeline overhead over the single-core
floor; below 1 means the pool beats one core's floor), cold_over_warm (what
the cache saves). Prints one JSON line.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from plugins.photos.cache import PhotoCache, SourceIndex  # noqa: E402
from plugins.photos.encode import _fit, encode_all  # noqa: E402
from plugins.photos.settings import PhotoSettings  # noqa: E402

SIZE = (4000, 3000)


def make_photo(path: Path, seed: int) -> None:
    """Noise blended with two gradients: photo-like entropy, distinct per seed."""
    w, h = SIZE
    noise = Image.effect_noise(SIZE, 40 + seed * 3).convert("L")
    horiz = Image.linear_gradient("L").rotate(90).resize(SIZE)
    vert = Image.linear_gradient("L").resize(SIZE)
    rgb = Image.merge("RGB", (Image.blend(horiz, noise, 0.35), Image.blend(vert, noise, 0.3),
                              Image.blend(noise, horiz.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
                                          0.5 + seed / 40)))
    rgb.save(path, "JPEG", quality=90)


def naive(path: Path, cfg: PhotoSettings) -> None:
    im = Image.open(path)
    im.load()
    for size in (cfg.large_size, cfg.thumb_size):
        small = im.resize(_fit(im.size, size), Image.Resampling.LANCZOS)
        small.save(io.BytesIO(), "JPEG", quality=cfg.jpeg_quality, progressive=True)
        small.save(io.BytesIO(), "WEBP", quality=cfg.webp_quality)  # Pillow default method


def floor_parts(path: Path, cfg: PhotoSettings) -> float:
    """Seconds for the draft decode plus encoding the outputs (resizes not timed)."""
    t0 = time.perf_counter()
    im = Image.open(path)
    im.draft("RGB", _fit(im.size, cfg.large_size))
    im.load()
    spent = time.perf_counter() - t0
    large = im.resize(_fit(SIZE, cfg.large_size), Image.Resampling.BILINEAR)
    thumb = large.resize(_fit(SIZE, cfg.thumb_size), Image.Resampling.BILINEAR)
    t0 = time.perf_counter()
    for img in (large, thumb):
        img.save(io.BytesIO(), "JPEG", quality=cfg.jpeg_quality, progressive=True)
        img.save(io.BytesIO(), "WEBP", quality=cfg.webp_quality, method=cfg.webp_method)
    return spent + time.perf_counter() - t0


def pipeline(paths: list[Path], cfg: PhotoSettings, out: Path) -> int:
    """What photos.process_posts does for encoding: hash (stat index), encode, copy out."""
    index = SourceIndex(cfg.cache_dir)
    sources = {index.hash_of(p): p for p in paths}
    run = encode_all(sources, cfg, progress=False)
    index.save()
    cache = PhotoCache(cfg)
    for m in run.manifests.values():
        assert m.ok, m
        cache.copy_out(m, out)
    return len(run.encoded)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=6)
    parser.add_argument("--repeat", type=int, default=3,
                        help="run every measurement this often, report the fastest")
    args = parser.parse_args(argv)
    n = args.n
    tmp = Path(tempfile.mkdtemp(prefix="schoolplein-bench-"))
    try:
        paths = []
        for i in range(n):
            paths.append(tmp / f"foto-{i}.jpg")
            make_photo(paths[-1], i)
        ms = lambda seconds: round(seconds * 1000 / n, 1)  # noqa: E731
        best: dict[str, float] = {}

        def keep(name: str, seconds: float) -> None:
            best[name] = min(best.get(name, float("inf")), seconds)

        for rep in range(args.repeat):
            cfg = PhotoSettings(cache_dir=tmp / f"cache-{rep}", audit_dir=tmp / "audit")
            t0 = time.perf_counter()
            for p in paths:
                naive(p, cfg)
            keep("naive", time.perf_counter() - t0)

            keep("floor", sum(floor_parts(p, cfg) for p in paths))

            t0 = time.perf_counter()
            encoded = pipeline(paths, cfg, tmp / f"out-cold-{rep}")
            keep("cold", time.perf_counter() - t0)
            assert encoded == n

            t0 = time.perf_counter()
            encoded = pipeline(paths, cfg, tmp / f"out-warm-{rep}")
            keep("warm", time.perf_counter() - t0)
            assert encoded == 0
        naive_ms, cold_ms, warm_ms, floor_ms = (ms(best[k]) for k in
                                                ("naive", "cold", "warm", "floor"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps({
        "n": n, "naive_ms": naive_ms, "cold_ms": cold_ms, "warm_ms": warm_ms,
        "floor_ms": floor_ms,
        "naive_over_cold": round(naive_ms / cold_ms, 2),
        "cold_over_floor": round(cold_ms / floor_ms, 2),
        "cold_over_warm": round(cold_ms / max(warm_ms, 0.001), 1),
    }))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
