"""invoke tasks for the S3 + CloudFront target, and the publish entry point.

tasks.py imports `keys`, `rotate_keys`, `provision`, `cloudfront_letters` and
calls `publish_cloudfront` from `invoke publish --target cloudfront`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from invoke import task

from plugins.roster import load_roster
from plugins.sections import SectionMap, build_section_map

from .cloudfront_settings import CloudFrontSettings
from .invalidation_journal import InvalidationJournal
from .s3sync import Plan, sync


def aws_client(service: str, settings: CloudFrontSettings):
    """boto3 client; AWS_ENDPOINT_URL points S3 at moto in tests (CloudFront too)."""
    import boto3
    from botocore.config import Config

    return boto3.client(service, region_name=settings.region, endpoint_url=settings.endpoint_url,
                        config=Config(retries={"max_attempts": 5, "mode": "standard"},
                                      connect_timeout=10, read_timeout=60))


def publish_cloudfront(output_dir: Path | str, section_map: SectionMap,
                       settings: CloudFrontSettings | None = None, dry_run: bool = False, *,
                       privacy_dropped: Iterable[str] = (), s3=None, cloudfront=None) -> Plan:
    """Sync the output to the bucket and invalidate what changed; returns the plan.

    settings=None reads .env. Raises PublishError (a SchoolpleinError) with a Dutch
    message when S3 is unreachable; re-running is always safe. With a distribution,
    paths to invalidate are journalled in the private folder first, so a publish
    that was killed half-way is finished by the next one (s3sync).
    """
    if settings is None or not settings.bucket:
        settings = CloudFrontSettings.from_env(require=("SCHOOLPLEIN_S3_BUCKET",))
    s3 = s3 or aws_client("s3", settings)
    if cloudfront is None and settings.distribution_id and not dry_run:
        cloudfront = aws_client("cloudfront", settings)
    journal = (InvalidationJournal.in_folder(settings.private_dir)
               if settings.distribution_id else None)
    if not settings.distribution_id:
        print("Let op: CLOUDFRONT_DISTRIBUTION_ID ontbreekt; de CloudFront-cache wordt niet "
              "vernieuwd (zie .env.example).")
    return sync(output_dir, s3, settings.bucket, section_map, cloudfront=cloudfront,
                distribution_id=settings.distribution_id, dry_run=dry_run,
                privacy_dropped=privacy_dropped, journal=journal)


def _roster_and_map(settings: CloudFrontSettings):
    """The roster (SCHOOLPLEIN_ROSTER, relative to the project) and its section map."""
    from .config import Config

    roster = load_roster(Config.from_env().roster)
    return roster, build_section_map(roster, settings.school_name)


@task(help={"pad": "waar de privésleutel komt, buiten git (standaard "
                   "CLOUDFRONT_PRIVATE_KEY_FILE) / where the private key goes"})
def keys(c, pad=""):
    """Maak een sleutelpaar voor de CloudFront-inloglinks. / Make the CloudFront key pair."""
    from .cloudfront_signing import generate_key_pair

    settings = CloudFrontSettings.from_env()
    path = Path(pad) if pad else settings.private_key_file
    pem = generate_key_pair(path)
    print(f"Privésleutel geschreven naar {path} (alleen leesbaar voor jou; nooit in git).")
    print("Publieke sleutel voor de CloudFront-sleutelgroep ('invoke provision' gebruikt hem):")
    print(pem)
    return pem


@task(name="rotate-keys", help={"brieven": "map voor de nieuwe brieven (standaard "
                                           "private/brieven-cloudfront) / letters folder"})
def rotate_keys(c, brieven=""):
    """Vervang de sleutel: ALLE bestaande inloglinks vervallen, nieuwe brieven worden gemaakt.
    / Rotate the signing key; revokes every existing link."""
    from .key_rotation import rotate_keys as rotate

    settings = CloudFrontSettings.from_env(require=(
        "CLOUDFRONT_KEY_GROUP_ID", "CLOUDFRONT_DOMAIN", "CLOUDFRONT_PRIVATE_KEY_FILE"))
    roster, section_map = _roster_and_map(settings)
    return rotate(settings, roster, section_map, aws_client("cloudfront", settings),
                  letters_dir=Path(brieven) if brieven else None)


@task(help={"domein": "eigen domeinnaam (optioneel) / own domain name",
            "certificaat": "ACM-certificaat (us-east-1) voor dat domein / its certificate"})
def provision(c, domein="", certificaat=""):
    """Maak of werk de AWS-omgeving bij (bucket, CloudFront) en toon het adres.
    / Create or update the CloudFormation stack."""
    from .provision import provision as apply_stack

    settings = CloudFrontSettings.from_env(require=("SCHOOLPLEIN_S3_BUCKET",))
    return apply_stack(settings, aws_client("cloudformation", settings), domain_name=domein,
                       certificate_arn=certificaat)


@task(name="cloudfront-letters", help={"brieven": "waar de brieven komen (buiten de site) / "
                                              "where the letters go"})
def cloudfront_letters(c, brieven=""):
    """Schrijf de brieven met persoonlijke inloglinks en QR-codes. / Write the login letters."""
    from .login_links import write_cloudfront_letters

    settings = CloudFrontSettings.from_env(require=("CLOUDFRONT_DOMAIN", "CLOUDFRONT_KEY_PAIR_ID"))
    roster, section_map = _roster_and_map(settings)
    written = write_cloudfront_letters(roster, section_map, settings,
                                       Path(brieven) if brieven else None)
    print(f"{len(written)} brieven geschreven in {written[0].parent if written else '-'}.")
    return written
