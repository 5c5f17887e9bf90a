"""Reading tags (XMP, PNG iTXt, fotos.txt) and resolving names to children."""

from __future__ import annotations

from PIL import Image, PngImagePlugin

from plugins.photo_names import resolve, short_label
from plugins.photo_tags import Tag, parse_sidecar, parse_xmp_names, read_embedded_tags, read_post_tags

from .conftest import XMP_HEAD, XMP_TAIL, jpeg_bytes, xmp


def names(tags):
    return [t.text for t in tags]


def test_mwg_regions_and_person_in_image_from_jpeg():
    data = jpeg_bytes(xmp=xmp(regions=["Zoë", "Sem B."], persons=["Ömer", "Zoë"]))
    tags, errors = read_embedded_tags(data)
    assert errors == []
    assert names(tags) == ["Zoë", "Sem B.", "Ömer"]
    assert tags[0].area == (0.5, 0.5, 0.1, 0.1)


def test_region_attribute_form_and_non_face_regions_ignored():
    packet = (XMP_HEAD + "<mwg-rs:Regions><rdf:Description><mwg-rs:RegionList><rdf:Seq>"
              "<rdf:li><rdf:Description mwg-rs:Name='Noor' mwg-rs:Type='Face'/></rdf:li>"
              "<rdf:li><rdf:Description mwg-rs:Name='Bello' mwg-rs:Type='Pet'/></rdf:li>"
              "</rdf:Seq></mwg-rs:RegionList></rdf:Description></mwg-rs:Regions>"
              + XMP_TAIL).encode()
    assert names(parse_xmp_names(packet)) == ["Noor"]


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
    sc = parse_sidecar(sidecar, {"a.jpg", "b.jpg", "c.jpg", "d.jpg"})
    a = sc.entries["a.jpg"]
    assert names(a.tags) == ["Sem B.", "Zoë", "Ömer"] and a.tags[0].line == 3
    assert sc.entries["b.jpg"].no_children
    assert sc.entries["c.jpg"].problems[0].line == 5
    assert sc.entries["d.jpg"].problems[0].line == 6
    assert [p.line for p in sc.problems] == [7, 8]
    assert all(p.file.endswith("fotos.txt") for p in sc.problems)


def test_sidecar_overrides_embedded(post):
    (post / "a.jpg").write_bytes(jpeg_bytes(xmp=xmp(regions=["Zoë", "Sem B.", "Sara"])))
    (post / "b.jpg").write_bytes(jpeg_bytes(xmp=xmp(regions=["Zoë", "Sem B.", "Sara"])))
    (post / "fotos.txt").write_text("a.jpg: geen herkenbare kinderen\n")
    tags, loose = read_post_tags(post)
    assert loose == ()
    assert tags[post / "a.jpg"].no_children and tags[post / "a.jpg"].tags == ()
    assert tags[post / "a.jpg"].source == "sidecar"
    assert names(tags[post / "b.jpg"].tags) == ["Zoë", "Sem B.", "Sara"]


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
    r = resolve(Tag("Sem", 4), kids, "content/x/fotos.txt", "Groep 3")
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
