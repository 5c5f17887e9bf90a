"""Signed cookies: documented policy shape, valid RSA-SHA1 signature, botocore agreement."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime

import pytest
from botocore.signers import CloudFrontSigner
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from plugins.errors import SchoolpleinError
from publish.cloudfront_settings import CloudFrontSettings
from publish.cloudfront_signing import (
    cf_b64decode,
    cf_b64encode,
    custom_policy,
    generate_key_pair,
    load_private_key,
    rsa_sha1_signer,
    sign_section,
)

EXPIRES = 1817071200


@pytest.fixture(scope="module")
def key_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("keys") / "cloudfront.pem"
    generate_key_pair(path)
    return path


def test_key_file_is_private_and_never_overwritten(key_file):
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    with pytest.raises(SchoolpleinError, match="al een sleutel"):
        generate_key_pair(key_file)


def test_key_inside_git_is_refused():
    from pathlib import Path

    repo_file = Path(__file__).resolve().parent / "not-ignored-key.txt"
    with pytest.raises(SchoolpleinError, match="git"):
        generate_key_pair(repo_file)
    assert not repo_file.exists()


def test_policy_is_cloudfronts_documented_shape():
    policy = custom_policy("ouders.example.nl", "/groep/groep-3/", EXPIRES)
    assert " " not in policy and "\n" not in policy
    assert json.loads(policy) == {"Statement": [{
        "Resource": "https://ouders.example.nl/groep/groep-3/*",
        "Condition": {"DateLessThan": {"AWS:EpochTime": EXPIRES}}}]}
    signer = CloudFrontSigner("K1", lambda m: b"")
    assert policy == signer.build_policy("https://ouders.example.nl/groep/groep-3/*",
                                         datetime.fromtimestamp(EXPIRES, UTC))


def test_signature_verifies_and_matches_botocore(key_file, section_map):
    key = load_private_key(key_file)
    section = section_map.get("group", "groep-3")
    cookies = sign_section(section, domain="ouders.example.nl", expires=EXPIRES,
                           key_pair_id="K2ABC", private_key=key)
    policy = custom_policy("ouders.example.nl", "/groep/groep-3/", EXPIRES)
    assert cf_b64decode(cookies.policy).decode() == policy
    assert not set("+=/") & set(cookies.policy + cookies.signature)
    public = serialization.load_pem_public_key(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    public.verify(cf_b64decode(cookies.signature), policy.encode(), padding.PKCS1v15(),
                  hashes.SHA1())
    assert cookies.signature == cf_b64encode(rsa_sha1_signer(key)(policy.encode()))
    assert set(cookies.cookies) == {"CloudFront-Policy", "CloudFront-Signature",
                                    "CloudFront-Key-Pair-Id"}
    assert cookies.cookies["CloudFront-Key-Pair-Id"] == "K2ABC"


def test_public_section_gets_no_cookies(key_file, section_map):
    with pytest.raises(ValueError):
        sign_section(section_map.get("public", "public"), domain="d", expires=EXPIRES,
                     key_pair_id="K", private_key=load_private_key(key_file))


def test_expiry_is_end_of_access_day_in_amsterdam():
    settings = CloudFrontSettings.from_env({"SCHOOLPLEIN_ACCESS_UNTIL": "2027-07-31"})
    assert datetime.fromtimestamp(settings.expires_epoch, UTC) == datetime(2027, 7, 31, 22,
                                                                           tzinfo=UTC)


def test_missing_settings_are_listed_in_dutch():
    with pytest.raises(SchoolpleinError, match="CLOUDFRONT_KEY_PAIR_ID ontbreekt"):
        CloudFrontSettings.from_env({}, require=("CLOUDFRONT_KEY_PAIR_ID",))
