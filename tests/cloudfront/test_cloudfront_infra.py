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
from cf_helpers import CfnLoader, FakeCloudFront, load_template

from plugins.errors import SchoolpleinError
from publish.cloudfront_settings import CloudFrontSettings
from publish.cloudfront_signing import generate_key_pair
from publish.key_rotation import rotate_keys
from publish.login_links import render_login_assets, write_cloudfront_letters
from publish.provision import TEMPLATE, VIEWER_REQUEST_JS, provision, template_body

CFN_LINT = Path(sys.executable).with_name("cfn-lint")


@pytest.fixture(scope="module")
def template():
    return load_template(TEMPLATE)


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    key = tmp_path_factory.mktemp("key") / "cloudfront.pem"
    generate_key_pair(key)
    return CloudFrontSettings.from_env({
        "CLOUDFRONT_DOMAIN": "ouders.kcdematrix.example.nl", "CLOUDFRONT_KEY_PAIR_ID": "K1OLD",
        "CLOUDFRONT_KEY_GROUP_ID": "kg-1", "CLOUDFRONT_PRIVATE_KEY_FILE": str(key),
        "SCHOOLPLEIN_S3_BUCKET": "schoolplein-demo", "SCHOOLPLEIN_ACCESS_UNTIL": "2099-07-31",
        "SCHOOLPLEIN_PRIVATE": str(key.parent / "private")})


def test_cfn_lint_has_no_errors(tmp_path):
    """Both the file in git and what provision sends (with the function's code) lint clean."""
    rendered = tmp_path / "schoolplein.yaml"
    rendered.write_text(template_body(), encoding="utf-8")
    for path in (TEMPLATE, rendered):
        result = subprocess.run([str(CFN_LINT), str(path)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


def test_the_template_embeds_the_viewer_function_byte_for_byte():
    rendered = yaml.load(template_body(), Loader=CfnLoader)  # noqa: S506 - safe loader
    function = rendered["Resources"]["ViewerRequestFunction"]["Properties"]
    assert function["FunctionCode"] == VIEWER_REQUEST_JS.read_text(encoding="utf-8")
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
    protected = {b["PathPattern"] for b in dist["CacheBehaviors"] if b.get("TrustedKeyGroups")}
    assert protected == {"/school/*", "/groep/*", "/gezin/*"}  # also: test_cloudfront_sources
    assert dist["CustomErrorResponses"][0]["ResponsePagePath"] == "/403.html"
    assert dist["DefaultRootObject"] == "index.html"
    statement = res["SiteBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}


class FakeCloudFormation:
    def __init__(self, exists: bool):
        self.exists, self.calls = exists, []

    def describe_stacks(self, StackName):  # noqa: N803 - boto3 naming
        if not self.exists:
            from botocore.exceptions import ClientError

            raise ClientError({"Error": {"Message": "Stack with id x does not exist"}},
                              "DescribeStacks")
        return {"Stacks": [{"StackStatus": "CREATE_COMPLETE", "Outputs": [
            {"OutputKey": "DistributionDomainName", "OutputValue": "d1.cloudfront.net"}]}]}

    def create_stack(self, **kw):
        self.calls.append(("create", kw))
        self.exists = True

    def update_stack(self, **kw):
        self.calls.append(("update", kw))

    def get_waiter(self, name):
        self.calls.append(("wait", name))
        return type("W", (), {"wait": lambda self, **kw: None})()


def test_provision_creates_then_updates_without_touching_the_key(settings):
    cfn, printed = FakeCloudFormation(exists=False), []
    outputs = provision(settings, cfn, out=printed.append)
    assert outputs["DistributionDomainName"] == "d1.cloudfront.net"
    action, kw = cfn.calls[0]
    pem = {p["ParameterKey"]: p for p in kw["Parameters"]}["PublicKeyPem"]
    assert action == "create" and "BEGIN PUBLIC KEY" in pem["ParameterValue"]
    assert cfn.calls[1] == ("wait", "stack_create_complete")
    assert any("CLOUDFRONT_DOMAIN=d1.cloudfront.net" in line for line in printed)
    provision(settings, cfn, out=printed.append)
    action, kw = cfn.calls[2]
    pem = {p["ParameterKey"]: p for p in kw["Parameters"]}["PublicKeyPem"]
    assert action == "update" and pem == {"ParameterKey": "PublicKeyPem",
                                          "UsePreviousValue": True}


def small(roster):
    """Three families and two staff members: QR codes take ~0.4 s each."""
    families = dict(list(roster.families.items())[:3])
    parents = {p: roster.parents[p] for f in families.values() for p in f.parents}
    staff = dict(list(roster.staff.items())[:2])
    return dataclasses.replace(roster, families=families, parents=parents, staff=staff)


def test_rotate_keys_adds_new_reissues_then_removes_old(settings, roster, section_map,
                                                        tmp_path, monkeypatch):
    monkeypatch.setattr("publish.login_links.qr_svg", lambda url: "<svg></svg>")
    cloudfront = FakeCloudFront()
    result = rotate_keys(settings, roster, section_map, cloudfront,
                         new_key_file=tmp_path / "new.pem", letters_dir=tmp_path / "brieven",
                         env_file=tmp_path / ".env", out=lambda _: None)
    assert cloudfront.log == ["create", ("group", ("K1OLD", "K2NEW")), ("group", ("K2NEW",)),
                              ("delete", "K1OLD")]
    assert result.key_pair_id == "K2NEW" and result.removed_key_ids == ("K1OLD",)
    letter = (tmp_path / "brieven" / "gezin-68amruh9btpfys3dk9wr.html").read_text()
    assert "k=K2NEW" in letter and "k=K1OLD" not in letter


def test_letters_are_private_and_outside_the_site(settings, roster, section_map, tmp_path):
    with pytest.raises(SchoolpleinError, match="niet in de site-map"):
        write_cloudfront_letters(roster, section_map, settings, tmp_path / "output" / "brieven",
                                 site_output=tmp_path / "output")
    roster = small(roster)
    written = write_cloudfront_letters(roster, section_map, settings, tmp_path / "brieven")
    assert len(written) == 3 + 2
    letter = (tmp_path / "brieven" / "gezin-68amruh9btpfys3dk9wr.html").read_text()
    assert "Marieke de Vries" in letter and "Youssef de Vries" in letter
    assert letter.count("https://ouders.kcdematrix.example.nl/login/#") == 2
    assert "<svg" in letter  # QR code for parents
    assert stat.S_IMODE(os.stat(written[0]).st_mode) == 0o600


def test_login_assets_have_no_inline_script_or_secret(tmp_path):
    written = render_login_assets(tmp_path, school_name="Kc de Matrix")
    assert {p.relative_to(tmp_path).as_posix() for p in written} == {
        "login/index.html", "login/login.js", "403.html"}
    page = (tmp_path / "login/index.html").read_text()
    assert '<script src="/login/login.js" defer></script>' in page
    assert page.count("<script") == 1 and "style=" not in page and "onclick" not in page
    assert "Uw persoonlijke inloglink" in page
    assert "nieuwe link" in (tmp_path / "403.html").read_text()
    for path in written:
        assert "PRIVATE KEY" not in path.read_text()
