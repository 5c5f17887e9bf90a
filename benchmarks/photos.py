"""Photo pipeline benchmark: naive Pillow vs the Schoolplein pipeline vs the single-core floor.

    .venv/bin/python benchmarks/photos.py [--n 6] [--runs 5]

Generates N 12-megapixel JPEGs (4000x3000, noise blended with gradients so they
do not compress trivially, quality 90, upright) in a temp dir. They are what a phone
writes: baseline (not progressive) JPEG with 4:2:0 chroma subsampling, about 3.4 bits
per pixel (5 MB; a phone's 12 MP JPEG is 3-6 MB); the JSON's "master" says so as
measured. A progressive or 4:4:4 master would decode much slower than a real year's.
They carry no ICC profile: a photo with one also pays the colour transform to sRGB
(about 20 ms of CPU per 12 MP photo here), which the floor does not count.
Every variant writes the same outputs: the pipeline's sizes and formats with
its JPEG (quality, progressive, 4:2:0, no optimize) and WebP (quality, method)
settings. All figures are WALL milliseconds PER PHOTO (total / N):

floor_ms     one core, nothing else: a full decode (every photo needs one for its
             pixel key, photos.encode.pixel_key, which the floor computes too),
             the pipeline's own resizes (one reduce chain + bicubic, photos.encode._shrink_all)
             and the same four encodes to memory. Its output bytes are checked
             equal to the pipeline's, so the two do the same pixel work by
             construction.
per_core_ms  the real pipeline with ONE worker (in-process, no pool) and an empty
             cache: source hashing (stat index), decode, resize, encode, cache
             write, copy into a fresh output dir.
pool_ms      the same with one worker per core (os.cpu_count()), pool start-up
             included: what a cold build pays.
             Its cpu_ms counts the workers' CPU (they are joined when the pool closes).
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

breakdown_cpu_ms: where one photo's CPU goes on today's path, step by step (medians over
photos and runs): decode (open, load, orientation, flatten), pixel_key, reduce_/resize_ per
size (photos.encode._shrink_all's chain: the thumbnail's reduce starts from the large size's
reduced image), jpeg_/webp_ per size, strip (dropping the metadata Pillow carries).

Alternatives (cpu_ms per photo, one core, the median over photos x runs, interleaved: every
variant on one photo in a rotating order before the next photo, the same
photos, output sizes and settings; psnr_db per rendition against pipeline_v3's, the minimum
over the photos; bytes of the four renditions per photo). Every variant computes the pixel key
where the pipeline needs it: pipeline_v1 (LANCZOS last step, as before version 2; no key),
pipeline_v3 (every size reduced from the full decode, WebP method 1: before version 4),
one_reduce (v3 with one reduce chain for every size), pipeline (today, version 4: one_reduce
and WebP method 0), drafted (today plus a DCT-scaled draft decode for the renditions beside
the full decode the key needs), bilinear (today with a BILINEAR last step), jpeg_baseline
(today with baseline Huffman-optimised JPEG instead of progressive: same pixels, another file
layout; information only), and pyvips (libvips with shrink-on-load, thumbnail from the large
image, metadata stripped) when `pyvips` is installed (`pip install "pyvips[binary]"`; not a
dependency). `--only alternatives` prints the breakdown and the alternatives alone.

blur_one_face: what PHOTO_BLUR adds to a photo with one child made unrecognisable (CPU ms
per photo, medians): the mosaic step alone, and the whole encode with and without the region,
interleaved in each run (blur_cost).
school_year_min: 7,800 photos extrapolated from the pool's measured wall time per photo
(pool: what this machine, with its load, took on all its cores), beside the
one-core figures: the one-core CPU over the cores (cpu_over_cores: what free cores would
take) and one worker's wall time (one_core); a measured full year is
`benchmarks/build.py --scale --scale-photos 7800`. pool_peak_mb: this process plus the
largest worker's peak RSS times the workers, an upper bound on the cold build's photo memory.

pool_busy: the pool's CPU over cores x its wall time (1.0: every worker always ran); with
pool_cpu_over_per_core_cpu (the pool's extra CPU per photo) it tells a slow pool from a
busy machine.

Ratios: per_core_over_floor (pipeline overhead on one core; target <= 1.2),
naive_over_per_core (the method, like for like), cold_over_warm (pool cold
over warm: what the cache saves), pool_speedup (one worker over the pool).
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import contextlib
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
from plugins.photos import encode as encode_mod  # noqa: E402
from plugins.photos.blur import Region  # noqa: E402
from plugins.photos.cache import PhotoCache, SourceIndex  # noqa: E402
from plugins.photos.encode import (  # noqa: E402
    _clean,
    _decode,
    _encode_one,
    _fit,
    _reduced,
    _renditions,
    _shrink,
    _shrink_all,
    _srgb_transform,
    _to_srgb,
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


def master_info(path: Path) -> dict:
    """What the generated master is, beside what a phone writes (baseline, 4:2:0)."""
    from PIL import JpegImagePlugin

    with Image.open(path) as im:
        sampling = {0: "4:4:4", 1: "4:2:2", 2: "4:2:0"}.get(JpegImagePlugin.get_sampling(im), "?")
        return {"size": list(im.size), "progressive": bool(im.info.get("progressive")),
                "subsampling": sampling,
                "bits_per_pixel": round(path.stat().st_size * 8 / (im.width * im.height), 2)}


MASTER: dict = {}


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
    large, thumb = _shrink_all(im, [_fit(SIZE, cfg.large_size), _fit(SIZE, cfg.thumb_size)])
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


def pipeline_v3(data: bytes, cfg: PhotoSettings) -> dict[str, bytes]:
    """Pipeline version 3: every size reduced and resized from the full decode, WebP method 1."""
    cfg = cfg.with_(webp_method=1)
    im, icc, original, _frame = _decode(data, cfg)
    pixel_key(im)
    transform = _srgb_transform(im, icc)
    out = {}
    for size in (cfg.large_size, cfg.thumb_size):
        small = _to_srgb(_shrink(im, _fit(original, size)), transform)
        for fmt in cfg.formats:
            out[f"{size}.{fmt}"] = _encode_one(small, fmt, cfg)
    return out


def job(data: bytes, cfg: PhotoSettings) -> dict[str, bytes]:
    """Today's worker (photos.encode._photo_job) without the file and the cache: one decode,
    the pixel key, the renditions."""
    im, icc, original, _frame = _decode(data, cfg)
    pixel_key(im)
    return _by_size(_renditions(im, icc, original, cfg), cfg)


def _by_size(outputs, cfg: PhotoSettings) -> dict[str, bytes]:
    return {f"{cfg.large_size if o.role == 'large' else cfg.thumb_size}.{o.format}": blob
            for o, blob in outputs}


def drafted(data: bytes, cfg: PhotoSettings) -> dict[str, bytes]:
    """The full decode the pixel key needs (a PNG copy of a JPEG must get the JPEG's key), plus
    a DCT-scaled draft decode for the renditions: the largest scale that leaves >= 1.25x the
    large size (4000x3000: 1/2, 2000x1500 for 1600 px), then today's resizes."""
    im, icc, original, _frame = _decode(data, cfg)
    pixel_key(im)
    draft = Image.open(io.BytesIO(data))
    w, h = _fit(draft.size, cfg.large_size)
    draft.draft("RGB", (math.ceil(w * 1.25), math.ceil(h * 1.25)))
    draft.load()
    return _by_size(_renditions(draft, icc, original, cfg), cfg)


def jpeg_baseline(data: bytes, cfg: PhotoSettings) -> dict[str, bytes]:
    """Today with baseline (Huffman-optimised) instead of progressive JPEG: the same decoded
    pixels in another file layout (no coarse-first display on a slow phone). Information only:
    not adopted, it changes what a parent's phone shows while the photo loads."""
    im, _icc, original, _frame = _decode(data, cfg)
    pixel_key(im)
    out = {}
    sizes = (cfg.large_size, cfg.thumb_size)
    for size, small in zip(sizes, _shrink_all(im, [_fit(original, s) for s in sizes]),
                           strict=True):
        buf = io.BytesIO()
        small.save(buf, "JPEG", quality=cfg.jpeg_quality, optimize=True, subsampling="4:2:0")
        out[f"{size}.jpeg"] = buf.getvalue()
        out[f"{size}.webp"] = _encode_one(small, "webp", cfg)
    return out


@contextlib.contextmanager
def last_step(resample: Image.Resampling):
    """photos.encode's last resize step swapped for `resample` (an alternative filter)."""
    saved, encode_mod.RESAMPLE = encode_mod.RESAMPLE, resample
    try:
        yield
    finally:
        encode_mod.RESAMPLE = saved


def bilinear(data: bytes, cfg: PhotoSettings) -> dict[str, bytes]:
    """Today with BILINEAR instead of BICUBIC as the last resize step (about half its CPU)."""
    with last_step(Image.Resampling.BILINEAR):
        return job(data, cfg)


def breakdown(datas: list[bytes], cfg: PhotoSettings, runs: int) -> dict:
    """Where the CPU of one photo goes (ms, median over photos x runs): the steps of
    photos.encode._photo_job one by one, on today's path."""
    times: dict[str, list[float]] = {}

    def step(name, work):
        start = time.process_time()
        result = work()
        times.setdefault(name, []).append((time.process_time() - start) * 1000)
        return result

    for _ in range(runs):
        for data in datas:
            im, icc, original, _frame = step("decode", lambda d=data: _decode(d, cfg))
            step("pixel_key", lambda im=im: pixel_key(im))
            transform = _srgb_transform(im, icc)
            sizes, base = {}, im  # photos.encode._shrink_all, step by step
            for role, size in (("large", cfg.large_size), ("thumb", cfg.thumb_size)):
                target = _fit(original, size)
                base = step(f"reduce_{role}", lambda b=base, t=target: _reduced(b, t))
                sizes[role] = step(f"resize_{role}", lambda b=base, t=target, tr=transform:
                                   _to_srgb(b.resize(t, encode_mod.RESAMPLE), tr))
            for role, img in sizes.items():
                step("strip", lambda img=img: _clean(img))
                for fmt in cfg.formats:
                    step(f"{fmt}_{role}", lambda img=img, fmt=fmt: _encode_one(img, fmt, cfg))
    med = {k: round(statistics.median(v), 1) for k, v in times.items()}
    med["strip"] = round(med["strip"] * 2, 2)  # per photo: two images
    med["sum"] = round(sum(v for k, v in med.items()), 1)
    return med


def alternatives(paths: list[Path], cfg: PhotoSettings, runs: int) -> dict:
    """CPU ms per photo (median over photos x runs, every variant on one photo in turn), and per
    rendition its PSNR against pipeline version 3's (min over photos) and the bytes per photo."""
    variants = {"pipeline_v1": lambda d: pipeline_v1(d, cfg),
                "pipeline_v3": lambda d: pipeline_v3(d, cfg),
                "one_reduce": lambda d: job(d, cfg.with_(webp_method=1)),
                "pipeline": lambda d: job(d, cfg),
                "drafted": lambda d: drafted(d, cfg),
                "bilinear": lambda d: bilinear(d, cfg),
                "jpeg_baseline": lambda d: jpeg_baseline(d, cfg)}
    try:
        import pyvips

        pyvips.cache_set_max(0)
        variants["pyvips"] = lambda d: with_pyvips(d, cfg)
    except ImportError:
        pass
    datas = [p.read_bytes() for p in paths]
    reference = [{k: Image.open(io.BytesIO(b)) for k, b in pipeline_v3(d, cfg).items()}
                 for d in datas]
    times: dict[str, list[float]] = {name: [] for name in variants}
    outputs: dict[str, list[dict[str, bytes]]] = {name: [{}] * len(datas) for name in variants}
    names = list(variants)
    for run in range(runs):  # finely interleaved: every variant on a photo, then the next photo,
        for i, data in enumerate(datas):  # in a rotating order, so a load change hits all alike
            for name in names[(run + i) % len(names):] + names[:(run + i) % len(names)]:
                start = time.process_time()
                outputs[name][i] = variants[name](data)
                times[name].append((time.process_time() - start) * 1000)
    result = {}
    for name in variants:
        psnrs = {}
        for key in reference[0]:
            got = [Image.open(io.BytesIO(o[key])) for o in outputs[name]]
            assert all(a.size == b[key].size for a, b in zip(got, reference, strict=True)), name
            psnrs[key] = min(psnr(a, b[key]) for a, b in zip(got, reference, strict=True))
        result[name] = {"cpu_ms": round(statistics.median(times[name]), 1), "psnr_db": psnrs,
                        "bytes": sum(len(b) for o in outputs[name] for b in o.values())
                        // len(datas)}
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
    parser.add_argument("--only", choices=["alternatives"],
                        help="only the breakdown and the alternatives (one core, CPU)")
    args = parser.parse_args(argv)
    n = args.n
    tmp = Path(tempfile.mkdtemp(prefix="schoolplein-bench-"))
    seconds: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}

    def timed(name: str, work: Callable, *args) -> object:
        t0, c0 = time.perf_counter(), os.times()
        result = work(*args)
        seconds.setdefault(name, []).append(time.perf_counter() - t0)
        c1 = os.times()
        cpu.setdefault(name, []).append(c1.user + c1.system + c1.children_user
                                        + c1.children_system - c0.user - c0.system
                                        - c0.children_user - c0.children_system)
        return result

    try:
        paths = [tmp / f"foto-{i}.jpg" for i in range(n)]
        for i, p in enumerate(paths):
            make_photo(p, i)
        MASTER.update(master_info(paths[0]))
        if args.only:
            cfg = PhotoSettings(audit_dir=tmp / "audit")
            print(json.dumps({"n": n, "runs": args.runs, "cores": os.cpu_count(),
                              "load": os.getloadavg(),
                              "breakdown_cpu_ms": breakdown([p.read_bytes() for p in paths],
                                                            cfg, args.runs),
                              "alternatives": alternatives(paths, cfg, args.runs)}))
            return 0
        for run in range(args.runs):
            base = PhotoSettings(audit_dir=tmp / "audit")
            one = base.with_(cache_dir=tmp / f"cache-one-{run}", workers=1)
            pool = base.with_(cache_dir=tmp / f"cache-pool-{run}", workers=os.cpu_count() or 1)
            (out := tmp / f"naive-{run}").mkdir()
            timed("naive", lambda cfg, out: [naive(p, cfg, out) for p in paths], base, out)
            floors = timed("floor", lambda cfg: [floor(p, cfg) for p in paths], base)
            made: dict[str, set[bytes]] = {}
            for label, cfg in (("per_core", one), ("pool", pool)):
                dest = tmp / f"{label}-{run}"
                assert timed(label, pipeline, paths, cfg, dest) == n
                made[label] = {f.read_bytes() for f in dest.iterdir()}
            assert made["per_core"] == made["pool"], "pool != one worker"
            assert timed("warm", pipeline, paths, pool, tmp / f"warm-{run}") == 0
            if run == 0:  # same pixel work: the floor's bytes are the pipeline's bytes
                assert {b for f in floors for b in f.values()} == made["per_core"], \
                    "floor != pipeline"
            for d in (one.cache_dir, pool.cache_dir, out, *tmp.glob(f"*-{run}")):
                shutil.rmtree(d, ignore_errors=True)
        rss, encode_rss = worker_memory(paths[0], tmp / "cache-rss")
        workers_peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        own_peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        breakdown_ms = breakdown([p.read_bytes() for p in paths],
                                 PhotoSettings(audit_dir=tmp / "audit"), args.runs)
        alt = alternatives(paths, PhotoSettings(audit_dir=tmp / "audit"), args.runs)
        blurred = blur_cost(paths, PhotoSettings(audit_dir=tmp / "audit"), args.runs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    med = {k: statistics.median(v) * 1000 / n for k, v in seconds.items()}
    cpu_med = {k: statistics.median(v) * 1000 / n for k, v in cpu.items()}
    spread = {k: round((max(v) - min(v)) / statistics.median(v), 2) for k, v in seconds.items()}
    print(json.dumps({
        "n": n, "runs": args.runs, "cores": os.cpu_count(),
        "master": MASTER,
        **{f"{k}_ms": round(med[k], 1) for k in ("floor", "per_core", "pool", "warm", "naive")},
        "per_core_over_floor": round(med["per_core"] / med["floor"], 2),
        "per_core_over_floor_cpu": round(cpu_med["per_core"] / cpu_med["floor"], 2),
        "cpu_ms": {k: round(cpu_med[k], 1) for k in ("floor", "per_core", "naive",
                                                      "pool")},
        "naive_over_per_core": round(med["naive"] / med["per_core"], 2),
        "cold_over_warm": round(med["pool"] / max(med["warm"], 0.001), 1),
        "pool_speedup": round(med["per_core"] / med["pool"], 2),
        # the workers' share of the time they ran (CPU over cores x wall): below 1 they were
        # runnable but not scheduled (other work on the machine) or waited on the main process
        "pool_busy": round(cpu_med["pool"] / ((os.cpu_count() or 1) * med["pool"]), 2),
        "pool_cpu_over_per_core_cpu": round(cpu_med["pool"] / cpu_med["per_core"], 2),
        "worker_rss_mb": rss, "worker_encode_mb": encode_rss,
        "pool_peak_mb": round(own_peak_mb + workers_peak_mb * (os.cpu_count() or 1)),
        "school_year_min": {
            "pool": round(7800 * med["pool"] / 60000, 1),
            "cpu_over_cores": round(7800 * cpu_med["per_core"] / (os.cpu_count() or 1) / 60000, 1),
            "one_core": round(7800 * med["per_core"] / 60000, 1)},
        "load": os.getloadavg(),
        "breakdown_cpu_ms": breakdown_ms,
        "alternatives": alt,
        "blur_one_face": blurred,
        "spread": spread,
    }))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
