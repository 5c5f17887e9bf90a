"""The viewer-request CloudFront Function, run by node against a table of requests.

node (Debian `nodejs`, installed by scripts/bootstrap.sh) runs the function's own
file through viewer_request_harness.js: a bare JavaScript context and a fake
`cloudfront` module for the key value store (there is no local CloudFront runtime).
"""

from __future__ import annotations

import base64
import json
import random
import re
from urllib.parse import quote, unquote_to_bytes

from cf_helpers import run_viewer_function
from hypothesis import given, settings
from hypothesis import strategies as st

from plugins.sections import ROOTS
from publish.targets.cloudfront.provision import viewer_request_code
from publish.targets.cloudfront.signing import (
    COOKIE_NAMES,
    cf_b64decode,
    cf_b64encode,
    custom_policy,
)

DOMAIN = "ouders.kcdematrix.example.nl"
REVOKED = 1817071187
VALID = 1817071199


def run(events: list[dict], revoked=(), kvs_down=False) -> list[dict]:
    return run_viewer_function(events, revoked, kvs_down)


def status(result: dict) -> int | str:
    """The response's status code, or the URI CloudFront would fetch."""
    answer = result["result"]
    return answer["statusCode"] if "statusCode" in answer else answer["uri"]


def policy_cookie(prefix: str, expires: int) -> str:
    return cf_b64encode(custom_policy(DOMAIN, prefix, expires).encode())


PASSES = {
    "/": "/index.html",
    "/groep/groep-3/": "/groep/groep-3/index.html",
    "/school/2026-11-02-sinterklaas/": "/school/2026-11-02-sinterklaas/index.html",
    "/groep/groep-3/pagina/2/": "/groep/groep-3/pagina/2/index.html",
    "/theme/css/site.css": "/theme/css/site.css",
    "/groep/groep-3/fotos/0d797dae47ea355df054-1600.jpg":
        "/groep/groep-3/fotos/0d797dae47ea355df054-1600.jpg",
    "/login/login.js": "/login/login.js",
    "/school/caf%C3%A9/": "/school/caf%C3%A9/index.html",  # an ordinary encoded letter
    "/hulp": 301,
    "/groep/groep-3": 301,
}
REFUSED = [
    "/groep%2Fgroep-3/index.html", "/groep%2fgroep-3/", "/gezin%2F68amruh9btpfys3dk9wr/",
    "/school%5Cindex.html", "/school%5c", "/school\\index.html", "/groep\\groep-3/",
    "/./groep/groep-3/", "/groep/./groep-3/", "/groep/../gezin/68amruh9btpfys3dk9wr/",
    "/groep/groep-3/..", "/school/.", "/..", "/%2e%2e/gezin/", "/%2E%2E/gezin/", "/%2e/",
    "/school/.%2e/", "/groep/groep-3/..%2F..%2Fgezin/68amruh9btpfys3dk9wr/",
    "/school/index.html%00", "/school/a%00b/", "/school/\u0000/", "/school/\t/",
    "/school/%252e%252e/", "/groep%252Fgroep-3/", "/school/%", "/school/%2", "/school/%zz/",
    "//groep/groep-3/", "/groep//groep-3/", "groep/groep-3/", "",
]


def test_allowed_uris_pass_and_directories_get_their_index():
    results = run([{"uri": uri} for uri in PASSES])
    assert {uri: status(r) for uri, r in zip(PASSES, results, strict=True)} == PASSES
    redirect = results[list(PASSES).index("/hulp")]["result"]
    assert redirect["headers"]["location"]["value"] == "/hulp/"


def test_encoded_slashes_dot_segments_and_nul_are_refused_with_400():
    results = run([{"uri": uri} for uri in REFUSED])
    refused = {uri: status(r) for uri, r in zip(REFUSED, results, strict=True)}
    assert refused == dict.fromkeys(REFUSED, 400)
    body = results[0]["result"]["body"]
    assert body["encoding"] == "text" and "ongeldig" in body["data"]


def test_cookies_of_a_revoked_person_are_refused_on_protected_paths():
    revoked = {"CloudFront-Policy": {"value": policy_cookie("/groep/groep-3/", REVOKED)}}
    valid = {"CloudFront-Policy": {"value": policy_cookie("/groep/groep-3/", VALID)}}
    both = {"CloudFront-Policy": {"value": policy_cookie("/", VALID), "multiValue": [
        {"value": policy_cookie("/", VALID)},
        {"value": policy_cookie("/groep/groep-3/", REVOKED)}]}}
    lower = {"cloudfront-policy": {"value": policy_cookie("/groep/groep-3/", REVOKED)}}
    events = [
        {"uri": "/groep/groep-3/", "cookies": revoked},
        {"uri": "/groep/groep-3/fotos/0d797dae47ea355df054-1600.jpg", "cookies": revoked},
        {"uri": "/groep/groep-3/", "cookies": valid},
        {"uri": "/groep/groep-3/", "cookies": both},
        {"uri": "/groep/groep-3/", "cookies": lower},
        {"uri": "/", "cookies": revoked},  # public pages stay open
        {"uri": "/groep%2Fgroep-3/", "cookies": valid},
    ]
    results = run(events, revoked=[REVOKED])
    assert [status(r) for r in results] == [403, 403, "/groep/groep-3/index.html", 403, 403,
                                            "/index.html", 400]
    assert results[0]["lookups"] == [str(REVOKED)]
    assert results[2]["lookups"] == [str(VALID)]
    assert results[5]["lookups"] == []
    assert "ingetrokken" in results[0]["result"]["body"]["data"]
    assert results[0]["result"]["headers"]["cache-control"]["value"] == "no-store"


def test_the_expiry_is_read_from_every_shape_of_policy():
    """Any domain, prefix and expiry: base64 padding of every length is decoded right."""
    rng = random.Random(7)
    events, expected = [], []
    for n in range(60):
        domain = "x" * rng.randint(1, 30) + ".example.nl"
        prefix = rng.choice(["/", "/school/", "/groep/groep-5-6/", "/gezin/" + "a" * (16 + n % 9)
                             + "/"])
        expires = rng.randint(10**9, 2 * 10**9)
        value = cf_b64encode(custom_policy(domain, prefix, expires).encode())
        events.append({"uri": "/school/", "cookies": {"CloudFront-Policy": {"value": value}}})
        expected.append([str(expires)])
    assert [r["lookups"] for r in run(events)] == expected


def test_an_unreachable_key_value_store_fails_closed():
    valid = {"CloudFront-Policy": {"value": policy_cookie("/school/", VALID)}}
    results = run([{"uri": "/school/", "cookies": valid}, {"uri": "/", "cookies": valid}],
                  kvs_down=True)
    assert [status(r) for r in results] == [503, "/index.html"]


def test_the_protected_roots_are_the_section_maps(monkeypatch):
    """The function protects the section map's roots (plugins.sections.ROOTS): a new protected
    section (the team section's /team/) needs no edit of the function."""
    found = re.search(r"^const PROTECTED_ROOTS = (\[.*\]);$", viewer_request_code(), re.M)
    assert found and set(json.loads(found.group(1).replace("'", '"'))) == set(ROOTS.values())
    junk = {"CloudFront-Policy": {"value": "bm90IGEgcG9saWN5_"}}
    events = [{"uri": "/team/", "cookies": junk},
              {"uri": "/team/", "querystring": {"a": {"value": "1"}}}]
    assert [status(r) for r in run(events)] == [403, 403]
    monkeypatch.delitem(ROOTS, "team")  # a root the map does not hold is public
    assert [status(r) for r in run(events)] == ["/team/index.html"] * 2


# --- Signed URLs: CloudFront takes them instead of the cookies ("Signed URLs take precedence
# over signed cookies"; a URL with Expires, Policy, Signature, Key-Pair-Id or Hash-Algorithm
# is a signed URL to CloudFront, AWS CloudFront Developer Guide, "Decide to use signed URLs or
# signed cookies"). The function cannot look a signed URL up, so it refuses every one.

SIGNED_URL_NAMES = ("Expires", "Policy", "Signature", "Key-Pair-Id", "Hash-Algorithm")


def letter_query(prefix: str, expires: int) -> dict:
    """The signed URL a person builds from the cookie set in their letter."""
    return {"Policy": {"value": policy_cookie(prefix, expires)},
            "Signature": {"value": "a" * 94 + "__"}, "Key-Pair-Id": {"value": "K2TEST"}}


def test_a_signed_url_is_refused_in_every_spelling_and_on_every_path():
    spellings = [
        "Policy", "policy", "POLICY", "%50olicy", "Pol%69cy", "%2550olicy", "Key-Pair-Id",
        "key-pair-id", "Key%2DPair%2DId", "Key_Pair_Id", "Signature", "signaturE", "Expires",
        "Hash-Algorithm", "hash-algorithm", "Policy%", "Pol%69cy%", " Policy", "Policy+",
    ]
    events = [{"uri": "/school/", "querystring": letter_query("/school/", REVOKED)},
              {"uri": "/school/", "querystring": letter_query("/school/", VALID)},
              {"uri": "/school/", "querystring": {"Expires": {"value": str(REVOKED)},
                                                  "Signature": {"value": "x"}}}]
    events += [{"uri": uri, "querystring": {name: {"value": "x"}}}
               for name in spellings for uri in ("/groep/groep-3/", "/", "/login/")]
    results = run(events, revoked=[REVOKED])
    assert [status(r) for r in results] == [403] * len(events)
    assert all(r["lookups"] == [] for r in results)
    assert "vraagteken" in results[0]["result"]["body"]["data"]


def test_a_protected_page_takes_no_query_string_and_a_public_page_an_innocent_one():
    valid = {"CloudFront-Policy": {"value": policy_cookie("/school/", VALID)}}
    events = [{"uri": "/school/", "cookies": valid, "querystring": {"page": {"value": "2"}}},
              {"uri": "/gezin/68amruh9btpfys3dk9wr/", "querystring": {"x": {"value": ""}}},
              {"uri": "/", "querystring": {"utm_source": {"value": "brief"}}},
              {"uri": "/school/", "cookies": valid}]
    assert [status(r) for r in run(events)] == [403, 403, "/index.html",
                                                "/school/index.html"]


# --- Login cookies the function cannot read: fail closed.

def standard_base64_policy(prefix: str, expires: int) -> str:
    """The policy in standard base64 ('+', '/', '='), padded so that it differs."""
    for n in range(1, 4):
        policy = custom_policy("x" * n + DOMAIN, prefix, expires).encode()
        text = base64.b64encode(policy).decode()
        if "=" in text:
            return text
    raise AssertionError("no padded policy")


def unreadable_cookies(prefix: str, expires: int) -> dict[str, dict]:
    good = policy_cookie(prefix, expires)
    return {
        "standard base64": {"CloudFront-Policy": {"value": standard_base64_policy(prefix,
                                                                                  expires)}},
        "percent-encoded": {"CloudFront-Policy": {"value": quote(
            standard_base64_policy(prefix, expires), safe="")}},
        "percent-encoded letters": {"CloudFront-Policy": {"value": "%65" + good[1:]}},
        "truncated": {"CloudFront-Policy": {"value": good[:-8]}},
        "truncated to a whole group": {"CloudFront-Policy": {"value": good[:len(good) // 8 * 4]}},
        "quoted": {"CloudFront-Policy": {"value": f'"{good}"'}},
        "junk": {"CloudFront-Policy": {"value": "bm90IGEgcG9saWN5_"}},
        "empty": {"CloudFront-Policy": {"value": ""}},
        "another shape": {"CloudFront-Policy": {"value": cf_b64encode(json.dumps(
            json.loads(custom_policy(DOMAIN, prefix, expires))).encode())}},
        "duplicated, one junk": {"CloudFront-Policy": {"value": good, "multiValue": [
            {"value": good}, {"value": good[:-4]}]}},
        "encoded name": {"CloudFront%2DPolicy": {"value": good}},
        "name with a space": {"CloudFront-Policy ": {"value": good}},
        "underscored name": {"CloudFront_Policy": {"value": good}},
        "canned policy": {"CloudFront-Expires": {"value": str(expires)}},
        "hash algorithm": {"CloudFront-Policy": {"value": good},
                           "CloudFront-Hash-Algorithm": {"value": "SHA256"}},
        "signature with '+'": {"CloudFront-Policy": {"value": good},
                               "CloudFront-Signature": {"value": "ab+c" * 24}},
        "key pair id in lower case": {"CloudFront-Policy": {"value": good},
                                      "CloudFront-Key-Pair-Id": {"value": "k2test"}},
    }


def test_a_login_cookie_the_function_cannot_read_is_refused():
    """Revoked or not: a credential that is not verified against the list never passes."""
    cases = {**{f"revoked, {k}": v for k, v in unreadable_cookies("/school/", REVOKED).items()},
             **{f"valid, {k}": v for k, v in unreadable_cookies("/school/", VALID).items()}}
    events = [{"uri": "/school/", "cookies": c} for c in cases.values()]
    events += [{"uri": "/", "cookies": c} for c in cases.values()]  # public: cookies unused
    results = run(events, revoked=[REVOKED])
    got = {name: status(r) for name, r in zip(cases, results, strict=False)}
    assert got == dict.fromkeys(cases, 403)
    assert [status(r) for r in results[len(cases):]] == ["/index.html"] * len(cases)
    assert "onleesbaar" in results[0]["result"]["body"]["data"]


def test_the_cookies_the_school_writes_pass():
    """The full set as login.js writes it, for every section kind, with other cookies beside."""
    events = []
    for prefix in ("/", "/school/", "/groep/groep-5-6/", "/gezin/68amruh9btpfys3dk9wr/"):
        cookies = {"CloudFront-Policy": {"value": policy_cookie(prefix, VALID)},
                   "CloudFront-Signature": {"value": "Ab-~" * 24 + "__"},
                   "CloudFront-Key-Pair-Id": {"value": "K2JCJMDEHXQW5F"},
                   "theme": {"value": "dark"}}
        uri = "/school/" if prefix == "/" else prefix
        events.append({"uri": uri, "cookies": cookies})
    results = run(events)
    assert [status(r) for r in results] == [e["uri"] + "index.html" for e in events]
    assert [r["lookups"] for r in results] == [[str(VALID)]] * len(events)


# --- The property: whatever the query string and the cookies, a request that passes carries
# no credential the function did not look up in the revocation list.

def spellings(name: str) -> set[str]:
    """Every reading of a name a lenient parser might make: each percent-decoding, any case,
    punctuation dropped (independent of the function's own code)."""
    found, text = set(), name
    for _ in range(4):
        found.add(re.sub(r"[^a-z0-9]", "", text.lower()))
        text = unquote_to_bytes(text.replace("+", " ")).decode("latin-1")
    return found


def school_policy(value: str) -> int | None:
    """The expiry of a CloudFront-Policy value in exactly the school's shape, else None."""
    try:
        if not re.fullmatch(r"[A-Za-z0-9~-]+_{0,2}", value) or len(value) % 4:
            return None
        text = cf_b64decode(value).decode("ascii")
        policy = json.loads(text)
        (statement,) = policy["Statement"]
        resource = statement["Resource"]
        expires = statement["Condition"]["DateLessThan"]["AWS:EpochTime"]
        domain, prefix = re.fullmatch(r"https://([A-Za-z0-9.-]+)(/(?:[a-z0-9-]+/)*)\*",
                                      resource).groups()
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return expires if text == custom_policy(domain, prefix, expires) else None


def name_variant(name: str):
    return st.sampled_from([name, name.lower(), name.upper(), quote(name, safe=""),
                            name.replace("-", "%2D"), name.replace("o", "%6F", 1),
                            name.replace("-", "_"), name + " ", "%25" + name.encode().hex()[:2]
                            + name[1:], name[:1] + "%" + name[1:]])


def value_variant(expires: int):
    good = policy_cookie("/school/", expires)
    return st.sampled_from([
        good, good[:-4], good[:-1], good + "_", "=" + good, quote(good, safe=""),
        good.replace("-", "+").replace("~", "/").replace("_", "="),
        standard_base64_policy("/school/", expires), f'"{good}"', "", "x",
        cf_b64encode(custom_policy(DOMAIN, "/school/", expires).replace(",", ", ").encode()),
        str(expires), "K2TEST", "Ab-~" * 24 + "__",
        policy_cookie("/gezin/68amruh9btpfys3dk9wr/", expires), policy_cookie("/", expires)])


cookie_names = st.one_of(
    st.sampled_from(COOKIE_NAMES + ("CloudFront-Expires", "CloudFront-Hash-Algorithm"))
    .flatmap(name_variant), st.sampled_from(["theme", "lang", "cloudfrontish", "_ga"]))
query_names = st.one_of(st.sampled_from(SIGNED_URL_NAMES).flatmap(name_variant),
                        st.text("abcpqsxyz-_%+2", min_size=1, max_size=8))
expiries = st.sampled_from([REVOKED, VALID])
cookie_values = expiries.flatmap(value_variant)


def one_value(values):
    return {"value": values[0], **({"multiValue": [{"value": v} for v in values]}
                                   if len(values) > 1 else {})}


POSTVAK_PUT = {"uri": "/gezin/68amruh9btpfys3dk9wr/postvak/0f8fad5b-d9cb-469f-a165-70867728950e"
               ".json", "method": "PUT", "headers": {"content-length": {"value": "12"},
                                                     "content-type": {"value": "application/json"}}}
requests = st.fixed_dictionaries({
    "uri": st.sampled_from(["/school/", "/groep/groep-3/", "/gezin/68amruh9btpfys3dk9wr/",
                            "/", "/hulp/", "/login/", POSTVAK_PUT["uri"]]),
    "querystring": st.one_of(st.just({}), st.dictionaries(
        query_names, st.text(max_size=5).map(lambda v: {"value": v}), max_size=2)),
    "cookies": st.one_of(
        st.dictionaries(cookie_names, st.lists(cookie_values, min_size=1, max_size=2)
                        .map(one_value), max_size=3),
        st.tuples(st.sampled_from(["/", "/gezin/68amruh9btpfys3dk9wr/"]), expiries).map(
            lambda p: {"CloudFront-Policy": {"value": policy_cookie(*p)}})),  # a clean login
})


@settings(max_examples=20, deadline=None)
@given(st.lists(requests, min_size=1, max_size=30))
def test_no_request_passes_with_a_credential_the_function_did_not_verify(events):
    """GET anywhere, or a parent's PUT into the postvak (whose sender is the policy's second)."""
    events = [{**e, **{k: v for k, v in POSTVAK_PUT.items() if k != "uri"}}
              if e["uri"] == POSTVAK_PUT["uri"] else e for e in events]
    results = run(events, revoked=[REVOKED])
    for event, result in zip(events, results, strict=True):
        if "statusCode" in result["result"]:
            continue  # refused (or redirected): nothing reaches S3
        signed_url = {n for n in event["querystring"] if spellings(n) & {
            re.sub(r"[^a-z0-9]", "", n.lower()) for n in SIGNED_URL_NAMES}}
        assert not signed_url, (event, "passed with a signed URL")
        if not any(event["uri"].startswith(root) for root in ROOTS.values()):
            continue  # the default behaviour checks no credential at all
        assert not event["querystring"], event
        for name, cookie in event["cookies"].items():
            if not any(s.startswith("cloudfront") for s in spellings(name)):
                continue
            assert name.lower() in {n.lower() for n in COOKIE_NAMES}, (event, name)
            for value in [c["value"] for c in cookie.get("multiValue", [cookie])]:
                if name.lower() != "cloudfront-policy":
                    continue
                expires = school_policy(value)
                assert expires is not None, (event, value, "unread policy passed")
                assert str(expires) in result["lookups"] and expires != REVOKED, event
