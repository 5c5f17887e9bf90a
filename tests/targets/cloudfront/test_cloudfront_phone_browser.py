"""On a phone (390x844, headless Chromium): log in by link, "Mijn gezin", log out.

The site is served by signed_cookie_site.SignedCookieSite, which refuses protected
pages as CloudFront does without a valid signed cookie set.
"""

from __future__ import annotations

import shutil
import time

import pytest
from cf_helpers import cf_settings
from signed_cookie_site import SignedCookieSite

from plugins.public_pages import render_login_assets
from publish.targets.cloudfront.links import login_link
from publish.targets.cloudfront.signing import load_private_key
from tests.browser import CHROMIUM, Browser

assert shutil.which(CHROMIUM), "chromium ontbreekt: voer scripts/bootstrap.sh uit"
KEY_ID = "K2PHONETEST"
FAMILY = "/gezin/68amruh9btpfys3dk9wr/"


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    return cf_settings(tmp_path_factory.mktemp("cf"), CLOUDFRONT_KEY_PAIR_ID=KEY_ID)


@pytest.fixture(scope="module")
def site(tmp_path_factory, settings, section_map):
    root = tmp_path_factory.mktemp("site")
    render_login_assets(root, school_name="Kc de Matrix")
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
def phone(tmp_path):
    browser = Browser(tmp_path / "profile")
    try:
        browser.as_phone(scale=3)
        yield browser
    finally:
        browser.close()


def login_cookies(phone, expect_none: bool = False) -> list[dict]:
    """CloudFront cookies in the browser's store (which lags document.cookie a little)."""
    deadline = time.monotonic() + 5
    while True:
        found = [c for c in phone.cookies() if c["name"].startswith("CloudFront-")]
        if not (expect_none and found) or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def open_link(phone, site, url: str) -> None:
    phone.goto(site.url + "/login/#" + url.split("#", 1)[1])


def heading(phone) -> str:
    return phone.evaluate("document.querySelector('h1') && document.querySelector('h1')"
                          ".textContent") or ""


def test_parent_logs_in_finds_their_family_and_logs_out(phone, site, settings, roster,
                                                        section_map):
    link = login_link(roster.person("ouder-001"), section_map, settings)
    open_link(phone, site, link.url)
    phone.wait_for(f"location.pathname === '{FAMILY}'")
    phone.wait_for(f"document.querySelector('h1').textContent === '{FAMILY}'")

    phone.goto(site.url + "/groep/groep-3/")  # another of the family's sections
    phone.wait_for("document.querySelector('h1').textContent === '/groep/groep-3/'")
    phone.goto(site.url + "/")
    phone.wait_for("document.title === 'Voorpagina'")
    phone.goto(site.url + "/mijn/")  # "Mijn gezin" from anywhere
    phone.wait_for(f"location.pathname === '{FAMILY}'")
    phone.wait_for(f"document.querySelector('h1').textContent === '{FAMILY}'")

    phone.goto(site.url + "/uitloggen/")
    phone.wait_for("document.getElementById('status').textContent.includes('U bent uitgelogd')")
    assert phone.evaluate("window.innerWidth") == 390  # the theme's page, phone layout
    assert login_cookies(phone, expect_none=True) == []
    phone.goto(site.url + FAMILY)
    phone.wait_for("document.body && document.body.textContent.includes("
                   "'Niet (meer) ingelogd')")
    assert (FAMILY, 403) in site.log
    phone.goto(site.url + "/mijn/")
    phone.wait_for("document.getElementById('status').className === 'info'")
    assert "niet (meer) ingelogd" in phone.evaluate(
        "document.getElementById('status').textContent")
    assert phone.evaluate("location.pathname") == "/mijn/"


def test_teacher_scans_every_part_and_logging_out_clears_them_all(phone, site, settings,
                                                                   roster, section_map):
    link = login_link(roster.person("lk-02"), section_map, settings)
    assert len(link.parts) > 1
    families = [s.prefix for s in section_map.readable_by("lk-02") if s.kind == "family"]
    for part in link.parts[:-1]:
        open_link(phone, site, part.url)
        phone.wait_for("document.getElementById('status').textContent.includes("
                       f"'Deel {part.number} van {part.of} is gelukt')")
    open_link(phone, site, link.parts[-1].url)
    phone.wait_for(f"location.pathname === '{link.home}'")  # staff: own team page
    paths = {c["path"] for c in login_cookies(phone)}
    assert paths == {c.prefix for c in link.cookie_sets}
    phone.goto(site.url + families[-1])  # a family page from the last part
    phone.wait_for(f"document.querySelector('h1').textContent === '{families[-1]}'")

    phone.goto(site.url + "/uitloggen/")
    phone.wait_for("document.getElementById('status').textContent.includes('U bent uitgelogd')")
    assert login_cookies(phone, expect_none=True) == []
    for path in ("/school/", families[0], families[-1]):
        phone.goto(site.url + path)
        phone.wait_for("document.body && document.body.textContent.includes("
                       "'Niet (meer) ingelogd')")
