"""What an object key holds: Content-Type and Cache-Control per key, and the postvak's spool.

Cache-Control is the one definition every target sends (publish.headers): S3
stores it with each object and CloudFront passes it on to the browser.
`header_rules` fingerprints what decides both, so a publish notices when the
objects already in the bucket carry other headers (sync.py restamps them).
Parents' submissions wait under SPOOL (submissions.py): no build output, so a
publish never touches them.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
from pathlib import PurePosixPath

from plugins.photos.settings import PHOTO_DIR
from plugins.sections import FEED_ROOT, ROOTS
from publish import headers

TYPES = {
    ".html": "text/html",
    ".htm": "text/html",
    ".css": "text/css",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".json": "application/json",
    ".xml": "application/xml",
    ".atom": "application/atom+xml",
    ".ics": "text/calendar",
    ".rss": "application/rss+xml",
    ".txt": "text/plain",
    ".svg": "image/svg+xml",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".gif": "image/gif",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".pdf": "application/pdf",
    ".webmanifest": "application/manifest+json",
}
TEXT_TYPES = ("text/", "application/json", "application/xml", "application/atom+xml",
              "application/rss+xml", "image/svg+xml", "application/manifest+json")
PAGE_SUFFIXES = frozenset({".html", ".htm", ".xml", ".atom", ".rss", ".ics"})
# Where the viewer function stores what parents PUT (templates/viewer-request.js,
# SPOOL). A hidden folder: the upload allow-list never uploads one.
SPOOL = ".postvak/"


def content_type(key: str) -> str:
    suffix = PurePosixPath(key).suffix.lower()
    base = TYPES.get(suffix) or mimetypes.guess_type(key)[0] or "application/octet-stream"
    return f"{base}; charset=utf-8" if base.startswith(TEXT_TYPES) else base


def is_photo(key: str) -> bool:
    """Photos live in a `fotos/` folder of their section and are named by content hash."""
    return PHOTO_DIR in PurePosixPath(key).parts[:-1]


def is_page(key: str) -> bool:
    """Pages and feeds link to other files; they are uploaded last."""
    return PurePosixPath(key).suffix.lower() in PAGE_SUFFIXES


def header_rules() -> str:
    """A fingerprint of everything that decides an object's Content-Type and Cache-Control."""
    rules = {"cache": [headers.CACHE_PHOTO, headers.CACHE_PROTECTED_PAGE, headers.CACHE_PAGE],
             "photo_dir": PHOTO_DIR, "roots": sorted([*ROOTS.values(), FEED_ROOT]), "types": TYPES,
             "text": TEXT_TYPES}
    return hashlib.sha256(json.dumps(rules, sort_keys=True).encode()).hexdigest()[:16]


def is_submission(key: str) -> bool:
    """A parent's submission waiting in the spool (never part of a publish)."""
    return key.startswith(SPOOL)
