"""The demo school rolled over: the archive is served to exactly last year's readers, and after
its retention date nothing of it is served by real nginx or stored in the bucket (moto)."""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path

from plugins.roster import load_roster
from publish.targets import basic_auth
from publish.targets.basic_auth import local_server
from tests.helpers import demo_school, passphrase, run_invoke
from tests.http_client import Client

from .conftest import bucket_env, keys

# A year whose archive is past 12 months of retention whatever today is, and kept with 1200.
START = date.today().year - 3
OLD, NEW = f"{START}-{START + 1}", f"{START + 1}-{START + 2}"
BUCKET = "schoolplein-test"


def invoke(env, *args) -> str:
    done = run_invoke(*args, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def test_archive_served_to_last_years_readers_then_gone_after_retention(tmp_path, moto_url):
    port = local_server.free_port()
    env = demo_school(tmp_path, SCHOOLPLEIN_LISTEN=f"127.0.0.1:{port}",
                      SCHOOLPLEIN_WEB_USER=os.environ.get("USER", "root"),
                      SCHOOLPLEIN_RETENTION_MONTHS="1200",
                      **bucket_env(moto_url, BUCKET))
    groups = tmp_path / "roster" / "groepen.csv"
    groups.write_text(groups.read_text(encoding="utf-8").replace("2026-2027", OLD),
                      encoding="utf-8")
    old = load_roster(tmp_path / "roster")
    review = invoke(env, "schooljaar")
    assert f"{OLD} -> {NEW}" in review
    export = tmp_path / "private" / "schooljaar" / f"voorstel-{NEW}"
    invoke(env, "schooljaar", "--export", str(export), "--toepassen")
    letters = invoke(env, "accounts") and next((tmp_path / "private" / "letters").glob("*.html"))
    letters = letters.read_text(encoding="utf-8")
    new = load_roster(tmp_path / "roster")
    leaver = next(p for p in old.parents.values() if p.id not in new.parents
                  and any(old.children[k].group == "groep-8" for k in p.children))
    stayer = next(p for p in new.parents.values()
                  if any(old.children[k].group == "groep-3" for k in p.children))
    login = {p.id: (p.email, passphrase(letters, p.email)) for p in (leaver, stayer)}

    invoke(env, "publish", "--target", "nginx")
    invoke(env, "publish", "--target", "cloudfront")
    archived = sorted(k for k in keys(moto_url, BUCKET) if k.startswith(f"archief/{OLD}/"))
    assert any("/fotos/" in k for k in archived) and f"archief/{OLD}/groep-8/index.html" in archived
    deploy = basic_auth.Deploy(tmp_path / "deploy" / "nginx")
    proc = local_server.start(deploy, port)
    try:
        web = Client(f"http://127.0.0.1:{port}")
        eight, three = f"/archief/{OLD}/groep-8/", f"/archief/{OLD}/groep-3/"
        assert web.get(eight, login[leaver.id])[0] == 200  # the year their child was there
        assert web.get("/school/", login[leaver.id])[0] == 403  # gone from school at once
        assert web.get("/groep/groep-8/", login[leaver.id])[0] == 403
        assert web.get(three, login[stayer.id])[0] == 200  # last year's group, not this one's
        assert web.get(eight, login[stayer.id])[0] == 403
        assert web.get(eight)[0] == 401
        photo = next(k for k in archived if k.startswith(f"archief/{OLD}/groep-3/fotos/"))
        assert web.get("/" + photo, login[stayer.id])[0] == 200
    finally:
        local_server.stop(proc)

    env["SCHOOLPLEIN_RETENTION_MONTHS"] = "12"
    said = invoke(env, "publish", "--target", "nginx")
    assert re.search(rf"Bewaartermijn verlopen \(archief {OLD}.*Verwijderd: 6 groepen met \d+ "
                     r"berichten en \d+ foto's", said), said
    invoke(env, "publish", "--target", "cloudfront")
    assert not [k for k in keys(moto_url, BUCKET) if k.startswith("archief/")]  # bucket: nothing
    proc = local_server.start(deploy, port)
    try:
        web = Client(f"http://127.0.0.1:{port}")
        for who in (leaver, stayer):  # gone: answered like an archive that never existed
            made_up = web.get(f"/archief/{OLD}/bestaat-niet/", login[who.id])[0]
            assert made_up != 200
            for key in archived:
                assert web.get("/" + key, login[who.id])[0] == made_up, key
        assert web.get("/school/", login[stayer.id])[0] == 200
    finally:
        local_server.stop(proc)
    assert not list((tmp_path / "deploy" / "nginx" / "releases").glob(f"*/archief/{OLD}"))
    assert not (tmp_path / "content" / "archief" / OLD).exists()
    assert not (tmp_path / "roster" / "archief" / OLD).exists()
    for audit in Path(tmp_path / "audit").glob("fotos-*"):
        assert f"archief/{OLD}/" not in audit.read_text(encoding="utf-8")
    erased = (tmp_path / "private" / "vergeten.csv").read_text(encoding="utf-8")
    assert "bewaartermijn verlopen" in erased and leaver.id not in erased
    assert leaver.email not in (tmp_path / "private" / "accounts.csv").read_text(encoding="utf-8")
