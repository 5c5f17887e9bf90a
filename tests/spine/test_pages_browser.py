"""What a parent sees on a phone: real nginx, real headless Chromium."""

from __future__ import annotations

import base64
import json

import pytest

from tests.browser import Browser

POST = "/groep/groep-3/2026-10-02-kinderboerderij/"


@pytest.fixture(scope="module")
def parent_browser(nginx_site, roster, demo_accounts, tmp_path_factory):
    base, _ = nginx_site
    _, passwords = demo_accounts
    parent = roster.parents["ouder-001"]
    browser = Browser(tmp_path_factory.mktemp("chromium"))
    try:
        token = base64.b64encode(f"{parent.email}:{passwords[parent.id]}".encode()).decode()
        browser.send("Network.enable")
        browser.send("Network.setExtraHTTPHeaders", headers={"Authorization": f"Basic {token}"})
        browser.send("Emulation.setDeviceMetricsOverride", width=390, height=844,
                     deviceScaleFactor=2, mobile=True)
        yield base, browser
    finally:
        browser.close()


def load(browser, url):
    browser.goto(url)
    browser.wait_for("document.readyState === 'complete'")


def test_post_with_photos_renders_on_a_phone_without_javascript_needs(parent_browser):
    base, browser = parent_browser
    browser.send("Emulation.setScriptExecutionDisabled", value=True)
    try:
        load(browser, base + POST)
        browser.send("Emulation.setScriptExecutionDisabled", value=False)
        # Lazy images below the fold: scroll through the gallery, then wait for every image.
        browser.evaluate("document.querySelectorAll('.gallery img').forEach("
                         "i => i.loading = 'eager')")
        browser.wait_for("[...document.images].every(i => i.complete)")
        state = json.loads(browser.evaluate("""JSON.stringify({
            title: document.title,
            images: [...document.querySelectorAll('.gallery ul img')].map(i => ({
                src: i.currentSrc, w: i.naturalWidth, alt: i.alt})),
            resources: performance.getEntriesByType('resource').map(r => r.name),
            overflow: document.documentElement.scrollWidth > window.innerWidth,
            report: !!document.querySelector('.report a[href^="mailto:"]'),
        })"""))
    finally:
        browser.send("Emulation.setScriptExecutionDisabled", value=False)
    assert "kinderboerderij" in state["title"]
    assert len(state["images"]) >= 3
    for image in state["images"]:
        assert image["w"] > 0, image  # loaded through basic auth, allowed by the CSP
        assert image["src"].startswith(base + "/groep/groep-3/fotos/")
        assert image["alt"].startswith("Foto ")
    assert all(r.startswith(base + "/") for r in state["resources"]), state["resources"]
    assert not state["overflow"]
    assert state["report"]


def test_lightbox_opens_as_a_plain_link(parent_browser):
    base, browser = parent_browser
    load(browser, base + POST + "#foto-1")
    shown = browser.evaluate(
        "getComputedStyle(document.getElementById('foto-1')).display !== 'none'")
    hidden = browser.evaluate(
        "getComputedStyle(document.getElementById('foto-2')).display === 'none'")
    assert shown and hidden


def test_family_home_links_the_two_groups(parent_browser, roster):
    base, browser = parent_browser
    family = roster.parents["ouder-001"].family
    load(browser, f"{base}/gezin/{family}/")
    links = json.loads(browser.evaluate(
        "JSON.stringify([...document.querySelectorAll('.tiles a')].map(a => a.textContent))"))
    assert links == ["Schoolnieuws", "Groep 3", "Groep 5/6"]
