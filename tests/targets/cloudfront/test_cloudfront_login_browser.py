"""The login page in headless Chromium: a parent's link sets exactly their cookie sets."""

from __future__ import annotations

import functools
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cf_helpers import cf_settings

from plugins.public_pages import render_login_assets
from publish.targets.cloudfront.links import link_fragment, login_link
from tests.browser import CHROMIUM, Browser

# Chromium is a required test dependency (scripts/bootstrap.sh installs it): no skip.
assert shutil.which(CHROMIUM), "chromium ontbreekt: voer scripts/bootstrap.sh uit"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Rendered login assets and stub pages, served on 127.0.0.1 with a request log."""
    root = tmp_path_factory.mktemp("site")
    render_login_assets(root, school_name="Kc de Matrix")
    for home in ("gezin/68amruh9btpfys3dk9wr", "school"):
        (root / home).mkdir(parents=True)
        (root / home / "index.html").write_text("<!doctype html><title>Thuis</title>thuis")
    log: list[str] = []

    class Handler(SimpleHTTPRequestHandler):
        def log_message(self, fmt, *args):
            log.append(self.requestline)

    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 functools.partial(Handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", log
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    return cf_settings(tmp_path_factory.mktemp("cf"), CLOUDFRONT_KEY_PAIR_ID="K2TEST123")


@pytest.fixture
def browser(tmp_path):
    chromium = Browser(tmp_path / "profile")
    try:
        yield chromium
    finally:
        chromium.close()


def local_url(base: str, link_url: str) -> str:
    return base + "/login/#" + link_url.split("#", 1)[1]


def test_parent_link_sets_cookie_set_per_readable_section(site, settings, browser, roster,
                                                          section_map):
    base, log = site
    parent = roster.person("ouder-001")  # children in groep-3 and groep-5-6
    link = login_link(parent, section_map, settings)
    log.clear()
    browser.goto(local_url(base, link.url))
    browser.wait_for("location.pathname === '/gezin/68amruh9btpfys3dk9wr/'")

    cookies = browser.cookies()
    by_path: dict[str, dict[str, str]] = {}
    for c in cookies:
        by_path.setdefault(c["path"], {})[c["name"]] = c["value"]
        assert c["secure"] and c["sameSite"] == "Lax" and not c["session"]
    expected = {s.prefix for s in section_map.readable_by("ouder-001") if s.protected}
    assert expected == {"/school/", "/groep/groep-3/", "/groep/groep-5-6/",
                        "/gezin/68amruh9btpfys3dk9wr/"}
    assert set(by_path) == expected
    for cookie_set in link.cookie_sets:  # the policy rebuilt in JS matches Python's
        assert by_path[cookie_set.prefix] == cookie_set.cookies

    assert log, "the server saw no requests"
    assert not [line for line in log if "#" in line or "CloudFront-" in line
                or "Signature" in line]
    assert browser.evaluate("location.hash") == ""


def test_broken_and_expired_links_explain_in_dutch(site, settings, browser, roster,
                                                   section_map):
    base, _ = site
    link = login_link(roster.person("ouder-003"), section_map, settings)
    browser.goto(local_url(base, link.url)[:-40])  # signature cut off
    browser.wait_for("document.getElementById('status').className === 'error'")
    assert "niet compleet of beschadigd" in browser.evaluate(
        "document.getElementById('status').textContent")

    expired = [s.__class__(s.prefix, s.policy, s.signature, s.key_pair_id, 1500000000)
               for s in link.cookie_sets]
    browser.goto(base + "/login/#" + link_fragment(settings.domain, link.home, tuple(expired)))
    browser.wait_for("document.getElementById('status').textContent.includes('verlopen')")
    assert browser.evaluate("location.hash") == ""
    assert browser.cookies() == []


def test_directie_gets_one_cookie_set_for_the_whole_site(site, settings, browser, roster,
                                                         section_map):
    from publish.targets.cloudfront.links import cookie_prefixes

    assert cookie_prefixes("mt-01", section_map) == ("/",)
    assert "/" not in cookie_prefixes("lk-07", section_map)
    base, _ = site
    link = login_link(roster.person("mt-01"), section_map, settings)
    browser.goto(local_url(base, link.url))
    browser.wait_for(f"location.pathname === '{link.home}'")  # staff: own team page
    cookies = {(c["path"], c["name"]): c["value"] for c in browser.cookies()}
    assert cookies == {("/", name): value for name, value in link.cookie_sets[0].cookies.items()}
