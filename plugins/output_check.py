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
from .sections import SectionMap

PROTECTED_ROOTS = ("school", "groep", "gezin")
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif", ".avif", ".gif", ".tif"}
LINK_RE = re.compile(r"""(?:href|src|srcset|action)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)


def _section_of(rel: str, sections: SectionMap):
    """Section of an output file, or None when it lies outside every known prefix."""
    section = sections.for_path(rel)
    top = rel.split("/", 1)[0]
    if section.kind == "public" and top in PROTECTED_ROOTS:
        return None  # e.g. /groep/<unknown>/ or a file directly under /gezin/
    return section


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
            if section.kind == "public" and path.suffix.lower() in IMAGE_SUFFIXES \
                    and not rel.startswith("theme/"):
                problems.append(Problem(f"output/{rel}", None, "foto in het openbare deel",
                                        "foto's horen alleen bij berichten in een sectie"))
            if path.suffix == ".html":
                html = path.read_text(encoding="utf-8", errors="replace")
                for target in _link_targets(html, siteurl):
                    other = sections.for_path(target)
                    if other != section and other.protected and target not in (
                        other.prefix, other.prefix.rstrip("/"),
                    ):
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
