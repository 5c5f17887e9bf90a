"""Every output file lies in exactly one section, and no page carries another's content."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from plugins.errors import SchoolpleinError
from plugins.output_check import check_output

ROOT = Path(__file__).resolve().parents[2]


def files(output: Path):
    return sorted(p for p in output.rglob("*") if p.is_file())


def test_every_file_lies_under_a_known_section(demo_build, sections):
    output, _ = demo_build
    known = {s.dir for s in sections.protected}
    public_tops = {"index.html", "robots.txt", "401.html", "403.html", "404.html", "theme",
                   "hulp", "privacy", "login", "uitloggen", "mijn"}
    for path in files(output):
        rel = path.relative_to(output).as_posix()
        section = sections.for_path(rel)
        if section.protected:
            assert any(rel.startswith(k + "/") for k in known), rel
        else:
            assert rel.split("/", 1)[0] in public_tops, rel


def _section_content(output, sections, demo_build):
    """Titles and URLs of each section's posts, as the build made them."""
    _, settings = demo_build
    content = {}
    for section in sections.protected:
        if section.kind == "team":
            continue  # no posts of its own
        titles, urls = set(), set()
        for page in (output / section.dir).rglob("index.html"):
            rel = page.relative_to(output).as_posix()
            if rel.count("/") > section.dir.count("/") + 1:
                m = re.search(r"<h1>(.*?)</h1>", page.read_text(encoding="utf-8"))
                titles.add(m.group(1))
                urls.add("/" + rel.removesuffix("index.html"))
        for photo in (output / section.dir / "fotos").glob("*") if (
                output / section.dir / "fotos").exists() else []:
            urls.add("/" + photo.relative_to(output).as_posix())
        content[section] = (titles, urls)
    return content


def test_no_page_names_content_of_another_section(demo_build, sections):
    output, _ = demo_build
    content = _section_content(output, sections, demo_build)
    assert sum(len(t) for t, _ in content.values()) >= 20
    for path in files(output):
        if path.suffix not in (".html", ".atom", ".txt", ".css", ".js"):
            continue
        rel = path.relative_to(output).as_posix()
        own = sections.for_path(rel)
        text = path.read_text(encoding="utf-8")
        for section, (titles, urls) in content.items():
            if section == own or (own.kind in ("team", "staff") and own.readers <= section.readers):
                continue  # a team page lists its reader's posts, a staff list its group's posts
            for title in titles:
                assert title not in text, (rel, section.prefix, title)
            for url in urls:
                assert url not in text, (rel, url)


def test_no_page_carries_body_text_of_another_section(demo_build, sections):
    """Paragraphs that belong to exactly one section never show up outside it."""
    output, _ = demo_build
    owner: dict[str, set] = {}
    for section in sections.protected:
        for page in (output / section.dir).glob("*/index.html"):
            article = re.search(r'<article class="post">(.*?)</article>',
                                page.read_text(encoding="utf-8"), re.S)
            for para in re.findall(r"<p>(.{40,}?)</p>", article.group(1) if article else "", re.S):
                owner.setdefault(para, set()).add(section)
    unique = {para: next(iter(owners)) for para, owners in owner.items() if len(owners) == 1}
    assert len(unique) >= 10
    for path in files(output):
        if path.suffix not in (".html", ".atom"):
            continue
        own = sections.for_path(path.relative_to(output).as_posix())
        text = path.read_text(encoding="utf-8")
        for para, section in unique.items():
            if section != own and not (own.kind == "team" and own.readers <= section.readers):
                assert para not in text, (path, section.prefix, para[:60])


def test_no_roster_data_secret_or_hash_in_output(demo_build, roster, demo_accounts):
    output, _ = demo_build
    private, passwords = demo_accounts
    hashes = [line.split(",")[2] for line in (private / "accounts.csv").read_text().splitlines()[1:]]
    emails = {p.email for p in roster.people()} - {"directie@kcdematrix.example.nl"}
    full_names = {c.full_name for c in roster.children.values()}
    blob = "\n".join(p.read_bytes().decode("utf-8", "replace") for p in files(output))
    for needle in [*emails, *full_names, *passwords.values(), *hashes]:
        assert needle not in blob, needle
    for csv_file in (ROOT / "roster").glob("*.csv"):
        assert not list(output.rglob(csv_file.name))
    assert "$2b$" not in blob


def test_family_ids_appear_only_inside_their_own_section(demo_build, sections):
    output, _ = demo_build
    families = [s for s in sections if s.kind == "family"]
    for path in files(output):
        rel = path.relative_to(output).as_posix()
        text = path.read_text(encoding="utf-8", errors="replace")
        own = sections.for_path(rel)
        for fam in families:
            if fam != own:
                assert fam.key not in text, (rel, fam.key)


def test_every_page_is_noindex_and_loads_nothing_from_elsewhere(demo_build):
    output, _ = demo_build
    pages = [p for p in files(output) if p.suffix == ".html"]
    assert pages
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert '<meta name="robots" content="noindex' in html, page
        for url in re.findall(r"""(?:src|href)=["']([^"']+)""", html):
            assert not re.match(r"^(https?:)?//", url), (page, url)


def test_every_post_has_a_report_link_to_the_directie(demo_build, sections):
    output, _ = demo_build
    posts = [p for s in sections.protected if s.kind != "team"  # staff pages, no posts
             for p in (output / s.dir).glob("*/index.html") if p.parent.name not in ("fotos", "pagina")]
    assert len(posts) >= 20
    for post in posts:
        assert "mailto:directie@kcdematrix.example.nl" in post.read_text(encoding="utf-8")


def test_parent_home_page_links_exactly_the_family_sections(demo_build, sections, roster):
    output, _ = demo_build
    parent = roster.parents["ouder-001"]
    home = (output / f"gezin/{parent.family}/index.html").read_text(encoding="utf-8")
    linked = set(re.findall(r'href="(/groep/[^"]+/)"', home))
    expected = {f"/groep/{roster.children[c].group}/" for c in parent.children}
    assert linked == expected
    assert "/school/" in home


def test_build_check_rejects_a_file_outside_every_section(demo_build, sections, tmp_path):
    output = tmp_path / "out"
    (output / "groep" / "groep-99").mkdir(parents=True)
    (output / "groep" / "groep-99" / "index.html").write_text("<p>x</p>")
    (output / "kiekjes").mkdir()
    (output / "kiekjes" / "a.jpg").write_bytes(b"x")
    (output / "school").mkdir()
    (output / "school" / "index.html").write_text('<a href="/groep/groep-3/fotos/a.jpg">x</a>')
    with pytest.raises(SchoolpleinError) as info:
        check_output(output, sections)
    text = info.value.render()
    assert "groep-99/index.html" in text and "buiten iedere bekende sectie" in text
    assert "kiekjes/a.jpg" in text and "foto in het openbare deel" in text
    assert "verwijst naar inhoud van een andere sectie" in text


def test_build_check_rejects_family_ids_and_stray_images(sections, tmp_path):
    family = next(s for s in sections if s.kind == "family")
    output = tmp_path / "out"
    (output / "groep" / "groep-3" / "fotos").mkdir(parents=True)
    (output / "groep" / "groep-3" / "index.html").write_text(
        f'<a href="/gezin/{family.key}/">gezin</a><img src="https://tracker.example/p.gif">'
        '<a href="https://www.museum.example/">museum</a>')
    (output / "groep" / "groep-3" / "klasfoto.jpg").write_bytes(b"x")
    (output / "groep" / "groep-3" / "fotos" / "origineel.jpg").write_bytes(b"x")
    (output / "groep" / "groep-3" / "fotos" / ("a" * 20 + "-1600.jpg")).write_bytes(b"x")
    with pytest.raises(SchoolpleinError) as info:
        check_output(output, sections)
    text = info.value.render()
    assert "groep-3/index.html" in text and "id van een gezinspagina" in text
    assert "verwijst naar inhoud van een andere sectie" in text  # not even the family's root
    assert "groep-3/klasfoto.jpg" in text and "fotos/origineel.jpg" in text
    assert "a" * 20 + "-1600.jpg" not in text
    assert "andere website (https://tracker.example/p.gif)" in text
    assert "museum.example" not in text  # a plain link to a website is fine


SNEAKY = [
    '<a href="https://ouders.kcdematrix.example.nl/groep/groep-4/2026-10-09-herfstwandeling/">x</a>',
    '<a href="../../groep-4/2026-10-09-herfstwandeling/">x</a>',
    '<img src="../../groep-4/fotos/0123456789abcdef0123-480.jpg">',
    "<a href=/groep/groep-4/feed.atom>x</a>",
    '<a href="&#47;groep&#47;groep-4&#47;2026-10-09-herfstwandeling&#47;">x</a>',
    '<a href="/groep/groep%2D4/2026-10-09-herfstwandeling/">x</a>',
    '<meta http-equiv="refresh" content="0; url=/groep/groep-4/2026-10-09-herfstwandeling/">',
    '<object data="/groep/groep-4/fotos/0123456789abcdef0123-480.jpg"></object>',
    '<img src="data:image/jpeg;base64,/9j/4AAQSkZJRg==">',
    '<iframe src="https://video.example/embed/1"></iframe>',
    '<script src="//cdn.example/x.js"></script>',
    '<link rel="stylesheet" href="https://fonts.example/css">',
]


@pytest.mark.parametrize("html", SNEAKY)
def test_build_check_sees_through_every_way_of_writing_a_url(sections, tmp_path, html,
                                                              monkeypatch):
    monkeypatch.setenv("SCHOOLPLEIN_SITEURL", "https://ouders.kcdematrix.example.nl")
    from plugins.output_check import site_hosts

    page = tmp_path / "out" / "groep" / "groep-3" / "2026-10-02-kinderboerderij" / "index.html"
    page.parent.mkdir(parents=True)
    page.write_text(f"<html><body>{html}</body></html>")
    with pytest.raises(SchoolpleinError) as info:
        check_output(tmp_path / "out", sections, site_hosts({}))
    assert "2026-10-02-kinderboerderij/index.html" in info.value.render()


def test_build_check_allows_navigation_and_plain_links(sections, tmp_path):
    page = tmp_path / "out" / "gezin" / next(s.key for s in sections if s.kind == "family")
    page.mkdir(parents=True)
    (page / "index.html").write_text(
        '<a href="/school/">s</a><a href="../../groep/groep-3/">g</a>'
        '<a href="https://www.museum.example/">m</a><a href="mailto:juf@example.nl">j</a>'
        '<link rel="alternate" href="https://elders.example/feed">')
    check_output(tmp_path / "out", sections)


def test_public_pages_name_nobody_from_the_roster(sections, roster, tmp_path):
    page = tmp_path / "out" / "bedankt" / "index.html"
    page.parent.mkdir(parents=True)
    parent = roster.parents["ouder-003"]
    page.write_text(f"<p>Dank aan {parent.name} (moeder van Sem Bakker)</p>")
    with pytest.raises(SchoolpleinError) as info:
        check_output(tmp_path / "out", sections, roster=roster)
    assert parent.name in info.value.render() and "Sem Bakker" in info.value.render()
