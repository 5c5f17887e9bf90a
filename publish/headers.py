"""The response headers every target sends: one definition for nginx, Apache and CloudFront.

nginx and Apache configs are rendered from this; the CloudFormation template is
static YAML, so a test checks it carries exactly these values. Cache-Control is
decided here too (`cache_control`): nginx and Apache render its rule into their
configs, CloudFront gets it as each object's metadata in the bucket (S3 sends
it, CloudFront passes it on); the tests hold every target's answers to it.
"""

from __future__ import annotations

from plugins.photos.settings import PHOTO_DIR
from plugins.sections import FEED_ROOT, ROOTS

CSP = ("default-src 'self'; img-src 'self'; script-src 'self'; style-src 'self'; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
HSTS = "max-age=63072000; includeSubDomains"

HEADERS: dict[str, str] = {
    "Content-Security-Policy": CSP,
    "X-Robots-Tag": "noindex, nofollow, noarchive, noimageindex",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}

# Content-hashed photos never change; everything else is revalidated. "private": only the
# parent's own browser keeps a copy (no shared caches between the web server and the parent).
CACHE_PHOTO = "private, max-age=31536000, immutable"
CACHE_PAGE = "no-cache"
# Pages of a group or family: never stored, not even by the parent's own browser (a shared
# family tablet, the back button after logging out).
CACHE_PROTECTED_PAGE = "private, no-store"


def cache_control(path: str) -> str:
    """Cache-Control for a URL path or output file: photos (a `/fotos/` folder anywhere),
    then everything in a protected section or a calendar feed (a renewed address must stop
    at once), then the public rest. nginx and Apache render exactly these two tests as
    regular expressions (basic_auth/servers.py)."""
    path = "/" + path.lstrip("/")
    if f"/{PHOTO_DIR}/" in path:
        return CACHE_PHOTO
    if path.startswith((*ROOTS.values(), FEED_ROOT)):
        return CACHE_PROTECTED_PAGE
    return CACHE_PAGE


def headers(hsts: bool) -> dict[str, str]:
    return {**HEADERS, **({"Strict-Transport-Security": HSTS} if hsts else {})}
