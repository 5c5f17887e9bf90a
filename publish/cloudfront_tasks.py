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

from .cloudfront_revocation import LinkRegistry, maintain_revocations
from .cloudfront_settings import CloudFrontSettings
from .invalidation_journal import InvalidationJournal
from .s3sync import Plan, sync


def aws_client(service: str, settings: CloudFrontSettings):
    """boto3 client; AWS_ENDPOINT_URL points S3 at moto in tests (CloudFront too).

    The KeyValueStore API is global (SigV4A, needs awscrt) and never goes to moto.
    """
    import boto3
    from botocore.config import Config

    kvs = service == "cloudfront-keyvaluestore"
    return boto3.client(service, region_name="us-east-1" if kvs else settings.region,
                        endpoint_url=None if kvs else settings.endpoint_url,
                        config=Config(retries={"max_attempts": 5, "mode": "standard"},
                                      connect_timeout=10, read_timeout=60))


def publish_cloudfront(output_dir: Path | str, section_map: SectionMap,
                       settings: CloudFrontSettings | None = None, dry_run: bool = False, *,
                       privacy_dropped: Iterable[str] = (), s3=None, cloudfront=None,
                       kvs=None) -> Plan:
    """Revoke the links of people gone from the roster, sync the output to the bucket
    and invalidate what changed; returns the plan.

    settings=None reads .env. Raises PublishError (a SchoolpleinError) with a Dutch
    message when S3 is unreachable; re-running is always safe. With a distribution,
    paths to invalidate are journalled in the private folder first, so a publish
    that was killed half-way is finished by the next one (s3sync).
    """
    if settings is None or not settings.bucket:
        settings = CloudFrontSettings.from_env(require=("SCHOOLPLEIN_S3_BUCKET",))
    present = {person for section in section_map.protected for person in section.readers}
    if kvs is None and settings.kvs_arn:
        kvs = aws_client("cloudfront-keyvaluestore", settings)
    maintain_revocations(LinkRegistry.load(settings.private_dir), present, kvs,
                         settings.kvs_arn, dry_run=dry_run)
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
    from plugins.settings import load_settings

    roster = load_roster(load_settings().roster)
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
        "CLOUDFRONT_DOMAIN", "CLOUDFRONT_PRIVATE_KEY_FILE"))
    roster, section_map = _roster_and_map(settings)
    return rotate(settings, roster, section_map, aws_client("cloudformation", settings),
                  letters_dir=Path(brieven) if brieven else None)


@task(help={"domein": "eigen domeinnaam; blijft staan tot --zonder-domein / own domain name",
            "certificaat": "ACM-certificaat (us-east-1) voor dat domein / its certificate",
            "zonder_domein": "haal het eigen domein en certificaat weg / remove them",
            "bewaardagen": "dagen dat de toegangslogs bewaard blijven (standaard 30) / "
                           "days the access logs are kept"})
def provision(c, domein="", certificaat="", zonder_domein=False, bewaardagen=None):
    """Maak of werk de AWS-omgeving bij (bucket, CloudFront) en toon het adres.
    / Create or update the CloudFormation stack."""
    from .provision import provision as apply_stack

    settings = CloudFrontSettings.from_env(require=("SCHOOLPLEIN_S3_BUCKET",))
    return apply_stack(settings, aws_client("cloudformation", settings), domain_name=domein,
                       certificate_arn=certificaat, remove_domain=zonder_domein,
                       log_days=int(bewaardagen) if bewaardagen else None)


@task(name="cloudfront-letters", iterable=["opnieuw"], help={
    "brieven": "waar de brieven komen (buiten de site) / where the letters go",
    "opnieuw": "nieuwe link voor deze persoon (id); de oude vervalt bij de volgende publicatie, "
               "mag vaker / renew one person's link (repeatable)"})
def cloudfront_letters(c, brieven="", opnieuw=None):
    """Schrijf de brieven met persoonlijke inloglinks en QR-codes. / Write the login letters."""
    from .login_links import write_cloudfront_letters

    settings = CloudFrontSettings.from_env(require=("CLOUDFRONT_DOMAIN", "CLOUDFRONT_KEY_PAIR_ID"))
    roster, section_map = _roster_and_map(settings)
    written = write_cloudfront_letters(roster, section_map, settings,
                                       Path(brieven) if brieven else None, renew=opnieuw or ())
    print(f"{len(written)} brieven geschreven in {written[0].parent if written else '-'}.")
    if opnieuw:
        print("De oude link(s) werken niet meer na 'invoke publish --target cloudfront'.")
    return written
