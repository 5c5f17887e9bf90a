"""Run `process` once in a process of its own, so a test can SIGKILL it anywhere.

Usage: python tests/postvak/run_process.py '<settings as JSON>'
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from plugins.roster import Consent  # noqa: E402
from postvak import PostvakSettings, process  # noqa: E402
from postvak.settings import SmtpSettings  # noqa: E402

cfg = json.loads(sys.argv[1])
settings = PostvakSettings(
    private=Path(cfg["private"]), roster=Path(cfg["roster"]), site_url=cfg["site_url"],
    sender=cfg["sender"], admin_email=cfg["admin_email"], consent_default=Consent.SCHOOL,
    smtp=SmtpSettings("127.0.0.1", cfg["port"], starttls=False, timeout=60) if cfg["port"] else None)
summary = process(settings)
print(json.dumps({"applied": len(summary.applied), "sent": summary.mail.sent}))
