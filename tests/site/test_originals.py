"""Originals never reach the output, whatever a teacher writes in Markdown."""

from __future__ import annotations

import shutil

import pytest
from PIL import Image

from plugins.errors import SchoolpleinError
from plugins.site import build
from tests.helpers import ROOT


@pytest.mark.parametrize("link", ["{static}klasfoto.jpg", "{attach}anim.gif",
                                  "{static}/groep/groep-3/klasfoto.jpg"])
def test_linking_an_original_from_markdown_stops_the_build(tmp_path, link):
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content" / "publiek", content / "publiek")
    group = content / "groep" / "groep-3"
    group.mkdir(parents=True)
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    Image.new("RGB", (64, 48), "red").save(group / "klasfoto.jpg", exif=exif)
    Image.new("RGB", (8, 8), "blue").save(group / "anim.gif")
    (group / "x.md").write_text(f"Title: Uitje\nDate: 2026-10-02\n\n![foto]({link})\n")
    with pytest.raises(SchoolpleinError) as info:
        build(output_path=str(tmp_path / "out"), path=str(content),
              photo_cache_dir=str(tmp_path / "cache"), photo_audit_dir=str(tmp_path / "audit"))
    text = info.value.render()
    assert "originelen worden nooit gepubliceerd" in text
    assert link.split("}")[1].rsplit("/", 1)[-1] in text
    served = [p for p in (tmp_path / "out").rglob("*") if p.suffix in (".jpg", ".gif")]
    assert not served
