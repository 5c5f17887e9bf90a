"""How often each parent wants mail about what is new: the file the postvak writes and both read.

A parent chooses on *Mijn gezin* (postvak soort "meldingen"); processing writes
the choice here, the family page shows it and the notices (postvak.news) follow
it. One definition of the format, both directions (plugins never import postvak):

    private/meldingen/voorkeuren.json
    {"v": 1, "ouders": {"<parent id>": {"keuze": "direct" | "dagelijks" | "wekelijks" | "geen",
                                        "dag": "maandag" .. "zondag",   # for wekelijks
                                        "seq": 12}}}                    # the journal record

No entry: the school's default, a daily summary.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .agenda import DAYS
from .errors import Problem, SchoolpleinError, display_path

VERSION = 1
FILE = Path("meldingen", "voorkeuren.json")
CHOICES = ("direct", "dagelijks", "wekelijks", "geen")
DEFAULT = "dagelijks"
DEFAULT_DAY = "vrijdag"
TEXT = {"direct": "meteen bij iets nieuws", "dagelijks": "één overzicht per dag",
        "wekelijks": "één overzicht per week, op {dag}", "geen": "geen mails"}


@dataclass(frozen=True)
class Preference:
    choice: str = DEFAULT
    day: str = DEFAULT_DAY
    seq: int = 0

    def text(self) -> str:
        return TEXT[self.choice].format(dag=self.day)

    @property
    def weekday(self) -> int:
        return DAYS.index(self.day)


def prefs_file(private: Path | str) -> Path:
    return Path(private) / FILE


def read_prefs(private: Path | str) -> dict[str, Preference]:
    path = prefs_file(private)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (ValueError, UnicodeDecodeError):
        data = None
    ok = isinstance(data, dict) and data.get("v") == VERSION and isinstance(data.get("ouders"), dict)
    found = {}
    for pid, entry in (data or {}).get("ouders", {}).items() if ok else ():
        if (not isinstance(entry, dict) or entry.get("keuze") not in CHOICES
                or entry.get("dag", DEFAULT_DAY) not in DAYS):
            ok = False
            break
        found[pid] = Preference(entry["keuze"], entry.get("dag", DEFAULT_DAY), int(entry.get("seq", 0)))
    if not ok:
        raise SchoolpleinError(Problem(display_path(path), None, "onleesbare keuzes voor mails",
                                       "dit bestand schrijft 'invoke postvak'; zet het terug uit een "
                                       "reservekopie of verwijder het (dan geldt voor iedereen weer "
                                       "één overzicht per dag)"))
    return found


def encode_prefs(prefs: dict[str, Preference]) -> bytes:
    data = {"v": VERSION, "ouders": {pid: {"keuze": p.choice, "dag": p.day, "seq": p.seq}
                                     for pid, p in sorted(prefs.items())}}
    return (json.dumps(data, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def preference(prefs: dict[str, Preference], parent_id: str) -> Preference:
    return prefs.get(parent_id, Preference())
