"""`invoke demo`/`serve`: the letters match the printed logins, and a new build is live."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from publish.targets.basic_auth import local_server
from tests.helpers import ROOT, run_invoke
from tests.http_client import Client


@pytest.fixture
def demo(tmp_path):
    """`invoke demo` on a private copy of the demo school, on a free port; stopped after."""
    for name in ("roster", "content"):
        shutil.copytree(ROOT / name, tmp_path / name)
    env = dict(os.environ,
               SCHOOLPLEIN_ROSTER=str(tmp_path / "roster"),
               SCHOOLPLEIN_CONTENT=str(tmp_path / "content"),
               SCHOOLPLEIN_PRIVATE=str(tmp_path / "private"),
               SCHOOLPLEIN_OUTPUT=str(tmp_path / "output"),
               SCHOOLPLEIN_DEPLOY=str(tmp_path / "deploy"),
               SCHOOLPLEIN_PHOTO_CACHE=str(tmp_path / "cache"),
               SCHOOLPLEIN_AUDIT=str(tmp_path / "audit"))
    port = local_server.free_port()
    invoke = str(Path(sys.executable).parent / "invoke")
    proc = subprocess.Popen([invoke, "demo", "--port", str(port), "--postvak", "1"], cwd=ROOT,
                            env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line)
            if "draait op http://127.0.0.1" in line:
                break
        assert proc.poll() is None, "".join(lines)
        yield tmp_path, env, port, "".join(lines)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    # nginx went with it: nothing listens on the port any more
    with pytest.raises(OSError):
        Client(f"http://127.0.0.1:{port}").get("/")


def test_demo_letters_match_the_printed_logins_and_a_new_build_is_live(demo, roster):
    tmp, env, port, banner = demo
    logins = dict(re.findall(r"(\S+@\S+)\s+/\s+(\S{4}-\S{4}-\S{4}-\S{4})", banner))
    assert len(logins) == 3, banner
    letters = list((tmp / "private" / "letters").glob("brieven-*.html"))
    assert len(letters) == 1  # one valid letters file; older ones held void passphrases
    text = letters[0].read_text()
    assert all(phrase in text for phrase in logins.values())
    parent = roster.parents["ouder-001"]
    assert f"http://127.0.0.1:{port}/gezin/{parent.family}/" in banner

    client = Client(f"http://127.0.0.1:{port}")
    login = (parent.email, logins[parent.email])
    assert client.get("/groep/groep-3/", login)[0] == 200
    post = tmp / "content" / "groep" / "groep-3" / "2026-11-25-nieuw.md"
    post.write_text("Title: Nieuw bericht van vandaag\nDate: 2026-11-25 09:00\n\nHallo.\n")
    assert run_invoke("build", env=env).returncode == 0
    deadline = time.monotonic() + 15
    while b"Nieuw bericht van vandaag" not in client.get("/groep/groep-3/", login)[1]:
        assert time.monotonic() < deadline, "new build not served"
        time.sleep(0.2)
    client.close()


def test_the_demo_processes_what_a_parent_sends_beside_the_server(demo, roster):
    tmp, env, port, banner = demo
    logins = dict(re.findall(r"(\S+@\S+)\s+/\s+(\S{4}-\S{4}-\S{4}-\S{4})", banner))
    parent = roster.parents["ouder-001"]
    assert str(tmp / "private" / "mail") in banner
    client = Client(f"http://127.0.0.1:{port}")
    body = {"v": 1, "soort": "bericht", "aan": "lk-02", "tekst": "Mag Zoë vrijdag eerder weg?"}
    status, _, _ = client.request(
        "PUT", f"/gezin/{parent.family}/postvak/{uuid.uuid4()}.json",
        (parent.email, logins[parent.email]), json.dumps(body).encode(),
        {"Content-Type": "application/json"})
    assert status == 201
    teacher = roster.staff["lk-02"]
    deadline = time.monotonic() + 20
    while not any(teacher.email in p.read_text(errors="replace")
                  for p in (tmp / "private" / "mail").glob("*.eml")):
        assert time.monotonic() < deadline, "no mail for the teacher"
        time.sleep(0.3)
    mail = next(p.read_text(errors="replace") for p in (tmp / "private" / "mail").glob("*.eml")
                if teacher.email in p.read_text(errors="replace"))
    assert f"http://127.0.0.1:{port}/gezin/{parent.family}/" in mail  # a link, not the text
    assert "eerder weg" not in mail
    client.close()
