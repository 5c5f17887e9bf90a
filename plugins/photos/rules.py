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
from .blur import Blurred, copies_agree, place, region_of
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
    "other_audience": "dezelfde foto staat elders met een kind dat niet bij deze pagina hoort",
    "no_consent": "een kind zonder toestemming voor deze pagina",
    "no_region": "een kind zonder toestemming, en niet bekend waar het gezicht staat "
                 "(alleen een naam): onherkenbaar maken kan niet",
    "region_too_big": "een kind zonder toestemming staat te groot op de foto om onherkenbaar "
                      "te maken (een portret)",
    "region_frame": "een kind zonder toestemming, en de plek van het gezicht is niet zeker",
    "region_copies": "een kind zonder toestemming, en de kopieën van deze foto zijn het niet "
                     "eens over de plek van het gezicht",
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
    "region_copies": "geef elke kopie van de foto dezelfde gezichtslabels (hetzelfde bestand, "
                     "dezelfde vakken), of gebruik de foto maar één keer",
    "portrait": "plaats alleen groepsfoto's (minstens het minimum aantal kinderen gelabeld)",
    "tag_error": "verbeter fotos.txt, of laat je foto-app de labels (of het zijbestand) opnieuw "
                 "schrijven",
    "other_audience": "plaats deze foto alleen op een pagina van alle kinderen erop (de schoolpagina), "
                      "of kies een andere foto",
    "copies": "geef elke kopie dezelfde, juiste labels, of gebruik de foto maar één keer",
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


@dataclass(frozen=True)
class _Copy:
    """One file of the picture: the photo decided, or another copy of the same pixels."""

    tags: PhotoTags
    section: Section
    at: str = ""  # "" for the photo decided, " bij <file>" for another copy


def _conflict(marks: list[tuple[Source, _Copy]], tags: list[tuple[Tag, _Copy]]
              ) -> tuple[str, list[str]]:
    """(name-free sentence, per-holder name lists) for "geen herkenbare kinderen" beside names."""
    named: dict[tuple[str, bool], dict[str, str]] = {}
    for tag, copy in tags:
        holder, plural = _holder(tag.source)
        named.setdefault((holder + copy.at, plural), {}).setdefault(fold(tag.text), tag.text)
    counts, lists = [], []
    for (holder, plural), names in named.items():
        n, verb = len(names), "noemen" if plural else "noemt"
        counts.append(f"{holder} {verb} {n} {'kind' if n == 1 else 'kinderen'}")
        lists.append(f"{holder} {verb} {', '.join(names.values())}")
    mark, copy = marks[0]
    said = f"{mark.label}{copy.at} zegt '{NO_CHILDREN_MARK}'"
    return f"{said}, maar {' en '.join(counts)}", lists


def _wheres(tags: Iterable[tuple[Tag, _Copy]]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(t.source.where + copy.at for t, copy in tags))


def _problem_where(problem: Problem, photo: str) -> str:
    if problem.file == photo:
        return "labels in de foto"
    name = problem.file.replace("\\", "/").rsplit("/", 1)[-1]
    return f"{name}:{problem.line}" if problem.line else name


def _doubted(children: set[str], resolutions: list[tuple[Resolution, _Copy]],
             every: list[_Copy]) -> set[str]:
    """The children to blur whose face another copy of the picture does not confirm.

    Every copy that names the child must be the same file (the same bytes: the same
    stored frame and orientation; another file's frame is not known here), and each
    two of them put every face of the child in the same place (photos.blur.copies_agree). A copy
    naming the child without a region, or elsewhere, says this file's region may be
    wrong: a mosaic on the wrong place publishes the face itself.
    """
    mine = every[0]
    out = set()
    for child in children:
        regions: dict[int, list] = {}
        for r, c in resolutions:
            if r.child_id == child:
                found = regions.setdefault(id(c), [])
                if (g := region_of(r.tag)) is not None:
                    found.append(g)
        # a copy that does not name the child says nothing about the face; every pair of the
        # others must agree, so every copy gets the same verdict
        naming = [c for c in every if id(c) in regions]
        same = bool(mine.tags.digest) and all(c.tags.digest == mine.tags.digest for c in naming)
        if not same or not all(copies_agree(regions[id(a)], regions[id(b)])
                               for i, a in enumerate(naming) for b in naming[i + 1:]):
            out.add(child)
    return out


def decide(photo_tags: PhotoTags, roster: Roster, section: Section, settings: PhotoSettings,
           probe: Probe | None = None,
           copies: Iterable[tuple[PhotoTags, Section]] = ()) -> Decision:
    """Publish or drop one photo on the union of its tag sources.

    `copies` are the other files of the same picture (the same decoded
    pixels: another post, name or format), with their sections. Their sources
    join the union, each name resolved in its own copy's section: so a
    consent withdrawal, a typo or a "geen herkenbare kinderen" beside names in
    any copy drops every copy, and a child tagged in one copy may not appear
    on a page of another audience through the other.

    `probe` is the result of the safe header check; None means it was not
    checked here (the encoder still refuses what it cannot decode, and a
    failed encode drops the photo).
    """
    every = [_Copy(photo_tags, section)] + [_Copy(t, s, f" bij {t.file}") for t, s in copies]
    failed: dict[str, tuple[str, ...]] = {}  # code -> name-free places, in check order
    texts: dict[str, str] = {}  # a code's own sentence instead of REASONS
    problems: list[Problem] = [p for c in every for p in c.tags.problems]

    def fail(code: str, where: Iterable[str] = ()) -> None:
        failed[code] = tuple(dict.fromkeys((*failed.get(code, ()), *where)))

    if probe is not None and not probe.ok:
        fail(probe.code if probe.code in REASONS else "undecodable")
    if problems:
        fail("tag_error", (_problem_where(p, c.tags.file) + c.at
                           for c in every for p in c.tags.problems))
    marks = [(m, c) for c in every for m in c.tags.marks]
    tags = [(t, c) for c in every for t in c.tags.tags]
    if marks and tags:
        sentence, lists = _conflict(marks, tags)
        fail("no_children_conflict")
        texts["no_children_conflict"] = sentence
        mark = marks[0][0]
        problems.append(Problem(mark.file, mark.line,
                                f"zegt '{NO_CHILDREN_MARK}', maar " + " en ".join(lists),
                                FIXES["no_children_conflict"]))
    if not tags and not marks:
        fail("untagged")

    resolutions: list[tuple[Resolution, _Copy]] = []
    for c in every:  # each name among the audience of the page its copy is on
        audience = [roster.children[k] for k in sorted(c.section.children)
                    if k in roster.children]
        resolutions += [(r, c) for r in resolve_all(c.tags.tags, audience, c.tags.file,
                                                     c.section.title)]
    problems += [r.problem for r, _ in resolutions if r.problem is not None]
    for kind, code in (("unknown", "unknown_name"), ("ambiguous", "ambiguous_name")):
        if any(r.kind == kind for r, _ in resolutions):
            fail(code, _wheres((r.tag, c) for r, c in resolutions if r.kind == kind))

    children = frozenset(r.child_id for r, _ in resolutions if r.child_id)
    elsewhere = children - section.children  # tagged on a copy on a page of another audience
    if elsewhere:
        naming = [(r, c) for r, c in resolutions if r.child_id in elsewhere]
        fail("other_audience", _wheres((r.tag, c) for r, c in naming))
        problems += [Problem(r.tag.source.file or c.tags.file, r.tag.line,
                             f"'{r.tag.text}'{c.at} is {short_label(roster.children[r.child_id])} "
                             f"({r.child_id}), die niet bij {section.title} hoort",
                             FIXES["other_audience"]) for r, c in naming]
    refused = frozenset(c for c in children if section.kind not in
                        roster.consent_of(c, settings.consent_default).allowed_kinds)
    why = {c: f"beeldgebruik '{roster.consent_of(c, settings.consent_default).value}' staat "
              f"{section.title} niet toe" for c in refused}
    # only this file's own regions are placed: another copy's regions are drawn on that file's
    # stored frame (its own orientation), so a refused child without a region here drops it
    own = [r for r, c in resolutions if c is every[0]]
    placed = place(refused, own, why, settings.blur_max_share) if settings.blur else None
    doubted = (_doubted({b.child for b in placed.blurred}, resolutions, every)
               if placed is not None else set())
    cannot = ({"no_consent": refused} if placed is None else
              {"no_region": set(placed.unplaced), "region_too_big": set(placed.too_big),
               "region_copies": doubted})
    for code, kids in cannot.items():
        naming = [(r, c) for r, c in resolutions if r.child_id in kids]
        if not naming:
            continue
        fail(code, _wheres((r.tag, c) for r, c in naming))
        for r, c in naming:
            problems.append(Problem(
                r.tag.source.file or c.tags.file, r.tag.line,
                f"'{r.tag.text}'{c.at} is {short_label(roster.children[r.child_id])} "
                f"({r.child_id}): {why[r.child_id]}",
                "kies een andere foto zonder dit kind" if code == "no_consent" else FIXES[code]))
    blurred = placed.blurred if placed and placed.ok and not doubted else ()
    recognisable = children - {b.child for b in blurred}  # the >= N rule counts only these
    unresolved = any(r.kind != "ok" for r, _ in resolutions)  # counting is meaningless until then
    if not marks and tags and not unresolved and len(recognisable) < settings.min_children:
        fail("portrait", _wheres(tags))

    if failed and len(every) > 1:
        others = ", ".join(c.tags.file for c in every[1:])
        problems.append(Problem(photo_tags.file, None,
                                f"dezelfde foto (dezelfde pixels) staat ook als {others}: de "
                                "labels van alle kopieën tellen samen", FIXES["copies"]))
    problems = list(dict.fromkeys(problems))  # one face tagged as region and PersonInImage
    flat = tuple(r for r, _ in resolutions)
    if failed:
        codes = tuple(failed)
        reason = "; ".join(
            texts.get(c) or REASONS[c] + (f" ({', '.join(failed[c])})" if failed[c] else "")
            for c in codes)
        return Decision(False, codes[0], reason, codes, children, tuple(problems), flat,
                        refused)
    code = ("published_no_children" if marks else
            "published_blurred" if blurred else "published")
    return Decision(True, code, REASONS[code], (), children, tuple(problems), flat,
                    refused, blurred)
