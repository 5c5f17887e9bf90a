"""Who is in a photo, according to every place a name can be written.

The children on a photo are the union of every source; no source overrides
another (a "geen herkenbare kinderen" in fotos.txt does not hide the faces a
photo app tagged, a shorter name list does not hide a longer one):

* XMP embedded in the photo: named regions (MWG `mwg-rs:RegionList` of any
  region type, Microsoft's photo regions) and IPTC Extension
  `Iptc4xmpExt:PersonInImage`, as Lightroom, digiKam, Apple/Google Photos
  exports and exiftool write them, wherever in the file exiftool would find
  them (photos.xmp takes the file apart and parses with xml.etree, so no
  exiftool is needed at build time);
* an XMP sidecar beside the photo, in both namings photo tools use:
  `foto.jpg.xmp` (digiKam, darktable) and `foto.xmp` (Lightroom). Both may
  exist; a `foto.xmp` beside foto.jpg and foto.png belongs to both;
* `fotos.txt` beside index.md, one line per photo:
  `bestand.jpg: Sem B., Zoë, Ömer` or `bestand.jpg: geen herkenbare kinderen`.

Every tag keeps its Source (which file, which kind, which fotos.txt line), so
the audit can say which source named whom. Tag data we cannot read is a
Problem on the photo (fail closed: a photo whose tags are unreadable is never
published). Only names are read here: photo_names matches them to children
and photo_rules decides what a "geen herkenbare kinderen" beside names means.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from ..errors import Problem, display_path
from . import xmp
from .names import fold
from .settings import FOTOS_TXT, IMAGE_SUFFIXES, XMP_SUFFIX

NO_CHILDREN_MARK = "geen herkenbare kinderen"
MAX_XMP_BYTES = xmp.MAX_XMP_BYTES

REGION, PERSON, LIST = "region", "person", "fotos.txt"  # Source kinds


@dataclass(frozen=True)
class Source:
    """Where a tag (or a "geen herkenbare kinderen" mark) was written."""

    kind: str  # REGION (a named region), PERSON (PersonInImage) or LIST (a fotos.txt line)
    file: str = ""  # display path of the file holding it: the photo, its .xmp sidecar or fotos.txt
    line: int | None = None  # the fotos.txt line

    @property
    def sidecar(self) -> bool:
        return self.file.lower().endswith(XMP_SUFFIX)

    @property
    def name(self) -> str:
        return self.file.rsplit("/", 1)[-1]  # PurePath(file).name, without a Path per call

    @property
    def where(self) -> str:
        """Short and name-free, for the console: 'fotos.txt:3', 'foto.jpg.xmp', 'labels in de foto'."""
        if self.kind == LIST:
            return f"{self.name}:{self.line}"
        return "labels in de foto" if self.kind in (REGION, PERSON) and not self.sidecar else self.name

    @property
    def label(self) -> str:
        """Dutch, for the audit: 'fotos.txt regel 3', 'gezichtslabels in foto.jpg.xmp', ..."""
        if self.kind == LIST:
            return f"{self.name} regel {self.line}"
        what = "gezichtslabels" if self.kind == REGION else "personenlabels (PersonInImage)"
        return f"{what} in {self.name if self.sidecar else 'de foto'}"


@dataclass(frozen=True)
class Tag:
    """One tagged name as written, with where it was written."""

    text: str
    source: Source = Source("")
    area: tuple[float, float, float, float] | None = None  # MWG x, y, w, h (normalized)
    applied_to: tuple[float, float] | None = None  # the region list's AppliedToDimensions w, h

    @property
    def line(self) -> int | None:
        return self.source.line


@dataclass(frozen=True)
class PhotoTags:
    """Everything every source says about who is in one photo, before name resolution."""

    file: str  # the photo as the teacher sees it (display path)
    tags: tuple[Tag, ...] = ()  # the union of all sources, each tag with its Source
    marks: tuple[Source, ...] = ()  # fotos.txt lines saying "geen herkenbare kinderen"
    problems: tuple[Problem, ...] = ()  # unreadable tag data for this photo (fail closed)
    sidecars: tuple[str, ...] = ()  # the .xmp files read for this photo (display paths)
    digest: str = ""  # the file's sha256 once known (copies of one picture: the same frame?)

    @property
    def no_children(self) -> bool:
        return bool(self.marks)

    @property
    def tagged(self) -> bool:
        return bool(self.tags) or self.no_children


@dataclass(frozen=True)
class ListEntry:
    """One fotos.txt line about one photo."""

    name: str
    line: int
    tags: tuple[Tag, ...]
    no_children: bool
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class FotosTxt:
    file: str
    entries: Mapping[str, tuple[ListEntry, ...]] = field(default_factory=dict)  # key: casefolded name
    problems: tuple[Problem, ...] = ()  # problems not tied to one photo


# --- XMP (embedded packets and sidecars): photos.xmp reads them ----------------------------

def parse_xmp_names(packet: bytes, file: str = "") -> list[Tag]:
    """Names from one XMP packet or sidecar file (see photos.xmp.names).

    Raises ValueError (Dutch, name-free) on XML we refuse to read or cannot parse.
    """
    return _tags(xmp.names(packet), file)


def _tags(found: list[xmp.Named], file: str) -> list[Tag]:
    return [Tag(n.text, Source(REGION if n.kind == xmp.REGION else PERSON, file), n.area,
                n.applied_to)
            for n in found]


def _unique(tags: list[Tag]) -> list[Tag]:
    """One tag per name and place per source (an app may write the same face twice).

    Two regions with one name at different places are both kept: the child may be on
    the photo twice, and with PHOTO_BLUR each face must be made unrecognisable.
    """
    seen: set[tuple] = set()
    out = []
    for tag in tags:
        key = (tag.source, fold(tag.text), tag.area, tag.applied_to)
        if key not in seen:
            seen.add(key)
            out.append(tag)
    return out


def read_embedded_tags(data: bytes, file: str = "") -> tuple[list[Tag], list[str]]:
    """(tags, errors) from all XMP packets in a photo's bytes; per-source duplicates removed."""
    found, errors = xmp.read(data)
    return _unique(_tags(found, file)), errors


def read_sidecar_tags(path: Path) -> tuple[list[Tag], list[str]]:
    """(tags, errors) from one .xmp sidecar: the whole file is one XMP document."""
    shown = display_path(path)
    if path.is_symlink():
        return [], ["is een snelkoppeling (symlink)"]
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_XMP_BYTES + 1)
    except IsADirectoryError:
        return [], ["is een map, geen zijbestand"]
    except OSError as exc:
        return [], [f"niet te lezen ({exc.strerror})"]
    try:
        return _unique(parse_xmp_names(data, shown)), []
    except ValueError as exc:
        return [], [str(exc)]


def sidecar_names(photo: str) -> tuple[str, str]:
    """The sidecar names photo tools give `foto.jpg`: `foto.jpg.xmp` and `foto.xmp`."""
    return photo + XMP_SUFFIX, PurePath(photo).stem + XMP_SUFFIX


# --- fotos.txt -------------------------------------------------------------------------------

_LOOSE_NAME = re.compile(
    r"^\s*(\S+?(?:" + "|".join(re.escape(s) for s in sorted(IMAGE_SUFFIXES)) + r"))\b",
    re.IGNORECASE)


def parse_fotos_txt(path: Path, photo_names: set[str] | None = None) -> FotosTxt:
    """Read fotos.txt. Every problem names the file and line and says how to fix it.

    A line we cannot read but that clearly starts with a photo name becomes an
    entry with a problem, so that photo is dropped (fail closed) instead of
    being published on what the other sources say.
    """
    shown = display_path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        return FotosTxt(shown, {}, (Problem(
            shown, None, "geen UTF-8 tekst", "sla fotos.txt op als UTF-8 (Kladblok: 'UTF-8')"),))
    entries: dict[str, list[ListEntry]] = {}
    loose: list[Problem] = []
    folded_photos = {n.casefold(): n for n in (photo_names or set())}
    example = "bestand.jpg: Sem B., Zoë, Ömer"
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if ":" not in line:
            m = _LOOSE_NAME.match(line)
            problem = Problem(shown, lineno, "regel zonder ':' tussen bestandsnaam en namen",
                              f"schrijf bijvoorbeeld '{example}'")
            if m:
                entries.setdefault(m.group(1).casefold(), []).append(
                    ListEntry(m.group(1), lineno, (), False, (problem,)))
            else:
                loose.append(problem)
            continue
        name, _, rest = line.partition(":")
        name = name.strip()
        key = name.casefold()
        problems: list[Problem] = []
        if not name:
            loose.append(Problem(shown, lineno, "regel zonder bestandsnaam voor de ':'",
                                 f"schrijf bijvoorbeeld '{example}'"))
            continue
        if Path(name).suffix.lower() not in IMAGE_SUFFIXES or "/" in name or "\\" in name:
            loose.append(Problem(shown, lineno, f"'{name}' is geen fotobestand in deze map",
                                 "gebruik de bestandsnaam van een foto naast index.md"))
            continue
        if photo_names is not None and key not in folded_photos:
            loose.append(Problem(shown, lineno, f"foto '{name}' staat niet in deze map",
                                 "controleer de bestandsnaam (hoofdletters, extensie)"))
            continue
        if key in entries:
            problems.append(Problem(
                shown, lineno, f"'{name}' staat twee keer in fotos.txt "
                f"(ook op regel {entries[key][0].line})", "zet alle namen op één regel"))
        value = rest.strip()
        no_children = fold(value) == NO_CHILDREN_MARK
        names = [] if no_children else [n.strip() for n in value.split(",")]
        if not no_children and (not value or any(not n for n in names)):
            problems.append(Problem(
                shown, lineno, f"lege naam bij '{name}'",
                f"schrijf namen gescheiden door komma's, of '{NO_CHILDREN_MARK}'"))
            names = [n for n in names if n]
        source = Source(LIST, shown, lineno)
        tags = tuple(_unique([Tag(n, source) for n in names]))
        entries.setdefault(key, []).append(ListEntry(name, lineno, tags, no_children,
                                                     tuple(problems)))
    return FotosTxt(shown, {k: tuple(v) for k, v in entries.items()}, tuple(loose))


# --- a post folder ---------------------------------------------------------------------------

def read_tag_bytes(path: Path) -> bytes:
    """The part of a photo that can hold XMP.

    For JPEG that is the header segments before the image data (SOS), a few kB
    instead of megabytes; other formats are read whole.
    """
    with open(path, "rb") as f:
        head = f.read(2)
        if head != b"\xff\xd8":
            return head + f.read()
        parts = [head]
        while True:
            marker = f.read(4)
            parts.append(marker)
            if len(marker) < 4 or marker[0] != 0xFF or marker[1] in (0xDA, 0xD9):
                return b"".join(parts)
            if 0xD0 <= marker[1] <= 0xD7 or marker[1] == 0x01:
                f.seek(-2, 1)
                parts[-1] = marker[:2]
                continue
            length = int.from_bytes(marker[2:4], "big")
            parts.append(f.read(max(0, length - 2)))


def is_photo(path: Path) -> bool:
    # dotfiles are editor/OS debris (macOS "._foto.jpg"), never a teacher's photo
    return not path.name.startswith(".") and path.is_file() and (
        path.suffix.lower() in IMAGE_SUFFIXES)


def post_photos(folder: Path) -> list[Path]:
    """Image files beside index.md, in a stable order."""
    return sorted((p for p in folder.iterdir() if is_photo(p)), key=lambda p: p.name)


def _sidecar_files(folder: Path) -> dict[str, list[Path]]:
    """Every .xmp in the folder by casefolded name (foto.JPG.xmp from a camera card is ours too)."""
    found: dict[str, list[Path]] = {}
    for p in sorted(folder.iterdir()):
        if p.suffix.lower() == XMP_SUFFIX and not p.name.startswith("."):
            found.setdefault(p.name.casefold(), []).append(p)
    return found


def read_post_tags(folder: Path) -> tuple[dict[Path, PhotoTags], tuple[Problem, ...]]:
    """Tags from every source for every photo in a post folder (in post_photos order), plus
    problems not tied to one photo."""
    photos = post_photos(folder)
    list_path = folder / FOTOS_TXT
    fotos_txt = (parse_fotos_txt(list_path, {p.name for p in photos})
                 if list_path.is_file() else FotosTxt(display_path(list_path)))
    sidecars = _sidecar_files(folder)
    read: dict[Path, tuple[list[Tag], list[str]]] = {}  # foto.xmp may serve foto.jpg and foto.png
    result: dict[Path, PhotoTags] = {}
    for photo in photos:
        shown = display_path(photo)
        tags, errors = read_embedded_tags(read_tag_bytes(photo), shown)
        problems = [Problem(shown, None, f"labels in de foto onleesbaar: {e}",
                            "exporteer de foto opnieuw uit je foto-app, met de namen")
                    for e in errors]
        used = []
        keys = dict.fromkeys(n.casefold() for n in sidecar_names(photo.name))
        for path in (p for key in keys for p in sidecars.get(key, ())):
            used.append(display_path(path))
            if path not in read:
                read[path] = read_sidecar_tags(path)
            found, errors = read[path]
            tags += found
            problems += [Problem(display_path(path), None, f"zijbestand onleesbaar: {e}",
                                 "laat je foto-app het zijbestand opnieuw schrijven, of verwijder "
                                 "het en zet de namen in fotos.txt") for e in errors]
        marks = []
        for entry in fotos_txt.entries.get(photo.name.casefold(), ()):
            tags += entry.tags
            problems += entry.problems
            if entry.no_children:
                marks.append(Source(LIST, fotos_txt.file, entry.line))
        result[photo] = PhotoTags(shown, tuple(tags), tuple(marks), tuple(problems), tuple(used))
    claimed = {n.casefold() for p in photos for n in sidecar_names(p.name)}
    orphans = tuple(
        Problem(display_path(path), None, "zijbestand hoort bij geen foto in deze map",
                "hernoem het naar <foto>.jpg.xmp of <foto>.xmp, of verwijder het als de foto weg is")
        for key, paths in sorted(sidecars.items()) if key not in claimed for path in paths)
    return result, fotos_txt.problems + orphans
