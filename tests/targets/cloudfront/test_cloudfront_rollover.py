"""CloudFront after a rollover: the first publish revokes every login link that opens more
than its owner may read in the new year (a family that left, a child in a new group), and
writes their new letters; a leaver's new link opens only last year's archive of their group.

S3 is moto's server, the KeyValueStore API the kvs_server stand-in, the viewer function runs
in node; the school is the demo rolled over with `invoke schooljaar`."""

from __future__ import annotations

import dataclasses
import re
import uuid

from cf_helpers import cookies_of, run_viewer_function
from kvs_server import KvsServer

from plugins.roster import Role, load_roster
from plugins.settings import load_settings
from publish.targets.cloudfront import people_with_links, publish_cloudfront
from publish.targets.cloudfront.revocation import LinkRegistry
from publish.targets.cloudfront.settings import CloudFrontSettings
from publish.targets.cloudfront.signing import generate_key_pair
from tasks.common import build
from tests.helpers import ROOT, demo_school, run_invoke

OLD, NEW = "2026-2027", "2027-2028"  # the demo's year; kept whatever today is (1200 months)
ARN = f"arn:aws:cloudfront::123456789012:key-value-store/{uuid.uuid4()}"


def invoke(env, *args) -> str:
    done = run_invoke(*args, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def link_in(letter: str) -> str:
    return re.search(r'<p class="link">([^<]+)</p>', letter).group(1).replace("&amp;", "&")


def test_the_first_publish_after_a_rollover_revokes_links_that_open_too_much(
        tmp_path, moto, bucket, capsys):
    key = tmp_path / "keys" / "cloudfront.pem"
    generate_key_pair(key)
    env = demo_school(tmp_path, SCHOOLPLEIN_RETENTION_MONTHS="1200", SCHOOLPLEIN_S3_BUCKET=bucket,
                      CLOUDFRONT_DOMAIN="ouders.example.nl", CLOUDFRONT_KEY_PAIR_ID="K2TEST",
                      CLOUDFRONT_PRIVATE_KEY_FILE=str(key), CLOUDFRONT_KVS_ARN=ARN,
                      SCHOOLPLEIN_ACCESS_UNTIL="2099-07-31")
    old = load_roster(tmp_path / "roster")
    invoke(env, "cloudfront-letters")  # last year's letters: everyone holds a link
    private = tmp_path / "private"
    before = LinkRegistry.load(private)
    letters = private / "brieven-cloudfront"
    invoke(env, "schooljaar")
    invoke(env, "schooljaar", "--export", str(private / "schooljaar" / f"voorstel-{NEW}"),
           "--toepassen")
    new = load_roster(tmp_path / "roster")
    leaver = next(p for p in old.parents.values() if p.id not in new.parents
                  and all(old.children[k].group == "groep-8" for k in p.children))
    mover = next(p for p in new.parents.values()
                 if all(old.children[k].group == "groep-3" for k in p.children))
    directie = [s for s in new.staff.values() if s.role == Role.MANAGEMENT]
    old_leaver_link = link_in((letters / f"brief-{leaver.id}.html").read_text("utf-8"))

    cfg = load_settings(ROOT, env)
    sections = build(cfg, production=True)["SCHOOLPLEIN_SECTIONS"]
    settings = dataclasses.replace(CloudFrontSettings.from_settings(cfg), endpoint_url=moto.url)
    kvs = KvsServer(ARN)
    try:
        capsys.readouterr()
        publish_cloudfront(cfg.output, sections, settings, s3=moto.client(), kvs=kvs.client(),
                           roster=people_with_links(cfg))  # the roster the target passes
        said = capsys.readouterr().out
        revoked = set(kvs.items)
    finally:
        kvs.stop()
    for person in (leaver, mover):  # the old links stop working at this publish ...
        assert re.search(rf"{person.id} \({re.escape(person.name)}\); mag niet meer lezen", said)
        assert {str(e) for e in before.issued[person.id]} <= revoked, person.id
    for person in directie:  # ... a widening keeps the old link
        assert not {str(e) for e in before.issued[person.id]} & revoked, person.id
    after = LinkRegistry.load(private)
    assert after.access[leaver.id] == [f"/archief/{OLD}/groep-8/"]
    letter = (letters / f"brief-{leaver.id}.html").read_text("utf-8")  # ... with a new letter
    assert f"Groep 8 ({OLD})" in letter and "Gezinspagina" not in letter
    new_link = link_in(letter)

    archive, school = f"/archief/{OLD}/groep-8/", "/school/"
    events = [{"uri": school, "cookies": cookies_of(old_leaver_link, school, settings.domain)},
              {"uri": archive, "cookies": cookies_of(new_link, archive, settings.domain)}]
    results = run_viewer_function(events, revoked=revoked)
    assert [r["result"].get("statusCode") for r in results] == [403, None]
