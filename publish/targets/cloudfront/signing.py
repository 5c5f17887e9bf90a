"""CloudFront signed cookies: one cookie set per protected section.

A custom policy (one statement, wildcard on the section's path prefix, expiry
at the end of the access period) is signed with the school's private key.
The browser gets the three cookies with `Path=<prefix>`, so each set is only
sent where it is valid. CloudFront verifies SHA-1 signatures (its default hash)
made with an ECDSA P-256 key (DER signature, ~96 characters: short enough for a
QR code) or an RSA 2048 key (PKCS#1 v1.5, 344 characters), in its own URL-safe
base64 alphabet. New keys are ECDSA; an existing RSA key keeps working.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from botocore.signers import CloudFrontSigner
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from plugins.errors import Problem, SchoolpleinError
from plugins.sections import Section

COOKIE_NAMES = ("CloudFront-Policy", "CloudFront-Signature", "CloudFront-Key-Pair-Id")
_CF_ALPHABET = str.maketrans("+=/", "-_~")
_STD_ALPHABET = str.maketrans("-_~", "+=/")


@dataclass(frozen=True)
class CookieSet:
    """The three CloudFront cookies for one section path."""

    prefix: str  # cookie Path, e.g. /groep/groep-3/
    policy: str  # CloudFront base64 of the policy JSON
    signature: str  # CloudFront base64 of the SHA-1 signature (ECDSA or RSA)
    key_pair_id: str
    expires: int  # epoch seconds, same as in the policy

    @property
    def cookies(self) -> dict[str, str]:
        return dict(zip(COOKIE_NAMES, (self.policy, self.signature, self.key_pair_id),
                        strict=True))


def cf_b64encode(data: bytes) -> str:
    """Base64 with CloudFront's URL-safe substitutions (+ -> -, = -> _, / -> ~)."""
    return base64.b64encode(data).decode("ascii").translate(_CF_ALPHABET)


def cf_b64decode(text: str) -> bytes:
    return base64.b64decode(text.translate(_STD_ALPHABET))


def custom_policy(domain: str, prefix: str, expires: int) -> str:
    """The policy exactly as CloudFront documents it: one statement, no whitespace."""
    statement = {"Resource": f"https://{domain}{prefix}*",
                 "Condition": {"DateLessThan": {"AWS:EpochTime": int(expires)}}}
    return json.dumps({"Statement": [statement]}, separators=(",", ":"))


SigningKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def load_private_key(path: Path | str) -> SigningKey:
    path = Path(path)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise SchoolpleinError(Problem(
            str(path), None, "de privésleutel voor CloudFront ontbreekt",
            "maak een sleutel met 'invoke keys' of zet CLOUDFRONT_PRIVATE_KEY_FILE goed in .env",
        )) from None
    except ValueError as exc:
        raise SchoolpleinError(Problem(str(path), None, f"geen geldige PEM-sleutel ({exc})",
                                       "gebruik het bestand dat 'invoke keys' schreef")) from None
    ecdsa = isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1)
    if not (ecdsa or (isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048)):
        raise SchoolpleinError(Problem(str(path), None, "geen ECDSA P-256- of RSA 2048-sleutel",
                                       "CloudFront accepteert alleen die twee; maak een nieuwe "
                                       "met 'invoke rotate-keys'"))
    return key


def cloudfront_signer(private_key: SigningKey):
    """The signer CloudFrontSigner expects: bytes -> SHA-1 signature CloudFront verifies.

    SHA-1 is CloudFront's default hash; we only ever sign policies we wrote, so
    a collision attack has nothing to work with.
    """

    def sign(message: bytes) -> bytes:
        if isinstance(private_key, rsa.RSAPrivateKey):
            return private_key.sign(message, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303
        return private_key.sign(message, ec.ECDSA(hashes.SHA1()))  # noqa: S303 - DER

    return sign


def sign_section(section: Section, *, domain: str, expires: int, key_pair_id: str,
                 private_key: SigningKey) -> CookieSet:
    """One cookie set for a protected section."""
    if not section.protected:
        raise ValueError("public sections need no cookies")
    return sign_prefix(section.prefix, domain=domain, expires=expires, key_pair_id=key_pair_id,
                       private_key=private_key)


def sign_prefix(prefix: str, *, domain: str, expires: int, key_pair_id: str,
                private_key: SigningKey) -> CookieSet:
    """Cookie set for everything under `prefix`, signed by botocore's CloudFrontSigner."""
    policy = custom_policy(domain, prefix, expires)
    signer = CloudFrontSigner(key_pair_id, cloudfront_signer(private_key))
    signed = signer.generate_presigned_url(f"https://{domain}{prefix}*", policy=policy)
    params = dict(parse_qsl(urlsplit(signed).query, keep_blank_values=True))
    return CookieSet(prefix, params["Policy"], params["Signature"], params["Key-Pair-Id"],
                     int(expires))


def public_pem(private_key: SigningKey) -> str:
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def _tracked_by_git(path: Path) -> bool:
    """True when `path` lies in a git work tree and is not ignored (it could be committed)."""
    parent = path.resolve().parent
    while not parent.exists():
        parent = parent.parent
    inside = subprocess.run(["git", "-C", str(parent), "rev-parse", "--is-inside-work-tree"],
                            capture_output=True, text=True)
    if inside.returncode != 0 or inside.stdout.strip() != "true":
        return False
    ignored = subprocess.run(["git", "-C", str(parent), "check-ignore", "-q", str(path.resolve())],
                             capture_output=True)
    return ignored.returncode != 0


def generate_key_pair(private_key_file: Path | str) -> str:
    """Write a new ECDSA P-256 private key (mode 0600) and return the public PEM.

    The private key must stay out of git and out of the site output; an
    existing file is never overwritten (that would silently revoke all links).
    """
    path = Path(private_key_file)
    if _tracked_by_git(path):
        raise SchoolpleinError(Problem(
            str(path), None, "de privésleutel zou in git terechtkomen",
            "kies een pad buiten de repository of in een genegeerde map (bv. private/)"))
    if path.exists():
        raise SchoolpleinError(Problem(
            str(path), None, "er staat al een sleutel op deze plek",
            "kies een nieuw bestand, of gebruik 'invoke rotate-keys' om te vervangen"))
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    os.chmod(path, 0o600)
    return public_pem(key)
