"""Pages in the system's Chromium, driven by Playwright for Python: the one way tests open pages.

Playwright never downloads a browser here: it starts Debian's /usr/bin/chromium
(scripts/bootstrap.sh installs it) with the flags this machine needs. Every test
folder may use it (tests/conftest.py provides the `browser` fixture):

    def test_x(browser, nginx_site):
        context = phone(browser, login=("ouder@example.nl", "wachtwoord"))
        page = context.new_page()
        errors = capture_errors(page)
        page.goto(base + "/school/")
        expect(page.locator("h1")).to_have_text("Schoolnieuws")
        assert errors == []
        context.close()
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps calling hosts this machine cannot reach.
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
        "--no-default-browser-check"]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2,
         "is_mobile": True, "has_touch": True}


@contextmanager
def chromium() -> Iterator[Browser]:
    """Headless Chromium, closed afterwards (also when the test fails)."""
    assert shutil.which(CHROMIUM), "chromium ontbreekt: voer scripts/bootstrap.sh uit"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def phone(browser: Browser, login: tuple[str, str] | None = None, **options) -> BrowserContext:
    """A fresh browser profile shown as a 390x844 phone screen.

    With `login` (e-mail address, password) the browser answers the site's
    basic-auth prompt as a person typing them would; the browser then keeps
    the login as it keeps a typed one. `options` go to `new_context` (for
    example java_script_enabled=False, device_scale_factor=3).
    """
    settings = {**PHONE, **options}
    if login is not None:
        settings["http_credentials"] = {"username": login[0], "password": login[1]}
    return browser.new_context(**settings)


def capture_errors(page: Page) -> list[str]:
    """The script errors and console errors `page` shows from now on (a live list)."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"script: {exc}"))
    page.on("console", lambda message: message.type == "error"
            and errors.append(f"console: {message.text}"))
    return errors


class LoginPrompts:
    """The password dialogs Chromium would show on `page`, answered as a person would.

    Each basic-auth challenge the browser cannot answer from what it remembers is a
    dialog; `asked` lists the address of each. `answer` is what the person types
    ((e-mail address, password)), or None to press Cancel. Use it instead of
    `phone(login=...)`, which answers every dialog silently.
    """

    def __init__(self, page: Page, answer: tuple[str, str] | None = None):
        self.answer, self.asked = answer, []
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.on("Fetch.requestPaused", lambda event: self.cdp.send(
            "Fetch.continueRequest", {"requestId": event["requestId"]}))
        self.cdp.on("Fetch.authRequired", self._dialog)
        self.cdp.send("Fetch.enable", {"handleAuthRequests": True,
                                       "patterns": [{"urlPattern": "*"}]})

    def _dialog(self, event: dict) -> None:
        self.asked.append(event["request"]["url"])
        response = ({"response": "CancelAuth"} if self.answer is None else
                    {"response": "ProvideCredentials", "username": self.answer[0],
                     "password": self.answer[1]})
        self.cdp.send("Fetch.continueWithAuth", {"requestId": event["requestId"],
                                                 "authChallengeResponse": response})
