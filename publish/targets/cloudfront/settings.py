"""The S3 + CloudFront target's view of the settings (plugins.settings reads them all).

Missing production keys are reported together, in Dutch, so the admin can fix
.env in one go.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from plugins.settings import ROOT, SCHOOL_TZ, Settings, default, load_settings


@dataclass(frozen=True)
class CloudFrontSettings:
    region: str
    bucket: str
    distribution_id: str
    domain: str  # host name the cookies are signed for, e.g. ouders.kcdematrix.nl
    key_group_id: str
    key_pair_id: str  # id of the CloudFront *public key* in the key group
    private_key_file: Path
    access_until: date  # last day links and cookies work (inclusive)
    kvs_arn: str = ""  # KeyValueStore with the revoked links (stack output RevokedLinksArn)
    endpoint_url: str | None = None  # moto / tests only
    stack_name: str = default("SCHOOLPLEIN_STACK_NAME")
    private_dir: Path = Path(default("SCHOOLPLEIN_PRIVATE"))
    school_name: str = default("SCHOOLPLEIN_SCHOOL_NAME")

    @property
    def expires_epoch(self) -> int:
        """End of the access period: midnight after `access_until`, school time."""
        end = datetime.combine(self.access_until + timedelta(days=1), time(0), SCHOOL_TZ)
        return int(end.timestamp())

    @property
    def letters_dir(self) -> Path:
        return self.private_dir / "brieven-cloudfront"

    @classmethod
    def from_settings(cls, s: Settings, require: tuple[str, ...] = ()) -> CloudFrontSettings:
        s.require(*require)
        return cls(
            region=s.aws_region, bucket=s.s3_bucket, distribution_id=s.cloudfront_distribution_id,
            domain=s.cloudfront_domain, key_group_id=s.cloudfront_key_group_id,
            key_pair_id=s.cloudfront_key_pair_id, private_key_file=s.cloudfront_private_key_file,
            access_until=s.access_until, kvs_arn=s.cloudfront_kvs_arn,
            endpoint_url=s.aws_endpoint_url or None, stack_name=s.stack_name,
            private_dir=s.private, school_name=s.school_name)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, require: tuple[str, ...] = (),
                 root: Path = ROOT) -> CloudFrontSettings:
        """The project's settings (`root/.env` + environment), or only `env` (tests)."""
        return cls.from_settings(load_settings(root, env), require)
