"""The postvak's view of the settings (plugins.settings reads every key; .env.example lists them).

Without SCHOOLPLEIN_SMTP_HOST, mails are written as .eml files to private/mail/
(the local mailbox the demo shows) instead of being sent.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from urllib.parse import urlparse

from plugins.errors import Problem, SchoolpleinError
from plugins.roster import Consent
from plugins.settings import ROOT, Settings, default, load_settings


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
    consent_default: Consent = Consent(default("SCHOOLPLEIN_PHOTO_CONSENT_DEFAULT"))
    daylist_at: time = time.fromisoformat(default("SCHOOLPLEIN_DAYLIST_TIME"))  # Amsterdam time
    digest_at: time = time.fromisoformat(default("SCHOOLPLEIN_DIGEST_TIME"))  # summaries (news.py)
    school_name: str = default("SCHOOLPLEIN_SCHOOL_NAME")
    school_phone: str = default("SCHOOLPLEIN_SCHOOL_PHONE")  # in mails: "bel dan de school"
    content: Path | None = None  # content/: the sign-ups posts declare (None: no sign-ups)

    @property
    def mailbox(self) -> Path:
        return self.private / "mail"

    @classmethod
    def from_settings(cls, s: Settings) -> PostvakSettings:
        """The postvak's view of the admin's settings (plugins.settings reads them all)."""
        smtp = None
        if s.smtp_host:
            smtp = SmtpSettings(s.smtp_host, s.smtp_port, s.smtp_user, s.smtp_password,
                                s.smtp_starttls)
            if smtp.user and not smtp.starttls and not _loopback(smtp.host):
                raise SchoolpleinError(Problem(
                    ".env", None, "het SMTP-wachtwoord zou onversleuteld over het netwerk gaan",
                    "zet SCHOOLPLEIN_SMTP_STARTTLS=true (of gebruik een relay op deze machine)"))
        domain = urlparse(s.site_url).hostname or "localhost"
        return cls(private=s.private, roster=s.roster, site_url=s.site_url,
                   sender=s.smtp_from or f"Schoolplein <noreply@{domain}>", smtp=smtp,
                   admin_email=s.admin_email, directie_email=s.directie_email,
                   consent_default=s.consent_default, daylist_at=s.daylist_time,
                   digest_at=s.digest_time,
                   school_name=s.school_name, school_phone=s.school_phone, content=s.content)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, root: Path = ROOT) -> PostvakSettings:
        """The project's settings (`root/.env` + environment), or only `env` (tests)."""
        return cls.from_settings(load_settings(root, env))


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
