"""The postvak in the stacks: CloudFront may write the spool once per name and never read it,
only the postvak's behaviour takes writes, and AWS WAF limits PUTs per login.

There is no local CloudFront, S3 policy engine or WAF: these tests read the templates
(cfn-lint checks them against AWS's schemas in test_cloudfront_infra) and tie them to
the code that shares their values.
"""

from __future__ import annotations

import pytest
from cf_helpers import load_template

from publish.targets.cloudfront.objects import SPOOL
from publish.targets.cloudfront.provision import TEMPLATE, WAF_TEMPLATE
from publish.targets.cloudfront.signing import COOKIE_NAMES
from publish.targets.cloudfront.submissions import ORIGIN_PATH, POSTVAK_PATH, TEAM_POSTVAK_PATH

CLOUDFRONT = {"Service": "cloudfront.amazonaws.com"}
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # AWS managed cache policy
WRITES = ("s3:PutObject", "s3:DeleteObject", "s3:*", "s3:Put*", "s3:Delete*", "*")


@pytest.fixture(scope="module")
def template():
    return load_template(TEMPLATE)


@pytest.fixture(scope="module")
def waf():
    return load_template(WAF_TEMPLATE)


def statements(template) -> list[dict]:
    return template["Resources"]["SiteBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def spool_arn() -> dict:
    return {"Sub": "${SiteBucket.Arn}/" + SPOOL + "*"}


def test_cloudfront_may_only_create_new_names_in_the_spool(template):
    writes = [s for s in statements(template) if s["Effect"] == "Allow"
              and any(a in WRITES for a in as_list(s["Action"]))]
    (write,) = writes
    assert write["Principal"] == CLOUDFRONT and as_list(write["Action"]) == ["s3:PutObject"]
    assert write["Resource"] == spool_arn()
    assert write["Condition"]["StringEquals"] == statements(template)[0]["Condition"][
        "StringEquals"]  # this distribution only (its SourceArn), as for reading
    # Without If-None-Match a PUT is not allowed at all: fail closed, never an overwrite.
    assert write["Condition"]["Null"] == {"s3:if-none-match": "false"}


def test_nothing_through_cloudfront_reads_the_spool(template):
    (deny,) = [s for s in statements(template) if s["Effect"] == "Deny"
               and s.get("Resource") == spool_arn()]
    assert deny["Principal"] == CLOUDFRONT and "Condition" not in deny
    assert {"s3:GetObject", "s3:GetObjectVersion", "s3:DeleteObject"} <= set(deny["Action"])


@pytest.mark.parametrize(("path", "narrows"), [(POSTVAK_PATH, "/gezin/*"),
                                              (TEAM_POSTVAK_PATH, "/team/*")])
def test_only_the_postvak_behaviours_take_writes_and_cache_and_forward_nothing(template, path,
                                                                             narrows):
    dist = template["Resources"]["Distribution"]["Properties"]["DistributionConfig"]
    behaviours = dist["CacheBehaviors"]
    (postvak,) = [b for b in behaviours if b["PathPattern"] == path]
    assert behaviours.index(postvak) < [b["PathPattern"] for b in behaviours].index(narrows)
    assert set(postvak["AllowedMethods"]) == {"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST",
                                              "DELETE"}  # the only write set CloudFront offers
    assert postvak["ViewerProtocolPolicy"] == "https-only"  # no redirect that turns a PUT around
    assert postvak["TrustedKeyGroups"] == [{"Ref": "KeyGroup"}]
    assert postvak["CachePolicyId"] == CACHING_DISABLED
    # Its origin is the site's bucket, under the spool, signed the same way (OAC).
    origins = {o["Id"]: o for o in dist["Origins"]}
    spool, site = origins[postvak["TargetOriginId"]], origins["site"]
    assert spool["OriginPath"] == ORIGIN_PATH == "/" + SPOOL.rstrip("/") and "OriginPath" not in site
    assert {k: v for k, v in spool.items() if k not in ("Id", "OriginPath")} == {
        k: v for k, v in site.items() if k != "Id"}
    writers = {POSTVAK_PATH, TEAM_POSTVAK_PATH}
    for other in [dist["DefaultCacheBehavior"], *behaviours]:
        if other.get("PathPattern") not in writers:
            assert other["TargetOriginId"] == "site", other.get("PathPattern")
            assert other["AllowedMethods"] == ["GET", "HEAD"], other.get("PathPattern")
    policy = template["Resources"]["PostvakOriginRequests"]["Properties"][
        "OriginRequestPolicyConfig"]
    assert postvak["OriginRequestPolicyId"] == {"Ref": "PostvakOriginRequests"}
    assert policy["HeadersConfig"] == {"HeaderBehavior": "whitelist",
                                       "Headers": ["If-None-Match"]}
    assert policy["CookiesConfig"] == {"CookieBehavior": "none"}
    assert policy["QueryStringsConfig"] == {"QueryStringBehavior": "none"}


def test_the_distribution_carries_the_rate_limits(template):
    dist = template["Resources"]["Distribution"]["Properties"]["DistributionConfig"]
    assert dist["WebACLId"] == {"If": ["HasWebAcl", {"Ref": "WebAclArn"}, {"Ref": "AWS::NoValue"}]}


def test_puts_are_limited_per_login_and_per_address_without_keeping_cookies(waf):
    acl = waf["Resources"]["PostvakLimits"]["Properties"]
    assert acl["Scope"] == "CLOUDFRONT" and acl["DefaultAction"] == {"Allow": {}}
    rules = {rule["Name"]: rule for rule in acl["Rules"]}
    assert set(rules) == {"postvak-per-login", "postvak-per-address", "team-per-login",
                          "team-per-address"}
    for name in ("postvak-per-login", "team-per-login"):
        per_login = rules[name]["Statement"]["RateBasedStatement"]
        assert per_login["AggregateKeyType"] == "CUSTOM_KEYS"
        assert [key["Cookie"]["Name"] for key in per_login["CustomKeys"]] == [COOKIE_NAMES[0]]
    for name in ("postvak-per-address", "team-per-address"):
        assert rules[name]["Statement"]["RateBasedStatement"]["AggregateKeyType"] == "IP"
    # A parent sends a handful; a teacher's post is up to 31 PUTs, from the school's one address.
    assert {n: r["Statement"]["RateBasedStatement"]["Limit"] for n, r in rules.items()} == {
        "postvak-per-login": 20, "postvak-per-address": 100, "team-per-login": 300,
        "team-per-address": 1000}
    team_path = {"FieldToMatch": {"UriPath": {}}, "PositionalConstraint": "STARTS_WITH",
                 "SearchString": "/team/", "TextTransformations": [{"Priority": 0, "Type": "NONE"}]}
    for name, rule in rules.items():
        limit = rule["Statement"]["RateBasedStatement"]
        method, path = limit["ScopeDownStatement"]["AndStatement"]["Statements"]
        match = method["ByteMatchStatement"]
        assert match["FieldToMatch"] == {"Method": {}} and match["SearchString"] == "PUT"
        assert match["PositionalConstraint"] == "EXACTLY"
        # every PUT counts in exactly one pair: a spelling that is not /team/ is a parent's
        if name.startswith("team-"):
            assert path == {"ByteMatchStatement": team_path}
        else:
            assert path == {"NotStatement": {"Statement": {"ByteMatchStatement": team_path}}}
        assert rule["Action"]["Block"]["CustomResponse"]["ResponseCode"] == 429
        assert rule["VisibilityConfig"]["SampledRequestsEnabled"] is False
    assert acl["VisibilityConfig"]["SampledRequestsEnabled"] is False  # samples keep cookies
    assert "probeer het dan opnieuw" in acl["CustomResponseBodies"]["te-vaak"]["Content"]
