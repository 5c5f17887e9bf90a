"""The postvak on real nginx: a family's write-only inbox, and collecting it exactly once."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from publish.targets.basic_auth.inbox import collect_spool
from tests.http_client import Client, login_of

ABSENCE = {"v": 1, "soort": "afwezigheid", "kind": "zoe-devries", "reden": "ziek"}


@pytest.fixture(scope="module")
def client(nginx_site):
    c = Client(nginx_site[0])
    yield c
    c.close()


def put(client, family, login, body=None, name=None, headers=None):
    name = name or f"{uuid.uuid4()}.json"
    data = json.dumps(body or ABSENCE).encode() if not isinstance(body, bytes) else body
    return client.request("PUT", f"/gezin/{family}/postvak/{name}", login, data,
                          {"Content-Type": "application/json", **(headers or {})})


def test_a_parent_puts_into_their_own_postvak_and_cannot_read_it_back(
        client, nginx_site, roster, demo_accounts):
    parent = roster.parents["ouder-001"]
    login = login_of(parent, demo_accounts)
    name = f"{uuid.uuid4()}.json"
    status, _, headers = put(client, parent.family, login, name=name)
    assert status == 201, status
    assert "Access-Control-Allow-Origin" not in headers  # no CORS
    path = f"/gezin/{parent.family}/postvak/{name}"
    for method in ("GET", "HEAD", "DELETE", "POST", "PROPFIND", "MKCOL", "MOVE", "OPTIONS"):
        status, body, _ = client.request(method, path, login)
        assert status in (403, 405), (method, status)
        assert b"zoe-devries" not in body
    assert client.get(f"/gezin/{parent.family}/postvak/", login)[0] == 404  # no listing
    spool = nginx_site[1].spool
    stored = list(spool.glob(f"*/*/gezin/{parent.family}/postvak/{name}"))
    assert len(stored) == 1 and json.loads(stored[0].read_bytes()) == ABSENCE
    assert stored[0].relative_to(spool).parts[0] == parent.email  # who: from the login


def test_refused_before_anything_is_stored(client, nginx_site, roster, demo_accounts):
    parent = roster.parents["ouder-001"]
    other = roster.parents["ouder-003"].family
    login = login_of(parent, demo_accounts)
    spool = nginx_site[1].spool
    before = sorted(spool.rglob("*.json"))
    assert put(client, parent.family, None)[0] == 401  # not logged in
    assert put(client, parent.family, (parent.email, "verkeerd-wachtwoord"))[0] == 401
    assert put(client, other, login)[0] == 403  # another family's postvak
    assert put(client, parent.family, login, b"x" * (17 * 1024))[0] == 413  # over 16 KiB
    # only a lower-case UUID4 name in a family's own postvak is a postvak at all
    assert put(client, parent.family, login, name="niet-een-uuid.json")[0] in (404, 405)
    assert put(client, parent.family, login, name=f"{str(uuid.uuid4()).upper()}.json")[0] in (
        404, 405)
    assert client.request("PUT", "/school/bericht.json", login, b"{}")[0] in (404, 405)
    assert client.request("PUT", "/bericht.json", None, b"{}")[0] in (404, 405)
    assert sorted(spool.rglob("*.json")) == before


def test_one_login_cannot_flood_the_postvak(client, nginx_site, roster, demo_accounts):
    parent = roster.parents["ouder-004"]
    login = login_of(parent, demo_accounts)
    statuses = [put(client, parent.family, login)[0] for _ in range(30)]
    assert statuses.count(201) >= 10 and 429 in statuses, statuses
    other = roster.parents["ouder-003"]  # another login is not slowed down by it
    assert put(client, other.family, login_of(other, demo_accounts))[0] == 201


def test_the_rate_limit_counts_the_person_not_the_spelling_of_the_login(
        client, nginx_site, roster, demo_accounts):
    """A phone's capital first letter is the same login: it must not double the limit."""
    parent = roster.parents["ouder-006"]
    email, password = login_of(parent, demo_accounts)
    spellings = [(email, password), (email[0].upper() + email[1:], password)]
    statuses = [put(client, parent.family, spellings[n % 2])[0] for n in range(40)]
    assert put(client, parent.family, spellings[1])[0] in (201, 429)  # the capital is accepted
    assert set(statuses) == {201, 429}, statuses
    # one person: the first one and a burst of 10 (and at most one more a few seconds later)
    assert statuses.count(201) <= 12, statuses


@pytest.mark.parametrize("content_type", [
    None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
    "application/jsonx", "text/json"])
def test_a_body_that_is_not_json_is_refused_with_415(client, nginx_site, roster, demo_accounts,
                                                     content_type):
    """A browser form (urlencoded, multipart, text/plain) can never post into the postvak."""
    parent = roster.parents["ouder-007"]
    login = login_of(parent, demo_accounts)
    spool = nginx_site[1].spool
    before = sorted(spool.rglob("*.json"))
    headers = {} if content_type is None else {"Content-Type": content_type}
    status, _, _ = client.request("PUT", f"/gezin/{parent.family}/postvak/{uuid.uuid4()}.json",
                                  login, json.dumps(ABSENCE).encode(), headers)
    assert status == 415
    assert sorted(spool.rglob("*.json")) == before
    # the family page's own header, also with a charset, is accepted
    assert put(client, parent.family, login,
               headers={"Content-Type": "application/json; charset=utf-8"})[0] == 201


def test_postvak_js_sends_json(client, nginx_site):
    """What the family page's script sends passes the 415 rule of every server."""
    status, body, _ = client.get("/theme/js/postvak.js")
    assert status == 200
    assert b"'Content-Type': 'application/json'" in body


def test_collecting_hands_over_each_submission_once_with_login_and_server_time(
        client, nginx_site, roster, demo_accounts):
    parent = roster.parents["ouder-002"]
    names = [f"{uuid.uuid4()}.json" for _ in range(3)]
    before = datetime.now(UTC)
    for name in names:
        assert put(client, parent.family, login_of(parent, demo_accounts), name=name)[0] == 201
    spool = nginx_site[1].spool
    handed = []

    def flaky(received):  # the first hand-over dies, as a killed collector would
        if not handed:
            handed.append(None)
            raise RuntimeError("killed")
        handed.append(received)

    with pytest.raises(RuntimeError):
        collect_spool(spool, flaky)
    collect_spool(spool, handed.append)
    mine = [r for r in handed[1:] if r.family == parent.family and f"{r.id}.json" in names]
    assert sorted(f"{r.id}.json" for r in mine) == sorted(names)  # nothing lost
    for received in mine:
        assert received.sender == parent.email
        assert before.timestamp() - 1 <= received.received_at.timestamp() <= (
            datetime.now(UTC).timestamp())
        assert json.loads(received.body) == ABSENCE
    assert not list(spool.rglob("*.json"))  # removed only after the hand-over
    assert collect_spool(spool, handed.append) == 0


def test_apache_takes_the_same_puts_and_records_who_sent_them(apache_site, roster,
                                                             demo_accounts):
    base, error_log = apache_site
    client = Client(base)
    parent = roster.parents["ouder-001"]
    login = login_of(parent, demo_accounts)
    name = f"{uuid.uuid4()}.json"
    try:
        status, _, headers = put(client, parent.family, login, name=name)
        assert status == 201, (status, error_log.read_text()[-1500:])
        assert "Access-Control-Allow-Origin" not in headers
        path = f"/gezin/{parent.family}/postvak/{name}"
        assert put(client, parent.family, login, name=name)[0] == 409  # never overwritten
        for method in ("GET", "HEAD", "DELETE", "PROPFIND", "OPTIONS"):
            assert client.request(method, path, login)[0] in (403, 405), method
        assert put(client, parent.family, None)[0] == 401
        assert put(client, roster.parents["ouder-003"].family, login)[0] == 403
        assert put(client, parent.family, login, b"x" * (17 * 1024))[0] == 413
        for content_type in ("text/plain", "application/x-www-form-urlencoded", None):
            status, _, _ = client.request(
                "PUT", f"/gezin/{parent.family}/postvak/{uuid.uuid4()}.json", login,
                json.dumps(ABSENCE).encode(), {} if content_type is None else
                {"Content-Type": content_type})
            assert status == 415, (content_type, status)
    finally:
        client.close()
    spool = next(error_log.parents[1].glob("deploy/postvak"))
    handed = []
    assert collect_spool(spool, handed.append) >= 1  # (other test files share this Apache)
    (received,) = [r for r in handed if r.id == name[:-5]]
    assert (received.id, received.family, received.sender) == (name[:-5], parent.family,
                                                               parent.email)
    assert json.loads(received.body) == ABSENCE


def test_pulling_a_servers_spool_keeps_apaches_record_and_clears_nginxs_folders(tmp_path):
    """With SCHOOLPLEIN_RSYNC_DEST the spool is pulled over rsync: Apache's side record and
    lock stay on the server (Apache keeps writing them), every later PUT is still matched to
    its sender, and the empty folders nginx leaves behind are removed on the server."""
    import os
    import time as clock

    from publish.targets.basic_auth.inbox import pull_remote

    server = tmp_path / "server" / "postvak"
    family = "k7m2p9x4q3w8e6r5t2y9"
    apache = server / "apache"
    (apache / family).mkdir(parents=True)
    (apache / "davlock.dir").write_bytes(b"")
    staging = tmp_path / "private" / "binnenkomst"
    handed = []
    for n in range(2):
        ident = str(uuid.uuid4())
        (apache / family / f"{ident}.json").write_text(json.dumps(ABSENCE))
        with (apache / "ontvangen.log").open("a") as log:
            log.write(f"{int(clock.time())} ouder{n}@example.nl 201 "
                      f"/gezin/{family}/postvak/{ident}.json\n")
        nginx = server / f"ouder{n}@example.nl" / "1732600000.123" / "gezin" / family / "postvak"
        nginx.mkdir(parents=True)
        (nginx / f"{uuid.uuid4()}.json").write_text(json.dumps(ABSENCE))
        pull_remote(str(server), staging)
        collect_spool(staging, handed.append)
        assert (apache / "ontvangen.log").is_file() and (apache / "davlock.dir").is_file()
        assert (apache / family).is_dir()  # Apache's DAV needs it for the next PUT
    assert sorted(r.sender for r in handed) == ["ouder0@example.nl", "ouder0@example.nl",
                                                "ouder1@example.nl", "ouder1@example.nl"]
    assert not list(server.rglob("*.json"))
    old = clock.time() - 120
    for folder in sorted((p for p in server.rglob("*") if p.is_dir()), reverse=True):
        os.utime(folder, (old, old))
    pull_remote(str(server), staging)
    assert sorted(p.name for p in server.iterdir()) == ["apache"]  # nginx's empty trees gone


def test_an_apache_submission_without_its_record_is_handed_over_in_the_end(tmp_path):
    """Never silently kept: after ten minutes without a side record it goes to the postvak
    with no sender, which quarantines it for the admin."""
    import os
    import time as clock

    family = "k7m2p9x4q3w8e6r5t2y9"
    (tmp_path / "apache" / family).mkdir(parents=True)
    fresh = tmp_path / "apache" / family / f"{uuid.uuid4()}.json"
    fresh.write_text(json.dumps(ABSENCE))
    handed = []
    assert collect_spool(tmp_path, handed.append) == 0  # its record may still come
    os.utime(fresh, (clock.time() - 700, clock.time() - 700))
    assert collect_spool(tmp_path, handed.append) == 1
    assert handed[0].sender == "" and handed[0].family == family


def test_the_servers_limits_are_the_postvaks():
    """nginx and Apache enforce the postvak's own id pattern and size limit."""
    from postvak.messages import MAX_BODY, UUID4_RE
    from publish.targets.basic_auth import servers

    assert servers.MAX_BODY == MAX_BODY
    assert UUID4_RE.pattern.removeprefix("^").removesuffix("\\Z") == servers.UUID_RE
