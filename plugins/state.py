"""What one build collects while it runs, kept in that build's own settings.

Pelican's signals are process-global: a receiver registered by one build fires
for every later Pelican run in the same process (tests, benchmarks). `receiver`
makes a receiver act only for builds that enabled its plugin and hands it that
build's state. Nothing is kept in module globals, so two builds in one process
never see each other's problems, photos or roster changes.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field

from .errors import Problem

KEY = "SCHOOLPLEIN_BUILD_STATE"


class ErrorCount(logging.Handler):
    """Counts the errors Pelican logs during one build (such a build fails: plugins.site)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


@dataclass
class BuildState:
    problems: list[Problem] = field(default_factory=list)  # routing: raised once all is read
    photo_hashes: frozenset[str] = frozenset()  # this build's source photos, for the leak check
    photo_sizes: frozenset[int] = frozenset()
    photos_encoded: int = 0  # encoded in this build (0 when every photo came from the cache)
    errors: ErrorCount = field(default_factory=ErrorCount)
    incremental: object = None  # plugins.incremental.Incremental, when there is a previous build

    # Pelican's reader cache pickles content metadata, which refers to the build's settings
    # and so to this state: it belongs to one build and is never carried into another.
    def __getstate__(self) -> dict:
        return {}

    def __setstate__(self, _state: dict) -> None:
        self.__init__()

    def watch_errors(self) -> None:
        logger = logging.getLogger("pelican")
        for handler in [h for h in logger.handlers if isinstance(h, ErrorCount)]:
            logger.removeHandler(handler)  # left by an earlier build that crashed
        logger.addHandler(self.errors)

    def stop_watching_errors(self) -> int:
        logging.getLogger("pelican").removeHandler(self.errors)
        return self.errors.count


def enabled(settings, plugin: str) -> bool:
    return plugin in (settings or {}).get("PLUGINS", ())


def receiver(plugin: str):
    """Decorate a signal receiver: it runs only for builds that enabled `plugin`, and gets
    `(sender, state, ...)` with that build's BuildState (made on first use)."""

    def decorate(fn):
        @functools.wraps(fn)
        def act(sender, *args, **kwargs):
            settings = getattr(sender, "settings", None)
            if not enabled(settings, plugin):
                return None
            state = settings.get(KEY)
            if state is None:
                state = settings[KEY] = BuildState()
            return fn(sender, state, *args, **kwargs)

        return act

    return decorate
