"""Route each content file into its section by its folder under content/.

The folder decides who reads a post, never a free-text field. Pelican swallows
exceptions raised while reading content, so problems are collected here and
raised once all content is read: an unknown folder stops the build.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import PurePosixPath

from pelican.contents import Article, Page

from .errors import Problem, SchoolpleinError, display_path
from .photos.settings import PHOTO_DIR
from .sections import ROOTS


def slug_for(relpath: PurePosixPath) -> str:
    """A post folder's name (`…/2026-10-03-kinderboerderij/index.md`) or the file's stem."""
    if relpath.stem == "index" and len(relpath.parts) > 2:
        return relpath.parent.name
    return relpath.stem


RESERVED_PAGE_SLUGS = {*(root.strip("/") for root in ROOTS.values()), "login", "uitloggen", "mijn", "theme",
                       PHOTO_DIR, "401", "403", "404", "index", "robots"}
POSTVAK = "postvak"  # /gezin/<id>/postvak/: where the family page sends to (never a page)
PAGE_SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def _refuse(instance, problems: list[Problem], shown: str, message: str, fix: str) -> None:
    problems.append(Problem(shown, None, message, fix))
    instance.status = "draft"  # never written; the build fails once all content is read


@functools.lru_cache(maxsize=8)
def _real(folder: str) -> str:
    return os.path.realpath(folder)


def route(instance, problems: list[Problem]) -> None:
    """Give a post or page its section and address; what is wrong goes into `problems`."""
    if not isinstance(instance, Article | Page) or not instance.source_path:
        return
    settings = instance.settings
    sections = settings["SCHOOLPLEIN_SECTIONS"]
    content_root = _real(settings["PATH"])  # content/ itself may be a link the admin chose
    given = os.path.abspath(instance.source_path)
    source = os.path.realpath(given)  # plain strings: this runs for every post of every build
    shown = display_path(given)
    refuse = functools.partial(_refuse, instance, problems, shown)
    inside = os.path.join(content_root, os.path.relpath(given, os.path.abspath(settings["PATH"])))
    if source != inside or not source.startswith(content_root + os.sep):
        return refuse("bestand is een snelkoppeling (symlink); die volgt het platform niet",
                      "zet het echte bestand in de juiste map onder content/")
    if not str(instance.metadata.get("title", "")).strip():
        return refuse("bericht zonder titel (de regel 'Title:' ontbreekt of is leeg)",
                      "zet bovenaan het bestand een regel als 'Title: Uitje naar de "
                      "kinderboerderij', met daaronder 'Date:' en een lege regel voor de tekst")
    if "template" in instance.metadata:
        return refuse("'Template:' wordt niet ondersteund",
                      "verwijder de regel 'Template:'; de map bepaalt hoe een bericht eruitziet")
    relpath = PurePosixPath(os.path.relpath(source, content_root).replace(os.sep, "/"))
    try:
        section = sections.for_content(str(relpath), shown)
    except SchoolpleinError as exc:
        problems.extend(exc.problems)
        instance.status = "draft"
        return None
    if isinstance(instance, Page) != (section.kind == "public"):
        return refuse("publieke pagina's horen in content/publiek/, berichten daarbuiten",
                      "verplaats het bestand naar de juiste map")
    instance.section = section
    if isinstance(instance, Page):  # public: the slug decides, metadata never does
        slug = instance.slug or ""
        if not PAGE_SLUG_RE.match(slug) or slug in RESERVED_PAGE_SLUGS:
            return refuse(f"ongeldig adres '{slug}' voor een publieke pagina",
                          "kies een Slug: van kleine letters, cijfers en '-', niet "
                          + ", ".join(sorted(RESERVED_PAGE_SLUGS)))
        instance.override_url, instance.override_save_as = f"{slug}/", f"{slug}/index.html"
        return None
    slug = slug_for(relpath)
    if section.kind == "family" and slug == POSTVAK:
        return refuse(f"'{POSTVAK}' is het adres van het postvak van dit gezin",
                      "geef het bericht een andere bestandsnaam, bv. 2026-11-20-bericht.md")
    instance.slug = f"{section.dir}/{slug}"  # unique site-wide: Pelican groups by slug
    instance.override_url = f"{section.dir}/{slug}/"
    instance.override_save_as = f"{section.dir}/{slug}/index.html"
    instance.post_folder = os.path.dirname(source) if relpath.stem == "index" else None
    return None


def drop_drafts(generator) -> None:
    """A draft is never written: not even at an address a parent could guess."""
    for name in ("drafts", "drafts_translations"):
        if hasattr(generator, name):
            getattr(generator, name).clear()


def raise_problems(problems: list[Problem]) -> None:
    if problems:
        found = list(problems)
        problems.clear()
        raise SchoolpleinError(found)
