"""Photo settings in one frozen object, read once from the Pelican settings.

The library functions take this object instead of the Pelican settings dict
so they can be tested without Pelican, and so the pipeline part of it can be
hashed into the cache key (a changed size or quality re-encodes everything).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import Problem, SchoolpleinError
from ..roster import Consent
from ..settings import default

# Bump when the encoder output changes for the same settings (new step, bug fix):
# it is part of the cache key, so every cached photo is re-encoded once.
PIPELINE_VERSION = 4  # 3: renditions from the full decode that also gives the pixel key, bicubic;
# 4: one reduce chain for every size (photos.encode._shrink_all), WebP method 0
# Bump when photos.encode.pixel_key changes: the pixel index (photos.cache.PixelIndex) starts over.
PIXEL_KEY_VERSION = 1

# The one list of photo files a post folder may hold (lower case); pelicanconf's
# IGNORE_FILES and the fotos.txt reader are derived from it.
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".heic", ".heif", ".webp"})
FOTOS_TXT = "fotos.txt"  # the teacher's list of who is on which photo
PHOTO_DIR = "fotos"  # <section>/fotos/: the only place a published photo lives
XMP_SUFFIX = ".xmp"  # photo tools' sidecars: foto.jpg.xmp (digiKam, darktable), foto.xmp (Lightroom)


@dataclass(frozen=True)
class PhotoSettings:
    min_children: int = int(default("SCHOOLPLEIN_MIN_CHILDREN_PER_PHOTO"))
    consent_default: Consent = Consent(default("SCHOOLPLEIN_PHOTO_CONSENT_DEFAULT"))
    strict: bool = False
    blur: bool = default("SCHOOLPLEIN_PHOTO_BLUR") == "1"  # blur a child without consent (photos.blur)
    blur_max_share: float = 0.25  # a region larger than this share of the photo: a portrait, dropped
    max_pixels: int = 60_000_000  # larger is treated as a decompression bomb
    max_bytes: int = 40 * 1024 * 1024
    large_size: int = 1600  # long edge in px
    thumb_size: int = 480
    jpeg_quality: int = 82
    webp_quality: int = 80
    # 4 (Pillow default) is ~3x slower for a ~2% smaller file; 0 against 1: ~25 % less WebP CPU,
    # +0.4 % bytes, PSNR 46-52 dB to method 1's output (benchmarks/photos.py alternatives)
    webp_method: int = 0
    formats: tuple[str, ...] = ("jpeg", "webp")
    cache_dir: Path = Path(default("SCHOOLPLEIN_PHOTO_CACHE"))
    audit_dir: Path = Path(default("SCHOOLPLEIN_AUDIT"))
    workers: int = 0  # 0: os.cpu_count()

    @property
    def worker_count(self) -> int:
        return self.workers or os.cpu_count() or 1

    def pipeline_key(self) -> str:
        """Hash of everything that changes the encoded bytes (cache key part)."""
        fields = {
            "version": PIPELINE_VERSION,
            "max_pixels": self.max_pixels,
            "max_bytes": self.max_bytes,
            "large": self.large_size,
            "thumb": self.thumb_size,
            "jpeg_q": self.jpeg_quality,
            "webp_q": self.webp_quality,
            "webp_m": self.webp_method,
            "formats": list(self.formats),
        }
        blob = json.dumps(fields, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def with_(self, **changes) -> PhotoSettings:
        return replace(self, **changes)

    @classmethod
    def from_pelican(cls, settings: Mapping) -> PhotoSettings:
        """Read the PHOTO_* keys; a bad value is an admin error, not a traceback."""
        base = cls()
        given = settings.get("PHOTO_CONSENT_DEFAULT", base.consent_default)
        try:
            consent = given if isinstance(given, Consent) else Consent(str(given).lower())
        except ValueError:
            raise SchoolpleinError(Problem(
                "pelicanconf.py", None,
                f"onbekende PHOTO_CONSENT_DEFAULT '{given}'", "gebruik geen, groep of school",
            )) from None
        return cls(
            min_children=int(settings.get("MIN_CHILDREN_PER_PHOTO", base.min_children)),
            consent_default=consent,
            strict=bool(settings.get("PHOTO_STRICT", False)),
            blur=bool(settings.get("PHOTO_BLUR", base.blur)),
            max_pixels=int(settings.get("PHOTO_MAX_PIXELS", base.max_pixels)),
            max_bytes=int(settings.get("PHOTO_MAX_BYTES", base.max_bytes)),
            large_size=int(settings.get("PHOTO_LARGE_SIZE", base.large_size)),
            thumb_size=int(settings.get("PHOTO_THUMB_SIZE", base.thumb_size)),
            jpeg_quality=int(settings.get("PHOTO_JPEG_QUALITY", base.jpeg_quality)),
            webp_quality=int(settings.get("PHOTO_WEBP_QUALITY", base.webp_quality)),
            cache_dir=Path(settings.get("PHOTO_CACHE_DIR", base.cache_dir)),
            audit_dir=Path(settings.get("PHOTO_AUDIT_DIR", base.audit_dir)),
            workers=int(settings.get("PHOTO_WORKERS", 0)),
        )
