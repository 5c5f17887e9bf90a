"""Shared helpers for the photo tests: real images, real metadata, no mocks."""

from __future__ import annotations

import io
import os
import random
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from PIL import Image, ImageCms

from plugins.photos.settings import PhotoSettings
from plugins.sections import build_section_map

ROOT = Path(__file__).resolve().parents[2]

XMP_HEAD = (
    "<?xpacket begin='\ufeff' id='W5M0MpCehiHzreSzNTczkc9d'?>"
    "<x:xmpmeta xmlns:x='adobe:ns:meta/'>"
    "<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>"
    "<rdf:Description rdf:about=''"
    " xmlns:mwg-rs='http://www.metadataworkinggroup.com/schemas/regions/'"
    " xmlns:stArea='http://ns.adobe.com/xmp/sType/Area#'"
    " xmlns:stDim='http://ns.adobe.com/xap/1.0/sType/Dimensions#'"
    " xmlns:Iptc4xmpExt='http://iptc.org/std/Iptc4xmpExt/2008-02-29/'>"
)
XMP_TAIL = "</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end='w'?>"


def xmp(regions=(), persons=(), region_type="Face", dims=None) -> bytes:
    """XMP with MWG regions (element form, drawn for `dims` when given) and IPTC
    PersonInImage."""
    items = "".join(
        "<rdf:li rdf:parseType='Resource'>"
        f"<mwg-rs:Name>{escape(n)}</mwg-rs:Name><mwg-rs:Type>{region_type}</mwg-rs:Type>"
        "<mwg-rs:Area stArea:x='0.5' stArea:y='0.5' stArea:w='0.1' stArea:h='0.1'"
        " stArea:unit='normalized'/></rdf:li>" for n in regions)
    body = ""
    if regions:
        applied = (f"<mwg-rs:AppliedToDimensions stDim:w='{dims[0]}' stDim:h='{dims[1]}' "
                   "stDim:unit='pixel'/>" if dims else "")
        body += (f"<mwg-rs:Regions rdf:parseType='Resource'>{applied}<mwg-rs:RegionList><rdf:Bag>"
                 f"{items}</rdf:Bag></mwg-rs:RegionList></mwg-rs:Regions>")
    if persons:
        body += ("<Iptc4xmpExt:PersonInImage><rdf:Bag>"
                 + "".join(f"<rdf:li>{escape(p)}</rdf:li>" for p in persons)
                 + "</rdf:Bag></Iptc4xmpExt:PersonInImage>")
    return (XMP_HEAD + body + XMP_TAIL).encode()


def srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def gps_exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "TestCam"
    exif[0x0112] = orientation
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (52.0, 5.0, 30.0), "E", (4.0, 53.0, 10.0)
    return exif


def jpeg_bytes(size=(64, 48), colour=(200, 80, 40), **save) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "JPEG", quality=85, **save)
    return buf.getvalue()


def group_photo(path: Path, names, size=(64, 48), colour=None) -> Path:
    """A JPEG whose faces are tagged `names`. Without `colour` its pixels are its own (seeded by
    the path): the same pixels elsewhere would be another copy of the same picture."""
    if colour is None:
        w, h = size
        im = Image.frombytes("RGB", size, random.Random(str(path)).randbytes(w * h * 3))
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=85, xmp=xmp(regions=names, dims=size))
        path.write_bytes(buf.getvalue())
    else:
        path.write_bytes(jpeg_bytes(size, colour, xmp=xmp(regions=names, dims=size)))
    return path



def repaint(photo: Path, step: int) -> None:
    """Other pixels in the same file: the luma table's DC entry raised (a flat photo gets
    lighter), written in place, size and mtime set back: only the ctime tells."""
    before = photo.stat()
    data = photo.read_bytes()
    at = data.index(b"\xff\xdb") + 5  # DQT: marker, length, table id, then entry 0
    with open(photo, "r+b") as fh:
        fh.seek(at)
        fh.write(bytes([(data[at] + step) % 250 + 1]))
    os.utime(photo, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = photo.stat()
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (
        before.st_ino, before.st_size, before.st_mtime_ns)


@pytest.fixture(scope="session")
def sections(roster):
    return build_section_map(roster, "Testschool")


@pytest.fixture
def settings(tmp_path) -> PhotoSettings:
    return PhotoSettings(cache_dir=tmp_path / "cache", audit_dir=tmp_path / "audit", workers=1)


@pytest.fixture
def post(tmp_path) -> Path:
    folder = tmp_path / "content" / "groep" / "groep-3" / "2026-10-02-uitje"
    folder.mkdir(parents=True)
    (folder / "index.md").write_text("Title: Uitje\nDate: 2026-10-02\n\nTekst.\n")
    return folder
