"""The static CloudFront files restate two single sources; these tests keep them equal.

- response headers: publish/security_headers.py (HEADERS, HSTS);
- protected URL roots: plugins/sections.py (ROOTS), restated by the CloudFormation
  cache behaviours and by login.js's PREFIX check.
"""

from __future__ import annotations

import re

import pytest
from cf_helpers import load_template

from plugins.public_pages import PUBLIC as TEMPLATES
from plugins.sections import ROOTS
from publish import headers as security_headers
from publish.targets.cloudfront.provision import TEMPLATE
from publish.targets.cloudfront.submissions import POSTVAK_PATH, TEAM_POSTVAK_PATH


@pytest.fixture(scope="module")
def template():
    return load_template(TEMPLATE)


def policy_headers(config: dict) -> tuple[dict[str, str], str]:
    """(headers without HSTS, HSTS value) that a ResponseHeadersPolicyConfig sends."""
    security = config["SecurityHeadersConfig"]
    assert all(part["Override"] is True for part in security.values())
    headers = {
        "Content-Security-Policy": security["ContentSecurityPolicy"]["ContentSecurityPolicy"],
        "Referrer-Policy": security["ReferrerPolicy"]["ReferrerPolicy"],
        "X-Frame-Options": security["FrameOptions"]["FrameOption"],
    }
    if "ContentTypeOptions" in security:  # CloudFront's only value
        headers["X-Content-Type-Options"] = "nosniff"
    assert set(security) == {"ContentSecurityPolicy", "ContentTypeOptions", "FrameOptions",
                             "ReferrerPolicy", "StrictTransportSecurity"}
    for item in config["CustomHeadersConfig"]["Items"]:
        assert item["Override"] is True and item["Header"] not in headers, item
        headers[item["Header"]] = item["Value"]
    sts = security["StrictTransportSecurity"]
    hsts = f"max-age={sts['AccessControlMaxAgeSec']}"
    hsts += "; includeSubDomains" if sts.get("IncludeSubdomains") else ""
    hsts += "; preload" if sts.get("Preload") else ""
    return headers, hsts


def test_response_headers_policy_equals_security_headers(template):
    config = template["Resources"]["SecurityHeaders"]["Properties"][
        "ResponseHeadersPolicyConfig"]
    headers, hsts = policy_headers(config)
    assert headers == security_headers.HEADERS
    assert hsts == security_headers.HSTS


def test_every_behaviour_sends_the_security_headers(template):
    dist = template["Resources"]["Distribution"]["Properties"]["DistributionConfig"]
    for behaviour in [dist["DefaultCacheBehavior"], *dist["CacheBehaviors"]]:
        assert behaviour["ResponseHeadersPolicyId"] == {"Ref": "SecurityHeaders"}


def test_protected_path_patterns_are_the_section_roots(template):
    dist = template["Resources"]["Distribution"]["Properties"]["DistributionConfig"]
    behaviours = dist["CacheBehaviors"]
    protected = {b["PathPattern"] for b in behaviours if b.get("TrustedKeyGroups")}
    # The section roots, and the family's and staff postvak inside their roots (submissions.py).
    assert protected == {root + "*" for root in ROOTS.values()} | {POSTVAK_PATH, TEAM_POSTVAK_PATH}
    assert POSTVAK_PATH.startswith(ROOTS["family"]) and TEAM_POSTVAK_PATH.startswith(ROOTS["team"])
    # No open behaviour may exist at all: it could shadow or widen a protected root.
    assert len(protected) == len(behaviours)


def login_prefix_regex() -> str:
    source = (TEMPLATES / "login.js").read_text(encoding="utf-8")
    found = re.search(r"var PREFIX = /(.+)/;", source)
    assert found, "PREFIX not found in login.js"
    return found.group(1)


def test_login_js_prefix_alternatives_are_the_section_roots():
    pattern = login_prefix_regex()
    outer = re.fullmatch(r"\^\\/\(\((.*)\)\\/\)\?\$", pattern)
    assert outer, f"unexpected PREFIX shape: {pattern}"
    depth, alternatives, current = 0, [], ""
    for char in outer.group(1):
        depth += char == "("
        depth -= char == ")"
        if char == "|" and depth == 0:
            alternatives.append(current)
            current = ""
        else:
            current += char
    alternatives.append(current)
    roots = {"/" + re.match(r"[a-z]+", alt).group() + "/" for alt in alternatives}
    assert roots == set(ROOTS.values())


def test_login_js_prefix_accepts_exactly_prefixes_under_the_roots(section_map):
    prefix = re.compile(login_prefix_regex())  # the JS syntax used is also valid Python
    assert prefix.fullmatch("/")  # the directie's single cookie set
    for section in section_map.protected:
        assert section.prefix.startswith(tuple(ROOTS.values()))
        assert prefix.fullmatch(section.prefix), section.prefix
    for wrong in ["/admin/", "/schoolx/", "/groep/", "/gezin/", "/gezin/kort/",
                  "/groep/groep-3", "/groep/groep-3/x/", "/school/../", "//", "/login/",
                  "/groep/Groep-3/", "/gezin/" + "a" * 41 + "/"]:
        assert not prefix.fullmatch(wrong), wrong
