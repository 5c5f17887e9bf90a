"""CloudFormation template, provisioning, key rotation, letters and login assets."""

from __future__ import annotations

import dataclasses
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from cf_helpers import CfnLoader, FakeStack, cf_settings, load_template, waf_stack

from plugins.errors import SchoolpleinError
from plugins.public_pages import render_login_assets
from publish.targets.cloudfront.links import write_cloudfront_letters
from publish.targets.cloudfront.provision import (
    TEMPLATE,
    WAF_TEMPLATE,
    provision,
    template_body,
    viewer_request_code,
)
from publish.targets.cloudfront.rotation import rotate_keys
from publish.targets.cloudfront.signing import generate_key_pair

CFN_LINT = Path(sys.executable).with_name("cfn-lint")


@pytest.fixture(scope="module")
def template():
    return load_template(TEMPLATE)


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    return cf_settings(tmp_path_factory.mktemp("cf"), CLOUDFRONT_KEY_PAIR_ID="K1OLD",
                       CLOUDFRONT_KEY_GROUP_ID="kg-1", SCHOOLPLEIN_S3_BUCKET="schoolplein-demo")


def test_cfn_lint_has_no_errors(tmp_path):
    """The file in git, what provision sends (with the function's code) and the rate limits'
    stack lint clean."""
    rendered = tmp_path / "schoolplein.yaml"
    rendered.write_text(template_body(), encoding="utf-8")
    for path in (TEMPLATE, rendered, WAF_TEMPLATE):
        result = subprocess.run([str(CFN_LINT), str(path)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


def test_the_template_embeds_the_viewer_function_byte_for_byte():
    rendered = yaml.load(template_body(), Loader=CfnLoader)  # noqa: S506 - safe loader
    function = rendered["Resources"]["ViewerRequestFunction"]["Properties"]
    assert function["FunctionCode"] == viewer_request_code()
    assert function["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    assert function["FunctionConfig"]["KeyValueStoreAssociations"] == [
        {"KeyValueStoreARN": {"GetAtt": "RevokedLinks.Arn"}}]
    dist = rendered["Resources"]["Distribution"]["Properties"]["DistributionConfig"]
    for behaviour in [dist["DefaultCacheBehavior"], *dist["CacheBehaviors"]]:
        assert behaviour["FunctionAssociations"] == [{
            "EventType": "viewer-request",
            "FunctionARN": {"GetAtt": "ViewerRequestFunction.FunctionMetadata.FunctionARN"}}]


def test_template_protects_sections(template):
    res = template["Resources"]
    block = res["SiteBucket"]["Properties"]["PublicAccessBlockConfiguration"]
    assert all(block.values())
    dist = res["Distribution"]["Properties"]["DistributionConfig"]
    assert "TrustedKeyGroups" not in dist["DefaultCacheBehavior"]
    protected = [b["PathPattern"] for b in dist["CacheBehaviors"] if b.get("TrustedKeyGroups")]
    # also: test_cloudfront_sources; the postvak narrows /gezin/*, so it comes first
    assert protected == ["/gezin/*/postvak/*", "/school/*", "/groep/*", "/gezin/*",
                         "/archief/*", "/team/*/postvak/*", "/team/*", "/personeel/*"]
    assert dist["CustomErrorResponses"][0]["ResponsePagePath"] == "/403.html"
    assert dist["DefaultRootObject"] == "index.html"
    statement = res["SiteBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}


def test_provision_creates_then_keeps_domain_certificate_and_keys(settings):
    cfn, waf, printed = FakeStack(), waf_stack(), []
    cert = "arn:aws:acm:us-east-1:123456789012:certificate/abc"
    outputs = provision(settings, cfn, domain_name="ouders.kcdematrix.nl", certificate_arn=cert,
                        waf=waf, out=printed.append)
    action, kw = cfn.calls[1]
    assert action == "create" and ("wait", {"name": "stack_create_complete"}) in cfn.calls
    created = {p["ParameterKey"]: p["ParameterValue"] for p in kw["Parameters"]}
    assert "BEGIN PUBLIC KEY" in created["PublicKeyPem"] and created["SigningKey"] == "A"
    assert outputs["PublicKeyId"] == cfn.key_group()[0] == "K1TESTKEY"
    assert "  CLOUDFRONT_DOMAIN=ouders.kcdematrix.nl" in printed
    assert "  CLOUDFRONT_KEY_PAIR_ID=K1TESTKEY" in printed
    assert any(line.startswith("  CLOUDFRONT_KVS_ARN=") for line in printed)
    # The rate limits' stack first (us-east-1), its web ACL then on the distribution.
    assert [op for op, _ in waf.calls] == ["describe", "create", "wait", "describe"]
    assert created["WebAclArn"] == waf.outputs()["WebAclArn"] == cfn.params["WebAclArn"]

    printed.clear()
    provision(settings, cfn, waf=waf, out=printed.append)  # a plain update: nothing is lost
    (update,) = [kw for op, kw in cfn.calls if op == "update"]
    kept = {p["ParameterKey"] for p in update["Parameters"] if p.get("UsePreviousValue")}
    assert kept == {"DomainName", "CertificateArn", "PublicKeyPem", "PublicKeyPemB", "SigningKey",
                    "LogRetentionDays"}
    assert cfn.params["DomainName"] == "ouders.kcdematrix.nl" and cfn.params["CertificateArn"]
    assert "Er was niets te veranderen." in printed
    assert "  CLOUDFRONT_DOMAIN=ouders.kcdematrix.nl" in printed

    printed.clear()
    provision(settings, cfn, remove_domain=True, log_days=14, waf=waf, out=printed.append)
    assert cfn.params["DomainName"] == cfn.params["CertificateArn"] == ""
    assert cfn.params["LogRetentionDays"] == "14" and cfn.key_log == [("create", "K1TESTKEY")]
    assert "  CLOUDFRONT_DOMAIN=d1.cloudfront.net" in printed


def test_provision_refuses_half_a_domain(settings):
    with pytest.raises(SchoolpleinError, match="certificaat"):
        provision(settings, FakeStack(), domain_name="ouders.kcdematrix.nl", waf=waf_stack(),
                  out=lambda _: None)


def test_template_keeps_private_logs_for_a_limited_time(template):
    res = template["Resources"]
    logs = res["LogBucket"]["Properties"]
    assert all(logs["PublicAccessBlockConfiguration"].values())
    (rule,) = logs["LifecycleConfiguration"]["Rules"]
    assert rule["Status"] == "Enabled" and rule["ExpirationInDays"] == {"Ref": "LogRetentionDays"}
    assert template["Parameters"]["LogRetentionDays"]["Default"] == 30
    logging = res["Distribution"]["Properties"]["DistributionConfig"]["Logging"]
    assert logging == {"Bucket": {"GetAtt": "LogBucket.DomainName"}, "IncludeCookies": False,
                       "Prefix": "cloudfront/"}
    cert = res["Distribution"]["Properties"]["DistributionConfig"]["ViewerCertificate"]["If"]
    assert cert[1]["MinimumProtocolVersion"] == "TLSv1.2_2021"
    assert cert[2] == {"CloudFrontDefaultCertificate": True}  # TLS floor: TLSv1 (README)


def test_parameters_are_the_templates(template):
    from publish.targets.cloudfront.provision import PARAMETERS

    assert set(PARAMETERS) == set(template["Parameters"])


def small(roster):
    """Three families and two staff members: QR codes take ~0.4 s each."""
    families = dict(list(roster.families.items())[:3])
    parents = {p: roster.parents[p] for f in families.values() for p in f.parents}
    staff = dict(list(roster.staff.items())[:2])
    return dataclasses.replace(roster, families=families, parents=parents, staff=staff)


def provisioned(settings) -> FakeStack:
    cfn = FakeStack()
    provision(settings, cfn, waf=waf_stack(), out=lambda _: None)
    cfn.calls.clear()
    return cfn


def test_rotate_keys_is_two_stack_updates_and_no_drift(settings, roster, section_map, tmp_path,
                                                       monkeypatch):
    monkeypatch.setattr("publish.targets.cloudfront.links.qr_svg", lambda url: "<svg></svg>")
    cfn = provisioned(settings)
    old_pem = cfn.params["PublicKeyPem"]
    result = rotate_keys(settings, small(roster), section_map, cfn,
                         new_key_file=tmp_path / "new.pem", letters_dir=tmp_path / "brieven",
                         env_file=tmp_path / ".env", out=lambda _: None)
    first, second = cfn.updates()
    assert first["SigningKey"] == "B" and "BEGIN PUBLIC KEY" in first["PublicKeyPemB"]
    assert set(first) == {"PublicKeyPemB", "SigningKey"}
    assert second == {"PublicKeyPem": ""}  # only after the letters: old links die here
    assert cfn.key_log == [("create", "K1TESTKEY"), ("create", "K2TESTKEY"),
                           ("delete", "K1TESTKEY")]
    assert cfn.key_group() == ["K2TESTKEY"] == [cfn.outputs()["PublicKeyId"]]
    assert result.key_pair_id == "K2TESTKEY" and result.removed_key_ids == ("K1TESTKEY",)
    assert result.slot == "B" and first["PublicKeyPemB"] != old_pem
    letter = (tmp_path / "brieven" / "brief-ouder-001.html").read_text()
    assert "k=K2TESTKEY" in letter and "k=K1TESTKEY" not in letter

    again = dataclasses.replace(settings, key_pair_id="K2TESTKEY",
                                private_key_file=tmp_path / "new.pem")
    rotate_keys(again, small(roster), section_map, cfn, new_key_file=tmp_path / "third.pem",
                letters_dir=tmp_path / "brieven", env_file=tmp_path / ".env", out=lambda _: None)
    assert cfn.key_group() == ["K3TESTKEY"] and cfn.params["SigningKey"] == "A"
    assert cfn.params["PublicKeyPemB"] == ""


def test_a_rotation_that_stopped_half_way_is_finished(settings, roster, section_map, tmp_path,
                                                      monkeypatch):
    monkeypatch.setattr("publish.targets.cloudfront.links.qr_svg", lambda url: "<svg></svg>")
    cfn = provisioned(settings)
    generate_key_pair(tmp_path / "new.pem")
    from publish.targets.cloudfront.signing import load_private_key, public_pem

    pem = public_pem(load_private_key(tmp_path / "new.pem"))
    cfn.update_stack(StackName="schoolplein", TemplateBody="", Parameters=[
        {"ParameterKey": "PublicKeyPemB", "ParameterValue": pem},
        {"ParameterKey": "SigningKey", "ParameterValue": "B"},
        *({"ParameterKey": k, "UsePreviousValue": True} for k in ("BucketName", "PublicKeyPem"))])
    cfn.calls.clear()
    with pytest.raises(SchoolpleinError, match="niet afgemaakt"):  # .env still has the old key
        rotate_keys(settings, small(roster), section_map, cfn, env_file=tmp_path / ".env",
                    letters_dir=tmp_path / "brieven", out=lambda _: None)
    fixed = dataclasses.replace(settings, key_pair_id="K2TESTKEY",
                                private_key_file=tmp_path / "new.pem")
    result = rotate_keys(fixed, small(roster), section_map, cfn, env_file=tmp_path / ".env",
                         letters_dir=tmp_path / "brieven", out=lambda _: None)
    assert cfn.updates() == [{"PublicKeyPem": ""}]
    assert cfn.key_group() == ["K2TESTKEY"] and result.key_pair_id == "K2TESTKEY"
    assert "k=K2TESTKEY" in (tmp_path / "brieven" / "brief-ouder-001.html").read_text()


def test_letters_are_private_and_outside_the_site(settings, roster, section_map, tmp_path):
    with pytest.raises(SchoolpleinError, match="niet in de site-map"):
        write_cloudfront_letters(roster, section_map, settings, tmp_path / "output" / "brieven",
                                 site_output=tmp_path / "output")
    roster = small(roster)
    written = write_cloudfront_letters(roster, section_map, settings, tmp_path / "brieven")
    people = list(roster.people())
    assert sorted(p.name for p in written) == sorted(f"brief-{p.id}.html" for p in people)
    for person in people:  # one letter per person, with only their own link
        letter = (tmp_path / "brieven" / f"brief-{person.id}.html").read_text()
        assert letter.count("https://ouders.kcdematrix.example.nl/login/#") == 1
        assert [p.name for p in people if p.name in letter] == [person.name]
        assert "<svg" in letter  # QR code
    together = (tmp_path / "brieven" / "afdrukken.html").read_text()  # printed in one go
    assert together.count('class="letter"') == len(people)
    family = [roster.person(pid).name for pid in roster.families["68amruh9btpfys3dk9wr"].parents]
    assert family == ["Marieke de Vries", "Youssef de Vries"]
    assert together.index(family[1]) - together.index(family[0]) < together.index(family[1])
    assert all(stat.S_IMODE(os.stat(p).st_mode) == 0o600 for p in [*written,
                                                                 tmp_path / "brieven" / "afdrukken.html"])


def test_login_assets_have_no_inline_script_or_secret(tmp_path):
    written = render_login_assets(tmp_path, school_name="Kc de Matrix", target="cloudfront")
    assert {p.relative_to(tmp_path).as_posix() for p in written} == {
        "login/index.html", "login/login.js", "uitloggen/index.html", "uitloggen/uitloggen.js",
        "mijn/index.html", "mijn/mijn.js", "401.html", "403.html"}
    for folder in ("login", "uitloggen", "mijn"):
        page = (tmp_path / folder / "index.html").read_text()
        assert f'<script src="/{folder}/{folder}.js" defer></script>' in page
        assert page.count("<script") == 1 and "style=" not in page and "onclick" not in page
        assert '<link rel="stylesheet" href="/theme/css/site.css">' in page  # the theme's base
    assert "Uw persoonlijke inloglink" in (tmp_path / "login/index.html").read_text()
    assert "nieuwe link" in (tmp_path / "403.html").read_text()
    for path in written:
        assert "PRIVATE KEY" not in path.read_text()


def test_the_rate_limits_live_in_us_east_1_whatever_the_buckets_region(settings, monkeypatch):
    """CloudFront's web ACLs can only be made in us-east-1; the site stays in AWS_REGION."""
    import publish.targets.cloudfront as target

    asked, waf = [], waf_stack()
    monkeypatch.setattr(target, "aws_client",
                        lambda service, s, region="": asked.append((service, region)) or waf)
    provision(settings, FakeStack(), out=lambda _: None)
    assert settings.region != "us-east-1" and asked == [("cloudformation", "us-east-1")]
    assert [op for op, _ in waf.calls if op == "create"] == ["create"]
