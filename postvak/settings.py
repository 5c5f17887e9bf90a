"""Postvak settings, read once from the environment (.env); every key is in .env.example.

Without SCHOOLPLEIN_SMTP_HOST, mails are written as .eml files to private/mail/
(the local mailbox the demo shows) instead of being sent.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from plugins.errors import Problem, SchoolpleinError
from plugins.roster import Consent

ROOT = Path(__file__).resolve().parent.parent
SCHOOL_TZ = ZoneInfo("Europe/Amsterdam")
DEFAULT_SCHOOL_NAME = "Kc de Matrix"
TRUE = ("1", "true", "yes", "ja", "on")
FALSE = ("0", "false", "no", "nee", "off")


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 587
    user: str = ""
    password: str = field(default="", repr=False)
    starttls: bool = True
    timeout: float = 30.0


@dataclass(frozen=True)
class PostvakSettings:
    private: Path  # the private folder; the postvak lives in private/postvak/
    roster: Path  # roster/ (leerlingen.csv is rewritten when consent changes)
    site_url: str  # links in mails: <site_url>/gezin/<id>/
    sender: str  # From: of every mail
    smtp: SmtpSettings | None = None  # None: the local mailbox private/mail/
    admin_email: str = ""  # the pupil administration (absences); "" = none
    directie_email: str = ""  # used when the roster names no directie
    consent_default: Consent = Consent.SCHOOL
    daylist_at: time = time(8, 35)  # the teachers' day list, Europe/Amsterdam
    school_name: str = DEFAULT_SCHOOL_NAME

    @property
    def mailbox(self) -> Path:
        return self.private / "mail"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, root: Path = ROOT) -> PostvakSettings:
        """Read the settings; env=None loads the project's .env into os.environ first."""
        if env is None:
            from dotenv import load_dotenv

            load_dotenv(root / ".env")
            env = os.environ
        problems: list[Problem] = []

        def get(key: str, default: str = "") -> str:
            return env.get(key, "").strip() or default

        def path(key: str, default: str) -> Path:
            value = Path(get(key, default))
            return value if value.is_absolute() else root / value

        def flag(key: str, default: bool) -> bool:
            value = get(key).lower()
            if value and value not in TRUE + FALSE:
                problems.append(Problem(".env", None, f"{key}='{value}' is geen ja/nee-waarde",
                                        f"schrijf {key}=true of {key}=false"))
            return value in TRUE if value else default

        def clock(key: str, default: str) -> time:
            value = get(key, default)
            match = re.fullmatch(r"([01]?\d|2[0-3])[:.]([0-5]\d)", value)
            if not match:
                problems.append(Problem(".env", None, f"{key}='{value}' is geen tijd",
                                        f"schrijf de tijd als UU:MM, bv. {key}={default}"))
                return time.fromisoformat(default)
            return time(int(match[1]), int(match[2]))

        site_url = get("SCHOOLPLEIN_SITEURL", f"http://127.0.0.1:{get('SCHOOLPLEIN_PORT', '8000')}")
        domain = urlparse(site_url).hostname or "localhost"
        smtp = None
        host = get("SCHOOLPLEIN_SMTP_HOST")
        if host:
            port_text = get("SCHOOLPLEIN_SMTP_PORT", "587")
            if not port_text.isdigit():
                problems.append(Problem(".env", None, f"SCHOOLPLEIN_SMTP_PORT='{port_text}' is "
                                        "geen poortnummer", "bv. 587 (STARTTLS) of 25"))
                port_text = "587"
            smtp = SmtpSettings(host, int(port_text), get("SCHOOLPLEIN_SMTP_USER"),
                                env.get("SCHOOLPLEIN_SMTP_PASSWORD", ""),
                                flag("SCHOOLPLEIN_SMTP_STARTTLS", True))
            if smtp.user and not smtp.starttls and not _loopback(host):
                problems.append(Problem(
                    ".env", None, "het SMTP-wachtwoord zou onversleuteld over het netwerk gaan",
                    "zet SCHOOLPLEIN_SMTP_STARTTLS=true (of gebruik een relay op deze machine)"))
        consent_text = get("SCHOOLPLEIN_PHOTO_CONSENT_DEFAULT", "school").lower()
        try:
            consent_default = Consent(consent_text)
        except ValueError:
            problems.append(Problem(".env", None, f"SCHOOLPLEIN_PHOTO_CONSENT_DEFAULT="
                                    f"'{consent_text}' is onbekend", "kies geen, groep of school"))
            consent_default = Consent.NONE
        settings = cls(
            private=path("SCHOOLPLEIN_PRIVATE", "private"),
            roster=path("SCHOOLPLEIN_ROSTER", "roster"),
            site_url=site_url.rstrip("/"),
            sender=get("SCHOOLPLEIN_SMTP_FROM", f"Schoolplein <noreply@{domain}>"),
            smtp=smtp,
            admin_email=get("SCHOOLPLEIN_ADMIN_EMAIL"),
            directie_email=get("SCHOOLPLEIN_DIRECTIE_EMAIL"),
            consent_default=consent_default,
            daylist_at=clock("SCHOOLPLEIN_DAYLIST_TIME", "08:35"),
            school_name=get("SCHOOLPLEIN_SCHOOL_NAME", DEFAULT_SCHOOL_NAME),
        )
        if problems:
            raise SchoolpleinError(problems)
        return settings


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
