"""The postvak on S3, against moto's server: what parents PUT is stored under their own
expiry second, `collect` hands it to postvak.intake as their login and deletes it only then,
and a publish never touches it.

There is no local CloudFront: a PUT runs through the viewer function in node, and the
request it returns goes to moto's S3 as CloudFront would send it (the admin's credentials
stand in for Origin Access Control), with only the headers the template's origin request
policy forwards.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from cf_helpers import DOMAIN_EXAMPLE, REGION, cf_settings, load_template, make_tree, run_viewer_function
from hypothesis import given
from hypothesis import strategies as st
from kill_proxy import KillAt, KillProxy

from plugins.errors import SchoolpleinError
from plugins.settings import load_settings
from postvak import PostvakSettings, intake, process, quarantine_list
from postvak.households import person_for_login
from postvak.messages import MAX_BODY
from postvak.store import INBOX, inbox, root
from publish.targets.cloudfront import TARGET, collect_postvak, publish_cloudfront
from publish.targets.cloudfront.links import login_links
from publish.targets.cloudfront.objects import SPOOL
from publish.targets.cloudfront.provision import TEMPLATE
from publish.targets.cloudfront.revocation import LinkRegistry
from publish.targets.cloudfront.signing import load_private_key
from publish.targets.cloudfront.submissions import POSTVAK_PATH, CollectError, Senders, spool_key
from publish.targets.cloudfront.sync import scan_output

ROOT = Path(__file__).resolve().parents[3]
FAMILY = "68amruh9btpfys3dk9wr"  # Marieke (ouder-001) and Youssef (ouder-002) de Vries
OTHER = "53b6w76x3k6x62bawk82"  # Anouk Bakker (ouder-003)
ABSENT = b'{"v": 1, "soort": "afwezigheid", "kind": "zoe-devries", "reden": "ziek"}'


@pytest.fixture
def settings(tmp_path, bucket, moto):
    return cf_settings(tmp_path, SCHOOLPLEIN_S3_BUCKET=bucket, AWS_ENDPOINT_URL=moto.url,
                       AWS_REGION=REGION)


@pytest.fixture
def links(roster, section_map, settings):
    """Everyone's login link, each with their own expiry second (recorded in the registry)."""
    registry = LinkRegistry.load(settings.private_dir)
    issued = login_links(roster, section_map, settings,
                         load_private_key(settings.private_key_file), registry)
    registry.save()
    return issued


def login_cookie(link, prefix: str) -> dict:
    """The CloudFront-Policy cookie the browser holds for `prefix` after opening `link`."""
    (cookie_set,) = [s for s in link.cookie_sets if s.prefix == prefix]
    return {"CloudFront-Policy": {"value": cookie_set.policy}}


def postvak_origin() -> tuple[str, list[str]]:
    """(origin path, forwarded headers) of the template's postvak behaviour."""
    resources = load_template(TEMPLATE)["Resources"]
    dist = resources["Distribution"]["Properties"]["DistributionConfig"]
    (behaviour,) = [b for b in dist["CacheBehaviors"] if b["PathPattern"] == POSTVAK_PATH]
    (origin,) = [o for o in dist["Origins"] if o["Id"] == behaviour["TargetOriginId"]]
    policy = resources[behaviour["OriginRequestPolicyId"]["Ref"]]["Properties"]
    return origin["OriginPath"], policy["OriginRequestPolicyConfig"]["HeadersConfig"]["Headers"]


ORIGIN_PATH, FORWARDED = postvak_origin()


def send(s3, bucket: str, uri: str, cookies: dict, body: bytes) -> int:
    """A PUT through the viewer function and on to S3, as CloudFront would; the status.

    CloudFront puts the origin's path in front of the URI the function returns.
    """
    (run,) = run_viewer_function([{"uri": uri, "method": "PUT", "cookies": cookies,
                                   "headers": {"content-length": {"value": str(len(body))},
                                               "content-type": {"value": "application/json"}}}])
    request = run["result"]
    if "statusCode" in request:
        return request["statusCode"]
    sent = {h: request["headers"][h.lower()]["value"] for h in FORWARDED
            if h.lower() in request["headers"]}
    extra = {"IfNoneMatch": sent.pop("If-None-Match")} if "If-None-Match" in sent else {}
    assert not sent, f"forwarded header the test does not send: {sent}"
    try:
        s3.put_object(Bucket=bucket, Key=(ORIGIN_PATH + request["uri"])[1:], Body=body, **extra)
    except ClientError as exc:
        return exc.response["ResponseMetadata"]["HTTPStatusCode"]
    return 200


def submit(s3, bucket: str, link, ident: str, body: bytes = ABSENT, *, into: str = FAMILY) -> int:
    """PUT `ident` as `link`'s parent (with their cookie for FAMILY's page) into the postvak of
    family `into`; the status."""
    home = f"/gezin/{FAMILY}/"
    return send(s3, bucket, f"/gezin/{into}/postvak/{ident}.json", login_cookie(link, home), body)


def spool(s3, bucket: str) -> list[str]:
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=SPOOL).get("Contents", [])
    return sorted(obj["Key"] for obj in listed)


def keep(private: Path):
    return lambda received: intake(received, private)


def test_parents_submissions_arrive_as_their_login_exactly_once(moto, bucket, settings, links,
                                                                roster, tmp_path):
    s3 = moto.client(log=False)
    marieke, youssef = links["ouder-001"], links["ouder-002"]
    first, second, third = (str(uuid.uuid4()) for _ in range(3))
    assert submit(s3, bucket, marieke, first) == 200
    assert submit(s3, bucket, youssef, second) == 200
    # The same name again (a retry, or a replay): S3 refuses to overwrite it.
    assert submit(s3, bucket, marieke, first, b'{"v": 1}') == 412
    # Into another family's postvak with her own login: refused before S3.
    assert submit(s3, bucket, marieke, third, into=OTHER) == 403
    # Someone writing past CloudFront with a second the school never issued.
    stray = spool_key(FAMILY, 1234567890, third)
    s3.put_object(Bucket=bucket, Key=stray, Body=ABSENT)
    assert spool(s3, bucket) == sorted([spool_key(FAMILY, marieke.expires, first),
                                        spool_key(FAMILY, youssef.expires, second), stray])

    private = settings.private_dir
    before = datetime.now(UTC).replace(microsecond=0)
    assert collect_postvak(settings, keep(private), roster, s3=s3) == 3
    assert spool(s3, bucket) == []
    received = {r.id: r for r in inbox(private)}
    assert received[first].sender == "marieke.devries1@example.nl"
    assert received[second].sender == roster.parents["ouder-002"].email
    assert received[first].family == received[second].family == FAMILY
    assert received[first].body == ABSENT  # Marieke's, not the refused overwrite
    assert received[first].origin == f"s3://{bucket}/{spool_key(FAMILY, marieke.expires, first)}"
    assert abs((received[first].received_at - before).total_seconds()) < 60
    assert person_for_login(roster, received[third].sender) is None

    # Processing applies the parents' absences and quarantines the stray one.
    copy = tmp_path / "roster"
    shutil.copytree(ROOT / "roster", copy)
    summary = process(PostvakSettings(private, copy, "https://" + DOMAIN_EXAMPLE,
                                      "Schoolplein <noreply@kcdematrix.example.nl>"))
    assert set(summary.applied) == {first, second}
    (stray_item,) = quarantine_list(private)
    assert stray_item.id == third and "onbekende afzender" in stray_item.reason
    assert collect_postvak(settings, keep(private), roster, s3=s3) == 0


def test_who_sent_it_is_never_a_login_for_a_second_the_school_cannot_vouch_for(roster, links,
                                                                               settings):
    registry = LinkRegistry.load(settings.private_dir)
    gone = links["ouder-003"]
    lost = links["ouder-004"]
    registry.revoke("ouder-004")  # a lost letter: the old link is revoked
    fewer = dataclasses.replace(roster, parents={k: v for k, v in roster.parents.items()
                                                 if k != "ouder-003"})
    senders = Senders.of(registry, fewer)
    assert senders.login(links["ouder-001"].expires) == "marieke.devries1@example.nl"
    assert senders.login(links["mt-01"].expires) == roster.staff["mt-01"].email
    for expiry in (gone.expires, lost.expires, 1234567890):
        assert person_for_login(roster, senders.login(expiry)) is None
    assert "ouder-004" in senders.login(lost.expires)  # the admin sees whose it was
    assert "niet meer in de roster" in senders.login(gone.expires)


@given(st.integers(min_value=0, max_value=10**12 - 1))
def test_an_unknown_second_never_names_a_parent(roster, expiry):
    senders = Senders.of(LinkRegistry(Path("unused")), roster)
    assert person_for_login(roster, senders.login(expiry)) is None


def test_without_the_link_registry_nothing_is_taken(moto, bucket, settings, roster):
    """Every sender would be unknown (another private folder?): stop, leave it all in S3."""
    s3 = moto.client(log=False)
    assert collect_postvak(settings, keep(settings.private_dir), roster, s3=s3) == 0
    waiting = spool_key(FAMILY, 1817071199, str(uuid.uuid4()))
    s3.put_object(Bucket=bucket, Key=waiting, Body=ABSENT)
    with pytest.raises(CollectError, match="cloudfront-links.json"):
        collect_postvak(settings, keep(settings.private_dir), roster, s3=s3)
    assert spool(s3, bucket) == [waiting] and inbox(settings.private_dir) == []


def test_what_did_not_come_through_the_site_is_kept_for_the_admin(moto, bucket, settings, links,
                                                                  roster):
    s3 = moto.client(log=False)
    big = str(uuid.uuid4())
    s3.put_object(Bucket=bucket, Key=spool_key(FAMILY, 1234567890, big), Body=b"x" * 20_000)
    s3.put_object(Bucket=bucket, Key=SPOOL + "notitie.txt", Body=b"hallo")
    s3.put_object(Bucket=bucket, Key=SPOOL + FAMILY + "/", Body=b"")  # a console "folder"
    private = settings.private_dir
    assert collect_postvak(settings, keep(private), roster, s3=s3) == 2
    reasons = sorted(item.reason for item in quarantine_list(private))
    assert reasons[0].startswith("ongeldige naam 'notitie.txt.json'")
    assert reasons[1].startswith(f"te groot: {MAX_BODY + 1} bytes")
    assert spool(s3, bucket) == [SPOOL + FAMILY + "/"]


COLLECT = """
import sys
from plugins.roster import load_roster
from postvak import intake
from publish.targets.cloudfront import collect_postvak
from publish.targets.cloudfront.settings import CloudFrontSettings
settings = CloudFrontSettings.from_env()
collect_postvak(settings, lambda r: intake(r, settings.private_dir), load_roster("roster"))
"""


@pytest.mark.parametrize("kill", [KillAt("DeleteObject", 2), KillAt("DeleteObject", 2, after=True)],
                         ids=["stored-not-deleted", "deleted-unheard"])
def test_a_collector_killed_between_store_and_delete_loses_and_repeats_nothing(
        moto, bucket, settings, links, roster, kill):
    s3 = moto.client(log=False)
    ids = [str(uuid.uuid4()) for _ in range(3)]
    for ident in ids:
        body = ABSENT.replace(b"ziek", ident.encode()[:4])
        assert submit(s3, bucket, links["ouder-001"], ident, body) == 200
    proxy = KillProxy(moto.port)
    try:
        env = {**os.environ, "AWS_ENDPOINT_URL": proxy.url, "AWS_REGION": REGION,
               "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
               "SCHOOLPLEIN_S3_BUCKET": bucket, "SCHOOLPLEIN_PRIVATE": str(settings.private_dir)}
        proc = subprocess.Popen([sys.executable, "-c", COLLECT], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        proxy.arm(kill, proc.pid)
        output, _ = proc.communicate(timeout=120)
        assert proc.returncode == -9, output
    finally:
        proxy.close()
    private = settings.private_dir
    stored = sorted(p.stem for p in (root(private) / INBOX).glob("*.json"))
    waiting = spool(s3, bucket)
    assert len(stored) == 2 and len(waiting) == (2 if not kill.after else 1)
    # Nothing lost: every submission is stored, still waiting in S3, or both.
    assert set(stored) | {Path(k).stem for k in waiting} == set(ids)

    assert collect_postvak(settings, keep(private), roster, s3=s3) == len(waiting)
    assert spool(s3, bucket) == []
    assert sorted(r.id for r in inbox(private)) == sorted(ids)
    assert quarantine_list(private) == []  # the repeated one was the same envelope: no replay


def test_a_collector_that_cannot_reach_s3_stops_and_loses_nothing(moto, bucket, settings, links,
                                                                  roster):
    s3 = moto.client(log=False)
    ident = str(uuid.uuid4())
    assert submit(s3, bucket, links["ouder-001"], ident) == 200
    moto.stop()
    with pytest.raises(CollectError) as failed:
        collect_postvak(settings, keep(settings.private_dir), roster, s3=moto.client(log=False))
    assert "opnieuw ophalen is veilig" in CollectError.header
    assert "0 inzending(en) zijn opgehaald" in str(failed.value)
    moto.restart()
    assert collect_postvak(settings, keep(settings.private_dir), roster, s3=s3) == 1


def test_the_target_collects_with_the_admins_settings(moto, bucket, links, settings, monkeypatch):
    s3 = moto.client(log=False)
    ident = str(uuid.uuid4())
    assert submit(s3, bucket, links["ouder-002"], ident) == 200
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    admin = load_settings(ROOT, {"SCHOOLPLEIN_S3_BUCKET": bucket, "AWS_ENDPOINT_URL": moto.url,
                                 "AWS_REGION": REGION,
                                 "SCHOOLPLEIN_PRIVATE": str(settings.private_dir)})
    handed = []
    assert TARGET.collect(admin, handed.append) == 1
    assert [(r.id, r.family, r.sender) for r in handed] == [
        (ident, FAMILY, "youssef.devries2@example.nl")]
    assert spool(s3, bucket) == []


def test_publishing_never_touches_the_postvak(moto, bucket, settings, section_map, tmp_path):
    s3 = moto.client(log=False)
    waiting = spool_key(FAMILY, 1817071199, str(uuid.uuid4()))
    s3.put_object(Bucket=bucket, Key=waiting, Body=ABSENT)
    out = tmp_path / "output"
    make_tree(out, section_map)
    plan = publish_cloudfront(out, section_map, settings, s3=s3)
    assert waiting not in plan.deletes + plan.privacy_deletes
    make_tree(out, section_map, groups=1, marker="v2")  # a later publish deletes old pages
    plan = publish_cloudfront(out, section_map, settings, s3=s3)
    assert plan.deletes and spool(s3, bucket) == [waiting]


def test_a_page_in_a_familys_postvak_stops_the_publish(tmp_path, section_map):
    out = tmp_path / "output"
    make_tree(out, section_map)
    page = out / "gezin" / FAMILY / "postvak" / "index.html"
    page.parent.mkdir(parents=True)
    page.write_text("<!doctype html><title>Postvak</title>")
    with pytest.raises(SchoolpleinError) as refused:
        scan_output(out)
    (problem,) = refused.value.problems
    assert problem.file == str(page) and "postvak van het gezin" in problem.message
    assert "andere naam dan 'postvak'" in problem.fix
