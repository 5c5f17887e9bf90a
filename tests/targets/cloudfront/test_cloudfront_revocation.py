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
from pathlib import Path

import pytest
from cf_helpers import bucket_state, cf_settings, cookies_of, make_tree, run_viewer_function
from kvs_server import KvsServer

from plugins.roster import Family, Role
from plugins.sections import build_section_map
from publish.targets.cloudfront import publish_cloudfront
from publish.targets.cloudfront.links import PRINT_FILE, login_links, write_cloudfront_letters
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


# --- Narrowing someone's access revokes what they may no longer read.

NEW_HOUSEHOLD = "zzzz2345zzzz2345zzzz"


def school_of_five(roster):
    """Three families, the teachers of groep 3 (lk-02), groep 4 (lk-03) and groep 1/2 + 3
    (lk-07), and the two directie members."""
    school = small(roster)
    staff = {k: v for k, v in roster.staff.items() if k in ("lk-02", "lk-03", "lk-07", "mt-01",
                                                             "mt-02")}
    return dataclasses.replace(school, staff=staff)


def narrowed(school):
    """lk-02 moves from groep 3 to groep 4; ouder-002 moves into a household of their own;
    sem-bakker (ouder-003's child) leaves groep 3 for groep 4, so lk-07 (groep 1/2 + 3) no
    longer reads that family's page and lk-03 (groep 4) does; mt-02 is a teacher now."""
    first = school.families["68amruh9btpfys3dk9wr"]
    children = dict(school.children)
    for child in first.children:
        children[child] = dataclasses.replace(children[child], households=(
            first.id, NEW_HOUSEHOLD))
    children["sem-bakker"] = dataclasses.replace(children["sem-bakker"], group="groep-4")
    parents = dict(school.parents, **{"ouder-002": dataclasses.replace(
        school.parents["ouder-002"], family=NEW_HOUSEHOLD)})
    families = dict(school.families, **{
        first.id: dataclasses.replace(first, parents=("ouder-001",)),
        NEW_HOUSEHOLD: Family(NEW_HOUSEHOLD, ("ouder-002",), first.children)})
    staff = dict(school.staff, **{
        "lk-02": dataclasses.replace(school.staff["lk-02"], groups=("groep-4",)),
        "mt-02": dataclasses.replace(school.staff["mt-02"], role=Role.TEACHER,
                                     groups=("groep-1-2",))})
    return dataclasses.replace(school, children=children, parents=parents, families=families,
                               staff=staff)


def policy_of(link_url: str, prefix: str, domain: str) -> dict:
    return cookies_of(link_url, prefix, domain)["CloudFront-Policy"]


def test_a_narrowing_revokes_the_old_link_and_writes_new_letters(roster, settings, kvs, moto,
                                                                 bucket, tmp_path, capsys):
    """A teacher in another group, a parent in their own household, a child in another group,
    a directie member who became a teacher: each old link stops where its owner may no longer
    read (an old cookie, a signed URL built from the old letter, an undecodable cookie), the
    new letters open what they may read now; a teacher who may read more keeps the old link."""
    school = school_of_five(roster)
    letters_dir = settings.letters_dir
    write_cloudfront_letters(school, build_section_map(school, "Kc de Matrix"), settings)
    key = load_private_key(settings.private_key_file)
    before = login_links(school, build_section_map(school, "Kc de Matrix"), settings, key,
                         LinkRegistry.load(settings.private_dir))
    letters_before = {p.name: p.read_bytes() for p in letters_dir.iterdir()}

    after_roster = narrowed(school)
    after_map = build_section_map(after_roster, "Kc de Matrix")
    out = tmp_path / "output"
    make_tree(out, after_map, groups=1)
    settings = dataclasses.replace(settings, bucket=bucket)
    capsys.readouterr()
    publish_cloudfront(out, after_map, settings, s3=moto.client(), kvs=kvs.client(),
                       roster=after_roster)
    printed = capsys.readouterr().out

    lost = {"lk-02", "ouder-002", "ouder-003", "lk-07", "mt-02"}
    assert set(kvs.items) == {str(before[p].expires) for p in lost}
    for person in (*lost, "lk-03"):
        assert f"{person} ({after_roster.person(person).name})" in printed, person
    assert "ouder-001 " not in printed and "mt-01 " not in printed
    line = next(ln for ln in printed.splitlines() if "lk-02 (" in ln)
    assert "mag niet meer lezen: Groep 3" in line and "mag nu ook lezen: Groep 4" in line
    assert "oude link ingetrokken" in line
    assert f"mag niet meer lezen: gezinspagina {school.parents['ouder-001'].family}" in next(
        ln for ln in printed.splitlines() if "ouder-002 (" in ln)
    assert "de oude link blijft werken" in next(ln for ln in printed.splitlines()
                                                 if "lk-03 (" in ln)

    # New letters for exactly the people whose access changed.
    letters_after = {p.name: p.read_bytes() for p in letters_dir.iterdir()}
    rewritten = {name for name in letters_after if letters_after[name] != letters_before.get(
        name)}
    assert rewritten == {f"brief-{p}.html" for p in (*lost, "lk-03")} | {PRINT_FILE}
    # The print file holds this publish's letters, one each.
    assert letters_after[PRINT_FILE].count(b'<section class="letter">') == len(lost) + 1
    after = login_links(after_roster, after_map, settings, key,
                        LinkRegistry.load(settings.private_dir))
    assert after["lk-03"].expires == before["lk-03"].expires  # widened: no revocation
    assert after["ouder-001"].expires == before["ouder-001"].expires
    assert all(after[p].expires != before[p].expires for p in lost)
    assert f"e={after['lk-02'].expires}" in letters_after["brief-lk-02.html"].decode()

    old_family = f"/gezin/{school.parents['ouder-001'].family}/"
    domain = settings.domain
    old_cookie = {"CloudFront-Policy": policy_of(before["lk-02"].url, "/groep/groep-3/", domain)}
    old_parent = {"CloudFront-Policy": policy_of(before["ouder-002"].url, old_family, domain)}
    signed_url = {"Policy": old_cookie["CloudFront-Policy"], "Signature": {"value": "x" * 96},
                  "Key-Pair-Id": {"value": settings.key_pair_id}}
    undecodable = {"CloudFront-Policy": {"value": old_parent["CloudFront-Policy"]["value"]
                                         .replace("-", "+") + "="}}
    events = [
        {"uri": "/groep/groep-3/", "cookies": old_cookie},  # the teacher's old group
        {"uri": "/groep/groep-3/", "querystring": signed_url},  # ... as a signed URL
        {"uri": old_family, "cookies": old_parent},  # the other household's page
        {"uri": old_family, "cookies": undecodable},
        {"uri": "/school/", "cookies": {"CloudFront-Policy": policy_of(before["mt-02"].url, "/",
                                                                       domain)}},
        {"uri": "/groep/groep-4/", "cookies": {"CloudFront-Policy": policy_of(
            after["lk-02"].url, "/groep/groep-4/", domain)}},
        {"uri": f"/gezin/{NEW_HOUSEHOLD}/", "cookies": {"CloudFront-Policy": policy_of(
            after["ouder-002"].url, f"/gezin/{NEW_HOUSEHOLD}/", domain)}},
        {"uri": "/groep/groep-4/", "cookies": {"CloudFront-Policy": policy_of(
            before["lk-03"].url, "/groep/groep-4/", domain)}},  # widened: old link still works
        {"uri": old_family, "cookies": {"CloudFront-Policy": policy_of(
            before["ouder-001"].url, old_family, domain)}},
    ]
    results = run_viewer_function(events, revoked=kvs.items)
    assert [r["result"].get("statusCode") for r in results] == [403] * 5 + [None] * 4

    writes = len(kvs.writes())
    capsys.readouterr()
    publish_cloudfront(out, after_map, settings, s3=moto.client(), kvs=kvs.client(),
                       roster=after_roster)
    assert "Toegang gewijzigd" not in capsys.readouterr().out
    assert len(kvs.writes()) == writes
    assert {p.name: p.read_bytes() for p in letters_dir.iterdir()} == letters_after


def test_a_dry_run_names_the_narrowed_and_changes_nothing(roster, settings, kvs, moto, bucket,
                                                          tmp_path, capsys):
    school = school_of_five(roster)
    write_cloudfront_letters(school, build_section_map(school, "Kc de Matrix"), settings)
    registry_before = LinkRegistry.load(settings.private_dir).path.read_bytes()
    letters = {p.name: p.read_bytes() for p in settings.letters_dir.iterdir()}
    after_roster = narrowed(school)
    after_map = build_section_map(after_roster, "Kc de Matrix")
    out = tmp_path / "output"
    make_tree(out, after_map, groups=1)
    capsys.readouterr()
    publish_cloudfront(out, after_map, dataclasses.replace(settings, bucket=bucket), dry_run=True,
                       s3=moto.client(), kvs=kvs.client(), roster=after_roster)
    printed = capsys.readouterr().out
    assert "Proefrun: toegang gewijzigd" in printed and "lk-02 (Meester Pieter Bos)" in printed
    assert "Lijst met ingetrokken links: 5 erbij" in printed
    assert LinkRegistry.load(settings.private_dir).path.read_bytes() == registry_before
    assert {p.name: p.read_bytes() for p in settings.letters_dir.iterdir()} == letters
    assert kvs.writes() == [] and moto.writes() == []


def test_every_letter_written_revokes_a_narrowed_link():
    """Wherever a letter is written (accounts, a lost letter of the other parent, a rotation):
    a link never opens more than its owner may read, and a widening keeps the old second."""
    registry = LinkRegistry(Path("/nonexistent/cloudfront-links.json"))
    end = 2_000_000_000
    first = registry.issue("lk-02", end, ["/groep/groep-3/", "/gezin/aaaa2345aaaa2345aaaa/"])
    assert registry.issue("lk-02", end, ["/groep/groep-3/", "/gezin/aaaa2345aaaa2345aaaa/",
                                         "/groep/groep-4/"]) == first  # wider: same link
    second = registry.issue("lk-02", end, ["/groep/groep-4/"])
    assert second != first and registry.revoked == {str(first): "lk-02"}
    directie = registry.issue("mt-01", end, ["/"])
    assert registry.issue("mt-01", end, ["/school/", "/groep/groep-3/"]) != directie
    assert registry.change("lk-02", ["/groep/groep-4/"]) is None
    legacy = LinkRegistry(Path("/nonexistent/x.json"), {"ouder-001": [end - 1]})
    change = legacy.change("ouder-001", ["/school/"])
    assert change.unknown and change.narrowed  # what an old link opens is unknown: fail closed
