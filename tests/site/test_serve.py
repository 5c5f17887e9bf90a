"""`invoke demo`/`serve`: the letters match the printed logins, and a new build is live."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from publish.targets.basic_auth import local_server
from tests.helpers import ROOT, demo_school, run_invoke
from tests.http_client import Client


@pytest.fixture
def demo(tmp_path):
    """`invoke demo` on a private copy of the demo school, on a free port; stopped after."""
    env = dict(os.environ, **demo_school(tmp_path))
    port = local_server.free_port()
    invoke = str(Path(sys.executable).parent / "invoke")
    proc = subprocess.Popen([invoke, "demo", "--port", str(port), "--postvak", "1"], cwd=ROOT,
                            env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    started = threading.Event()

    def read() -> None:  # everything the demo prints, as it prints it
        for line in proc.stdout:
            lines.append(line)
            if "draait op http://127.0.0.1" in line:
                started.set()
        started.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        started.wait(timeout=120)
        assert proc.poll() is None, "".join(lines)
        yield tmp_path, env, port, lines
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    # nginx went with it: nothing listens on the port any more
    with pytest.raises(OSError):
        Client(f"http://127.0.0.1:{port}").get("/")


def test_demo_letters_match_the_printed_logins_and_a_new_build_is_live(demo, roster):
    tmp, env, port, printed = demo
    banner = "".join(printed)
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
    tmp, env, port, printed = demo
    banner = "".join(printed)
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

    def message_mails():
        # On a school day the teacher also gets the morning's absence summary; only the
        # mail about the message counts here.
        texts = (p.read_text(errors="replace") for p in (tmp / "private" / "mail").glob("*.eml"))
        return [t for t in texts if teacher.email in t and "Subject: Nieuw bericht" in t]

    deadline = time.monotonic() + 20
    while not message_mails():
        assert time.monotonic() < deadline, "no mail for the teacher"
        time.sleep(0.3)
    mail = message_mails()[0]
    assert f"http://127.0.0.1:{port}/gezin/{parent.family}/" in mail  # a link, not the text
    assert "eerder weg" not in mail
    client.close()


def test_in_the_demo_a_withdrawal_empties_the_photos_and_shows_on_the_family_page(demo, roster):
    """The issue's walk-through: the demo parent withdraws Zoë's photo consent; beside the
    server the demo processes it, rebuilds, and says how long it took until the photos
    were gone; the family page shows it in the conversation."""
    tmp, env, port, printed = demo
    banner = "".join(printed)
    logins = dict(re.findall(r"(\S+@\S+)\s+/\s+(\S{4}-\S{4}-\S{4}-\S{4})", banner))
    parent = roster.parents["ouder-001"]
    login = (parent.email, logins[parent.email])
    client = Client(f"http://127.0.0.1:{port}")
    page = client.get("/groep/groep-3/2026-10-02-kinderboerderij/", login)[1].decode()
    photos = set(re.findall(r'src="(/groep/groep-3/fotos/[^"]+)"', page))
    assert photos
    body = {"v": 1, "soort": "beeldgebruik", "kind": "zoe-devries", "keuze": "geen"}
    assert client.request("PUT", f"/gezin/{parent.family}/postvak/{uuid.uuid4()}.json", login,
                          json.dumps(body).encode(),
                          {"Content-Type": "application/json"})[0] == 201
    deadline = time.monotonic() + 60
    while not any("foto's weg om" in line for line in printed):
        assert time.monotonic() < deadline, "".join(printed[-20:])
        time.sleep(0.3)
    assert re.search(r"Beeldgebruik van zoe-devries beperkt: .* \(\d+\.\d s\)", "".join(printed))
    page = client.get("/groep/groep-3/2026-10-02-kinderboerderij/", login)[1].decode()
    after = set(re.findall(r'src="(/groep/groep-3/fotos/[^"]+)"', page))
    assert after < photos  # the photos that showed her are gone from the page
    assert all(client.get(url, login)[0] == 404 for url in photos - after)  # and the server
    family = client.get(f"/gezin/{parent.family}/", login)[1].decode()
    assert "Beeldgebruik" in family and "Zo" in family  # the conversation lists it
    client.close()


def test_in_the_demo_a_new_post_brings_a_daily_summary_to_the_mailbox(demo, roster):
    """Acceptance: the demo's mailbox shows a daily summary after a new post (the demo sends
    the summary at once instead of at 18.00)."""
    import email
    from email.policy import default

    tmp, env, port, printed = demo
    mailbox = tmp / "private" / "mail"
    before = set(mailbox.glob("*.eml")) if mailbox.exists() else set()
    post = tmp / "content" / "groep" / "groep-3" / "2026-12-08-kerstmarkt.md"
    post.write_text("Title: Kerstmarkt in groep 3\nDate: 2026-12-08 09:00\n\nKomt u ook?\n")
    assert run_invoke("build", env=env).returncode == 0
    groep_3 = {p.email for p in roster.parents.values()
               if any(roster.children[c].group == "groep-3" for c in p.children)}
    deadline = time.monotonic() + 60
    while True:
        mails = [email.message_from_bytes(p.read_bytes(), policy=default)
                 for p in set(mailbox.glob("*.eml")) - before]
        summaries = {m["To"]: m for m in mails if m["Subject"].startswith("Dagoverzicht")}
        if groep_3 <= set(summaries):
            break
        assert time.monotonic() < deadline, ("".join(printed), sorted(summaries))
        time.sleep(0.5)
    text = summaries[next(iter(groep_3))].get_body(("plain",)).get_content()
    assert "Nieuw bericht: Kerstmarkt in groep 3" in text
    assert f"http://127.0.0.1:{port}/groep/groep-3/2026-12-08-kerstmarkt/" in text
    others = set(summaries) - groep_3
    assert all("Kerstmarkt" not in summaries[o].get_body(("plain",)).get_content() for o in others)
