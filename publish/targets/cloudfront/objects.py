"""What an object key holds: Content-Type and Cache-Control per key, and the postvak's spool.

Pages and feeds must be revalidated on every visit (a revoked photo's page
changes); files named by their content hash never change, so browsers and
CloudFront may keep them for a year. Parents' submissions wait under SPOOL
(submissions.py): no build output, so a publish never touches them.
"""

from __future__ import annotations

import mimetypes
import re
from pathlib import PurePosixPath

from plugins.photos.settings import PHOTO_DIR
from publish.headers import CACHE_PROTECTED_PAGE

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
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
# theme/css/main.3f2a9c1d.css or theme/js/app-3f2a9c1d0b.js: hash in the name
HASHED_ASSET = re.compile(r"(^|/)theme/.*[.-][0-9a-f]{8,64}\.[a-z0-9]+$")
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


def is_content_hashed(key: str) -> bool:
    return is_photo(key) or bool(HASHED_ASSET.search(key))


def cache_control(key: str) -> str:
    if key.endswith(".ics"):  # calendars: a renewed feed address must stop at once
        return CACHE_PROTECTED_PAGE
    return IMMUTABLE if is_content_hashed(key) else REVALIDATE


def is_submission(key: str) -> bool:
    """A parent's submission waiting in the spool (never part of a publish)."""
    return key.startswith(SPOOL)
