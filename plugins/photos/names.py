"""Match a tagged name to exactly one child of the section's audience.

Teachers write names the way they say them: "Zoe" (no accent), "Sem B."
(two children called Sem in one group is normal), a full name, or the
roster id. A name that fits several children is an error that lists them
("bedoel je Sem B. of Sem K.?"); a name that fits nobody gets the closest
suggestion. Matching is only against the section's audience: a child from
another group is unknown here, which is also what keeps a group page from
showing children whose parents cannot read it.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from ..errors import Problem
from ..roster import Child

if TYPE_CHECKING:  # photo_tags imports fold from here
    from .tags import Tag

# Dutch surname particles ("tussenvoegsels"): "Zoë de V." and "Zoë V." both mean de Vries.
PARTICLES = frozenset({"van", "de", "der", "den", "het", "ten", "ter", "te", "in", "'t", "op",
                       "la", "le", "du", "di", "da", "von", "zu", "el", "al", "bin", "ben"})


def fold(text: str) -> str:
    """Case-, accent-, dot- and whitespace-insensitive form: 'Zoë  ' and 'zoe' are equal.

    The one folding for everything a teacher types: names, and the
    "geen herkenbare kinderen." mark in fotos.txt.
    """
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(text.casefold().replace(".", " ").split())


def _surname_parts(last_name: str) -> tuple[str, str]:
    """('de', 'Vries') for 'de Vries'; particles are leading lower-case words."""
    words = last_name.split()
    i = 0
    while i < len(words) - 1 and words[i].casefold() in PARTICLES:
        i += 1
    return " ".join(words[:i]), " ".join(words[i:])


def short_label(child: Child) -> str:
    """How a teacher writes the child: 'Sem B.', 'Zoë de V.'."""
    particles, main = _surname_parts(child.last_name)
    initial = main[:1].upper() if main else ""
    return " ".join(p for p in (child.first_name, particles, f"{initial}.") if p)


def name_keys(child: Child) -> set[str]:
    """Every folded spelling that means this child."""
    particles, main = _surname_parts(child.last_name)
    first = fold(child.first_name)
    keys = {fold(child.id), fold(child.full_name), first}
    for initial in {fold(main)[:1], fold(child.last_name)[:1]}:
        if initial:
            keys.add(f"{first} {initial}")
    if particles and main:
        keys.add(f"{first} {fold(particles)} {fold(main)[:1]}")
        keys.add(f"{first} {fold(main)}")  # "Zoë Vries"
    return keys


@dataclass(frozen=True)
class Resolution:
    """The outcome for one tag: a child id, or a problem for the teacher."""

    tag: Tag
    child_id: str | None
    problem: Problem | None = None
    kind: str = "ok"  # "ok", "unknown" or "ambiguous"


def _labels(children: Iterable[Child]) -> list[str]:
    """Distinct labels for a list of candidates: short when that suffices, else full names."""
    children = sorted(children, key=lambda c: (c.last_name, c.first_name, c.id))
    shorts = [short_label(c) for c in children]
    if len(set(map(fold, shorts))) == len(shorts):
        return shorts
    fulls = [c.full_name for c in children]
    if len(set(map(fold, fulls))) == len(fulls):
        return fulls
    return [f"{c.full_name} ({c.id})" for c in children]


def _or_list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " of " + items[-1]


class NameIndex:
    """The folded-name lookup of one audience: built once, then one dict lookup per tag.

    A school year has thousands of tags and every one is resolved against its
    section's audience; folding every child's names again per tag cost more
    than a second. `name_index` keeps one per audience.
    """

    def __init__(self, children: Iterable[Child]):
        self.children = tuple(children)
        self.exact: dict[str, list[Child]] = {}  # folded id or full name
        self.keys: dict[str, list[Child]] = {}  # every folded spelling (name_keys)
        self.labels: dict[str, set[str]] = {}  # every folded spelling -> short labels
        for c in self.children:
            for key in dict.fromkeys((fold(c.id), fold(c.full_name))):
                self.exact.setdefault(key, []).append(c)
            label = short_label(c)
            for key in name_keys(c):
                self.keys.setdefault(key, []).append(c)
                self.labels.setdefault(key, set()).add(label)

    def resolve(self, tag: Tag, file: str = "", audience: str = "") -> Resolution:
        """Resolve one tag among this audience (see `resolve`)."""
        file = tag.source.file or file
        key = fold(tag.text)
        matches = self.exact.get(key) or self.keys.get(key, [])
        if len(matches) == 1:
            return Resolution(tag, matches[0].id)
        where = f" in {audience}" if audience else ""
        if matches:
            labels = _labels(matches)
            return Resolution(tag, None, Problem(
                file, tag.line,
                f"'{tag.text}' is niet eenduidig{where}: bedoel je {_or_list(labels)}?",
                f"schrijf de naam zo dat hij bij één kind past, bv. '{labels[0]}'",
            ), "ambiguous")
        suggestions = self._closest(key)
        fix = (f"bedoel je {_or_list(suggestions)}?" if suggestions
               else "gebruik de voornaam (en eerste letter van de achternaam) van een kind"
                    + (f" uit {audience}" if audience else ""))
        return Resolution(tag, None, Problem(
            file, tag.line, f"onbekende naam '{tag.text}'{where}", fix), "unknown")

    def _closest(self, key: str) -> list[str]:
        close = difflib.get_close_matches(key, list(self.labels), n=3, cutoff=0.6)
        seen: list[str] = []
        for k in close:
            for label in sorted(self.labels[k]):
                if label not in seen:
                    seen.append(label)
        return seen[:3]


@lru_cache(maxsize=256)
def name_index(children: tuple[Child, ...]) -> NameIndex:
    """One index per audience: keyed by the children themselves (frozen), so a changed
    roster row is a new key and an index can never answer for an old roster."""
    return NameIndex(children)


def resolve(tag: Tag, children: Iterable[Child], file: str = "", audience: str = "") -> Resolution:
    """Resolve one tag among `children` (the section's audience).

    The Problem names the file that holds the tag (the photo, its .xmp
    sidecar or fotos.txt) and its fotos.txt line; `file` is the fallback for
    a tag without a source.
    """
    return name_index(tuple(children)).resolve(tag, file, audience)


def resolve_all(tags: Iterable[Tag], children: Iterable[Child], file: str = "",
                audience: str = "") -> tuple[Resolution, ...]:
    index = name_index(tuple(children))
    return tuple(index.resolve(t, file, audience) for t in tags)
