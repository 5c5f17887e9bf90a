"""Photo pipeline benchmark: naive Pillow vs the Schoolplein pipeline vs the single-core floor.

    .venv/bin/python benchmarks/photos.py [--n 6] [--runs 5]

Generates N 12-megapixel JPEGs (4000x3000, noise blended with gradients so they
do not compress trivially, quality 90, upright) in a temp dir. They carry no ICC
profile: a photo with one also pays the colour transform to sRGB (about 20 ms
of CPU per 12 MP photo here), which the floor does not count.
Every variant writes the same outputs: the pipeline's sizes and formats with
its JPEG (quality, progressive, 4:2:0, no optimize) and WebP (quality, method)
settings. All figures are WALL milliseconds PER PHOTO (total / N):

floor_ms     one core, nothing else: a full decode (every photo needs one for its
             pixel key, photos.encode.pixel_key, which the floor computes too),
             the pipeline's own resizes (reduce + bicubic, photos.encode._shrink)
             and the same four encodes to memory. Its output bytes are checked
             equal to the pipeline's, so the two do the same pixel work by
             construction.
per_core_ms  the real pipeline with ONE worker (in-process, no pool) and an empty
             cache: source hashing (stat index), decode, resize, encode, cache
             write, copy into a fresh output dir.
pool_ms      the same with one worker per core (os.cpu_count()), pool start-up
             included: what a cold build pays.
warm_ms      the same call again with the cache filled, into a fresh output dir:
             stat, manifest read, link or copy out. No decoding or encoding.
naive_ms     one core, what a plugin written without care does with the same
             output settings: full decode, orientation, resize(LANCZOS) from full
             size to each size, the same saves, written to files.

Every measurement runs --runs times, interleaved (naive, floor, one worker,
pool, warm in each run; every cold run on a fresh cache), and the MEDIAN is
reported with the spread ((max - min) / median) so noise on a shared machine is
visible; the one-core variants also report their median CPU time (process_time,
cpu_ms), which other work on the machine disturbs less than wall time.
worker_rss_mb is the peak RSS (VmHWM) of a fresh worker process (its own
interpreter) that encodes one photo through the pipeline's worker function;
worker_encode_mb is that peak minus its RSS after imports.

Alternatives (cpu_ms per photo, one core, the same photos and output sizes and
settings, each with its PSNR in dB against the previous pipeline's large JPEG):
pipeline_v1 (the same full decode and reduce, LANCZOS as the last step, as before version 2), pipeline
(today: bicubic last step), webp_method0 (today with WebP method 0), and pyvips
(libvips with shrink-on-load, thumbnail from the large image, metadata stripped)
when `pyvips` is installed (`pip install "pyvips[binary]"`; not a dependency).
blur_one_face: what PHOTO_BLUR adds to a photo with one child made unrecognisable (CPU ms
per photo, medians): the mosaic step alone, and the whole encode with and without the region,
interleaved in each run (blur_cost).
school_year_min: 7,800 photos extrapolated from the pool's wall time per photo
(pool) and from the one-core CPU time over the cores (cpu: what two free cores
would take); a measured full year is `benchmarks/build.py --scale --scale-photos
7800`. pool_peak_mb: this process plus the largest worker's peak RSS times the
workers, an upper bound on the cold build's photo memory.

Ratios: per_core_over_floor (pipeline overhead on one core; target <= 1.2),
naive_over_per_core (the method, like for like), cold_over_warm (pool cold
over warm: what the cache saves), pool_speedup (one worker over the pool).
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import tqdm  # noqa: F401 - encode_all imports it on first use: not inside the first timed run
from PIL import Image, ImageChops, ImageOps, ImageStat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from plugins.photos import blur  # noqa: E402
from plugins.photos.blur import Region  # noqa: E402
from plugins.photos.cache import PhotoCache, SourceIndex  # noqa: E402
from plugins.photos.encode import (  # noqa: E402
    _decode,
    _encode_one,
    _fit,
    _shrink,
    encode,
    encode_all,
    pixel_key,
)
from plugins.photos.settings import PhotoSettings  # noqa: E402

# one child made unrecognisable: a face of 10 % x 15 % of the photo (about a child in a class
# photo), with the margin some 3 % of the pixels: what PHOTO_BLUR adds to a photo
SIZE = (4000, 3000)
BLUR_REGIONS = (Region(0.6, 0.4, 0.1, 0.15, applied_to=SIZE),)  # drawn for the photo's size


def make_photo(path: Path, seed: int, size: tuple[int, int] = SIZE) -> None:
    """Noise blended with two gradients: photo-like entropy, distinct per seed."""
    noise = Image.effect_noise(size, 40 + seed * 3).convert("L")
    horiz = Image.linear_gradient("L").rotate(90).resize(size)
    vert = Image.linear_gradient("L").resize(size)
    rgb = Image.merge("RGB", (Image.blend(horiz, noise, 0.35), Image.blend(vert, noise, 0.3),
                              Image.blend(noise, horiz.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
                                          0.5 + seed / 40)))
    rgb.save(path, "JPEG", quality=90)


def variant(jpeg: bytes, n: int) -> bytes:
    """The JPEG with other pixels for every `n`, made in microseconds: no decode, no encode.

    Low-frequency entries of the quantisation tables (zig-zag 5-9 of the luma table, 1-9 of
    the chroma table: all inside the 4x4 corner a 1/2 DCT-scaled decode still reads) go up by
    the base-4 digits of `n`. Every variant decodes to different pixels, so its renditions
    get their own content-hash names, as a real school year's do, at the same encoding cost.
    """
    out, digits, i, k = bytearray(jpeg), [], 2, 0
    while n:
        n, digit = divmod(n, 4)
        digits.append(digit)
    while i + 4 <= len(out) and out[i] == 0xFF and out[i + 1] != 0xDA:  # up to start of scan
        length = int.from_bytes(out[i + 2:i + 4], "big")
        if out[i + 1] == 0xDB:  # DQT: (precision << 4 | table, 64 entries) ...
            j = i + 4
            while j < i + 2 + length:
                if out[j] >> 4:
                    raise ValueError("16-bit quantisation table")
                for z in range(5, 10) if out[j] & 15 == 0 else range(1, 10):
                    if k < len(digits):
                        out[j + 1 + z] = min(255, out[j + 1 + z] + digits[k])
                    k += 1
                j += 65
        i += 2 + length
    if k < len(digits):
        raise ValueError(f"too few table entries for variant {n}")
    return bytes(out)


def _save(im: Image.Image, fmt: str, cfg: PhotoSettings) -> bytes:
    """The pipeline's output settings (photos.encode._encode_one), metadata-free."""
    buf = io.BytesIO()
    if fmt == "jpeg":
        im.save(buf, "JPEG", quality=cfg.jpeg_quality, progressive=True, optimize=False,
                subsampling="4:2:0")
    else:
        im.save(buf, "WEBP", quality=cfg.webp_quality, method=cfg.webp_method)
    return buf.getvalue()


def naive(path: Path, cfg: PhotoSettings, out: Path) -> None:
    """Full decode, resize from full size: the same outputs by the obvious method."""
    with Image.open(path) as src:
        im = ImageOps.exif_transpose(src)
    if im.mode != "RGB":
        im = im.convert("RGB")
    for size in (cfg.large_size, cfg.thumb_size):
        small = im.resize(_fit(im.size, size), Image.Resampling.LANCZOS)
        for fmt in cfg.formats:
            (out / f"{path.stem}-{size}.{fmt}").write_bytes(_save(small, fmt, cfg))


def floor(path: Path, cfg: PhotoSettings) -> dict[tuple[int, int, str], bytes]:
    """Full decode, pixel key, the pipeline's resizes and encodes: the unavoidable work."""
    im = Image.open(path)
    im.load()
    pixel_key(im)
    large = _shrink(im, _fit(SIZE, cfg.large_size))
    thumb = _shrink(im, _fit(SIZE, cfg.thumb_size))
    return {(*img.size, fmt): _save(img, fmt, cfg) for img in (large, thumb)
            for fmt in cfg.formats}


def psnr(a: Image.Image, b: Image.Image) -> float:
    stat = ImageStat.Stat(ImageChops.difference(a.convert("RGB"), b.convert("RGB")))
    mse = sum(stat.sum2) / (a.width * a.height * 3)
    return 99.0 if mse == 0 else round(10 * math.log10(255 ** 2 / mse), 1)


def pipeline_v1(data: bytes, cfg: PhotoSettings) -> dict[str, bytes]:
    """The pipeline before version 2's resize: the same, with LANCZOS as the last step."""
    im, _icc, original, _frame = _decode(data, cfg)
    out = {}
    for size in (cfg.large_size, cfg.thumb_size):
        target = _fit(original, size)
        small, factor = im, int(min(im.width / target[0], im.height / target[1]) / 2)
        if factor >= 2:
            small = small.reduce(factor)
        small = small.resize(target, Image.Resampling.LANCZOS)
        for fmt in cfg.formats:
            out[f"{size}.{fmt}"] = _encode_one(small, fmt, cfg)
    return out


def today(data: bytes, cfg: PhotoSettings, regions=()) -> dict[str, bytes]:
    return {f"{o.name.split('-')[1].split('.')[0]}.{o.format}": blob
            for o, blob in encode(data, cfg, regions)}


def with_pyvips(data: bytes, cfg: PhotoSettings) -> dict[str, bytes]:
    """libvips: shrink-on-load to the large size, thumbnail from it, no metadata kept."""
    import pyvips

    large = pyvips.Image.thumbnail_buffer(data, cfg.large_size, height=cfg.large_size,
                                          size="down").copy_memory()
    out = {}
    for size, im in ((cfg.large_size, large), (cfg.thumb_size, large.thumbnail_image(
            cfg.thumb_size, height=cfg.thumb_size))):
        out[f"{size}.jpeg"] = im.jpegsave_buffer(Q=cfg.jpeg_quality, interlace=True,
                                                 subsample_mode="on", keep="none")
        out[f"{size}.webp"] = im.webpsave_buffer(Q=cfg.webp_quality, effort=cfg.webp_method,
                                                 keep="none")
    return out


def alternatives(paths: list[Path], cfg: PhotoSettings, runs: int) -> dict:
    """CPU ms per photo (median of runs) and PSNR of the large JPEG against pipeline_v1's."""
    variants = {"pipeline_v1": lambda d: pipeline_v1(d, cfg), "pipeline": lambda d: today(d, cfg),
                "webp_method0": lambda d: today(d, cfg.with_(webp_method=0))}
    try:
        import pyvips

        pyvips.cache_set_max(0)
        variants["pyvips"] = lambda d: with_pyvips(d, cfg)
    except ImportError:
        pass
    datas = [p.read_bytes() for p in paths]
    key = f"{cfg.large_size}.jpeg"
    reference = [Image.open(io.BytesIO(pipeline_v1(d, cfg)[key])) for d in datas]
    result = {}
    for name, fn in variants.items():
        times, outputs = [], []
        for _ in range(runs):
            start = time.process_time()
            outputs = [fn(d) for d in datas]
            times.append((time.process_time() - start) * 1000 / len(datas))
        larges = [Image.open(io.BytesIO(o[key])) for o in outputs]
        assert all(a.size == b.size for a, b in zip(larges, reference, strict=True)), name
        result[name] = {"cpu_ms": round(statistics.median(times), 1),
                        "psnr_db": min(psnr(a, b) for a, b in zip(larges, reference, strict=True)),
                        "bytes": sum(len(b) for o in outputs for b in o.values()) // len(datas)}
    return result


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


WORKER = """
import sys
sys.path.insert(0, {root!r})
from pathlib import Path
from plugins.photos.cache import hash_file
from plugins.photos.encode import _photo_job
from plugins.photos.settings import PhotoSettings
def status_kb(key):  # ru_maxrss would include the parent's RSS at fork (kept across exec)
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1])
before = status_kb("VmRSS:")
path = Path({path!r})
digest = hash_file(path)
key, made = _photo_job(str(path), digest, PhotoSettings(cache_dir=Path({cache!r})), (None,))
assert key and made[digest].ok, made
print(before, status_kb("VmHWM:"))
"""


def worker_memory(path: Path, cache: Path) -> tuple[float, float]:
    """(peak RSS, peak minus RSS after imports) in MB of a fresh worker encoding one photo."""
    code = WORKER.format(root=str(ROOT), path=str(path), cache=str(cache))
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout.split()
    before, peak = (int(x) / 1024 for x in out)
    return round(peak, 1), round(peak - before, 1)


def blur_cost(paths: list[Path], cfg: PhotoSettings, runs: int) -> dict:
    """What PHOTO_BLUR adds per photo with one face made a mosaic, CPU ms (medians).

    mosaic_ms: blur.apply alone on the decoded upright image (what the blur itself costs);
    pipeline_ms / pipeline_blur_ms: the whole encode without and with the region, interleaved
    in each run (same photos, same settings); added_ms and ratio compare those two.
    """
    datas = [p.read_bytes() for p in paths]
    decoded = [_decode(d, cfg)[0] for d in datas]
    times: dict[str, list[float]] = {"mosaic": [], "pipeline": [], "pipeline_blur": []}

    def cpu(name, work):
        start = time.process_time()
        work()
        times[name].append((time.process_time() - start) * 1000 / len(datas))

    for _ in range(runs):
        cpu("pipeline", lambda: [today(d, cfg) for d in datas])
        cpu("pipeline_blur", lambda: [today(d, cfg, BLUR_REGIONS) for d in datas])
        copies = [im.copy() for im in decoded]
        cpu("mosaic", lambda ims=copies: [blur.apply(im, BLUR_REGIONS, 1) for im in ims])
    med = {k: statistics.median(v) for k, v in times.items()}
    return {"mosaic_ms": round(med["mosaic"], 2), "pipeline_ms": round(med["pipeline"], 1),
            "pipeline_blur_ms": round(med["pipeline_blur"], 1),
            "added_ms": round(med["pipeline_blur"] - med["pipeline"], 1),
            "ratio": round(med["pipeline_blur"] / med["pipeline"], 3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=6, help="photos per run")
    parser.add_argument("--runs", type=int, default=5, help="runs; the median is reported")
    args = parser.parse_args(argv)
    n = args.n
    tmp = Path(tempfile.mkdtemp(prefix="schoolplein-bench-"))
    seconds: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}

    def timed(name: str, work: Callable, *args) -> object:
        t0, c0 = time.perf_counter(), time.process_time()
        result = work(*args)
        seconds.setdefault(name, []).append(time.perf_counter() - t0)
        cpu.setdefault(name, []).append(time.process_time() - c0)
        return result

    try:
        paths = [tmp / f"foto-{i}.jpg" for i in range(n)]
        for i, p in enumerate(paths):
            make_photo(p, i)
        for run in range(args.runs):
            base = PhotoSettings(audit_dir=tmp / "audit")
            one = base.with_(cache_dir=tmp / f"cache-one-{run}", workers=1)
            pool = base.with_(cache_dir=tmp / f"cache-pool-{run}", workers=os.cpu_count() or 1)
            (out := tmp / f"naive-{run}").mkdir()
            timed("naive", lambda cfg, out: [naive(p, cfg, out) for p in paths], base, out)
            floors = timed("floor", lambda cfg: [floor(p, cfg) for p in paths], base)
            assert timed("per_core", pipeline, paths, one, tmp / f"one-{run}") == n
            assert timed("pool", pipeline, paths, pool, tmp / f"pool-{run}") == n
            assert timed("warm", pipeline, paths, pool, tmp / f"warm-{run}") == 0
            if run == 0:  # same pixel work: the floor's bytes are the pipeline's bytes
                published = {f.read_bytes() for f in (tmp / "one-0").iterdir()}
                assert {b for f in floors for b in f.values()} == published, "floor != pipeline"
            for d in (one.cache_dir, pool.cache_dir, out, *tmp.glob(f"*-{run}")):
                shutil.rmtree(d, ignore_errors=True)
        rss, encode_rss = worker_memory(paths[0], tmp / "cache-rss")
        workers_peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        own_peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        alt = alternatives(paths, PhotoSettings(audit_dir=tmp / "audit"), args.runs)
        blurred = blur_cost(paths, PhotoSettings(audit_dir=tmp / "audit"), args.runs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    med = {k: statistics.median(v) * 1000 / n for k, v in seconds.items()}
    cpu_med = {k: statistics.median(v) * 1000 / n for k, v in cpu.items()}
    spread = {k: round((max(v) - min(v)) / statistics.median(v), 2) for k, v in seconds.items()}
    print(json.dumps({
        "n": n, "runs": args.runs, "cores": os.cpu_count(),
        **{f"{k}_ms": round(med[k], 1) for k in ("floor", "per_core", "pool", "warm", "naive")},
        "per_core_over_floor": round(med["per_core"] / med["floor"], 2),
        "per_core_over_floor_cpu": round(cpu_med["per_core"] / cpu_med["floor"], 2),
        "cpu_ms": {k: round(cpu_med[k], 1) for k in ("floor", "per_core", "naive")},
        "naive_over_per_core": round(med["naive"] / med["per_core"], 2),
        "cold_over_warm": round(med["pool"] / max(med["warm"], 0.001), 1),
        "pool_speedup": round(med["per_core"] / med["pool"], 2),
        "worker_rss_mb": rss, "worker_encode_mb": encode_rss,
        "pool_peak_mb": round(own_peak_mb + workers_peak_mb * (os.cpu_count() or 1)),
        "school_year_min": {"pool": round(7800 * med["pool"] / 60000, 1),
                            "cpu": round(7800 * cpu_med["per_core"] / (os.cpu_count() or 1)
                                         / 60000, 1)},
        "alternatives": alt,
        "blur_one_face": blurred,
        "spread": spread,
    }))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
