"""A picture, not a file: every copy of the same pixels carries the tags of every copy.

The same photo reused in another post, under another name, stripped of its labels or
saved as PNG is the same picture of the same children. Before, each file was decided on
its own tags: a withdrawal dropped the tagged copy and the other copy stayed online.
"""

from __future__ import annotations

import io
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image, ImageOps

from plugins.photos.encode import decoded_key
from plugins.photos.posts import process_posts
from plugins.roster import Consent

from .conftest import group_photo
from .test_exiftool import EXIFTOOL, run_exiftool

TAGGED = ["Zoë", "Sem B.", "Sara"]  # groep 3, consent for everything


def make_post(root: Path, where: str, name: str = "uitje") -> Path:
    folder = root / "content" / where / f"2026-10-02-{name}"
    folder.mkdir(parents=True)
    (folder / "index.md").write_text("Title: Uitje\nDate: 2026-10-02\n\nTekst.\n")
    return folder


def as_png(jpeg: Path, target: Path) -> Path:
    """The decoded, upright pixels of `jpeg` as a PNG without any metadata."""
    with Image.open(jpeg) as im:
        ImageOps.exif_transpose(im).convert("RGB").save(target, "PNG")
    return target


def stripped(jpeg: Path, target: Path) -> Path:
    """What `exiftool -all=` leaves: the same image data, no labels."""
    if EXIFTOOL is None:
        pytest.fail("exiftool ontbreekt")
    subprocess.run([EXIFTOOL, "-q", "-all=", "-o", str(target), str(jpeg)], check=True)
    return target


def decide(posts, roster, settings, tmp_path) -> dict[str, tuple[bool, str, str]]:
    """{'<post folder>/<photo>': (published, code, reason)} for a build of these posts."""
    results = process_posts(posts, roster, settings, tmp_path / "out")
    return {f"{Path(r.photo).parent.name}/{Path(r.photo).name}": (r.published, r.code, r.reason)
            for res in results for r in res.reports}


@pytest.fixture
def original(tmp_path):
    folder = make_post(tmp_path, "groep/groep-3")
    return group_photo(folder / "groep.jpg", TAGGED)


@pytest.mark.parametrize("how", ["byte copy", "exiftool -all=", "PNG of the pixels"])
def test_a_copy_with_no_children_marked_drops_both(tmp_path, original, roster, sections,
                                                   settings, how):
    """The copy says 'geen herkenbare kinderen'; the original names three: the picture's
    sources disagree, so neither copy is published."""
    other = make_post(tmp_path, "school", "terugblik")
    copy = other / ("terug.png" if how.startswith("PNG") else "terug.jpg")
    if how == "byte copy":
        copy.write_bytes(original.read_bytes())
    elif how == "PNG of the pixels":
        as_png(original, copy)
    else:
        stripped(original, copy)
    (other / "fotos.txt").write_text(f"{copy.name}: geen herkenbare kinderen\n")
    got = decide([(original.parent, sections.get("group", "groep-3")),
                  (other, sections.get("school", "school"))], roster, settings, tmp_path)
    assert got["2026-10-02-uitje/groep.jpg"][:2] == (False, "no_children_conflict")
    published, code, reason = got[f"2026-10-02-terugblik/{copy.name}"]
    assert (published, code) == (False, "no_children_conflict")
    assert f"bij {original}" in reason  # says where the other copy is


def test_a_withdrawal_drops_every_copy_of_the_picture(tmp_path, original, roster, sections,
                                                      settings):
    """Each copy names other children; Zoë's parents withdraw: no copy stays online, also the
    one whose own labels never name her."""
    other = make_post(tmp_path, "groep/groep-3", "terugblik")
    copy = as_png(original, other / "terug.png")
    (other / "fotos.txt").write_text("terug.png: Floor, Jens, Isa\n")
    posts = [(original.parent, sections.get("group", "groep-3")),
             (other, sections.get("group", "groep-3"))]
    before = decide(posts, roster, settings, tmp_path)
    assert {k: v[0] for k, v in before.items()} == {"2026-10-02-uitje/groep.jpg": True,
                                                    "2026-10-02-terugblik/terug.png": True}
    zoe = roster.children["zoe-devries"]
    withdrawn = replace(roster, children={**roster.children,
                                          zoe.id: replace(zoe, consent=Consent.NONE)})
    after = decide(posts, withdrawn, settings, tmp_path)
    assert after["2026-10-02-uitje/groep.jpg"][:2] == (False, "no_consent")
    published, code, reason = after["2026-10-02-terugblik/terug.png"]
    assert (published, code) == (False, "no_consent")
    assert reason == ("een kind zonder toestemming voor deze pagina "
                      f"(labels in de foto bij {original})")
    assert copy.is_file()


def test_a_copy_on_a_page_of_another_audience_is_dropped(tmp_path, original, roster,
                                                        sections, settings):
    """Tagged with groep-3 children, reused on a groep-4 page with groep-4 names."""
    other = make_post(tmp_path, "groep/groep-4", "herfst")
    stripped(original, other / "herfst.jpg")
    (other / "fotos.txt").write_text("herfst.jpg: Milan, Tess, Stijn\n")
    got = decide([(original.parent, sections.get("group", "groep-3")),
                  (other, sections.get("group", "groep-4"))], roster, settings, tmp_path)
    assert got["2026-10-02-herfst/herfst.jpg"][:2] == (False, "other_audience")
    assert got["2026-10-02-uitje/groep.jpg"][:2] == (False, "other_audience")


def test_an_unlabelled_copy_carries_the_labels_of_the_others(tmp_path, original, roster,
                                                            sections, settings):
    """The union is the picture's tag list: a copy without labels is as tagged as the others."""
    other = make_post(tmp_path, "school", "terugblik")
    stripped(original, other / "terug.jpg")
    got = decide([(original.parent, sections.get("group", "groep-3")),
                  (other, sections.get("school", "school"))], roster, settings, tmp_path)
    assert got["2026-10-02-terugblik/terug.jpg"][:2] == (True, "published")
    assert got["2026-10-02-uitje/groep.jpg"][:2] == (True, "published")


def test_different_pictures_are_not_joined(tmp_path, roster, sections, settings):
    a = group_photo(make_post(tmp_path, "groep/groep-3") / "a.jpg", TAGGED)
    other = make_post(tmp_path, "groep/groep-3", "ander")
    group_photo(other / "b.jpg", ["Floor", "Jens", "Isa"])
    (other / "fotos.txt").write_text("")
    got = decide([(a.parent, sections.get("group", "groep-3")),
                  (other, sections.get("group", "groep-3"))], roster, settings, tmp_path)
    assert {k: v[0] for k, v in got.items()} == {"2026-10-02-uitje/a.jpg": True,
                                                 "2026-10-02-ander/b.jpg": True}


def test_the_pixel_key_follows_the_pixels_not_the_file(tmp_path, original, settings):
    key = decoded_key(original.read_bytes(), settings)
    # stored sideways with an EXIF orientation: the same upright picture
    with Image.open(original) as im:
        sideways = im.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to show
    buf = io.BytesIO()
    sideways.save(buf, "PNG", exif=exif)
    run_exiftool("-XMP-iptcExt:PersonInImage=Floor", str(original))  # new labels, same pixels
    assert decoded_key(original.read_bytes(), settings) == key
    assert decoded_key(buf.getvalue(), settings) == key
    assert decoded_key(as_png(original, tmp_path / "kopie.png").read_bytes(), settings) == key
    with Image.open(original) as im:  # one pixel changed is another picture
        im = im.convert("RGB")
        im.putpixel((0, 0), tuple(255 - v for v in im.getpixel((0, 0))))
        buf = io.BytesIO()
        im.save(buf, "PNG")
    assert decoded_key(buf.getvalue(), settings) != key


def test_the_pixel_key_is_decoded_once_per_photo(tmp_path, original, roster, sections,
                                                 settings):
    """A warm build decodes nothing: the keys are cached by source hash, also for photos that
    are dropped (they are keyed too: their labels count for every copy)."""
    (original.parent / "portret.jpg").write_bytes(original.read_bytes())  # a byte copy
    group_photo(original.parent / "ander.jpg", ["Zoë"])  # dropped: a portrait
    posts = [(original.parent, sections.get("group", "groep-3"))]
    process_posts(posts, roster, settings, tmp_path / "o1")
    import plugins.photos.encode as encode

    calls = []
    real = encode._photo_job
    encode._photo_job = lambda *a: calls.append(a) or real(*a)
    try:
        [result] = process_posts(posts, roster, settings, tmp_path / "o2")
    finally:
        encode._photo_job = real
    assert calls == [] and result.encoded == 0
    assert {Path(r.photo).name: r.published for r in result.reports} == {
        "groep.jpg": True, "portret.jpg": True, "ander.jpg": False}
