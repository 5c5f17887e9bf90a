"""The section map: the one source of truth for who may read what.

Every output path belongs to exactly one section by its prefix. htpasswd
files, server configs, CloudFront cookie paths and the leak tests are all
derived from this map; nothing else restates access.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import PurePosixPath

from .errors import Problem, SchoolpleinError
from .roster import Roster

KINDS = ("public", "school", "group", "family", "archive")
# URL roots of the protected kinds. Servers and checks derive their rules from these.
ROOTS = {"school": "/school/", "group": "/groep/", "family": "/gezin/", "archive": "/archief/"}


@dataclass(frozen=True)
class Section:
    kind: str  # one of KINDS
    key: str  # "public", "school", group slug or family id
    prefix: str  # URL path prefix, "/" for public, else "/<...>/"
    title: str
    readers: frozenset[str]  # person ids; empty for public (everyone, no login)
    children: frozenset[str]  # children who belong to this section's audience

    @property
    def protected(self) -> bool:
        return self.kind != "public"

    @property
    def name(self) -> str:
        """Stable file-system name, e.g. for the section's htpasswd file."""
        return self.kind if self.kind in ("public", "school") else f"{self.kind}-{self.key}"

    @property
    def dir(self) -> str:
        """Output directory relative to the site root ('' for public)."""
        return self.prefix.strip("/")


@dataclass(frozen=True)
class SectionMap:
    sections: tuple[Section, ...]
    # Where each person lands ("Mijn gezin", /mijn/): a parent's family page, staff /school/.
    homes: Mapping[str, str] = field(default_factory=dict, hash=False)

    def __iter__(self) -> Iterator[Section]:
        return iter(self.sections)

    @property
    def protected(self) -> tuple[Section, ...]:
        return tuple(s for s in self.sections if s.protected)

    def get(self, kind: str, key: str) -> Section:
        return self._by_key[(kind, key)]  # KeyError((kind, key)) when there is none

    @cached_property
    def _by_key(self) -> dict[tuple[str, str], Section]:
        return {(s.kind, s.key): s for s in reversed(self.sections)}  # the first one wins

    @cached_property
    def _by_prefix(self) -> dict[str, Section]:
        return {s.prefix: s for s in self.sections}

    def for_path(self, path: str) -> Section:
        """The section an output path (URL path or file path) belongs to.

        Prefixes are at most three folders deep (/archief/<year>/<group>/), so a
        dict lookup beats a scan over hundreds of family sections on every file.
        """
        parts = path.lstrip("/").split("/")
        for depth in (3, 2, 1):
            if len(parts) > depth:
                found = self._by_prefix.get("/" + "/".join(parts[:depth]) + "/")
                if found is not None:
                    return found
        return self._by_prefix["/"]

    def readable_by(self, person_id: str) -> tuple[Section, ...]:
        return tuple(s for s in self.sections if not s.protected or person_id in s.readers)

    def for_content(self, relpath: str, source_file: str = "") -> Section:
        """Section of a content file by its folder under content/; unknown folder = error."""
        parts = PurePosixPath(relpath).parts
        where = source_file or relpath
        if parts and parts[0] == "school":
            return self.get("school", "school")
        if len(parts) >= 2 and parts[0] == "groep":
            return self._lookup("group", parts[1], where, "content/groep/<groep>/", True)
        if len(parts) >= 2 and parts[0] == "gezin":
            return self._lookup("family", parts[1], where, "content/gezin/<gezin-id>/", False)
        if parts and parts[0] == "publiek":
            return self.get("public", "public")
        if len(parts) >= 3 and parts[0] == "archief":
            return self._lookup("archive", f"{parts[1]}-{parts[2]}", where,
                                "content/archief/<schooljaar>/<groep>/",
                                [s.dir.removeprefix("archief/") for s in self.sections
                                 if s.kind == "archive"])
        raise SchoolpleinError(Problem(
            where, None,
            f"onbekende map '{parts[0] if parts else relpath}': de map bepaalt wie het bericht ziet",
            "zet het bericht in content/school/, content/groep/<groep>/ of "
            "content/gezin/<gezin-id>/",
        ))

    def _lookup(self, kind, key, where, pattern, list_known: bool) -> Section:
        try:
            return self.get(kind, key)
        except KeyError:
            known = [s.key for s in self.sections if s.kind == kind] if list_known else []
            hint = f" (bekend: {', '.join(sorted(known))})" if known else ""
            raise SchoolpleinError(Problem(
                where, None, f"onbekende map '{key}' in {pattern}{hint}",
                "gebruik de slug uit roster/groepen.csv of het gezin-id uit roster/ouders.csv",
            )) from None


def build_section_map(roster: Roster, school_name: str, archives=()) -> SectionMap:
    """Derive every section and its readers from the roster (and the kept archives:
    plugins.archive, whose readers are frozen in the roster's archief/ folder)."""
    mt = roster.management()
    all_parents = frozenset(roster.parents)
    all_staff = frozenset(roster.staff)
    sections = [
        Section("public", "public", "/", school_name, frozenset(), frozenset()),
        Section("school", "school", ROOTS["school"], school_name, all_parents | all_staff,
                frozenset(roster.children)),
    ]
    for slug, group in sorted(roster.groups.items()):
        kids = frozenset(c.id for c in roster.children_in(slug))
        parents = frozenset(p.id for p in roster.parents.values() if kids & set(p.children))
        sections.append(Section("group", slug, f"{ROOTS['group']}{slug}/", group.name,
                                parents | roster.teachers_of(slug) | mt, kids))
    for fam_id, family in sorted(roster.families.items()):
        groups = {roster.children[c].group for c in family.children}
        teachers = frozenset().union(*(roster.teachers_of(g) for g in groups))
        sections.append(Section("family", fam_id, f"{ROOTS['family']}{fam_id}/", "Gezinspagina",
                                frozenset(family.parents) | teachers | mt,
                                frozenset(family.children)))
    shelved = [s for archive in archives for s in archive.sections()]
    sections.extend(shelved)
    homes = {p.id: f"{ROOTS['family']}{p.family}/" for p in roster.parents.values()}
    homes.update({s.id: ROOTS["school"] for s in roster.staff.values()})
    for section in reversed(shelved):  # someone who left: their newest archive
        homes.update({pid: section.prefix for pid in section.readers if pid not in homes})
    return SectionMap(tuple(sections), homes)
