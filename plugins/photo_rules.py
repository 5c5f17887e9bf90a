"""The publish-or-drop decision for one photo, as a pure function.

Fail closed: a photo is published only if every rule holds (DESIGN.md,
"Photo privacy rules"). All failing rules are recorded, the first one is the
headline. The reason text is for the console and may be read by anyone who
sees the build log, so it never names a child; the Problems (unknown or
ambiguous tag text with a suggestion) are for the teacher's audit and the
strict-mode error.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import Problem
from .photo_names import Resolution, resolve_all
from .photo_settings import PhotoSettings
from .photo_tags import PhotoTags
from .roster import Roster
from .sections import Section

# Reason codes, in the order they are checked. Dutch texts never name a child.
REASONS = {
    "published": "gepubliceerd",
    "published_no_children": "gepubliceerd (geen herkenbare kinderen)",
    "symlink": "snelkoppeling (symlink): zet de echte foto in de berichtmap",
    "empty": "leeg bestand",
    "too_big": "bestand is te groot",
    "too_many_pixels": "te veel pixels (mogelijk een 'decompressiebom')",
    "undecodable": "geen leesbare foto (kapot of geen afbeelding)",
    "tag_error": "fotolabels of fotos.txt onleesbaar",
    "untagged": "niet gelabeld: er staat niet bij wie er op de foto staan",
    "unknown_name": "onbekende naam in de labels",
    "ambiguous_name": "naam past bij meer dan één kind",
    "no_consent": "een kind zonder toestemming voor deze pagina",
    "portrait": "te weinig kinderen op de foto (geen portretfoto's)",
}


@dataclass(frozen=True)
class Probe:
    """What a safe look at the file found (see photo_pipeline.probe). Pure data."""

    ok: bool
    code: str = ""  # a REASONS key when not ok
    detail: str = ""
    width: int = 0
    height: int = 0


@dataclass(frozen=True)
class Decision:
    publish: bool
    code: str  # first failing rule, or "published" / "published_no_children"
    reason: str  # Dutch, never a child's name
    codes: tuple[str, ...] = ()  # every failing rule
    children: frozenset[str] = frozenset()  # resolved child ids (audit only)
    problems: tuple[Problem, ...] = ()  # for the teacher: may quote tag text
    resolutions: tuple[Resolution, ...] = ()


def decide(photo_tags: PhotoTags, roster: Roster, section: Section, settings: PhotoSettings,
           probe: Probe | None = None) -> Decision:
    """Publish or drop one photo.

    `probe` is the result of the safe header check; None means it was not
    checked here (the encoder still refuses what it cannot decode, and a
    failed encode drops the photo).
    """
    codes: list[str] = []
    problems: list[Problem] = list(photo_tags.problems)
    if probe is not None and not probe.ok:
        codes.append(probe.code if probe.code in REASONS else "undecodable")
    if photo_tags.problems:
        codes.append("tag_error")
    if not photo_tags.tagged:
        codes.append("untagged")

    audience = [roster.children[c] for c in sorted(section.children) if c in roster.children]
    resolutions = resolve_all(photo_tags.tags, audience, photo_tags.tag_file or photo_tags.file,
                              section.title)
    for r in resolutions:
        if r.problem is not None:
            problems.append(r.problem)
    kinds = {r.kind for r in resolutions}
    if "unknown" in kinds:
        codes.append("unknown_name")
    if "ambiguous" in kinds:
        codes.append("ambiguous_name")

    children = frozenset(r.child_id for r in resolutions if r.child_id)
    if any(section.kind not in roster.consent_of(c, settings.consent_default).allowed_kinds
           for c in children):
        codes.append("no_consent")
    unresolved = bool(kinds - {"ok"})  # counting is meaningless until every name resolves
    if (not photo_tags.no_children and photo_tags.tags and not unresolved
            and len(children) < settings.min_children):
        codes.append("portrait")
    if photo_tags.no_children and photo_tags.tags:  # cannot happen from our readers; be safe
        codes.append("tag_error")

    if codes:
        unique = tuple(dict.fromkeys(codes))
        reason = "; ".join(REASONS[c] for c in unique)
        return Decision(False, unique[0], reason, unique, children, tuple(problems), resolutions)
    code = "published_no_children" if photo_tags.no_children else "published"
    return Decision(True, code, REASONS[code], (), children, tuple(problems), resolutions)
