"""Every place exiftool finds XMP in a photo, we find it too; what we cannot read drops the photo.

Each form is checked against the real exiftool first (it must read the names there, or
the form is not one photo tools really produce), then against the build's reader. The
forms the reader once missed published a photo of a child without consent; the last
tests run those through the whole photo filter.
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin

from plugins.photos.posts import process_post
from plugins.photos.tags import read_embedded_tags, read_tag_bytes

from .test_exiftool import EXIFTOOL, run_exiftool

RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
MWG_NS = "http://www.metadataworkinggroup.com/schemas/regions/"
IPTC_NS = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
# every tag exiftool gives a person's name under
PEOPLE = ("RegionName", "RegionPersonDisplayName", "PersonInImage", "PersonInImageName",
          "ImageRegionName")


def rdf(names, region_type="Face", prefix="rdf", persons=("Ömer",)) -> str:
    """An rdf:RDF element (no x:xmpmeta around it) with MWG regions and PersonInImage."""
    p = prefix
    items = "".join(f"<{p}:li {p}:parseType='Resource'><mwg-rs:Name>{n}</mwg-rs:Name>"
                    + (f"<mwg-rs:Type>{region_type}</mwg-rs:Type>" if region_type else "")
                    + f"</{p}:li>" for n in names)
    people = "".join(f"<{p}:li>{n}</{p}:li>" for n in persons)
    return (f"<{p}:RDF xmlns:{p}='{RDF_NS}'><{p}:Description {p}:about=''"
            f" xmlns:mwg-rs='{MWG_NS}' xmlns:Iptc4xmpExt='{IPTC_NS}'>"
            f"<mwg-rs:Regions {p}:parseType='Resource'><mwg-rs:RegionList><{p}:Bag>{items}"
            f"</{p}:Bag></mwg-rs:RegionList></mwg-rs:Regions>"
            f"<Iptc4xmpExt:PersonInImage><{p}:Bag>{people}</{p}:Bag></Iptc4xmpExt:PersonInImage>"
            f"</{p}:Description></{p}:RDF>")


def wrapped(body: str, element="x:xmpmeta", ns_prefix="x") -> bytes:
    return (f"<?xpacket begin='\ufeff' id='W5M0MpCehiHzreSzNTczkc9d'?><{element}"
            f" xmlns:{ns_prefix}='adobe:ns:meta/'>{body}</{element}><?xpacket end='w'?>").encode()


def plain(fmt="JPEG", **save) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (30, 140, 90)).save(buf, fmt, **save)
    return buf.getvalue()


def png_chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body))


def png_with(ctype: bytes, body: bytes) -> bytes:
    png = plain("PNG")
    return png[:33] + png_chunk(ctype, body) + png[33:]  # right after IHDR


def raw_profile(kind: str, data: bytes) -> bytes:
    """ImageMagick's (and exiftool's ProcessProfile's) hex text: \\n<kind>\\n <len>\\n<hex>."""
    hexed = data.hex()
    lines = "\n".join(hexed[i:i + 72] for i in range(0, len(hexed), 72))
    return f"\n{kind}\n{len(data):8d}\n{lines}\n".encode()


def jpeg_with_segment(marker: int, payload: bytes) -> bytes:
    jpeg = plain()
    return jpeg[:2] + bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


def photoshop_irb(packet: bytes) -> bytes:
    """A Photoshop image resource block holding the XMP resource (0x0424)."""
    pad = b"\x00" if len(packet) % 2 else b""
    return b"8BIM" + struct.pack(">H", 0x0424) + b"\x00\x00" + struct.pack(">I", len(packet)) \
        + packet + pad


NAMES = ["Zoë", "Sem B.", "Sara"]
FULL = wrapped(rdf(NAMES))


def _build(form: str, path: Path) -> None:
    """Write `path` in one of the FORMS (some are written by exiftool itself)."""
    if form == "jpeg: rdf:RDF without x:xmpmeta":
        path.write_bytes(plain(xmp=rdf(NAMES).encode()))
    elif form == "jpeg: xpacket and rdf:RDF, other prefixes":
        packet = "<?xpacket begin='' id='W5M0MpCehiHzreSzNTczkc9d'?>" + rdf(NAMES, prefix="r")
        path.write_bytes(plain(xmp=(packet + "<?xpacket end='w'?>").encode()))
    elif form == "jpeg: meta:xmpmeta prefix":
        path.write_bytes(plain(xmp=wrapped(rdf(NAMES), "meta:xmpmeta", "meta")))
    elif form == "jpeg: old x:xapmeta":
        path.write_bytes(plain(xmp=wrapped(rdf(NAMES), "x:xapmeta")))
    elif form == "jpeg: Extended XMP (exiftool)":
        path.write_bytes(plain())
        regions = ",".join(f"{{Name=Kind{i},Type=Face}}" for i in range(1200))
        run_exiftool(f"-XMP-mwg-rs:RegionInfo={{RegionList=[{regions},{{Name=Zoë,Type=Face}}]}}",
                     "-XMP-iptcExt:PersonInImage=Ömer", str(path))
    elif form == "jpeg: Photoshop APP13":
        path.write_bytes(jpeg_with_segment(0xED, b"Photoshop 3.0\x00" + photoshop_irb(FULL)))
    elif form == "jpeg: EXIF tag 0x02BC":
        exif = Image.Exif()
        exif[0x02BC] = FULL
        path.write_bytes(plain(exif=exif))
    elif form == "jpeg: Microsoft photo regions (exiftool)":
        path.write_bytes(plain())
        run_exiftool("-XMP-MP:RegionInfoMP={Regions=[{PersonDisplayName=Zoë},"
                     "{PersonDisplayName=Sem B.}]}", str(path))
    elif form == "jpeg: IPTC image regions and PersonInImageWDetails (exiftool)":
        path.write_bytes(plain())
        run_exiftool("-XMP-iptcExt:ImageRegion=[{Name=Zoë,RCtype=[{Name=Human}]}]",
                     "-XMP-iptcExt:PersonInImageWDetails=[{PersonName=Sem B.}]", str(path))
    elif form == "jpeg: regions of every type (exiftool)":
        path.write_bytes(plain())
        run_exiftool("-XMP-mwg-rs:RegionInfo={RegionList=[{Name=Zoë,Type=Pet},"
                     "{Name=Sem B.,Type=Focus},{Name=Sara,Type=BarCode},{Name=Floor,Type=Gezicht},"
                     "{Name=Jens}]}", str(path))
    elif form == "png: iTXt compressed":
        info = PngImagePlugin.PngInfo()
        info.add_itxt("XML:com.adobe.xmp", FULL.decode(), zip=True)
        path.write_bytes(plain("PNG", pnginfo=info))
    elif form == "png: tEXt XML:com.adobe.xmp":
        path.write_bytes(png_with(b"tEXt", b"XML:com.adobe.xmp\x00" + FULL))
    elif form == "png: zTXt XML:com.adobe.xmp":
        path.write_bytes(png_with(b"zTXt", b"XML:com.adobe.xmp\x00\x00" + zlib.compress(FULL)))
    elif form == "png: Raw profile type xmp (tEXt)":
        path.write_bytes(png_with(b"tEXt", b"Raw profile type xmp\x00" + raw_profile("xmp", FULL)))
    elif form == "png: Raw profile type xmp (zTXt, ImageMagick)":
        path.write_bytes(png_with(b"zTXt", b"Raw profile type xmp\x00\x00"
                                  + zlib.compress(raw_profile("xmp", FULL))))
    elif form == "png: Raw profile type APP1":
        data = b"http://ns.adobe.com/xap/1.0/\x00" + FULL
        path.write_bytes(png_with(b"tEXt", b"Raw profile type APP1\x00" + raw_profile("APP1", data)))
    elif form == "png: Raw profile type 8bim":
        path.write_bytes(png_with(b"tEXt", b"Raw profile type 8bim\x00"
                                  + raw_profile("8bim", photoshop_irb(FULL))))
    elif form == "webp: XMP chunk (exiftool)":
        path.write_bytes(plain("WEBP"))
        run_exiftool("-XMP-mwg-rs:RegionInfo={RegionList=[{Name=Zoë,Type=Face}]}",
                     "-XMP-iptcExt:PersonInImage=Sem B.", str(path))
    elif form == "heic: XMP item":
        import pillow_heif

        pillow_heif.register_heif_opener()
        path.write_bytes(plain("HEIF", xmp=FULL))
    else:  # pragma: no cover
        raise AssertionError(form)


FORMS = {
    "jpeg: rdf:RDF without x:xmpmeta": NAMES + ["Ömer"],
    "jpeg: xpacket and rdf:RDF, other prefixes": NAMES + ["Ömer"],
    "jpeg: meta:xmpmeta prefix": NAMES + ["Ömer"],
    "jpeg: old x:xapmeta": NAMES + ["Ömer"],
    "jpeg: Extended XMP (exiftool)": [f"Kind{i}" for i in range(1200)] + ["Zoë", "Ömer"],
    "jpeg: Photoshop APP13": NAMES + ["Ömer"],
    "jpeg: EXIF tag 0x02BC": NAMES + ["Ömer"],
    "jpeg: Microsoft photo regions (exiftool)": ["Zoë", "Sem B."],
    "jpeg: IPTC image regions and PersonInImageWDetails (exiftool)": ["Zoë", "Sem B."],
    "jpeg: regions of every type (exiftool)": ["Zoë", "Sem B.", "Sara", "Floor", "Jens"],
    "png: iTXt compressed": NAMES + ["Ömer"],
    "png: tEXt XML:com.adobe.xmp": NAMES + ["Ömer"],
    "png: zTXt XML:com.adobe.xmp": NAMES + ["Ömer"],
    "png: Raw profile type xmp (tEXt)": NAMES + ["Ömer"],
    "png: Raw profile type xmp (zTXt, ImageMagick)": NAMES + ["Ömer"],
    "png: Raw profile type APP1": NAMES + ["Ömer"],
    "png: Raw profile type 8bim": NAMES + ["Ömer"],
    "webp: XMP chunk (exiftool)": ["Zoë", "Sem B."],
    "heic: XMP item": NAMES + ["Ömer"],
}
SUFFIX = {"jpeg": ".jpg", "png": ".png", "webp": ".webp", "heic": ".heic"}


def exiftool_people(path: Path) -> set[str]:
    """The names exiftool reads from `path` (-m: past its 1000-item limit too)."""
    if EXIFTOOL is None:
        pytest.fail("exiftool ontbreekt: installeer het (apt-get install libimage-exiftool-perl)")
    out = subprocess.run([EXIFTOOL, "-j", "-m", "-a", "-api", "LimitLongValues=0",
                          *(f"-{t}" for t in PEOPLE), str(path)],
                         capture_output=True, text=True, check=True).stdout
    found: set[str] = set()
    for key, value in json.loads(out)[0].items():
        if key in PEOPLE:
            found |= {str(v) for v in (value if isinstance(value, list) else [value]) if str(v)}
    return found


@pytest.mark.parametrize("form", sorted(FORMS))
def test_every_xmp_form_exiftool_reads_is_read(tmp_path, form):
    path = tmp_path / f"foto{SUFFIX[form.split(':')[0]]}"
    _build(form, path)
    expected = set(FORMS[form])
    assert exiftool_people(path) == expected, "exiftool reads this form differently"
    tags, errors = read_embedded_tags(read_tag_bytes(path))
    assert errors == []
    assert {t.text for t in tags} == expected


UNREADABLE = {
    # exiftool reads no names from these, or reads them where the build cannot check it:
    # either way a people namespace is there, so the photo is dropped, never published
    "utf-16 packet": plain(xmp=FULL.decode().encode("utf-16")),
    "rdf:Description without rdf:RDF": plain(xmp=(
        f"<rdf:Description xmlns:rdf='{RDF_NS}' xmlns:Iptc4xmpExt='{IPTC_NS}'>"
        "<Iptc4xmpExt:PersonInImage>Zoë</Iptc4xmpExt:PersonInImage></rdf:Description>").encode()),
    "another spelling of the namespace": plain(xmp=FULL.replace(
        IPTC_NS.encode(), b"http://iptc.org/std/Iptc4xmpExt/2008-02-29")),
    "unclosed packet": plain(xmp=FULL[:-60]),
    "broken hex profile": png_with(b"tEXt", b"Raw profile type xmp\x00\nxmp\n   12\nzz12\n"),
}


@pytest.mark.parametrize("case", sorted(UNREADABLE))
def test_people_tags_in_a_form_we_cannot_read_are_an_error(case):
    tags, errors = read_embedded_tags(UNREADABLE[case])
    assert errors, tags
    assert not any("Zoë" in e for e in errors)  # messages reach the console: never a name


def test_extended_xmp_with_a_missing_part_is_an_error(tmp_path):
    path = tmp_path / "foto.jpg"
    _build("jpeg: Extended XMP (exiftool)", path)
    data = read_tag_bytes(path)
    ext = b"http://ns.adobe.com/xmp/extension/\x00"
    last = data.rindex(ext) - 4  # the last extension segment, from its marker
    length = int.from_bytes(data[last + 2:last + 4], "big")
    _, errors = read_embedded_tags(data[:last] + data[last + 2 + length:])
    assert "uitgebreide XMP (Extended XMP) onvolledig" in errors


def name_her(form: str, photo: Path) -> None:
    """Eliška (groep 4, no consent) named in a form the reader once missed."""
    if form == "png: Raw profile type xmp (zTXt, ImageMagick)":
        profile = raw_profile("xmp", wrapped(rdf(["Eliška"], persons=())))
        photo.write_bytes(png_with(b"zTXt", b"Raw profile type xmp\x00\x00"
                                   + zlib.compress(profile)))
    elif form == "jpeg: rdf:RDF without x:xmpmeta":
        photo.write_bytes(plain(xmp=rdf([], persons=["Eliška"]).encode()))
    else:  # a region of another type than Face, as exiftool writes it
        photo.write_bytes(plain())
        run_exiftool("-XMP-mwg-rs:RegionInfo={RegionList=[{Name=Eliška,Type=Pet}]}", str(photo))


WITHOUT_CONSENT = ("png: Raw profile type xmp (zTXt, ImageMagick)",
                   "jpeg: rdf:RDF without x:xmpmeta", "jpeg: a Pet region (exiftool)")


@pytest.mark.parametrize("form", sorted(WITHOUT_CONSENT))
def test_a_child_without_consent_in_these_forms_is_never_published(tmp_path, roster, sections,
                                                                  settings, form):
    """fotos.txt names three children with consent; the photo itself also names Eliška."""
    post = tmp_path / "content" / "groep" / "groep-4" / "2026-10-09-wandeling"
    post.mkdir(parents=True)
    (post / "index.md").write_text("Title: Wandeling\n\nTekst.\n")
    photo = post / f"bos{SUFFIX[form.split(':')[0]]}"
    name_her(form, photo)
    assert exiftool_people(photo) == {"Eliška"}
    (post / "fotos.txt").write_text(f"{photo.name}: Milan, Tess, Stijn\n")
    result = process_post(post, sections.get("group", "groep-4"), roster, settings,
                          tmp_path / "out")
    [rep] = result.reports
    assert not rep.published and rep.code == "no_consent", rep.reason
    assert "eliska-novakova" in rep.children and result.written == ()
