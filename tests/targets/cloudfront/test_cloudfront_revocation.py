"""Revoke one person: own expiry second per person, a deny-list kept by publish, enforced
by the viewer function.

S3 is moto's server; the KeyValueStore API is kvs_server.KvsServer (moto has no
data plane for it), reached through a real boto3 client; the function runs in node.
"""

from __future__ import annotations

import dataclasses
import os
import stat
import uuid

import pytest
from cf_helpers import bucket_state, cf_settings, cookies_of, make_tree, run_viewer_function
from kvs_server import KvsServer

from plugins.sections import build_section_map
from publish.targets.cloudfront import publish_cloudfront
from publish.targets.cloudfront.links import login_links, write_cloudfront_letters
from publish.targets.cloudfront.revocation import (
    SPREAD,
    LinkRegistry,
    RevocationError,
    maintain_revocations,
)
from publish.targets.cloudfront.signing import load_private_key

ARN = f"arn:aws:cloudfront::123456789012:key-value-store/{uuid.uuid4()}"


@pytest.fixture
def kvs():
    server = KvsServer(ARN)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def settings(tmp_path):
    return cf_settings(tmp_path, CLOUDFRONT_KVS_ARN=ARN, SCHOOLPLEIN_S3_BUCKET="unused")


def small(roster, families=3):
    """A few families (both parents of the first) and the teacher of their group."""
    fams = dict(list(roster.families.items())[:families])
    parents = {p: roster.parents[p] for f in fams.values() for p in f.parents}
    return dataclasses.replace(roster, families=fams, parents=parents,
                               staff={k: v for k, v in roster.staff.items() if k in ("lk-02",
                                                                                     "mt-01")})


def without(roster, person_id):
    family = roster.families[roster.parents[person_id].family]
    families = dict(roster.families, **{family.id: dataclasses.replace(
        family, parents=tuple(p for p in family.parents if p != person_id))})
    parents = {k: v for k, v in roster.parents.items() if k != person_id}
    return dataclasses.replace(roster, parents=parents, families=families)


def test_every_person_gets_an_own_expiry_second_and_keeps_it(roster, section_map, settings):
    registry = LinkRegistry.load(settings.private_dir)
    key = load_private_key(settings.private_key_file)
    links = login_links(roster, section_map, settings, key, registry)
    expiries = [link.expires for link in links.values()]
    end = settings.expires_epoch
    assert len(set(expiries)) == len(expiries) == len(list(roster.people()))
    assert all(end - SPREAD < e < end for e in expiries)  # still on the last day
    registry.save()
    assert stat.S_IMODE(os.stat(registry.path).st_mode) == 0o600

    again = LinkRegistry.load(settings.private_dir)
    assert {p: again.expiry_for(p, end) for p in links} == {p: link.expires
                                                            for p, link in links.items()}
    assert again.revoke("ouder-001") == [links["ouder-001"].expires]
    renewed = again.expiry_for("ouder-001", end)
    assert renewed not in expiries and again.deny_list(now=0) == {str(links["ouder-001"].expires)}


def test_removing_a_parent_revokes_only_their_links_at_the_next_publish(
        roster, settings, kvs, moto, bucket, tmp_path):
    school = small(roster)
    section_map = build_section_map(school, "Kc de Matrix")
    letters = write_cloudfront_letters(school, section_map, settings, tmp_path / "brieven")
    before = {p: p.read_bytes() for p in letters}
    key = load_private_key(settings.private_key_file)
    links = login_links(school, section_map, settings, key,
                        LinkRegistry.load(settings.private_dir))
    leaving, staying = school.families[school.parents["ouder-001"].family].parents
    assert leaving == "ouder-001"

    smaller = without(school, leaving)
    out = tmp_path / "output"
    make_tree(out, build_section_map(smaller, "Kc de Matrix"), groups=1)
    settings = dataclasses.replace(settings, bucket=bucket)
    printed: list[str] = []
    kw = {"s3": moto.client(), "kvs": kvs.client()}
    publish_cloudfront(out, build_section_map(smaller, "Kc de Matrix"), settings, **kw)
    assert set(kvs.items) == {str(links[leaving].expires)}
    assert bucket_state(moto.client(), bucket)  # the site itself was published too
    assert {p: p.read_bytes() for p in letters} == before  # nobody needs a new letter

    home = f"/gezin/{school.parents[leaving].family}/"
    events = [{"uri": home, "cookies": cookies_of(links[pid].url, home, settings.domain)}
              for pid in (leaving, staying)]
    results = run_viewer_function(events, revoked=kvs.items)
    assert [r["result"].get("statusCode") for r in results] == [403, None]

    writes = len(kvs.writes())
    publish_cloudfront(out, build_section_map(smaller, "Kc de Matrix"), settings, **kw)
    assert len(kvs.writes()) == writes  # an unchanged deny-list is not written again

    fewer = without(smaller, staying)
    maintain_revocations(LinkRegistry.load(settings.private_dir),
                         {r for s in build_section_map(fewer, "x").protected for r in s.readers},
                         kvs.client(), ARN, dry_run=True, out=printed.append)
    assert "Proefrun: zou intrekken" in printed[0] and staying in printed[0]
    assert len(kvs.writes()) == writes
    assert str(links[staying].expires) not in LinkRegistry.load(settings.private_dir).revoked


def test_a_lost_letter_renews_one_person(roster, settings, kvs, tmp_path):
    school = small(roster)
    section_map = build_section_map(school, "Kc de Matrix")
    write_cloudfront_letters(school, section_map, settings, tmp_path / "brieven")
    old = LinkRegistry.load(settings.private_dir).expiry_for("ouder-003", settings.expires_epoch)
    (renewed,) = write_cloudfront_letters(school, section_map, settings, tmp_path / "nieuw",
                                          renew={"ouder-003"})
    assert renewed.name == "brief-ouder-003.html"
    registry = LinkRegistry.load(settings.private_dir)
    new = registry.expiry_for("ouder-003", settings.expires_epoch)
    assert new != old and f"e={new}" in renewed.read_text() and f"e={old}" not in (
        renewed.read_text())
    present = {r for s in section_map.protected for r in s.readers}
    maintain_revocations(registry, present, kvs.client(), ARN, out=lambda _: None)
    assert set(kvs.items) == {str(old)}


def test_past_revocations_leave_the_deny_list(tmp_path, kvs):
    registry = LinkRegistry(tmp_path / "cloudfront-links.json", {"a": [1000], "b": [5000]})
    maintain_revocations(registry, {"b"}, kvs.client(), ARN, out=lambda _: None, now=10)
    assert set(kvs.items) == {"1000"}
    maintain_revocations(LinkRegistry.load(tmp_path), set(), kvs.client(), ARN,
                         out=lambda _: None, now=2000)
    assert set(kvs.items) == {"5000"}  # 1000 lies in the past: no cookie carries it any more


def _one_revoked_link(roster, settings, tmp_path):
    """A one-family site and a registry holding one link of someone no longer in the roster."""
    section_map = build_section_map(small(roster, families=1), "Kc de Matrix")
    LinkRegistry(settings.private_dir / "cloudfront-links.json",
                 {"ouder-999": [settings.expires_epoch - 1]}).save()
    out = tmp_path / "output"
    make_tree(out, section_map, groups=1)
    return out, section_map


def test_a_revocation_without_a_key_value_store_stops_the_publish(roster, settings, moto,
                                                                  bucket, tmp_path):
    out, section_map = _one_revoked_link(roster, settings, tmp_path)
    settings = dataclasses.replace(settings, bucket=bucket, kvs_arn="")
    with pytest.raises(RevocationError, match="CLOUDFRONT_KVS_ARN ontbreekt"):
        publish_cloudfront(out, section_map, settings, s3=moto.client())
    assert moto.writes() == []


def test_an_unreachable_key_value_store_stops_the_publish(roster, settings, kvs, moto, bucket,
                                                          tmp_path):
    out, section_map = _one_revoked_link(roster, settings, tmp_path)
    kvs.down = True
    with pytest.raises(RevocationError) as failure:
        publish_cloudfront(out, section_map, dataclasses.replace(settings, bucket=bucket),
                           s3=moto.client(), kvs=kvs.client(attempts=1))
    assert "ingetrokken inloglinks kon niet worden bijgewerkt" in failure.value.render()
    assert moto.writes() == []
    # The decision is kept: the next publish puts it on the list.
    assert LinkRegistry.load(settings.private_dir).revoked == {
        str(settings.expires_epoch - 1): "ouder-999"}
