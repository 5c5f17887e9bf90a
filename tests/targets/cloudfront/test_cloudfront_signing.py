"""Signed cookies: documented policy shape, valid SHA-1 signatures (ECDSA P-256 and RSA)."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime

import pytest
from botocore.signers import CloudFrontSigner
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from plugins.errors import SchoolpleinError
from publish.targets.cloudfront.settings import CloudFrontSettings
from publish.targets.cloudfront.signing import (
    cf_b64decode,
    cf_b64encode,
    cloudfront_signer,
    custom_policy,
    generate_key_pair,
    load_private_key,
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


def test_new_keys_are_ecdsa_p256_with_short_der_signatures(key_file, section_map):
    key = load_private_key(key_file)
    assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1"
    section = section_map.get("group", "groep-3")
    policy = custom_policy("ouders.example.nl", "/groep/groep-3/", EXPIRES)
    for _ in range(20):  # DER signatures vary in length (70-72 bytes)
        cookies = sign_section(section, domain="ouders.example.nl", expires=EXPIRES,
                               key_pair_id="K2ABC", private_key=key)
        assert cf_b64decode(cookies.policy).decode() == policy
        assert not set("+=/") & set(cookies.policy + cookies.signature)
        assert len(cookies.signature) <= 96
        signature = cf_b64decode(cookies.signature)
        decode_dss_signature(signature)  # ASN.1 DER, as OpenSSL and the AWS SDKs write it
        key.public_key().verify(signature, policy.encode(), ec.ECDSA(hashes.SHA1()))
    assert set(cookies.cookies) == {"CloudFront-Policy", "CloudFront-Signature",
                                    "CloudFront-Key-Pair-Id"}
    assert cookies.cookies["CloudFront-Key-Pair-Id"] == "K2ABC"


def test_an_existing_rsa_key_still_signs_as_botocore_does(tmp_path, section_map):
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path / "rsa.pem"
    path.write_bytes(rsa_key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key = load_private_key(path)
    cookies = sign_section(section_map.get("group", "groep-3"), domain="ouders.example.nl",
                           expires=EXPIRES, key_pair_id="K2ABC", private_key=key)
    policy = custom_policy("ouders.example.nl", "/groep/groep-3/", EXPIRES)
    key.public_key().verify(cf_b64decode(cookies.signature), policy.encode(),
                            padding.PKCS1v15(), hashes.SHA1())
    assert cookies.signature == cf_b64encode(cloudfront_signer(key)(policy.encode()))
    assert len(cookies.signature) == 344


def test_other_keys_are_refused_in_dutch(tmp_path):
    path = tmp_path / "p384.pem"
    path.write_bytes(ec.generate_private_key(ec.SECP384R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    with pytest.raises(SchoolpleinError, match="ECDSA P-256- of RSA 2048"):
        load_private_key(path)


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
