"""Route each content file into its section by its folder under content/.

The folder decides who reads a post, never a free-text field. Pelican swallows
exceptions raised while reading content, so problems are collected here and
raised once all content is read: an unknown folder stops the build.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from pelican.contents import Article, Page

from .errors import Problem, SchoolpleinError, display_path

_problems: list[Problem] = []


def reset() -> None:
    _problems.clear()


def slug_for(relpath: PurePosixPath) -> str:
    """A post folder's name (`…/2026-10-03-kinderboerderij/index.md`) or the file's stem."""
    if relpath.stem == "index" and len(relpath.parts) > 2:
        return relpath.parent.name
    return relpath.stem


def route(instance) -> None:
    if not isinstance(instance, Article | Page) or not instance.source_path:
        return
    settings = instance.settings
    sections = settings["SCHOOLPLEIN_SECTIONS"]
    content_root = Path(settings["PATH"]).resolve()
    source = Path(instance.source_path).resolve()
    relpath = PurePosixPath(source.relative_to(content_root).as_posix())
    shown = display_path(source)
    try:
        section = sections.for_content(str(relpath), shown)
    except SchoolpleinError as exc:
        _problems.extend(exc.problems)
        instance.status = "draft"  # never written; the build fails below anyway
        return
    expected_kind = "public" if isinstance(instance, Page) else None
    if expected_kind and section.kind != expected_kind or not expected_kind and section.kind == "public":
        _problems.append(Problem(
            shown, None, "publieke pagina's horen in content/publiek/, berichten daarbuiten",
            "verplaats het bestand naar de juiste map",
        ))
        instance.status = "draft"
        return
    instance.section = section
    if isinstance(instance, Article):
        slug = slug_for(relpath)
        instance.slug = f"{section.dir}/{slug}"  # unique site-wide: Pelican groups by slug
        instance.override_url = f"{section.dir}/{slug}/"
        instance.override_save_as = f"{section.dir}/{slug}/index.html"
        instance.post_folder = str(source.parent) if relpath.stem == "index" else None


def raise_problems(_generator) -> None:
    if _problems:
        problems = list(_problems)
        _problems.clear()
        raise SchoolpleinError(problems)
