"""Reading tags (XMP, PNG iTXt, .xmp sidecars, fotos.txt) and resolving names to children."""

from __future__ import annotations

import pytest
from PIL import Image, PngImagePlugin

from plugins.photos.names import resolve, short_label
from plugins.photos.tags import (
    MAX_XMP_BYTES,
    Source,
    Tag,
    parse_fotos_txt,
    parse_xmp_names,
    read_embedded_tags,
    read_post_tags,
)

from .conftest import XMP_HEAD, XMP_TAIL, jpeg_bytes, xmp


def names(tags):
    return [t.text for t in tags]


def test_mwg_regions_and_person_in_image_from_jpeg():
    data = jpeg_bytes(xmp=xmp(regions=["Zoë", "Sem B."], persons=["Ömer", "Zoë"]))
    tags, errors = read_embedded_tags(data)
    assert errors == []
    # one tag per name per source: the audit says the region and PersonInImage both name Zoë
    assert [(t.text, t.source.kind) for t in tags] == [
        ("Zoë", "region"), ("Sem B.", "region"), ("Ömer", "person"), ("Zoë", "person")]
    assert tags[0].area == (0.5, 0.5, 0.1, 0.1)


def test_region_attribute_form_and_every_named_region_counts():
    """A name on a region of another type (Pet, Focus, one we do not know, none) may still be
    a child: it counts as a person (fail closed)."""
    packet = (XMP_HEAD + "<mwg-rs:Regions><rdf:Description><mwg-rs:RegionList><rdf:Seq>"
              "<rdf:li><rdf:Description mwg-rs:Name='Noor' mwg-rs:Type='Face'/></rdf:li>"
              "<rdf:li><rdf:Description mwg-rs:Name='Bello' mwg-rs:Type='Pet'/></rdf:li>"
              "<rdf:li><rdf:Description mwg-rs:Name='Sem' mwg-rs:Type='Focus'/></rdf:li>"
              "<rdf:li><rdf:Description mwg-rs:Name='Zoë' mwg-rs:Type='Gezicht'/></rdf:li>"
              "<rdf:li><rdf:Description mwg-rs:Name='Ömer'/></rdf:li>"
              "<rdf:li><rdf:Description mwg-rs:Type='Focus'/></rdf:li>"
              "</rdf:Seq></mwg-rs:RegionList></rdf:Description></mwg-rs:Regions>"
              + XMP_TAIL).encode()
    assert names(parse_xmp_names(packet)) == ["Noor", "Bello", "Sem", "Zoë", "Ömer"]


def test_dtd_in_xmp_is_refused():
    packet = b"<x:xmpmeta><!DOCTYPE x [<!ENTITY a 'b'>]></x:xmpmeta>"
    _, errors = read_embedded_tags(packet)
    assert errors and "DTD" in errors[0]


def test_png_itxt_plain_and_compressed(tmp_path):
    plain = tmp_path / "a.png"
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", xmp(persons=["Daan"]).decode(), zip=True)
    Image.new("RGB", (8, 8)).save(plain, pnginfo=info)
    raw = plain.read_bytes()
    assert b"<x:xmpmeta" not in raw  # really compressed
    tags, _ = read_embedded_tags(raw)
    assert names(tags) == ["Daan"]


def test_sidecar_lines_comments_and_errors(tmp_path):
    sidecar = tmp_path / "fotos.txt"
    sidecar.write_text(
        "# commentaar\n\n"
        "a.jpg: Sem B., Zoë , Ömer\n"
        "B.JPG: geen herkenbare kinderen\n"
        "c.jpg Sem, Zoë\n"            # no colon: c.jpg is dropped, not silently embedded
        "d.jpg: Sem,, Zoë\n"          # empty name
        "zomaar een regel\n"
        "e.txt: Sem\n",
        encoding="utf-8")
    sc = parse_fotos_txt(sidecar, {"a.jpg", "b.jpg", "c.jpg", "d.jpg"})
    [a] = sc.entries["a.jpg"]
    assert names(a.tags) == ["Sem B.", "Zoë", "Ömer"] and a.tags[0].line == 3
    assert a.tags[0].source.where == "fotos.txt:3"
    assert sc.entries["b.jpg"][0].no_children
    assert sc.entries["c.jpg"][0].problems[0].line == 5
    assert sc.entries["d.jpg"][0].problems[0].line == 6
    assert [p.line for p in sc.problems] == [7, 8]
    assert all(p.file.endswith("fotos.txt") for p in sc.problems)


def test_every_source_counts_none_overrides_another(post):
    """fotos.txt adds to the labels in the photo and in its sidecars; it never replaces them."""
    (post / "a.jpg").write_bytes(jpeg_bytes(xmp=xmp(regions=["Zoë", "Sem B."],
                                                    persons=["Zoë", "Sara"])))
    (post / "a.jpg.xmp").write_bytes(xmp(regions=["Floor"]))
    (post / "a.xmp").write_bytes(xmp(persons=["Jens"]))
    (post / "b.jpg").write_bytes(jpeg_bytes(xmp=xmp(regions=["Zoë", "Sem B.", "Sara"])))
    (post / "fotos.txt").write_text("a.jpg: Isa\nb.jpg: geen herkenbare kinderen\n")
    tags, loose = read_post_tags(post)
    assert loose == ()
    a, b = tags[post / "a.jpg"], tags[post / "b.jpg"]
    assert [(t.text, t.source.label) for t in a.tags] == [
        ("Zoë", "gezichtslabels in de foto"), ("Sem B.", "gezichtslabels in de foto"),
        ("Zoë", "personenlabels (PersonInImage) in de foto"),
        ("Sara", "personenlabels (PersonInImage) in de foto"),
        ("Floor", "gezichtslabels in a.jpg.xmp"),
        ("Jens", "personenlabels (PersonInImage) in a.xmp"),
        ("Isa", "fotos.txt regel 1")]
    assert [t.source.where for t in a.tags][-3:] == ["a.jpg.xmp", "a.xmp", "fotos.txt:1"]
    assert a.sidecars == (str(post / "a.jpg.xmp"), str(post / "a.xmp"))
    assert not a.no_children
    # the mark is kept beside the embedded names; photo_rules drops the photo
    assert b.no_children and names(b.tags) == ["Zoë", "Sem B.", "Sara"]
    assert [m.label for m in b.marks] == ["fotos.txt regel 2"]


def test_lightroom_sidecar_serves_every_photo_with_that_stem(post):
    (post / "uitje.jpg").write_bytes(jpeg_bytes())
    Image.new("RGB", (8, 8)).save(post / "uitje.png")
    (post / "uitje.XMP").write_bytes(xmp(persons=["Zoë"]))  # any case: a camera card's names
    (post / "ander.jpg").write_bytes(jpeg_bytes())
    tags, loose = read_post_tags(post)
    assert names(tags[post / "uitje.jpg"].tags) == ["Zoë"]
    assert names(tags[post / "uitje.png"].tags) == ["Zoë"]
    assert tags[post / "ander.jpg"].tags == () and loose == ()


def test_sidecar_without_photo_is_reported(post):
    (post / "a.jpg").write_bytes(jpeg_bytes())
    (post / "weg.jpg.xmp").write_bytes(xmp(regions=["Zoë"]))
    (post / "._a.jpg.xmp").write_bytes(b"\x00\x05\x16\x07 AppleDouble")  # macOS debris: ignored
    tags, loose = read_post_tags(post)
    assert [(p.file.rsplit("/", 1)[-1], p.message) for p in loose] == [
        ("weg.jpg.xmp", "zijbestand hoort bij geen foto in deze map")]
    assert tags[post / "a.jpg"].problems == ()


BAD_SIDECARS = {
    "kapot": (b"<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF>", "geen geldige XML (regel 1"),
    "dtd": (b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'Zo\xc3\xab'>]>"
            + xmp(persons=["&a;"]), "bevat een DTD"),
    "groot": (xmp(persons=["Zoë"]) + b" " * MAX_XMP_BYTES, "te groot"),
    "latin1": (xmp(persons=["Zoë"]).replace("Zoë".encode(), "Zoë".encode("latin-1")),
               "geen UTF-8 tekst"),
    "utf16": ("<?xml version='1.0' encoding='UTF-16'?>".encode("utf-16")
              + xmp(persons=["Zoë"]).decode().encode("utf-16"), "geen UTF-8 tekst"),
    "leeg": (b"", "geen geldige XML"),
}


@pytest.mark.parametrize("case", sorted(BAD_SIDECARS))
def test_unreadable_sidecar_is_a_problem_on_its_photo(post, case):
    data, message = BAD_SIDECARS[case]
    (post / "a.jpg").write_bytes(jpeg_bytes(xmp=xmp(regions=["Zoë", "Sem B.", "Sara"])))
    (post / "a.jpg.xmp").write_bytes(data)
    tags, _ = read_post_tags(post)
    [problem] = tags[post / "a.jpg"].problems
    assert problem.file == str(post / "a.jpg.xmp") and problem.line is None
    assert problem.message.startswith("zijbestand onleesbaar: " + message), problem.message
    assert "Zoë" not in problem.message


def test_symlinked_or_folder_sidecar_is_a_problem(post, tmp_path):
    (post / "a.jpg").write_bytes(jpeg_bytes())
    (post / "b.jpg").write_bytes(jpeg_bytes())
    (tmp_path / "elders.xmp").write_bytes(xmp(persons=["Zoë"]))
    (post / "a.xmp").symlink_to(tmp_path / "elders.xmp")
    (post / "b.jpg.xmp").mkdir()
    tags, _ = read_post_tags(post)
    assert "snelkoppeling" in tags[post / "a.jpg"].problems[0].message
    assert "map" in tags[post / "b.jpg"].problems[0].message


def test_resolve_forms(roster, sections):
    kids = [roster.children[c] for c in sections.get("group", "groep-3").children]
    ok = {t: resolve(Tag(t), kids, "f").child_id for t in
          ["Zoe", "ZOË", "zoë de vries", "Zoë V.", "Zoë de V.", "zoe-devries",
           "Sem B.", "sem k", "Sem Bakker", "sem-kok"]}
    assert ok == {"Zoe": "zoe-devries", "ZOË": "zoe-devries", "zoë de vries": "zoe-devries",
                  "Zoë V.": "zoe-devries", "Zoë de V.": "zoe-devries",
                  "zoe-devries": "zoe-devries", "Sem B.": "sem-bakker", "sem k": "sem-kok",
                  "Sem Bakker": "sem-bakker", "sem-kok": "sem-kok"}


def test_ambiguous_lists_candidates_in_dutch(roster, sections):
    kids = [roster.children[c] for c in sections.get("group", "groep-3").children]
    r = resolve(Tag("Sem", Source("fotos.txt", "content/x/fotos.txt", 4)), kids, "", "Groep 3")
    assert r.child_id is None and r.kind == "ambiguous"
    assert "bedoel je Sem B. of Sem K.?" in r.problem.message
    assert (r.problem.file, r.problem.line) == ("content/x/fotos.txt", 4)


def test_unknown_suggests_closest_and_other_groups_are_unknown(roster, sections):
    kids = [roster.children[c] for c in sections.get("group", "groep-3").children]
    r = resolve(Tag("Zoy"), kids, "a.jpg")
    assert r.kind == "unknown" and "Zoë" in r.problem.fix and r.problem.line is None
    # Eliška is in groep-4: on a groep-3 page she is unknown, whatever her consent
    assert resolve(Tag("Eliška"), kids, "a.jpg").kind == "unknown"


def test_short_label_keeps_particles(roster):
    assert short_label(roster.children["zoe-devries"]) == "Zoë de V."
    assert short_label(roster.children["sem-bakker"]) == "Sem B."


def test_identical_full_names_are_ambiguous_and_listed_by_id():
    from plugins.roster import Child

    twins = [Child("sem-1", "Sem", "Bakker", "g", None), Child("sem-2", "Sem", "Bakker", "g", None)]
    r = resolve(Tag("Sem Bakker"), twins, "a.jpg")
    assert r.kind == "ambiguous" and "sem-1" in r.problem.message and "sem-2" in r.problem.message
    assert resolve(Tag("sem-2"), twins, "a.jpg").child_id == "sem-2"


def test_name_lookup_follows_every_roster_change():
    """The lookup is kept per audience; a renamed or departed child is never matched by an old one."""
    from plugins.roster import Child

    sem, noor = Child("kind-1", "Sem", "Bakker", "g", None), Child("kind-2", "Noor", "Kok", "g", None)
    assert resolve(Tag("Sem B."), [sem, noor], "a.jpg").child_id == "kind-1"
    daan = Child("kind-1", "Daan", "Bakker", "g", None)
    assert resolve(Tag("Sem B."), [daan, noor], "a.jpg").kind == "unknown"
    assert resolve(Tag("Daan"), [daan, noor], "a.jpg").child_id == "kind-1"
    assert resolve(Tag("Noor"), [daan], "a.jpg").kind == "unknown"
    assert resolve(Tag("Sem B."), [sem, noor], "a.jpg").child_id == "kind-1"
