"""Property: whatever metadata goes in, none comes out.

Random small images in JPEG/PNG/WebP/HEIC with random EXIF (incl. GPS and
orientation), XMP, ICC profile and comment go through the real encoder; the
outputs are read back with Pillow and inspected byte by byte.
"""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, PngImagePlugin

from plugins.photos.encode import encode
from plugins.photos.settings import PhotoSettings

from .conftest import gps_exif, srgb_icc, xmp

CFG = PhotoSettings(large_size=96, thumb_size=40, workers=1)
FORBIDDEN = (b"Exif", b"<x:xmpmeta", b"xmpmeta", b"Photoshop 3.0", b"ICC_PROFILE", b"GPS",
             b"TestCam", b"geheim", b"Zo\xc3\xab", b"Sem Bakker")


def jpeg_markers(data: bytes) -> list[int]:
    """Markers before the entropy-coded data (SOS)."""
    assert data[:2] == b"\xff\xd8"
    pos, markers = 2, []
    while pos < len(data):
        marker = data[pos + 1]
        markers.append(marker)
        if marker == 0xDA:
            return markers
        pos += 2 + int.from_bytes(data[pos + 2:pos + 4], "big")
    return markers


def webp_chunks(data: bytes) -> list[bytes]:
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    pos, chunks = 12, []
    while pos + 8 <= len(data):
        cid, size = data[pos:pos + 4], int.from_bytes(data[pos + 4:pos + 8], "little")
        chunks.append(cid)
        pos += 8 + size + (size & 1)
    return chunks


def assert_clean(blob: bytes, fmt: str) -> None:
    im = Image.open(io.BytesIO(blob))
    im.load()
    for key in ("exif", "icc_profile", "xmp", "comment", "XML:com.adobe.xmp", "photoshop"):
        assert key not in im.info, key
    assert len(im.getexif()) == 0
    assert im.mode == "RGB"
    if fmt == "jpeg":
        markers = jpeg_markers(blob)
        assert set(markers) <= {0xE0, 0xDB, 0xC0, 0xC2, 0xC4, 0xDD, 0xDA}, [hex(m) for m in markers]
        header = blob[:blob.index(b"\xff\xda")]
    else:
        assert set(webp_chunks(blob)) <= {b"VP8 ", b"VP8L"}, webp_chunks(blob)
        header = blob[:64]
    for needle in FORBIDDEN:
        assert needle not in header, needle
    for needle in FORBIDDEN[:5]:
        assert needle not in blob, needle


@st.composite
def sources(draw):
    fmt = draw(st.sampled_from(["JPEG", "PNG", "WEBP", "HEIF"]))
    modes = {"JPEG": ["RGB", "L", "CMYK"], "PNG": ["RGB", "RGBA", "L", "P", "LA"],
             "WEBP": ["RGB", "RGBA"], "HEIF": ["RGB"]}[fmt]
    mode = draw(st.sampled_from(modes))
    w, h = draw(st.integers(8, 220)), draw(st.integers(8, 220))
    im = Image.effect_noise((w, h), draw(st.integers(5, 80))).convert(mode)
    kw = {}
    if draw(st.booleans()):
        kw["exif"] = gps_exif(draw(st.integers(1, 8))).tobytes()
    if draw(st.booleans()) and mode in ("RGB", "RGBA", "L") and fmt != "HEIF":
        kw["icc_profile"] = srgb_icc()
    packet = xmp(regions=["Zoë", "Sem Bakker"]) if draw(st.booleans()) else None
    if fmt == "JPEG":
        if packet:
            kw["xmp"] = packet
        if draw(st.booleans()):
            kw["comment"] = b"geheim: Sem Bakker"
    elif fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        if packet:
            info.add_itxt("XML:com.adobe.xmp", packet.decode())
        info.add_text("Comment", "geheim")
        kw["pnginfo"] = info
    elif fmt in ("WEBP", "HEIF") and packet:
        kw["xmp"] = packet
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue(), (w, h), kw.get("exif")


@settings(max_examples=40, deadline=None)
@given(sources())
def test_outputs_carry_no_metadata(source):
    data, (w, h), exif = source
    outputs = encode(data, CFG)
    assert {(o.role, o.format) for o, _ in outputs} == {
        ("large", "jpeg"), ("large", "webp"), ("thumb", "jpeg"), ("thumb", "webp")}
    for out, blob in outputs:
        assert_clean(blob, out.format)
        assert out.name.endswith(f"-{96 if out.role == 'large' else 40}."
                                 f"{'jpg' if out.format == 'jpeg' else 'webp'}")
        assert Image.open(io.BytesIO(blob)).size == (out.width, out.height)
        assert max(out.width, out.height) <= (96 if out.role == "large" else 40)
    large = next(o for o, _ in outputs if o.role == "large")
    orientation = Image.Exif()
    if exif:
        orientation.load(exif)
    if orientation.get(0x0112, 1) in (5, 6, 7, 8):
        w, h = h, w
    assert (large.width >= large.height) == (w >= h) or abs(w - h) <= 2


@pytest.mark.parametrize("fmt", ["jpeg", "webp"])
def test_output_names_are_content_hashes(fmt):
    import hashlib

    data = io.BytesIO()
    Image.effect_noise((50, 40), 30).convert("RGB").save(data, "JPEG")
    for out, blob in encode(data.getvalue(), CFG):
        assert out.name.split("-")[0] == hashlib.sha256(blob).hexdigest()[:20]
