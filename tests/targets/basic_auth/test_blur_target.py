"""PHOTO_BLUR on a real target: consent withdrawn and given back, as nginx serves it.

The demo school with SCHOOLPLEIN_PHOTO_BLUR=1, published with `invoke publish
--target nginx` and served by real nginx. A child with a face region on the
group photo of groep 3 loses consent (roster edit), the school publishes: the
clear renditions are 404 and the photo is served with that child made a
mosaic. Consent back, publish: the clear renditions are back (same URLs) and
the blurred ones are 404.
"""

from __future__ import annotations

import io
import json
import os

from PIL import Image

from publish.targets.basic_auth import Deploy, local_server
from tests.helpers import demo_school, passphrase, run_invoke
from tests.http_client import Client


def audit_entry(tmp_path, name: str) -> dict:
    audit = max((tmp_path / "audit").glob("fotos-*.json"))
    return next(p for p in json.loads(audit.read_text())["fotos"]
                if p["photo"].endswith(f"groep-3/2026-10-02-kinderboerderij/{name}"))


def set_consent(tmp_path, child: str, value: str) -> None:
    path = tmp_path / "roster" / "leerlingen.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(
        ",".join([*line.split(",")[:-1], value]) if line.startswith(f"{child},") else line
        for line in lines) + "\n")


def clear_files(tmp_path, urls) -> list[str]:
    """Files named like one of `urls` left in the output or the photo cache."""
    names = {url.rsplit("/", 1)[1] for url in urls}
    return [str(p) for folder in ("output", "cache") for p in (tmp_path / folder).rglob("*")
            if p.name in names]


def publish(env) -> None:
    done = run_invoke("publish", "--target", "nginx", env=env)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


def test_withdrawn_consent_serves_the_blurred_photo_and_consent_back_the_clear_one(
        tmp_path, roster):
    port = local_server.free_port()
    env = demo_school(tmp_path, SCHOOLPLEIN_LISTEN=f"127.0.0.1:{port}",
                      SCHOOLPLEIN_SITEURL=f"http://127.0.0.1:{port}",
                      SCHOOLPLEIN_WEB_USER=os.environ.get("USER", "root"),
                      SCHOOLPLEIN_PHOTO_BLUR="1")
    assert run_invoke("accounts", env=env).returncode == 0
    letters = next((tmp_path / "private" / "letters").glob("*.html")).read_text()
    parent = roster.parents["ouder-001"]  # Zoë's parent: reads groep 3
    login = (parent.email, passphrase(letters, parent.email))
    publish(env)
    clear = audit_entry(tmp_path, "groepsfoto.jpg")
    assert clear["code"] == "published"
    child = next(t["child"] for t in clear["tags"] if t["source"] == "gezichtslabels in de foto")
    server = local_server.start(Deploy(tmp_path / "deploy" / "nginx"), port)
    client = Client(f"http://127.0.0.1:{port}")
    try:
        assert all(client.get(url, login)[0] == 200 for url in clear["outputs"])

        set_consent(tmp_path, child, "geen")
        publish(env)
        blurred = audit_entry(tmp_path, "groepsfoto.jpg")
        assert blurred["code"] == "published_blurred"
        assert [b["child"] for b in blurred["blurred"]] == [child]
        assert not set(blurred["outputs"]) & set(clear["outputs"])
        assert all(client.get(url, login)[0] == 404 for url in clear["outputs"])
        # nowhere that can be published: not in a kept release (a rollback would serve it),
        # not in the output, not in the photo cache
        deploy = tmp_path / "deploy" / "nginx"
        kept = sorted((deploy / "releases").iterdir())
        assert len(kept) >= 2
        assert not [r for r in kept for url in clear["outputs"] if (r / url.lstrip("/")).exists()]
        live = (deploy / "current").resolve()
        assert all((live / url.lstrip("/")).is_file() for url in blurred["outputs"])
        assert not clear_files(tmp_path, clear["outputs"])
        served = [client.get(url, login) for url in blurred["outputs"]]
        assert all(status == 200 for status, _, _ in served)
        large = max((Image.open(io.BytesIO(body)) for _, body, _ in served
                     if body[:3] == b"\xff\xd8\xff"), key=lambda im: im.width)
        assert large.width > 1000
        page = client.get("/groep/groep-3/2026-10-02-kinderboerderij/", login)[1].decode()
        first, last = (roster.children[child].first_name, roster.children[child].last_name)
        assert first not in page and last not in page and child not in page
        assert all(url in page for url in blurred["outputs"] if url.endswith(".jpg"))

        set_consent(tmp_path, child, "")
        publish(env)
        back = audit_entry(tmp_path, "groepsfoto.jpg")
        assert back["code"] == "published" and back["outputs"] == clear["outputs"]
        assert all(client.get(url, login)[0] == 200 for url in clear["outputs"])
        assert all(client.get(url, login)[0] == 404 for url in blurred["outputs"])
        assert not clear_files(tmp_path, blurred["outputs"])
        assert not [r for r in sorted((deploy / "releases").iterdir())
                    for url in blurred["outputs"] if (r / url.lstrip("/")).exists()]
    finally:
        client.close()
        local_server.stop(server)
