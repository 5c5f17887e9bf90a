"""Who is in a photo: the names tagged in the file, or written in `fotos.txt`.

Two sources, because teachers work in two ways:

* photo apps (Lightroom, digiKam, Apple/Google Photos exports, exiftool) write
  XMP: MWG face regions (`mwg-rs:RegionList`, one region with a `Name` per
  face) and/or IPTC Extension `Iptc4xmpExt:PersonInImage`. We find the
  `<x:xmpmeta` packet in the raw bytes (JPEG APP1, PNG iTXt, HEIC item: the
  packet is plain XML in all of them) and parse it with xml.etree, so no
  exiftool is needed at build time;
* a plain text file `fotos.txt` beside index.md, one line per photo:
  `bestand.jpg: Sem B., Zoë, Ömer` or `bestand.jpg: geen herkenbare kinderen`.

A sidecar line overrides the embedded tags of that one file: the teacher's
text is the latest word. Only names are read here; matching names to children
is photo_names' job.
"""

from __future__ import annotations

import re
import unicodedata
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .errors import Problem, display_path
from .photo_settings import IMAGE_SUFFIXES, SIDECAR_NAME

NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "mwg-rs": "http://www.metadataworkinggroup.com/schemas/regions/",
    "stArea": "http://ns.adobe.com/xmp/sType/Area#",
    "Iptc4xmpExt": "http://iptc.org/std/Iptc4xmpExt/2008-02-29/",
}
MWG = "{" + NS["mwg-rs"] + "}"
RDF = "{" + NS["rdf"] + "}"
IPTC_EXT = "{" + NS["Iptc4xmpExt"] + "}"
AREA = "{" + NS["stArea"] + "}"

NO_CHILDREN_MARK = "geen herkenbare kinderen"
MAX_XMP_BYTES = 2 * 1024 * 1024  # a real packet is a few kB; more is not a tag list


@dataclass(frozen=True)
class Tag:
    """One tagged name as written, with where it was written."""

    text: str
    line: int | None = None  # sidecar line; None when embedded in the photo
    area: tuple[float, float, float, float] | None = None  # MWG x, y, w, h (normalized)


@dataclass(frozen=True)
class PhotoTags:
    """Everything known about who is in one photo, before name resolution."""

    file: str  # the photo as the teacher sees it (display path)
    tags: tuple[Tag, ...] = ()
    no_children: bool = False  # explicitly marked "geen herkenbare kinderen"
    source: str = "none"  # "sidecar", "embedded" or "none"
    tag_file: str = ""  # where the tags were read: the sidecar or the photo itself
    problems: tuple[Problem, ...] = ()  # unreadable tag data for this photo (fail closed)

    @property
    def tagged(self) -> bool:
        return bool(self.tags) or self.no_children


@dataclass(frozen=True)
class SidecarEntry:
    name: str
    line: int
    tags: tuple[Tag, ...]
    no_children: bool
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class Sidecar:
    file: str
    entries: Mapping[str, SidecarEntry] = field(default_factory=dict)  # key: casefolded name
    problems: tuple[Problem, ...] = ()  # problems not tied to one photo


# --- embedded XMP ---------------------------------------------------------------------------

def find_xmp_packets(data: bytes) -> list[bytes]:
    """Every `<x:xmpmeta …>…</x:xmpmeta>` packet in the file, PNG zTXt-style compressed too."""
    packets = []
    start = 0
    while (i := data.find(b"<x:xmpmeta", start)) != -1:
        end = data.find(b"</x:xmpmeta>", i)
        if end == -1:
            break
        end += len(b"</x:xmpmeta>")
        packets.append(data[i:end])
        start = end
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        packets.extend(_compressed_png_xmp(data))
    return packets


def _compressed_png_xmp(data: bytes) -> list[bytes]:
    """PNG iTXt chunks may be zlib-compressed; the raw search cannot see those."""
    out, pos = [], 8
    while pos + 8 <= len(data):
        length = int.from_bytes(data[pos:pos + 4], "big")
        ctype = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if ctype != b"iTXt" or not body.startswith(b"XML:com.adobe.xmp\x00"):
            continue
        rest = body[len(b"XML:com.adobe.xmp\x00"):]
        if len(rest) < 2 or rest[0] != 1:
            continue
        # compression flag, method, language\0, translated keyword\0, text
        parts = rest[2:].split(b"\x00", 2)
        if len(parts) == 3:
            try:
                d = zlib.decompressobj()
                text = d.decompress(parts[2], MAX_XMP_BYTES)
            except zlib.error:
                continue
            out.extend(p for p in find_xmp_packets(text))
    return out


def parse_xmp_names(packet: bytes) -> list[Tag]:
    """Names from MWG face regions and IPTC PersonInImage in one XMP packet.

    Raises ValueError on XML we refuse to read (DTDs/entities: a tag list never
    needs them and they are the classic XML bomb) or cannot parse.
    """
    if len(packet) > MAX_XMP_BYTES:
        raise ValueError("XMP-blok is te groot")
    if b"<!DOCTYPE" in packet or b"<!ENTITY" in packet:
        raise ValueError("XMP-blok bevat een DTD")
    try:
        root = ET.fromstring(packet)
    except ET.ParseError as exc:
        raise ValueError(f"XMP-blok is geen geldige XML ({exc})") from None
    tags: list[Tag] = []
    for region in _mwg_regions(root):
        name, rtype, area = _region_fields(region)
        if name and rtype in ("", "face"):
            tags.append(Tag(name, None, area))
    for person in root.iter(IPTC_EXT + "PersonInImage"):
        for li in person.iter(RDF + "li"):
            if li.text and li.text.strip():
                tags.append(Tag(li.text.strip()))
        if person.text and person.text.strip() and not len(person):
            tags.append(Tag(person.text.strip()))
    return tags


def _mwg_regions(root: ET.Element):
    """The rdf:li items (direct members of the Bag/Seq) of every mwg-rs:RegionList."""
    for region_list in root.iter(MWG + "RegionList"):
        for container in region_list:
            yield from container.findall(RDF + "li")


def _field(elem: ET.Element, ns: str, name: str) -> str:
    """An RDF property written as attribute or child element, on the li or its Description."""
    for node in (elem, *elem.findall(RDF + "Description")):
        if ns + name in node.attrib:
            return node.attrib[ns + name].strip()
        child = node.find(ns + name)
        if child is not None and child.text:
            return child.text.strip()
    return ""


def _region_fields(li: ET.Element):
    name = _field(li, MWG, "Name")
    rtype = _field(li, MWG, "Type").lower()
    area = None
    for node in (li, *li.findall(RDF + "Description")):
        a = node.find(MWG + "Area")
        if a is None:
            continue
        try:
            vals = [float(_field(a, AREA, k)) for k in ("x", "y", "w", "h")]
            area = (vals[0], vals[1], vals[2], vals[3])
        except ValueError:
            area = None
    return name, rtype, area


def read_embedded_tags(data: bytes) -> tuple[list[Tag], list[str]]:
    """(tags, errors) from all XMP packets in a photo's bytes; duplicates removed."""
    tags: list[Tag] = []
    errors: list[str] = []
    seen: set[str] = set()
    for packet in find_xmp_packets(data):
        try:
            found = parse_xmp_names(packet)
        except ValueError as exc:
            errors.append(str(exc))
            continue
        for tag in found:
            key = _fold(tag.text)
            if key not in seen:
                seen.add(key)
                tags.append(tag)
    return tags, errors


# --- fotos.txt sidecar -----------------------------------------------------------------------

_LOOSE_NAME = re.compile(r"^\s*(\S+?\.(?:jpe?g|png|heic|heif|webp))\b", re.IGNORECASE)


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(text.casefold().split())


def parse_sidecar(path: Path, photo_names: set[str] | None = None) -> Sidecar:
    """Read fotos.txt. Every problem names the file and line and says how to fix it.

    A line we cannot read but that clearly starts with a photo name becomes an
    entry with a problem, so that photo is dropped (fail closed) instead of
    silently falling back to tags the teacher meant to replace.
    """
    shown = display_path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        return Sidecar(shown, {}, (Problem(
            shown, None, "geen UTF-8 tekst", "sla fotos.txt op als UTF-8 (Kladblok: 'UTF-8')"),))
    entries: dict[str, SidecarEntry] = {}
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
                key = m.group(1).casefold()
                entries[key] = SidecarEntry(m.group(1), lineno, (), False, (problem,))
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
                f"(ook op regel {entries[key].line})", "zet alle namen op één regel"))
        value = rest.strip()
        no_children = _fold(value.rstrip(".")) == NO_CHILDREN_MARK
        names = [] if no_children else [n.strip() for n in value.split(",")]
        if not no_children and (not value or any(not n for n in names)):
            problems.append(Problem(
                shown, lineno, f"lege naam bij '{name}'",
                f"schrijf namen gescheiden door komma's, of '{NO_CHILDREN_MARK}'"))
            names = [n for n in names if n]
        tags = tuple(Tag(n, lineno) for n in names)
        entries[key] = SidecarEntry(name, lineno, tags, no_children, tuple(problems))
    return Sidecar(shown, entries, tuple(loose))


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


def read_post_tags(folder: Path, photos: list[Path] | None = None,
                   data: Mapping[Path, bytes] | None = None) -> tuple[dict[Path, PhotoTags],
                                                                     tuple[Problem, ...]]:
    """Tags for every photo in a post folder, plus sidecar problems not tied to one photo.

    `data` may carry already-read photo bytes so every file is read once.
    """
    photos = post_photos(folder) if photos is None else photos
    sidecar_path = folder / SIDECAR_NAME
    sidecar = (parse_sidecar(sidecar_path, {p.name for p in photos})
               if sidecar_path.is_file() else None)
    result: dict[Path, PhotoTags] = {}
    for photo in photos:
        shown = display_path(photo)
        entry = sidecar.entries.get(photo.name.casefold()) if sidecar else None
        if entry is not None:
            result[photo] = PhotoTags(shown, entry.tags, entry.no_children, "sidecar",
                                      sidecar.file, entry.problems)
            continue
        raw = data[photo] if data is not None and photo in data else read_tag_bytes(photo)
        tags, errors = read_embedded_tags(raw)
        problems = tuple(Problem(shown, None, f"fotolabels onleesbaar: {e}",
                                 "label de foto opnieuw of gebruik fotos.txt") for e in errors)
        result[photo] = PhotoTags(shown, tuple(tags), False, "embedded" if tags else "none",
                                  shown, problems)
    return result, (sidecar.problems if sidecar else ())
