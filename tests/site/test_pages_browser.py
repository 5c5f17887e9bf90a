"""What a parent sees on a phone: real nginx, real headless Chromium."""

from __future__ import annotations

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
        browser.basic_auth(parent.email, passwords[parent.id])
        browser.as_phone()
        yield base, browser
    finally:
        browser.close()


def test_post_with_photos_renders_on_a_phone_without_javascript_needs(parent_browser):
    base, browser = parent_browser
    browser.send("Emulation.setScriptExecutionDisabled", value=True)
    try:
        browser.load(base + POST)
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
    browser.load(base + POST + "#foto-1")
    shown = browser.evaluate(
        "getComputedStyle(document.getElementById('foto-1')).display !== 'none'")
    hidden = browser.evaluate(
        "getComputedStyle(document.getElementById('foto-2')).display === 'none'")
    assert shown and hidden


def test_family_home_links_the_two_groups(parent_browser, roster):
    base, browser = parent_browser
    family = roster.parents["ouder-001"].family
    browser.load(f"{base}/gezin/{family}/")
    links = json.loads(browser.evaluate(
        "JSON.stringify([...document.querySelectorAll('.tiles a')].map(a => a.textContent))"))
    assert links == ["Schoolnieuws", "Groep 3", "Groep 5/6"]


PAGES = ["/", "/school/", POST, "/groep/groep-3/", "/hulp/", "/groep/groep-4/"]  # last: 403

# Links a finger taps (header, footer, tiles, lists, pager, gallery); links inside running
# text are exempt, as in WCAG's target-size rule.
TARGETS_JS = """JSON.stringify([...document.querySelectorAll(
    'header a, footer a, .tiles a, ul.posts a, .pager a, .crumbs a, .report a, .gallery ul a')]
  .filter(a => a.offsetParent !== null)
  .map(a => { const r = a.getBoundingClientRect();
              return {text: a.textContent.trim().slice(0, 30), w: r.width, h: r.height}; }))"""

# Contrast of the focus ring against the background it is drawn on.
FOCUS_JS = """(() => {
  const lum = c => { const [r, g, b] = c.match(/[0-9.]+/g).slice(0, 3).map(v => {
      v = v / 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const bg = el => { for (; el; el = el.parentElement) { const c = getComputedStyle(el)
      .backgroundColor; if (!/rgba\\(.*, 0\\)$/.test(c) && c !== 'transparent') return c; }
    return 'rgb(255, 255, 255)'; };
  const el = document.activeElement, s = getComputedStyle(el);
  if (el === document.body) return JSON.stringify({text: ""});
  const a = lum(s.outlineColor), b = lum(bg(el.parentElement));
  return JSON.stringify({text: el.textContent.trim().slice(0, 30), style: s.outlineStyle,
                         width: parseFloat(s.outlineWidth),
                         ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)});
})()"""


def press_tab(browser) -> None:
    for kind in ("rawKeyDown", "keyUp"):
        browser.send("Input.dispatchKeyEvent", type=kind, key="Tab", code="Tab",
                     windowsVirtualKeyCode=9)


@pytest.mark.parametrize("path", PAGES)
def test_every_page_leads_home_with_big_tap_targets_and_visible_focus(parent_browser, path):
    base, browser = parent_browser
    browser.load(base + path)
    nav = json.loads(browser.evaluate(
        "JSON.stringify([...document.querySelectorAll('header nav a')].map("
        "a => [a.textContent.trim(), a.getAttribute('href')]))"))
    assert ["Mijn gezin", "/mijn/"] in nav and ["Schoolnieuws", "/school/"] in nav, nav
    small = [t for t in json.loads(browser.evaluate(TARGETS_JS)) if t["w"] < 44 or t["h"] < 44]
    assert not small, small
    checked = 0
    for _ in range(8):
        press_tab(browser)
        focus = json.loads(browser.evaluate(FOCUS_JS))
        if focus["text"] == "":
            continue  # nothing focused yet
        checked += 1
        assert focus["style"] != "none" and focus["width"] >= 2, focus
        assert focus["ratio"] >= 3, focus
    assert checked >= 5


def test_a_group_the_parent_may_not_open_says_so_and_leads_home(parent_browser):
    base, browser = parent_browser
    browser.load(base + "/groep/groep-4/")
    assert "U heeft geen toegang tot deze groep" in browser.evaluate("document.body.innerText")
    browser.evaluate("document.querySelector('main a[href=\"/mijn/\"]').click()")
    browser.wait_for("location.pathname.startsWith('/gezin/')")


def test_landing_page_does_not_offer_groups(parent_browser):
    base, browser = parent_browser
    browser.load(base + "/")
    hrefs = json.loads(browser.evaluate(
        "JSON.stringify([...document.querySelectorAll('main a')].map(a => a.getAttribute('href')))"))
    assert "/mijn/" in hrefs and not [h for h in hrefs if h.startswith("/groep/")], hrefs


def test_family_page_calls_the_school_with_one_tap(parent_browser, roster):
    base, browser = parent_browser
    browser.load(f"{base}/gezin/{roster.parents['ouder-001'].family}/")
    assert browser.evaluate("document.querySelector('a[href^=\"tel:\"]').getAttribute('href')") \
        == "tel:0101234567"
    assert browser.evaluate("!!document.querySelector('header a[href=\"/uitloggen/\"]')")


def test_uitloggen_makes_the_browser_forget_the_login(nginx_site, roster, demo_accounts,
                                                     tmp_path):
    """Basic auth has no session: /uitloggen/ refuses every password, so the browser drops the
    login it kept; the next protected page asks again (401) instead of showing content."""
    base, deploy = nginx_site
    _, passwords = demo_accounts
    parent = roster.parents["ouder-001"]
    browser = Browser(tmp_path / "chromium")
    try:
        browser.as_phone()
        browser.goto_answering_login(f"{base}/school/", parent.email, passwords[parent.id])
        browser.wait_for("document.title.startsWith('Kc de Matrix')")
        assert browser.evaluate("!!document.querySelector('header a[href=\"/uitloggen/\"]')")
        browser.goto_answering_login(f"{base}/uitloggen/", None)  # as the header link does
        browser.wait_for("document.body.innerText.includes('uitgelogd')")
        log = deploy.root / "run" / "access.log"
        before = len(log.read_text().splitlines())
        browser.goto_answering_login(f"{base}/school/", None)
        school = [line for line in log.read_text().splitlines()[before:] if "GET /school/ " in line]
        assert school and all(" 401 " in line for line in school), school  # no login sent
        assert "Schoolnieuws" not in browser.evaluate("document.querySelector('main') ? "
                                                      "document.querySelector('main').innerText : ''")
    finally:
        browser.close()
