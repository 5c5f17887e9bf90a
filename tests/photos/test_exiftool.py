"""Compatibility with what photo tools really write: tag with the real exiftool, read back.

exiftool is a bootstrap dependency (Debian libimage-exiftool-perl); it is only
used here, never at build time. Missing exiftool is a failure, not a skip:
this test is the proof that teachers' photo apps and our reader agree.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest
from PIL import Image

from plugins.photos.posts import process_post
from plugins.photos.tags import read_embedded_tags, read_post_tags

EXIFTOOL = shutil.which("exiftool")


def run_exiftool(*args):
    if EXIFTOOL is None:
        pytest.fail("exiftool ontbreekt: installeer het (apt-get install libimage-exiftool-perl)"
                    " — de fotolabel-test vergelijkt met echte fotoprogramma's")
    subprocess.run([EXIFTOOL, "-q", "-overwrite_original", "-charset", "UTF8", *args],
                   check=True, capture_output=True)


def region(name, x):
    return f"{{Area={{X={x},Y=0.5,W=0.1,H=0.1,Unit=normalized}},Name={name},Type=Face}}"


@pytest.mark.parametrize("fmt", ["jpg", "png"])
def test_exiftool_regions_and_person_in_image(tmp_path, fmt):
    photo = tmp_path / f"groep.{fmt}"
    Image.new("RGB", (64, 48), (10, 120, 200)).save(photo)
    regions = ",".join(region(n, x) for n, x in [("Zoë", 0.2), ("Sem B.", 0.5)])
    run_exiftool(
        f"-XMP-mwg-rs:RegionInfo={{AppliedToDimensions={{W=64,H=48,Unit=pixel}},"
        f"RegionList=[{regions},{{Area={{X=0.9,Y=0.5,W=0.1,H=0.1,Unit=normalized}},"
        f"Name=Bello,Type=Pet}}]}}",
        "-XMP-iptcExt:PersonInImage=Ömer", "-XMP-iptcExt:PersonInImage=Sara",
        str(photo))
    tags, errors = read_embedded_tags(photo.read_bytes())
    assert errors == []
    # a named region of another type (here Pet) counts as a person too: a name is a name
    assert [t.text for t in tags] == ["Zoë", "Sem B.", "Bello", "Ömer", "Sara"]
    assert tags[0].area == (0.2, 0.5, 0.1, 0.1)


def test_exiftool_tagged_photo_publishes_and_strips(tmp_path, post, roster, sections, settings):
    photo = post / "groep.jpg"
    Image.effect_noise((120, 90), 40).convert("RGB").save(photo, quality=80)
    regions = ",".join(region(n, x) for n, x in [("Zoe", 0.2), ("Sem K.", 0.4), ("Floor", 0.6)])
    run_exiftool(f"-XMP-mwg-rs:RegionInfo={{RegionList=[{regions}]}}",
                 "-GPSLatitude=52.1", "-GPSLatitudeRef=N", "-Artist=Juf Anne", str(photo))
    tags, _ = read_post_tags(post)
    assert [t.text for t in tags[photo].tags] == ["Zoe", "Sem K.", "Floor"]
    result = process_post(post, sections.get("group", "groep-3"), roster, settings,
                          tmp_path / "out")
    assert [r.code for r in result.reports] == ["published"]
    for path in result.written:
        out = subprocess.run([EXIFTOOL, "-j", "-a", "-G1", str(path)], capture_output=True,
                             text=True, check=True).stdout
        for needle in ("GPS", "XMP", "Juf Anne", "Zoe", "RegionInfo", "ICC_Profile", "EXIF"):
            assert needle not in out, (needle, out)


def sidecar(photo, target, *assignments):
    """What digiKam/darktable (`foto.jpg.xmp`) or Lightroom (`foto.xmp`) leave beside a photo."""
    run_exiftool("-o", str(target), *assignments, str(photo))
    assert target.is_file()


def test_exiftool_sidecars_in_both_namings_count(post):
    jpg, png = post / "uitje.jpg", post / "uitje.png"
    Image.new("RGB", (64, 48), (10, 120, 200)).save(jpg)
    Image.new("RGB", (64, 48), (10, 120, 200)).save(png)
    regions = ",".join(region(n, x) for n, x in [("Zoë", 0.2), ("Sem B.", 0.5)])
    sidecar(jpg, post / "uitje.jpg.xmp", f"-XMP-mwg-rs:RegionInfo={{RegionList=[{regions}]}}")
    # flattened struct tags, as scripts write them: one region per RegionName/RegionType pair
    sidecar(jpg, post / "uitje.xmp", "-XMP-iptcExt:PersonInImage=Ömer",
            "-XMP-mwg-rs:RegionName+=Sara", "-XMP-mwg-rs:RegionType+=Face")
    tags, loose = read_post_tags(post)
    assert loose == ()
    assert [(t.text, t.source.label) for t in tags[jpg].tags] == [
        ("Zoë", "gezichtslabels in uitje.jpg.xmp"), ("Sem B.", "gezichtslabels in uitje.jpg.xmp"),
        ("Sara", "gezichtslabels in uitje.xmp"),
        ("Ömer", "personenlabels (PersonInImage) in uitje.xmp")]
    # Lightroom's uitje.xmp belongs to every photo called uitje
    assert [t.text for t in tags[png].tags] == ["Sara", "Ömer"]


def test_exiftool_sidecar_naming_a_child_without_consent_drops_the_photo(tmp_path, roster,
                                                                         sections, settings,
                                                                         caplog):
    """fotos.txt names three children; the photo app's sidecar also names Eliška (no consent)."""
    post = tmp_path / "content" / "groep" / "groep-4" / "2026-10-09-wandeling"
    post.mkdir(parents=True)
    photo = post / "bos.jpg"
    Image.effect_noise((120, 90), 40).convert("RGB").save(photo, quality=80)
    sidecar(photo, post / "bos.jpg.xmp", "-XMP-iptcExt:PersonInImage=Milan",
            "-XMP-iptcExt:PersonInImage=Eliška")
    (post / "fotos.txt").write_text("bos.jpg: Milan, Tess, Stijn\n")
    result = process_post(post, sections.get("group", "groep-4"), roster, settings,
                          tmp_path / "out")
    [rep] = result.reports
    assert not rep.published and rep.code == "no_consent"
    assert rep.reason == "een kind zonder toestemming voor deze pagina (bos.jpg.xmp)"
    assert "eliska-novakova" in rep.children and result.written == ()
    [line] = [r.getMessage() for r in caplog.records if "niet gepubliceerd" in r.getMessage()]
    assert "bos.jpg.xmp" in line and "Eliška" not in line and "Milan" not in line


@pytest.mark.parametrize("fotos_txt", ["geen herkenbare kinderen", "Zoë, Sara, Floor"])
def test_exiftool_embedded_tags_are_not_replaced_by_fotos_txt(post, roster, sections, settings,
                                                              tmp_path, fotos_txt):
    """The old bug: a fotos.txt line replaced the photo's own tags and published it."""
    photo = post / "klas.jpg"
    Image.effect_noise((120, 90), 40).convert("RGB").save(photo, quality=80)
    regions = ",".join(region(n, x) for n, x in [("Zoe", 0.2), ("Sem K.", 0.4), ("Huga", 0.6)])
    run_exiftool(f"-XMP-mwg-rs:RegionInfo={{RegionList=[{regions}]}}", str(photo))
    (post / "fotos.txt").write_text(f"klas.jpg: {fotos_txt}\n")
    result = process_post(post, sections.get("group", "groep-3"), roster, settings,
                          tmp_path / "out")
    [rep] = result.reports
    assert not rep.published and result.written == ()
    if fotos_txt.startswith("geen"):
        assert rep.reason.startswith("fotos.txt regel 1 zegt 'geen herkenbare kinderen', maar "
                                     "de labels in de foto noemen 3 kinderen")
    else:  # the shorter, correct list does not hide the typo in the photo's own labels
        assert rep.reason == "onbekende naam (labels in de foto)"
        assert any("'Huga'" in p.message and "Hugo" in p.fix for p in rep.problems)
