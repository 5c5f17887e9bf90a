"""What a parent sees on a phone: real nginx, real headless Chromium (Playwright)."""

from __future__ import annotations

import pytest

from tests.chromium import capture_errors, phone

POST = "/groep/groep-3/2026-10-02-kinderboerderij/"


@pytest.fixture(scope="module")
def parent(nginx_site, roster, demo_accounts, browser):
    """A phone on which the demo parent (children in groep 3 and groep 5/6) logged in."""
    base, _ = nginx_site
    _, passwords = demo_accounts
    person = roster.parents["ouder-001"]
    context = phone(browser, login=(person.email, passwords[person.id]))
    try:
        yield base, context.new_page()
    finally:
        context.close()


def test_post_with_photos_renders_on_a_phone_without_javascript_needs(nginx_site, roster,
                                                                      demo_accounts, browser):
    base, _ = nginx_site
    person = roster.parents["ouder-001"]
    context = phone(browser, login=(person.email, demo_accounts[1][person.id]),
                    java_script_enabled=False)
    try:
        page = context.new_page()
        errors = capture_errors(page)
        page.goto(base + POST)
        # Lazy images below the fold: scroll through the gallery until every image loaded.
        for image in page.locator(".gallery ul img").all():
            image.scroll_into_view_if_needed()
        page.wait_for_function("[...document.images].every(i => i.complete)")
        state = page.evaluate("""() => ({
            title: document.title,
            images: [...document.querySelectorAll('.gallery ul img')].map(i => ({
                src: i.currentSrc, w: i.naturalWidth, alt: i.alt})),
            resources: performance.getEntriesByType('resource').map(r => r.name),
            overflow: document.documentElement.scrollWidth > window.innerWidth,
        })""")
        assert page.locator(".report a[href^='mailto:']").is_visible()
    finally:
        context.close()
    assert "kinderboerderij" in state["title"]
    assert len(state["images"]) >= 3
    for image in state["images"]:
        assert image["w"] > 0, image  # loaded through basic auth, allowed by the CSP
        assert image["src"].startswith(base + "/groep/groep-3/fotos/")
        assert image["alt"].startswith("Foto ")
    assert all(r.startswith(base + "/") for r in state["resources"]), state["resources"]
    assert not state["overflow"]
    assert errors == []


def test_lightbox_opens_as_a_plain_link(parent):
    base, page = parent
    page.goto(base + POST)
    page.locator(".gallery ul a[href='#foto-1']").click()
    assert page.locator("#foto-1").is_visible()
    assert not page.locator("#foto-2").is_visible()


def test_family_home_links_the_two_groups(parent, roster):
    base, page = parent
    page.goto(f"{base}/gezin/{roster.parents['ouder-001'].family}/")
    assert page.locator(".tiles a").all_text_contents() == ["Schoolnieuws", "Groep 3",
                                                            "Groep 5/6"]


PAGES = ["/", "/school/", POST, "/groep/groep-3/", "/hulp/", "/groep/groep-4/"]  # last: 403

# Links a finger taps (header, footer, tiles, lists, pager, gallery); links inside running
# text are exempt, as in WCAG's target-size rule.
TARGETS_JS = """() => [...document.querySelectorAll(
    'header a, footer a, .tiles a, ul.posts a, .pager a, .crumbs a, .report a, .gallery ul a')]
  .filter(a => a.offsetParent !== null)
  .map(a => { const r = a.getBoundingClientRect();
              return {text: a.textContent.trim().slice(0, 30), w: r.width, h: r.height}; })"""

# Contrast of the focus ring against the background it is drawn on.
FOCUS_JS = """() => {
  const lum = c => { const [r, g, b] = c.match(/[0-9.]+/g).slice(0, 3).map(v => {
      v = v / 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const bg = el => { for (; el; el = el.parentElement) { const c = getComputedStyle(el)
      .backgroundColor; if (!/rgba\\(.*, 0\\)$/.test(c) && c !== 'transparent') return c; }
    return 'rgb(255, 255, 255)'; };
  const el = document.activeElement, s = getComputedStyle(el);
  if (el === document.body) return {text: ""};
  const a = lum(s.outlineColor), b = lum(bg(el.parentElement));
  return {text: el.textContent.trim().slice(0, 30), style: s.outlineStyle,
          width: parseFloat(s.outlineWidth),
          ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)};
}"""


@pytest.mark.parametrize("path", PAGES)
def test_every_page_leads_home_with_big_tap_targets_and_visible_focus(parent, path):
    base, page = parent
    page.goto(base + path)
    nav = page.eval_on_selector_all("header nav a", "links => links.map("
                                    "a => [a.textContent.trim(), a.getAttribute('href')])")
    assert ["Mijn gezin", "/mijn/"] in nav and ["Schoolnieuws", "/school/"] in nav, nav
    small = [t for t in page.evaluate(TARGETS_JS) if t["w"] < 44 or t["h"] < 44]
    assert not small, small
    checked = 0
    for _ in range(8):
        page.keyboard.press("Tab")
        focus = page.evaluate(FOCUS_JS)
        if focus["text"] == "":
            continue  # nothing focused yet
        checked += 1
        assert focus["style"] != "none" and focus["width"] >= 2, focus
        assert focus["ratio"] >= 3, focus
    assert checked >= 5


def test_a_group_the_parent_may_not_open_says_so_and_leads_home(parent, roster):
    base, page = parent
    answer = page.goto(base + "/groep/groep-4/")
    assert answer.status == 403
    assert page.get_by_role("heading", level=1).inner_text() == \
        "U heeft geen toegang tot deze pagina"
    page.locator("main a[href='/mijn/']").first.click()
    page.wait_for_url(f"{base}/gezin/{roster.parents['ouder-001'].family}/")
    assert page.get_by_role("heading", level=1).inner_text() == "Mijn gezin"


def test_landing_page_does_not_offer_groups(parent):
    base, page = parent
    page.goto(base + "/")
    hrefs = page.eval_on_selector_all("main a", "links => links.map(a => a.getAttribute('href'))")
    assert "/mijn/" in hrefs and not [h for h in hrefs if h.startswith("/groep/")], hrefs


def test_family_page_calls_the_school_with_one_tap(parent, roster):
    base, page = parent
    page.goto(f"{base}/gezin/{roster.parents['ouder-001'].family}/")
    call = page.locator("a[href^='tel:']").first
    assert call.is_visible() and call.get_attribute("href") == "tel:0101234567"
    assert page.locator("header a[href='/uitloggen/']").is_visible()
