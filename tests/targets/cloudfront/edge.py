"""The stack's CloudFront distribution in front of moto's S3, on 127.0.0.1, for whole-path tests.

There is no local CloudFront. `Edge` does to each request what the distribution in
publish/targets/cloudfront/cloudformation.yaml does, read from that template: the
cache behaviour by path pattern (first match, as CloudFront orders them), the
viewer-request function (the real one, in node through viewer_request_harness.js),
the trusted key group's signed-cookie check (signed_cookie_site.allowed, on the URI
the function passes on, which stays under the cookie's path), then the behaviour's
origin: the bucket, under the origin's path, with only the headers its origin
request policy forwards (the admin's credentials stand in for Origin Access
Control). S3's 403 and 404 are answered with the distribution's custom error pages.
"""

from __future__ import annotations

import fnmatch
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from botocore.exceptions import ClientError
from cf_helpers import load_template, run_viewer_function
from signed_cookie_site import allowed

from publish.targets.cloudfront.provision import TEMPLATE


@dataclass(frozen=True)
class Behaviour:
    pattern: str
    origin_path: str
    signed: bool
    forwarded: tuple[str, ...]  # viewer headers the origin request policy passes on


def behaviours() -> tuple[list[Behaviour], dict[int, str]]:
    """The distribution's behaviours in order (the default last) and its error pages."""
    resources = load_template(TEMPLATE)["Resources"]
    dist = resources["Distribution"]["Properties"]["DistributionConfig"]
    origins = {o["Id"]: o.get("OriginPath", "") for o in dist["Origins"]}
    found = []
    for b in [*dist["CacheBehaviors"], {**dist["DefaultCacheBehavior"], "PathPattern": "*"}]:
        headers: tuple[str, ...] = ()
        if "OriginRequestPolicyId" in b:
            policy = resources[b["OriginRequestPolicyId"]["Ref"]]["Properties"]
            headers = tuple(policy["OriginRequestPolicyConfig"]["HeadersConfig"]["Headers"])
        found.append(Behaviour(b["PathPattern"], origins[b["TargetOriginId"]],
                               bool(b.get("TrustedKeyGroups")), headers))
    pages = {e["ErrorCode"]: e["ResponsePagePath"] for e in dist["CustomErrorResponses"]}
    return found, pages


def cookies_event(header: str) -> dict:
    """The Cookie header as a CloudFront Function sees it (multiValue for a repeated name)."""
    cookies: dict[str, dict] = {}
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        if not name:
            continue
        if name in cookies:
            first = cookies[name]
            first.setdefault("multiValue", [{"value": first["value"]}]).append({"value": value})
        else:
            cookies[name] = {"value": value}
    return cookies


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


class Edge:
    """`Edge(s3, bucket, domain, keys)`: `handle(...)` for one request, `url` once started."""

    def __init__(self, s3, bucket: str, domain: str, keys: dict):
        self.s3, self.bucket, self.domain, self.keys = s3, bucket, domain, keys
        self.behaviours, self.error_pages = behaviours()
        self.log: list[tuple[str, str, int]] = []
        self.server: ThreadingHTTPServer | None = None

    def behaviour(self, uri: str) -> Behaviour:
        return next(b for b in self.behaviours if fnmatch.fnmatchcase(uri, b.pattern))

    def handle(self, method: str, uri: str, headers: dict[str, str], body: bytes = b"") -> Answer:
        behaviour = self.behaviour(uri)
        event_headers = {k.lower(): {"value": v} for k, v in headers.items() if k.lower() != "cookie"}
        (run,) = run_viewer_function([{"uri": uri, "method": method, "headers": event_headers,
                                       "cookies": cookies_event(headers.get("Cookie", ""))}])
        result = run["result"]
        if "statusCode" in result:
            data = result.get("body", {}).get("data", "").encode()
            return Answer(result["statusCode"], {k: v["value"] for k, v in
                                                 result.get("headers", {}).items()}, data)
        target = result["uri"]
        if behaviour.signed and not allowed(headers.get("Cookie", ""), target, self.domain,
                                            self.keys):
            return self.error(403)
        key = (behaviour.origin_path + target)[1:]
        if method == "PUT":
            sent = {h: result["headers"][h.lower()]["value"] for h in behaviour.forwarded
                    if h.lower() in result["headers"]}
            extra = {"IfNoneMatch": sent.pop("If-None-Match")} if "If-None-Match" in sent else {}
            assert not sent, f"a forwarded header the edge does not send: {sent}"
            try:
                self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, **extra)
            except ClientError as exc:
                return Answer(exc.response["ResponseMetadata"]["HTTPStatusCode"], {}, b"")
            return Answer(200, {}, b"")
        return self.fetch(key, method) or self.error(404)

    def fetch(self, key: str, method: str = "GET", status: int = 200) -> Answer | None:
        try:
            got = self.s3.get_object(Bucket=self.bucket, Key=key)
        except ClientError:
            return None
        body = got["Body"].read()
        headers = {"Content-Type": got.get("ContentType", "application/octet-stream"),
                   "Cache-Control": got.get("CacheControl", "")}
        return Answer(status, headers, b"" if method == "HEAD" else body)

    def error(self, status: int) -> Answer:
        page = self.error_pages.get(status)
        return (page and self.fetch(page[1:], status=status)) or Answer(status, {}, b"")

    # --- as an HTTP server ----------------------------------------------------------------------

    def start(self) -> Edge:
        edge = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, fmt, *args):
                pass

            def _any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                uri = self.path.split("?", 1)[0]
                answer = edge.handle(self.command, uri, dict(self.headers.items()), body)
                edge.log.append((self.command, uri, answer.status))
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    if value:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(answer.body)

            do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = do_PATCH = do_OPTIONS = _any  # noqa: N815

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
