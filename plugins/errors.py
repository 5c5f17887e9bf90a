"""One error type for everything an admin or teacher must fix.

Each problem names the file, the line (or CSV row) and how to fix it, so the
admin never has to read a traceback. Problems are collected and reported
together: fixing a roster one error per build is maddening.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    message: str
    fix: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        text = f"{where}: {self.message}"
        return f"{text}\n    oplossing: {self.fix}" if self.fix else text


class SchoolpleinError(Exception):
    """Bad input. Carries every problem found, each with file, line and fix."""

    def __init__(self, problems: list[Problem] | Problem):
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        super().__init__(self.render())

    def render(self) -> str:
        n = len(self.problems)
        head = "1 probleem gevonden" if n == 1 else f"{n} problemen gevonden"
        return head + ":\n" + "\n".join(f"  - {p}" for p in self.problems)


def display_path(path: Path | str, root: Path | None = None) -> str:
    """Path as the admin sees it in the repository (relative when possible).

    Symlinks are not resolved: the message names the file the teacher put there.
    """
    path = os.path.abspath(path)
    for base in (root, os.getcwd()):
        if base is not None:
            base = os.path.abspath(base)
            if path.startswith(base + os.sep):
                return path[len(base) + 1:]
    return path


# What the admin's machine can refuse a write for, whatever writes it: a full disk (or quota),
# a read-only file system, no write permission, a file over the size limit.
DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM,
                         errno.EFBIG})


def disk_problem(exc: OSError, folders: Iterable[Path] = ()) -> Problem:
    """The admin's message for a write the machine refused (DISK_ERRNOS), naming the path.

    A full disk often fails a write() on a file already open, without a file
    name: then the message names every folder the task writes to that is (nearly) full.
    """
    # the file written: copies and renames name the source first and the destination second
    path = str(exc.filename2 or exc.filename or "")
    where = _existing_folder(Path(path)) if path else None
    if not path:
        full: dict[int, Path] = {}  # one folder per file system
        for folder in folders:
            device, free = _space(folder)
            if free is not None and free < 1 << 20:
                full.setdefault(device, folder)
        path = ", ".join(map(display_path, full.values())) or "een map van de build of publicatie"
        where = next(iter(full.values()), None)
    else:
        path = display_path(path)
    again = "start daarna opnieuw; de vorige versie blijft online"
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        what = "de schijf is vol" if exc.errno != errno.EFBIG else "het bestand wordt te groot"
        return Problem(path, None, f"schrijven mislukt: {what} ({exc.strerror})",
                       f"maak ruimte vrij op die schijf (kijk met 'df -h {display_path(where or '.')}') "
                       "of kies in .env een map op een andere schijf (SCHOOLPLEIN_OUTPUT, "
                       f"SCHOOLPLEIN_DEPLOY, SCHOOLPLEIN_BUILD_CACHE, SCHOOLPLEIN_PHOTO_CACHE); {again}")
    if exc.errno == errno.EROFS:
        return Problem(path, None, f"schrijven mislukt: deze map staat op een alleen-lezen schijf "
                       f"({exc.strerror})", "koppel de schijf schrijfbaar (mount -o remount,rw) of "
                       f"kies in .env een andere map; {again}")
    return Problem(path, None, f"schrijven mislukt: geen toegang ({exc.strerror})",
                   "geef de gebruiker die 'invoke' draait schrijfrechten op deze map (chown of "
                   f"chmod u+w) of kies in .env een andere map; {again}")


def _existing_folder(path: Path) -> Path | None:
    return next((p for p in (path, *path.parents) if p.is_dir()), None)


def _space(folder: Path) -> tuple[int, int | None]:
    """(device, free bytes) of the file system holding `folder` (or its nearest existing parent)."""
    import shutil

    for candidate in (Path(folder), *Path(folder).parents):
        try:
            return os.stat(candidate).st_dev, shutil.disk_usage(candidate).free
        except OSError:
            continue
    return -1, None
