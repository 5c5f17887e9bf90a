"""The S3 + CloudFront target: a private bucket behind CloudFront, signed cookies per section.

`TARGET` is what `invoke publish --target cloudfront` and `invoke postvak
--target cloudfront` use (publish.targets); the key, stack and letter tasks
live in tasks/keys.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from plugins.roster import Roster, load_roster
from plugins.sections import SectionMap
from plugins.settings import Settings
from publish.freshness import Stale
from publish.secret_scan import refuse_secrets

from . import sync as sync_module
from .journal import InvalidationJournal
from .links import renew_changed_access
from .manifest import BucketManifest
from .revocation import LinkRegistry, maintain_revocations
from .settings import CloudFrontSettings
from .submissions import Senders
from .submissions import collect as collect_submissions
from .sync import Plan

HEADERS_STAMP = "cloudfront-headers.json"  # the header rules the bucket's objects carry


def aws_client(service: str, settings: CloudFrontSettings, region: str = ""):
    """boto3 client; AWS_ENDPOINT_URL points S3 at moto in tests (CloudFront too).

    `region`: another region than the bucket's (AWS WAF for CloudFront lives in
    us-east-1). The KeyValueStore API is global (SigV4A, needs awscrt) and never
    goes to moto.
    """
    import boto3
    from botocore.config import Config

    kvs = service == "cloudfront-keyvaluestore"
    return boto3.client(service, region_name="us-east-1" if kvs else region or settings.region,
                        endpoint_url=None if kvs else settings.endpoint_url,
                        config=Config(retries={"max_attempts": 5, "mode": "standard"},
                                      connect_timeout=10, read_timeout=60))


def publish_cloudfront(output_dir: Path | str, section_map: SectionMap,
                       settings: CloudFrontSettings | None = None, dry_run: bool = False, *,
                       privacy_dropped: Iterable[str] = (), s3=None, cloudfront=None,
                       kvs=None, roster: Roster | None = None) -> Plan:
    """Revoke the links of people gone from the roster, sync the output to the bucket
    and invalidate what changed; returns the plan.

    With the `roster`, everyone whose access changed since their link first gets
    a new letter, and a narrowing revokes the old link (links.renew_changed_access).

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
    registry = LinkRegistry.load(settings.private_dir)
    if roster is not None:
        renew_changed_access(roster, section_map, settings, registry, dry_run=dry_run)
    maintain_revocations(registry, present, kvs, settings.kvs_arn, dry_run=dry_run)
    s3 = s3 or aws_client("s3", settings)
    if cloudfront is None and settings.distribution_id and not dry_run:
        cloudfront = aws_client("cloudfront", settings)
    journal = (InvalidationJournal.in_folder(settings.private_dir)
               if settings.distribution_id else None)
    if not settings.distribution_id:
        print("Let op: CLOUDFRONT_DISTRIBUTION_ID ontbreekt; de CloudFront-cache wordt niet "
              "vernieuwd (zie .env.example).")
    return sync_module.sync(output_dir, s3, settings.bucket, section_map, cloudfront=cloudfront,
                            distribution_id=settings.distribution_id, dry_run=dry_run,
                            privacy_dropped=privacy_dropped, journal=journal,
                            stamp=Path(settings.private_dir) / HEADERS_STAMP,
                            manifest=BucketManifest.in_folder(settings.private_dir))


def collect_postvak(settings: CloudFrontSettings, store, roster: Roster, *, s3=None,
                    team: bool = False) -> int:
    """Hand every submission waiting in the bucket to `store`; each is deleted once stored.

    The sender is the person whose expiry second the object's name carries
    (private/cloudfront-links.json), as their login in `roster`. `team`: the
    staff postvak's files (for postvak.team.intake_file) instead of the parents'.
    """
    senders = Senders.of(LinkRegistry.load(settings.private_dir), roster)
    return collect_submissions(s3 or aws_client("s3", settings), settings.bucket, store, senders,
                               team=team)


def people_with_links(settings: Settings) -> Roster:
    """Everyone holding a link: also the parents who left but still read an archive, so a
    rollover's narrowing of their access revokes their old link too."""
    from plugins.roster_cache import login_roster

    return login_roster(settings.roster, settings.school_name, settings.build_cache,
                        settings.retention_months)


class CloudFrontTarget:
    name = "cloudfront"
    title = "S3 + CloudFront (inloglinks met cookies)"

    def plan(self, settings: Settings, output: Path, sections: SectionMap) -> None:
        """Print what a publish would upload, delete, invalidate, revoke and re-issue;
        change nothing."""
        refuse_secrets(output, settings)
        publish_cloudfront(output, sections, CloudFrontSettings.from_settings(
            settings, ("SCHOOLPLEIN_S3_BUCKET",)), dry_run=True, roster=people_with_links(settings))

    def publish(self, settings: Settings, output: Path, sections: SectionMap,
                fresh=None) -> None:
        """Sync the checked output; `fresh()` (publish.freshness) is asked before the first
        change to the bucket: False raises Stale and nothing is uploaded or deleted."""
        refuse_secrets(output, settings)  # before any request (revocations included)
        if fresh is not None and not fresh():
            raise Stale
        publish_cloudfront(output, sections, CloudFrontSettings.from_settings(
            settings, ("SCHOOLPLEIN_S3_BUCKET",)), roster=people_with_links(settings))

    def collect(self, settings: Settings, store) -> int:
        """Hand parents' submissions waiting in S3 to `store` (postvak.intake), deleting each
        only after `store` returned; returns how many were handed over."""
        return collect_postvak(CloudFrontSettings.from_settings(settings, ("SCHOOLPLEIN_S3_BUCKET",)),
                               store, load_roster(settings.roster))

    def collect_team(self, settings: Settings, store) -> int:
        """The same for the staff postvak: each file to `store` (postvak.team.intake_file)."""
        return collect_postvak(CloudFrontSettings.from_settings(settings, ("SCHOOLPLEIN_S3_BUCKET",)),
                               store, load_roster(settings.roster), team=True)


TARGET = CloudFrontTarget()
