"""Hostile or broken files are dropped with a clear reason; never a crash, never published."""

from __future__ import annotations

import io
import re
import struct
import zlib

import pytest
from PIL import Image

from plugins.errors import SchoolpleinError
from plugins.photos.posts import process_post

from .conftest import group_photo, jpeg_bytes, xmp

GOOD_NAMES = ["Zoë", "Sem B.", "Sara"]


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares a huge image (a decompression bomb's header)."""
    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


@pytest.fixture
def bad_post(post):
    buf = io.BytesIO()
    Image.effect_noise((400, 300), 50).convert("RGB").save(buf, "JPEG",
                                                            xmp=xmp(regions=GOOD_NAMES))
    good = buf.getvalue()
    (post / "afgekapt.jpg").write_bytes(good[: len(good) // 2])
    (post / "bom.png").write_bytes(png_claiming(30000, 30000))
    (post / "bijna-bom.png").write_bytes(png_claiming(9000, 7000))  # 63 MP > 60 MP limit
    (post / "leeg.jpg").write_bytes(b"")
    (post / "tekst.jpg").write_text("dit is geen foto\n")
    (post / "fotos.txt").write_text(
        "".join(f"{n}: {', '.join(GOOD_NAMES)}\n"
                for n in ("bom.png", "bijna-bom.png", "leeg.jpg", "tekst.jpg")))
    group_photo(post / "goed.jpg", GOOD_NAMES)
    return post


EXPECTED = {
    "afgekapt.jpg": "undecodable",
    "bom.png": "too_many_pixels",
    "bijna-bom.png": "too_many_pixels",
    "leeg.jpg": "empty",
    "tekst.jpg": "undecodable",
    "goed.jpg": "published",
}


def test_bad_files_are_dropped_with_reason(bad_post, roster, sections, settings, tmp_path):
    out = tmp_path / "out"
    result = process_post(bad_post, sections.get("group", "groep-3"), roster, settings, out)
    codes = {r.photo.rsplit("/", 1)[-1]: r.code for r in result.reports}
    assert codes == EXPECTED
    assert len(result.photos) == 1
    assert all(r.reason for r in result.reports)
    files = sorted(p.name for p in out.rglob("*") if p.is_file())
    assert len(files) == 4  # only the good photo's four renditions


def test_too_big_file_is_dropped(post, roster, sections, settings, tmp_path):
    group_photo(post / "groot.jpg", GOOD_NAMES, size=(300, 200))
    result = process_post(post, sections.get("group", "groep-3"), roster,
                          settings.with_(max_bytes=500), tmp_path / "out")
    assert [r.code for r in result.reports] == ["too_big"]


def test_strict_mode_names_every_dropped_file(bad_post, roster, sections, settings, tmp_path):
    with pytest.raises(SchoolpleinError) as err:
        process_post(bad_post, sections.get("group", "groep-3"), roster,
                     settings.with_(strict=True), tmp_path / "out")
    text = str(err.value)
    for name, code in EXPECTED.items():
        assert (name in text) == (code != "published"), name


def test_strict_mode_points_at_the_suggestion_and_names_no_child(post, roster, sections,
                                                                  settings, tmp_path):
    """The strict error is console output: file, reason, place and audit line; no names."""
    group_photo(post / "a.jpg", ["Zoë", "Sem", "Sara"])
    (post / "b.jpg").write_bytes(jpeg_bytes())
    (post / "fotos.txt").write_text("# test\nb.jpg: Zoy, Sara, Floor\n")
    with pytest.raises(SchoolpleinError) as err:
        process_post(post, sections.get("group", "groep-3"), roster,
                     settings.with_(strict=True), tmp_path / "out")
    text = str(err.value)
    for name in ("Zoë", "Zoy", "Sem", "Sara", "Floor"):
        assert name not in text.replace(str(tmp_path), ""), name
    assert "a.jpg: foto niet gepubliceerd: naam past bij meer dan één kind (labels in de foto)" in text
    assert "b.jpg: foto niet gepubliceerd: onbekende naam (fotos.txt:2)" in text
    audit = next((tmp_path / "audit").glob("fotos-*.txt"))
    lines = audit.read_text().splitlines()
    pointers = re.findall(re.escape(str(audit)) + r":(\d+)", text)
    assert len(pointers) == 2
    assert "'Sem' is niet eenduidig in Groep 3: bedoel je Sem B. of Sem K.?" in lines[
        int(pointers[0]) - 1]
    assert lines[int(pointers[1]) - 1].strip().startswith("fotos.txt:2: onbekende naam 'Zoy'")
    assert "bedoel je Zoë" in lines[int(pointers[1]) - 1]
