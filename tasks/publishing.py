"""The publish task: build with production settings, then hand the output to a target."""

from __future__ import annotations

import tempfile
from pathlib import Path

from publish import targets

from .common import STRICT_HELP, admin_task, build, build_and_publish, settings


@admin_task(help={"target": "waarheen: " + " of ".join(targets.names())
                            + " / where to (see README)",
                  "dry_run": "toon alleen wat er zou veranderen / only show the plan",
                  "strict": STRICT_HELP})
def publish(c, target="nginx", dry_run=False, strict=False):
    """Bouw en publiceer / Build and publish (nginx/Apache basic auth or S3 + CloudFront)."""
    cfg = settings()
    chosen = targets.target(target)
    if dry_run:  # built aside: the plan changes nothing, not even output/
        from records.retention import sweep

        sweep(cfg, dry_run=True)
        with tempfile.TemporaryDirectory() as tmp:
            output = Path(tmp) / "output"
            built = build(cfg, strict, output, production=True, for_target=chosen.name)
            chosen.plan(cfg, output, built["SCHOOLPLEIN_SECTIONS"])
        return
    build_and_publish(cfg, chosen, strict)
