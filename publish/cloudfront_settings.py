"""Settings for the S3 + CloudFront target, read once from the environment (.env).

Every key is documented in .env.example. Missing production keys are reported
together, in Dutch, so the admin can fix .env in one go. Like publish.config,
the .env is the project's own (`ROOT / ".env"`, whatever the current folder)
and relative paths in it are relative to the project.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from plugins.errors import Problem, SchoolpleinError

from .config import DEFAULT_SCHOOL_NAME, ROOT

SCHOOL_TZ = ZoneInfo("Europe/Amsterdam")


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
    stack_name: str = "schoolplein"
    private_dir: Path = Path("private")
    school_name: str = DEFAULT_SCHOOL_NAME

    @property
    def expires_epoch(self) -> int:
        """End of the access period: midnight after `access_until`, school time."""
        end = datetime.combine(self.access_until + timedelta(days=1), time(0), SCHOOL_TZ)
        return int(end.timestamp())

    @property
    def letters_dir(self) -> Path:
        return self.private_dir / "brieven-cloudfront"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, require: tuple[str, ...] = (),
                 root: Path = ROOT) -> CloudFrontSettings:
        """Read settings; `require` lists keys that must be set for the task at hand.

        env=None loads `root / ".env"` into the environment first (an explicit
        `env` mapping is used as it is, for tests).
        """
        if env is None:
            from dotenv import load_dotenv

            load_dotenv(root / ".env")  # the project's .env, not the current folder's
            env = os.environ
        problems: list[Problem] = []

        def path(key: str, default: str) -> Path:
            value = Path(get(key, default))
            return value if value.is_absolute() else root / value

        def get(key: str, default: str = "") -> str:
            value = env.get(key, "").strip() or default
            if key in require and not value:
                problems.append(Problem(".env", None, f"{key} ontbreekt",
                                        f"vul {key} in (zie .env.example)"))
            return value

        siteurl_host = urlparse(env.get("SCHOOLPLEIN_SITEURL", "")).hostname or ""
        until_text = get("SCHOOLPLEIN_ACCESS_UNTIL", f"{date.today().year + 1}-07-31")
        try:
            until = date.fromisoformat(until_text)
        except ValueError:
            problems.append(Problem(".env", None,
                                    f"SCHOOLPLEIN_ACCESS_UNTIL '{until_text}' is geen datum",
                                    "schrijf de datum als JJJJ-MM-DD, bv. 2027-07-31"))
            until = date.today()
        settings = cls(
            region=get("AWS_REGION", env.get("AWS_DEFAULT_REGION", "eu-central-1")),
            bucket=get("SCHOOLPLEIN_S3_BUCKET"),
            distribution_id=get("CLOUDFRONT_DISTRIBUTION_ID"),
            domain=get("CLOUDFRONT_DOMAIN", siteurl_host),
            key_group_id=get("CLOUDFRONT_KEY_GROUP_ID"),
            key_pair_id=get("CLOUDFRONT_KEY_PAIR_ID"),
            private_key_file=path("CLOUDFRONT_PRIVATE_KEY_FILE",
                                  "private/cloudfront-private-key.pem"),
            access_until=until,
            kvs_arn=get("CLOUDFRONT_KVS_ARN"),
            endpoint_url=get("AWS_ENDPOINT_URL") or None,
            stack_name=get("SCHOOLPLEIN_STACK_NAME", "schoolplein"),
            private_dir=path("SCHOOLPLEIN_PRIVATE", "private"),
            school_name=get("SCHOOLPLEIN_SCHOOL_NAME", DEFAULT_SCHOOL_NAME),
        )
        if problems:
            raise SchoolpleinError(problems)
        return settings
