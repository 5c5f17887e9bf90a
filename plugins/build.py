"""The Pelican plugin that wires Schoolplein into the build (signals only).

On start it loads the roster and derives the section map; everything else
(routing, section pages, output checks) reads them from the settings, so the
section map stays the single source of truth for access.
Each receiver acts only for builds that enabled this plugin (pelican_seam).
"""

from __future__ import annotations

from pelican import signals

from . import output_check, pelican_seam, routing, section_pages
from .roster import Consent, load_roster
from .sections import build_section_map

NAME = __name__


def enabled(settings) -> bool:
    return pelican_seam.enabled(settings, NAME)


def _load(pelican) -> None:
    settings = pelican.settings
    if not enabled(settings):
        return
    roster = load_roster(settings["SCHOOLPLEIN_ROSTER"])
    settings["SCHOOLPLEIN_ROSTER_OBJ"] = roster
    settings["SCHOOLPLEIN_SECTIONS"] = build_section_map(roster, settings["SITENAME"])
    settings["PHOTO_CONSENT_DEFAULT"] = Consent(settings.get("PHOTO_CONSENT_DEFAULT", "school"))
    routing.reset()


def _route(instance) -> None:
    if enabled(getattr(instance, "settings", None)):
        routing.route(instance)


def _raise_problems(generator) -> None:
    if enabled(generator.settings):
        routing.drop_drafts(generator)
        routing.raise_problems(generator)


def _generators(pelican):
    return section_pages.SectionPagesGenerator if enabled(pelican.settings) else None


def _check(pelican) -> None:
    if enabled(pelican.settings):
        output_check.check_pelican(pelican)


def register() -> None:
    signals.initialized.connect(_load)
    signals.content_object_init.connect(_route)
    signals.article_generator_finalized.connect(_raise_problems)
    signals.page_generator_finalized.connect(_raise_problems)
    signals.get_generators.connect(_generators)
    signals.finalized.connect(_check)
