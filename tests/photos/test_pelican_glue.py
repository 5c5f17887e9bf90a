"""The Pelican glue in a real (small) Pelican run of our own.

A minimal site: one group post folder with photos, our own tiny theme that
prints article.photos, the roster and section map put in the settings the way
the spine does. Checks article.photos is set before rendering, files land
under the section prefix, originals and fotos.txt never reach the output, and
the audit is written outside it.
"""

from __future__ import annotations

import json
import logging

import pytest
from pelican import Pelican
from pelican.settings import read_settings

from plugins import photos as photos_plugin
from plugins.errors import SchoolpleinError

from .conftest import group_photo, jpeg_bytes

TEMPLATE = """{% for p in article.photos %}{{ p.large_jpeg }}|{{ p.large_webp }}|{{ p.thumb_jpeg }}|\
{{ p.thumb_webp }}|{{ p.width }}x{{ p.height }}|{{ p.thumb_width }}x{{ p.thumb_height }}|\
{{ p.alt }}
{% endfor %}"""


class Spine:
    """The two things the spine provides: roster + sections in settings, article.section."""

    def __init__(self, roster, sections):
        self.roster, self.sections = roster, sections

    def initialized(self, pelican):
        pelican.settings["SCHOOLPLEIN_ROSTER_OBJ"] = self.roster
        pelican.settings["SCHOOLPLEIN_SECTIONS"] = self.sections

    def content(self, instance):
        rel = instance.relative_source_path
        instance.section = self.sections.for_content(rel)


@pytest.fixture
def site(tmp_path, roster, sections):
    from pelican import signals

    content = tmp_path / "content"
    post = content / "groep" / "groep-3" / "2026-10-02-uitje"
    post.mkdir(parents=True)
    (post / "index.md").write_text("Title: Uitje\nDate: 2026-10-02\n\nWe gingen op stap.\n")
    group_photo(post / "a.jpg", ["Zoë", "Sem B.", "Sara"], colour=(10, 200, 10))
    group_photo(post / "b.JPG", ["Zoë", "Sem K.", "Floor"], colour=(200, 10, 10))
    (post / "portret.jpg").write_bytes(jpeg_bytes())
    (post / "fotos.txt").write_text("portret.jpg: Zoë\n")
    (content / "groep" / "groep-3" / "los-bericht.md").write_text(
        "Title: Los\nDate: 2026-10-03\n\nGeen map.\n")
    theme = tmp_path / "theme" / "templates"
    theme.mkdir(parents=True)
    (theme / "article.html").write_text(TEMPLATE)
    for name in ("index", "tag", "category", "author", "archives", "tags", "categories",
                 "authors", "period_archives", "page"):
        (theme / f"{name}.html").write_text("")
    spine = Spine(roster, sections)
    signals.initialized.connect(spine.initialized)
    signals.content_object_init.connect(spine.content)
    yield tmp_path, post
    signals.initialized.disconnect(spine.initialized)
    signals.content_object_init.disconnect(spine.content)


def run(tmp_path, **extra):
    settings = read_settings(None, override={
        "PATH": str(tmp_path / "content"), "OUTPUT_PATH": str(tmp_path / "output"),
        "THEME": str(tmp_path / "theme"), "PLUGINS": [photos_plugin],
        "STATIC_PATHS": [],
        "ARTICLE_URL": "{slug}/", "ARTICLE_SAVE_AS": "{slug}/index.html",
        "ARTICLE_EXCLUDES": [], "SLUGIFY_SOURCE": "basename",
        "FEED_ALL_ATOM": None, "CATEGORY_FEED_ATOM": None, "AUTHOR_FEED_ATOM": None,
        "AUTHOR_FEED_RSS": None, "DIRECT_TEMPLATES": [], "CACHE_CONTENT": False,
        "PHOTO_CACHE_DIR": str(tmp_path / "cache"), "PHOTO_AUDIT_DIR": str(tmp_path / "audit"),
        "PHOTO_WORKERS": 1, "DELETE_OUTPUT_DIRECTORY": True, **extra,
    })
    Pelican(settings).run()
    return tmp_path / "output"


def test_article_photos_and_output(site, caplog):
    tmp_path, post = site
    caplog.set_level(logging.WARNING)
    out = run(tmp_path)
    page = next(p for p in out.rglob("index.html") if "Foto" in p.read_text())
    lines = [ln.split("|") for ln in page.read_text().strip().splitlines()]
    assert len(lines) == 2
    assert [ln[-1] for ln in lines] == ["Foto 1 van 2", "Foto 2 van 2"]
    for ln in lines:
        for url in ln[:4]:
            assert url.startswith("/groep/groep-3/fotos/")
            assert (out / url.lstrip("/")).is_file()
    files = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    photo_files = {f for f in files if f.startswith("groep/groep-3/fotos/")}
    assert len(photo_files) == 8
    assert not any(f.lower().endswith(("a.jpg", "b.jpg", "portret.jpg", "fotos.txt"))
                   for f in files - photo_files), files
    # audit outside output; console names the file and reason, never the child
    audit = json.loads(next((tmp_path / "audit").glob("fotos-*.json")).read_text())
    assert [f["published"] for f in audit["fotos"]] == [True, True, False]
    dropped = [r.getMessage() for r in caplog.records if "niet gepubliceerd" in r.getMessage()]
    assert len(dropped) == 1 and "portret.jpg" in dropped[0] and "Zoë" not in dropped[0]


def test_strict_build_fails(site):
    tmp_path, _ = site
    with pytest.raises(SchoolpleinError, match="portret.jpg"):
        run(tmp_path, PHOTO_STRICT=True)


def test_audit_inside_output_is_refused(site):
    tmp_path, _ = site
    with pytest.raises(SchoolpleinError, match="PHOTO_AUDIT_DIR"):
        run(tmp_path, PHOTO_AUDIT_DIR=str(tmp_path / "output" / "audit"))


def test_leaked_original_fails_the_build(site, monkeypatch):
    """If an original reaches the output by any route, the build fails (last line of defence)."""
    from pelican import signals

    tmp_path, post = site
    signals.static_generator_finalized.disconnect(photos_plugin.on_static)
    monkeypatch.setattr(photos_plugin, "on_static", lambda generator: None)
    with pytest.raises(SchoolpleinError, match="origineel van een foto"):
        run(tmp_path, STATIC_PATHS=["groep"])


def test_careless_static_paths_stop_the_build(site):
    """A widened STATIC_PATHS would copy originals: the build stops and says why."""
    tmp_path, _ = site
    with pytest.raises(SchoolpleinError, match="originelen worden nooit gepubliceerd") as info:
        run(tmp_path, STATIC_PATHS=["groep"])
    assert "a.jpg" in info.value.render() and "STATIC_PATHS" in info.value.render()
    originals = {"a.jpg", "b.JPG", "portret.jpg", "fotos.txt"}
    assert not [p for p in (tmp_path / "output").rglob("*") if p.name in originals]


@pytest.fixture
def school_post(tmp_path):
    """A group post with a photo, both sidecar namings and fotos.txt, in the real configuration."""
    import shutil

    from .conftest import ROOT, xmp

    content = tmp_path / "content"
    shutil.copytree(ROOT / "content" / "publiek", content / "publiek")
    post = content / "groep" / "groep-3" / "2026-10-02-uitje"
    post.mkdir(parents=True)
    (post / "index.md").write_text("Title: Uitje\nDate: 2026-10-02\n\nWe gingen op stap.\n")
    group_photo(post / "a.jpg", ["Zoë", "Sem B."])
    (post / "a.jpg.xmp").write_bytes(xmp(regions=["Sara"]))
    (post / "A.XMP").write_bytes(xmp(persons=["Floor"]))
    (post / "fotos.txt").write_text("a.jpg: Jens\n")
    return content, post


def build_real(tmp_path, content):
    from plugins.site import build

    return build(output_path=str(tmp_path / "out"), path=str(content),
                 photo_cache_dir=str(tmp_path / "cache"), photo_audit_dir=str(tmp_path / "audit"))


def test_real_config_reads_sidecars_and_never_copies_them(tmp_path, school_post):
    content, _ = school_post
    build_real(tmp_path, content)
    files = [p.relative_to(tmp_path / "out").as_posix()
             for p in (tmp_path / "out").rglob("*") if p.is_file()]
    photos = [f for f in files if f.startswith("groep/groep-3/fotos/")]
    assert len(photos) == 4  # five children from four sources: published, re-encoded
    assert not [f for f in files if f.lower().endswith((".xmp", "fotos.txt", "a.jpg"))], files
    audit = next((tmp_path / "audit").glob("fotos-*.json")).read_text()
    for source in ("a.jpg.xmp", "A.XMP", "fotos.txt regel 1", "gezichtslabels in de foto"):
        assert source in audit


@pytest.mark.parametrize("link", ["{static}a.jpg.xmp", "{attach}A.XMP"])
def test_linking_a_sidecar_stops_the_build(tmp_path, school_post, link):
    content, post = school_post
    (post / "index.md").write_text(f"Title: Uitje\nDate: 2026-10-02\n\n[labels]({link})\n")
    with pytest.raises(SchoolpleinError, match="originelen worden nooit gepubliceerd") as info:
        build_real(tmp_path, content)
    assert link.split("}")[1] in info.value.render()
    assert not [p for p in (tmp_path / "out").rglob("*") if p.suffix.lower() == ".xmp"]


def test_pelican_ignores_every_photo_and_tag_file_in_any_case():
    """IGNORE_FILES comes from the one suffix list; Linux matches it case-sensitively."""
    from fnmatch import fnmatch

    from plugins.site import load_settings

    ignored = load_settings()["IGNORE_FILES"]
    for name in ("a.jpg", "B.JPG", "c.Jpeg", "d.heic", "e.HEIF", "f.webp", "g.PNG",
                 "a.jpg.xmp", "A.XMP", "fotos.txt"):
        assert any(fnmatch(name, pattern) for pattern in ignored), name
    assert not any(fnmatch("index.md", pattern) for pattern in ignored)
