"""The login page in headless Chromium: a parent's link sets exactly their cookie sets."""

from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cf_helpers import cf_settings

from plugins.public_pages import render_login_assets
from publish.targets.cloudfront.links import link_fragment, login_link


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Rendered login assets and stub pages, served on 127.0.0.1 with a request log."""
    root = tmp_path_factory.mktemp("site")
    render_login_assets(root, school_name="Kc de Matrix", target="cloudfront")
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
def page(browser):
    """A fresh browser profile: no cookies yet."""
    context = browser.new_context()
    try:
        yield context.new_page()
    finally:
        context.close()


def local_url(base: str, link_url: str) -> str:
    return base + "/login/#" + link_url.split("#", 1)[1]


def test_parent_link_sets_cookie_set_per_readable_section(site, settings, page, roster,
                                                          section_map):
    base, log = site
    parent = roster.person("ouder-001")  # children in groep-3 and groep-5-6
    link = login_link(parent, section_map, settings)
    log.clear()
    page.goto(local_url(base, link.url))
    page.wait_for_url(base + "/gezin/68amruh9btpfys3dk9wr/")
    assert page.locator("body").inner_text() == "thuis"

    by_path: dict[str, dict[str, str]] = {}
    for c in page.context.cookies():
        by_path.setdefault(c["path"], {})[c["name"]] = c["value"]
        assert c["secure"] and c["sameSite"] == "Lax" and c["expires"] > 0  # kept, not a session one
    expected = {s.prefix for s in section_map.readable_by("ouder-001") if s.protected}
    assert expected == {"/school/", "/groep/groep-3/", "/groep/groep-5-6/",
                        "/gezin/68amruh9btpfys3dk9wr/"}
    assert set(by_path) == expected
    for cookie_set in link.cookie_sets:  # the policy rebuilt in JS matches Python's
        assert by_path[cookie_set.prefix] == cookie_set.cookies

    assert log, "the server saw no requests"
    assert not [line for line in log if "#" in line or "CloudFront-" in line
                or "Signature" in line]
    assert page.evaluate("location.hash") == ""


def test_broken_and_expired_links_explain_in_dutch(site, settings, page, roster,
                                                   section_map):
    base, _ = site
    link = login_link(roster.person("ouder-003"), section_map, settings)
    page.goto(local_url(base, link.url)[:-40])  # signature cut off
    status = page.locator("#status.error")
    status.wait_for()
    assert "niet compleet of beschadigd" in status.inner_text()

    expired = [s.__class__(s.prefix, s.policy, s.signature, s.key_pair_id, 1500000000)
               for s in link.cookie_sets]
    page.goto(base + "/login/#" + link_fragment(settings.domain, link.home, tuple(expired)))
    page.locator("#status", has_text="verlopen").wait_for()
    assert page.evaluate("location.hash") == ""
    assert page.context.cookies() == []


def test_directie_gets_one_cookie_set_for_the_whole_site(site, settings, page, roster,
                                                         section_map):
    from publish.targets.cloudfront.links import cookie_prefixes

    assert cookie_prefixes("mt-01", section_map) == ("/",)
    assert "/" not in cookie_prefixes("lk-07", section_map)
    base, _ = site
    link = login_link(roster.person("mt-01"), section_map, settings)
    page.goto(local_url(base, link.url))
    page.wait_for_url(base + link.home)  # staff: own team page
    cookies = {(c["path"], c["name"]): c["value"] for c in page.context.cookies()}
    assert cookies == {("/", name): value for name, value in link.cookie_sets[0].cookies.items()}
