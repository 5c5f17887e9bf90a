"""Real nginx with the generated config: who gets which section, all pairs."""

from __future__ import annotations

import pytest

from publish import headers
from tests.helpers import cache_cases
from tests.http_client import Client, get_many, login_of


@pytest.fixture(scope="module")
def client(nginx_site):
    c = Client(nginx_site[0])
    yield c
    c.close()


def test_every_principal_times_every_section(nginx_site, roster, sections, demo_accounts):
    _, passwords = demo_accounts
    cases = [("anoniem", section, None, 401 if section.protected else 200)
             for section in sections]
    for person in roster.people():
        login = (person.email, passwords[person.id])
        cases += [(person.id, section, login,
                   200 if not section.protected or person.id in section.readers else 403)
                  for section in sections]
    statuses = get_many(nginx_site[0], [(section.prefix, login) for _, section, login, _ in cases])
    failures = [(who, section.prefix, status, expected)
                for (who, section, _, expected), status in zip(cases, statuses, strict=True)
                if status != expected]
    assert len(cases) > 3000
    assert not failures, failures[:20]


def test_wrong_password_and_unknown_user_get_401(client, roster, demo_accounts):
    _, passwords = demo_accounts
    parent = roster.parents["ouder-001"]
    assert client.get("/school/", (parent.email, passwords["ouder-001"] + "x"))[0] == 401
    assert client.get("/school/", ("onbekend@example.nl", passwords["ouder-001"]))[0] == 401
    assert client.get("/school/", (parent.email.upper(), passwords["ouder-001"]))[0] == 401


def test_a_parent_with_children_in_two_groups_reads_both(client, roster, sections,
                                                          demo_accounts):
    _, passwords = demo_accounts
    parent = roster.parents["ouder-001"]
    groups = {roster.children[c].group for c in parent.children}
    assert len(groups) == 2
    login = (parent.email, passwords[parent.id])
    for slug in groups:
        status, body, _ = client.get(f"/groep/{slug}/", login)
        assert status == 200 and roster.groups[slug].name.encode() in body


def client_base(client) -> str:
    return f"http://{client.host}:{client.port}"


def _content_pages(output, section):
    return sorted(p.relative_to(output).as_posix() for p in (output / section.dir).rglob("*")
                  if p.is_file())


TRICKS = [
    "/groep/groep-3/../groep-4/",
    "/groep/groep-3/%2e%2e/groep-4/",
    "/groep/groep-3/%2E%2E/groep-4/index.html",
    "//groep/groep-4/",
    "/groep//groep-4/",
    "/groep/./groep-4/",
    "/school/../groep/groep-4/",
    "/groep%2fgroep-4/",
    "/GROEP/groep-4/",
    "/Groep/Groep-4/",
    "/groep/groep-4",
    "/groep/groep-4//",
    "/groep/groep-4/index.html",
    "/groep/groep-4/feed.atom",
    "/groep/groep-4/fotos/",
    "/groep/groep-4/2026-10-09-herfstwandeling",
    "/groep/groep-4/2026-10-09-herfstwandeling/",
    "/groep/groep-4/2026-10-09-herfstwandeling/index.html",
    "/groep/groep-4/2026-10-09-herfstwandeling/index.md",
    "/groep/groep-4/.htaccess",
    "/groep/groep-4/index.html?x=1",
    "/groep/groep-4/index.html%00.txt",
]


@pytest.mark.parametrize("path", TRICKS)
def test_path_tricks_never_reveal_another_groups_content(client, roster, demo_accounts, path):
    _, passwords = demo_accounts
    parent = roster.parents["ouder-001"]  # groep-3 and groep-5-6, not groep-4
    status, body, _ = client.get(path, (parent.email, passwords[parent.id]))
    assert status in (400, 401, 403, 404), (path, status)
    assert b"Groep 4" not in body and b"herfstwandeling" not in body.lower()


def test_every_file_of_a_section_is_protected(client, demo_build, sections, roster,
                                              demo_accounts):
    output, _ = demo_build
    _, passwords = demo_accounts
    outsider = roster.parents["ouder-001"]
    login = (outsider.email, passwords[outsider.id])
    paths = ["/" + rel for section in sections.protected if outsider.id not in section.readers
             for rel in _content_pages(output, section)]
    assert get_many(client_base(client), [(p, None) for p in paths]) == [401] * len(paths)
    assert get_many(client_base(client), [(p, login) for p in paths]) == [403] * len(paths)


def test_no_directory_listing(client, roster, demo_accounts, demo_build):
    _, passwords = demo_accounts
    parent = roster.parents["ouder-001"]
    login = (parent.email, passwords[parent.id])
    for path in ("/theme/", "/theme/css/", "/groep/groep-3/fotos/", "/groep/"):
        status, body, _ = client.get(path, login)
        # 403 would reveal that the folder exists; /groep/ is no section, answered as a group
        # the parent may not open (test_outsiders)
        assert status == (403 if path == "/groep/" else 404), (path, status)
        assert b"Index of" not in body


def test_security_headers_on_every_kind_of_response(client, roster, demo_accounts):
    _, passwords = demo_accounts
    parent = roster.parents["ouder-001"]
    for path, login in (("/", None), ("/school/", None), ("/school/", (parent.email,
                        passwords[parent.id])), ("/bestaat-niet/", None)):
        _, _, headers = client.get(path, login)
        assert "noindex" in headers["X-Robots-Tag"]
        assert headers["Referrer-Policy"] == "no-referrer"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert "default-src 'self'" in headers["Content-Security-Policy"]
        assert "Strict-Transport-Security" not in headers  # switched off for local http


def test_401_page_explains_how_to_log_in_and_realm_is_shared(client):
    status, body, headers = client.get("/groep/groep-3/")
    assert status == 401 and "Inloggen nodig" in body.decode()
    realm = headers["WWW-Authenticate"]
    assert client.get("/gezin/" + "x" * 20 + "/")[0] == 401  # as a real one (test_outsiders)
    assert client.get("/school/")[2]["WWW-Authenticate"] == realm


def test_robots_txt_disallows_everything(client):
    status, body, _ = client.get("/robots.txt")
    assert status == 200 and b"Disallow: /" in body


def test_dotfiles_are_never_served_even_to_readers(client, roster, demo_accounts):
    _, passwords = demo_accounts
    parent = roster.parents["ouder-001"]
    login = (parent.email, passwords[parent.id])
    for path in ("/.htaccess", "/school/.htaccess", "/groep/groep-3/.htaccess",
                 f"/gezin/{parent.family}/.htaccess", "/groep/groep-3/.%68taccess"):
        status, body, _ = client.get(path, login)
        assert status == 404, (path, status)
        assert b"AuthUserFile" not in body


def test_every_response_carries_the_cache_header_publish_headers_gives(client, roster,
                                                                      demo_accounts, demo_build):
    """publish.headers is the one definition (CloudFront's bucket is held to it as well)."""
    output, _ = demo_build
    _, passwords = demo_accounts
    directie = roster.staff["mt-01"]
    paths = cache_cases(output, roster.parents["ouder-001"].family)
    got = {path: client.get(path, (directie.email, passwords[directie.id]))[2]["Cache-Control"]
           for path in paths}
    assert got == {path: headers.cache_control(path) for path in paths}
    assert set(got.values()) == {headers.CACHE_PHOTO, headers.CACHE_PROTECTED_PAGE,
                                 headers.CACHE_PAGE}


def test_team_pages_are_for_staff_only_and_each_teachers_own(client, roster, demo_accounts):
    """/team/ is staff-only (parents 403); /team/<id>/ lists that teacher's groups' children
    and consent, so only that staff member opens it; /mijn/ brings staff there."""
    parent = roster.parents["ouder-001"]
    teacher, colleague = roster.staff["lk-02"], roster.staff["lk-03"]
    for path in ("/team/lk-02/", "/team/lk-02/nieuw/", "/team/lk-02/postvak/"):
        assert client.get(path, login_of(parent, demo_accounts))[0] == 403, path
        assert client.get(path)[0] == 401, path
    # a parent gets the same answer everywhere under /team/: no page tells a real staff id
    for path in ("/team/", "/team/lk-99/", "/team/lk-02/bestaat-niet/"):
        assert client.get(path, login_of(parent, demo_accounts))[0] == 403, path
    status, body, _ = client.get("/team/lk-02/", login_of(teacher, demo_accounts))
    assert status == 200 and "Sem B." in body.decode() and "Groep 3" in body.decode()
    assert client.get("/team/lk-02/", login_of(colleague, demo_accounts))[0] == 403
    status, _, headers = client.get("/mijn/", login_of(teacher, demo_accounts))
    assert status == 302 and headers["Location"].endswith("/team/lk-02/")
