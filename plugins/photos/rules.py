"""The publish-or-drop decision for one photo, as a pure function.

Fail closed: a photo is published only if every rule holds (DESIGN.md,
"Photo privacy rules"), judged on the union of every tag source. All failing
rules are recorded, the first one is the headline. The reason text is for the
console and may be read by anyone who sees the build log, so it never names a
child: it says which rule failed and where (`fotos.txt:3`, `foto.jpg.xmp`,
`labels in de foto`). The Problems (tag text, suggestions, which child has no
consent) are for the teacher's private audit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..errors import Problem
from ..roster import Roster
from ..sections import Section
from .blur import Blurred, place
from .names import Resolution, fold, resolve_all, short_label
from .settings import PhotoSettings
from .tags import LIST, NO_CHILDREN_MARK, PhotoTags, Source, Tag

# Reason codes, in the order they are checked. Dutch texts never name a child.
REASONS = {
    "published": "gepubliceerd",
    "published_no_children": "gepubliceerd (geen herkenbare kinderen)",
    "published_blurred": "gepubliceerd, met een kind zonder toestemming onherkenbaar gemaakt",
    "symlink": "snelkoppeling (symlink): zet de echte foto in de berichtmap",
    "empty": "leeg bestand",
    "too_big": "bestand is te groot",
    "too_many_pixels": "te veel pixels (mogelijk een 'decompressiebom')",
    "undecodable": "geen leesbare foto (kapot of geen afbeelding)",
    "tag_error": "labels onleesbaar of fout geschreven",
    "no_children_conflict": f"'{NO_CHILDREN_MARK}', maar een andere bron noemt wel kinderen",
    "untagged": "niet gelabeld: er staat niet bij wie er op de foto staan",
    "unknown_name": "onbekende naam",
    "ambiguous_name": "naam past bij meer dan één kind",
    "no_consent": "een kind zonder toestemming voor deze pagina",
    "no_region": "een kind zonder toestemming, en niet bekend waar het gezicht staat "
                 "(alleen een naam): onherkenbaar maken kan niet",
    "region_too_big": "een kind zonder toestemming staat te groot op de foto om onherkenbaar "
                      "te maken (een portret)",
    "region_frame": "een kind zonder toestemming, en de plek van het gezicht is niet zeker",
    "portrait": "te weinig kinderen op de foto (geen portretfoto's)",
}

# What the teacher does about each reason (console, strict error and audit): never a name,
# not even an example one, which may well be a child of the school.
FIXES = {
    "untagged": "zet de namen in fotos.txt ('bestand.jpg: naam, naam, naam' of "
                "'bestand.jpg: geen herkenbare kinderen'), of label de gezichten in je foto-app",
    "unknown_name": "verbeter de naam (het fotoverslag geeft een suggestie)",
    "ambiguous_name": "schrijf de eerste letter van de achternaam erbij (het fotoverslag zegt "
                      "welke kinderen passen)",
    "no_consent": "kies een andere foto; het fotoverslag zegt welk kind en welke bron het noemt",
    "no_region": "teken het gezicht van dit kind als gezichtslabel in je foto-app of in de "
                 "editor (dan wordt het onherkenbaar gemaakt), of kies een andere foto",
    "region_too_big": "kies een foto waarop dit kind verder weg staat, of een foto zonder dit kind",
    "region_frame": "label de gezichten opnieuw in je foto-app (na bijsnijden of draaien), "
                    "exporteer HEIC als JPEG, of kies een andere foto",
    "portrait": "plaats alleen groepsfoto's (minstens het minimum aantal kinderen gelabeld)",
    "tag_error": "verbeter fotos.txt, of laat je foto-app de labels (of het zijbestand) opnieuw "
                 "schrijven",
    "no_children_conflict": "staan er herkenbare kinderen op? Zet dan hun namen in fotos.txt in "
                            "plaats van 'geen herkenbare kinderen'; zo niet, haal de namen weg uit "
                            "de labels in je foto-app",
}
DEFAULT_FIX = "vervang of verwijder het bestand"


@dataclass(frozen=True)
class Probe:
    """What a safe look at the file found (see photos.encode.probe). Pure data."""

    ok: bool
    code: str = ""  # a REASONS key when not ok
    detail: str = ""
    width: int = 0
    height: int = 0


@dataclass(frozen=True)
class Decision:
    publish: bool
    code: str  # first failing rule, or "published" / "published_no_children"
    reason: str  # Dutch, never a child's name: the failing rules and where they failed
    codes: tuple[str, ...] = ()  # every failing rule
    children: frozenset[str] = frozenset()  # resolved child ids (audit only)
    problems: tuple[Problem, ...] = ()  # for the teacher: may quote tag text and name children
    resolutions: tuple[Resolution, ...] = ()
    refused: frozenset[str] = frozenset()  # children whose consent forbids this section (audit)
    blurred: tuple[Blurred, ...] = ()  # refused children made unrecognisable (PHOTO_BLUR)

    @property
    def blurred_ids(self) -> frozenset[str]:
        return frozenset(b.child for b in self.blurred)


def _holder(source: Source) -> tuple[str, bool]:
    """A source as the subject of a sentence, and whether it is plural."""
    if source.kind == LIST:
        return source.label, False
    return (source.name, False) if source.sidecar else ("de labels in de foto", True)


def _conflict(marks: tuple[Source, ...], tags: Iterable[Tag]) -> tuple[str, list[str]]:
    """(name-free sentence, per-holder name lists) for "geen herkenbare kinderen" beside names."""
    named: dict[tuple[str, bool], dict[str, str]] = {}
    for tag in tags:
        named.setdefault(_holder(tag.source), {}).setdefault(fold(tag.text), tag.text)
    counts, lists = [], []
    for (holder, plural), names in named.items():
        n, verb = len(names), "noemen" if plural else "noemt"
        counts.append(f"{holder} {verb} {n} {'kind' if n == 1 else 'kinderen'}")
        lists.append(f"{holder} {verb} {', '.join(names.values())}")
    said = f"{marks[0].label} zegt '{NO_CHILDREN_MARK}'"
    return f"{said}, maar {' en '.join(counts)}", lists


def _wheres(tags: Iterable[Tag]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(t.source.where for t in tags))


def _problem_where(problem: Problem, photo: str) -> str:
    if problem.file == photo:
        return "labels in de foto"
    name = problem.file.replace("\\", "/").rsplit("/", 1)[-1]
    return f"{name}:{problem.line}" if problem.line else name


def decide(photo_tags: PhotoTags, roster: Roster, section: Section, settings: PhotoSettings,
           probe: Probe | None = None) -> Decision:
    """Publish or drop one photo on the union of its tag sources.

    `probe` is the result of the safe header check; None means it was not
    checked here (the encoder still refuses what it cannot decode, and a
    failed encode drops the photo).
    """
    failed: dict[str, tuple[str, ...]] = {}  # code -> name-free places, in check order
    texts: dict[str, str] = {}  # a code's own sentence instead of REASONS
    problems: list[Problem] = list(photo_tags.problems)

    def fail(code: str, where: Iterable[str] = ()) -> None:
        failed[code] = tuple(dict.fromkeys((*failed.get(code, ()), *where)))

    if probe is not None and not probe.ok:
        fail(probe.code if probe.code in REASONS else "undecodable")
    if photo_tags.problems:
        fail("tag_error", (_problem_where(p, photo_tags.file) for p in photo_tags.problems))
    if photo_tags.marks and photo_tags.tags:
        sentence, lists = _conflict(photo_tags.marks, photo_tags.tags)
        fail("no_children_conflict")
        texts["no_children_conflict"] = sentence
        mark = photo_tags.marks[0]
        problems.append(Problem(mark.file, mark.line,
                                f"zegt '{NO_CHILDREN_MARK}', maar " + " en ".join(lists),
                                FIXES["no_children_conflict"]))
    if not photo_tags.tagged:
        fail("untagged")

    audience = [roster.children[c] for c in sorted(section.children) if c in roster.children]
    resolutions = resolve_all(photo_tags.tags, audience, photo_tags.file, section.title)
    problems += [r.problem for r in resolutions if r.problem is not None]
    for kind, code in (("unknown", "unknown_name"), ("ambiguous", "ambiguous_name")):
        if any(r.kind == kind for r in resolutions):
            fail(code, _wheres(r.tag for r in resolutions if r.kind == kind))

    children = frozenset(r.child_id for r in resolutions if r.child_id)
    refused = frozenset(c for c in children if section.kind not in
                        roster.consent_of(c, settings.consent_default).allowed_kinds)
    why = {c: f"beeldgebruik '{roster.consent_of(c, settings.consent_default).value}' staat "
              f"{section.title} niet toe" for c in refused}
    placed = place(refused, resolutions, why, settings.blur_max_share) if settings.blur else None
    cannot = ({"no_consent": refused} if placed is None else
              {"no_region": set(placed.unplaced), "region_too_big": set(placed.too_big)})
    for code, kids in cannot.items():
        naming = [r for r in resolutions if r.child_id in kids]
        if not naming:
            continue
        fail(code, _wheres(r.tag for r in naming))
        for r in naming:
            problems.append(Problem(
                r.tag.source.file or photo_tags.file, r.tag.line,
                f"'{r.tag.text}' is {short_label(roster.children[r.child_id])} ({r.child_id}): "
                f"{why[r.child_id]}",
                "kies een andere foto zonder dit kind" if code == "no_consent" else FIXES[code]))
    blurred = placed.blurred if placed and placed.ok else ()
    recognisable = children - {b.child for b in blurred}  # the >= N rule counts only these
    unresolved = any(r.kind != "ok" for r in resolutions)  # counting is meaningless until then
    if (not photo_tags.marks and photo_tags.tags and not unresolved
            and len(recognisable) < settings.min_children):
        fail("portrait", _wheres(photo_tags.tags))

    problems = list(dict.fromkeys(problems))  # one face tagged as region and PersonInImage
    if failed:
        codes = tuple(failed)
        reason = "; ".join(
            texts.get(c) or REASONS[c] + (f" ({', '.join(failed[c])})" if failed[c] else "")
            for c in codes)
        return Decision(False, codes[0], reason, codes, children, tuple(problems), resolutions,
                        refused)
    code = ("published_no_children" if photo_tags.marks else
            "published_blurred" if blurred else "published")
    return Decision(True, code, REASONS[code], (), children, tuple(problems), resolutions,
                    refused, blurred)
