"""Pages, styles and scripts go out compressed on nginx and Apache (a phone's slow connection).

nginx serves the .gz files the publish writes beside each page, style, script and feed
(gzip_static) and compresses anything else of those types on the fly; Apache compresses
with mod_deflate. A client that does not ask for gzip gets the plain bytes.
"""

from __future__ import annotations

import gzip

import pytest

from tests.http_client import Client, login_of

PATHS = ["/", "/theme/css/site.css", "/theme/js/postvak.js", "/theme/img/favicon.svg",
         "/uitloggen/uitloggen.js", "/school/", "/school/feed.atom"]


@pytest.fixture(params=["nginx_site", "apache_site"])
def client(request):
    c = Client(request.getfixturevalue(request.param)[0])
    yield c
    c.close()


@pytest.mark.parametrize("path", PATHS)
def test_text_goes_out_gzipped_when_asked_and_plain_otherwise(client, demo_build, roster,
                                                             demo_accounts, path):
    login = login_of(roster.parents["ouder-001"], demo_accounts)
    file = demo_build[0] / (path.lstrip("/") + ("index.html" if path.endswith("/") else ""))
    status, body, headers = client.request("GET", path, login, headers={"Accept-Encoding": "gzip"})
    assert status == 200 and headers.get("Content-Encoding") == "gzip", (path, headers)
    assert gzip.decompress(body) == file.read_bytes()
    assert "Accept-Encoding" in headers.get("Vary", "")
    status, body, headers = client.request("GET", path, login)
    assert status == 200 and "Content-Encoding" not in headers and body == file.read_bytes()


def test_error_pages_go_out_gzipped_too(client, roster, demo_accounts):
    login = login_of(roster.parents["ouder-001"], demo_accounts)
    for path, who, expected in (("/groep/groep-4/", login, 403), ("/school/", None, 401)):
        status, body, headers = client.request("GET", path, who,
                                               headers={"Accept-Encoding": "gzip"})
        assert status == expected and headers.get("Content-Encoding") == "gzip", (path, headers)
        assert b"<h1>" in gzip.decompress(body)


def test_the_nginx_release_holds_precompressed_copies(nginx_site):
    current = nginx_site[1].current
    for name in ("index.html", "theme/css/site.css", "theme/js/postvak.js", "school/index.html"):
        plain, packed = current / name, current / (name + ".gz")
        assert packed.is_file() and gzip.decompress(packed.read_bytes()) == plain.read_bytes()
        assert packed.stat().st_size < plain.stat().st_size
    assert not list(current.rglob("*.jpg.gz")) and not list(current.rglob("*.webp.gz"))
