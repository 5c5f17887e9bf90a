"""Where XMP hides in a photo file, and every person it names.

exiftool is the reference for what counts as "the XMP of a photo", and photo
tools write it in more places than one: a JPEG APP1 packet, and Extended XMP
split over further APP1 segments (exiftool and Lightroom move a long region
list there); the XMP resource of a Photoshop APP13 block; EXIF tag 0x02BC;
PNG text chunks (`XML:com.adobe.xmp` as iTXt, tEXt or zTXt, compressed or
not) and ImageMagick's hex-encoded `Raw profile type xmp` (or `APP1`, `8bim`);
the WebP `XMP ` chunk; a HEIC item. A packet may come with or without the
`x:xmpmeta` wrapper, under any namespace prefix.

So the file is first taken apart into the texts a packet can live in
(`texts`: each JPEG segment, PNG chunk or WebP chunk, decoded; anything else
whole), each text is searched for packets (`packets`), and each packet is
parsed for names (`names`). Fail closed: whatever names a person in a form
this module cannot read is an error, never silence. A people namespace
(MWG regions, IPTC Extension, Microsoft's photo regions) left in a text
outside every packet that parsed, in UTF-8 or UTF-16, is such an error; so is
a variant spelling of one of those namespaces inside a packet.

Every named region counts as a person, whatever its type (MWG `Face`, `Pet`,
`Focus`, `BarCode`, an unknown one or none): a name is a name. Plain data,
no Pillow and no exiftool at build time.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
import zlib
from dataclasses import dataclass

MAX_XMP_BYTES = 2 * 1024 * 1024  # a real packet or sidecar is a few kB; more is not a tag list

RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
MWG_NS = "http://www.metadataworkinggroup.com/schemas/regions/"
AREA_NS = "http://ns.adobe.com/xmp/sType/Area#"
DIM_NS = "http://ns.adobe.com/xap/1.0/sType/Dimensions#"
IPTC_NS = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
MP_REGION_NS = "http://ns.microsoft.com/photo/1.2/t/Region#"
MP_INFO_NS = "http://ns.microsoft.com/photo/1.2/t/RegionInfo#"
RDF, MWG, AREA, DIM, IPTC, MP_REGION = (f"{{{ns}}}" for ns in (
    RDF_NS, MWG_NS, AREA_NS, DIM_NS, IPTC_NS, MP_REGION_NS))

REGION, PERSON = "region", "person"  # what named someone: a region, or a list of persons

# A namespace URI holding one of these names people; found outside a packet that parsed, it is
# an error (fail closed). Inside a packet, only the exact URIs below are read.
MARKERS = ("metadataworkinggroup.com/schemas/regions", "iptc.org/std/Iptc4xmpExt",
           "ns.microsoft.com/photo/1.2/t/Region")
KNOWN = frozenset({MWG_NS, IPTC_NS, MP_REGION_NS, MP_INFO_NS})
_MARKER_BYTES = tuple(m.encode(enc) for m in MARKERS for enc in ("utf-8", "utf-16-le",
                                                                  "utf-16-be"))


@dataclass(frozen=True)
class Named:
    """One name as written in XMP."""

    kind: str  # REGION or PERSON
    text: str
    area: tuple[float, float, float, float] | None = None  # MWG x, y, w, h (normalized)
    applied_to: tuple[float, float] | None = None  # the region list's AppliedToDimensions w, h


# --- taking the container apart ---------------------------------------------------------------

JPEG_SOI = b"\xff\xd8"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
XMP_EXTENSION = b"http://ns.adobe.com/xmp/extension/\x00"
PNG_PIXELS = frozenset({b"IDAT", b"fdAT"})
WEBP_PIXELS = frozenset({b"VP8 ", b"VP8L", b"ALPH"})


def texts(data: bytes) -> tuple[list[bytes], list[str]]:
    """(the decoded places a packet can live in, errors). Anything unknown is one text."""
    if data.startswith(JPEG_SOI):
        return _jpeg(data)
    if data.startswith(PNG_SIGNATURE):
        return _png(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp(data)
    return [data], []


def _jpeg(data: bytes) -> tuple[list[bytes], list[str]]:
    """Every segment before the image data; Extended XMP put together again."""
    out, errors = [], []
    extended: dict[bytes, tuple[int, dict[int, bytes]]] = {}  # GUID -> (full length, parts)
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            break
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xDA, 0xD9):  # start of scan, end of image: no metadata beyond
            pos = len(data)
            break
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            pos += 2
            continue
        end = pos + 2 + int.from_bytes(data[pos + 2:pos + 4], "big")
        payload = data[pos + 4:end]
        pos = end
        if marker == 0xE1 and payload.startswith(XMP_EXTENSION):
            head = payload[len(XMP_EXTENSION):]
            if len(head) < 40:
                errors.append("uitgebreide XMP (Extended XMP) onleesbaar")
                continue
            guid, total = head[:32], int.from_bytes(head[32:36], "big")
            offset = int.from_bytes(head[36:40], "big")
            extended.setdefault(guid, (total, {}))[1][offset] = head[40:]
        else:
            out.append(payload)
    if pos < len(data):
        out.append(data[pos:])  # not segments as far as we can tell: read it as it is
    for total, parts in extended.values():
        whole, at = b"", 0
        for offset in sorted(parts):
            if offset != at:
                break
            whole += parts[offset]
            at += len(parts[offset])
        if at != total or len(whole) != total:
            errors.append("uitgebreide XMP (Extended XMP) onvolledig")
        out.append(whole)
    return out, errors


def _png(data: bytes) -> tuple[list[bytes], list[str]]:
    """Every chunk but the pixels, text chunks decoded (zlib, ImageMagick's hex profiles)."""
    out, errors = [], []
    pos = len(PNG_SIGNATURE)
    while pos + 8 <= len(data):
        length = int.from_bytes(data[pos:pos + 4], "big")
        ctype = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if ctype in PNG_PIXELS:
            continue
        if ctype in (b"tEXt", b"zTXt", b"iTXt"):
            try:
                keyword, text = _png_text(ctype, body)
            except ValueError as exc:
                errors.append(f"PNG-tekstblok onleesbaar ({exc})")
                out.append(body)
                continue
            out.append(text)
            if keyword.startswith(b"Raw profile type "):
                try:
                    out.append(_raw_profile(text))
                except ValueError:
                    errors.append(f"PNG-profiel '{keyword.decode('latin-1')}' onleesbaar")
        else:
            out.append(body)
        if ctype == b"IEND":
            break
    if pos < len(data):
        out.append(data[pos:])
    return out, errors


def _png_text(ctype: bytes, body: bytes) -> tuple[bytes, bytes]:
    keyword, sep, rest = body.partition(b"\x00")
    if not sep:
        raise ValueError("geen sleutelwoord")
    if ctype == b"tEXt":
        return keyword, rest
    if ctype == b"zTXt":
        return keyword, _inflate(rest[1:])
    if len(rest) < 2:
        raise ValueError("te kort")
    compressed, parts = rest[0], rest[2:].split(b"\x00", 2)  # flag, method, lang\0, key\0, text
    if len(parts) != 3:
        raise ValueError("onvolledig")
    return keyword, _inflate(parts[2]) if compressed else parts[2]


def _inflate(data: bytes) -> bytes:
    try:
        d = zlib.decompressobj()
        text = d.decompress(data, MAX_XMP_BYTES + 1)
    except zlib.error:
        raise ValueError("kapotte compressie") from None
    if len(text) > MAX_XMP_BYTES or d.unconsumed_tail:
        raise ValueError(f"meer dan {MAX_XMP_BYTES // 2**20} MB")
    return text


_PROFILE = re.compile(rb"^\s*\n[^\n]*\n\s*(\d+)\n(.*)$", re.S)


def _raw_profile(text: bytes) -> bytes:
    """ImageMagick's `\\n<type>\\n   <length>\\n<hex lines>` (exiftool's ProcessProfile)."""
    m = _PROFILE.match(text)
    if not m:
        raise ValueError("geen profiel")
    return bytes.fromhex("".join(m.group(2).decode("ascii", "replace").split()))


def _webp(data: bytes) -> tuple[list[bytes], list[str]]:
    out, pos = [], 12
    while pos + 8 <= len(data):
        cid, size = data[pos:pos + 4], int.from_bytes(data[pos + 4:pos + 8], "little")
        if cid not in WEBP_PIXELS:
            out.append(data[pos + 8:pos + 8 + size])
        pos += 8 + size + (size & 1)
    if pos < len(data):
        out.append(data[pos:])
    return out, []


# --- finding and parsing packets --------------------------------------------------------------

_OPEN = re.compile(rb"<([A-Za-z_][\w.\-]*:)?(xmpmeta|xapmeta|RDF)(?=[\s>/])")


def packets(text: bytes) -> list[tuple[int, int]]:
    """(start, end) of every XMP packet in `text`: an `xmpmeta` (or the old `xapmeta`) element
    or, without that wrapper, an `RDF` element; any namespace prefix. An element that is
    never closed runs to the end (and will not parse: fail closed)."""
    spans, pos = [], 0
    while m := _OPEN.search(text, pos):
        head_end = text.find(b">", m.end())
        if head_end != -1 and text[head_end - 1:head_end] == b"/":  # <rdf:RDF/>: empty
            pos = head_end + 1
            continue
        close = re.compile(rb"</" + re.escape(m.group(1) or b"") + m.group(2) + rb"\s*>")
        c = close.search(text, m.end())
        end = c.end() if c else len(text)
        spans.append((m.start(), end))
        pos = end
    return spans


def unread_people(text: bytes, spans: list[tuple[int, int]]) -> bool:
    """Does `text` name people's namespaces outside the packets in `spans`?"""
    pos, rest = 0, []
    for start, end in spans:
        rest.append(text[pos:start])
        pos = end
    rest.append(text[pos:])
    return any(marker in part for part in rest for marker in _MARKER_BYTES)


def xml_text(data: bytes) -> str:
    """The XML as text, or ValueError (Dutch) for what a tag list never needs.

    XMP is UTF-8 (the standard allows UTF-16/32, no photo tool writes it, and
    checking a DTD in text we decoded ourselves is only sound for one
    encoding). DTDs and entities are refused: they are the classic XML bomb.
    The text is parsed as str, so an encoding declaration cannot change it.
    """
    if len(data) > MAX_XMP_BYTES:
        raise ValueError(f"te groot (meer dan {MAX_XMP_BYTES // 2**20} MB; labels zijn een paar kB)")
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise ValueError("geen UTF-8 tekst") from None
    if "\x00" in text:
        raise ValueError("geen UTF-8 tekst")
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise ValueError("bevat een DTD")
    return text


def names(packet: bytes) -> list[Named]:
    """Every person one XMP packet (or sidecar) names, in document order per kind.

    MWG region names (any region type) and Microsoft photo-region names are
    REGION; IPTC PersonInImage, PersonInImageWDetails' PersonName and the
    names of IPTC image regions are PERSON. A value may be written as
    attribute or element, plain or as an rdf:Bag/Seq/Alt (every item counts).
    Raises ValueError (Dutch, name-free) on XML we refuse or cannot read.
    """
    try:
        root = ET.fromstring(xml_text(packet))
    except ET.ParseError as exc:
        line, col = exc.position
        raise ValueError(f"geen geldige XML (regel {line}, kolom {col})") from None
    _check_namespaces(root)
    found: list[Named] = []
    parents = {child: parent for parent in root.iter() for child in parent}
    for region_list in root.iter(MWG + "RegionList"):
        applied_to = _dimensions(parents.get(region_list))
        for container in region_list:
            for li in container.findall(RDF + "li"):
                area = _area(li)
                found += [Named(REGION, t, area, applied_to if area else None)
                          for t in _property(li, MWG + "Name")]
    found += [Named(REGION, t) for t in _everywhere(root, MWG + "Name")]
    found += [Named(REGION, t) for t in _everywhere(root, MP_REGION + "PersonDisplayName")]
    for regions in root.iter(IPTC + "ImageRegion"):  # its items' own Name, not a nested one's
        for container in regions:
            for li in container.findall(RDF + "li"):
                found += [Named(PERSON, t) for t in _property(li, IPTC + "Name")]
    for prop in ("PersonInImage", "PersonName"):
        found += [Named(PERSON, t) for t in _everywhere(root, IPTC + prop)]
    # a region's name is also found "everywhere": one name without a place per kind, unless
    # the name has a place; every place is kept (a child twice on the photo: two faces to blur)
    placed = {(n.kind, n.text) for n in found if n.area is not None}
    first: dict[tuple, Named] = {}
    for n in found:
        if n.area is not None or (n.kind, n.text) not in placed:
            first.setdefault((n.kind, n.text, n.area, n.applied_to), n)
    return list(first.values())


def _check_namespaces(root: ET.Element) -> None:
    """A people namespace spelled another way would be read by nobody: refuse it."""
    for el in root.iter():
        for name in (el.tag, *el.attrib):
            if isinstance(name, str) and name.startswith("{"):
                uri = name[1:name.index("}")]
                if uri not in KNOWN and any(m in uri for m in MARKERS):
                    raise ValueError(f"onbekende naamruimte voor personenlabels ({uri})")


def _values(el: ET.Element) -> list[str]:
    """The text of a property element: itself, or every rdf:li / rdf:value inside it."""
    out = [el.text.strip()] if el.text and el.text.strip() else []
    for sub in el.iter():
        if sub is not el and sub.tag in (RDF + "li", RDF + "value") and sub.text \
                and sub.text.strip():
            out.append(sub.text.strip())
        if RDF + "value" in sub.attrib and sub.attrib[RDF + "value"].strip():
            out.append(sub.attrib[RDF + "value"].strip())
    return out


def _everywhere(root: ET.Element, name: str) -> list[str]:
    """Every value of a property anywhere in the packet, element or attribute form."""
    out = []
    for el in root.iter():
        if el.tag == name:
            out += _values(el)
        if name in el.attrib and el.attrib[name].strip():
            out.append(el.attrib[name].strip())
    return out


def _property(item: ET.Element, name: str) -> list[str]:
    """A struct's own property (not a nested struct's): on the item or its rdf:Description."""
    out = []
    for node in (item, *item.findall(RDF + "Description")):
        if name in node.attrib and node.attrib[name].strip():
            out.append(node.attrib[name].strip())
        for child in node.findall(name):
            out += _values(child)
    return out


def _area(li: ET.Element) -> tuple[float, float, float, float] | None:
    """A face region's normalized rectangle; None for another region type or unit, or
    unreadable numbers (a name without a place: PHOTO_BLUR cannot put a mosaic there)."""
    if (_property(li, MWG + "Type") or [""])[0].lower() not in ("", "face"):
        return None
    for node in (li, *li.findall(RDF + "Description")):
        a = node.find(MWG + "Area")
        if a is None:
            continue
        if (_property(a, AREA + "unit") or [""])[0].lower() not in ("", "normalized"):
            return None
        try:
            x, y, w, h = (float((_property(a, AREA + k) or [""])[0]) for k in "xywh")
        except ValueError:
            return None
        return x, y, w, h
    return None


def _dimensions(regions: ET.Element | None) -> tuple[float, float] | None:
    """mwg-rs:AppliedToDimensions beside a RegionList (w, h); None when absent, (0, 0) when
    unreadable (which fits no photo, so its regions are never trusted)."""
    dims = regions.find(MWG + "AppliedToDimensions") if regions is not None else None
    if dims is None:
        return None
    try:
        return tuple(float((_property(dims, DIM + k) or [""])[0]) for k in "wh")
    except ValueError:
        return 0.0, 0.0


def read(data: bytes) -> tuple[list[Named], list[str]]:
    """(every name, errors) from all the XMP in a photo's bytes."""
    found: list[Named] = []
    parts, errors = texts(data)
    for text in parts:
        spans, read_ok = packets(text), []
        for start, end in spans:
            try:
                found += names(text[start:end])
                read_ok.append((start, end))
            except ValueError as exc:
                errors.append(str(exc))
        if unread_people(text, read_ok) and len(read_ok) == len(spans):
            errors.append("personenlabels in een vorm die de build niet kan lezen "
                          "(buiten een XMP-pakket, of geen UTF-8)")
    return found, list(dict.fromkeys(errors))
