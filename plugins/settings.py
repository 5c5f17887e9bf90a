"""Every setting, read in one place: `.env` + the environment + one table of defaults.

The admin edits `.env` (documented key by key in .env.example; a test keeps
the two in step). `load_settings()` turns it into one frozen `Settings` that
pelicanconf.py, the invoke tasks and the publish targets all use, so a
default is written once and a bad value gets the same Dutch error wherever it
is read. The environment wins over `.env` (CI, tests, a one-off override);
`.env` is the project's own, whatever the current folder. Relative paths are
relative to the project.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date, time
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from .errors import Problem, SchoolpleinError
from .roster import Consent

ROOT = Path(__file__).resolve().parent.parent
SCHOOL_TZ = ZoneInfo("Europe/Amsterdam")
TRUE = ("1", "true", "yes", "ja", "on")
FALSE = ("0", "false", "no", "nee", "off", "")


@dataclass(frozen=True)
class Key:
    """One `.env` key: the attribute it fills, its default (as written in .env) and its type."""

    env: str
    attr: str
    default: str
    kind: str = "text"  # text, url, path, int, bool, consent, date, clock
    fix: str = ""  # how to write a valid value (Dutch), for the error message


KEYS: tuple[Key, ...] = (
    # the school
    Key("SCHOOLPLEIN_SCHOOL_NAME", "school_name", "Kc de Matrix"),
    Key("SCHOOLPLEIN_DIRECTIE_EMAIL", "directie_email", "directie@kcdematrix.example.nl"),
    Key("SCHOOLPLEIN_SCHOOL_PHONE", "school_phone", "010-123 45 67"),
    Key("SCHOOLPLEIN_SITEURL", "site_url", "https://ouders.kcdematrix.example.nl", "url",
        "een volledig adres, bv. https://ouders.school.nl"),
    # folders
    Key("SCHOOLPLEIN_ROSTER", "roster", "roster", "path"),
    Key("SCHOOLPLEIN_CONTENT", "content", "content", "path"),
    Key("SCHOOLPLEIN_OUTPUT", "output", "output", "path"),
    Key("SCHOOLPLEIN_DEPLOY", "deploy", "publish-out", "path"),
    Key("SCHOOLPLEIN_PRIVATE", "private", "private", "path"),
    Key("SCHOOLPLEIN_PHOTO_CACHE", "photo_cache", "cache/photos", "path"),
    Key("SCHOOLPLEIN_BUILD_CACHE", "build_cache", "cache/build", "path"),
    Key("SCHOOLPLEIN_AUDIT", "audit", "audit", "path"),
    # photos
    Key("SCHOOLPLEIN_MIN_CHILDREN_PER_PHOTO", "min_children", "3", "int",
        "een heel getal, bv. 3"),
    Key("SCHOOLPLEIN_PHOTO_CONSENT_DEFAULT", "consent_default", "school", "consent",
        "gebruik geen, groep of school"),
    Key("SCHOOLPLEIN_STRICT", "strict", "0", "bool", "gebruik 1 (aan) of 0 (uit)"),
    Key("SCHOOLPLEIN_PHOTO_BLUR", "photo_blur", "0", "bool", "gebruik 1 (aan) of 0 (uit)"),
    # local server and the nginx/Apache target
    Key("SCHOOLPLEIN_PORT", "port", "8000", "int", "een poortnummer, bv. 8000"),
    Key("SCHOOLPLEIN_HSTS", "hsts", "false", "bool", "gebruik true of false"),
    Key("SCHOOLPLEIN_LISTEN", "listen", "127.0.0.1:8080"),
    Key("SCHOOLPLEIN_RSYNC_DEST", "rsync_dest", ""),
    Key("SCHOOLPLEIN_WEB_USER", "web_user", "www-data"),
    # S3 + CloudFront target
    Key("AWS_REGION", "aws_region", "eu-central-1"),
    Key("SCHOOLPLEIN_S3_BUCKET", "s3_bucket", ""),
    Key("SCHOOLPLEIN_STACK_NAME", "stack_name", "schoolplein"),
    Key("CLOUDFRONT_DISTRIBUTION_ID", "cloudfront_distribution_id", ""),
    Key("CLOUDFRONT_DOMAIN", "cloudfront_domain", ""),
    Key("CLOUDFRONT_KEY_GROUP_ID", "cloudfront_key_group_id", ""),
    Key("CLOUDFRONT_KEY_PAIR_ID", "cloudfront_key_pair_id", ""),
    Key("CLOUDFRONT_PRIVATE_KEY_FILE", "cloudfront_private_key_file",
        "private/cloudfront-private-key.pem", "path"),
    Key("CLOUDFRONT_KVS_ARN", "cloudfront_kvs_arn", ""),
    Key("SCHOOLPLEIN_ACCESS_UNTIL", "access_until", "", "date",
        "schrijf de datum als JJJJ-MM-DD, bv. 2027-07-31"),
    Key("AWS_ENDPOINT_URL", "aws_endpoint_url", ""),
    # postvak: mail and the teachers' day list
    Key("SCHOOLPLEIN_SMTP_HOST", "smtp_host", ""),
    Key("SCHOOLPLEIN_SMTP_PORT", "smtp_port", "587", "int", "bv. 587 (STARTTLS) of 25"),
    Key("SCHOOLPLEIN_SMTP_USER", "smtp_user", ""),
    Key("SCHOOLPLEIN_SMTP_PASSWORD", "smtp_password", ""),
    Key("SCHOOLPLEIN_SMTP_STARTTLS", "smtp_starttls", "true", "bool", "gebruik true of false"),
    Key("SCHOOLPLEIN_SMTP_FROM", "smtp_from", ""),
    Key("SCHOOLPLEIN_ADMIN_EMAIL", "admin_email", ""),
    Key("SCHOOLPLEIN_DAYLIST_TIME", "daylist_time", "08:35", "clock",
        "schrijf de tijd als UU:MM, bv. 08:35"),
    # school year: how long the archive of a past year is kept (plugins/archive.py)
    Key("SCHOOLPLEIN_RETENTION_MONTHS", "retention_months", "12", "int",
        "een heel aantal maanden na het einde van het schooljaar, bv. 12"),
    Key("SCHOOLPLEIN_DIGEST_TIME", "digest_time", "18:00", "clock",
        "schrijf de tijd als UU:MM, bv. 18:00"),
)
BY_ENV = {k.env: k for k in KEYS}


@dataclass(frozen=True)
class Settings:
    """The admin's settings; attribute names follow KEYS."""

    root: Path
    school_name: str
    directie_email: str
    school_phone: str
    site_url: str
    roster: Path
    content: Path
    output: Path
    deploy: Path
    private: Path
    photo_cache: Path
    build_cache: Path
    audit: Path
    min_children: int
    consent_default: Consent
    strict: bool
    photo_blur: bool
    port: int
    hsts: bool
    listen: str
    rsync_dest: str
    web_user: str
    aws_region: str
    s3_bucket: str
    stack_name: str
    cloudfront_distribution_id: str
    cloudfront_domain: str
    cloudfront_key_group_id: str
    cloudfront_key_pair_id: str
    cloudfront_private_key_file: Path
    cloudfront_kvs_arn: str
    access_until: date
    aws_endpoint_url: str
    smtp_host: str
    smtp_port: int
    smtp_user: str
    smtp_password: str = field(repr=False)
    smtp_starttls: bool
    smtp_from: str
    admin_email: str
    daylist_time: time
    retention_months: int
    digest_time: time
    env_file: Path | None = None  # where .env values came from (None: an explicit mapping)

    @property
    def server_root(self) -> Path | None:
        """Where the deploy folder lands on the web server ("user@host:/srv/x" -> /srv/x)."""
        return Path(self.rsync_dest.rsplit(":", 1)[-1]) if self.rsync_dest else None

    @property
    def site_hosts(self) -> frozenset[str]:
        """Every host name the site itself is reached by: its links are internal."""
        return frozenset(h.lower() for h in (urlsplit(self.site_url).netloc,
                                             self.cloudfront_domain) if h)

    def require(self, *env_keys: str) -> Settings:
        """Stop with one message listing every key the task at hand needs but lacks."""
        missing = [k for k in env_keys if not str(getattr(self, BY_ENV[k].attr) or "").strip()]
        if missing:
            raise SchoolpleinError([Problem(self._where(k), None, f"{k} ontbreekt",
                                            f"vul {k} in (zie .env.example)") for k in missing])
        return self

    def _where(self, key: str) -> str:
        return _where(self.env_file, key)


def _where(env_file: Path | None, key: str) -> str:
    """'.env:12' when the key is on line 12 of the project's .env, else '.env'."""
    if env_file is not None and env_file.is_file():
        for n, line in enumerate(env_file.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip().startswith(f"{key}="):
                return f"{env_file.name}:{n}"
    return ".env"


def _parsers(root: Path) -> dict[str, Callable[[str], object]]:
    def path(text: str) -> Path:
        value = Path(text).expanduser()
        return value if value.is_absolute() else root / value

    def boolean(text: str) -> bool:
        low = text.lower()
        if low not in TRUE + FALSE:
            raise ValueError(text)
        return low in TRUE

    def when(text: str) -> date:
        # the end of the coming school year when unset
        return date.fromisoformat(text) if text else date(date.today().year + 1, 7, 31)

    def url(text: str) -> str:
        if not urlsplit(text).netloc:
            raise ValueError(text)
        return text.rstrip("/")

    def clock(text: str) -> time:
        match = re.fullmatch(r"([01]?\d|2[0-3])[:.]([0-5]\d)", text)
        if not match:
            raise ValueError(text)
        return time(int(match[1]), int(match[2]))

    return {"clock": clock, "text": str, "url": url, "path": path, "int": int, "bool": boolean,
            "consent": lambda t: Consent(t.lower()), "date": when}


def load_settings(root: Path = ROOT, environ: Mapping[str, str] | None = None) -> Settings:
    """Read `.env` under `root` and the environment (or only `environ`, for tests)."""
    root = Path(root)
    env_file = root / ".env"
    if environ is None:
        from dotenv import dotenv_values

        values = {k: v for k, v in dotenv_values(env_file).items() if v is not None}
        values.update(os.environ)
    else:
        values, env_file = dict(environ), None
    parse = _parsers(root)
    found: dict[str, object] = {"root": root, "env_file": env_file}
    problems: list[Problem] = []
    for key in KEYS:
        text = (values.get(key.env) or "").strip() or key.default
        try:
            found[key.attr] = parse[key.kind](text)
        except ValueError:
            problems.append(Problem(_where(env_file, key.env), None,
                                    f"{key.env} '{text}' is geen geldige waarde",
                                    key.fix or "zie .env.example"))
    if problems:
        raise SchoolpleinError(problems)
    if not found["cloudfront_domain"]:  # the cookies' host: by default the site's own
        found["cloudfront_domain"] = urlsplit(str(found["site_url"])).hostname or ""
    if not values.get("AWS_REGION") and values.get("AWS_DEFAULT_REGION"):
        found["aws_region"] = values["AWS_DEFAULT_REGION"]
    known = {f.name for f in fields(Settings)}
    return Settings(**{k: v for k, v in found.items() if k in known})


def default(env_key: str) -> str:
    """A key's default as .env writes it (for code that needs the bare value)."""
    return BY_ENV[env_key].default
