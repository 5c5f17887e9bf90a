"""PHOTO_BLUR through the build: what the teacher reads, and consent changes at the next build.

One synthetic class photo (four textured faces, MWG regions) of Groep 3 goes
through the real process_posts / report path with the demo roster; Sara's
consent is withdrawn and given back between builds into the same output and
cache, as `invoke build` does.
"""

from __future__ import annotations

import io
import json
import logging
import statistics
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image

from plugins.photos.audit import console_lines, write_audit
from plugins.photos.posts import process_posts, report
from plugins.roster import Consent

from .conftest import ROOT
from .faces import draw_face, pixel_box, region_xmp, save, scene

SIZE = (480, 360)
FACES = {"Zoë": (0.2, 0.3, 0.12, 0.16), "Sem B.": (0.75, 0.3, 0.12, 0.16),
         "Sara": (0.3, 0.72, 0.12, 0.16), "Floor": (0.72, 0.72, 0.12, 0.16)}
NAMES = ("Zoë", "Sara", "sara-dewit", "de Wit")


def class_photo(path, faces=FACES):
    im = scene(SIZE, 7)
    for n, area in enumerate(FACES.values()):
        draw_face(im, pixel_box(area, SIZE), 70 + n)
    path.write_bytes(save(im, "JPEG", xmp=region_xmp(list(faces.items()), dims=SIZE)))
    return im


def without_consent(roster, child="sara-dewit"):
    children = dict(roster.children)
    children[child] = replace(children[child], consent=Consent.NONE)
    return replace(roster, children=children)


def build(post, roster, sections, settings, out):
    [result] = process_posts([(post, sections.get("group", "groep-3"))], roster, settings, out,
                             prune=True)
    return result


def renditions(out):
    return {p.name: p.read_bytes() for p in out.rglob("fotos/*") if p.is_file()}


def cached(settings):
    return {p.name for p in settings.cache_dir.rglob("*") if p.suffix in (".jpg", ".webp")}


def largest_jpeg(files) -> bytes:
    return max((b for n, b in files.items() if n.endswith(".jpg")),
               key=lambda b: Image.open(io.BytesIO(b)).width)


def face_detail(data: bytes, area) -> float:
    """Spread of the grey values over the face itself (the region before its margin)."""
    im = Image.open(io.BytesIO(data)).convert("L")
    return statistics.pstdev(im.crop(pixel_box(area, im.size)).tobytes())


def test_the_audit_says_who_was_blurred_and_why_and_the_console_names_no_one(
        post, roster, sections, settings, tmp_path):
    class_photo(post / "klas.jpg")
    result = build(post, without_consent(roster), sections, settings.with_(blur=True),
                   tmp_path / "out")
    [rep] = result.reports
    assert rep.published and rep.code == "published_blurred"
    assert [(b.child, b.why, b.regions) for b in rep.blurred] == [
        ("sara-dewit", "beeldgebruik 'geen' staat Groep 3 niet toe", "gezichtslabels in de foto")]
    audit = write_audit(list(result.reports), tmp_path / "audit", tmp_path / "out",
                        datetime(2026, 11, 26, 10, 15))
    text = audit.txt.read_text()
    assert "1 foto's gepubliceerd, 0 niet gepubliceerd. Op 1 foto is een kind onherkenbaar " \
           "gemaakt." in text
    assert ("  OK   klas.jpg: gepubliceerd, met een kind zonder toestemming onherkenbaar gemaakt"
            in text.splitlines())
    assert ("       onherkenbaar gemaakt: sara-dewit (beeldgebruik 'geen' staat Groep 3 niet "
            "toe; gezichtsvak uit gezichtslabels in de foto)") in text.splitlines()
    assert "Sara → sara-dewit (geen toestemming: onherkenbaar gemaakt)" in text
    [entry] = json.loads(audit.json.read_text())["fotos"]
    assert entry["code"] == "published_blurred" and entry["blurred"][0]["child"] == "sara-dewit"
    [line] = console_lines(result.reports, (), audit)
    assert line == (f"foto gepubliceerd met een kind onherkenbaar gemaakt: {post}/klas.jpg; "
                    f"zie {audit.txt}:6")
    assert text.splitlines()[6 - 1].startswith("  OK   klas.jpg")
    # the page: generic alt text, nothing that names the blurred child
    assert [p.alt for p in result.photos] == ["Foto 1 van 1"]
    for name in NAMES:
        assert name not in line.replace(str(tmp_path), "")
        assert name not in repr(result.photos)


def test_the_build_log_says_a_child_was_blurred_without_a_name(post, roster, sections, settings,
                                                               tmp_path, caplog):
    class_photo(post / "klas.jpg")
    cfg = settings.with_(blur=True)
    result = build(post, without_consent(roster), sections, cfg, tmp_path / "out")
    caplog.set_level(logging.WARNING)
    report([result], cfg, tmp_path / "out")
    [msg] = [r.getMessage() for r in caplog.records]
    assert msg.startswith(f"foto gepubliceerd met een kind onherkenbaar gemaakt: {post}/klas.jpg")
    for name in NAMES:
        assert name not in msg.replace(str(tmp_path), "")


def test_setting_off_still_drops_and_a_name_only_child_still_drops(post, roster, sections,
                                                                   settings, tmp_path):
    class_photo(post / "klas.jpg")
    strict = without_consent(roster)
    off = build(post, strict, sections, settings, tmp_path / "off")
    assert off.reports[0].code == "no_consent" and off.photos == ()
    class_photo(post / "klas.jpg", {k: v for k, v in FACES.items() if k != "Sara"})
    (post / "fotos.txt").write_text("klas.jpg: Sara\n")  # her face drawn, but named only
    named = build(post, strict, sections, settings.with_(blur=True), tmp_path / "named")
    assert named.reports[0].code == "no_region" and named.photos == ()
    assert not renditions(tmp_path / "off") and not renditions(tmp_path / "named")


def test_withdrawn_consent_blurs_at_the_next_build_and_consent_back_brings_the_clear_photo(
        post, roster, sections, settings, tmp_path):
    """Same cache across builds, a fresh output each (as `invoke build` stages one): the old
    renditions survive the change in neither."""
    class_photo(post / "klas.jpg")
    cfg = settings.with_(blur=True)
    out = tmp_path / "out1"
    clear = build(post, roster, sections, cfg, out)
    assert clear.reports[0].code == "published"
    clear_files, clear_cache = renditions(out), cached(cfg)
    assert len(clear_files) == 4 and clear_files.keys() == clear_cache
    off = build(post, roster, sections, settings, tmp_path / "off")  # the setting off: today's
    assert off.reports[0].code == "published" and renditions(tmp_path / "off") == clear_files

    out = tmp_path / "out2"
    blurred = build(post, without_consent(roster), sections, cfg, out)
    assert blurred.reports[0].code == "published_blurred"
    blurred_files = renditions(out)
    assert len(blurred_files) == 4 and not blurred_files.keys() & clear_files.keys()
    assert cached(cfg) == blurred_files.keys()  # the clear entry is pruned from the cache
    large, clear_large = largest_jpeg(blurred_files), largest_jpeg(clear_files)
    assert face_detail(clear_large, FACES["Sara"]) > 20  # the drawn face: eyes, hair, noise
    assert face_detail(large, FACES["Sara"]) < face_detail(clear_large, FACES["Sara"]) / 2
    for kid in ("Zoë", "Floor"):  # the others' faces stay as they were
        assert abs(face_detail(large, FACES[kid]) - face_detail(clear_large, FACES[kid])) < 1

    out = tmp_path / "out3"
    again = build(post, roster, sections, cfg, out)
    assert again.reports[0].code == "published"
    assert renditions(out) == clear_files  # the very same bytes and names as before
    assert cached(cfg) == clear_files.keys()  # and no blurred entry left behind


def test_a_stricter_consent_drops_what_was_blurred(post, roster, sections, settings, tmp_path):
    """Two children without consent leave two recognisable: below the minimum of 3, dropped."""
    class_photo(post / "klas.jpg")
    cfg = settings.with_(blur=True)
    build(post, without_consent(roster), sections, cfg, tmp_path / "out1")
    assert renditions(tmp_path / "out1")
    out = tmp_path / "out2"
    both = build(post, without_consent(without_consent(roster), "floor-smit"), sections, cfg, out)
    assert both.reports[0].code == "portrait" and both.photos == ()
    assert not renditions(out) and not cached(cfg)


def test_the_demo_photo_with_a_child_without_consent_is_blurred_when_the_setting_is_on(
        roster, sections, settings, tmp_path):
    """content/…/zonder-toestemming.jpg: Eliška (beeldgebruik 'geen') among three others."""
    post = ROOT / "content" / "groep" / "groep-4" / "2026-10-09-herfstwandeling"
    section = sections.get("group", "groep-4")
    off, on = (
        {Path(r.photo).name: r for r in process_posts([(post, section)], roster, cfg,
                                                      tmp_path / name)[0].reports}
        for name, cfg in (("off", settings), ("on", settings.with_(blur=True))))
    assert off["zonder-toestemming.jpg"].code == "no_consent"
    photo = on["zonder-toestemming.jpg"]
    assert photo.published and photo.code == "published_blurred"
    assert [b.child for b in photo.blurred] == ["eliska-novakova"]
    # every other photo of the demo post gets the same outcome as without the setting
    assert {n: r.code for n, r in on.items() if n != "zonder-toestemming.jpg"} == {
        n: r.code for n, r in off.items() if n != "zonder-toestemming.jpg"}


def test_a_child_tagged_twice_has_both_faces_blurred(post, roster, sections, settings, tmp_path):
    """Two face regions with Sara's name in one packet (she is on the photo twice, or the app
    found her twice): both faces become a mosaic, not only the first one listed."""
    second = (0.5, 0.5, 0.1, 0.14)
    im = scene(SIZE, 7)
    for n, area in enumerate([*FACES.values(), second]):
        draw_face(im, pixel_box(area, SIZE), 70 + n)
    regions = [*FACES.items(), ("Sara", second)]
    (post / "klas.jpg").write_bytes(save(im, "JPEG", xmp=region_xmp(regions, dims=SIZE)))
    result = build(post, without_consent(roster), sections, settings.with_(blur=True),
                   tmp_path / "out")
    [rep] = result.reports
    assert rep.code == "published_blurred"
    assert [b.child for b in rep.blurred] == ["sara-dewit"]
    large = largest_jpeg(renditions(tmp_path / "out"))
    original = save(im, "JPEG")
    for area in (FACES["Sara"], second):
        assert face_detail(large, area) < face_detail(original, area) / 2, area


def test_each_copy_of_a_blurred_picture_needs_its_own_face_region(
        post, roster, sections, settings, tmp_path):
    """The same pixels as a PNG without labels, Sara named in fotos.txt only: the copies are
    one picture (one pixel key, of the clear pixels), so both carry her withdrawal; the JPEG
    with her face region is published with her face a mosaic, the PNG (no region of its own:
    the JPEG's regions are drawn on the JPEG's frame) is dropped."""
    from plugins.photos.cache import PixelIndex, hash_file
    from plugins.photos.encode import decoded_key

    class_photo(post / "klas.jpg")
    Image.open(post / "klas.jpg").convert("RGB").save(post / "kopie.png")
    (post / "fotos.txt").write_text("kopie.png: Zoë, Sem B., Floor\n")  # Sara only via the copy
    blur_on = settings.with_(blur=True)
    result = build(post, without_consent(roster), sections, blur_on, tmp_path / "out")
    codes = {Path(r.photo).name: r.code for r in result.reports}
    assert codes == {"klas.jpg": "published_blurred", "kopie.png": "no_region"}
    key = decoded_key((post / "klas.jpg").read_bytes(), blur_on)
    pixels = PixelIndex(blur_on.cache_dir)
    assert pixels.get(hash_file(post / "klas.jpg")) == pixels.get(hash_file(post / "kopie.png"))
    assert pixels.get(hash_file(post / "klas.jpg")) == key
    assert len(result.photos) == 1
    face = FACES["Sara"]
    out = renditions(tmp_path / "out")
    assert face_detail(largest_jpeg(out), face) < 0.5 * face_detail(
        (post / "klas.jpg").read_bytes(), face)

    again = build(post, roster, sections, blur_on, tmp_path / "out")  # consent back: both clear
    assert {Path(r.photo).name: r.code for r in again.reports} == {
        "klas.jpg": "published", "kopie.png": "published"}


SARA_ELSEWHERE = (0.5, 0.5, 0.12, 0.16)  # not where her face is: Zoë's side of the photo


def sidecar(path, faces):
    path.write_bytes(region_xmp(list(faces.items()), dims=SIZE))


def copy_cases(post, case):
    """klas.jpg (labelled, Sara's face region right) and a copy of the same picture."""
    class_photo(post / "klas.jpg")
    if case == "the same file, her region elsewhere in its sidecar":
        (post / "kopie.jpg").write_bytes((post / "klas.jpg").read_bytes())
        sidecar(post / "kopie.jpg.xmp", {"Sara": SARA_ELSEWHERE})
    elif case == "the same file, her region a little off in its sidecar":
        (post / "kopie.jpg").write_bytes((post / "klas.jpg").read_bytes())
        x, y, w, h = FACES["Sara"]
        sidecar(post / "kopie.jpg.xmp", {"Sara": (x + 0.005, y - 0.005, w + 0.01, h)})
    elif case == "another file naming her without a region":
        Image.open(post / "klas.jpg").convert("RGB").save(post / "kopie.png")
        (post / "fotos.txt").write_text("kopie.png: Zoë, Sem B., Floor, Sara\n")
    elif case == "another file with the same regions":  # its frame is not known when deciding
        Image.open(post / "klas.jpg").convert("RGB").save(post / "kopie.png")
        sidecar(post / "kopie.png.xmp", FACES)
    return {p.name for p in post.iterdir() if p.suffix in (".jpg", ".png")}


COPY_CASES = {
    "the same file, her region elsewhere in its sidecar": "region_copies",
    "the same file, her region a little off in its sidecar": "published_blurred",
    "another file naming her without a region": None,  # klas.jpg: region_copies; the copy:
    "another file with the same regions": "region_copies",  # no_region / region_copies
}


@pytest.mark.parametrize("case", list(COPY_CASES))
def test_copies_that_disagree_where_a_blurred_childs_face_is_drop_every_copy(
        case, post, roster, sections, settings, tmp_path):
    """Copies of one picture (one pixel key) are joined: a child without consent is blurred
    only when every copy naming her is the same file and puts her face in the same place
    (within 2 % of the photo). A copy with her face elsewhere, or her name without a place,
    means one of the regions may be wrong, and a mosaic in the wrong place publishes her
    face: every copy is dropped, and no rendition of the picture is written."""
    names = copy_cases(post, case)
    result = build(post, without_consent(roster), sections, settings.with_(blur=True),
                   tmp_path / "out")
    codes = {Path(r.photo).name: r.code for r in result.reports}
    want = COPY_CASES[case]
    if want is None:
        assert codes == {"klas.jpg": "region_copies", "kopie.png": "no_region"}
    else:
        assert codes == dict.fromkeys(names, want), codes
    if want == "published_blurred":
        large = largest_jpeg(renditions(tmp_path / "out"))
        assert face_detail(large, FACES["Sara"]) < 0.5 * face_detail(
            (post / "klas.jpg").read_bytes(), FACES["Sara"])
        return
    assert result.photos == () and not renditions(tmp_path / "out")
    [rep] = [r for r in result.reports if Path(r.photo).name == "klas.jpg"]
    assert "kopieën van deze foto zijn het niet eens" in rep.reason
    assert "Sara" not in rep.reason and "sara" not in rep.reason
