"""Photos, as a Pelican plugin: register() and the receivers that wire photos.posts in.

Only post folders have photos: a folder whose markdown file is index.md, with
image files beside it (and optionally fotos.txt and .xmp sidecars). For every
article this sets `article.photos` (a list of PublishedPhoto) in
`article_generator_finalized`, which fires before any page is written, and
writes the encoded copies into `<OUTPUT_PATH><section.prefix>fotos/`.
Originals, fotos.txt and sidecars never reach the output: Pelican ignores
them (IGNORE_FILES), static copies stop the build, and after the build the
output is checked for any file whose bytes equal a source photo.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from ..errors import Problem, SchoolpleinError, display_path
from ..sections import Section, SectionMap
from ..state import BuildState, receiver
from .audit import write_audit
from .cache import PhotoCache, hash_file
from .posts import POST_FILE, process_posts, report
from .settings import PhotoSettings
from .tags import post_photos

log = logging.getLogger(__name__)


# --- Pelican --------------------------------------------------------------------------------

PUBLISHED_SETS = ("articles", "translations", "hidden_articles", "hidden_translations")
DRAFT_SETS = ("drafts", "drafts_translations")


def _article_sets(generator, names=PUBLISHED_SETS):
    """Articles whose photos are published; drafts get none (their photos would be orphans)."""
    for name in names:
        yield from getattr(generator, name, []) or []


def is_post_file(source_path: str | os.PathLike) -> bool:
    return Path(source_path).name == POST_FILE


def _section_of(article, generator, sections: SectionMap | None) -> Section:
    section = getattr(article, "section", None)
    if isinstance(section, Section):
        return section
    if sections is None:
        raise SchoolpleinError(Problem(display_path(article.source_path), None,
                                       "geen sectie bekend voor dit bericht",
                                       "de sectiekaart ontbreekt (SCHOOLPLEIN_SECTIONS)"))
    rel = os.path.relpath(article.source_path, generator.path).replace(os.sep, "/")
    return sections.for_content(rel, display_path(article.source_path))


on_build = receiver(__name__)


@on_build
def on_articles(generator, state: BuildState) -> None:
    """article_generator_finalized: process every post folder, set article.photos."""
    settings = generator.settings
    photo_settings = PhotoSettings.from_pelican(settings)
    for a in _article_sets(generator, PUBLISHED_SETS + DRAFT_SETS):
        a.photos = []
    articles = list({id(a): a for a in _article_sets(generator)}.values())
    by_folder: dict[Path, list] = {}
    for a in articles:
        if is_post_file(a.source_path):
            by_folder.setdefault(Path(a.source_path).parent, []).append(a)
    listed = {f: post_photos(f) for f in by_folder}
    with_photos = {f: arts for f, arts in by_folder.items() if listed[f]}
    roster_changes = settings.get("SCHOOLPLEIN_ROSTER_CHANGES", ())
    if not with_photos:
        PhotoCache(photo_settings).prune(set())  # no photo published: none kept in cache
        if roster_changes:  # future photos are what they are about: still in the audit
            write_audit([], photo_settings.audit_dir, Path(generator.output_path),
                        roster_changes=roster_changes)
        return
    # today's roster plus the children who left (archive sections): plugins.archive
    roster = settings.get("SCHOOLPLEIN_PHOTO_ROSTER") or settings.get("SCHOOLPLEIN_ROSTER_OBJ")
    sections = settings.get("SCHOOLPLEIN_SECTIONS")
    if roster is None:
        raise SchoolpleinError(Problem("pelicanconf.py", None,
                                       "de leerlingenlijst ontbreekt (SCHOOLPLEIN_ROSTER_OBJ)",
                                       "laad de roster-plugin vóór de foto-plugin"))
    posts = [(folder, _section_of(arts[0], generator, sections))
             for folder, arts in sorted(with_photos.items())]
    output = Path(generator.output_path)
    results = process_posts(posts, roster, photo_settings, output, prune=True)
    for r in results:
        for a in with_photos[r.folder]:
            a.photos = list(r.photos)
    state.photo_hashes = frozenset().union(*(r.source_hashes for r in results))
    state.photo_sizes = frozenset(p.stat().st_size for f in with_photos for p in listed[f])
    encoded = state.photos_encoded = sum(r.encoded for r in results)
    published = sum(len(r.photos) for r in results)
    total = sum(len(r.reports) for r in results)
    blurred = sum(bool(rep.blurred) for r in results for rep in r.reports)
    log.info("foto's: %d gepubliceerd%s, %d niet, %d opnieuw gecodeerd", published,
             f" (op {blurred} een kind onherkenbaar gemaakt)" if blurred else "",
             total - published, encoded)
    report(results, photo_settings, output, roster_changes)


@on_build
def on_static(generator, state: BuildState) -> None:
    """static_generator_finalized: nothing from content/ is ever copied as it is.

    Every static file here was linked from a post with {static} or {attach}, or
    found through a widened STATIC_PATHS: either would publish an original (with
    its metadata, and without the privacy filter). Stop the build and say what
    to do instead.
    """
    problems = [
        Problem(display_path(sf.source_path), None,
                "bestand uit content/ zou ongefilterd gepubliceerd worden ({static}/{attach}-"
                "link of STATIC_PATHS): originelen worden nooit gepubliceerd",
                "zet foto's in een berichtmap (naast index.md); ze komen dan gefilterd in de "
                "galerij. Verwijder de link naar dit bestand en laat STATIC_PATHS leeg.")
        for sf in generator.staticfiles
    ]
    if problems:
        generator.staticfiles.clear()
        raise SchoolpleinError(problems)


@on_build
def on_finalized(pelican, state: BuildState) -> None:
    """finalized: fail the build if any output file is byte-identical to a source photo."""
    output = os.path.realpath(pelican.output_path)
    hashes, sizes = state.photo_hashes, state.photo_sizes
    if not hashes:
        return
    if state.incremental is not None:  # it has every output file's sha256 already
        found = [Path(output, rel) for rel, entry in state.incremental.finish().items()
                 if entry[0] in hashes]
    else:
        found = [Path(root, name) for root, _dirs, files in os.walk(output) for name in files
                 if os.stat(os.path.join(root, name)).st_size in sizes
                 and hash_file(Path(root, name)) in hashes]
    leaks = [Problem(display_path(path), None, "origineel van een foto staat in de uitvoer",
                     "controleer STATIC_PATHS: originelen horen niet in de site")
             for path in found]
    if leaks:
        raise SchoolpleinError(leaks)


def register() -> None:
    from pelican import signals

    signals.article_generator_finalized.connect(on_articles)
    signals.static_generator_finalized.connect(on_static)
    signals.finalized.connect(on_finalized)
