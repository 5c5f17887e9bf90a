"""Acceptance: the demo school rolled over to 2027-2028 and served by real nginx; the archive
follows consent withdrawn after the rollover (a child still at school, and a child who left)."""

from __future__ import annotations

import json
import os

from plugins.roster import load_roster
from publish.targets import basic_auth
from publish.targets.basic_auth import local_server
from tests.helpers import demo_school, passphrase, run_invoke
from tests.http_client import Client

LEAVING = ("floor-smit", "jens-smit")  # the Smit family leaves the school after groep 3
SMIT, DE_VRIES = "ouder-050", "ouder-001"  # Maarten Smit; Marieke de Vries (Zoë, Ömer)
ARCHIVE = "/archief/2026-2027/groep-3/"


def invoke(env, *args) -> str:
    done = run_invoke(*args, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def archive_photos(audit_dir) -> dict[str, tuple[set[str], str]]:
    """Source file name -> (tagged children, largest JPEG URL) of the archived groep-3 photos
    in the newest photo audit; only the published ones."""
    newest = sorted(audit_dir.glob("fotos-*.json"))[-1]
    found = {}
    for photo in json.loads(newest.read_text(encoding="utf-8"))["fotos"]:
        jpegs = [u for u in photo["outputs"] if u.endswith(".jpg") and u.startswith(ARCHIVE)]
        if photo["published"] and jpegs:
            url = max(jpegs, key=lambda u: int(u.rsplit("-", 1)[-1][:-4]))
            found[photo["photo"].rsplit("/", 1)[-1]] = (set(photo["children"]), url)
    return found


def test_the_demo_rolls_over_to_2027_2028_and_the_archive_follows_later_withdrawals(tmp_path):
    port = local_server.free_port()
    env = demo_school(tmp_path, SCHOOLPLEIN_LISTEN=f"127.0.0.1:{port}",
                      SCHOOLPLEIN_WEB_USER=os.environ.get("USER", "root"),
                      SCHOOLPLEIN_SITEURL=f"http://127.0.0.1:{port}")
    assert "2026-2027 -> 2027-2028" in invoke(env, "schooljaar")  # the proposed move-up
    export = tmp_path / "private" / "schooljaar" / "voorstel-2027-2028"
    for name, keep in (("leerlingen.csv", lambda row: row[0] not in LEAVING),
                       ("ouders.csv", lambda row: row[0] not in ("ouder-050", "ouder-051"))):
        lines = (export / name).read_text(encoding="utf-8").splitlines(keepends=True)
        (export / name).write_text("".join(r for r in lines if keep(r.split(","))),
                                   encoding="utf-8")
    invoke(env, "schooljaar", "--export", str(export), "--toepassen")
    roster = load_roster(tmp_path / "roster")
    assert {g.school_year for g in roster.groups.values()} == {"2027-2028"}
    assert roster.children["zoe-devries"].group == "groep-4"
    invoke(env, "accounts")
    letters = "".join(p.read_text(encoding="utf-8")
                      for p in (tmp_path / "private" / "letters").glob("*.html"))
    old = load_roster(tmp_path / "roster" / "archief" / "2026-2027")
    login = {pid: (old.parents[pid].email, passphrase(letters, old.parents[pid].email))
             for pid in (SMIT, DE_VRIES)}
    invoke(env, "publish", "--target", "nginx")
    photos = archive_photos(tmp_path / "audit")
    with_zoe = next(url for kids, url in photos.values() if "zoe-devries" in kids)
    with_jens = next(url for kids, url in photos.values()
                     if "jens-smit" in kids and "zoe-devries" not in kids)
    deploy = basic_auth.Deploy(tmp_path / "deploy" / "nginx")

    def served(*paths):
        proc = local_server.start(deploy, port)
        try:
            web = Client(f"http://127.0.0.1:{port}")
            return [web.get(path, login[who])[0] for path, who in paths]
        finally:
            local_server.stop(proc)

    family = roster.parents[DE_VRIES].family
    assert served((f"/gezin/{family}/", DE_VRIES), ("/groep/groep-4/", DE_VRIES),
                  ("/groep/groep-3/", DE_VRIES), (ARCHIVE, DE_VRIES), (with_zoe, DE_VRIES),
                  (ARCHIVE, SMIT), (with_jens, SMIT), ("/school/", SMIT),
                  ("/groep/groep-4/", SMIT)) == [200, 200, 403, 200, 200, 200, 200, 403, 403]

    # Zoë's parents withdraw consent a year later: last year's photos with her go too
    invoke(env, "beeldgebruik", "zoe-devries", "geen", "--door", "Ingrid Hoekstra")
    assert served((with_zoe, DE_VRIES), (with_jens, DE_VRIES)) == [404, 200]
    # Jens left the school; his parents ask the school: the archive's own cell is narrowed
    said = invoke(env, "beeldgebruik", "jens-smit", "geen", "--door", "Ingrid Hoekstra")
    assert "archief 2026-2027" in said and "school -> geen" in said
    assert "jens-smit,Jens,Smit,groep-3,geen" in (
        tmp_path / "roster" / "archief" / "2026-2027" / "leerlingen.csv").read_text("utf-8")
    assert served((with_jens, SMIT), (ARCHIVE, SMIT)) == [404, 200]
    assert not {u for kids, u in archive_photos(tmp_path / "audit").values()
                if kids & {"zoe-devries", "jens-smit"}}
    trail = (tmp_path / "private" / "postvak" / "beeldgebruik-audit.csv").read_text("utf-8")
    assert "jens-smit,school: Ingrid Hoekstra" in trail
