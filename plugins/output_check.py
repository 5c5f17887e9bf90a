"""Fail the build when an output file escapes its section.

Every file must lie under exactly one known section prefix; no page or feed may
point at content (posts, photos, feeds) of a section it does not belong to,
however the URL is written (absolute, relative, with the site's own domain,
entity- or percent-encoded); nothing is embedded inline (`data:` URLs) or
loaded from another website; no page names a family id outside that family's
section; every image is a filtered copy in its section's fotos/; the public part
names nobody from the roster. Links to the root of the school or a group are
navigation and allowed: a family's home page points to the group pages of its
children.
"""

from __future__ import annotations

import html
import json
import os
import posixpath
import re
from collections.abc import Iterable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

from .errors import Problem, SchoolpleinError
from .photos.settings import IMAGE_SUFFIXES as PHOTO_SUFFIXES
from .photos.settings import PHOTO_DIR
from .roster import Roster
from .sections import FEED_ROOT, ROOTS, Section, SectionMap
from .team_pages import DATA_ID

# What only a staff member's own team page may hold: the children of their groups and consent.
TEAM_MARKERS = (f'id="{DATA_ID}"', "data-team-children")
TEAM_DATA_RE = re.compile(rf'<script type="application/json" id="{DATA_ID}">(.*?)</script>', re.S)

PROTECTED_ROOTS = tuple(root.strip("/") for root in (*ROOTS.values(), FEED_ROOT))
# every kind of image a browser or a camera makes: the photo inputs and then some
IMAGE_SUFFIXES = PHOTO_SUFFIXES | {".avif", ".gif", ".tif", ".tiff", ".bmp", ".svg", ".jxl"}
TEXT_SUFFIXES = {".html", ".atom", ".xml", ".txt", ".css", ".js", ".json", ".csv", ".ics"}
LINKED_SUFFIXES = (".html", ".atom", ".ics")  # files whose links are checked
TOKEN_RE = re.compile(r"[a-z0-9]{16,40}")
PHOTO_NAME_RE = re.compile(r"^[0-9a-f]{20}-\d+\.(?:jpg|webp)$")
# Attributes that make the browser fetch something (an embed), and those that only link.
EMBED_ATTRS = {"src", "srcset", "data", "poster", "background", "action", "formaction",
               "manifest", "xlink:href"}
LINK_ATTRS = {"href", "cite", "longdesc", "ping"}
REFRESH_RE = re.compile(r"url\s*=\s*['\"]?([^'\";]+)", re.IGNORECASE)


class _UrlCollector(HTMLParser):
    """Every URL a page holds, with whether the browser would fetch it by itself."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[tuple[bool, str]] = []

    def handle_starttag(self, tag, attrs) -> None:
        values = dict(attrs)
        for name, value in attrs:
            if value is None:
                continue
            if name in ("srcset", "imagesrcset"):
                self.urls += [(True, part.strip().split(" ")[0]) for part in value.split(",")]
            elif name in EMBED_ATTRS:
                self.urls.append((True, value))
            elif name in LINK_ATTRS:
                fetched = tag == "link" and "alternate" not in (values.get("rel") or "")
                self.urls.append((fetched, value))
        if tag == "meta" and (values.get("http-equiv") or "").lower() == "refresh":
            match = REFRESH_RE.search(values.get("content") or "")
            if match:
                self.urls.append((True, match.group(1)))

    handle_startendtag = handle_starttag


def page_urls(text: str) -> list[tuple[bool, str]]:
    collector = _UrlCollector()
    collector.feed(text)
    collector.close()
    return collector.urls


def _section_of(rel: str, sections: SectionMap) -> Section | None:
    """Section of an output file, or None when it lies outside every known prefix."""
    section = sections.for_path(rel)
    top = rel.split("/", 1)[0]
    if section.kind == "public" and top in PROTECTED_ROOTS:
        return None  # e.g. /groep/<unknown>/ or a file directly under /gezin/
    return section


def _is_published_photo(rel: str, section: Section) -> bool:
    """Theme artwork, or a filtered, re-encoded copy named by hash in the section's fotos/."""
    if section.kind == "public":
        return rel.startswith("theme/")
    name = rel.removeprefix(f"{section.dir}/{PHOTO_DIR}/")
    return name != rel and PHOTO_NAME_RE.match(name) is not None


def calendar_urls(text: str) -> list[tuple[bool, str]]:
    """Every event's URL in a calendar (RFC 5545, unfolded); an event without one is refused."""
    from icalendar import Calendar

    try:
        events = Calendar.from_ical(text).walk("VEVENT")
    except ValueError:
        return [(False, "data:onleesbare-agenda")]
    # Every address counts as the site's own, whatever its host: its path is checked.
    return [(False, urlsplit(str(e.get("URL") or "data:afspraak-zonder-adres")).path
             or "data:afspraak-zonder-adres") for e in events]


def may_show(section: Section, other: Section) -> bool:
    """A page shows another section's content only when it is a feed all of whose readers
    may read that section (a family's calendar: school, its groups, its own page)."""
    return other == section or (section.by_address and other.protected
                                and section.readers <= other.readers)


def _url_problems(rel: str, text: str, section: Section, sections: SectionMap,
                  hosts: frozenset[str]) -> Iterator[str]:
    """Why a page's URLs are not allowed (Dutch), one message per offending URL."""
    base = "/" + rel
    urls = calendar_urls(text) if rel.endswith(".ics") else page_urls(text)
    for embedded, raw in urls:
        url = raw.strip()
        scheme = url.split(":", 1)[0].lower() if ":" in url.split("/", 1)[0] else ""
        if scheme in ("data", "javascript", "vbscript", "blob", "filesystem"):
            yield f"pagina bevat een ingesloten {scheme}:-adres ({url[:40]}…)"
            continue
        if scheme in ("mailto", "tel", "sms"):
            continue
        parts = urlsplit(urljoin(base, url))
        if parts.netloc and parts.netloc.lower() not in hosts:
            if embedded:
                yield f"pagina laadt iets van een andere website ({url})"
            continue
        path = unquote(parts.path) or "/"
        target = posixpath.normpath(path) + ("/" if path.endswith("/") else "")
        other = sections.for_path(target)
        root_link = other.kind in ("school", "group", "staff", "archive") and target in (
            other.prefix, other.prefix.rstrip("/"))
        # a staff member's team page shows their own posts: every reader may read those
        readable = section.kind == "team" and section.readers <= other.readers
        if other.by_address and other != section:
            yield f"pagina verwijst naar een agenda-adres van een gezin ({url[:30]}…)"
        elif (not may_show(section, other) and other.protected and not root_link
              and not readable):
            yield (f"pagina van '{section.title}' verwijst naar inhoud van een andere sectie "
                   f"({url})")


def _team_problems(text: str, section: Section) -> Iterator[str]:
    """Team data (children, consent) only on a staff member's own page, and only their groups'."""
    if not any(marker in text for marker in TEAM_MARKERS):
        return
    if section.kind != "team":
        yield f"pagina van '{section.title}' bevat gegevens van een teampagina"
        return
    for found in TEAM_DATA_RE.findall(text):
        try:
            data = json.loads(found)
            ids = {c["id"] for s in data["sections"] for c in s["children"]}
        except (ValueError, KeyError, TypeError):
            yield "teampagina met onleesbare gegevens"
            continue
        if ids - section.children:
            yield (f"teampagina noemt {len(ids - section.children)} kind(eren) buiten de groepen "
                   "van deze medewerker")


def _public_names(roster: Roster | None, allowed_email: str) -> list[str]:
    if roster is None:
        return []
    names = [c.full_name for c in roster.children.values()]
    names += [p.name for p in roster.parents.values()]
    names += [p.email for p in roster.people() if p.email != allowed_email]
    return names


def check_output(output: Path, sections: SectionMap, hosts: Iterable[str] = (),
                 roster: Roster | None = None, directie_email: str = "",
                 only: set[str] | None = None, files: Iterable[str] | None = None) -> None:
    """Raise SchoolpleinError for every file that escapes its section.

    `only` (relative paths): read just these; the others passed this check before
    with the same bytes under the same section map, roster and settings
    (plugins.incremental). Every file is still placed in a section. `files`: every
    file of the output (relative paths) when the caller has just listed it.
    """
    problems: list[Problem] = []
    hosts = frozenset(h.lower() for h in hosts if h)
    # family ids and feed tokens: each may only be named where its section may be shown
    family_ids = {s.key: s for s in sections if s.kind == "family" or s.by_address}
    public_names = _public_names(roster, directie_email)

    def bad(rel: str, message: str, fix: str) -> None:
        problems.append(Problem(f"output/{rel}", None, message, fix))

    for rel in _listing(output) if files is None else files:
        suffix = posixpath.splitext(rel)[1]  # strings: this runs for every output file
        section = _section_of(rel, sections)
        if section is None:
            bad(rel, "bestand valt buiten iedere bekende sectie",
                "zet de inhoud in een bestaande groeps- of gezinsmap")
            continue
        if suffix.lower() in IMAGE_SUFFIXES and not _is_published_photo(rel, section):
            bad(rel, "foto in het openbare deel" if section.kind == "public"
                else "afbeelding buiten de fotomap van de sectie",
                "foto's komen alleen via het fotofilter in <sectie>/fotos/")
        if suffix not in TEXT_SUFFIXES or (only is not None and rel not in only):
            continue
        text = (output / rel).read_text(encoding="utf-8", errors="replace")
        if suffix == ".atom":
            text = html.unescape(text)  # entries carry their HTML escaped
        named = [family_ids[t] for t in set(TOKEN_RE.findall(text)) if t in family_ids]
        if any(other.by_address and other != section for other in named):
            bad(rel, "pagina noemt een agenda-adres van een gezin",
                "een agenda-adres staat nergens op de site: het gezin krijgt het per mail")
        elif any(not may_show(section, other) for other in named):
            bad(rel, "pagina noemt het id van een gezinspagina die er niet bij hoort",
                "gezin-id's staan alleen op de eigen gezinspagina")
        for message in _team_problems(text, section):
            bad(rel, message, "kinderen en toestemming staan alleen op de eigen teampagina "
                "(/team/<medewerker>/) van wie ze les geeft")
        if section.kind == "public":
            for person in (n for n in public_names if n in text):
                bad(rel, f"openbare pagina noemt iemand uit de leerlingenadministratie "
                         f"({person})", "openbare pagina's noemen geen leerlingen of ouders")
        if suffix in LINKED_SUFFIXES:
            for message in _url_problems(rel, text, section, sections, hosts):
                bad(rel, message, "verwijder of herschrijf de link: elke sectie toont alleen "
                    "haar eigen inhoud, foto's komen uit de berichtmap en het platform haalt "
                    "nooit iets bij andere websites op (gewone links naar websites mogen)")
    if problems:
        raise SchoolpleinError(problems)


def _listing(output: Path) -> Iterator[str]:
    for dirpath, _dirs, names in os.walk(output):
        base = Path(dirpath).relative_to(output).as_posix()
        yield from (name if base == "." else f"{base}/{name}" for name in names)


def site_hosts(settings) -> set[str]:
    """Every host name the site itself is reached by: its links are internal."""
    candidates = [settings.get("SITEURL", ""), settings.get("FEED_DOMAIN", "")]
    known = settings.get("SCHOOLPLEIN_SITE_HOSTS")
    if known is None:  # not a build from pelicanconf.py: the admin's settings decide
        from .settings import load_settings

        known = load_settings().site_hosts
    return {urlsplit(c).netloc for c in candidates if urlsplit(c).netloc} | set(known)


def check_pelican(pelican, only: set[str] | None = None,
                  files: Iterable[str] | None = None) -> None:
    settings = pelican.settings
    check_output(Path(pelican.output_path), settings["SCHOOLPLEIN_SECTIONS"],
                 site_hosts(settings), settings.get("SCHOOLPLEIN_ROSTER_OBJ"),
                 settings.get("DIRECTIE_EMAIL", ""), only, files)
