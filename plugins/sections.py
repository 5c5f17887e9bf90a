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
from typing import TYPE_CHECKING

from .errors import Problem, SchoolpleinError
from .roster import Role, Roster

if TYPE_CHECKING:
    from .calendar_feeds import FeedAddress

KINDS = ("public", "school", "group", "family", "team", "staff", "feed", "archive")
# URL roots of the protected kinds. Servers and checks derive their rules from these.
# "staff": /personeel/<group>/, the group's sign-up lists for its teachers and the directie
# only (plugins/signup_pages.py).
ROOTS = {"school": "/school/", "group": "/groep/", "family": "/gezin/", "team": "/team/",
         "staff": "/personeel/", "archive": "/archief/"}
SCHOOL_WRITER = "school"  # in personeel.csv's groepen: this teacher may also post school news
# A family's calendar feed: no login (a phone's calendar app cannot send one), an unguessable
# address instead (plugins.calendar_feeds); the servers serve exactly the known ones.
FEED_ROOT = "/agenda/"


@dataclass(frozen=True)
class Section:
    kind: str  # one of KINDS
    key: str  # "public", "school", group slug or family id
    prefix: str  # URL path prefix, "/" for public, else "/<...>/"
    title: str
    readers: frozenset[str]  # person ids; empty for public (everyone, no login)
    children: frozenset[str]  # children who belong to this section's audience
    owner: str = ""  # a feed's family id

    @property
    def protected(self) -> bool:
        """Behind the school's login. A feed is not: its unguessable address is its key."""
        return self.kind not in ("public", "feed")

    @property
    def by_address(self) -> bool:
        return self.kind == "feed"

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
        return tuple(s for s in self.sections if s.kind == "public" or person_id in s.readers)

    @property
    def feeds(self) -> tuple[Section, ...]:
        return tuple(s for s in self.sections if s.by_address)

    def feed_sources(self, feed: Section) -> tuple[Section, ...]:
        """The login sections a feed shows: those every reader of the feed may read."""
        return tuple(s for s in self.protected if feed.readers <= s.readers)

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


def posting_sections(roster: Roster, staff_id: str) -> tuple[tuple[str, str], ...]:
    """(kind, key) of every section a staff member posts to: their groups; the school
    section for the directie and for a teacher whose groepen name 'school'."""
    person = roster.staff[staff_id]
    if person.role is Role.MANAGEMENT:
        return (("school", "school"), *(("group", g) for g in sorted(roster.groups)))
    school = (("school", "school"),) if SCHOOL_WRITER in person.groups else ()
    return (*school, *(("group", g) for g in person.groups if g in roster.groups))


def team_children(roster: Roster, staff_id: str) -> frozenset[str]:
    """The children a staff member's team page lists: those of the groups they post to."""
    posts = posting_sections(roster, staff_id)
    if ("school", "school") in posts and roster.staff[staff_id].role is Role.MANAGEMENT:
        return frozenset(roster.children)
    groups = {key for kind, key in posts if kind == "group"}
    return frozenset(c.id for c in roster.children.values() if c.group in groups)


def _team_sections(roster: Roster) -> list[Section]:
    """/team/<staff-id>/ for that staff member (and the directie, who read everything): their
    groups' children, consent, their own posts and their write-only staff postvak, which a
    colleague of another group may not see. There is no staff-wide /team/ section: CloudFront
    gives one cookie set per section path, and nested paths would send two."""
    sections = []
    mt = roster.management()  # reads every section already
    for sid, person in sorted(roster.staff.items()):
        sections.append(Section("team", sid, f"{ROOTS['team']}{sid}/", f"Team · {person.name}",
                                frozenset({sid}) | mt, team_children(roster, sid)))
    return sections


def _staff_sections(roster: Roster) -> list[Section]:
    """/personeel/<group>/: who signed up and who booked which conference slot in that group.
    Never a parent: the group's teachers and the directie only. Its own root, not a folder
    under /groep/<slug>/: a parent's group cookie (CloudFront) covers everything below it."""
    mt = roster.management()
    return [Section("staff", slug, f"{ROOTS['staff']}{slug}/", f"Personeel · {group.name}",
                    roster.teachers_of(slug) | mt,
                    frozenset(c.id for c in roster.children_in(slug)))
            for slug, group in sorted(roster.groups.items())]


def build_section_map(roster: Roster, school_name: str, archives=(),
                      feeds: Mapping[str, FeedAddress] | None = None) -> SectionMap:
    """Derive every section and its readers from the roster, the kept archives
    (plugins.archive, whose readers are frozen in the roster's archief/ folder) and the
    families' feed addresses.

    A feed's readers are the parents its address was sent to; when one of them is no
    longer a parent of that family the address stops (no section) until a new one is made.
    """
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
    sections += _team_sections(roster)
    sections += _staff_sections(roster)
    shelved = [s for archive in archives for s in archive.sections()]
    sections.extend(shelved)
    homes = {p.id: f"{ROOTS['family']}{p.family}/" for p in roster.parents.values()}
    homes.update({s.id: f"{ROOTS['team']}{s.id}/" for s in roster.staff.values()})
    for section in reversed(shelved):  # someone who left: their newest archive
        homes.update({pid: section.prefix for pid in section.readers if pid not in homes})
    return with_feeds(SectionMap(tuple(sections), homes), roster, feeds)


def with_feeds(section_map: SectionMap, roster: Roster,
               feeds: Mapping[str, FeedAddress] | None) -> SectionMap:
    """The map plus a *feed* section per family calendar address (the roster's map is cached
    by the roster's bytes, plugins.roster_cache; the addresses change without the roster)."""
    added = []
    for fam_id, address in sorted((feeds or {}).items()):
        family = roster.families.get(fam_id)
        if family is None or not address.known_to or not address.known_to <= set(family.parents):
            continue
        added.append(Section("feed", address.token, f"{FEED_ROOT}{address.token}/", "Agenda",
                             address.known_to, frozenset(), owner=fam_id))
    if not added:
        return section_map
    return SectionMap((*section_map.sections, *added), section_map.homes)
