"""The private audit: complete for the teacher, never under the output, no names on the console."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from plugins.errors import SchoolpleinError
from plugins.photos.audit import console_lines, write_audit
from plugins.photos.posts import process_posts

from .conftest import group_photo, jpeg_bytes, xmp

NAMES = ("Zoë", "Zoy", "Eliška", "Sem", "Sara", "Floor", "Jens", "Isa", "zoe-devries")


def build(post, roster, sections, settings, tmp_path):
    [result] = process_posts([(post, sections.get("group", "groep-3"))], roster, settings,
                             tmp_path / "out")
    audit = write_audit(list(result.reports), tmp_path / "audit", tmp_path / "out",
                        datetime(2026, 11, 26, 10, 15), result.loose_problems)
    console = console_lines(result.reports, result.loose_problems, audit)
    return result, audit, console


def test_audit_lists_every_photo_and_tag_file_problem(post, roster, sections, settings,
                                                      tmp_path):
    group_photo(post / "ok.jpg", ["Zoë", "Sem B.", "Sara"])
    group_photo(post / "typo.jpg", ["Zoy", "Sem B.", "Sara"])
    group_photo(post / "elders.jpg", ["Eliška", "Sem B.", "Sara"])  # groep-4 child
    (post / "fotos.txt").write_text("Zoë en Sem op de foto\n")
    result, audit, console = build(post, roster, sections, settings, tmp_path)
    assert audit.txt.name == "fotos-20261126-101500.txt"
    data = json.loads(audit.json.read_text())
    assert {f["photo"].rsplit("/", 1)[-1]: f["code"] for f in data["fotos"]} == {
        "elders.jpg": "unknown_name", "ok.jpg": "published", "typo.jpg": "unknown_name"}
    text = audit.txt.read_text()
    assert "'Zoy'" in text and "bedoel je Zoë" in text  # the teacher may see tag text
    assert "fotos.txt:1" in text
    joined = "\n".join(console)
    assert "typo.jpg" in joined and "fotos.txt:1" in joined
    for name in NAMES:
        assert name not in joined
    assert not list((tmp_path / "out").rglob("fotos-*"))


def test_console_and_audit_for_a_dropped_photo_verbatim(post, roster, sections, settings,
                                                        tmp_path):
    """The teacher's view after a build: the console line is enough to find the fix."""
    group_photo(post / "dubbel.jpg", ["Sem", "Sara", "Zoë"])
    (post / "dubbel.jpg.xmp").write_bytes(xmp(persons=["Floor"]))
    (post / "uitje.jpg").write_bytes(jpeg_bytes(xmp=xmp(regions=["Floor", "Jens"])))
    (post / "fotos.txt").write_text("# wie staat erop\n\n"
                                    "uitje.jpg: geen herkenbare kinderen\n")
    result, audit, console = build(post, roster, sections, settings, tmp_path)
    assert console == [
        f"foto niet gepubliceerd: {post}/dubbel.jpg: naam past bij meer dan één kind "
        f"(labels in de foto); zie {audit.txt}:9",
        f"foto niet gepubliceerd: {post}/uitje.jpg: fotos.txt regel 3 zegt 'geen herkenbare "
        f"kinderen', maar de labels in de foto noemen 2 kinderen; zie {audit.txt}:13",
    ]
    lines = audit.txt.read_text().splitlines()
    assert lines[4:] == [
        f"== {post}",
        "  NIET dubbel.jpg: naam past bij meer dan één kind (labels in de foto)",
        "       gezichtslabels in de foto: Sem → meer dan één kind, Sara → sara-dewit, "
        "Zoë → zoe-devries",
        "       personenlabels (PersonInImage) in dubbel.jpg.xmp: Floor → floor-smit",
        "       dubbel.jpg: 'Sem' is niet eenduidig in Groep 3: bedoel je Sem B. of Sem K.? "
        "— oplossing: schrijf de naam zo dat hij bij één kind past, bv. 'Sem B.'",
        "  NIET uitje.jpg: fotos.txt regel 3 zegt 'geen herkenbare kinderen', maar de labels "
        "in de foto noemen 2 kinderen",
        "       gezichtslabels in de foto: Floor → floor-smit, Jens → jens-smit",
        "       fotos.txt regel 3: geen herkenbare kinderen",
        "       fotos.txt:3: zegt 'geen herkenbare kinderen', maar de labels in de foto noemen "
        "Floor, Jens — oplossing: staan er herkenbare kinderen op? Zet dan hun namen in "
        "fotos.txt in plaats van 'geen herkenbare kinderen'; zo niet, haal de namen weg uit de "
        "labels in je foto-app",
    ]
    # the console's pointers land on the suggestion and on the disagreement
    assert "bedoel je Sem B. of Sem K.?" in lines[9 - 1]
    assert "noemen Floor, Jens" in lines[13 - 1]
    photos = {f["photo"].rsplit("/", 1)[-1]: f for f in json.loads(audit.json.read_text())["fotos"]}
    assert photos["uitje.jpg"]["marks"] == ["fotos.txt regel 3"]
    assert [(t["text"], t["source"], t["child"]) for t in photos["uitje.jpg"]["tags"]] == [
        ("Floor", "gezichtslabels in de foto", "floor-smit"),
        ("Jens", "gezichtslabels in de foto", "jens-smit")]
    assert photos["dubbel.jpg"]["verslagregel"] == 9
    for line in console:
        for name in NAMES:
            assert name not in line.replace(str(tmp_path), ""), (name, line)


def test_no_consent_names_the_child_and_source_only_in_the_audit(tmp_path, roster, sections,
                                                                 settings):
    """Eliška (beeldgebruik 'geen') named only in a Lightroom sidecar: dropped, audit says so."""
    post = tmp_path / "content" / "groep" / "groep-4" / "2026-10-09-wandeling"
    post.mkdir(parents=True)
    group_photo(post / "bos.jpg", ["Milan", "Tess", "Stijn"])
    (post / "bos.xmp").write_bytes(xmp(persons=["Eliška"]))
    [result] = process_posts([(post, sections.get("group", "groep-4"))], roster, settings,
                             tmp_path / "out")
    audit = write_audit(list(result.reports), tmp_path / "audit", tmp_path / "out",
                        datetime(2026, 11, 26, 10, 15))
    [line] = console_lines(result.reports, (), audit)
    assert line == (f"foto niet gepubliceerd: {post}/bos.jpg: een kind zonder toestemming voor "
                    f"deze pagina (bos.xmp); zie {audit.txt}:9")
    pointed = audit.txt.read_text().splitlines()[9 - 1]
    assert pointed == ("       bos.xmp: 'Eliška' is Eliška N. (eliska-novakova): beeldgebruik "
                       "'geen' staat Groep 4 niet toe — oplossing: kies een andere foto zonder "
                       "dit kind")
    assert "Eliška → eliska-novakova (geen toestemming)" in audit.txt.read_text()


def test_audit_dir_inside_output_is_refused(tmp_path):
    with pytest.raises(SchoolpleinError, match="uitvoermap"):
        write_audit([], tmp_path / "out" / "prive", tmp_path / "out")
