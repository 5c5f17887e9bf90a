"""A withdrawal beats every publish: a publish paused at any step never brings the photos back.

`invoke publish` runs in a process of its own (tests/run_task.py) and stops
itself (SIGSTOP) at one step: right after its build read the roster, after the
build, after the release was written, after its last freshness check (right
before the switch), after the switch. Meanwhile a parent withdraws photo
consent through real nginx and `invoke postvak` runs its round; then the
publish continues (SIGCONT). From the moment the round says the photos are
gone, nginx never serves them again, and at the end they are 404.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid

import pytest

from publish.targets.basic_auth import Deploy, local_server
from tests.helpers import ROOT, demo_site, passphrase, run_invoke
from tests.http_client import Client

from .test_postvak_end_to_end import photos_of

RUNNER = ROOT / "tests" / "run_task.py"
STEPS = [
    "plugins.roster_cache:load_with_archives:after:1",  # the build has read the roster (cached
    # or parsed) and the kept archives
    "tasks.common:build:after:1",  # built, not yet released
    "publish.targets.basic_auth.releases:_fsync_tree:after:1",  # release written, not switched
    "publish.freshness:fingerprint:after:3",  # the last check passed; the switch is next
    "publish.targets.basic_auth.releases:_prune:before:1",  # switched
]


class Watcher:
    """Polls the photos on nginx and records (time, statuses) until stopped."""

    def __init__(self, base: str, login, urls):
        self.client, self.login, self.urls = Client(base), login, urls
        self.seen: list[tuple[float, tuple[int, ...]]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop.is_set():
            statuses = tuple(self.client.get(url, self.login)[0] for url in self.urls)
            self.seen.append((time.monotonic(), statuses))
            time.sleep(0.01)

    def close(self):
        self.stop.set()
        self.thread.join(10)
        self.client.close()


def read_lines(proc, lines: list[tuple[float, str]]) -> threading.Thread:
    def run():
        for line in proc.stdout:
            lines.append((time.monotonic(), line))
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("step", STEPS, ids=[s.split(":")[1] + "-" + s.split(":")[2] for s in STEPS])
def test_a_publish_paused_at_any_step_never_brings_withdrawn_photos_back(tmp_path, roster, step):
    port = local_server.free_port()
    env, letters = demo_site(tmp_path, port)
    assert run_invoke("publish", "--target", "nginx", env=env).returncode == 0
    parent = roster.parents["ouder-001"]
    login = (parent.email, passphrase(letters, parent.email))
    shown = photos_of(tmp_path, "zoe-devries")
    assert shown
    server = local_server.start(Deploy(tmp_path / "deploy" / "nginx"), port)
    client = Client(f"http://127.0.0.1:{port}")
    watcher = None
    full_env = dict(os.environ, **env)
    log = (tmp_path / "publish.log").open("w")
    slow = subprocess.Popen([sys.executable, str(RUNNER), f"{step}:stop", "publish", "--target",
                             "nginx"], cwd=ROOT, env=full_env, stdout=log, stderr=log)
    try:
        _, status = os.waitpid(slow.pid, os.WUNTRACED)
        assert os.WIFSTOPPED(status), (tmp_path / "publish.log").read_text()
        assert all(client.get(url, login)[0] == 200 for url in shown)
        status, _, _ = client.request(
            "PUT", f"/gezin/{parent.family}/postvak/{uuid.uuid4()}.json", login,
            json.dumps({"v": 1, "soort": "beeldgebruik", "kind": "zoe-devries",
                        "keuze": "geen"}).encode(), {"Content-Type": "application/json"})
        assert status == 201
        watcher = Watcher(f"http://127.0.0.1:{port}", login, shown)
        round_ = subprocess.Popen([sys.executable, str(RUNNER), "-", "postvak", "--target",
                                   "nginx"], cwd=ROOT, env=full_env, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True)
        lines: list[tuple[float, str]] = []
        reader = read_lines(round_, lines)
        deadline = time.monotonic() + 60
        while round_.poll() is None and not any("wacht tot die klaar is" in t for _, t in lines):
            assert time.monotonic() < deadline, "".join(t for _, t in lines)
            time.sleep(0.05)
        os.kill(slow.pid, signal.SIGCONT)
        assert slow.wait(120) == 0, (tmp_path / "publish.log").read_text()
        assert round_.wait(120) == 0, "".join(t for _, t in lines)
        reader.join(10)
        time.sleep(0.3)  # a few more polls after both are done
        watcher.close()
        printed = "".join(t for _, t in lines)
        said = [at for at, text in lines if "foto's weg om" in text]
        assert said, printed
        after = [statuses for at, statuses in watcher.seen if at >= said[0]]
        assert after and all(set(s) == {404} for s in after), (printed, after[:5])
        assert all(client.get(url, login)[0] == 404 for url in shown)
        # published and acknowledged: nothing is left urgent
        assert not list((tmp_path / "private" / "postvak" / "spoed").glob("*.json"))
    finally:
        if watcher:
            watcher.stop.set()
        if slow.poll() is None:
            os.kill(slow.pid, signal.SIGCONT)
            slow.kill()
        log.close()
        client.close()
        local_server.stop(server)
