"""A tiny keep-alive HTTP client that sends paths exactly as given (no normalising)."""

from __future__ import annotations

import base64
import http.client
from urllib.parse import urlsplit


def login_of(person, demo_accounts) -> tuple[str, str]:
    """The basic-auth login of `person` from the `demo_accounts` fixture."""
    return person.email, demo_accounts[1][person.id]


class Client:
    def __init__(self, base_url: str):
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=10)

    def get(self, path: str, login: tuple[str, str] | None = None):
        return self.request("GET", path, login)

    def request(self, method: str, path: str, login: tuple[str, str] | None = None,
                body: bytes | None = None, headers: dict[str, str] | None = None):
        headers = dict(headers or {})
        if login:
            token = base64.b64encode(f"{login[0]}:{login[1]}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                resp = self.conn.getresponse()
                return resp.status, resp.read(), dict(resp.getheaders())
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.conn.close()


def get_many(base_url: str, requests: list[tuple[str, tuple[str, str] | None]],
             workers: int = 32) -> list[int]:
    """Statuses of many GETs, sent concurrently: failed logins wait (auth_delay), in parallel."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    local = threading.local()

    def one(request):
        if not hasattr(local, "client"):
            local.client = Client(base_url)
        return local.client.get(*request)[0]

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, requests))
