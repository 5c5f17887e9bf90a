"""On a phone (390x844, headless Chromium): log in by link, "Mijn gezin", log out.

The site is served by signed_cookie_site.SignedCookieSite, which refuses protected
pages as CloudFront does without a valid signed cookie set.
"""

from __future__ import annotations

import time

import pytest
from cf_helpers import cf_settings
from signed_cookie_site import SignedCookieSite

from plugins.public_pages import render_login_assets
from publish.targets.cloudfront.links import login_link
from publish.targets.cloudfront.signing import load_private_key
from tests.chromium import capture_errors, phone

KEY_ID = "K2PHONETEST"
FAMILY = "/gezin/68amruh9btpfys3dk9wr/"


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    return cf_settings(tmp_path_factory.mktemp("cf"), CLOUDFRONT_KEY_PAIR_ID=KEY_ID)


@pytest.fixture(scope="module")
def site(tmp_path_factory, settings, section_map):
    root = tmp_path_factory.mktemp("site")
    render_login_assets(root, school_name="Kc de Matrix", target="cloudfront")
    (root / "index.html").write_text("<!doctype html><title>Voorpagina</title>voorpagina")
    for section in section_map.protected:
        (root / section.dir).mkdir(parents=True, exist_ok=True)
        (root / section.dir / "index.html").write_text(
            f"<!doctype html><title>{section.title}</title><h1>{section.prefix}</h1>")
    public = load_private_key(settings.private_key_file).public_key()
    server = SignedCookieSite(root, settings.domain, {KEY_ID: public})
    yield server
    server.stop()


@pytest.fixture
def page(browser):
    context = phone(browser, device_scale_factor=3)
    try:
        yield context.new_page()
    finally:
        context.close()


def login_cookies(page, expect_none: bool = False) -> list[dict]:
    """CloudFront cookies in the browser's store (which lags document.cookie a little)."""
    deadline = time.monotonic() + 5
    while True:
        found = [c for c in page.context.cookies() if c["name"].startswith("CloudFront-")]
        if not (expect_none and found) or time.monotonic() > deadline:
            return found
        page.wait_for_timeout(50)


def open_link(page, site, url: str) -> None:
    page.goto(site.url + "/login/#" + url.split("#", 1)[1])


def heading(page, text: str) -> None:
    page.locator("h1", has_text=text).wait_for()


def refused(page, site, path: str) -> None:
    """`path` answers with the 403 page: not logged in (any more)."""
    answer = page.goto(site.url + path)
    assert answer.status == 403
    assert "Niet (meer) ingelogd" in page.locator("main").inner_text()


def test_parent_logs_in_finds_their_family_and_logs_out(page, site, settings, roster,
                                                        section_map):
    errors = capture_errors(page)
    link = login_link(roster.person("ouder-001"), section_map, settings)
    open_link(page, site, link.url)
    page.wait_for_url(site.url + FAMILY)
    heading(page, FAMILY)

    page.goto(site.url + "/groep/groep-3/")  # another of the family's sections
    heading(page, "/groep/groep-3/")
    page.goto(site.url + "/")
    assert page.title() == "Voorpagina"
    page.goto(site.url + "/mijn/")  # "Mijn gezin" from anywhere
    page.wait_for_url(site.url + FAMILY)
    heading(page, FAMILY)

    page.goto(site.url + "/uitloggen/")
    page.locator("#status", has_text="U bent uitgelogd").wait_for()
    assert page.evaluate("window.innerWidth") == 390  # the theme's page, phone layout
    assert login_cookies(page, expect_none=True) == []
    refused(page, site, FAMILY)
    assert (FAMILY, 403) in site.log
    page.goto(site.url + "/mijn/")
    status = page.locator("#status.info")
    status.wait_for()
    assert "niet (meer) ingelogd" in status.inner_text()
    assert page.evaluate("location.pathname") == "/mijn/"
    assert [e for e in errors if e.startswith("script")] == []  # (the stub site has no theme)


def test_teacher_scans_every_part_and_logging_out_clears_them_all(page, site, settings,
                                                                   roster, section_map):
    link = login_link(roster.person("lk-02"), section_map, settings)
    assert len(link.parts) > 1
    families = [s.prefix for s in section_map.readable_by("lk-02") if s.kind == "family"]
    for part in link.parts[:-1]:
        open_link(page, site, part.url)
        page.locator("#status", has_text=f"Deel {part.number} van {part.of} is gelukt").wait_for()
    open_link(page, site, link.parts[-1].url)
    page.wait_for_url(site.url + link.home)  # staff: own team page
    paths = {c["path"] for c in login_cookies(page)}
    assert paths == {c.prefix for c in link.cookie_sets}
    page.goto(site.url + families[-1])  # a family page from the last part
    heading(page, families[-1])

    page.goto(site.url + "/uitloggen/")
    page.locator("#status", has_text="U bent uitgelogd").wait_for()
    assert login_cookies(page, expect_none=True) == []
    for path in ("/school/", families[0], families[-1]):
        refused(page, site, path)
