"""The staff postvak on S3 + CloudFront: the viewer function (node) lets a staff member PUT
the photos and manifest of a post into their own postvak, under their own expiry second, and
nothing else; `collect_team` hands each file to postvak.team as that staff member's login,
deletes it only then, and leaves the parents' spool alone (and the parents' collect the staff's).
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import uuid
from pathlib import Path

import pytest
from cf_helpers import DOMAIN_EXAMPLE, REGION, cf_settings, run_viewer_function
from edge import Edge
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from plugins.roster import ID_RE
from postvak import PostvakSettings, intake
from postvak.messages import UUID4_RE
from postvak.store import inbox
from postvak.team import FILE_RE, MAX_FILE, TeamSettings, intake_file
from postvak.team import process as process_team
from publish.targets.cloudfront import collect_postvak
from publish.targets.cloudfront.links import login_links
from publish.targets.cloudfront.provision import VIEWER_REQUEST_JS, viewer_request_code
from publish.targets.cloudfront.revocation import LinkRegistry
from publish.targets.cloudfront.signing import cf_b64encode, custom_policy, load_private_key
from publish.targets.cloudfront.submissions import TEAM_SPOOL, team_stored_uri

ROOT = Path(__file__).resolve().parents[3]
STAFF, COLLEAGUE = "lk-02", "lk-03"
FAMILY = "68amruh9btpfys3dk9wr"
TEACHER, DIRECTIE, PARENT, REVOKED = 1817071199, 1817071198, 1817071197, 1817071187
ID = "0f8fad5b-d9cb-469f-a165-70867728950e"
BASE = f"/team/{STAFF}/postvak/{ID}/"
LENGTH = {"content-length": {"value": "120000"}}


def cookie(prefix: str, expires: int) -> dict:
    return {"CloudFront-Policy": {"value": cf_b64encode(custom_policy(DOMAIN_EXAMPLE, prefix,
                                                                      expires).encode())}}


TEACHER_COOKIE = cookie(f"/team/{STAFF}/", TEACHER)


def typed(uri: str) -> dict:
    """What the editor sends (team.js): a photo as image/jpeg, the manifest as JSON."""
    kind = "application/json" if uri.endswith(".json") else "image/jpeg"
    return {**LENGTH, "content-type": {"value": kind}}


def put(uri: str, cookies=TEACHER_COOKIE, headers=None) -> dict:
    return {"uri": uri, "method": "PUT", "cookies": cookies,
            "headers": typed(uri) if headers is None else headers}


def outcome(result: dict) -> int | str:
    answer = result["result"]
    return answer["statusCode"] if "statusCode" in answer else answer["uri"]


def test_a_staff_members_files_are_stored_under_their_own_second():
    names = ["foto-01.jpg", "foto-30.jpg", "manifest.json"]
    results = run_viewer_function([put(BASE + n) for n in names]
                                  + [put(BASE + "foto-01.jpg", cookies=cookie("/", DIRECTIE))])
    assert [outcome(r) for r in results] == [team_stored_uri(STAFF, TEACHER, ID, n)
                                             for n in names] + [
        team_stored_uri(STAFF, DIRECTIE, ID, "foto-01.jpg")]  # the directie's '/' covers it
    for result in results:
        request = result["result"]
        assert request["method"] == "PUT" and request["querystring"] == {}
        assert request["headers"]["if-none-match"] == {"value": "*"}  # never an overwrite
    assert results[0]["lookups"] == [str(TEACHER)]  # the revocation list is asked


ELSEWHERE = [BASE + n for n in (
    "foto-31.jpg", "foto-00.jpg", "foto-1.jpg", "foto-01.JPG", "foto-01.jpeg", "foto-01.png",
    "film.mp4", "IMG_0001.HEIC", "manifest.JSON", "manifest.json/", "x/foto-01.jpg",
    "foto-01.jpg.xmp", "")] + [
    BASE[:-1], f"/team/{STAFF}/postvak/{ID}.json", f"/team/{STAFF}/postvak/foto-01.jpg",
    f"/team/{STAFF}/postvak/{ID.replace('-469f-', '-169f-')}/foto-01.jpg",  # not a UUID4
    f"/team/{STAFF}/postvak/{ID.upper()}/foto-01.jpg", f"/team/LK-02/postvak/{ID}/foto-01.jpg",
    f"/team/{STAFF}/{ID}/foto-01.jpg", f"/team/{STAFF}/", f"/team/{STAFF}/nieuw/index.html",
    f"/team/postvak/{ID}/foto-01.jpg", f"/team/{STAFF}/x/postvak/{ID}/foto-01.jpg"]


def test_put_of_anything_but_a_posts_files_is_refused_with_405():
    results = run_viewer_function([put(uri) for uri in ELSEWHERE])
    assert {u: outcome(r) for u, r in zip(ELSEWHERE, results, strict=True)} == dict.fromkeys(
        ELSEWHERE, 405)


def test_the_staff_postvak_is_write_only():
    uris = [BASE + "foto-01.jpg", BASE + "manifest.json", BASE, f"/team/{STAFF}/postvak/"]
    methods = ["GET", "HEAD", "DELETE", "POST", "PATCH", "OPTIONS"]
    events = [{"uri": u, "method": m, "cookies": TEACHER_COOKIE, "headers": typed(u)}
              for u in uris for m in methods]
    results = run_viewer_function(events)
    assert [outcome(r) for r in results] == [405] * len(events)
    for result in results:  # no CORS answer: no other site's script may write
        assert result["result"]["headers"]["allow"] == {"value": "PUT"}
        assert not any(h.startswith("access-control-") for h in result["result"]["headers"])


def test_at_most_8_mib_a_file_and_only_the_staff_members_own_login():
    uri = BASE + "foto-01.jpg"
    stored = team_stored_uri(STAFF, TEACHER, ID, "foto-01.jpg")
    two = {"CloudFront-Policy": {**TEACHER_COOKIE["CloudFront-Policy"], "multiValue": [
        TEACHER_COOKIE["CloudFront-Policy"], cookie("/", DIRECTIE)["CloudFront-Policy"]]}}
    cases = {
        "exactly 8 MiB": (TEACHER_COOKIE, str(MAX_FILE), stored),
        "one byte more": (TEACHER_COOKIE, str(MAX_FILE + 1), 413),
        "50 MB": (TEACHER_COOKIE, str(50 * 10**6), 413),
        "empty": (TEACHER_COOKIE, "0", 400),
        "no length": (TEACHER_COOKIE, None, 411),
        "a parent": (cookie(f"/gezin/{FAMILY}/", PARENT), "100", 403),
        "a colleague": (cookie(f"/team/{COLLEAGUE}/", TEACHER), "100", 403),
        "the group page's cookie": (cookie("/groep/groep-3/", TEACHER), "100", 403),
        "the school page's cookie": (cookie("/school/", TEACHER), "100", 403),
        "a longer prefix": (cookie(f"/team/{STAFF}/postvak/", TEACHER), "100", 403),
        "no login": ({}, "100", 403),
        "two logins on one device": (two, "100", 400),
        "a revoked link": (cookie(f"/team/{STAFF}/", REVOKED), "100", 403),
    }
    kind = {"content-type": {"value": "image/jpeg"}}
    events = [put(uri, cookies=c, headers=kind if n is None else {**kind,
                                                                  "content-length": {"value": n}})
              for c, n, _ in cases.values()]
    results = run_viewer_function(events, revoked=[REVOKED])
    assert {name: outcome(r) for name, r in zip(cases, results, strict=True)} == {
        name: want for name, (_, _, want) in cases.items()}
    assert "8 MB" in results[1]["result"]["body"]["data"]


names = st.one_of(st.sampled_from(["manifest.json", "foto-01.jpg", "foto-09.jpg", "foto-10.jpg",
                                   "foto-29.jpg", "foto-30.jpg", "foto-31.jpg", "foto-40.jpg"]),
                  st.builds("foto-{:02d}.jpg".format, st.integers(0, 99)),
                  st.text(alphabet="fotmanies-0123.jpgJSON", max_size=14))


@settings(max_examples=10, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.just(STAFF), st.text("lk-0123_A", min_size=1, max_size=6)),
                          st.one_of(st.builds(lambda: str(uuid.uuid4())), st.uuids().map(str)),
                          names), min_size=1, max_size=40))
def test_the_function_takes_exactly_what_the_staff_postvak_calls_a_file(files):
    """Staff id, submission id and file name as the roster and postvak.team define them."""
    uris = [f"/team/{staff}/postvak/{ident}/{name}" for staff, ident, name in files]
    results = run_viewer_function([put(uri) for uri in uris])
    for (staff, ident, name), uri, result in zip(files, uris, results, strict=True):
        valid = bool(ID_RE.match(staff) and UUID4_RE.match(ident) and FILE_RE.match(name))
        got = outcome(result)
        if valid and staff != STAFF:
            assert got == 403, uri  # a well-formed postvak, but not the cookie's
        elif valid:
            assert got == team_stored_uri(staff, TEACHER, ident, name), uri
        else:
            assert got in (400, 405), uri


def test_the_functions_staff_limit_is_the_projects():
    source = VIEWER_REQUEST_JS.read_text(encoding="utf-8")
    assert f"const TEAM_MAX_BODY = {MAX_FILE};" in source
    # CloudFront Functions: at most 10 KB of code, as deployed (whole-line comments left out)
    assert len(viewer_request_code().encode()) <= 10 * 1024


# --- through the distribution into moto's S3, and collected --------------------------------------

@pytest.fixture
def school(tmp_path, bucket, moto, roster, section_map):
    """Settings, everyone's links (registered), a private roster copy, and the edge."""
    cf = cf_settings(tmp_path, SCHOOLPLEIN_S3_BUCKET=bucket, AWS_ENDPOINT_URL=moto.url,
                     AWS_REGION=REGION)
    registry = LinkRegistry.load(cf.private_dir)
    links = login_links(roster, section_map, cf, load_private_key(cf.private_key_file), registry)
    registry.save()
    shutil.copytree(ROOT / "roster", tmp_path / "roster")
    shutil.copytree(ROOT / "content", tmp_path / "content")
    s3 = moto.client(log=False)
    public = load_private_key(cf.private_key_file).public_key()
    edge = Edge(s3, bucket, cf.domain, {cf.key_pair_id: public})
    return cf, links, s3, edge, tmp_path


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.effect_noise((1200, 900), 60).convert("RGB").save(out, "JPEG", quality=80)
    return out.getvalue()


def cookie_header(link, prefix: str) -> str:
    (sets,) = [s for s in link.cookie_sets if s.prefix == prefix]
    return "; ".join(f"{k}={v}" for k, v in sets.cookies.items())


def send(edge: Edge, link, prefix: str, uri: str, body: bytes) -> int:
    kind = "application/json" if uri.endswith(".json") else "image/jpeg"  # as team.js sends
    return edge.handle("PUT", uri, {"Cookie": cookie_header(link, prefix), "Content-Type": kind,
                                    "Content-Length": str(len(body))}, body).status


def spool(s3, bucket: str) -> list[str]:
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])
                  if o["Key"].startswith(".postvak/"))


def test_a_post_through_the_distribution_is_collected_as_the_teachers_and_becomes_a_post(
        school, roster, bucket):
    cf, links, s3, edge, tmp = school
    teacher, home = links[STAFF], f"/team/{STAFF}/"
    photo = jpeg()
    ident = str(uuid.uuid4())
    manifest = json.dumps({"v": 1, "soort": "bericht", "sectie": "group:groep-3",
                           "titel": "Op het plein", "tekst": "Buiten spelen.",
                           "fotos": [{"bestand": "foto-01.jpg",
                                      "sha256": hashlib.sha256(photo).hexdigest(),
                                      "kinderen": ["sem-bakker", "zoe-devries",
                                                   "jayden-koster"]}]}).encode()
    assert send(edge, teacher, home, f"/team/{STAFF}/postvak/{ident}/foto-01.jpg", photo) == 200
    # a retry of the same file: S3 refuses the existing name, nothing is overwritten
    assert send(edge, teacher, home, f"/team/{STAFF}/postvak/{ident}/foto-01.jpg", b"x") == 412
    assert send(edge, teacher, home, f"/team/{STAFF}/postvak/{ident}/manifest.json",
                manifest) == 200
    # a colleague cannot write into it, a parent neither; GET reads nothing back
    colleague = links[COLLEAGUE]
    assert send(edge, colleague, f"/team/{COLLEAGUE}/",
                f"/team/{STAFF}/postvak/{ident}/foto-02.jpg", photo) == 403
    parent = links["ouder-001"]
    assert send(edge, parent, f"/gezin/{FAMILY}/",
                f"/team/{STAFF}/postvak/{ident}/foto-02.jpg", photo) == 403
    got = edge.handle("GET", f"/team/{STAFF}/postvak/{ident}/foto-01.jpg",
                      {"Cookie": cookie_header(teacher, home)})
    assert got.status == 405 and photo not in got.body
    # a parent's submission waits beside it, under the parents' part of the spool
    parent_id = str(uuid.uuid4())
    assert send(edge, parent, f"/gezin/{FAMILY}/", f"/gezin/{FAMILY}/postvak/{parent_id}.json",
                b'{"v": 1, "soort": "afwezigheid", "kind": "zoe-devries", "reden": "ziek"}') == 200
    assert spool(s3, bucket) == sorted([
        f".postvak/gezin/{FAMILY}/postvak/{parent.expires}/{parent_id}.json",
        f"{TEAM_SPOOL}{STAFF}/postvak/{teacher.expires}/{ident}/foto-01.jpg",
        f"{TEAM_SPOOL}{STAFF}/postvak/{teacher.expires}/{ident}/manifest.json"])

    private = cf.private_dir
    received = []

    def keep(file):
        received.append(file)
        intake_file(file, private)

    assert collect_postvak(cf, keep, roster, s3=s3, team=True) == 2
    assert {(f.submission, f.name, f.sender) for f in received} == {
        (ident, "foto-01.jpg", roster.staff[STAFF].email),
        (ident, "manifest.json", roster.staff[STAFF].email)}
    assert next(f for f in received if f.name == "foto-01.jpg").body == photo  # not the retry
    assert spool(s3, bucket) == [f".postvak/gezin/{FAMILY}/postvak/{parent.expires}/"
                                 f"{parent_id}.json"]  # the parents' collect takes that one
    assert collect_postvak(cf, lambda r: intake(r, private), roster, s3=s3) == 1
    assert [r.id for r in inbox(private)] == [parent_id] and spool(s3, bucket) == []

    pv = PostvakSettings(private, tmp / "roster", "https://" + DOMAIN_EXAMPLE,
                         "Schoolplein <noreply@kcdematrix.example.nl>")
    summary = process_team(TeamSettings(pv, tmp / "content", git=False))
    assert summary.applied == [ident], summary.text()
    (post,) = (tmp / "content/groep/groep-3").glob("*-op-het-plein")
    assert (post / "foto-01.jpg").read_bytes() == photo
    assert f"Author: {roster.staff[STAFF].name}" in (post / "index.md").read_text()


def test_what_did_not_come_through_the_site_is_set_aside(school, roster, bucket):
    """A second nobody was issued, a name the function never writes, a body over 8 MiB
    (only a writer bypassing CloudFront can leave those): collected, never posted."""
    cf, links, s3, edge, tmp = school
    ident = str(uuid.uuid4())
    stray = f"{TEAM_SPOOL}{STAFF}/postvak/1234567890/{ident}/manifest.json"
    s3.put_object(Bucket=bucket, Key=stray, Body=b'{"v": 1}')
    odd = f"{TEAM_SPOOL}{STAFF}/elders/{ident}.bin"
    s3.put_object(Bucket=bucket, Key=odd, Body=b"x")
    big = f"{TEAM_SPOOL}{STAFF}/postvak/{links[STAFF].expires}/{uuid.uuid4()}/foto-01.jpg"
    s3.put_object(Bucket=bucket, Key=big, Body=b"\xff" * (MAX_FILE + 100))
    received = []

    def keep(file):
        received.append(file)
        intake_file(file, cf.private_dir)

    assert collect_postvak(cf, keep, roster, s3=s3, team=True) == 3
    assert spool(s3, bucket) == []
    by_key = {f.origin.removeprefix(f"s3://{bucket}/"): f for f in received}
    assert "onbekende inloglink" in by_key[stray].sender
    assert by_key[odd].sender.startswith("onbekend: niet via de site")
    assert len(by_key[big].body) == MAX_FILE + 1  # read one byte past the limit, no more
    pv = PostvakSettings(cf.private_dir, tmp / "roster", "https://" + DOMAIN_EXAMPLE,
                         "Schoolplein <noreply@kcdematrix.example.nl>")
    summary = process_team(TeamSettings(pv, tmp / "content", git=False))
    assert summary.applied == []
    quarantined = list((cf.private_dir / "postvak/team/quarantaine").glob("*.json"))
    assert len(quarantined) == 3  # each with its reason, for the admin


def test_a_staff_file_of_another_type_is_refused_before_it_is_stored():
    """Only what the editor sends is taken: no form or script can post HTML or a script as a
    photo into the staff postvak (415), and a manifest must be JSON."""
    cases = [(BASE + "foto-01.jpg", "text/html"), (BASE + "foto-01.jpg", "application/json"),
             (BASE + "manifest.json", "image/jpeg"), (BASE + "manifest.json", "text/plain"),
             (BASE + "foto-01.jpg", "")]
    events = [put(uri, headers={**LENGTH, **({"content-type": {"value": kind}} if kind else {})})
              for uri, kind in cases]
    assert [outcome(r) for r in run_viewer_function(events)] == [415] * len(cases)
