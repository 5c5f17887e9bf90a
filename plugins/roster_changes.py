"""Roster changes that widen who may see a child's photos, since the last good build.

A spreadsheet slip that turns `geen` into the school's default, a child moved
to another group or added to another family changes who sees that child's
photos at the next publish. Such a change may be right, but the admin must
see it before publishing: each one is logged (roster id only, never a name)
and listed in the private photo audit.

The previous state is a small private snapshot (`rooster-stand.json` in the
audit folder, never in the output): per child its effective consent, group and
family ids. It is replaced only after a build succeeded.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from .roster import Consent, Roster

SNAPSHOT_NAME = "rooster-stand.json"
EXPOSURE = {Consent.NONE: 0, Consent.GROUP: 1, Consent.SCHOOL: 2}
CONSENT_TEXT = {
    Consent.NONE: "in geen enkele foto",
    Consent.GROUP: "op groeps- en gezinspagina's",
    Consent.SCHOOL: "op groeps-, gezins- en schoolpagina's",
}


@dataclass(frozen=True)
class Widening:
    """One child's photos may reach more people than at the last good build."""

    child: str  # roster id: the only thing the console shows
    kind: str  # "beeldgebruik", "groep" or "gezin"
    before: str
    after: str
    name: str = ""  # full name, for the private audit only

    def console(self) -> str:
        """One WARNING line for the build output: roster id, no name, no family id."""
        if self.kind == "beeldgebruik":
            change = (f"beeldgebruik ruimer: {self.before} -> {self.after} "
                      f"(nu {CONSENT_TEXT[Consent(self.after)]})")
        elif self.kind == "groep":
            change = f"naar een andere groep: {self.before} -> {self.after}"
        else:
            change = "staat nu ook bij een ander gezin"
        return (f"rooster: leerling {self.child}: {change}; controleer dit vóór het publiceren "
                "(zie het fotoverslag)")

    def audit(self) -> str:
        """The audit line: may name the child and the family id (private)."""
        label = {"beeldgebruik": "beeldgebruik", "groep": "groep", "gezin": "gezin(nen)"}[self.kind]
        return f"{self.child} ({self.name}): {label} {self.before or '-'} -> {self.after}"


def snapshot(roster: Roster, default: Consent) -> dict:
    """What decides who may see each child: effective consent, group, families."""
    families: dict[str, list[str]] = {}
    for family in roster.families.values():
        for child in family.children:
            families.setdefault(child, []).append(family.id)
    return {"versie": 1, "leerlingen": {
        c.id: {"beeldgebruik": str(roster.consent_of(c.id, default)), "groep": c.group,
               "gezinnen": sorted(families.get(c.id, []))}
        for c in sorted(roster.children.values(), key=lambda c: c.id)}}


def widenings(before: dict | None, after: dict, roster: Roster) -> list[Widening]:
    """Every change from `before` to `after` that shows a child to more people.

    No previous snapshot (the first build) reports nothing; a child new to the
    roster is not a widening (its photos could not be published before).
    """
    if not before:
        return []
    old_children = before.get("leerlingen", {})
    found = []
    for child, now in after["leerlingen"].items():
        old = old_children.get(child)
        if old is None:
            continue
        name = roster.children[child].full_name if child in roster.children else ""
        try:
            wider = EXPOSURE[Consent(now["beeldgebruik"])] > EXPOSURE[Consent(old["beeldgebruik"])]
        except (KeyError, ValueError):
            wider = True  # an unreadable old entry: say so rather than stay silent
        if wider:
            found.append(Widening(child, "beeldgebruik", old.get("beeldgebruik", ""),
                                  now["beeldgebruik"], name))
        if old.get("groep") != now["groep"]:
            found.append(Widening(child, "groep", old.get("groep", ""), now["groep"], name))
        new_families = sorted(set(now["gezinnen"]) - set(old.get("gezinnen", [])))
        if new_families:
            found.append(Widening(child, "gezin", ";".join(old["gezinnen"]),
                                  ";".join(now["gezinnen"]), name))
    return found


def load_snapshot(folder: Path | str) -> dict | None:
    """The last good build's state; None before the first one. Raises ValueError if damaged."""
    path = Path(folder) / SNAPSHOT_NAME
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    if not isinstance(state, dict) or not isinstance(state.get("leerlingen"), dict):
        raise ValueError(f"{path}: geen rooster-stand")
    return state


def save_snapshot(folder: Path | str, state: dict) -> Path:
    """Atomically replace the snapshot (private: owner-only)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SNAPSHOT_NAME
    tmp = path.with_suffix(f".{os.getpid()}.tmp")  # two builds at once (serve + build) never share it
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(state, fh, ensure_ascii=False, indent=1, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path
