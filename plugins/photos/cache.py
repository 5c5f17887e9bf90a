"""The encoded-photo cache: renditions by source hash and pipeline settings.

`<cache_dir>/<pipeline_key>/<src[:2]>/<src>/` holds manifest.json and the
renditions of one source photo. Keyed by sha256(source bytes) and a hash of
everything that changes the encoded bytes, a warm rebuild re-encodes nothing
and a changed setting re-encodes all. A photo with a child blurred is keyed by
its blur plan instead (source, regions, blur settings: photos.blur.Plan.key),
so the clear and the blurred renditions never share an entry. A small stat index
(path, device, inode, size, mtime, ctime: plugins.digests) avoids even re-hashing
unchanged sources and renditions, as git's index does.
Renditions reach the output as hard links to the cache (`copy_out`): no
second copy of a child's photo on disk, and no bytes copied on a rebuild.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..digests import Digests
from .settings import PIXEL_KEY_VERSION, PhotoSettings

_KEY_RE = re.compile(r"^[0-9a-f]{16}$")
_HASH_RE = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Output:
    name: str  # "<sha256[:20]>-<size>.<ext>"
    role: str  # "large" or "thumb"
    format: str  # "jpeg" or "webp"
    width: int
    height: int


@dataclass(frozen=True)
class Manifest:
    """What the cache knows about one source under one pipeline setting."""

    source_hash: str  # the entry's key: the source's sha256, or a blur plan's (photos.blur.Plan)
    outputs: tuple[Output, ...] = ()
    error_code: str = ""
    error_detail: str = ""

    @property
    def ok(self) -> bool:
        return not self.error_code

    def get(self, role: str, fmt: str) -> Output:
        return next(o for o in self.outputs if o.role == role and o.format == fmt)

    def to_json(self) -> str:
        return json.dumps({
            "source": self.source_hash,
            "outputs": [o.__dict__ for o in self.outputs],
            "error": {"code": self.error_code, "detail": self.error_detail}
            if self.error_code else None,
        }, indent=1)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        d = json.loads(text)
        err = d.get("error") or {}
        return cls(d["source"], tuple(Output(**o) for o in d["outputs"]),
                   err.get("code", ""), err.get("detail", ""))


class PhotoCache:
    """`<cache_dir>/<pipeline_key>/<src[:2]>/<src>/` holds manifest.json and the outputs."""

    def __init__(self, settings: PhotoSettings, digests: Digests | None = None):
        self.settings = settings
        self.root = Path(settings.cache_dir) / settings.pipeline_key()
        self.digests = digests  # the renditions' (rendition_digests); None: read each one

    def entry_dir(self, source_hash: str) -> Path:
        return self.root / source_hash[:2] / source_hash

    def lookup(self, source_hash: str) -> Manifest | None:
        d = self.entry_dir(source_hash)
        try:
            manifest = Manifest.from_json((d / "manifest.json").read_text())
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if manifest.source_hash != source_hash:
            return None
        if not all(intact(d / o.name, self.digests) for o in manifest.outputs):
            return None  # re-encoded (and the entry replaced), never published as it is
        return manifest

    def store(self, manifest: Manifest, blobs: Iterable[tuple[Output, bytes]]) -> None:
        """Atomic: a crash leaves either the old entry or the complete new one."""
        final = self.entry_dir(manifest.source_hash)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=final.parent))
        for out, blob in blobs:
            (tmp / out.name).write_bytes(blob)
        (tmp / "manifest.json").write_text(manifest.to_json())
        if final.exists():
            shutil.rmtree(final, ignore_errors=True)
        try:
            os.replace(tmp, final)
        except OSError:  # another process won the race with the same content
            shutil.rmtree(tmp, ignore_errors=True)

    def prune(self, keep: set[str]) -> int:
        """Delete every cached rendition not in `keep` (this build's published sources).

        The cache holds re-encoded children's photos: once a photo is no longer
        published (consent withdrawn, photo removed, settings changed), its
        copies should not linger on disk either. Returns the number removed.
        """
        removed = 0
        base = self.root.parent
        if not base.is_dir():
            return 0
        for key_dir in base.iterdir():
            # only what this cache wrote: a misconfigured PHOTO_CACHE_DIR must not cost data
            if not key_dir.is_dir() or not _KEY_RE.match(key_dir.name):
                continue
            if key_dir != self.root:
                shutil.rmtree(key_dir, ignore_errors=True)
                removed += 1
                continue
            for entry in key_dir.glob("*/*"):
                if _HASH_RE.match(entry.name) and entry.name not in keep:
                    shutil.rmtree(entry, ignore_errors=True)
                    removed += 1
        return removed

    def copy_out(self, manifest: Manifest, dest: Path) -> list[Path]:
        """Put the renditions into `dest`: hard links to the cache, copies across filesystems.

        A target that already holds the rendition is not touched (same inode,
        or same size: names are content hashes), so it keeps its mtime and
        rsync or the S3 sync see nothing to do. A link shares its inode, and so
        its bytes, with the cache entry: nothing may ever write into a published
        photo in place. Nothing does: the cache writes new files in a fresh
        folder and renames it (`store`), `prune` and the build only unlink, and
        the basic-auth release links the output and sets file modes (which the
        inode shares, harmlessly: 644). Anything that ever edits an output file
        must write a new file and rename it over the old one.
        """
        dest.mkdir(parents=True, exist_ok=True)
        src_dir = self.entry_dir(manifest.source_hash)
        written = []
        for o in manifest.outputs:
            src, target = src_dir / o.name, dest / o.name
            written.append(target)
            try:
                have = target.lstat()
            except FileNotFoundError:
                _link_or_copy(src, target)
                continue
            want = src.stat()
            if (have.st_ino, have.st_dev) == (want.st_ino, want.st_dev) or (
                    stat.S_ISREG(have.st_mode) and have.st_size == want.st_size):
                continue
            # a broken leftover under a content-hash name: replace it, never write into it
            tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            tmp.unlink(missing_ok=True)
            _link_or_copy(src, tmp)
            os.replace(tmp, target)
        return written


def intact(rendition: Path, digests: Digests | None = None) -> bool:
    """The rendition's bytes still hash to its name (`<sha256[:20]>-<size>.<ext>`).

    A truncated file (a full disk, a killed copy) or one changed afterwards
    would otherwise be published as it is, or linked into the output again.
    `digests` remembers a file checked before under its identity: any write to
    it (which moves its ctime) or a replaced file reads it again.
    """
    prefix = rendition.name.split("-", 1)[0]
    try:
        digest = digests.sha256(rendition) if digests is not None else hash_file(rendition)
        return len(prefix) == 20 and digest[:20] == prefix
    except OSError:
        return False


def _link_or_copy(src: Path, target: Path) -> None:
    """A hard link (free, same filesystem) or else a copy; `target` must not exist."""
    try:
        os.link(src, target)
    except FileExistsError:
        pass  # placed meanwhile by another build: the same bytes (names are content hashes)
    except OSError:  # another filesystem, no hard links there, or too many links
        shutil.copyfile(src, target)


class SourceIndex(Digests):
    """sha256 of source photos by identity (plugins.digests), kept beside the cache.

    Hashing a 12 MP JPEG costs a few ms, more than everything else a warm build
    does per photo; git's index uses the same trick.
    """

    def __init__(self, cache_dir: Path):
        super().__init__(Path(cache_dir) / "sources.json")

    def hash_of(self, path: Path) -> str:
        return self.sha256(path)


def rendition_digests(cache_dir: Path) -> Digests:
    """The digests of the cached renditions (`intact` reads each file once, not every build).

    Without their ctime: every output and release links them (plugins.digests).
    """
    return Digests(Path(cache_dir) / "renditions.json", ctime=False)


@dataclass(frozen=True)
class EncodeRun:
    manifests: dict[str, Manifest]  # by source hash, for the sources to publish
    encoded: frozenset[str]  # source hashes encoded cold in this run (empty when warm)
    keys: dict[str, str]  # by source hash: the pixel key ("" when it does not decode)


class PixelIndex:
    """The pixel key (photos.encode.pixel_key) of every source hash, kept beside the cache.

    A key costs a full decode; this way each photo pays it once. The keys are
    only hashes, of photos the build has seen, and they depend on the decoder:
    a new Pillow (or pillow-heif) starts a fresh index, so keys of one build
    always come from one decoder.
    """

    def __init__(self, cache_dir: Path):
        self.path = Path(cache_dir) / "pixels.json"
        self.version = _decoder_version()
        try:
            stored = json.loads(self.path.read_text())
            self.keys: dict[str, str] = (stored["keys"] if stored.get("version") == self.version
                                         else {})
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            self.keys = {}
        self.dirty = False

    def get(self, source_hash: str) -> str | None:
        return self.keys.get(source_hash)

    def set(self, source_hash: str, key: str) -> None:
        if self.keys.get(source_hash) != key:
            self.keys[source_hash] = key
            self.dirty = True

    def forget_except(self, source_hashes: set[str]) -> None:
        kept = {h: k for h, k in self.keys.items() if h in source_hashes}
        if len(kept) != len(self.keys):
            self.keys, self.dirty = kept, True

    def save(self) -> None:
        if self.dirty:
            _write_json(self.path, {"version": self.version, "keys": self.keys})
            self.dirty = False


def _write_json(path: Path, data) -> None:
    """Whole or not at all: a build killed mid-write leaves the previous index."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


def _decoder_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    parts = [str(PIXEL_KEY_VERSION)]
    for dist in ("pillow", "pillow-heif"):
        try:
            parts.append(f"{dist} {version(dist)}")
        except PackageNotFoundError:
            parts.append(f"{dist} -")
    return "|".join(parts)


def hash_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
