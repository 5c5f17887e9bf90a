"""Admin settings from `.env` (python-dotenv), with defaults for the local demo."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dotenv import load_dotenv

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SCHOOL_NAME = "Kc de Matrix"  # the demo school


@dataclass(frozen=True)
class Config:
    root: Path
    roster: Path
    private: Path
    output: Path
    deploy: Path
    port: int
    hsts: bool
    rsync_dest: str
    school_name: str
    site_url: str
    web_user: str = "www-data"

    @classmethod
    def from_env(cls, root: Path = ROOT) -> Config:
        load_dotenv(root / ".env")
        env = os.environ.get

        def path(key: str, default: str) -> Path:
            value = Path(env(key, default))
            return value if value.is_absolute() else root / value

        return cls(
            root=root,
            roster=path("SCHOOLPLEIN_ROSTER", "roster"),
            private=path("SCHOOLPLEIN_PRIVATE", "private"),
            output=path("SCHOOLPLEIN_OUTPUT", "output"),
            deploy=path("SCHOOLPLEIN_DEPLOY", "publish-out"),
            port=int(env("SCHOOLPLEIN_PORT", "8000")),
            hsts=env("SCHOOLPLEIN_HSTS", "false").lower() in ("1", "true", "yes", "ja"),
            rsync_dest=env("SCHOOLPLEIN_RSYNC_DEST", ""),
            school_name=env("SCHOOLPLEIN_SCHOOL_NAME", DEFAULT_SCHOOL_NAME),
            site_url=env("SCHOOLPLEIN_SITEURL", "").rstrip("/"),
            web_user=env("SCHOOLPLEIN_WEB_USER", "www-data"),
        )

    @property
    def server_root(self) -> Path | None:
        """Where the deploy folder lands on the web server ("user@host:/srv/x" -> /srv/x)."""
        return Path(self.rsync_dest.rsplit(":", 1)[-1]) if self.rsync_dest else None
