"""Uitloggen on nginx and Apache in Chromium: no password dialog, the browser forgets the login.

Basic auth has no session to end. /uitloggen/ answers the login the browser sends with 401
and no new challenge, so the browser drops it without asking anything; the next protected
page asks again. The page is the school's own (Dutch, its script runs), not the server's.
"""

from __future__ import annotations

import pytest

from tests.chromium import LoginPrompts, capture_errors, phone
from tests.http_client import login_of


@pytest.fixture(params=["nginx_site", "apache_site"])
def base(request):
    return request.getfixturevalue(request.param)[0]


def test_uitloggen_forgets_the_login_without_a_password_dialog(base, browser, roster,
                                                               demo_accounts):
    parent = roster.parents["ouder-001"]
    context = phone(browser)
    try:
        page = context.new_page()
        errors = capture_errors(page)
        dialogs = LoginPrompts(page, answer=login_of(parent, demo_accounts))
        page.goto(base + "/school/")
        assert dialogs.asked == [base + "/school/"]  # the first login, typed once
        assert page.get_by_role("heading", level=1).inner_text() == "Kc de Matrix"  # the news
        page.goto(f"{base}/gezin/{parent.family}/")  # remembered: no dialog
        # The family page fetches each section's agenda.json; one still under way when the
        # person taps Uitloggen would hand the login back to the browser when it ends. A
        # person reads the page first: wait until every one has ended.
        page.wait_for_function("""() => {
            const box = document.getElementById('agenda');
            const sources = (box ? box.dataset.agendaSources || '' : '').split(' ').filter(Boolean);
            const done = performance.getEntriesByType('resource').map(e => e.name);
            return sources.every(s => done.some(n => n.endsWith(s)));
        }""")
        page.evaluate("localStorage.setItem('schoolplein.postvak:" + parent.family + "', '[1]')")
        assert dialogs.asked == [base + "/school/"]

        dialogs.answer = None  # from now on the person would press Cancel
        page.locator("header a[href='/uitloggen/']").click()
        page.wait_for_url(base + "/uitloggen/")
        page.locator("#status", has_text="U bent uitgelogd").wait_for()
        assert dialogs.asked == [base + "/school/"], "a password dialog on Uitloggen"
        assert page.get_by_role("heading", level=1).inner_text() == "Uitloggen"
        assert "Wat deze browser nu vergeet" in page.locator("main").inner_text()
        assert page.evaluate("localStorage.length") == 0  # its script ran: receipts forgotten

        answer = page.goto(base + "/school/")
        assert dialogs.asked == [base + "/school/"] * 2  # asked again: the login is gone
        assert answer.status == 401
        assert page.get_by_role("heading", level=1).inner_text() == "Inloggen nodig"
        assert "wachtwoord uit uw brief" in page.locator("main").inner_text()
        assert [e for e in errors if not e.endswith("401 (Unauthorized)")] == []
    finally:
        context.close()
