"""Incremental builds: what did not change is not rendered, checked or rewritten.

A build writes into a fresh staging folder (tasks/common.py); the previous
output stays where it is until the new one is complete. For every group of
files one `write_file`/`write_feed` call produces (an article, a section's
paginated index, a feed) the writer computes a fingerprint of everything that
goes into it: the build's context (code, theme, roster, settings: any change
there re-renders everything), the sources of its posts, their addresses,
sections and published photos. When the previous build wrote that group
with the same fingerprint and its files are still there, byte for byte, the
writer hard-links them into the staging folder instead of rendering them.
Files that are rendered but come out identical are linked too, so every
untouched output file keeps its bytes, inode and mtime: rsync and the S3 sync
see nothing to do.

Privacy stays fail closed: nothing is carried over by default. A group is
only reused on an exact fingerprint match, the staging folder starts empty
(so nothing stale can linger), photos come from the photo filter of this
build, and the output check still sees every file (it skips only bytes it
passed before under the same context). A roster change of any kind changes
the context fingerprint and re-renders everything.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from pelican.contents import Content
from pelican.urlwrappers import URLWrapper
from pelican.writers import Writer

from .photos.cache import hash_file
from .sections import Section

VERSION = 2
ROOT = Path(__file__).resolve().parent.parent
# Whatever renders differently when it changes; its bytes go into the context fingerprint.
CODE = ("plugins", "theme")
SETTING_KEYS = ("SITENAME", "SITESUBTITLE", "SITEURL", "FEED_DOMAIN", "TIMEZONE",
                "DEFAULT_DATE_FORMAT", "DEFAULT_PAGINATION", "PAGINATION_PATTERNS", "MARKDOWN",
                "DIRECTIE_EMAIL", "SCHOOL_PHONE", "MIN_CHILDREN_PER_PHOTO", "PHOTO_CONSENT_DEFAULT",
                "PHOTO_STRICT", "THEME", "PATH", "FEED_MAX_ITEMS", "SCHOOLPLEIN_SITE_HOSTS",
                "DEFAULT_LANG", "PLUGINS", "SCHOOLPLEIN_TARGET")
# A write_file call may be reused only when everything its template shows besides the build's
# context is in its keyword arguments: Pelican's article and page writes, and section_pages
# (which passes its section's data as `section_page`).
REUSABLE = frozenset({"article", "page", "section_page"})
# Markdown that links other content: its output can change without its own source changing.
INTRASITE = ("{filename}", "{static}", "{attach}", "{author}", "{category}", "{tag}",
             "|filename|", "|static|", "|attach|")


UNKNOWN = object()  # an input the fingerprint cannot vouch for


def _tree_digest(folder: Path, h) -> None:
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        h.update(path.relative_to(folder).as_posix().encode())
        h.update(path.read_bytes())


def context_fingerprint(settings) -> str:
    """The code, theme, roster and settings a build renders with."""
    h = hashlib.sha256(f"schoolplein-incremental-{VERSION}".encode())
    for name in CODE:
        _tree_digest(ROOT / name, h)
    _tree_digest(Path(settings["SCHOOLPLEIN_ROSTER"]), h)
    # (a family's postvak thread is not here: its page passes it as a keyword argument)
    h.update(json.dumps({k: str(settings.get(k)) for k in SETTING_KEYS}, sort_keys=True).encode())
    return h.hexdigest()


def cache_templates(settings) -> None:
    """Keep Jinja's compiled templates in the build cache (a warm build compiles none).

    Jinja checks each entry against its template's source; the folder is keyed by
    Jinja's version and the environment options, which change what a source compiles to.
    """
    import jinja2

    env = dict(settings.get("JINJA_ENVIRONMENT") or {})
    key = hashlib.sha256(repr((jinja2.__version__, sorted(env.items(), key=str))).encode())
    folder = Path(settings["SCHOOLPLEIN_BUILD_CACHE"]) / "jinja" / key.hexdigest()[:16]
    folder.mkdir(parents=True, exist_ok=True)
    settings["JINJA_ENVIRONMENT"] = {**env, "bytecode_cache": jinja2.FileSystemBytecodeCache(
        str(folder))}


@dataclass
class Manifest:
    """What a build wrote: per group its fingerprint and files; every file's bytes and stat.

    `files` maps each output file to [sha256, size, mtime_ns, inode]: all of them passed the
    output check under `context`. A later build trusts a file whose size, mtime and inode
    are unchanged (outputs are never written in place: plugins.incremental links or replaces).
    """

    context: str = ""
    groups: dict[str, dict] = field(default_factory=dict)  # key -> {"fp": str, "files": [rel]}
    files: dict[str, list] = field(default_factory=dict)  # rel -> [sha256, size, mtime_ns, ino]

    @classmethod
    def load(cls, path: Path) -> Manifest:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        if data.get("version") != VERSION:
            return cls()
        return cls(data["context"], data["groups"], data["files"])

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"version": VERSION, "context": self.context,
                                   "groups": self.groups, "files": self.files}),
                       encoding="utf-8")
        os.replace(tmp, path)


def manifest_path(settings) -> Path:
    """One manifest per output folder, kept with the build cache (never in the output)."""
    target = str(Path(settings["SCHOOLPLEIN_PREVIOUS_OUTPUT"]).resolve())
    name = hashlib.sha256(target.encode()).hexdigest()[:16]
    return Path(settings["SCHOOLPLEIN_BUILD_CACHE"]) / f"manifest-{name}.json"


class Incremental:
    """One build's view of the previous one (None of it when there was no previous build)."""

    def __init__(self, settings) -> None:
        self.output = Path(settings["OUTPUT_PATH"])
        self.previous = Path(settings["SCHOOLPLEIN_PREVIOUS_OUTPUT"])
        self.path = manifest_path(settings)
        self.context = context_fingerprint(settings)
        old = Manifest.load(self.path)
        self.old = old if old.context == self.context else Manifest(old.context, {}, old.files)
        self.new = Manifest(self.context)
        self.reused = self.rendered = 0
        self._source_hashes: dict[str, str] = {}
        self._contents: dict[int, object] = {}  # id(Content) -> its digest, for this build
        self._made: set[str] = set()  # output folders made by reuse()
        self._files: dict[str, list] | None = None  # finish(), once

    # --- fingerprints ------------------------------------------------------------------------

    def _source(self, path: str) -> str:
        if path not in self._source_hashes:
            self._source_hashes[path] = hash_file(Path(path))
        return self._source_hashes[path]

    def _digest(self, value) -> object:
        """A JSON-able summary of a rendering input; UNKNOWN when it cannot be summed up safely."""
        if isinstance(value, Content):
            # every index page lists its section's posts: sum each post up once per build
            # (a post's inputs are fixed once the photos are set, before anything is written)
            if id(value) not in self._contents:
                self._contents[id(value)] = self._content_digest(value)
            return self._contents[id(value)]
        if isinstance(value, Section):
            return ["section", value.name, value.title, value.prefix]
        if isinstance(value, URLWrapper):  # a category, tag or author: its name
            return ["wrapper", type(value).__name__, str(value)]
        if isinstance(value, list | tuple):
            items = [self._digest(v) for v in value]
            return UNKNOWN if any(i is UNKNOWN for i in items) else items
        if isinstance(value, dict):
            items = {str(k): self._digest(v) for k, v in value.items()}
            return UNKNOWN if any(i is UNKNOWN for i in items.values()) else items
        if isinstance(value, str | int | float | bool) or value is None:
            return value
        return UNKNOWN  # anything else: render it, never guess

    def _content_digest(self, value: Content) -> object:
        if not value.source_path or any(m in (value._content or "") for m in INTRASITE):
            return UNKNOWN
        return ["content", self._source(value.source_path), value.url, value.save_as,
                str(getattr(value, "status", "")), repr(getattr(value, "photos", [])),
                repr(getattr(value, "signup", None)),  # the sign-up counts it shows
                getattr(getattr(value, "section", None), "name", "")]

    def fingerprint(self, kind: str, name: str, values: dict) -> str | None:
        digest = self._digest(values)
        if digest is UNKNOWN:
            return None
        blob = json.dumps([self.context, kind, name, digest], sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()

    # --- reuse ------------------------------------------------------------------------------

    def _unchanged(self, rel: str) -> bool:
        """The previous build's file is still there as it left it (stat, else bytes)."""
        known = self.old.files.get(rel)
        old = os.path.join(self.previous, rel)  # plain strings: this runs for every output file
        try:
            st = os.lstat(old)
        except OSError:
            return False
        if known is None or not stat.S_ISREG(st.st_mode):
            return False
        if [st.st_size, st.st_mtime_ns, st.st_ino] == known[1:]:
            return True
        return st.st_size == known[1] and hash_file(Path(old)) == known[0]

    def reuse(self, key: str, fp: str | None) -> bool:
        """Link the previous build's files of this group into the output, if all still fit."""
        group = self.old.groups.get(key)
        if fp is None or group is None or group["fp"] != fp:
            return False
        if not all(self._unchanged(rel) for rel in group["files"]):
            return False
        for rel in group["files"]:
            target = os.path.join(self.output, rel)
            folder = os.path.dirname(target)
            if folder not in self._made:
                os.makedirs(folder, exist_ok=True)
                self._made.add(folder)
            os.link(os.path.join(self.previous, rel), target)
        self.new.groups[key] = group
        self.reused += 1
        return True

    def record(self, key: str, fp: str | None, written: list[str]) -> None:
        self.rendered += 1
        if fp is not None:
            self.new.groups[key] = {"fp": fp, "files": [
                Path(p).relative_to(self.output).as_posix() for p in written]}

    # --- after the build ----------------------------------------------------------------------

    def finish(self) -> dict[str, list]:
        """Every output file with its sha256; byte-identical ones become the previous file again.

        A file that came out as the previous build left it is replaced by a link to
        that file, so it keeps its inode and mtime (rsync and the S3 sync skip it).
        Done once per build: the output check and the photo leak check read this
        listing instead of walking the output again.
        """
        if self._files is not None:
            return self._files
        by_stat = {tuple(v[1:]): v[0] for v in self.old.files.values()}
        found: dict[str, list] = {}
        root = os.fspath(self.output)
        for folder, _dirs, names in os.walk(root):
            base = os.path.relpath(folder, root).replace(os.sep, "/")
            for name in names:
                path = os.path.join(folder, name)
                rel = name if base == "." else f"{base}/{name}"
                st = os.lstat(path)
                linked = by_stat.get((st.st_size, st.st_mtime_ns, st.st_ino))
                sha = linked or hash_file(Path(path))
                known = self.old.files.get(rel)
                if not linked and known and known[0] == sha and self._unchanged(rel):
                    tmp = os.path.join(folder, f".{name}.link")
                    os.link(os.path.join(self.previous, rel), tmp)
                    os.replace(tmp, path)
                    st = os.lstat(path)
                found[rel] = [sha, st.st_size, st.st_mtime_ns, st.st_ino]
        self._files = found
        return found

    def unchecked(self, files: dict[str, list]) -> set[str]:
        """Files the output check must read: new bytes, or a new check context."""
        if self.old.context != self.context:
            return set(files)
        return {rel for rel, entry in files.items()
                if (self.old.files.get(rel) or [None])[0] != entry[0]}

    def save(self, files: dict[str, list]) -> None:
        self.new.files = files
        self.new.save(self.path)


class IncrementalWriter(Writer):
    """Pelican's writer, reusing what did not change (plugins.incremental)."""

    def __init__(self, output_path, settings=None):
        super().__init__(output_path, settings=settings)
        from .state import KEY

        self.incremental: Incremental | None = getattr(
            (settings or {}).get(KEY), "incremental", None)
        self._written_now: list[str] | None = None

    def _open_w(self, filename, encoding, override=False):
        # A file here may be a hard link to the previous build's: never write through it.
        if os.path.lexists(filename) and filename not in self._written_files:
            os.unlink(filename)
        if self._written_now is not None:
            self._written_now.append(filename)
        return super()._open_w(filename, encoding, override)

    def _group(self, kind: str, name: str, values: dict, write):
        inc = self.incremental
        if inc is None or not name:
            return write()
        fp = inc.fingerprint(kind, name, values)
        if inc.reuse(f"{kind}:{name}", fp):
            return None
        self._written_now = []
        try:
            result = write()
            inc.record(f"{kind}:{name}", fp, self._written_now)
        finally:
            self._written_now = None
        return result

    def write_file(self, name, template, context, relative_urls=False, paginated=None,
                   template_name=None, override_output=False, url=None, **kwargs):
        def write():
            return super(IncrementalWriter, self).write_file(
                name, template, context, relative_urls, paginated, template_name,
                override_output, url, **kwargs)

        if not REUSABLE & kwargs.keys():  # its inputs are not all in kwargs: always render
            return write()
        values = {"template": getattr(template, "name", ""), "relative": relative_urls,
                  "paginated": paginated, "template_name": template_name, "url": url, **kwargs}
        return self._group("page", name, values, write)

    def write_feed(self, elements, context, path=None, url=None, feed_type="atom",
                   override_output=False, feed_title=None):
        values = {"elements": list(elements), "url": url, "type": feed_type, "title": feed_title}
        return self._group("feed", path or "", values,
                           lambda: super(IncrementalWriter, self).write_feed(
                               elements, context, path, url, feed_type, override_output,
                               feed_title))
