"""The roster and its section map, parsed once per roster: cached by the roster's bytes.

Every build, and every task that builds and then publishes or serves, needs the validated
roster and the section map derived from it. The cache entry is keyed by sha256 of the code
that parses and derives them (roster.py, sections.py, errors.py), the school name, and every
file under roster/ (its name, whether it is a regular file, its bytes). So any roster change
(a consent withdrawn, a child moved to another group or household, a parent added, a
spreadsheet slip) is a different key and a fresh parse and validation; only an identical
roster is reused. A roster that fails validation is never stored: its errors come again at
every build. `load_roster` logs nothing, so a cache hit hides no message.

The kept archives of past years (plugins.archive, roster/archief/<year>/) are files under
roster/ too, so they are in the key; which of them are still kept on the day of the build
depends on the date and SCHOOLPLEIN_RETENTION_MONTHS, so the key holds those kept years as
well: an archive whose retention ended is never served from an older entry.

The entry holds what roster/ holds (names, e-mail addresses, consent), so it is as private
as roster/: it lives in the build cache (never in the output), readable by its owner only,
and only the newest entry is kept.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
import tempfile
from pathlib import Path

from . import archive
from .roster import Roster, load_roster
from .sections import SectionMap, build_section_map
from .settings import default

VERSION = 2
CODE = tuple(Path(__file__).with_name(name)
             for name in ("roster.py", "sections.py", "errors.py", "archive.py"))
PREFIX = "roster-"


def roster_key(roster_dir: Path | str, school_name: str, kept: tuple[str, ...] = ()) -> str:
    h = hashlib.sha256(f"schoolplein-roster-cache-{VERSION}\0{school_name}\0"
                       f"{','.join(kept)}\0".encode())
    for code in CODE:
        h.update(code.read_bytes())
    root = Path(roster_dir)
    for path in sorted(root.rglob("*")):
        st = os.lstat(path)
        h.update(f"\0{path.relative_to(root).as_posix()}\0{stat.S_IFMT(st.st_mode)}\0".encode())
        if stat.S_ISREG(st.st_mode):
            h.update(path.read_bytes())
    return h.hexdigest()


def load(roster_dir: Path | str, school_name: str,
         cache_dir: Path | str | None) -> tuple[Roster, SectionMap]:
    """The roster and section map for `roster_dir`; from `cache_dir` when the key matches."""
    roster, sections, _archives = load_with_archives(roster_dir, school_name, cache_dir)
    return roster, sections


def load_with_archives(roster_dir: Path | str, school_name: str, cache_dir: Path | str | None,
                       retention_months: int | None = None,
                       ) -> tuple[Roster, SectionMap, archive.Archives]:
    """The roster, the section map with the archives kept today, and those archives."""
    months = int(default("SCHOOLPLEIN_RETENTION_MONTHS")) if retention_months is None \
        else retention_months

    def parse():
        roster = load_roster(roster_dir)  # raises for a roster with problems: nothing is stored
        archives = archive.load_archives(roster_dir, months)
        return roster, build_section_map(roster, school_name, archives.live), archives

    if cache_dir is None:
        return parse()
    folder = Path(cache_dir)
    kept = archive.kept_years(roster_dir, months)
    entry = folder / f"{PREFIX}{roster_key(roster_dir, school_name, kept)}.pickle"
    try:
        with open(entry, "rb") as fh:
            value = pickle.load(fh)
        roster, sections, archives = value
        if isinstance(roster, Roster) and isinstance(sections, SectionMap) \
                and isinstance(archives, archive.Archives):
            return roster, sections, archives
    except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError):
        pass
    value = parse()
    _store(entry, value)
    return value


def login_roster(roster_dir: Path | str, school_name: str, cache_dir: Path | str | None,
                 retention_months: int | None = None) -> Roster:
    """Everyone who may log in today: the roster plus the parents who left but still read a
    kept archive (plugins.archive.account_roster), for their accounts and login links."""
    roster, _sections, archives = load_with_archives(roster_dir, school_name, cache_dir,
                                                     retention_months)
    return archive.account_roster(roster, archives.live)


def _store(entry: Path, value) -> None:
    """Atomically, owner-only; the entries of earlier rosters go."""
    entry.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-roster-", dir=entry.parent)  # mode 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, entry)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    for old in entry.parent.glob(f"{PREFIX}*.pickle"):
        if old != entry:
            old.unlink(missing_ok=True)
