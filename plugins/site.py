"""Run the Pelican build for Schoolplein and turn every failure into one clear error.

Pelican logs (rather than raises) most content errors and carries on; for a
fail-closed build any logged error counts as a failed build.
"""

from __future__ import annotations

import logging
from pathlib import Path

from pelican import Pelican
from pelican.settings import read_settings

from .errors import Problem, SchoolpleinError

ROOT = Path(__file__).resolve().parent.parent


class _ErrorCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def load_settings(config: str | Path | None = None, **overrides) -> dict:
    config = Path(config or ROOT / "pelicanconf.py")
    return read_settings(str(config), override={k.upper(): v for k, v in overrides.items()})


def build(config: str | Path | None = None, **overrides) -> dict:
    """Build the site; returns the settings used (roster and section map included)."""
    settings = load_settings(config, **overrides)
    collector = _ErrorCollector()
    logger = logging.getLogger("pelican")
    logger.addHandler(collector)
    try:
        pelican = Pelican(settings)
        pelican.run()
    finally:
        logger.removeHandler(collector)
    if collector.messages:
        raise SchoolpleinError([
            Problem("pelican", None, msg.splitlines()[0] if msg else "onbekende fout",
                    "zie de melding hierboven; herstel het bestand en bouw opnieuw")
            for msg in collector.messages
        ])
    return settings
