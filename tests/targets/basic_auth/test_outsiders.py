"""What nginx and Apache tell someone without the right login: the same on both servers.

An address must not tell a real family id or group from a made-up one (401 without a login,
403 with one, the same page); methods other than GET, HEAD and the postvak's PUT are 405;
every answer, the postvak's included, carries the security headers.
"""

from __future__ import annotations

import json
import uuid

import pytest

from publish import headers as security
from tests.http_client import Client, login_of

SERVERS = ("nginx_site", "apache_site")
MADE_UP_FAMILY = "zz9zz9zz9zz9zz9zz9zz"  # the shape of a family id, nobody's
ABSENCE = json.dumps({"v": 1, "soort": "afwezigheid", "kind": "zoe-devries",
                      "reden": "ziek"}).encode()


@pytest.fixture(params=SERVERS)
def client(request):
    c = Client(request.getfixturevalue(request.param)[0])
    yield c
    c.close()


def answer(client, method, path, login=None, body=None):
    """Status, body and the names of the headers (Date and length aside) of one request."""
    status, data, sent = client.request(method, path, login, body,
                                        {"Content-Type": "application/json"} if body else {})
    return status, data, sorted(h for h in sent if h not in ("Date", "Content-Length", "ETag",
                                                              "Last-Modified"))


def pairs(roster) -> list[tuple[str, str]]:
    """(a real address, the same address with a made-up id or group)."""
    family = roster.parents["ouder-003"].family
    return [(f"/gezin/{family}/", f"/gezin/{MADE_UP_FAMILY}/"),
            (f"/gezin/{family}/2026-11-10-oudergesprek/",
             f"/gezin/{MADE_UP_FAMILY}/2026-11-10-oudergesprek/"),
            (f"/gezin/{family}", f"/gezin/{MADE_UP_FAMILY}"),
            ("/groep/groep-4/", "/groep/groep-99/"),
            ("/groep/groep-4/feed.atom", "/groep/groep-99/feed.atom")]


def test_a_made_up_family_id_or_group_answers_as_a_real_one(client, roster, demo_accounts):
    other_parent = login_of(roster.parents["ouder-001"], demo_accounts)  # not ouder-003's family
    wrong = (other_parent[0], "abcd-efgh-jkmn-pqrs")
    for real, fake in pairs(roster):
        for login, expected in ((None, 401), (wrong, 401), (other_parent, 403)):
            seen = answer(client, "GET", real, login)
            assert seen[0] == expected, (real, login and login[0], seen[0])
            assert answer(client, "GET", fake, login) == seen, (fake, login and login[0])


def test_a_made_up_familys_postvak_answers_as_a_real_one(client, roster, demo_accounts):
    family = roster.parents["ouder-003"].family
    other_parent = login_of(roster.parents["ouder-001"], demo_accounts)
    name = f"postvak/{uuid.uuid4()}.json"
    for login, expected in ((None, 401), (other_parent, 403)):
        seen = answer(client, "PUT", f"/gezin/{family}/{name}", login, ABSENCE)
        assert seen[0] == expected, (login and login[0], seen[0])
        assert answer(client, "PUT", f"/gezin/{MADE_UP_FAMILY}/{name}", login, ABSENCE) == seen


@pytest.mark.parametrize("method", ["OPTIONS", "POST", "DELETE", "PATCH", "PROPFIND"])
def test_only_get_head_and_the_postvaks_put_are_accepted(client, roster, demo_accounts, method):
    parent = roster.parents["ouder-001"]
    login = login_of(parent, demo_accounts)
    for path in ("/", "/hulp/", "/school/", f"/gezin/{parent.family}/",
                 f"/gezin/{parent.family}/postvak/{uuid.uuid4()}.json"):
        for who in (None, login):
            status, body, sent = client.request(method, path, who, ABSENCE)
            assert status == 405, (method, path, who and who[0], status)
            assert "Access-Control-Allow-Origin" not in sent
            assert sent.get("Content-Security-Policy") == security.CSP, (method, path)


def test_the_postvaks_answers_carry_the_security_headers(client, roster, demo_accounts):
    parent = roster.parents["ouder-001"]
    login = login_of(parent, demo_accounts)
    other = roster.parents["ouder-003"].family
    for family, who, expected in ((parent.family, login, 201), (parent.family, None, 401),
                                  (other, login, 403)):
        status, _, sent = client.request("PUT", f"/gezin/{family}/postvak/{uuid.uuid4()}.json",
                                         who, ABSENCE, {"Content-Type": "application/json"})
        assert status == expected, (family, status)
        for name, value in security.HEADERS.items():
            assert sent.get(name) == value, (status, name, sent.get(name))
