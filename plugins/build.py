"""The Pelican plugin that wires Schoolplein into the build (signals only).

On start it loads the roster and derives the section map; everything else
(routing, section pages, output checks) reads them from the settings, so the
section map stays the single source of truth for access.
"""

from __future__ import annotations

from pelican import signals

from . import output_check, routing, section_pages
from .roster import Consent, load_roster
from .sections import build_section_map


def _load(pelican) -> None:
    settings = pelican.settings
    roster = load_roster(settings["SCHOOLPLEIN_ROSTER"])
    settings["SCHOOLPLEIN_ROSTER_OBJ"] = roster
    settings["SCHOOLPLEIN_SECTIONS"] = build_section_map(roster, settings["SITENAME"])
    settings["PHOTO_CONSENT_DEFAULT"] = Consent(settings.get("PHOTO_CONSENT_DEFAULT", "school"))
    routing.reset()


def register() -> None:
    signals.initialized.connect(_load)
    signals.content_object_init.connect(routing.route)
    signals.article_generator_finalized.connect(routing.raise_problems)
    signals.page_generator_finalized.connect(routing.raise_problems)
    signals.get_generators.connect(section_pages.get_generators)
    signals.finalized.connect(output_check.check_pelican)
