"""The viewer-request CloudFront Function, run by node against a table of requests.

node (Debian `nodejs`, installed by scripts/bootstrap.sh) runs the function's own
file through viewer_request_harness.js: a bare JavaScript context and a fake
`cloudfront` module for the key value store (there is no local CloudFront runtime).
"""

from __future__ import annotations

import random
import re

from cf_helpers import run_viewer_function

from publish.targets.cloudfront.provision import VIEWER_REQUEST_JS
from publish.targets.cloudfront.signing import cf_b64encode, custom_policy

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
    garbage = {"CloudFront-Policy": {"value": "bm90IGEgcG9saWN5_"}}
    events = [
        {"uri": "/groep/groep-3/", "cookies": revoked},
        {"uri": "/groep/groep-3/fotos/0d797dae47ea355df054-1600.jpg", "cookies": revoked},
        {"uri": "/groep/groep-3/", "cookies": valid},
        {"uri": "/groep/groep-3/", "cookies": both},
        {"uri": "/groep/groep-3/", "cookies": lower},
        {"uri": "/", "cookies": revoked},  # public pages stay open
        {"uri": "/groep/groep-3/", "cookies": garbage},  # CloudFront refuses it itself
        {"uri": "/groep%2Fgroep-3/", "cookies": valid},
    ]
    results = run(events, revoked=[REVOKED])
    assert [status(r) for r in results] == [403, 403, "/groep/groep-3/index.html", 403, 403,
                                            "/index.html", "/groep/groep-3/index.html", 400]
    assert results[0]["lookups"] == [str(REVOKED)]
    assert results[2]["lookups"] == [str(VALID)]
    assert results[5]["lookups"] == [] and results[6]["lookups"] == []
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


def test_the_protected_roots_are_the_section_roots():
    from plugins.sections import ROOTS

    source = VIEWER_REQUEST_JS.read_text(encoding="utf-8")
    found = re.search(r"const PROTECTED = /\^\\/\(([a-z|]+)\)\\//;", source)
    assert found, "PROTECTED not found in viewer-request.js"
    assert {f"/{root}/" for root in found.group(1).split("|")} == set(ROOTS.values())
