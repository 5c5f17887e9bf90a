"""Re-encode a photo into clean, small, metadata-free copies (all Pillow work is here).

What leaves this module is pixels only: orientation applied, sRGB, alpha
flattened on white, resized to a large size and a thumbnail, saved as JPEG and
WebP with no EXIF/GPS, XMP, IPTC, ICC or comment. Output names are the content
hash of the output bytes, so browsers and CDNs may cache them forever and a
changed photo gets a new URL.

Speed matters because a school year has thousands of photos:
* JPEG DCT scaling (`Image.draft`) decodes a 12 MP photo at 1/2, 1/4 or 1/8
  size directly, which is most of the saving over a naive full decode;
* `reduce()` (box filter by an integer factor) then a bicubic `resize()`;
* cold work runs in a process pool (one worker per core);
* only what the cache (photos.cache) lacks is encoded.
"""

from __future__ import annotations

import hashlib
import io
import sys
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageCms, ImageFile, ImageOps

from . import blur
from .cache import Manifest, Output, PhotoCache
from .rules import Probe
from .settings import PhotoSettings

try:  # HEIC/HEIF from iPhones
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # pragma: no cover - a dependency, but do not break the build without it
    pillow_heif = None

ImageFile.LOAD_TRUNCATED_IMAGES = False  # a truncated file is an error, never half a photo

SRGB = ImageCms.createProfile("sRGB")
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


# The last resize step. Measured (benchmarks/photos.py, alternatives): after the DCT-scaled
# decode and reduce() a bicubic filter gives the same fidelity to a full-size LANCZOS
# resize as LANCZOS itself (PSNR ~40 dB both, ~48 dB to each other) at ~60 % of its CPU.
RESAMPLE = Image.Resampling.BICUBIC


def _shrink(im: Image.Image, target: tuple[int, int]) -> Image.Image:
    """reduce() by the integer factor that keeps >= 2x oversampling, then RESAMPLE."""
    if im.size == target:
        return im
    factor = int(min(im.width / target[0], im.height / target[1]) / 2)
    if factor >= 2:
        im = im.reduce(factor)
    return im.resize(target, RESAMPLE)


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


def _decode(data: bytes, settings: PhotoSettings, regions: tuple[blur.Region, ...] = ()
            ) -> tuple[Image.Image, bytes | None, tuple[int, int]]:
    """Decoded, upright, flattened, `regions` blurred; with the ICC profile and the upright
    original size.

    The JPEG is decoded at the smallest DCT scale that still covers the large
    size; the original size is returned so output sizes do not depend on the
    rounding of that scale. The blur replaces its regions here, before any
    resize, so every rendition is made from the blurred pixels only.
    """
    im = _open(data, settings)
    icc = im.info.get("icc_profile")
    original = im.size
    try:
        if im.format == "JPEG":
            im.draft("RGB" if im.mode == "RGB" else None, _fit(im.size, settings.large_size))
        drafted = im.size
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im.load()
        if regions:  # the orientation exif_transpose applies (read after load: PNG's eXIf)
            orientation = im.getexif().get(0x0112, 1)
            if problem := blur.frame_problem(regions, original, orientation, im.format):
                raise PhotoDecodeError("region_frame", problem)
        ImageOps.exif_transpose(im, in_place=True)  # not in place: a 12 MB copy when upright
        if im.size != drafted:  # rotated by 90 or 270 degrees
            original = original[::-1]
        im = _flatten(im)
        if regions:
            im = blur.apply(im, regions, orientation)
    except PhotoDecodeError:
        raise
    except Exception as exc:  # truncated data, corrupt stream, bad EXIF, …
        raise PhotoDecodeError("undecodable", f"{type(exc).__name__}: {exc}") from None
    return im, icc, original


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


def encode(data: bytes, settings: PhotoSettings, regions: tuple[blur.Region, ...] = ()
           ) -> list[tuple[Output, bytes]]:
    """All outputs for one source: (Output, bytes) for large and thumb in every format."""
    im, icc, original = _decode(data, settings, regions)
    try:
        transform = _srgb_transform(im, icc)
        # both from the decoded image: the thumbnail's reduce() step is then a cheap 2x/4x box
        large = _to_srgb(_shrink(im, _fit(original, settings.large_size)), transform)
        thumb = _to_srgb(_shrink(im, _fit(original, settings.thumb_size)), transform)
    except Exception as exc:
        raise PhotoDecodeError("undecodable", f"{type(exc).__name__}: {exc}") from None
    del im  # the decoded photo (12 MB for 12 MP) is not needed while encoding
    outputs = []
    for role, img, size in (("large", large, settings.large_size),
                            ("thumb", thumb, settings.thumb_size)):
        for fmt in settings.formats:
            blob = _encode_one(img, fmt, settings)
            name = f"{hashlib.sha256(blob).hexdigest()[:20]}-{size}.{EXTENSIONS[fmt]}"
            outputs.append((Output(name, role, fmt, img.width, img.height), blob))
    return outputs


def _encode_job(path: str, key: str, settings: PhotoSettings,
                plan: blur.Plan | None = None) -> Manifest:
    """Worker: read, encode, store in the cache; errors become a cached error manifest.

    `key` is the cache entry: the source's sha256, or the blur plan's key.
    """
    cache = PhotoCache(settings)
    try:
        data = Path(path).read_bytes()
        if hashlib.sha256(data).hexdigest() != (plan.source_hash if plan else key):
            raise PhotoDecodeError("undecodable", "bestand veranderde tijdens de build")
        blobs = encode(data, settings, plan.regions if plan else ())
        manifest = Manifest(key, tuple(o for o, _ in blobs))
    except PhotoDecodeError as exc:
        blobs, manifest = [], Manifest(key, (), exc.code, exc.detail)
    except (OSError, MemoryError) as exc:
        return Manifest(key, (), "undecodable", f"{type(exc).__name__}: {exc}")
    cache.store(manifest, blobs)
    return manifest


@dataclass(frozen=True)
class EncodeRun:
    manifests: dict[str, Manifest]  # by cache key (the source hash, or a blur plan's key)
    encoded: frozenset[str]  # keys encoded cold in this run (empty when warm)


def encode_all(sources: dict[str, Path], settings: PhotoSettings,
               progress: bool | None = None, plans: dict[str, blur.Plan] | None = None
               ) -> EncodeRun:
    """Manifests for all sources (cache key -> path), encoding only what the cache lacks.

    A key is the source's sha256, or for a blurred rendition the key of its plan
    in `plans` (photos.blur.Plan).
    """
    plans = plans or {}
    cache = PhotoCache(settings)
    manifests: dict[str, Manifest] = {}
    todo: list[tuple[str, Path]] = []
    for digest, path in sources.items():
        hit = cache.lookup(digest)
        if hit is not None:
            manifests[digest] = hit
        else:
            todo.append((digest, path))
    if not todo:
        return EncodeRun(manifests, frozenset())
    show = sys.stderr.isatty() and len(todo) >= 8 if progress is None else progress
    from tqdm import tqdm

    bar = tqdm(total=len(todo), desc="foto's", unit="foto", file=sys.stderr, disable=not show)
    workers = min(settings.worker_count, len(todo))
    try:
        if workers <= 1:
            for digest, path in todo:
                manifests[digest] = _encode_job(str(path), digest, settings, plans.get(digest))
                bar.update()
        else:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                futures = {pool.submit(_encode_job, str(p), d, settings, plans.get(d)): d
                           for d, p in todo}
                for fut in _as_completed(futures):
                    digest = futures[fut]
                    try:
                        manifests[digest] = fut.result()
                    except Exception as exc:  # a crashed worker drops the photo, not the build
                        manifests[digest] = Manifest(digest, (), "undecodable",
                                                     f"{type(exc).__name__}: {exc}")
                    bar.update()
    finally:
        bar.close()
    return EncodeRun(manifests, frozenset(d for d, _ in todo))


def _as_completed(futures):
    from concurrent.futures import as_completed

    return as_completed(futures)
