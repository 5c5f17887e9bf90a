"""Key, stack and letter tasks of the S3 + CloudFront target.

The CloudFront code (boto3, cryptography, qrcode) is imported inside the tasks: every
`invoke` start registers these tasks, and `invoke build` needs none of it.
"""

from __future__ import annotations

from pathlib import Path

from .common import admin_task, roster_and_sections
from .common import settings as load


def cloudfront_settings(cfg, require=()):
    from publish.targets.cloudfront.settings import CloudFrontSettings

    return CloudFrontSettings.from_settings(cfg, require)


def aws_client(service, settings):
    from publish.targets.cloudfront import aws_client as client

    return client(service, settings)


@admin_task(help={"pad": "waar de privésleutel komt, buiten git (standaard "
                   "CLOUDFRONT_PRIVATE_KEY_FILE) / where the private key goes"})
def keys(c, pad=""):
    """Maak een sleutelpaar voor de CloudFront-inloglinks. / Make the CloudFront key pair."""
    from publish.targets.cloudfront.signing import generate_key_pair

    settings = cloudfront_settings(load())
    path = Path(pad) if pad else settings.private_key_file
    pem = generate_key_pair(path)
    print(f"Privésleutel geschreven naar {path} (alleen leesbaar voor jou; nooit in git).")
    print("Publieke sleutel voor de CloudFront-sleutelgroep ('invoke provision' gebruikt hem):")
    print(pem)
    return pem


@admin_task(name="rotate-keys", help={"brieven": "map voor de nieuwe brieven (standaard "
                                           "private/brieven-cloudfront) / letters folder"})
def rotate_keys(c, brieven=""):
    """Vervang de sleutel: ALLE bestaande inloglinks vervallen, nieuwe brieven worden gemaakt.
    / Rotate the signing key; revokes every existing link."""
    from publish.targets.cloudfront.rotation import rotate_keys as rotate

    cfg = load()
    settings = cloudfront_settings(cfg, (
        "CLOUDFRONT_DOMAIN", "CLOUDFRONT_PRIVATE_KEY_FILE"))
    roster, section_map = roster_and_sections(cfg)
    return rotate(settings, roster, section_map, aws_client("cloudformation", settings),
                  letters_dir=Path(brieven) if brieven else None)


@admin_task(help={"domein": "eigen domeinnaam; blijft staan tot --zonder-domein / own domain name",
            "certificaat": "ACM-certificaat (us-east-1) voor dat domein / its certificate",
            "zonder_domein": "haal het eigen domein en certificaat weg / remove them",
            "bewaardagen": "dagen dat de toegangslogs bewaard blijven (standaard 30) / "
                           "days the access logs are kept"})
def provision(c, domein="", certificaat="", zonder_domein=False, bewaardagen=None):
    """Maak of werk de AWS-omgeving bij (bucket, CloudFront) en toon het adres.
    / Create or update the CloudFormation stack."""
    from publish.targets.cloudfront.provision import provision as apply_stack

    settings = cloudfront_settings(load(), ("SCHOOLPLEIN_S3_BUCKET",))
    return apply_stack(settings, aws_client("cloudformation", settings), domain_name=domein,
                       certificate_arn=certificaat, remove_domain=zonder_domein,
                       log_days=int(bewaardagen) if bewaardagen else None)


@admin_task(name="cloudfront-letters", iterable=["opnieuw"], help={
    "brieven": "waar de brieven komen (buiten de site) / where the letters go",
    "opnieuw": "nieuwe link voor deze persoon (id); de oude vervalt bij de volgende publicatie, "
               "mag vaker / renew one person's link (repeatable)"})
def cloudfront_letters(c, brieven="", opnieuw=None):
    """Schrijf de brieven met persoonlijke inloglinks en QR-codes. / Write the login letters."""
    written = write_letters(load(), Path(brieven) if brieven else None, opnieuw or ())
    if opnieuw:
        print("De oude link(s) werken niet meer na 'invoke publish --target cloudfront'.")
    return written


def write_letters(cfg, folder=None, renew=()):
    """The CloudFront letters (personal links with QR codes) for everyone in the roster."""
    from publish.targets.cloudfront.links import write_cloudfront_letters

    cloudfront = cloudfront_settings(cfg, ("CLOUDFRONT_DOMAIN",
                                                        "CLOUDFRONT_KEY_PAIR_ID"))
    roster, section_map = roster_and_sections(cfg, with_former=True)
    written = write_cloudfront_letters(roster, section_map, cloudfront, folder, renew=renew)
    print(f"{len(written)} brieven geschreven (één per persoon) in "
          f"{written[0].parent if written else '-'}; alles in één bestand om af te drukken: "
          f"{written[0].parent / 'afdrukken.html' if written else '-'}.")
    return written
