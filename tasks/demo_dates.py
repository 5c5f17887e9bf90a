"""Keep the demo school's sign-ups open whenever someone starts the demo.

The demo's posts declare real dates (`Aanmelden_tot:`, `Gesprekken:`, `Agenda:`), as a
teacher writes them; a demo started months later would show every sign-up closed.
`invoke demo` therefore moves the dates of a sign-up post whose deadline is near or
past by whole weeks (the weekday stays, so "dinsdagmiddag" stays true), until the
deadline lies at least AHEAD away and no conference day falls in a school holiday.
Only the demo does this, in its own working tree (`git checkout content/` undoes it);
a school's real posts keep the dates their teacher wrote. `today` is always given.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

from plugins.agenda import holiday_in, school_holidays
from plugins.signups import read_header

NEAR = timedelta(weeks=2)  # a deadline nearer than this moves ...
AHEAD = timedelta(weeks=5)  # ... to at least this far from today
SHIFTED = ("aanmelden_tot", "gesprekken", "agenda")
DATE_RE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
MAX_WEEKS = 520


def refresh(content: Path, today: date) -> list[Path]:
    """Move the near or past sign-ups under content/groep/ forward; the files changed."""
    holidays = school_holidays(content)
    changed = []
    for path in sorted(Path(content).glob("groep/*/*.md")):
        header = read_header(path)
        if not {"hulpouders", "gesprekken"} & header.entries.keys() or (
                "aanmelden_tot" not in header.entries):
            continue
        found = DATE_RE.search(header.entries["aanmelden_tot"][1][0][1])
        if not found:
            continue  # the build names the mistake
        deadline = date.fromisoformat(found[0])
        if deadline >= today + NEAR:
            continue
        lines = {n for key in SHIFTED if key in header.entries
                 for n, _ in header.entries[key][1]}
        talk_days = [date.fromisoformat(d[0]) for key in ("gesprekken",)
                     if key in header.entries for _, text in header.entries[key][1]
                     for d in DATE_RE.finditer(text)]
        weeks = -(-(today + AHEAD - deadline).days // 7)
        while weeks < MAX_WEEKS and any(holiday_in(holidays, d + timedelta(weeks=weeks),
                                                   d + timedelta(weeks=weeks))
                                        for d in talk_days):
            weeks += 1
        _shift(path, lines, timedelta(weeks=weeks))
        changed.append(path)
    return changed


def _shift(path: Path, lines: set[int], by: timedelta) -> None:
    def moved(match: re.Match) -> str:
        return (date.fromisoformat(match[0]) + by).isoformat()

    text = path.read_text(encoding="utf-8").splitlines(keepends=True)
    for number in lines:
        text[number - 1] = DATE_RE.sub(moved, text[number - 1])
    path.write_text("".join(text), encoding="utf-8")
