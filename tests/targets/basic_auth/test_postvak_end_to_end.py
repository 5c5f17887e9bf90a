"""A parent's withdrawal, absence and message travel through real nginx and `invoke postvak`."""

from __future__ import annotations

import email
import json
import re
import uuid

import pytest

from publish.targets.basic_auth import Deploy, local_server
from tests.helpers import demo_site, passphrase, run_invoke
from tests.http_client import Client


@pytest.fixture
def school(tmp_path, roster):
    """A private copy of the demo school, published to nginx and served on a free port; with
    the demo parent (ouder-001), their login and a client for the server."""
    port = local_server.free_port()
    env, letters = demo_site(tmp_path, port)
    first = run_invoke("publish", "--target", "nginx", env=env)
    assert first.returncode == 0, first.stderr
    parent = roster.parents["ouder-001"]
    login = (parent.email, passphrase(letters, parent.email))
    proc = local_server.start(Deploy(tmp_path / "deploy" / "nginx"), port)
    client = Client(f"http://127.0.0.1:{port}")
    try:
        yield tmp_path, env, parent, login, client
    finally:
        client.close()
        local_server.stop(proc)


def photos_of(tmp_path, child: str) -> list[str]:
    """Published photo URLs showing `child`, from the newest private audit."""
    audit = max((tmp_path / "audit").glob("fotos-*.json"))
    photos = json.loads(audit.read_text())["fotos"]
    return [url for p in photos if p["published"] and child in
            {t["child"] for t in p.get("tags", ())} for url in p["outputs"]]


def test_withdrawal_absence_and_message_reach_the_school(school, roster):
    tmp, env, parent, login, client = school
    shown = photos_of(tmp, "zoe-devries")
    assert shown and all(client.get(url, login)[0] == 200 for url in shown)

    def send(body: dict) -> None:
        status, _, headers = client.request(
            "PUT", f"/gezin/{parent.family}/postvak/{uuid.uuid4()}.json", login,
            json.dumps(body).encode(), {"Content-Type": "application/json"})
        assert status == 201 and headers["Date"]

    send({"v": 1, "soort": "beeldgebruik", "kind": "zoe-devries", "keuze": "geen"})
    send({"v": 1, "soort": "afwezigheid", "kind": "omer-devries", "reden": "ziek",
          "toelichting": "<script>alert(1)</script> koorts"})
    send({"v": 1, "soort": "bericht", "aan": "lk-02", "tekst": "Kunnen we even bellen?"})

    result = run_invoke("postvak", "--target", "nginx", env=env)
    assert result.returncode == 0, result.stderr
    assert "3 verwerkt" in result.stdout, result.stdout
    assert re.search(r"Beeldgebruik van zoe-devries beperkt: .* foto's weg om .* \(\d+\.\d s\)",
                     result.stdout), result.stdout
    # the withdrawal is retroactive: every photo that showed her is gone from the server
    assert all(client.get(url, login)[0] == 404 for url in shown)
    assert photos_of(tmp, "zoe-devries") == []
    assert "zoe-devries,Zoë,de Vries,groep-3,geen" in (tmp / "roster/leerlingen.csv").read_text()
    mails = [email.message_from_bytes(p.read_bytes()) for p in (tmp / "private/mail").glob("*.eml")]
    to = {m["To"] for m in mails}
    teacher = roster.staff["lk-02"]
    assert any(teacher.email in t for t in to)  # the message's recipient is told
    assert any(parent.email in t for t in to)  # and the parents get confirmations
    for mail in mails:
        text = mail.get_payload(decode=True).decode() if not mail.is_multipart() else str(mail)
        assert "Kunnen we even bellen?" not in text and "<script>" not in text
    again = run_invoke("postvak", "--target", "nginx", env=env)
    assert again.returncode == 0 and "verwerkt" not in again.stdout  # nothing twice


def test_a_school_decision_is_recorded_told_and_published_at_once(school):
    tmp, env, parent, login, client = school
    shown = photos_of(tmp, "zoe-devries")
    assert shown
    missing = run_invoke("beeldgebruik", "zoe-devries", "geen", "--door", " ", env=env)
    assert missing.returncode == 1 and "wie besluit ontbreekt" in missing.stderr
    result = run_invoke("beeldgebruik", "zoe-devries", "geen", "--door", "Ingrid Hoekstra",
                        "--target", "nginx", env=env)
    assert result.returncode == 0, result.stderr
    assert "school -> geen" in result.stdout and "niet meer op de site" in result.stdout
    assert all(client.get(url, login)[0] == 404 for url in shown)
    assert "zoe-devries,Zoë,de Vries,groep-3,geen" in (tmp / "roster/leerlingen.csv").read_text()
    mails = [email.message_from_bytes(p.read_bytes()) for p in (tmp / "private/mail").glob("*.eml")]
    assert any(parent.email in m["To"] for m in mails)  # the parents are told
    # published and acknowledged: the next postvak round has nothing urgent left
    again = run_invoke("postvak", "--target", "nginx", env=env)
    assert again.returncode == 0 and "foto's weg" not in again.stdout, again.stdout


def test_an_unreadable_roster_is_a_pending_withdrawal_and_the_round_fails_loudly(school):
    """Excel's semicolon export cannot be read at all: the withdrawal waits, the round says
    NIET TOEGEPAST, exits non-zero and never claims to have published."""
    tmp, env, parent, login, client = school
    shown = photos_of(tmp, "zoe-devries")
    kids = tmp / "roster" / "leerlingen.csv"
    good = kids.read_bytes()
    kids.write_bytes(good.replace(b",", b";"))
    status, _, _ = client.request(
        "PUT", f"/gezin/{parent.family}/postvak/{uuid.uuid4()}.json", login,
        json.dumps({"v": 1, "soort": "beeldgebruik", "kind": "zoe-devries",
                    "keuze": "geen"}).encode(), {"Content-Type": "application/json"})
    assert status == 201
    for _ in range(2):  # every round says so until the roster is repaired
        result = run_invoke("postvak", "--target", "nginx", env=env)
        printed = result.stdout + result.stderr
        assert result.returncode == 1, printed
        assert "NIET TOEGEPAST" in printed and "zoe-devries" in printed, printed
        assert "Gepubliceerd" not in printed and "foto's weg" not in printed, printed
    kids.write_bytes(good)
    fixed = run_invoke("postvak", "--target", "nginx", env=env)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "foto's weg om" in fixed.stdout
    assert all(client.get(url, login)[0] == 404 for url in shown)
