"""Re-encode a photo into clean, small, metadata-free copies (all Pillow work is here).

What leaves this module is pixels only: orientation applied, sRGB, alpha
flattened on white, resized to a large size and a thumbnail, saved as JPEG and
WebP with no EXIF/GPS, XMP, IPTC, ICC or comment. Output names are the content
hash of the output bytes, so browsers and CDNs may cache them forever and a
changed photo gets a new URL.

The same decode gives the photo's pixel key (`pixel_key`): a hash of the
decoded, upright pixels, the same for a copy under another name, in another
post or another format (a PNG of the same pixels, a JPEG stripped of its
metadata). photos.posts joins the tags of every copy of a picture by it.
Every photo gets one, so every photo is decoded in full once (a draft decode
at 1/2 or 1/8 scale would give different pixels for a JPEG than for a PNG of
it); keys and renditions are cached by source hash, so only new photos pay.
With PHOTO_BLUR, a photo with a child made unrecognisable is rendered from a
copy of that same decode with the child's regions a mosaic (photos.blur), and
cached under its blur plan's key; its pixel key is still of the clear pixels,
so the blurred copy stays the same picture as its clear copies.

Speed matters because a school year has thousands of photos:
* one full decode per new photo serves both the key and the renditions;
* `reduce()` (box filter by an integer factor) then a bicubic `resize()`, one chain of
  reduce steps for every size (the thumbnail from the large size's reduced image);
* cold work runs in a process pool (one worker per core), each worker with Pillow's own
  block cache on (`_arena`): freed image memory is reused for the next photo instead of
  being handed back to the kernel and faulted in again, zeroed, page by page;
* only what the cache (photos.cache) lacks is decoded or encoded.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import sys
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import NamedTuple

from PIL import Image, ImageCms, ImageFile, ImageOps

from ..errors import DISK_ERRNOS
from . import blur
from .cache import EncodeRun, Manifest, Output, PhotoCache, PixelIndex
from .rules import Probe
from .settings import PIXEL_KEY_VERSION, PhotoSettings

try:  # HEIC/HEIF from iPhones
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # pragma: no cover - a dependency, but do not break the build without it
    pillow_heif = None

ImageFile.LOAD_TRUNCATED_IMAGES = False  # a truncated file is an error, never half a photo

SRGB = ImageCms.createProfile("sRGB")
# Pillow blocks of 16 MB kept for reuse while photos are encoded. Without them every 12 MP
# photo's ~100 MB of image memory (the decode, the reduced copies) is mmap'ed afresh and
# zeroed by the kernel: ~19,000 page faults, 65-85 ms of system CPU per photo, about a fifth
# of its CPU (benchmarks/photos.py, "arena"). 8 blocks cover a 12 MP photo's working set; a
# larger photo only reuses less. Same semantics as malloc: a block asked for clean is zeroed.
ARENA_BLOCKS = 8
EXTENSIONS = {"jpeg": "jpg", "webp": "webp"}


class PhotoDecodeError(Exception):
    """The file is not a photo we are willing to decode; .code is a photo_rules reason."""

    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code = code
        self.detail = detail


def _open(data: bytes, settings: PhotoSettings) -> Image.Image:
    """Open (header only) with every size limit enforced; raises PhotoDecodeError."""
    if not data:
        raise PhotoDecodeError("empty", "0 bytes")
    if len(data) > settings.max_bytes:
        raise PhotoDecodeError("too_big", f"{len(data)} bytes > {settings.max_bytes}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PhotoDecodeError("too_many_pixels", str(exc)) from None
    except Exception as exc:  # Pillow raises many types for garbage input
        raise PhotoDecodeError("undecodable", f"{type(exc).__name__}: {exc}") from None
    w, h = im.size
    if w <= 0 or h <= 0:
        raise PhotoDecodeError("undecodable", f"size {w}x{h}")
    if w * h > settings.max_pixels:
        raise PhotoDecodeError("too_many_pixels", f"{w}x{h} > {settings.max_pixels} pixels")
    if getattr(im, "n_frames", 1) > 1 and im.format not in ("HEIF", "MPO"):
        # animated images are not photos; MPO/HEIF carry extra frames (depth, previews)
        raise PhotoDecodeError("undecodable", f"{im.format} met {im.n_frames} frames")
    return im


def probe(data: bytes, settings: PhotoSettings) -> Probe:
    """Header-only safety check (cheap, no pixel decode) for photo_rules.decide."""
    try:
        im = _open(data, settings)
    except PhotoDecodeError as exc:
        return Probe(False, exc.code, exc.detail)
    return Probe(True, "", "", *im.size)


def _fit(size: tuple[int, int], long_edge: int) -> tuple[int, int]:
    """Size scaled so the long edge is at most `long_edge` (never upscaled)."""
    w, h = size
    scale = min(1.0, long_edge / max(w, h))
    return max(1, round(w * scale)), max(1, round(h * scale))


# The last resize step. Measured on a 12 MP noise-and-gradient photo (the photo of
# tests/photos/test_rendition_quality.py): from the full decode, reduce() down to >= 1.25x
# oversampling then bicubic is as faithful to an ideal full-size LANCZOS resize as pipeline
# version 1's draft decode + reduce + LANCZOS (PSNR ~38.5 dB both) at ~75 % of its resize CPU.
RESAMPLE = Image.Resampling.BICUBIC


def _reduced(im: Image.Image, target: tuple[int, int]) -> Image.Image:
    """reduce() by the integer factor that keeps >= 1.25x oversampling for `target`."""
    factor = int(min(im.width / target[0], im.height / target[1]) / 1.25)
    return im.reduce(factor) if factor >= 2 else im


def _shrink(im: Image.Image, target: tuple[int, int]) -> Image.Image:
    """reduce() by the integer factor that keeps >= 1.25x oversampling, then RESAMPLE."""
    if im.size == target:
        return im
    return _reduced(im, target).resize(target, RESAMPLE)


def _shrink_all(im: Image.Image, targets: list[tuple[int, int]]) -> list[Image.Image]:
    """Every target from one chain of reduce() steps, largest first: each size is resized from
    the previous size's reduced image (still >= 1.25x its target), so the full-size pixels
    are passed over once, not once per size. 4000x3000: reduce(2) for 1600 px, then reduce(3)
    of that for 480 px, instead of reduce(6) of the full image (PSNR ~58 dB to it)."""
    out: dict[int, Image.Image] = {}
    base = im
    for i in sorted(range(len(targets)), key=lambda i: -max(targets[i])):
        target = targets[i]
        if base.size == target:
            out[i] = base
            continue
        base = _reduced(base, target)
        out[i] = base.resize(target, RESAMPLE)
    return [out[i] for i in range(len(targets))]


def _srgb_transform(im: Image.Image, icc: bytes | None) -> ImageCms.ImageCmsTransform | None:
    """The embedded profile -> sRGB transform for `im`'s mode, built once per photo.

    None when there is no usable profile: a broken one falls back to the
    untagged conversion in `_to_srgb`.
    """
    if not icc or im.mode not in ("RGB", "CMYK", "L"):
        return None
    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        return ImageCms.buildTransform(src, SRGB, im.mode, "RGB")
    except (ImageCms.PyCMSError, OSError, ValueError):
        return None


def _to_srgb(im: Image.Image, transform: ImageCms.ImageCmsTransform | None) -> Image.Image:
    """RGB in sRGB: apply the embedded profile's transform, else a plain conversion."""
    if transform is not None:
        try:
            return ImageCms.applyTransform(im, transform)
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a profile lcms accepts but cannot apply: the untagged conversion below
    return im if im.mode == "RGB" else im.convert("RGB")


def _flatten(im: Image.Image) -> Image.Image:
    """Transparent pixels on white; odd modes (P, 1, I;16, LA, …) to L/RGB/CMYK."""
    if im.mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    if im.mode in ("RGBA", "LA", "RGBa", "La", "PA") or (
        im.mode in ("RGB", "L") and "transparency" in im.info
    ):
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        im = Image.alpha_composite(white, rgba).convert("RGB")
    if im.mode == "1":
        im = im.convert("L")
    if im.mode not in ("RGB", "L", "CMYK"):
        im = im.convert("RGB")
    return im


class Frame(NamedTuple):
    """The stored picture a blur region is drawn on (MWG 2.0: before EXIF orientation)."""

    size: tuple[int, int]
    orientation: int
    format: str | None


def _decode(data: bytes, settings: PhotoSettings
            ) -> tuple[Image.Image, bytes | None, tuple[int, int], Frame]:
    """Decoded in full, upright, flattened; with the ICC profile, the upright size and the
    stored frame (blur regions are placed on the full-size pixels of this one decode)."""
    im = _open(data, settings)
    icc = im.info.get("icc_profile")
    original = im.size
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im.load()
        # the orientation exif_transpose applies (read after load: PNG's eXIf)
        frame = Frame(original, im.getexif().get(0x0112, 1), im.format)
        ImageOps.exif_transpose(im, in_place=True)  # not in place: a 36 MB copy when upright
        if im.size != original:  # rotated by 90 or 270 degrees
            original = im.size
        im = _flatten(im)
    except Exception as exc:  # truncated data, corrupt stream, bad EXIF, …
        raise PhotoDecodeError("undecodable", f"{type(exc).__name__}: {exc}") from None
    return im, icc, original, frame


def _blurred(im: Image.Image, frame: Frame, regions: tuple[blur.Region, ...]) -> Image.Image:
    """A copy of the decoded, upright image with `regions` a mosaic; the clear `im` is kept
    (its pixel key, and its own renditions). Regions are normalized to the stored frame, the
    mosaic is drawn on the full-size upright pixels, before any resize, so every rendition is
    made from the blurred pixels only."""
    if problem := blur.frame_problem(regions, frame.size, frame.orientation, frame.format):
        raise PhotoDecodeError("region_frame", problem)
    try:
        return blur.apply(im.copy(), regions, frame.orientation)
    except Exception as exc:
        raise PhotoDecodeError("undecodable", f"{type(exc).__name__}: {exc}") from None


def _clean(im: Image.Image) -> Image.Image:
    """Drop every piece of metadata Pillow might carry over into a save."""
    im.info = {}
    if hasattr(im, "_exif"):
        im._exif = None
    return im


def _encode_one(im: Image.Image, fmt: str, settings: PhotoSettings) -> bytes:
    buf = io.BytesIO()
    _clean(im)
    if fmt == "jpeg":
        im.save(buf, "JPEG", quality=settings.jpeg_quality, progressive=True, optimize=False,
                subsampling="4:2:0")
    elif fmt == "webp":
        im.save(buf, "WEBP", quality=settings.webp_quality, method=settings.webp_method)
    else:  # pragma: no cover - settings are validated by tests
        raise ValueError(fmt)
    return buf.getvalue()


def pixel_key(im: Image.Image) -> str:
    """The picture's identity: a hash of its decoded, upright, flattened pixels in RGB.

    Hashed after a 4x box reduction (`reduce`, exact integer arithmetic), since
    hashing the 36 MB of a 12 MP photo costs more than decoding it. Equal
    pixels always give equal keys; two pictures that differ in a few pixels
    may share one, which only joins their tags (fail closed). Always of the
    clear pixels: a blurred rendition is the same picture.
    """
    rgb = im if im.mode == "RGB" else im.convert("RGB")
    small = rgb.reduce(4) if min(rgb.size) >= 4 else rgb
    h = hashlib.sha256(f"schoolplein-pixels-{PIXEL_KEY_VERSION}|{rgb.width}x{rgb.height}|"
                       .encode())
    h.update(small.tobytes())
    return h.hexdigest()


def decoded_key(data: bytes, settings: PhotoSettings) -> str:
    """The pixel key of a photo's bytes (PhotoDecodeError when they do not decode)."""
    return pixel_key(_decode(data, settings)[0])


def encode(data: bytes, settings: PhotoSettings, regions: tuple[blur.Region, ...] = ()
           ) -> list[tuple[Output, bytes]]:
    """All outputs for one source: (Output, bytes) for large and thumb in every format."""
    im, icc, original, frame = _decode(data, settings)
    if regions:
        im = _blurred(im, frame, regions)
    return _renditions(im, icc, original, settings)


def _renditions(im: Image.Image, icc: bytes | None, original: tuple[int, int],
                settings: PhotoSettings) -> list[tuple[Output, bytes]]:
    try:
        transform = _srgb_transform(im, icc)
        large, thumb = (_to_srgb(small, transform) for small in _shrink_all(
            im, [_fit(original, settings.large_size), _fit(original, settings.thumb_size)]))
    except Exception as exc:
        raise PhotoDecodeError("undecodable", f"{type(exc).__name__}: {exc}") from None
    outputs = []
    for role, img, size in (("large", large, settings.large_size),
                            ("thumb", thumb, settings.thumb_size)):
        for fmt in settings.formats:
            blob = _encode_one(img, fmt, settings)
            name = f"{hashlib.sha256(blob).hexdigest()[:20]}-{size}.{EXTENSIONS[fmt]}"
            outputs.append((Output(name, role, fmt, img.width, img.height), blob))
    return outputs


@contextlib.contextmanager
def _arena():
    """Pillow's block cache at ARENA_BLOCKS while photos are encoded in this process; the
    previous setting (and so the memory) is given back afterwards."""
    before = Image.core.get_blocks_max()
    Image.core.set_blocks_max(max(before, ARENA_BLOCKS))
    try:
        yield
    finally:
        Image.core.set_blocks_max(before)  # frees the cached blocks beyond it


def _worker_start() -> None:
    """Pool initializer: a worker keeps its block cache for its whole life (every job)."""
    Image.core.set_blocks_max(max(Image.core.get_blocks_max(), ARENA_BLOCKS))


def _photo_job(path: str, source_hash: str, settings: PhotoSettings,
               wants: tuple[blur.Plan | None, ...]
               ) -> tuple[str | None, dict[str, Manifest]]:
    """Worker: read and decode once; (pixel key, manifests of `wants`), cached.

    `wants` are the renditions to make: None the clear ones (cache entry: the
    source hash), a blur plan the blurred ones (its key); () the key only. The
    key is of the clear pixels; "" for a photo that does not decode, None when
    the file could not be read as it was hashed (not cached: the next build
    tries again).
    """
    cache = PhotoCache(settings)
    try:
        data = Path(path).read_bytes()
        if hashlib.sha256(data).hexdigest() != source_hash:
            raise OSError("bestand veranderde tijdens de build")
        im, icc, original, frame = _decode(data, settings)
    except PhotoDecodeError as exc:
        manifests = {_entry(source_hash, w): Manifest(_entry(source_hash, w), (), exc.code,
                                                      exc.detail) for w in wants}
        for m in manifests.values():
            cache.store(m, [])
        return "", manifests
    except (OSError, MemoryError) as exc:  # the source, not the cache: nothing written yet
        return None, {_entry(source_hash, w): Manifest(_entry(source_hash, w), (), "undecodable",
                                                       f"{type(exc).__name__}: {exc}")
                      for w in wants}
    key, manifests = pixel_key(im), {}
    for want in wants:
        entry = _entry(source_hash, want)
        try:
            blobs = _renditions(im if want is None else _blurred(im, frame, want.regions),
                                icc, original, settings)
            manifest = Manifest(entry, tuple(o for o, _ in blobs))
        except PhotoDecodeError as exc:
            blobs, manifest = [], Manifest(entry, (), exc.code, exc.detail)
        except MemoryError as exc:  # not cached: the next build tries again
            manifests[entry] = Manifest(entry, (), "undecodable", f"{type(exc).__name__}: {exc}")
            continue
        cache.store(manifest, blobs)  # a full or read-only cache stops the build (DISK_ERRNOS)
        manifests[entry] = manifest
    return key, manifests


def _entry(source_hash: str, want: blur.Plan | None) -> str:
    return source_hash if want is None else want.key


def encode_all(sources: dict[str, Path], settings: PhotoSettings,
               progress: bool | None = None, publish: set[str] | None = None,
               plans: dict[str, blur.Plan] | None = None) -> EncodeRun:
    """Pixel keys for all sources (hash -> path) and manifests for the cache entries in
    `publish` (default: every source's clear renditions), decoding only what the cache lacks:
    one decode per photo serves its key and all its renditions.

    An entry is a source's hash (clear) or a blur plan's key (`plans`: key -> photos.blur.Plan,
    whose source must be in `sources`).
    """
    cache, index, plans = PhotoCache(settings), PixelIndex(settings.cache_dir), plans or {}
    publish = set(sources) if publish is None else set(publish)
    wanted: dict[str, list[blur.Plan | None]] = {}  # source hash -> the renditions to make
    for entry in sorted(publish):
        if entry in sources:
            wanted.setdefault(entry, []).append(None)
        elif entry in plans and plans[entry].source_hash in sources:
            wanted.setdefault(plans[entry].source_hash, []).append(plans[entry])
    manifests: dict[str, Manifest] = {}
    keys: dict[str, str] = {}
    todo: list[tuple[str, Path, tuple[blur.Plan | None, ...]]] = []
    for digest, path in sources.items():
        key = index.get(digest)
        if key is not None:
            keys[digest] = key
        missing = []
        for want in wanted.get(digest, ()):
            hit = cache.lookup(_entry(digest, want))
            if hit is None:
                missing.append(want)
            else:
                manifests[_entry(digest, want)] = hit
        if key is None or missing:
            todo.append((digest, path, tuple(missing)))
    encoded: set[str] = set()
    if todo:
        _run(todo, settings, progress, manifests, keys)
        for digest, _path, wants in todo:
            if keys.get(digest) is not None:
                index.set(digest, keys[digest])
            encoded.update(_entry(digest, w) for w in wants)
        index.save()
    return EncodeRun(manifests, frozenset(encoded),
                     {d: k for d, k in keys.items() if k is not None})


def _run(todo: list[tuple[str, Path, tuple[blur.Plan | None, ...]]], settings: PhotoSettings,
         progress: bool | None, manifests: dict[str, Manifest],
         keys: dict[str, str | None]) -> None:
    """Run the photo jobs, one worker per core, filling `manifests` and `keys`."""
    show = sys.stderr.isatty() and len(todo) >= 8 if progress is None else progress
    from tqdm import tqdm

    def done(digest: str, key: str | None, made: dict[str, Manifest]) -> None:
        keys[digest] = key
        manifests.update(made)

    def failed(digest: str, wants, exc: BaseException) -> None:
        detail = f"{type(exc).__name__}: {exc}"
        done(digest, None, {_entry(digest, w): Manifest(_entry(digest, w), (), "undecodable",
                                                        detail) for w in wants})

    bar = tqdm(total=len(todo), desc="foto's", unit="foto", file=sys.stderr, disable=not show)
    workers = min(settings.worker_count, len(todo))
    try:
        if workers <= 1:
            with _arena():
                for digest, path, wants in todo:
                    done(digest, *_photo_job(str(path), digest, settings, wants))
                    bar.update()
        else:
            with ProcessPoolExecutor(max_workers=workers, initializer=_worker_start) as pool:
                futures = {pool.submit(_photo_job, str(p), d, settings, wants): (d, wants)
                           for d, p, wants in todo}
                for fut in _as_completed(futures):
                    digest, wants = futures[fut]
                    try:
                        done(digest, *fut.result())
                    except OSError as exc:
                        if exc.errno in DISK_ERRNOS:  # the cache's disk: the admin's to fix
                            raise
                        failed(digest, wants, exc)
                    except Exception as exc:  # a crashed worker drops the photo, not the build
                        failed(digest, wants, exc)
                    bar.update()
    finally:
        bar.close()


def _as_completed(futures):
    from concurrent.futures import as_completed

    return as_completed(futures)
