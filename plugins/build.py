"""The Pelican plugin that wires Schoolplein into the build (signals only).

On start it refuses every symlink in what the build reads (plugins.sources),
loads the roster and derives the section map; everything else (routing,
section pages, output checks) reads them from the settings, so the
section map stays the single source of truth for access. It also compares the
roster with the last good build's and warns about every change that shows a
child to more people (plugins.roster_changes); that snapshot is replaced at
the end of a build that passed its output check and logged no error (never by
a throwaway build: SCHOOLPLEIN_RECORD_ROSTER False, as `invoke check` sets it).
Each receiver acts only for builds that enabled this plugin, with that build's
state (plugins.state).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

from pelican import signals

from . import (
    agenda_output,
    incremental,
    output_check,
    roster_cache,
    roster_changes,
    routing,
    section_pages,
    signup_pages,
    signups,
    sources,
)
from .archive import FOLDER as ARCHIVE
from .archive import photo_roster
from .calendar_feeds import read_addresses
from .photos.audit import private_dir
from .roster import Consent
from .sections import with_feeds
from .settings import default
from .state import BuildState, receiver

NAME = __name__
on_build = receiver(NAME)
log = logging.getLogger(__name__)
if hasattr(log, "disable_filter"):  # Pelican's LimitLogger shows a message once per process;
    log.disable_filter()  # a roster warning must show at every build (tests, benchmarks)


@on_build
def _load(pelican, state: BuildState) -> None:
    settings = pelican.settings
    sources.refuse_symlinks(settings)  # before anything is read: Pelican follows links
    roster, sections, archives = roster_cache.load_with_archives(
        settings["SCHOOLPLEIN_ROSTER"], settings["SITENAME"], settings.get("SCHOOLPLEIN_BUILD_CACHE"),
        settings.get("SCHOOLPLEIN_RETENTION_MONTHS", int(default("SCHOOLPLEIN_RETENTION_MONTHS"))))
    settings["SCHOOLPLEIN_ROSTER_OBJ"] = roster
    settings["SCHOOLPLEIN_SECTIONS"] = with_feeds(  # with the kept archives (plugins.archive)
        sections, roster, read_addresses(settings["SCHOOLPLEIN_PRIVATE"]))
    settings["SCHOOLPLEIN_PHOTO_ROSTER"] = photo_roster(roster, archives.live)
    _leave_out(settings, archives.expired)
    settings["PHOTO_CONSENT_DEFAULT"] = Consent(settings.get(
        "PHOTO_CONSENT_DEFAULT", default("SCHOOLPLEIN_PHOTO_CONSENT_DEFAULT")))
    _compare_roster(settings, roster)
    # sign-ups the posts declare (a wrong declaration stops the build with file, line and fix)
    settings["SCHOOLPLEIN_SIGNUPS"] = signups.load(Path(settings["PATH"]), roster)
    settings["SCHOOLPLEIN_NOW"] = settings.get("SCHOOLPLEIN_NOW") or datetime.now(UTC)
    state.watch_errors()
    if settings.get("SCHOOLPLEIN_PREVIOUS_OUTPUT"):
        state.incremental = incremental.Incremental(settings)
        incremental.cache_templates(settings)


def _leave_out(settings, expired) -> None:
    """Posts of an archive past its retention are never read (the next publish deletes them)."""
    if not expired:
        return
    settings["ARTICLE_EXCLUDES"] = [*settings.get("ARTICLE_EXCLUDES", []),
                                    *(f"{ARCHIVE}/{a.year}" for a in expired)]
    for archive in expired:
        log.warning("archief %s: bewaartermijn verlopen (tot en met %s); niet gebouwd, de "
                    "volgende 'invoke publish' verwijdert het", archive.year, archive.until)


def _snapshot_dir(settings) -> Path:
    """Beside the photo audit: private, and refused inside the output like the audit."""
    return private_dir(settings["PHOTO_AUDIT_DIR"], settings["OUTPUT_PATH"])


def _compare_roster(settings, roster) -> None:
    """Warn about every widening since the last good build; keep the new state for _finish."""
    state = roster_changes.snapshot(roster, settings["PHOTO_CONSENT_DEFAULT"])
    folder = _snapshot_dir(settings)
    try:
        before = roster_changes.load_snapshot(folder)
    except ValueError:
        before = None
        log.warning("rooster: de vorige rooster-stand (%s) is onleesbaar; wijzigingen sinds de "
                    "vorige build kunnen niet getoond worden", folder / roster_changes.SNAPSHOT_NAME)
    changes = tuple(roster_changes.widenings(before, state, roster))
    for change in changes:
        log.warning(change.console())
    settings["SCHOOLPLEIN_ROSTER_STATE"] = state
    settings["SCHOOLPLEIN_ROSTER_CHANGES"] = changes


@on_build
def _route(instance, state: BuildState) -> None:
    routing.route(instance, state.problems)


@on_build
def _raise_problems(generator, state: BuildState) -> None:
    routing.drop_drafts(generator)
    routing.raise_problems(state.problems)


@on_build
def _signups(generator, state: BuildState) -> None:
    signup_pages.attach(generator.articles, generator.settings)


@on_build
def _generators(pelican, state: BuildState):
    return section_pages.SectionPagesGenerator, signup_pages.SignupPagesGenerator


@on_build
def _writer(pelican, state: BuildState):
    return incremental.IncrementalWriter if state.incremental is not None else None


@on_build
def _finish(pelican, state: BuildState) -> None:
    """Check the output; only then record this roster (and this output) as the last good build's."""
    settings = pelican.settings
    errors = state.stop_watching_errors()
    inc = state.incremental
    if inc is None:
        output_check.check_pelican(pelican)
    else:
        files = inc.finish()
        output_check.check_pelican(pelican, only=inc.unchecked(files), files=files)
    if errors == 0 and "SCHOOLPLEIN_ROSTER_STATE" in settings and settings.get(
            "SCHOOLPLEIN_RECORD_ROSTER", True):  # False: a throwaway build (invoke check)
        roster_changes.save_snapshot(_snapshot_dir(settings), settings["SCHOOLPLEIN_ROSTER_STATE"])
    if errors == 0:
        agenda_output.save(settings, settings.get(agenda_output.SETTINGS_KEY))
    if errors == 0 and inc is not None:
        inc.save(files)
        log.info("incrementeel: %d groepen hergebruikt, %d opnieuw geschreven",
                 inc.reused, inc.rendered)


def register() -> None:
    signals.initialized.connect(_load)
    signals.content_object_init.connect(_route)
    signals.article_generator_finalized.connect(_raise_problems)
    signals.article_generator_finalized.connect(_signups)
    signals.page_generator_finalized.connect(_raise_problems)
    signals.get_generators.connect(_generators)
    signals.get_writer.connect(_writer)
    signals.finalized.connect(_finish)
