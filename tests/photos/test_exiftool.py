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

from plugins.photo_tags import read_embedded_tags, read_post_tags
from plugins.photos import process_post

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
    assert [t.text for t in tags] == ["Zoë", "Sem B.", "Ömer", "Sara"]
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
