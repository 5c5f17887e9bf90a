"""A tiny Chrome DevTools Protocol client for headless Chromium (no Playwright download)."""

from __future__ import annotations

import base64
import itertools
import json
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import websocket

CHROMIUM = "/usr/bin/chromium"


class Browser:
    """Headless Chromium with one page target; always call close()."""

    def __init__(self, user_data_dir: Path):
        self.process = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--no-first-run", "--no-default-browser-check", "--remote-debugging-port=0",
             f"--user-data-dir={user_data_dir}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        port_file = user_data_dir / "DevToolsActivePort"
        deadline = time.monotonic() + 20
        while not (port_file.exists() and port_file.read_text().strip()):
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.close()
                raise RuntimeError("Chromium did not start")
            time.sleep(0.05)
        port = int(port_file.read_text().split()[0])
        pages = []
        while not pages:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list") as answer:
                pages = [t for t in json.load(answer) if t["type"] == "page"]
        self.ws = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=10,
                                              suppress_origin=True)
        self._ids = itertools.count(1)

    def send(self, method: str, **params):
        ident = next(self._ids)
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]
            self._keep(message)

    def _keep(self, message: dict) -> None:
        """An event that arrived while waiting for an answer; a subclass may record it."""

    def evaluate(self, expression: str):
        return self.send("Runtime.evaluate", expression=expression,
                         returnByValue=True)["result"].get("value")

    def goto(self, url: str) -> None:
        self.send("Page.navigate", url=url)

    def load(self, url: str) -> None:
        """Navigate and wait until the page has loaded."""
        self.goto(url)
        self.wait_for("document.readyState === 'complete'")

    def as_phone(self, scale: float = 2) -> None:
        """Show pages as a 390x844 phone screen with `scale` device pixels per CSS pixel."""
        self.send("Emulation.setDeviceMetricsOverride", width=390, height=844,
                  deviceScaleFactor=scale, mobile=True)

    def basic_auth(self, user: str, password: str) -> None:
        """Send this basic-auth login with every request (no login prompt)."""
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        self.send("Network.enable")
        self.send("Network.setExtraHTTPHeaders", headers={"Authorization": f"Basic {token}"})

    def wait_for(self, expression: str, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.evaluate(expression):
                    return
            except RuntimeError:
                pass  # page navigating
            time.sleep(0.05)
        raise TimeoutError(expression)

    def goto_answering_login(self, url: str, username: str | None, password: str = "",
                             timeout: float = 15) -> None:
        """Navigate to a page behind basic auth, answering the browser's login prompt as a
        person typing `username` (Chromium sends the credentials as UTF-8), or pressing
        "cancel" when `username` is None (the browser then shows the 401 page)."""
        self.send("Page.enable")
        self.send("Fetch.enable", handleAuthRequests=True,
                  patterns=[{"urlPattern": "*", "resourceType": "Document"}])
        ident = next(self._ids)
        self.ws.send(json.dumps({"id": ident, "method": "Page.navigate", "params": {"url": url}}))
        deadline = time.monotonic() + timeout
        navigated = False
        try:
            while time.monotonic() < deadline:
                message = json.loads(self.ws.recv())
                method, params = message.get("method"), message.get("params", {})
                if method == "Fetch.requestPaused":
                    self._fire("Fetch.continueRequest", requestId=params["requestId"])
                elif method == "Fetch.authRequired":
                    answer = ({"response": "CancelAuth"} if username is None else
                              {"response": "ProvideCredentials", "username": username,
                               "password": password})
                    self._fire("Fetch.continueWithAuth", requestId=params["requestId"],
                               authChallengeResponse=answer)
                elif message.get("id") == ident:
                    navigated = True
                elif method == "Page.loadEventFired" and navigated:
                    break
        finally:
            self._fire("Fetch.disable")

    def _fire(self, method: str, **params) -> None:
        """Send a command without waiting for its answer (inside an event loop)."""
        self.ws.send(json.dumps({"id": next(self._ids), "method": method, "params": params}))

    def cookies(self) -> list[dict]:
        return self.send("Network.getAllCookies")["cookies"]

    def close(self) -> None:
        if getattr(self, "ws", None):
            self.ws.close()
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
