"""Random two-year schools on the real targets: real nginx and Apache serve each archive section
to exactly last year's readers of that group, and after the retention date nothing of the archive is served
by nginx or stored in the bucket (moto server)."""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plugins.archive import account_roster, load_archives
from plugins.roster import load_roster
from plugins.sections import build_section_map
from publish.accounts import load_accounts, sync_accounts
from publish.targets import basic_auth
from publish.targets.basic_auth import local_server
from records.rollover import apply, plan_rollover
from tests.helpers import ROOT, apache_serving, run_invoke
from tests.http_client import get_many
from tests.photos.conftest import group_photo

from .conftest import bucket_env, keys
from .schools import export_for, school, write_export, write_school

START = date.today().year - 3  # past 12 months of retention whatever today is; kept with 1200
OLD, NEW = f"{START}-{START + 1}", f"{START + 1}-{START + 2}"


def school_files(base, rows) -> None:
    """The roster, the public pages, and per group one post with one photo of all its children."""
    write_school(base / "roster", rows)
    shutil.copytree(ROOT / "content" / "publiek", base / "content" / "publiek")
    (base / "content" / "school").mkdir()
    (base / "content" / "school" / "2027-01-05-nieuwjaar.md").write_text(
        "Title: Nieuwjaar\nDate: 2027-01-05\n\nGelukkig nieuwjaar.\n", encoding="utf-8")
    for slug in {c[3] for c in rows["children"]}:
        post = base / "content" / "groep" / slug / "2027-03-01-uitje"
        post.mkdir(parents=True)
        (post / "index.md").write_text("Title: Uitje\nDate: 2027-03-01\n\nWe gingen op pad.\n",
                                       encoding="utf-8")
        group_photo(post / "groep.jpg", [], colour=(30 * len(slug), 90, 60))
        kids = [c[0] for c in rows["children"] if c[3] == slug]
        (post / "fotos.txt").write_text(f"groep.jpg: {', '.join(kids)}\n", encoding="utf-8")


def apache_answers(base, archives, requests) -> list[int]:
    """The same output and accounts published for real Apache (its workers run as www-data, so
    the release lives in a world-traversable folder, as on a server); the statuses it answers."""
    sections = build_section_map(load_roster(base / "roster"), "School", archives)
    where = Path(tempfile.mkdtemp(prefix="sp-archief-apache-", dir="/tmp"))
    os.chmod(where, 0o755)
    listen = f"127.0.0.1:{local_server.free_port()}"
    try:
        deploy = basic_auth.publish(base / "output", where / "deploy", sections,
                                    load_accounts(base / "private"), listen,
                                    web_user="www-data" if os.geteuid() == 0 else None)
        with apache_serving(deploy, where / "run", listen):
            return get_many(f"http://{listen}", requests)
    finally:
        shutil.rmtree(where, ignore_errors=True)


def publish(env, target: str) -> str:
    done = run_invoke("publish", "--target", target, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@settings(max_examples=2, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_real_targets_serve_the_archive_to_exactly_last_years_readers_until_retention(
        data, tmp_path_factory, moto_url):
    year1 = data.draw(school(OLD), label="school")
    export = data.draw(export_for(year1, NEW), label="export")
    base = tmp_path_factory.mktemp("school")
    school_files(base, year1)
    old = load_roster(base / "roster")
    before = build_section_map(old, "School")
    apply(plan_rollover(base / "roster", write_export(base / "export", export)),
          base / "roster", base / "content", base / "private")
    archives = load_archives(base / "roster", 1200).live
    people = account_roster(load_roster(base / "roster"), archives)
    issued = sync_accounts(people, base / "private", rounds=4, letters=False).issued
    login = {i.person_id: (i.login, i.passphrase) for i in issued}
    port = local_server.free_port()
    bucket = f"jaar-{len(os.listdir(tmp_path_factory.getbasetemp()))}"
    env = {f"SCHOOLPLEIN_{key}": str(base / folder) for key, folder in (
        ("ROSTER", "roster"), ("CONTENT", "content"), ("PRIVATE", "private"),
        ("OUTPUT", "output"), ("DEPLOY", "deploy"), ("PHOTO_CACHE", "cache"),
        ("BUILD_CACHE", "build-cache"), ("AUDIT", "audit"))}
    env.update(SCHOOLPLEIN_LISTEN=f"127.0.0.1:{port}", SCHOOLPLEIN_RETENTION_MONTHS="1200",
               SCHOOLPLEIN_WEB_USER=os.environ.get("USER", "root"),
               **bucket_env(moto_url, bucket))
    publish(env, "nginx")
    publish(env, "cloudfront")
    served = sorted(k for k in keys(moto_url, bucket) if k.startswith(f"archief/{OLD}/"))
    groups = [s for s in before.protected if s.kind == "group"]
    assert {f"archief/{OLD}/{g.key}/index.html" for g in groups} <= set(served)
    deploy = basic_auth.Deploy(base / "deploy" / "nginx")
    asked = [(f"/archief/{OLD}/{g.key}/", pid, pid in g.readers) for g in groups for pid in login]
    former = set(old.parents) - set(load_roster(base / "roster").parents)
    proc = local_server.start(deploy, port)
    try:
        got = get_many(f"http://127.0.0.1:{port}", [(path, login[pid]) for path, pid, _ in asked]
                       + [("/school/", login[pid]) for pid in sorted(former)])
    finally:
        local_server.stop(proc)
    expected = [200 if reads else 403 for _path, _pid, reads in asked] + [403] * len(former)
    assert got == expected, [(a, g) for a, g in zip(asked, got, strict=False)]
    assert apache_answers(base, archives, [(path, login[pid]) for path, pid, _ in asked]
                          + [("/school/", login[pid]) for pid in sorted(former)]) == expected

    env["SCHOOLPLEIN_RETENTION_MONTHS"] = "12"
    assert f"Bewaartermijn verlopen (archief {OLD}" in publish(env, "nginx")
    publish(env, "cloudfront")
    assert not [k for k in keys(moto_url, bucket) if k.startswith("archief/")]
    staff = sorted(set(login) & set(old.staff))  # every one still has a login
    proc = local_server.start(deploy, port)
    try:
        got = get_many(f"http://127.0.0.1:{port}",
                       [("/" + key, login[pid]) for key in served for pid in staff])
        made_up = get_many(f"http://127.0.0.1:{port}",
                           [(f"/archief/{OLD}/bestaat-niet/", login[pid]) for pid in staff])
    finally:
        local_server.stop(proc)
    # gone: answered like a section that never existed (main's rule for made-up paths)
    assert 200 not in got and set(got) == set(made_up), (got, made_up)
    assert not (base / "content" / "archief").exists() or not any(
        (base / "content" / "archief").iterdir())
