"""A site on 127.0.0.1 that refuses protected pages the way CloudFront's trusted key group does.

There is no local CloudFront. For the browser tests this server applies the rule
the distribution applies to /school/*, /groep/* and /gezin/*: the request must
carry CloudFront-Policy, CloudFront-Signature and CloudFront-Key-Pair-Id (the
first of each name, as the browser orders them: longest path first) whose
signature verifies with the public key of that key id, whose resource covers
`https://<domain><path>` and whose expiry lies ahead; otherwise 403 with
/403.html (the distribution's custom error response). Everything else is
served as files, directories by their index.html.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding

from plugins.sections import ROOTS
from publish.targets.cloudfront.signing import COOKIE_NAMES, cf_b64decode


def first_cookies(header: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        found.setdefault(name, value)
    return found


def allowed(cookie_header: str, path: str, domain: str, keys: dict) -> bool:
    """CloudFront's signed-cookie check for one request (custom policy)."""
    cookies = first_cookies(cookie_header)
    if not all(cookies.get(name) for name in COOKIE_NAMES):
        return False
    public = keys.get(cookies["CloudFront-Key-Pair-Id"])
    try:
        policy_text = cf_b64decode(cookies["CloudFront-Policy"])
        signature = cf_b64decode(cookies["CloudFront-Signature"])
        if isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(signature, policy_text, ec.ECDSA(hashes.SHA1()))  # noqa: S303
        elif public is not None:
            public.verify(signature, policy_text, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303
        else:
            return False
        (statement,) = json.loads(policy_text)["Statement"]
    except (InvalidSignature, ValueError, KeyError):
        return False
    resource = statement["Resource"]
    expires = statement["Condition"]["DateLessThan"]["AWS:EpochTime"]
    return (resource.endswith("*") and f"https://{domain}{path}".startswith(resource[:-1])
            and expires > time.time())


class SignedCookieSite:
    def __init__(self, root: Path, domain: str, keys: dict):
        self.log: list[tuple[str, int]] = []
        site = self

        class Handler(SimpleHTTPRequestHandler):
            def log_message(self, fmt, *args):
                pass

            def do_GET(self):  # noqa: N802 - http.server naming
                path = self.path.split("?", 1)[0]
                if path.startswith(tuple(ROOTS.values())) and not allowed(
                        self.headers.get("Cookie", ""), path, domain, keys):
                    body = (root / "403.html").read_bytes()
                    site.log.append((path, 403))
                    self.send_response(403)
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                site.log.append((path, 200))
                super().do_GET()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0),
                                          functools.partial(Handler, directory=str(root)))
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

