"""Calendar feeds on real nginx: no login, only the section map's unguessable addresses."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from icalendar import Calendar

from plugins.calendar_feeds import FeedAddress, address_file, encode_addresses, new_token
from plugins.site import build
from publish import accounts
from publish.targets import basic_auth
from publish.targets.basic_auth import local_server
from tests.http_client import Client, get_many, login_of

FAMILY_OF = "ouder-001"  # children in groep 3 and groep 5/6


def _write_addresses(private: Path, addresses: dict[str, FeedAddress]) -> None:
    path = address_file(private)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encode_addresses(addresses))


class FeedSite:
    def __init__(self, tmp: Path, roster, demo_accounts):
        self.tmp, self.roster, self.demo_accounts = tmp, roster, demo_accounts
        self.private = tmp / "private"
        self.port = local_server.free_port()
        self.deploy_root = tmp / "deploy"
        self.proc = None
        self.builds = 0

    def publish(self, addresses: dict[str, FeedAddress]):
        _write_addresses(self.private, addresses)
        self.builds += 1
        self.output = self.tmp / f"out-{self.builds}"
        built = build(output_path=str(self.output), photo_cache_dir=str(self.tmp / "cache"),
                      photo_audit_dir=str(self.tmp / "audit"),
                      schoolplein_private=str(self.private), schoolplein_today="2026-12-07")
        self.sections = built["SCHOOLPLEIN_SECTIONS"]
        deploy = basic_auth.publish(self.output, self.deploy_root, self.sections,
                                    accounts.load_accounts(self.demo_accounts[0]),
                                    f"127.0.0.1:{self.port}")
        if self.proc is None:
            self.proc = local_server.start(deploy, self.port)
        else:
            local_server.reload(self.proc)
        return deploy


@pytest.fixture(scope="module")
def site(tmp_path_factory, roster, demo_accounts):
    found = FeedSite(tmp_path_factory.mktemp("feeds"), roster, demo_accounts)
    families = sorted(roster.families)
    mine = roster.parents[FAMILY_OF].family
    chosen = [mine] + [f for f in families if f != mine][:3]
    found.addresses = {f: FeedAddress(new_token(), frozenset(roster.families[f].parents), "")
                       for f in chosen}
    found.publish(found.addresses)
    found.client = Client(f"http://127.0.0.1:{found.port}")
    try:
        yield found
    finally:
        found.client.close()
        local_server.stop(found.proc)


def _uids(data: bytes) -> set[str]:
    return {str(e["UID"]) for e in Calendar.from_ical(data).walk("VEVENT")}


def test_a_familys_feed_needs_no_login_and_holds_exactly_its_sections(site, roster):
    family = roster.parents[FAMILY_OF].family
    token = site.addresses[family].token
    status, body, headers = site.client.get(f"/agenda/{token}/agenda.ics")
    assert status == 200 and headers["Content-Type"].startswith("text/calendar")
    assert headers["Cache-Control"] == "private, no-store"
    groups = {roster.children[c].group for c in roster.families[family].children}
    expected = set()
    for folder in ["school", *(f"groep/{g}" for g in groups), f"gezin/{family}"]:
        path = site.output / folder / "agenda.ics"
        if path.exists():
            expected |= _uids(path.read_bytes())
    assert _uids(body) == expected and len(expected) > 8
    assert any("groep-5-6" in uid for uid in expected) and any("groep-3" in uid for uid in expected)
    others = {s.key for s in site.sections if s.kind == "group"} - groups
    assert not [uid for uid in _uids(body) if any(f"group-{g}." in uid for g in others)]


def test_every_login_and_none_reads_a_known_address_and_nothing_else_there(site, roster,
                                                                            demo_accounts):
    feeds = [s for s in site.sections if s.kind == "feed"]
    assert len(feeds) == 4
    logins = [None] + [login_of(p, demo_accounts) for p in list(roster.people())[:40]]
    fake = new_token()
    real = feeds[0].key
    cases = []
    for login in logins:
        cases += [(f"{f.prefix}agenda.ics", login, 200) for f in feeds]
        cases += [(path, login, 404) for path in (
            "/agenda/", f"/agenda/{fake}/agenda.ics", f"/agenda/{real}/", f"/agenda/{real}",
            f"/agenda/{real}/agenda.ics.gz", f"/agenda/{real.upper()}/agenda.ics",
            f"/agenda/{real}/../{fake}/agenda.ics", f"/agenda/{real}/agenda.json",
            f"/agenda/{real[:-1]}/agenda.ics")]
    statuses = get_many(f"http://127.0.0.1:{site.port}", [(p, login) for p, login, _ in cases])
    wrong = [(p, s, e) for (p, _, e), s in zip(cases, statuses, strict=True) if s != e]
    assert not wrong, wrong[:10]
    for method in ("PUT", "DELETE", "POST"):
        assert site.client.request(method, f"{feeds[0].prefix}agenda.ics", body=b"x")[0] == 405


def test_no_page_another_family_can_read_names_a_feed_address(site, roster, demo_accounts):
    """The address is mailed to the family's parents only; no file of the site carries it."""
    release = site.deploy_root / "current"
    tokens = {s.key: s for s in site.sections if s.kind == "feed"}
    for path in release.rglob("*"):
        if not path.is_file() or path.suffix in (".jpg", ".webp", ".gz") or path.name == ".htaccess":
            continue  # Apache's rules name the addresses; dotfiles are never served (404)
        text = path.read_text(errors="replace")
        for token, feed in tokens.items():
            if token in text:
                assert path == release / feed.dir / "agenda.ics", path
    # and a parent of another family, logged in, finds none of them on the pages they read
    outsider = next(p for p in roster.parents.values() if p.family not in site.addresses)
    login = login_of(outsider, demo_accounts)
    for section in site.sections.readable_by(outsider.id):
        if section.protected:
            status, body, _ = site.client.get(section.prefix, login)
            assert status == 200 and not [t for t in tokens if t.encode() in body]


def test_a_renewed_address_stops_at_the_next_publish(site, roster):
    family = roster.parents[FAMILY_OF].family
    old = site.addresses[family].token
    assert site.client.get(f"/agenda/{old}/agenda.ics")[0] == 200
    renewed = dict(site.addresses, **{family: FeedAddress(new_token(), site.addresses[family].known_to,
                                                           "")})
    site.publish(renewed)
    new = f"/agenda/{renewed[family].token}/agenda.ics"
    deadline = time.monotonic() + 10
    while site.client.get(new)[0] != 200 and time.monotonic() < deadline:
        time.sleep(0.05)  # nginx reloads its config (SIGHUP) in the background
    assert site.client.get(new)[0] == 200
    assert site.client.get(f"/agenda/{old}/agenda.ics")[0] == 404
    site.addresses = renewed


def test_apache_serves_the_known_addresses_only(site, roster, demo_accounts):
    from tests.conftest import apache

    feeds = [s for s in site.sections if s.kind == "feed"]
    with apache(site.output, site.sections, demo_accounts[0]) as (url, _log, _deploy):
        client = Client(url)
        for feed in feeds:
            status, body, headers = client.get(f"{feed.prefix}agenda.ics")
            assert status == 200 and headers["Content-Type"].startswith("text/calendar"), status
            assert headers["Cache-Control"] == "private, no-store" and _uids(body)
        real = feeds[0].key
        for path in ("/agenda/", f"/agenda/{new_token()}/agenda.ics", f"/agenda/{real}/",
                     f"/agenda/{real}/agenda.json", f"/agenda/{real.upper()}/agenda.ics"):
            assert client.get(path)[0] == 404, path
            assert client.get(path, login_of(roster.parents[FAMILY_OF], demo_accounts))[0] == 404
        assert client.request("PUT", f"{feeds[0].prefix}agenda.ics", body=b"x")[0] == 405
        status, body, _ = client.get("/agenda/.htaccess")  # dotfiles: 403 on Apache, as elsewhere
        assert status == 403 and real.encode() not in body
        client.close()
