"""An HTTP proxy on 127.0.0.1 in front of the moto server that SIGKILLs the publisher.

It forwards every request unchanged and names its AWS operation. When the
chosen operation arrives for the n-th time it kills the publishing process
with SIGKILL, either before forwarding the request (AWS never saw it) or after
AWS answered but before the answer reaches the publisher (AWS did it; the
publisher never learns). No test hook in the code under test: the process
simply dies at that point, as it would on a power cut or an OOM kill.
"""

from __future__ import annotations

import http.client
import os
import signal
import threading
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "expect", "proxy-connection"}


def operation(method: str, path: str) -> str:
    """The AWS operation of a request, as far as these tests need it."""
    parts = urlsplit(path)
    if parts.path.endswith("/invalidation"):
        return "CreateInvalidation" if method == "POST" else "ListInvalidations"
    if method == "POST" and parts.query.split("&")[0] == "delete":
        return "DeleteObjects"
    if method == "PUT":
        return "PutObject"
    if method == "DELETE":
        return "DeleteObject"
    return f"{method} {parts.path}"


@dataclass
class KillAt:
    operation: str  # e.g. "DeleteObjects", "DeleteObject", "PutObject", "CreateInvalidation"
    nth: int = 1
    after: bool = False  # True: let AWS do it, kill before the answer comes back


class KillProxy:
    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.rule: KillAt | None = None
        self.victim: int | None = None  # pid of the publishing process
        self.killed = threading.Event()
        self.seen: Counter[str] = Counter()
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # botocore waits for `100 Continue` on PUT

            def log_message(self, *args):
                pass

            def _any(self):
                proxy._handle(self)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _any  # noqa: N815

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def arm(self, rule: KillAt | None, victim: int | None) -> None:
        with self._lock:
            self.rule, self.victim = rule, victim
            self.seen.clear()
            self.killed.clear()

    def _decide(self, op: str) -> str | None:
        with self._lock:
            self.seen[op] += 1
            rule = self.rule
            if rule and op == rule.operation and self.seen[op] == rule.nth:
                return "after" if rule.after else "before"
        return None

    def _kill(self) -> None:
        if self.victim:
            os.kill(self.victim, signal.SIGKILL)
        self.killed.set()

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        op = operation(handler.command, handler.path)
        when = self._decide(op)
        if when == "before":
            self._kill()
            handler.close_connection = True
            return
        upstream = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=30)
        try:
            headers = {k: v for k, v in handler.headers.items() if k.lower() not in HOP_BY_HOP}
            upstream.request(handler.command, handler.path, body=body, headers=headers)
            answer = upstream.getresponse()
            data = answer.read()
        finally:
            upstream.close()
        if when == "after":
            self._kill()
            handler.close_connection = True
            return
        handler.send_response(answer.status, answer.reason)
        for key, value in answer.getheaders():
            if key.lower() not in HOP_BY_HOP and key.lower() != "content-length":
                handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(data)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
