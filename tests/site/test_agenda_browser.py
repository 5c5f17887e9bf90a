"""Mijn gezin in Chromium: the merged agenda (per visitor's own access) and the new forms."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from plugins.site import build
from publish import accounts
from publish.targets import basic_auth
from publish.targets.basic_auth import local_server
from tests.chromium import capture_errors, phone
from tests.http_client import login_of


@pytest.fixture(scope="module")
def site(tmp_path_factory, demo_accounts):
    tmp = tmp_path_factory.mktemp("agenda-browser")
    built = build(output_path=str(tmp / "out"), photo_cache_dir=str(tmp / "cache"),
                  photo_audit_dir=str(tmp / "audit"), schoolplein_private=str(tmp / "private"),
                  schoolplein_today="2026-12-07")
    port = local_server.free_port()
    deploy = basic_auth.publish(tmp / "out", tmp / "deploy", built["SCHOOLPLEIN_SECTIONS"],
                                accounts.load_accounts(demo_accounts[0]), f"127.0.0.1:{port}")
    proc = local_server.start(deploy, port)
    try:
        yield f"http://127.0.0.1:{port}", deploy
    finally:
        local_server.stop(proc)


def agenda_of(browser, base, login, family):
    context = phone(browser, login=login)
    try:
        page = context.new_page()
        errors = capture_errors(page)
        page.goto(f"{base}/gezin/{family}/")
        page.wait_for_selector("#agenda li:has-text('Kerstviering op school')")  # merged in
        items = page.eval_on_selector_all(
            "#agenda li", "els => els.map(e => [e.querySelector('strong').textContent, "
            "e.querySelector('time').getAttribute('datetime')])")
        assert not [e for e in errors if e.startswith("script")], errors
        return items
    finally:
        context.close()


def test_the_family_page_merges_the_agendas_its_visitor_may_read(site, browser, roster,
                                                                 demo_accounts):
    base, _ = site
    parent = roster.parents["ouder-001"]  # groep 3 and groep 5/6
    items = agenda_of(browser, base, login_of(parent, demo_accounts), parent.family)
    titles = [t for t, _ in items]
    assert {"Kerstviering op school", "Ouderavond groep 3", "Schoolreis groep 5/6"} <= set(titles)
    assert titles[0] == "Kerstviering op school"  # the next one first
    starts = [s if "T" in s else s + "T00:00:00+01:00" for _, s in items]
    assert starts == sorted(starts, key=datetime.fromisoformat)
    # the teacher of groep 3 reads this family page too, but not groep 5/6's agenda
    teacher = next(s for s in roster.staff.values() if s.groups == ("groep-3",))
    seen = [t for t, _ in agenda_of(browser, base, login_of(teacher, demo_accounts), parent.family)]
    assert "Ouderavond groep 3" in seen and "Schoolreis groep 5/6" not in seen


def test_the_mail_and_agenda_forms_send_what_the_postvak_expects(site, browser, roster,
                                                                 demo_accounts):
    base, deploy = site
    parent = roster.parents["ouder-001"]
    context = phone(browser, login=login_of(parent, demo_accounts))
    try:
        page = context.new_page()
        page.goto(f"{base}/gezin/{parent.family}/#meldingen")
        page.check("form[data-soort=meldingen] input[value=wekelijks]")
        page.select_option("form[data-soort=meldingen] select[name=dag]", "maandag")
        page.click("form[data-soort=meldingen] button[type=submit]")
        page.wait_for_selector("form[data-soort=meldingen] .receipt p")
        page.click("form[data-actie=nieuw] button[type=submit]")
        page.wait_for_selector("form[data-actie=nieuw] .receipt p")
    finally:
        context.close()
    sent = sorted((json.loads(p.read_text()) for p in deploy.spool.rglob("*.json")),
                  key=lambda b: b["soort"])
    assert sent == [{"v": 1, "soort": "agenda", "actie": "nieuw"},
                    {"v": 1, "soort": "meldingen", "keuze": "wekelijks", "dag": "maandag"}]
