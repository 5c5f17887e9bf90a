"""Fail the build when an output file escapes its section.

Every file must lie under exactly one known section prefix, and no page may
link content (posts, photos, feeds) of a section it does not belong to.
Links to another section's root are navigation and allowed: a family's home
page points to the group pages of its children.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from .errors import Problem, SchoolpleinError
from .sections import ROOTS, SectionMap

PROTECTED_ROOTS = tuple(root.strip("/") for root in ROOTS.values())
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif", ".avif", ".gif", ".tif",
                  ".tiff", ".bmp", ".svg", ".jxl"}
TOKEN_RE = re.compile(r"[a-z0-9]{16,40}")
TEXT_SUFFIXES = {".html", ".atom", ".xml", ".txt", ".css", ".js", ".json"}
PHOTO_NAME_RE = re.compile(r"^[0-9a-f]{20}-\d+\.(?:jpg|webp)$")
EMBED_RE = re.compile(r"""(?:src|srcset|action|poster|data)\s*=\s*["']\s*((?:https?:)?//[^"'\s]+)""",
                      re.IGNORECASE)
LINK_RE = re.compile(r"""(?:href|src|srcset|action)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)


def _section_of(rel: str, sections: SectionMap):
    """Section of an output file, or None when it lies outside every known prefix."""
    section = sections.for_path(rel)
    top = rel.split("/", 1)[0]
    if section.kind == "public" and top in PROTECTED_ROOTS:
        return None  # e.g. /groep/<unknown>/ or a file directly under /gezin/
    return section


def _is_published_photo(rel: str, section) -> bool:
    """Theme artwork, or a filtered, re-encoded copy named by hash in the section's fotos/."""
    if section.kind == "public":
        return rel.startswith("theme/")
    name = rel.removeprefix(section.dir + "/fotos/")
    return name != rel and PHOTO_NAME_RE.match(name) is not None


def _link_targets(html: str, siteurl: str) -> set[str]:
    targets = set()
    for raw in LINK_RE.findall(html):
        for candidate in raw.split(","):
            url = candidate.strip().split(" ", 1)[0]
            if siteurl and url.startswith(siteurl):
                url = url[len(siteurl):]
            if url.startswith("/") and not url.startswith("//"):
                targets.add(url.split("#", 1)[0].split("?", 1)[0])
    return targets


def check_output(output: Path, sections: SectionMap, siteurl: str = "") -> None:
    problems: list[Problem] = []
    family_ids = {s.key: s for s in sections if s.kind == "family"}
    for dirpath, _dirs, files in os.walk(output):
        for name in files:
            path = Path(dirpath) / name
            rel = path.relative_to(output).as_posix()
            section = _section_of(rel, sections)
            if section is None:
                problems.append(Problem(f"output/{rel}", None,
                                        "bestand valt buiten iedere bekende sectie",
                                        "zet de inhoud in een bestaande groeps- of gezinsmap"))
                continue
            if path.suffix.lower() in IMAGE_SUFFIXES and not _is_published_photo(rel, section):
                problems.append(Problem(
                    f"output/{rel}", None,
                    "foto in het openbare deel" if section.kind == "public"
                    else "afbeelding buiten de fotomap van de sectie",
                    "foto's komen alleen via het fotofilter in <sectie>/fotos/"))
            if path.suffix in TEXT_SUFFIXES:
                text = path.read_text(encoding="utf-8", errors="replace")
                for token in set(TOKEN_RE.findall(text)) & family_ids.keys():
                    if family_ids[token] != section:
                        problems.append(Problem(
                            f"output/{rel}", None,
                            "pagina noemt het id van een gezinspagina die er niet bij hoort",
                            "gezin-id's staan alleen op de eigen gezinspagina"))
            if path.suffix == ".html":
                for url in EMBED_RE.findall(text):
                    if not (siteurl and url.startswith(siteurl)):
                        problems.append(Problem(
                            f"output/{rel}", None,
                            f"pagina laadt iets van een andere website ({url})",
                            "zet afbeeldingen in de berichtmap; het platform haalt nooit iets "
                            "bij derden op (gewone links naar websites mogen wel)"))
                for target in _link_targets(text, siteurl):
                    other = sections.for_path(target)
                    root_link = other.kind in ("school", "group") and target in (
                        other.prefix, other.prefix.rstrip("/"))
                    if other != section and other.protected and not root_link:
                        problems.append(Problem(
                            f"output/{rel}", None,
                            f"pagina van '{section.title}' linkt naar inhoud van "
                            f"een andere sectie ({target})",
                            "verwijder de link; elke sectie toont alleen haar eigen inhoud",
                        ))
    if problems:
        raise SchoolpleinError(problems)


def check_pelican(pelican) -> None:
    check_output(Path(pelican.output_path), pelican.settings["SCHOOLPLEIN_SECTIONS"],
                 pelican.settings.get("SITEURL", ""))
