"""Pelican glue for photos: find them beside each post, decide, encode, publish.

Only post folders have photos: a folder whose markdown file is index.md, with
image files beside it (and optionally fotos.txt and .xmp sidecars). For every
article this sets `article.photos` (a list of PublishedPhoto) in
`article_generator_finalized`, which fires before any page is written, and
writes the encoded copies into `<OUTPUT_PATH><section.prefix>fotos/`.
Originals, fotos.txt and sidecars never reach the output: Pelican ignores
them (IGNORE_FILES), static copies stop the build, and after the build the
output is checked for any file whose bytes equal a source photo.

The work itself is a plain function, `process_post` / `process_posts`, so it
is testable without Pelican.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from . import pelican_seam
from .errors import Problem, SchoolpleinError, display_path
from .photo_audit import (
    Audit,
    PhotoReport,
    TagReport,
    console_lines,
    key,
    loose_summary,
    write_audit,
)
from .photo_pipeline import PhotoCache, SourceIndex, encode_all, hash_file
from .photo_rules import DEFAULT_FIX, FIXES, Decision, Probe, decide
from .photo_settings import PhotoSettings
from .photo_tags import PhotoTags, post_photos, read_post_tags
from .roster import Roster
from .sections import Section, SectionMap

log = logging.getLogger(__name__)

POST_FILE = "index.md"
PHOTO_DIR = "fotos"


@dataclass(frozen=True)
class PublishedPhoto:
    """What a template needs; URLs are site-root-absolute under the section prefix."""

    large_jpeg: str
    large_webp: str
    thumb_jpeg: str
    thumb_webp: str
    width: int
    height: int
    thumb_width: int
    thumb_height: int
    alt: str  # generic ("Foto 2 van 5"): never a child's name


@dataclass(frozen=True)
class PostResult:
    folder: Path
    section: Section
    photos: tuple[PublishedPhoto, ...] = ()
    reports: tuple[PhotoReport, ...] = ()
    problems: tuple[Problem, ...] = ()  # teacher-facing, may quote tag text
    encoded: int = 0  # photos encoded cold (0 on a warm build)
    written: tuple[Path, ...] = ()
    source_hashes: frozenset[str] = frozenset()
    loose_problems: tuple[Problem, ...] = ()  # fotos.txt lines and .xmp files tied to no photo

    @property
    def dropped(self) -> tuple[PhotoReport, ...]:
        return tuple(r for r in self.reports if not r.published)


@dataclass
class _Pending:
    photo: Path
    tags: PhotoTags
    decision: Decision
    digest: str = ""


def _report(folder: Path, item: _Pending, published: bool,
            outputs: tuple[str, ...]) -> PhotoReport:
    d = item.decision
    tags = tuple(
        TagReport(r.tag.text, r.tag.source.label, r.tag.source.file, r.tag.line,
                  r.child_id or "", "no_consent" if r.child_id in d.refused else r.kind)
        for r in d.resolutions)
    return PhotoReport(
        display_path(folder), display_path(item.photo), published,
        d.code if published or not d.publish else "undecodable", d.reason, tags,
        tuple(m.label for m in item.tags.marks), tuple(sorted(d.children)), d.problems,
        outputs, "" if published else FIXES.get(d.code, DEFAULT_FIX))


def _settings(settings) -> PhotoSettings:
    return settings if isinstance(settings, PhotoSettings) else PhotoSettings.from_pelican(
        settings)


def process_posts(posts: list[tuple[Path, Section]], roster: Roster, settings,
                  output_dir: Path, progress: bool | None = None,
                  prune: bool = False) -> list[PostResult]:
    """Decide, encode (one process pool for all posts) and write; never raises for photos.

    `prune=True` (a full site build) removes cached renditions and index
    entries of photos that are not published by this build.
    """
    settings = _settings(settings)
    output_dir = Path(output_dir)
    index = SourceIndex(settings.cache_dir)
    plan: list[tuple[Path, Section, list[_Pending], tuple[Problem, ...]]] = []
    sources: dict[str, Path] = {}
    all_hashes: set[str] = set()
    for folder, section in posts:
        folder = Path(folder)
        photos = post_photos(folder)
        tags, loose = read_post_tags(folder, photos)
        pending = []
        for photo in photos:
            # a symlink could pull in a photo from another group's folder: never followed
            link = Probe(False, "symlink") if photo.is_symlink() else None
            decision = decide(tags[photo], roster, section, settings, link)
            item = _Pending(photo, tags[photo], decision)
            item.digest = index.hash_of(photo)
            all_hashes.add(item.digest)
            if decision.publish:
                sources.setdefault(item.digest, photo)
            pending.append(item)
        plan.append((folder, section, pending, loose))
    run = encode_all(sources, settings, progress)
    if prune:
        index.forget_except({item.photo for _, _, pending, _ in plan for item in pending})
        PhotoCache(settings).prune({d for d, m in run.manifests.items() if m.ok})
    index.save()

    results = []
    for folder, section, pending, loose in plan:
        manifests = []
        for item in pending:
            if item.decision.publish:
                m = run.manifests[item.digest]
                if not m.ok:
                    item.decision = decide(item.tags, roster, section, settings,
                                           Probe(False, m.error_code, m.error_detail))
                else:
                    manifests.append((item, m))
        dest = output_dir / section.dir / PHOTO_DIR
        cache = PhotoCache(settings)
        published: dict[Path, PublishedPhoto] = {}
        urls: dict[Path, tuple[str, ...]] = {}
        written: list[Path] = []
        total = len(manifests)
        for n, (item, m) in enumerate(manifests, start=1):
            written += cache.copy_out(m, dest)
            url = {(o.role, o.format): f"{section.prefix}{PHOTO_DIR}/{o.name}" for o in m.outputs}
            large, thumb = m.get("large", "jpeg"), m.get("thumb", "jpeg")
            published[item.photo] = PublishedPhoto(
                url[("large", "jpeg")], url[("large", "webp")],
                url[("thumb", "jpeg")], url[("thumb", "webp")],
                large.width, large.height, thumb.width, thumb.height, f"Foto {n} van {total}")
            urls[item.photo] = tuple(url.values())
        reports = tuple(_report(folder, i, i.photo in published, urls.get(i.photo, ()))
                        for i in pending)
        problems = tuple(loose) + tuple(p for i in pending for p in i.decision.problems)
        results.append(PostResult(
            folder, section, tuple(published[i.photo] for i in pending if i.photo in published),
            reports, problems, sum(1 for i in pending if i.digest in run.encoded),
            tuple(written), frozenset(i.digest for i in pending), tuple(loose)))
    return results


def strict_problems(results: list[PostResult], audit: Audit | None = None) -> list[Problem]:
    """Everything that stops a strict build: each dropped photo and each loose tag-file problem.

    The error goes to the console, so like the console lines it names files,
    reasons and places, never a child: the teacher-facing details (tag text,
    suggestions) are in the audit, at the line each fix points to.
    """
    def see(item) -> str:
        return f" ({audit.see(key(item))})" if audit else ""

    problems: list[Problem] = []
    for r in results:
        problems += [Problem(rep.photo, None, f"foto niet gepubliceerd: {rep.reason}",
                             rep.fix + see(rep)) for rep in r.dropped]
        problems += [Problem(p.file, p.line, loose_summary(p), "zie het fotoverslag" + see(p))
                     for p in r.loose_problems]
    return list(dict.fromkeys(problems))


def report(results: list[PostResult], settings: PhotoSettings, output_dir: Path | None,
           roster_changes=()) -> Audit:
    """Write the private audit, log one name-free line per drop; strict: raise pointing at it."""
    reports = [rep for r in results for rep in r.reports]
    loose = [p for r in results for p in r.loose_problems]
    audit = write_audit(reports, settings.audit_dir, output_dir, notes=loose,
                        roster_changes=roster_changes)
    for line in console_lines(reports, loose, audit):
        log.warning(line)
    if settings.strict and (problems := strict_problems(results, audit)):
        raise SchoolpleinError(problems)
    return audit


def process_post(folder: Path, section: Section, roster: Roster, settings,
                 output_dir: Path) -> PostResult:
    """One post folder, as a build does it: decide, encode, write, audit (strict: raise)."""
    photo_settings = _settings(settings)
    result = process_posts([(Path(folder), section)], roster, photo_settings, output_dir)[0]
    report([result], photo_settings, output_dir)
    return result


# --- Pelican --------------------------------------------------------------------------------

# output path -> (sha256, sizes) of this build's source photos, for the leak check
_SOURCES: dict[str, tuple[frozenset[str], frozenset[int]]] = {}


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


def _enabled(settings) -> bool:
    return pelican_seam.enabled(settings, __name__)


def on_articles(generator) -> None:
    """article_generator_finalized: process every post folder, set article.photos."""
    settings = generator.settings
    if not _enabled(settings):
        return
    photo_settings = PhotoSettings.from_pelican(settings)
    for a in _article_sets(generator, PUBLISHED_SETS + DRAFT_SETS):
        a.photos = []
    articles = list({id(a): a for a in _article_sets(generator)}.values())
    by_folder: dict[Path, list] = {}
    for a in articles:
        if is_post_file(a.source_path):
            by_folder.setdefault(Path(a.source_path).parent, []).append(a)
    with_photos = {f: arts for f, arts in by_folder.items() if post_photos(f)}
    roster_changes = settings.get("SCHOOLPLEIN_ROSTER_CHANGES", ())
    if not with_photos:
        PhotoCache(photo_settings).prune(set())  # no photo published: none kept in cache
        if roster_changes:  # future photos are what they are about: still in the audit
            write_audit([], photo_settings.audit_dir, Path(generator.output_path),
                        roster_changes=roster_changes)
        return
    roster = settings.get("SCHOOLPLEIN_ROSTER_OBJ")
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
    _SOURCES[os.path.realpath(output)] = (
        frozenset().union(*(r.source_hashes for r in results)),
        frozenset(p.stat().st_size for f in with_photos for p in post_photos(f)))
    encoded = sum(r.encoded for r in results)
    published = sum(len(r.photos) for r in results)
    total = sum(len(r.reports) for r in results)
    log.info("foto's: %d gepubliceerd, %d niet, %d opnieuw gecodeerd",
             published, total - published, encoded)
    report(results, photo_settings, output, roster_changes)


def on_static(generator) -> None:
    """static_generator_finalized: nothing from content/ is ever copied as it is.

    Every static file here was linked from a post with {static} or {attach}, or
    found through a widened STATIC_PATHS: either would publish an original (with
    its metadata, and without the privacy filter). Stop the build and say what
    to do instead.
    """
    if not _enabled(generator.settings):
        return
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


def on_finalized(pelican) -> None:
    """finalized: fail the build if any output file is byte-identical to a source photo."""
    if not _enabled(pelican.settings):
        return
    output = os.path.realpath(pelican.output_path)
    hashes, sizes = _SOURCES.pop(output, (frozenset(), frozenset()))
    if not hashes:
        return
    leaks = []
    for root, _dirs, files in os.walk(output):
        for name in files:
            path = Path(root) / name
            if path.stat().st_size in sizes and hash_file(path) in hashes:
                leaks.append(Problem(display_path(path), None,
                                     "origineel van een foto staat in de uitvoer",
                                     "controleer STATIC_PATHS: originelen horen niet in de site"))
    if leaks:
        raise SchoolpleinError(leaks)


def register() -> None:
    from pelican import signals

    signals.article_generator_finalized.connect(on_articles)
    signals.static_generator_finalized.connect(on_static)
    signals.finalized.connect(on_finalized)
