"""Mijn gezin on a phone (390x844): the postvak's forms in real Chromium against real nginx.

The page's requests are checked as the browser makes them (CDP Fetch.requestPaused); some are
answered by the test (every status the server can give, a dropped connection), and one goes all
the way: real nginx DAV, `invoke postvak`, the rebuilt page listing it with its status.
"""

from __future__ import annotations

import base64
import json
import os
import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import websocket

from plugins.filters import datum
from plugins.roster import load_roster
from plugins.settings import SCHOOL_TZ
from postvak import Received, intake
from publish.targets.basic_auth import Deploy, local_server
from tests.browser import Browser
from tests.helpers import demo_site, passphrase, run_invoke
from tests.site.test_pages_browser import FOCUS_JS, press_tab

UUID4 = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
EVIL = "<img src=http://evil.example/p.gif> " + "https://example.com/" + "x" * 150
SCREENSHOTS = os.environ.get("SCHOOLPLEIN_SCREENSHOTS")  # a folder: keep what the phone showed


class Phone(Browser):
    """Chromium at 390x844 that keeps the Fetch events and script errors it sees."""

    def __init__(self, user_data_dir: Path):
        super().__init__(user_data_dir)
        self.events: list[dict] = []

    def _keep(self, message: dict) -> None:
        if message.get("method", "").startswith(("Fetch.", "Runtime.exceptionThrown")):
            self.events.append(message)

    def event(self, method: str, timeout: float = 10) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            for message in self.events:
                if message["method"] == method:
                    self.events.remove(message)
                    return message["params"]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(method)
            self.ws.settimeout(remaining)
            try:
                self._keep(json.loads(self.ws.recv()))
            except websocket.WebSocketTimeoutException:
                raise TimeoutError(method) from None
            finally:
                self.ws.settimeout(10)

    def errors(self) -> list[dict]:
        return [m["params"] for m in self.events if m["method"] == "Runtime.exceptionThrown"]

    def js(self, expression: str):
        return json.loads(self.evaluate(f"JSON.stringify({expression})"))


@pytest.fixture(scope="module")
def school(tmp_path_factory):
    """A copy of the demo school with two items in the demo family's thread, on real nginx."""
    tmp = tmp_path_factory.mktemp("school")
    port = local_server.free_port()
    env, letters = demo_site(tmp, port)
    roster = load_roster(tmp / "roster")
    parent = roster.parents["ouder-001"]
    seeded = []
    for minutes, body in ((40, {"soort": "bericht", "aan": "lk-02", "tekst": EVIL}),
                          (30, {"soort": "afwezigheid", "kind": "zoe-devries", "reden": "ziek",
                                "toelichting": "Koorts"})):
        ident = str(uuid.uuid4())
        intake(Received(ident, parent.family, parent.email,
                        datetime.now(UTC) - timedelta(minutes=minutes),
                        json.dumps({"v": 1, **body}).encode(), "test"), tmp / "private")
        seeded.append(ident)
    processed = run_invoke("postvak", "--target", "nginx", env=env)  # process, export, publish
    assert processed.returncode == 0 and "2 verwerkt" in processed.stdout, processed
    proc = local_server.start(Deploy(tmp / "deploy" / "nginx"), port)
    try:
        yield {"base": f"http://127.0.0.1:{port}", "env": env, "tmp": tmp, "parent": parent,
               "password": passphrase(letters, parent.email),
               "seeded": seeded, "page": f"http://127.0.0.1:{port}/gezin/{parent.family}/"}
    finally:
        local_server.stop(proc)


@pytest.fixture(scope="module")
def phone(school, tmp_path_factory):
    browser = Phone(tmp_path_factory.mktemp("chromium"))
    try:
        browser.basic_auth(school["parent"].email, school["password"])
        browser.as_phone()
        browser.send("Runtime.enable")
        yield browser
    finally:
        browser.close()


@pytest.fixture
def page(school, phone):
    """The family page, fresh, with nothing remembered on the device; PUTs are held."""
    phone.load(school["page"])
    phone.evaluate("localStorage.clear()")
    phone.load(school["page"])
    phone.send("Fetch.enable", patterns=[{"urlPattern": "*/postvak/*", "requestStage": "Request"}])
    phone.events.clear()
    yield phone
    phone.send("Fetch.disable")
    assert phone.errors() == []


def choose(phone, form: str, name: str, value: str) -> None:
    """Tap the label of a radio button, as a finger would."""
    phone.evaluate(f"document.querySelector('{form} input[name=\"{name}\"][value=\"{value}\"]')"
                   ".closest('label').click()")


def type_into(phone, selector: str, text: str) -> None:
    phone.evaluate(f"document.querySelector('{selector}').focus()")
    phone.send("Input.insertText", text=text)


def submit(phone, form: str) -> None:
    phone.evaluate(f"document.querySelector('{form} button[type=submit]').click()")


def held(phone) -> dict:
    """The next PUT the page makes, held by the browser until the test answers it."""
    return phone.event("Fetch.requestPaused")


def answer(phone, paused: dict, status: int, headers: dict | None = None) -> None:
    phone.send("Fetch.fulfillRequest", requestId=paused["requestId"], responseCode=status,
               responseHeaders=[{"name": k, "value": v} for k, v in (headers or {}).items()],
               body="")


def check_put(paused: dict, school) -> tuple[str, dict]:
    request = paused["request"]
    match = re.fullmatch(re.escape(school["page"]) + f"postvak/({UUID4})\\.json", request["url"])
    assert match, request["url"]
    assert request["method"] == "PUT"
    assert request["headers"]["Content-Type"] == "application/json"
    return match.group(1), json.loads(request["postData"])


def first_day() -> str:
    """What the receipt calls the day an absence without dates is for."""
    today = datetime.now(SCHOOL_TZ).date()
    if today.weekday() < 5:
        return "vandaag"
    monday = today + timedelta(days=7 - today.weekday())
    return f"maandag {datum(monday).rsplit(' ', 1)[0]}"


SERVER_DATE = "Tue, 24 Nov 2026 06:12:07 GMT"  # 07:12 in Amsterdam (CET)
RECEIPT = "Ontvangen door de school op dinsdag 24 november 2026 om 07.12 uur."


def receipt(phone, form: str) -> str:
    phone.wait_for(f"document.querySelector('{form} .receipt').textContent !== ''")
    return phone.evaluate(f"document.querySelector('{form} .receipt').textContent")


def error(phone, form: str) -> str:
    phone.wait_for(f"document.querySelector('{form} .error').textContent !== ''")
    return phone.evaluate(f"document.querySelector('{form} .error').textContent")


def pending(phone) -> list[dict]:
    return phone.js("[...document.querySelectorAll('[data-thread] [data-pending]')].map(li => ("
                    "{id: li.dataset.id, text: [...li.querySelectorAll('p')].map("
                    "p => p.textContent).join('\\n')}))")


def test_an_absence_is_one_put_of_the_right_json_and_the_receipt_shows_the_servers_time(
        school, page):
    choose(page, "#afwezigheid", "kind", "zoe-devries")
    choose(page, "#afwezigheid", "reden", "ziek")
    type_into(page, "#afwezigheid-toelichting", "Koorts, blijft thuis")
    assert page.evaluate("document.getElementById('afwezigheid-teller').textContent") == \
        "Nog 480 tekens"
    submit(page, "#afwezigheid")
    paused = held(page)
    assert page.evaluate("document.querySelector('#afwezigheid button').disabled")
    ident, body = check_put(paused, school)
    assert body == {"v": 1, "soort": "afwezigheid", "kind": "zoe-devries", "reden": "ziek",
                    "toelichting": "Koorts, blijft thuis"}  # today: the server's date counts
    answer(page, paused, 201, {"Date": SERVER_DATE})
    assert receipt(page, "#afwezigheid").startswith(RECEIPT)
    assert pending(page) == [{"id": ident, "text": "Verstuurd vanaf dit apparaat · dinsdag 24 "
                              f"november 2026 om 07.12 uur\nAfwezigheid Zoë: {first_day()}\n"
                              "Status: ontvangen, nog niet verwerkt"}]
    assert not page.evaluate("document.querySelector('#afwezigheid button').disabled")
    assert page.evaluate("document.getElementById('afwezigheid-toelichting').value") == ""


def test_a_period_sends_its_first_and_last_day(school, page):
    today = datetime.now(SCHOOL_TZ).date()
    monday = today + timedelta(days=7 - today.weekday())
    choose(page, "#afwezigheid", "kind", "omer-devries")
    choose(page, "#afwezigheid", "wanneer", "periode")
    assert page.evaluate("document.querySelector('#afwezigheid [data-period]').hidden") is False
    page.evaluate(f"document.querySelector('#afwezigheid [name=van]').value = '{monday}';"
                  f"document.querySelector('#afwezigheid [name=tot]').value = "
                  f"'{monday + timedelta(days=2)}'")
    choose(page, "#afwezigheid", "reden", "arts")
    submit(page, "#afwezigheid")
    paused = held(page)
    _, body = check_put(paused, school)
    assert body == {"v": 1, "soort": "afwezigheid", "kind": "omer-devries", "reden": "arts",
                    "van": str(monday), "tot": str(monday + timedelta(days=2))}
    answer(page, paused, 201, {"Date": SERVER_DATE})
    assert receipt(page, "#afwezigheid").startswith(RECEIPT)
    label = f"Afwezigheid Ömer: maandag {datum(monday).rsplit(' ', 1)[0]} t/m woensdag"
    assert label in pending(page)[0]["text"]
    assert "arts" not in page.evaluate("localStorage.getItem("
                                       f"'schoolplein.postvak:{school['parent'].family}')")


def test_a_message_goes_to_the_chosen_teacher_exactly_as_typed(school, page):
    text = "Mag Zoë vrijdag eerder weg?\n<b>Groet</b> & dank"
    page.evaluate("const s = document.getElementById('bericht-aan'); s.value = 'lk-02';"
                  "s.dispatchEvent(new Event('change', {bubbles: true}))")
    type_into(page, "#bericht-tekst", text)
    assert page.evaluate("document.getElementById('bericht-teller').textContent") == \
        f"Nog {2000 - len(text)} tekens"
    submit(page, "#bericht")
    paused = held(page)
    _, body = check_put(paused, school)
    assert body == {"v": 1, "soort": "bericht", "aan": "lk-02", "tekst": text}
    answer(page, paused, 201, {"Date": SERVER_DATE})
    assert receipt(page, "#bericht").startswith(RECEIPT)
    assert "Bericht aan Meester Pieter Bos" in pending(page)[0]["text"]


def test_photo_consent_sends_the_childs_choice(school, page):
    form = "#beeldgebruik form[data-kind=\"zoe-devries\"]"
    assert page.evaluate(f"document.querySelector('{form} input:checked').value") == "school"
    choose(page, form, "keuze", "geen")
    submit(page, form)
    paused = held(page)
    _, body = check_put(paused, school)
    assert body == {"v": 1, "soort": "beeldgebruik", "kind": "zoe-devries", "keuze": "geen"}
    answer(page, paused, 201, {"Date": SERVER_DATE})
    assert receipt(page, form).startswith(RECEIPT)
    assert "Beeldgebruik Zoë: Geen foto's" in pending(page)[0]["text"]


def test_missing_choices_are_said_before_anything_is_sent(page):
    submit(page, "#afwezigheid")
    assert error(page, "#afwezigheid") == "Kies welk kind afwezig is."
    assert page.evaluate("document.activeElement.name") == "kind"
    submit(page, "#bericht")
    assert error(page, "#bericht") == "Kies aan wie het bericht is."
    assert page.evaluate("document.querySelector('#bericht .error').getAttribute('role')") == \
        "alert"
    time.sleep(0.3)
    assert not [e for e in page.events if e["method"] == "Fetch.requestPaused"]


@pytest.mark.parametrize("status, says", [
    (400, "open uw eigen inloglink opnieuw"),
    (401, "U bent niet (meer) ingelogd"),
    (403, "alleen de ouders van dit gezin"),
    (409, "Dit kenmerk bestond al"),
    (413, "te groot om te versturen"),
    (429, "Wacht een paar minuten"),
    (500, "foutcode 500"),
    (0, "geen verbinding met de school"),
])
def test_every_refusal_is_explained_and_the_text_stays(page, status, says):
    page.evaluate("const s = document.getElementById('bericht-aan'); s.value = 'directie'")
    type_into(page, "#bericht-tekst", "Vraag over de ouderbijdrage")
    submit(page, "#bericht")
    paused = held(page)
    if status:
        answer(page, paused, status)
    else:
        page.send("Fetch.failRequest", requestId=paused["requestId"],
                  errorReason="InternetDisconnected")
    assert says in error(page, "#bericht")
    assert page.evaluate("document.querySelector('#bericht .receipt').textContent") == ""
    assert page.evaluate("document.getElementById('bericht-tekst').value") == \
        "Vraag over de ouderbijdrage"
    assert not page.evaluate("document.querySelector('#bericht button').disabled")
    if status in (429, 500, 0):
        assert page.evaluate("document.querySelector('#bericht .error a[href^=\"tel:\"]') "
                             "!== null")
    assert pending(page) == []


def test_a_retry_keeps_its_id_so_nothing_arrives_twice(school, page):
    """The connection dropped after sending: the same text again reuses the id, and the
    server's "that name exists" (409) then means the first try did arrive."""
    page.evaluate("document.getElementById('bericht-aan').value = 'lk-07'")
    type_into(page, "#bericht-tekst", "Tot morgen")
    submit(page, "#bericht")
    first = held(page)
    page.send("Fetch.failRequest", requestId=first["requestId"], errorReason="ConnectionReset")
    error(page, "#bericht")
    submit(page, "#bericht")
    second = held(page)
    assert check_put(second, school)[0] == check_put(first, school)[0]
    answer(page, second, 409)
    assert receipt(page, "#bericht").startswith("Dit was al goed aangekomen bij de school.")
    assert len(pending(page)) == 1


def test_a_double_tap_sends_once(school, page):
    choose(page, "#beeldgebruik form[data-kind=\"omer-devries\"]", "keuze", "groep")
    for _ in range(3):
        submit(page, "#beeldgebruik form[data-kind=\"omer-devries\"]")
    paused = held(page)
    with pytest.raises(TimeoutError):
        page.event("Fetch.requestPaused", timeout=0.5)
    answer(page, paused, 201, {"Date": SERVER_DATE})
    receipt(page, "#beeldgebruik form[data-kind=\"omer-devries\"]")
    assert len(pending(page)) == 1


def test_after_a_reload_the_device_shows_what_the_page_does_not_list_yet(school, page):
    listed = school["seeded"][0]
    waiting = str(uuid.uuid4())
    now = datetime.now(UTC).isoformat()
    saved = [{"id": listed, "label": "Bericht aan Meester Pieter Bos", "at": now},
             {"id": waiting, "label": "Afwezigheid Zoë: vandaag, ziek", "at": now}]
    page.evaluate(f"localStorage.setItem('schoolplein.postvak:{school['parent'].family}', "
                  f"{json.dumps(json.dumps(saved))})")
    page.load(school["page"])
    assert [p["id"] for p in pending(page)] == [waiting]
    assert "ontvangen, nog niet verwerkt" in pending(page)[0]["text"]
    kept = page.js(f"JSON.parse(localStorage.getItem('schoolplein.postvak:{school['parent'].family}'))"
                   ".map(r => r.id)")
    assert kept == [waiting]  # the page lists the other one: forgotten on the device


def test_logging_out_forgets_the_remembered_receipts(school, page):
    choose(page, "#beeldgebruik form[data-kind=\"omer-devries\"]", "keuze", "geen")
    submit(page, "#beeldgebruik form[data-kind=\"omer-devries\"]")
    answer(page, held(page), 201, {"Date": SERVER_DATE})
    receipt(page, "#beeldgebruik form[data-kind=\"omer-devries\"]")
    key = f"schoolplein.postvak:{school['parent'].family}"
    assert page.evaluate(f"localStorage.getItem('{key}')")
    page.evaluate("localStorage.setItem('schoolplein.ander', 'blijft')")
    # /uitloggen/ answers the login with 401: press "cancel", as the header link does.
    page.send("Fetch.enable", handleAuthRequests=True,
              patterns=[{"urlPattern": "*/uitloggen/", "resourceType": "Document"}])
    page._fire("Page.navigate", url=school["base"] + "/uitloggen/")
    page.send("Fetch.continueRequest", requestId=page.event("Fetch.requestPaused")["requestId"])
    page.send("Fetch.continueWithAuth", requestId=page.event("Fetch.authRequired")["requestId"],
              authChallengeResponse={"response": "CancelAuth"})
    page.wait_for("document.getElementById('status').textContent.includes('U bent uitgelogd')")
    assert page.evaluate(f"localStorage.getItem('{key}')") is None
    assert page.evaluate("localStorage.getItem('schoolplein.ander')") == "blijft"


def test_the_thread_shows_the_parents_words_as_text(school, page):
    items = page.js("[...document.querySelectorAll('[data-thread] [data-id]')].map(li => ("
                    "{id: li.dataset.id, said: (li.querySelector('.said') || {}).textContent}))")
    assert [i["id"] for i in items] == school["seeded"]  # oldest first
    assert items[0]["said"] == EVIL
    assert page.evaluate("document.querySelectorAll('main img').length") == 0
    assert "Status: doorgestuurd aan Meester Pieter Bos" in page.evaluate(
        "document.querySelector('[data-thread]').innerText")


# Everything a finger uses on this page, and the forms' own controls.
CONTROLS_JS = """[...document.querySelectorAll(
    'main a, main button, main select, main textarea, main input[type=date], label.choice')]
  .filter(e => e.offsetParent !== null && !e.closest('p:not(.meta), li.turn .content'))
  .map(e => { const r = e.getBoundingClientRect();
              return {what: e.tagName + ' ' + e.textContent.trim().slice(0, 25), w: r.width,
                      h: r.height}; })"""


def test_on_a_phone_everything_fits_is_big_enough_and_shows_focus(school, page):
    choose(page, "#afwezigheid", "wanneer", "periode")  # the date fields too
    small = [c for c in page.js(CONTROLS_JS) if c["w"] < 44 or c["h"] < 44]
    assert not small, small
    assert page.js("document.documentElement.scrollWidth") <= 390
    heights = page.js("[...document.querySelectorAll('.screen')].map(s => ("
                      "{id: s.id, h: s.getBoundingClientRect().height}))")
    for screen in heights[:2]:  # absence and message: each one screen on a phone
        assert screen["h"] <= 844, heights
    labels = page.js("[...document.querySelectorAll('main textarea, main select, "
                     "main input')].filter(i => !i.labels || i.labels.length === 0)"
                     ".map(i => i.name)")
    assert labels == []
    page.evaluate("document.getElementById('afwezigheid').scrollIntoView();"
                  "document.querySelector('#afwezigheid input[name=kind]').focus();"
                  "document.activeElement.blur()")
    page.evaluate("document.querySelector('#afwezigheid-kop').setAttribute('tabindex', '-1');"
                  "document.querySelector('#afwezigheid-kop').focus()")
    seen = set()
    for _ in range(24):  # a date field takes three tabs (day, month, year)
        press_tab(page)
        focus = json.loads(page.evaluate(FOCUS_JS))
        tag = page.evaluate("document.activeElement.tagName + ' ' + (document.activeElement.name"
                            " || document.activeElement.textContent.trim().slice(0, 20))")
        seen.add(tag)
        assert focus["style"] != "none" and focus["width"] >= 3, (tag, focus)
        assert focus["ratio"] >= 3, (tag, focus)
    assert {"INPUT kind", "INPUT reden", "TEXTAREA toelichting", "BUTTON Afwezigheid versture",
            "SELECT aan"} <= seen, seen
    if SCREENSHOTS:  # one per screen, as the phone shows it
        for name in ("inhoud", "afwezigheid", "bericht", "beeldgebruik", "gesprek"):
            page.evaluate(f"document.getElementById('{name}').scrollIntoView()")
            shot = page.send("Page.captureScreenshot", format="png")
            Path(SCREENSHOTS, f"mijn-gezin-390x844-{name}.png").write_bytes(
                base64.b64decode(shot["data"]))


def test_without_javascript_the_page_says_how_to_reach_the_school(school, phone):
    phone.send("Emulation.setScriptExecutionDisabled", value=True)
    try:
        phone.load(school["page"])
        state = phone.js("""({
            forms: document.querySelector('[data-postvak-forms]').offsetParent !== null,
            nav: document.getElementById('postvak').offsetParent !== null,
            text: document.querySelector('main').innerText,
            tel: [...document.querySelectorAll('main a[href^="tel:"]')]
                   .filter(a => a.offsetParent !== null).length,
            overflow: document.documentElement.scrollWidth > 390})""")
    finally:
        phone.send("Emulation.setScriptExecutionDisabled", value=False)
    assert not state["forms"] and not state["nav"] and not state["overflow"]
    assert "werkt op deze pagina alleen met JavaScript" in state["text"]
    assert "directie@kcdematrix.example.nl" in state["text"] and state["tel"] >= 2
    assert "Gesprek met school" in state["text"]  # the thread is readable without script


def test_a_message_through_real_nginx_and_invoke_postvak_shows_up_with_its_status(school, phone):
    """No test answers here: nginx's DAV stores it, the receipt shows nginx's Date, `invoke
    postvak` processes it and republishes, and the page lists it; the device forgets it."""
    phone.load(school["page"])
    phone.evaluate("localStorage.clear()")
    phone.load(school["page"])
    phone.evaluate("document.getElementById('bericht-aan').value = 'lk-02'")
    type_into(phone, "#bericht-tekst", "Via de echte server <b>dank</b>")
    before = datetime.now(UTC).replace(microsecond=0)
    submit(phone, "#bericht")
    shown = receipt(phone, "#bericht")
    after = datetime.now(UTC)
    (ident,) = [p["id"] for p in pending(phone)]
    spooled = list((school["tmp"] / "deploy").rglob(f"{ident}.json"))
    assert len(spooled) == 1 and json.loads(spooled[0].read_bytes())["tekst"] == \
        "Via de echte server <b>dank</b>"
    match = re.search(r"Ontvangen door de school op \w+ (\d+ \w+ \d{4}) om (\d\d\.\d\d) uur",
                      shown)
    assert match, shown
    local = [t.astimezone(SCHOOL_TZ) for t in (before, after)]
    assert match.group(1) in {datum(t) for t in local}, shown
    assert match.group(2) in {f"{t:%H.%M}" for t in local}, shown
    processed = run_invoke("postvak", "--target", "nginx", env=school["env"])
    assert processed.returncode == 0 and "1 verwerkt" in processed.stdout, processed
    phone.load(school["page"])
    item = phone.js(f"(li => li && {{pending: li.hasAttribute('data-pending'), text: li.innerText}})"
                    f"(document.querySelector('[data-thread] [data-id=\"{ident}\"]'))")
    assert item and not item["pending"], item
    assert "Via de echte server <b>dank</b>" in item["text"]
    assert "Status: doorgestuurd aan Meester Pieter Bos" in item["text"]
    assert phone.js(f"localStorage.getItem('schoolplein.postvak:{school['parent'].family}')") == \
        "[]"
    assert phone.errors() == []
