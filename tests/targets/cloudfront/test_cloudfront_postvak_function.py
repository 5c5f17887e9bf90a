"""The viewer function's write path, run by node: the postvak takes PUTs and nothing else.

A PUT of /gezin/<id>/postvak/<uuid4>.json with the sender's login cookie is
stored under the sender's own expiry second; every other method or address is
refused before anything reaches S3, and the site itself stays read-only.
"""

from __future__ import annotations

import re
import uuid

from cf_helpers import run_viewer_function
from hypothesis import given, settings
from hypothesis import strategies as st

from plugins.roster import FAMILY_ID_RE
from postvak.messages import MAX_BODY, UUID4_RE
from publish.targets.cloudfront.objects import SPOOL
from publish.targets.cloudfront.provision import VIEWER_REQUEST_JS, viewer_request_code
from publish.targets.cloudfront.signing import cf_b64encode, custom_policy
from publish.targets.cloudfront.submissions import spool_key, stored_uri

DOMAIN = "ouders.kcdematrix.example.nl"
FAMILY = "68amruh9btpfys3dk9wr"
OTHER = "53b6w76x3k6x62bawk82"
PARENT, DIRECTIE, REVOKED = 1817071199, 1817071198, 1817071187
ID = "0f8fad5b-d9cb-469f-a165-70867728950e"
POSTVAK = f"/gezin/{FAMILY}/postvak/"
JSON = {"content-type": {"value": "application/json"}}  # what postvak.js sends
BODY = {"content-length": {"value": "120"}, **JSON}


def cookie(prefix: str, expires: int) -> dict:
    return {"CloudFront-Policy": {"value": cf_b64encode(custom_policy(DOMAIN, prefix, expires)
                                                         .encode())}}


PARENT_COOKIE = cookie(f"/gezin/{FAMILY}/", PARENT)


def put(uri: str, cookies=PARENT_COOKIE, headers=None, **more) -> dict:
    return {"uri": uri, "method": "PUT", "cookies": cookies,
            "headers": BODY if headers is None else headers, **more}


def outcome(result: dict) -> int | str:
    """The response's status code, or the URI CloudFront would send to S3."""
    answer = result["result"]
    return answer["statusCode"] if "statusCode" in answer else answer["uri"]


def test_a_parents_put_is_stored_under_their_own_expiry_second():
    directie = cookie("/", DIRECTIE)
    results = run_viewer_function([
        put(POSTVAK + ID + ".json"),
        put(POSTVAK + ID + ".json", cookies=directie),
        put(POSTVAK + ID + ".json", headers={"content-length": {"value": str(MAX_BODY)},
                                             "if-none-match": {"value": '"abc"'}, **JSON}),
        put(POSTVAK + ID + ".json", querystring={"acl": {"value": ""}}),  # S3's ?acl: refused
    ])
    assert [outcome(r) for r in results] == [stored_uri(FAMILY, PARENT, ID),
                                             stored_uri(FAMILY, DIRECTIE, ID),
                                             stored_uri(FAMILY, PARENT, ID), 403]
    for result in results[:3]:
        request = result["result"]
        assert request["method"] == "PUT" and request["querystring"] == {}
        # Only a new name: S3 refuses to overwrite (and the bucket policy demands it).
        assert request["headers"]["if-none-match"] == {"value": "*"}
    assert results[0]["lookups"] == [str(PARENT)]  # the revocation list is asked first


PUT_ELSEWHERE = [
    f"/gezin/{FAMILY}/", f"/gezin/{FAMILY}/index.html", "/school/x.json", "/", "/login/",
    f"/gezin/{FAMILY}/{ID}.json", f"/gezin/{FAMILY}/fotos/{ID}.json",
    POSTVAK, POSTVAK + "index.html", POSTVAK + "bericht.json", POSTVAK + ID.upper() + ".json",
    POSTVAK + ID.replace("-469f-", "-169f-") + ".json",  # a UUID1: not crypto.randomUUID()
    POSTVAK + ID.replace("-a165-", "-c165-") + ".json",  # wrong variant
    POSTVAK + ID + ".JSON", POSTVAK + ID + ".json/", POSTVAK + ID + ".json/x",
    POSTVAK + ID + ".jsonx", POSTVAK + ID, POSTVAK + "sub/" + ID + ".json",
    POSTVAK + ID + ".json;x", POSTVAK + ID[:-1] + ".json", POSTVAK + "x" + ID + ".json",
    f"/gezin/{FAMILY}/Postvak/{ID}.json", f"/gezin/{FAMILY}/postvakje/{ID}.json",
    f"/gezin/kort/postvak/{ID}.json", f"/gezin/{FAMILY.upper()}/postvak/{ID}.json",
    f"/groep/groep-3/postvak/{ID}.json", f"/school/postvak/{ID}.json", f"/postvak/{ID}.json",
    f"/gezin/{FAMILY}/x/postvak/{ID}.json", f"/gezin/{FAMILY}/postv%C3%A1k/{ID}.json",
]


def test_put_anywhere_else_is_refused_with_405():
    results = run_viewer_function([put(uri) for uri in PUT_ELSEWHERE])
    assert {uri: outcome(r) for uri, r in zip(PUT_ELSEWHERE, results, strict=True)} == dict.fromkeys(
        PUT_ELSEWHERE, 405)
    assert all(r["lookups"] == [] for r in results)  # refused before anything else


def test_the_postvak_is_write_only_and_the_site_read_only():
    postvak = [POSTVAK + ID + ".json", POSTVAK, POSTVAK[:-1], POSTVAK + "x"]
    methods = ["GET", "HEAD", "DELETE", "POST", "PATCH", "OPTIONS"]
    events = [{"uri": uri, "method": m, "cookies": PARENT_COOKIE, "headers": BODY}
              for uri in postvak for m in methods]
    pages = [f"/gezin/{FAMILY}/", "/school/", "/", "/login/login.js"]
    events += [{"uri": uri, "method": m, "cookies": PARENT_COOKIE, "headers": BODY}
               for uri in pages for m in methods[2:]]
    results = run_viewer_function(events)
    assert [outcome(r) for r in results] == [405] * len(events)
    allow = [r["result"]["headers"]["allow"]["value"] for r in results]
    assert allow == ["PUT"] * (len(postvak) * len(methods)) + ["GET, HEAD"] * (len(pages) * 4)
    for result in results:  # no CORS answer, so no other site may send anything
        assert not any(h.startswith("access-control-") for h in result["result"]["headers"])


ENCODED = [
    f"/gezin/{FAMILY}/postvak/%2e%2e/{ID}.json", f"/gezin/{FAMILY}%2Fpostvak/{ID}.json",
    f"/gezin/{FAMILY}/postvak%2F{ID}.json", f"/gezin/{FAMILY}/postvak/{ID}%2ejson",
    f"/gezin/{FAMILY}/postvak/{ID}.json%00", f"/gezin/{FAMILY}/postvak//{ID}.json",
    f"/gezin/{FAMILY}/postvak/../postvak/{ID}.json", f"/gezin/{FAMILY}/postvak/./{ID}.json",
    f"/gezin/{FAMILY}/postvak/%252e/{ID}.json", f"/gezin/{FAMILY}/postvak\\{ID}.json",
    f"/gezin/{FAMILY}/postvak/.{ID}.json", "/" + spool_key(FAMILY, PARENT, ID),
    f"/{SPOOL}", f"/gezin/{FAMILY}/postvak/{ID}.json\t",
]


def test_encoded_tricks_and_the_spool_itself_are_refused_with_400():
    events = [put(uri) for uri in ENCODED] + [{"uri": uri} for uri in ENCODED[-3:]]
    assert [outcome(r) for r in run_viewer_function(events)] == [400] * len(events)


def test_the_body_must_announce_a_length_of_at_most_16_kib():
    uri = POSTVAK + ID + ".json"
    cases = {
        "missing": ({}, 411),
        "chunked": ({"transfer-encoding": {"value": "chunked"}}, 411),
        "chunked with a length": ({"transfer-encoding": {"value": "chunked"},
                                   "content-length": {"value": "10"}}, 411),
        "one byte too many": ({"content-length": {"value": str(MAX_BODY + 1)}}, 413),
        "a megabyte": ({"content-length": {"value": "1048576"}}, 413),
        "empty": ({"content-length": {"value": "0"}}, 400),
        "not a number": ({"content-length": {"value": "12a"}}, 400),
        "negative": ({"content-length": {"value": "-1"}}, 400),
        "two lengths": ({"content-length": {"value": "10, 10"}}, 400),
        "exactly 16 KiB": ({"content-length": {"value": str(MAX_BODY)}},
                           stored_uri(FAMILY, PARENT, ID)),
        "one byte": ({"content-length": {"value": "1"}}, stored_uri(FAMILY, PARENT, ID)),
    }
    results = run_viewer_function([put(uri, headers={**h, **JSON}) for h, _ in cases.values()])
    assert {name: outcome(r) for name, r in zip(cases, results, strict=True)} == {
        name: want for name, (_, want) in cases.items()}


def test_a_body_that_is_not_json_is_refused_with_415():
    """No browser form can post into the postvak: it sends a form's types, never JSON."""
    uri = POSTVAK + ID + ".json"
    length = {"content-length": {"value": "120"}}
    cases = {
        "application/json": ("application/json", stored_uri(FAMILY, PARENT, ID)),
        "with charset": ("application/json; charset=utf-8", stored_uri(FAMILY, PARENT, ID)),
        "in capitals": ("Application/JSON;Charset=\"UTF-8\"", stored_uri(FAMILY, PARENT, ID)),
        "missing": (None, 415),
        "a form": ("application/x-www-form-urlencoded", 415),
        "a file upload": ("multipart/form-data; boundary=x", 415),
        "text": ("text/plain", 415),
        "text/plain saying json": ("text/plain; x=application/json", 415),
        "json-like": ("application/jsonp", 415),
        "another charset": ("application/json; charset=latin-1", 415),
        "two parameters": ("application/json; charset=utf-8; x=1", 415),
        "empty": ("", 415),
    }
    events = [put(uri, headers={**length, **({"content-type": {"value": t}} if t is not None
                                              else {})}) for t, _ in cases.values()]
    events.append(put(uri, headers={**length, "content-type": {
        "value": "application/json", "multiValue": [{"value": "application/json"},
                                                    {"value": "text/plain"}]}}))
    results = run_viewer_function(events)
    assert {name: outcome(r) for name, r in zip(cases, results, strict=False)} == {
        name: want for name, (_, want) in cases.items()}
    assert outcome(results[-1]) == 415  # two types: which one would S3 see?
    assert "application/json" in results[3]["result"]["body"]["data"]


def test_the_sender_is_the_one_login_cookie_that_covers_this_family():
    uri = POSTVAK + ID + ".json"
    two = {"CloudFront-Policy": {"value": PARENT_COOKIE["CloudFront-Policy"]["value"],
                                 "multiValue": [PARENT_COOKIE["CloudFront-Policy"],
                                                cookie("/", DIRECTIE)["CloudFront-Policy"]]}}
    case_variant = {**PARENT_COOKIE, "cloudfront-policy": cookie("/", DIRECTIE)[
        "CloudFront-Policy"]}
    canned_looking = {"CloudFront-Policy": {"value": cf_b64encode(
        custom_policy(DOMAIN, f"/gezin/{FAMILY}/", PARENT).replace(":", ": ").encode())}}
    with_ip = {"CloudFront-Policy": {"value": cf_b64encode(custom_policy(
        DOMAIN, f"/gezin/{FAMILY}/", PARENT).replace(
        '}}}', '},"IpAddress":{"AWS:SourceIp":"192.0.2.1/32"}}}').encode())}}
    padded_junk = {"CloudFront-Policy": {"value": PARENT_COOKIE["CloudFront-Policy"]["value"]
                                         + " x"}}
    cases = {
        "none": ({}, 403),
        "two logins on one device": (two, 400),
        "a second spelling of the name": (case_variant, 400),
        "another family's page": (cookie(f"/gezin/{OTHER}/", PARENT), 403),
        "a group page": (cookie("/groep/groep-3/", PARENT), 403),
        "the school page": (cookie("/school/", PARENT), 403),
        "a longer prefix": (cookie(f"/gezin/{FAMILY}/postvak/", PARENT), 403),
        "not the school's policy shape": (canned_looking, 403),
        "an extra condition": (with_ip, 403),
        "junk after the value": (padded_junk, 403),
        "garbage": ({"CloudFront-Policy": {"value": "bm90IGEgcG9saWN5_"}}, 403),
    }
    results = run_viewer_function([put(uri, cookies=c) for c, _ in cases.values()])
    assert {name: outcome(r) for name, r in zip(cases, results, strict=True)} == {
        name: want for name, (_, want) in cases.items()}


def test_a_revoked_persons_put_is_refused_and_an_unreachable_list_fails_closed():
    uri = POSTVAK + ID + ".json"
    revoked = cookie(f"/gezin/{FAMILY}/", REVOKED)
    results = run_viewer_function([put(uri, cookies=revoked), put(uri)], revoked=[REVOKED])
    assert [outcome(r) for r in results] == [403, stored_uri(FAMILY, PARENT, ID)]
    assert "ingetrokken" in results[0]["result"]["body"]["data"]
    assert [outcome(r) for r in run_viewer_function([put(uri)], kvs_down=True)] == [503]


segment = st.text(alphabet="abcdefghjkmnpqrstuvwxyz0123456789-ABCF.%/_", min_size=0, max_size=44)


@settings(max_examples=15, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.just(FAMILY), segment),
                          st.one_of(st.builds(lambda: str(uuid.uuid4())), st.uuids().map(str),
                                    segment)), min_size=1, max_size=40))
def test_the_function_takes_exactly_what_intake_calls_a_submission(names):
    """Family and id as the roster and postvak.messages define them, nothing more."""
    uris = [f"/gezin/{family}/postvak/{ident}.json" for family, ident in names]
    results = run_viewer_function([put(uri) for uri in uris])
    for (family, ident), uri, result in zip(names, uris, results, strict=True):
        valid = bool(FAMILY_ID_RE.match(family)) and bool(UUID4_RE.match(ident))
        got = outcome(result)
        if valid and family != FAMILY:  # a well-formed postvak, but not the cookie's family
            assert got == 403, uri
        elif valid:
            assert got == stored_uri(family, PARENT, ident), uri
        else:
            assert got in (400, 405), uri
            assert not str(got).startswith("/"), uri


def test_the_functions_limits_are_the_projects():
    source = VIEWER_REQUEST_JS.read_text(encoding="utf-8")
    deployed = viewer_request_code()
    assert f"const MAX_BODY = {MAX_BODY};" in source
    family = FAMILY_ID_RE.pattern.strip("^$")
    uuid4 = UUID4_RE.pattern.removeprefix("^").removesuffix("\\Z")
    found = re.search(r"const SUBMISSION = new RegExp\('(.+?)' \+\n\s+'(.+?)'\);", source)
    assert found, "SUBMISSION not found in viewer-request.js"
    pattern = (found.group(1) + found.group(2)).replace("\\\\", "\\")
    assert pattern == rf"^/gezin/({family})/postvak/({uuid4})\.json$"
    assert len(deployed.encode()) <= 10 * 1024  # CloudFront Functions: at most 10 KB of code
