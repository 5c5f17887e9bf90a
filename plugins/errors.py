"""One error type for everything an admin or teacher must fix.

Each problem names the file, the line (or CSV row) and how to fix it, so the
admin never has to read a traceback. Problems are collected and reported
together: fixing a roster one error per build is maddening.
"""

from __future__ import annotations

import os
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
