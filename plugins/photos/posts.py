"""The photos of post folders: decide, encode and write them (plain functions, no Pelican).

`process_posts` handles every post of a build with one process pool;
`process_post` one folder (tests, strict mode). The package's __init__ wires
them into the build; photos.rules decides, photos.encode makes the pixels.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import Problem, SchoolpleinError, display_path
from ..roster import Roster
from ..sections import Section
from .audit import (
    Audit,
    BlurReport,
    PhotoReport,
    TagReport,
    console_lines,
    key,
    loose_summary,
    write_audit,
)
from .blur import Plan, plan_for
from .cache import EncodeRun, PhotoCache, PixelIndex, SourceIndex, rendition_digests
from .outcomes import Outcomes
from .rules import DEFAULT_FIX, FIXES, Decision, Probe, decide
from .settings import PHOTO_DIR, PhotoSettings
from .tags import PhotoTags, read_post_tags

log = logging.getLogger(__name__)

POST_FILE = "index.md"


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
    name: str = ""  # the source file's name in the post folder (the teacher's team page only)


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
    section: Section
    tags: PhotoTags
    decision: Decision
    digest: str = ""  # the source's sha256 ("" for a symlink: never read)


def _report(folder: Path, item: _Pending, published: bool,
            outputs: tuple[str, ...]) -> PhotoReport:
    d = item.decision
    tags = tuple(
        TagReport(r.tag.text, r.tag.source.label, r.tag.source.file, r.tag.line,
                  r.child_id or "", "blurred" if r.child_id in d.blurred_ids and published
                  else "no_consent" if r.child_id in d.refused else r.kind)
        for r in d.resolutions)
    blurred = tuple(BlurReport(b.child, b.why, ", ".join(b.where)) for b in d.blurred
                    ) if published else ()
    return PhotoReport(
        display_path(folder), display_path(item.photo), published,
        d.code if published or not d.publish else "undecodable", d.reason, tags,
        tuple(m.label for m in item.tags.marks), tuple(sorted(d.children)), d.problems,
        outputs, "" if published else FIXES.get(d.code, DEFAULT_FIX), blurred)


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
    renditions = rendition_digests(settings.cache_dir)
    plan: list[tuple[Path, Section, list[_Pending], tuple[Problem, ...]]] = []
    sources: dict[str, Path] = {}  # every photo: each gets its pixel key
    outcomes = Outcomes(settings.cache_dir, roster, settings)
    for folder, section in posts:
        folder = Path(folder)
        key, storable = outcomes.folder_key(folder, section)
        known = outcomes.tags(folder, key)
        if known is None:
            tags, loose = read_post_tags(folder)
            named = {photo.name: t for photo, t in tags.items()}
        else:
            named, loose = known
        pending, decisions = [], {}
        for name, found in named.items():
            photo = folder / name
            # a symlink could pull in a photo from another group's folder: never followed
            link = Probe(False, "symlink") if photo.is_symlink() else None
            digest = index.hash_of(photo) if link is None else ""
            photo_tags = replace(found, digest=digest)
            item_key = (digest, link is not None)
            decision = outcomes.decision(folder, key, name, item_key)
            if decision is None:
                decision = decide(photo_tags, roster, section, settings, link)
            decisions[name] = (item_key, decision)
            item = _Pending(photo, section, photo_tags, decision, digest)
            if digest:
                sources.setdefault(digest, photo)
            pending.append(item)
        outcomes.keep(folder, key, storable, named, loose, decisions)
        plan.append((folder, section, pending, loose))
    outcomes.save(prune)
    items = [item for _, _, pending, _ in plan for item in pending]
    # one decode per new photo: its pixel key, and its renditions (clear, or blurred by its
    # plan) when its own tags publish it
    run = _encode_run(sources, settings, progress, *_wanted(items), digests=renditions)
    _join_copies(items, run.keys, roster, settings)
    later = [i for i in items if i.decision.publish and _entry(i) not in run.manifests]
    if later:  # published only through the tags of another copy, or blurred otherwise now
        more = _encode_run({i.digest: i.photo for i in later}, settings, progress,
                           *_wanted(later), digests=renditions)
        run = EncodeRun({**run.manifests, **more.manifests}, run.encoded | more.encoded, run.keys)
    for item in items:
        if item.decision.publish and not (m := run.manifests[_entry(item)]).ok:
            item.decision = decide(item.tags, roster, item.section, settings,
                                   Probe(False, m.error_code, m.error_detail))
    if prune:
        index.forget_except({item.photo for item in items})
        pixels = PixelIndex(settings.cache_dir)
        pixels.forget_except(set(sources))
        pixels.save()
        PhotoCache(settings).prune({_entry(i) for i in items if i.decision.publish})
        renditions.forget_except(p for p in list(renditions.entries) if os.path.exists(p))
    index.save()
    renditions.save()

    results = []
    for folder, section, pending, loose in plan:
        manifests = [(item, run.manifests[_entry(item)]) for item in pending
                     if item.decision.publish]
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
                large.width, large.height, thumb.width, thumb.height, f"Foto {n} van {total}",
                item.photo.name)
            urls[item.photo] = tuple(url.values())
        reports = tuple(_report(folder, i, i.photo in published, urls.get(i.photo, ()))
                        for i in pending)
        problems = tuple(loose) + tuple(p for i in pending for p in i.decision.problems)
        results.append(PostResult(
            folder, section, tuple(published[i.photo] for i in pending if i.photo in published),
            reports, problems, sum(1 for i in pending if _entry(i) in run.encoded),
            tuple(written), frozenset(i.digest for i in pending), tuple(loose)))
    return results


def _plan(item: _Pending) -> Plan | None:
    """The blur plan of a photo published with a child made unrecognisable (else None)."""
    return plan_for(item.digest, item.decision.blurred) if item.decision.publish else None


def _entry(item: _Pending) -> str:
    """The cache entry of a photo's renditions: its source hash, or its blur plan's key."""
    plan = _plan(item)
    return plan.key if plan else item.digest


def _wanted(items: list[_Pending]) -> tuple[set[str], dict[str, Plan]]:
    """(the cache entries to publish, the blur plans among them by key)."""
    plans = {p.key: p for i in items if (p := _plan(i))}
    return {_entry(i) for i in items if i.decision.publish and i.digest}, plans


def _encode_run(sources: dict[str, Path], settings: PhotoSettings, progress: bool | None,
                publish: set[str] | None = None, plans: dict[str, Plan] | None = None,
                digests=None) -> EncodeRun:
    """Pixel keys for every source and manifests for the cache entries to publish.

    A warm build finds them all in the cache and never imports the encoder (Pillow,
    pillow-heif, the process pool): a teacher's `invoke build` does not pay for them.
    """
    plans = plans or {}
    publish = set(sources) if publish is None else {
        e for e in publish if e in sources or (e in plans and plans[e].source_hash in sources)}
    pixels, cache = PixelIndex(settings.cache_dir), PhotoCache(settings, digests)
    keys = {digest: pixels.get(digest) for digest in sources}
    found = {entry: cache.lookup(entry) for entry in publish}
    if all(keys.values()) and all(found.values()):
        return EncodeRun(found, frozenset(), keys)
    from .encode import encode_all

    return encode_all(sources, settings, progress, publish=publish, plans=plans)


def _join_copies(items: list[_Pending], keys: dict[str, str], roster: Roster,
                 settings: PhotoSettings) -> None:
    """Decide every copy of a picture (the same pixel key) on the tags of all its copies."""
    by_key: dict[str, list[_Pending]] = {}
    for item in items:
        if keys.get(item.digest):
            by_key.setdefault(keys[item.digest], []).append(item)
    for group in by_key.values():
        if len(group) < 2:
            continue
        for item in group:
            copies = [(o.tags, o.section) for o in group if o is not item]
            item.decision = decide(item.tags, roster, item.section, settings, copies=copies)


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
