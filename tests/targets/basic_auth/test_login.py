"""One login for the whole school: no timing oracle, phone spellings, /mijn/, 403 pages."""

from __future__ import annotations

import random
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest

from plugins.roster import load_roster, write_roster
from plugins.sections import build_section_map
from publish import accounts
from publish.targets import basic_auth
from publish.targets.basic_auth import local_server
from tests.chromium import phone
from tests.http_client import Client, login_of

WRONG = "abcd-efgh-jkmn-pqrs"  # the shape of a real passphrase, but nobody's


def _timing(base: str, logins: dict[str, str], rounds: int, together: bool) -> dict[str, float]:
    """Median milliseconds of a wrong-password request per login.

    Each round sends one request per login (one connection each), so machine noise hits
    every login alike. `together` sends a round's requests at the same moment: nginx's
    200 ms delays then overlap. Apache answers in about a millisecond, and requests
    running side by side on two cores would blur a 1 ms difference, so there the
    round's logins go one after another, in a shuffled order.
    """
    clients = {name: Client(base) for name in logins}

    def timed(name: str) -> float:
        start = time.perf_counter()
        status = clients[name].get("/groep/groep-3/", (logins[name], WRONG))[0]
        assert status == 401, (name, status)
        return (time.perf_counter() - start) * 1000

    samples: dict[str, list[float]] = {name: [] for name in logins}
    try:
        with ThreadPoolExecutor(max_workers=len(logins)) as pool:
            for _ in range(rounds):
                order = random.sample(list(logins), len(logins))
                times = pool.map(timed, order) if together else map(timed, order)
                for name, ms in zip(order, times, strict=True):
                    samples[name].append(ms)
    finally:
        for client in clients.values():
            client.close()
    return {name: statistics.median(values) for name, values in samples.items()}


@pytest.mark.parametrize(("site", "rounds", "together"),
                         [("nginx_site", 25, True), ("apache_site", 200, False)])
def test_a_wrong_password_takes_as_long_for_known_and_unknown_logins(site, rounds, together,
                                                                     request, roster):
    """An outsider cannot tell from response times whether an address is a login, nor
    whether that login may read the section it tried (nginx: auth_delay; Apache: a Lua
    hook spends the same bcrypt on a login the password file does not hold)."""
    medians = _timing(request.getfixturevalue(site)[0], {
        "unknown": "onbekend.persoon@example.nl",
        "known, not a reader of groep 3": roster.parents["ouder-003"].email,
        "known, reader of groep 3": roster.parents["ouder-001"].email,
    }, rounds, together)
    low, high = min(medians.values()), max(medians.values())
    assert (high - low) / low < 0.20, medians


@pytest.mark.parametrize("site", ["nginx_site", "apache_site"])
def test_a_mangled_authorization_header_is_asked_to_log_in_again(site, request):
    """Whatever a client sends as credentials, the answer is a login prompt, never a 500
    (Apache's Lua hook reads the header before mod_auth_basic does)."""
    import base64

    client = Client(request.getfixturevalue(site)[0])
    mangled = ["Basic !!!", "Basic", "Bearer abc", "Basic " + base64.b64encode(b"geen-dubbele-punt").decode(),
               "Basic " + base64.b64encode(b"\xff\xfe:\x00x").decode(), "basic " + "QQ==" * 2000]
    try:
        for header in mangled:
            status = client.request("GET", "/groep/groep-3/", headers={"Authorization": header})[0]
            assert status in (400, 401), (header[:40], status)
    finally:
        client.close()


@pytest.fixture(scope="module", params=["nginx", "apache"])
def server(request):
    """The demo school on both basic-auth servers, with a keep-alive client."""
    base = request.getfixturevalue("nginx_site" if request.param == "nginx" else "apache_site")[0]
    client = Client(base)
    yield request.param, client
    client.close()


def test_a_reader_of_another_section_gets_403_with_a_way_home(server, roster, demo_accounts):
    name, client = server
    parent = roster.parents["ouder-001"]  # groep 3 and groep 5/6, not groep 4
    status, body, headers = client.get("/groep/groep-4/", login_of(parent, demo_accounts))
    page = body.decode()
    assert status == 403, (name, status)
    assert "U heeft geen toegang tot deze pagina" in page and 'href="/mijn/"' in page
    assert "WWW-Authenticate" not in headers  # no second password prompt
    assert client.get("/groep/groep-4/")[0] == 401
    other_family = roster.parents["ouder-003"].family
    assert client.get(f"/gezin/{other_family}/", login_of(parent, demo_accounts))[0] == 403


def test_mijn_sends_everyone_to_their_own_pages(server, roster, demo_accounts):
    name, client = server
    assert client.get("/mijn/")[0] == 401
    for person in (roster.parents["ouder-001"], roster.parents["ouder-003"]):
        status, _, headers = client.get("/mijn/", login_of(person, demo_accounts))
        assert status == 302, (name, status)
        assert urlsplit(headers["Location"]).path == f"/gezin/{person.family}/", name
    teacher = roster.staff["lk-02"]
    status, _, headers = client.get("/mijn/", login_of(teacher, demo_accounts))
    # staff land on their own team page (their groups, consent, posts, the editor)
    assert status == 302 and urlsplit(headers["Location"]).path == "/team/lk-02/", name


def test_a_phone_keyboards_capital_first_letter_still_logs_in(server, roster, demo_accounts):
    name, client = server
    parent = roster.parents["ouder-001"]
    email, password = login_of(parent, demo_accounts)
    assert client.get("/school/", (email[0].upper() + email[1:], password))[0] == 200, name
    assert client.get("/school/", (email.upper(), password))[0] == 401, name


@pytest.fixture(scope="module")
def accented_school(tmp_path_factory):
    """A small school whose parent's login has accents (Nováková), on real nginx."""
    tmp = tmp_path_factory.mktemp("accented")
    family = "k7m2p9x4q3w8e6r5t2y9"
    write_roster(tmp / "roster", groups=[["groep-3", "Groep 3", "2026-2027"]],
                 children=[["sara-novakova", "Sára", "Nováková", "groep-3", ""]],
                 parents=[["ouder-jana", "Jana Nováková", "jana.nováková@example.cz", family,
                           "sara-novakova"]],
                 staff=[["mt-01", "Ingrid Hoekstra", "directie@example.nl", "directie", ""]])
    roster = load_roster(tmp / "roster")
    sections = build_section_map(roster, "Testschool")
    site = tmp / "site"
    for folder in ("", "school", "groep/groep-3", f"gezin/{family}"):
        (site / folder).mkdir(parents=True, exist_ok=True)
        (site / folder / "index.html").write_text(f"<h1>{folder or 'home'}</h1>")
    for status in (401, 403, 404):  # nginx answers 401 with this page; without it, 404
        (site / f"{status}.html").write_text(f"<h1>{status}</h1>")
    change = accounts.sync_accounts(roster, tmp / "private", letters=False)
    port = local_server.free_port()
    deploy = basic_auth.publish(site, tmp / "deploy", sections,
                                accounts.load_accounts(tmp / "private"), f"127.0.0.1:{port}")
    proc = local_server.start(deploy, port)
    try:
        yield f"http://127.0.0.1:{port}", family, change.issued[0].passphrase
    finally:
        local_server.stop(proc)


@pytest.mark.parametrize("typed", ["jana.nováková@example.cz", "Jana.nováková@example.cz"])
def test_an_accented_login_works_in_a_real_browser(accented_school, browser, typed):
    base, family, passphrase = accented_school
    context = phone(browser, login=(typed, passphrase))  # Chromium sends it as UTF-8
    try:
        page = context.new_page()
        page.goto(f"{base}/mijn/")
        page.wait_for_url(f"{base}/gezin/{family}/")
        assert page.locator("h1").inner_text() == f"gezin/{family}"
    finally:
        context.close()
