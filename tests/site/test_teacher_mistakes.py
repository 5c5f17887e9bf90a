"""What a hurried teacher may write: nothing escapes its section, errors say what to do."""

from __future__ import annotations

import shutil

import pytest

from plugins.errors import SchoolpleinError
from plugins.site import build
from tests.helpers import ROOT

GROUP3 = "groep/groep-3"
PHOTOS = ROOT / "content" / "groep" / "groep-4" / "2026-10-09-herfstwandeling"


@pytest.fixture
def content(tmp_path):
    dst = tmp_path / "content"
    shutil.copytree(ROOT / "content", dst)
    return dst


def run(tmp_path, content):
    return build(output_path=str(tmp_path / "out"), path=str(content),
                 photo_cache_dir=str(tmp_path / "cache"), photo_audit_dir=str(tmp_path / "audit"))


def fails(tmp_path, content, *fragments):
    with pytest.raises(SchoolpleinError) as info:
        run(tmp_path, content)
    text = info.value.render()
    for fragment in fragments:
        assert fragment in text, text
    return text


def test_a_draft_is_never_written(tmp_path, content):
    (content / GROUP3 / "2026-11-21-concept.md").write_text(
        "Title: Concept\nDate: 2026-11-21\nStatus: draft\n\nGeheim concept.\n")
    run(tmp_path, content)
    assert not [p for p in (tmp_path / "out").rglob("*.html")
                if "Geheim concept" in p.read_text()]


def test_metadata_cannot_move_a_post_or_page(tmp_path, content):
    (content / GROUP3 / "2026-11-21-uitje.md").write_text(
        "Title: Uitje\nDate: 2026-11-21\nSave_as: index.html\nURL: /\nSlug: ../school/x\n\n"
        "Alleen voor groep 3.\n")
    run(tmp_path, content)
    hits = [p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*")
            if p.is_file() and "Alleen voor groep 3." in p.read_text(errors="replace")]
    # (and the editor of who may edit it: its teachers, the directie, who read groep 3)
    editors = tuple(f"team/{sid}/" for sid in ("lk-02", "lk-07", "mt-01", "mt-02"))
    assert hits and all(h.startswith((GROUP3 + "/", *editors)) for h in hits), hits


def test_a_public_page_cannot_take_a_section_address(tmp_path, content):
    (content / "publiek" / "stiekem.md").write_text(
        "Title: Stiekem\nSlug: groep\n\nHallo.\n")
    fails(tmp_path, content, "publiek/stiekem.md", "ongeldig adres 'groep'")


def test_a_public_page_save_as_is_ignored(tmp_path, content):
    (content / "publiek" / "weg.md").write_text(
        "Title: Weg\nSave_as: groep/groep-4/index.html\n\nOpenbaar.\n")
    run(tmp_path, content)
    assert "Openbaar." in (tmp_path / "out" / "weg" / "index.html").read_text()
    assert "Openbaar." not in (tmp_path / "out" / "groep" / "groep-4" / "index.html").read_text()


def test_template_override_is_refused(tmp_path, content):
    (content / GROUP3 / "2026-11-21-sjabloon.md").write_text(
        "Title: Sjabloon\nDate: 2026-11-21\nTemplate: landing\n\nTekst.\n")
    fails(tmp_path, content, "2026-11-21-sjabloon.md", "'Template:' wordt niet ondersteund")


def test_a_symlinked_post_is_refused(tmp_path, content):
    outside = tmp_path / "elders.md"
    outside.write_text("Title: Elders\nDate: 2026-11-21\n\nVan buiten.\n")
    (content / GROUP3 / "2026-11-21-link.md").symlink_to(outside)
    fails(tmp_path, content, "2026-11-21-link.md", "symlink")


def test_a_symlinked_photo_from_another_group_stops_the_build(tmp_path, content):
    post = content / GROUP3 / "2026-10-02-kinderboerderij"
    (post / "geleend.jpg").symlink_to(PHOTOS / "groepsfoto.jpg")
    with (post / "fotos.txt").open("a") as fh:
        fh.write("geleend.jpg: Floor, Jayden, Zoë\n")
    fails(tmp_path, content, "2026-10-02-kinderboerderij/geleend.jpg",
          "snelkoppeling (symlink)")
    assert not (tmp_path / "out").exists()


def test_inline_image_in_markdown_stops_the_build(tmp_path, content):
    (content / GROUP3 / "2026-11-21-inline.md").write_text(
        "Title: Inline\nDate: 2026-11-21\n\n![klas](data:image/jpeg;base64,/9j/4AAQSkZJRg==)\n")
    fails(tmp_path, content, "2026-11-21-inline/index.html", "ingesloten data:-adres")


def test_copied_browser_address_to_another_group_stops_the_build(tmp_path, content, monkeypatch):
    monkeypatch.setenv("SCHOOLPLEIN_SITEURL", "https://ouders.kcdematrix.example.nl")
    (content / GROUP3 / "2026-11-21-tip.md").write_text(
        "Title: Tip\nDate: 2026-11-21\n\nZie [groep 4](https://ouders.kcdematrix.example.nl"
        "/groep/groep-4/2026-10-09-herfstwandeling/).\n")
    fails(tmp_path, content, "2026-11-21-tip/index.html", "andere sectie")


def test_a_post_without_title_stops_the_build_with_the_fix(tmp_path, content):
    (content / GROUP3 / "2026-11-22-zonder-titel.md").write_text(
        "Date: 2026-11-22\n\nWe gingen naar het bos.\n")
    text = fails(tmp_path, content, "groep-3/2026-11-22-zonder-titel.md",
                 "bericht zonder titel", "Title:")
    assert "could not find" not in text  # Pelican's own English line adds nothing
    assert not (tmp_path / "out").exists() or not [
        p for p in (tmp_path / "out").rglob("*.html") if "naar het bos" in p.read_text()]


def test_a_family_post_cannot_take_the_postvak_address(tmp_path, content):
    family = next(p.name for p in (content / "gezin").iterdir())
    (content / "gezin" / family / "postvak.md").write_text(
        "Title: Postvak\nDate: 2026-11-22\n\nDit zou het postvak overschrijven.\n")
    fails(tmp_path, content, f"gezin/{family}/postvak.md", "postvak")
