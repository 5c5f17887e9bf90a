"""Mijn gezin on a phone (390x844): the postvak's forms in real Chromium against real nginx.

The page's PUTs are held as the browser makes them (Playwright routes); some are answered by
the test (every status the server can give, a dropped connection), and one goes all the way:
real nginx DAV, `invoke postvak`, the rebuilt page listing it with its status.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from plugins.filters import datum
from plugins.roster import load_roster
from plugins.settings import SCHOOL_TZ
from postvak import Received, intake
from publish.targets.basic_auth import Deploy, local_server
from tests.chromium import capture_errors, phone
from tests.helpers import demo_site, passphrase, run_invoke
from tests.site.test_pages_browser import FOCUS_JS

UUID4 = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
EVIL = "<img src=http://evil.example/p.gif> " + "https://example.com/" + "x" * 150
SCREENSHOTS = os.environ.get("SCHOOLPLEIN_SCREENSHOTS")  # a folder: keep what the phone showed


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


@contextmanager
def own_phone(school, browser, **options):
    """A fresh phone profile on which the demo parent logged in; closed afterwards."""
    context = phone(browser, login=(school["parent"].email, school["password"]), **options)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture(scope="module")
def device(school, browser):
    """The demo parent's phone: logged in (basic auth, as typed), one tab."""
    context = phone(browser, login=(school["parent"].email, school["password"]))
    try:
        device = context.new_page()
        device.errors = capture_errors(device)
        yield device
    finally:
        context.close()


class Held:
    """The page's PUTs to its postvak, held by the browser until the test answers them."""

    def __init__(self, page):
        self.page, self.routes = page, []
        page.route("**/postvak/*", self._keep)

    def _keep(self, route) -> None:
        self.routes.append(route)  # not answered yet: the browser waits

    def next(self, timeout: float = 10):
        waited = 0
        while not self.routes:
            if waited > timeout * 1000:
                raise TimeoutError("no PUT")
            self.page.wait_for_timeout(25)  # lets the browser's events in
            waited += 25
        return self.routes.pop(0)

    def close(self) -> None:
        self.page.unroute("**/postvak/*", self._keep)


@pytest.fixture
def page(school, device):
    """The family page, fresh, with nothing remembered on the device; PUTs are held."""
    device.goto(school["page"])
    device.evaluate("localStorage.clear()")
    device.goto(school["page"])
    device.errors.clear()
    device.held = Held(device)
    yield device
    device.held.close()
    assert [e for e in device.errors if e.startswith("script")] == []


def choose(page, form: str, name: str, value: str) -> None:
    """Tap the label of a radio button, as a finger would."""
    page.locator(f"{form} label.choice:has(input[name='{name}'][value='{value}'])").click()


def type_into(page, selector: str, text: str) -> None:
    page.locator(selector).fill(text)


def submit(page, form: str) -> None:
    page.locator(f"{form} button[type=submit]").click()


def held(page):
    """The next PUT the page makes, held by the browser until the test answers it."""
    return page.held.next()


def answer(route, status: int, headers: dict | None = None) -> None:
    route.fulfill(status=status, headers=headers or {}, body="")


def check_put(route, school) -> tuple[str, dict]:
    request = route.request
    match = re.fullmatch(re.escape(school["page"]) + f"postvak/({UUID4})\\.json", request.url)
    assert match, request.url
    assert request.method == "PUT"
    assert request.headers["content-type"] == "application/json"
    return match.group(1), json.loads(request.post_data)


def first_day() -> str:
    """What the receipt calls the day an absence without dates is for."""
    today = datetime.now(SCHOOL_TZ).date()
    if today.weekday() < 5:
        return "vandaag"
    monday = today + timedelta(days=7 - today.weekday())
    return f"maandag {datum(monday).rsplit(' ', 1)[0]}"


SERVER_DATE = "Tue, 24 Nov 2026 06:12:07 GMT"  # 07:12 in Amsterdam (CET)
RECEIPT = "Ontvangen door de school op dinsdag 24 november 2026 om 07.12 uur."



def receipt(page, form: str) -> str:
    shown = page.locator(f"{form} .receipt")
    shown.filter(has_text=re.compile(".")).wait_for()
    return shown.inner_text()


def error(page, form: str) -> str:
    shown = page.locator(f"{form} .error")
    shown.filter(has_text=re.compile(".")).wait_for()
    return shown.inner_text()


def pending(page) -> list[dict]:
    return page.evaluate("[...document.querySelectorAll('[data-thread] [data-pending]')].map("
                         "li => ({id: li.dataset.id, text: [...li.querySelectorAll('p')].map("
                         "p => p.textContent).join('\\n')}))")


def remembered(page, school) -> str | None:
    return page.evaluate(f"localStorage.getItem('schoolplein.postvak:{school['parent'].family}')")


def test_an_absence_is_one_put_of_the_right_json_and_the_receipt_shows_the_servers_time(
        school, page):
    choose(page, "#afwezigheid", "kind", "zoe-devries")
    choose(page, "#afwezigheid", "reden", "ziek")
    type_into(page, "#afwezigheid-toelichting", "Koorts, blijft thuis")
    assert page.locator("#afwezigheid-teller").inner_text() == "Nog 480 tekens"
    submit(page, "#afwezigheid")
    route = held(page)
    assert page.locator("#afwezigheid button").is_disabled()
    ident, body = check_put(route, school)
    assert body == {"v": 1, "soort": "afwezigheid", "kind": "zoe-devries", "reden": "ziek",
                    "toelichting": "Koorts, blijft thuis"}  # today: the server's date counts
    answer(route, 201, {"Date": SERVER_DATE})
    assert receipt(page, "#afwezigheid").startswith(RECEIPT)
    assert pending(page) == [{"id": ident, "text": "Verstuurd vanaf dit apparaat · dinsdag 24 "
                              f"november 2026 om 07.12 uur\nAfwezigheid Zoë: {first_day()}\n"
                              "Status: ontvangen, nog niet verwerkt"}]
    assert page.locator("#afwezigheid button").is_enabled()
    assert page.locator("#afwezigheid-toelichting").input_value() == ""


def test_a_period_sends_its_first_and_last_day(school, page):
    today = datetime.now(SCHOOL_TZ).date()
    monday = today + timedelta(days=7 - today.weekday())
    choose(page, "#afwezigheid", "kind", "omer-devries")
    choose(page, "#afwezigheid", "wanneer", "periode")
    assert page.locator("#afwezigheid [data-period]").is_visible()
    page.locator("#afwezigheid [name=van]").fill(str(monday))
    page.locator("#afwezigheid [name=tot]").fill(str(monday + timedelta(days=2)))
    choose(page, "#afwezigheid", "reden", "arts")
    submit(page, "#afwezigheid")
    route = held(page)
    _, body = check_put(route, school)
    assert body == {"v": 1, "soort": "afwezigheid", "kind": "omer-devries", "reden": "arts",
                    "van": str(monday), "tot": str(monday + timedelta(days=2))}
    answer(route, 201, {"Date": SERVER_DATE})
    assert receipt(page, "#afwezigheid").startswith(RECEIPT)
    label = f"Afwezigheid Ömer: maandag {datum(monday).rsplit(' ', 1)[0]} t/m woensdag"
    assert label in pending(page)[0]["text"]
    assert "arts" not in remembered(page, school)


def test_a_message_goes_to_the_chosen_teacher_exactly_as_typed(school, page):
    text = "Mag Zoë vrijdag eerder weg?\n<b>Groet</b> & dank"
    page.select_option("#bericht-aan", "lk-02")
    type_into(page, "#bericht-tekst", text)
    assert page.locator("#bericht-teller").inner_text() == f"Nog {2000 - len(text)} tekens"
    submit(page, "#bericht")
    route = held(page)
    _, body = check_put(route, school)
    assert body == {"v": 1, "soort": "bericht", "aan": "lk-02", "tekst": text}
    answer(route, 201, {"Date": SERVER_DATE})
    assert receipt(page, "#bericht").startswith(RECEIPT)
    assert "Bericht aan Meester Pieter Bos" in pending(page)[0]["text"]


def test_photo_consent_sends_the_childs_choice(school, page):
    form = "#beeldgebruik form[data-kind=\"zoe-devries\"]"
    assert page.locator(f"{form} input:checked").get_attribute("value") == "school"
    choose(page, form, "keuze", "geen")
    submit(page, form)
    route = held(page)
    _, body = check_put(route, school)
    assert body == {"v": 1, "soort": "beeldgebruik", "kind": "zoe-devries", "keuze": "geen"}
    answer(route, 201, {"Date": SERVER_DATE})
    assert receipt(page, form).startswith(RECEIPT)
    assert "Beeldgebruik Zoë: Geen foto's" in pending(page)[0]["text"]


def test_missing_choices_are_said_before_anything_is_sent(page):
    submit(page, "#afwezigheid")
    assert error(page, "#afwezigheid") == "Kies welk kind afwezig is."
    assert page.evaluate("document.activeElement.name") == "kind"
    submit(page, "#bericht")
    assert error(page, "#bericht") == "Kies aan wie het bericht is."
    assert page.locator("#bericht .error").get_attribute("role") == "alert"
    page.wait_for_timeout(300)
    assert page.held.routes == []


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
    page.select_option("#bericht-aan", "directie")
    type_into(page, "#bericht-tekst", "Vraag over de ouderbijdrage")
    submit(page, "#bericht")
    route = held(page)
    if status:
        answer(route, status)
    else:
        route.abort("internetdisconnected")
    assert says in error(page, "#bericht")
    assert page.locator("#bericht .receipt").inner_text() == ""
    assert page.locator("#bericht-tekst").input_value() == "Vraag over de ouderbijdrage"
    assert page.locator("#bericht button").is_enabled()
    if status in (429, 500, 0):
        assert page.locator("#bericht .error a[href^='tel:']").is_visible()
    assert pending(page) == []


def test_a_retry_keeps_its_id_so_nothing_arrives_twice(school, page):
    """The connection dropped after sending: the same text again reuses the id, and the
    server's "that name exists" (409) then means the first try did arrive."""
    page.select_option("#bericht-aan", "lk-07")
    type_into(page, "#bericht-tekst", "Tot morgen")
    submit(page, "#bericht")
    first = held(page)
    first_id = check_put(first, school)[0]
    first.abort("connectionreset")
    error(page, "#bericht")
    submit(page, "#bericht")
    second = held(page)
    assert check_put(second, school)[0] == first_id
    answer(second, 409)
    assert receipt(page, "#bericht").startswith("Dit was al goed aangekomen bij de school.")
    assert len(pending(page)) == 1


def test_a_double_tap_sends_once(school, page):
    form = "#beeldgebruik form[data-kind=\"omer-devries\"]"
    choose(page, form, "keuze", "groep")
    page.locator(f"{form} button[type=submit]").click(click_count=3)
    route = held(page)
    with pytest.raises(TimeoutError):
        page.held.next(timeout=0.5)
    answer(route, 201, {"Date": SERVER_DATE})
    receipt(page, form)
    assert len(pending(page)) == 1


def test_after_a_reload_the_device_shows_what_the_page_does_not_list_yet(school, page):
    listed = school["seeded"][0]
    waiting = str(uuid.uuid4())
    now = datetime.now(UTC).isoformat()
    saved = [{"id": listed, "label": "Bericht aan Meester Pieter Bos", "at": now},
             {"id": waiting, "label": "Afwezigheid Zoë: vandaag, ziek", "at": now}]
    page.evaluate(f"localStorage.setItem('schoolplein.postvak:{school['parent'].family}', "
                  f"{json.dumps(json.dumps(saved))})")
    page.reload()
    assert [p["id"] for p in pending(page)] == [waiting]
    assert "ontvangen, nog niet verwerkt" in pending(page)[0]["text"]
    kept = [r["id"] for r in json.loads(remembered(page, school))]
    assert kept == [waiting]  # the page lists the other one: forgotten on the device


def test_logging_out_forgets_the_remembered_receipts(school, page):
    form = "#beeldgebruik form[data-kind=\"omer-devries\"]"
    choose(page, form, "keuze", "geen")
    submit(page, form)
    answer(held(page), 201, {"Date": SERVER_DATE})
    receipt(page, form)
    assert remembered(page, school)
    page.evaluate("localStorage.setItem('schoolplein.ander', 'blijft')")
    page.locator("header a[href='/uitloggen/']").click()
    page.locator("#status", has_text="U bent uitgelogd").wait_for()
    assert remembered(page, school) is None
    assert page.evaluate("localStorage.getItem('schoolplein.ander')") == "blijft"


def test_the_thread_shows_the_parents_words_as_text(school, page):
    items = page.evaluate("[...document.querySelectorAll('[data-thread] [data-id]')].map(li => ("
                          "{id: li.dataset.id, said: (li.querySelector('.said') || {})"
                          ".textContent}))")
    assert [i["id"] for i in items] == school["seeded"]  # oldest first
    assert items[0]["said"] == EVIL
    assert page.locator("main img").count() == 0
    assert "Status: doorgestuurd aan Meester Pieter Bos" in \
        page.locator("[data-thread]").inner_text()


# Everything a finger uses on this page, and the forms' own controls.
CONTROLS_JS = """() => [...document.querySelectorAll(
    'main a, main button, main select, main textarea, main input[type=date], label.choice')]
  .filter(e => e.offsetParent !== null && !e.closest('p:not(.meta), li.turn .content'))
  .map(e => { const r = e.getBoundingClientRect();
              return {what: e.tagName + ' ' + e.textContent.trim().slice(0, 25), w: r.width,
                      h: r.height}; })"""


def test_on_a_phone_everything_fits_is_big_enough_and_shows_focus(school, page):
    choose(page, "#afwezigheid", "wanneer", "periode")  # the date fields too
    small = [c for c in page.evaluate(CONTROLS_JS) if c["w"] < 44 or c["h"] < 44]
    assert not small, small
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    heights = page.evaluate("[...document.querySelectorAll('.screen')].map(s => ("
                            "{id: s.id, h: s.getBoundingClientRect().height}))")
    for screen in heights[:2]:  # absence and message: each one screen on a phone
        assert screen["h"] <= 844, heights
    labels = page.evaluate("[...document.querySelectorAll('main textarea, main select, "
                           "main input')].filter(i => !i.labels || i.labels.length === 0)"
                           ".map(i => i.name)")
    assert labels == []
    page.evaluate("const h = document.querySelector('#afwezigheid-kop');"
                  "h.setAttribute('tabindex', '-1'); h.focus()")
    seen = set()
    for _ in range(24):  # a date field takes three tabs (day, month, year)
        page.keyboard.press("Tab")
        focus = page.evaluate(FOCUS_JS)
        tag = page.evaluate("document.activeElement.tagName + ' ' + (document.activeElement.name"
                            " || document.activeElement.textContent.trim().slice(0, 20))")
        seen.add(tag)
        assert focus["style"] != "none" and focus["width"] >= 3, (tag, focus)
        assert focus["ratio"] >= 3, (tag, focus)
    assert {"INPUT kind", "INPUT reden", "TEXTAREA toelichting", "BUTTON Afwezigheid versture",
            "SELECT aan"} <= seen, seen
    if SCREENSHOTS:  # one per screen, as the phone shows it, and the whole page
        page.screenshot(path=Path(SCREENSHOTS, "mijn-gezin-390-hele-pagina.png"), full_page=True)
        for name in ("inhoud", "afwezigheid", "bericht", "beeldgebruik", "gesprek"):
            page.evaluate(f"document.getElementById('{name}').scrollIntoView()")
            page.screenshot(path=Path(SCREENSHOTS, f"mijn-gezin-390x844-{name}.png"))


def test_without_javascript_the_page_says_how_to_reach_the_school(school, browser):
    with own_phone(school, browser, java_script_enabled=False) as page:
        page.goto(school["page"])
        state = page.evaluate("""() => ({
            forms: document.querySelector('[data-postvak-forms]').offsetParent !== null,
            nav: document.getElementById('postvak').offsetParent !== null,
            text: document.querySelector('main').innerText,
            tel: [...document.querySelectorAll('main a[href^="tel:"]')]
                   .filter(a => a.offsetParent !== null).length,
            overflow: document.documentElement.scrollWidth > 390})""")
    assert not state["forms"] and not state["nav"] and not state["overflow"]
    assert "werkt op deze pagina alleen met JavaScript" in state["text"]
    assert "directie@kcdematrix.example.nl" in state["text"] and state["tel"] >= 2
    assert "Gesprek met school" in state["text"]  # the thread is readable without script


def test_a_message_through_real_nginx_and_invoke_postvak_shows_up_with_its_status(school,
                                                                                  device):
    """No test answers here: nginx's DAV stores it, the receipt shows nginx's Date, `invoke
    postvak` processes it and republishes, and the page lists it; the device forgets it."""
    device.goto(school["page"])
    device.evaluate("localStorage.clear()")
    device.goto(school["page"])
    device.errors.clear()
    device.select_option("#bericht-aan", "lk-02")
    type_into(device, "#bericht-tekst", "Via de echte server <b>dank</b>")
    before = datetime.now(UTC).replace(microsecond=0)
    submit(device, "#bericht")
    shown = receipt(device, "#bericht")
    after = datetime.now(UTC)
    (ident,) = [p["id"] for p in pending(device)]
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
    device.reload()
    item = device.locator(f"[data-thread] [data-id='{ident}']")
    assert item.get_attribute("data-pending") is None
    assert "Via de echte server <b>dank</b>" in item.inner_text()
    assert "Status: doorgestuurd aan Meester Pieter Bos" in item.inner_text()
    assert remembered(device, school) == "[]"
    assert device.errors == []


# Every layout shift the page makes while it loads and its script starts (no input involved).
LAYOUT_SHIFT_JS = """
window.__shifts = [];
new PerformanceObserver(list => {
  for (const entry of list.getEntries()) {
    if (!entry.hadRecentInput) window.__shifts.push(entry.value);
  }
}).observe({type: 'layout-shift', buffered: true});
"""


def test_on_a_phone_the_absence_form_and_the_newest_item_are_one_tap_away(school, page):
    page.evaluate("window.scrollTo(0, 0)")
    newest = page.locator("[data-thread] > li").last
    for target in ("#afwezigheid", f"#{newest.get_attribute('id')}"):
        link = page.locator(f"main a[href='{target}']").first
        box = link.bounding_box()
        assert box and box["y"] + box["height"] <= 844, (target, box)  # on the first screen
        link.click()
        page.wait_for_function(f"document.querySelector('{target}').getBoundingClientRect()"
                               ".top < 200")
        top = page.evaluate(f"document.querySelector('{target}').getBoundingClientRect().top")
        assert -1 <= top < 200, (target, top)  # what the tap opened is at the top of the screen
        page.evaluate("window.scrollTo(0, 0)")
    times = page.eval_on_selector_all("[data-thread] > li time", "ts => ts.map(t => t.dateTime)")
    assert newest.locator("time").get_attribute("datetime") == max(times)  # the newest item


def test_the_family_page_does_not_jump_while_it_loads(school, browser):
    with own_phone(school, browser) as page:
        page.add_init_script(LAYOUT_SHIFT_JS)  # (an init script runs without the page's CSP)
        # A phone on a slow connection: the page is painted before its script arrives, so
        # whatever the script changes moves what was already shown. The test holds the script
        # back until the page has been on the screen for a while.
        scripts = []
        page.route("**/*.js", lambda route: scripts.append(route))
        page.goto(school["page"], wait_until="commit")
        page.wait_for_timeout(800)
        assert page.evaluate("performance.getEntriesByType('paint').length")
        for route in scripts:
            route.continue_()
        page.wait_for_load_state("load")
        page.wait_for_timeout(500)
        shifts = page.evaluate("window.__shifts")
    assert sum(shifts) <= 0.1, shifts  # Lighthouse's "good" cumulative layout shift


@pytest.mark.parametrize("script", [True, False])
def test_the_directies_address_is_shown_where_the_page_refers_to_it(school, browser, script):
    with own_phone(school, browser, java_script_enabled=script) as page:
        page.goto(school["page"])
        text = page.locator("main").inner_text()
        mails = [a for a in page.locator("main a[href='mailto:directie@kcdematrix.example.nl']")
                 .all() if a.is_visible()]
        assert mails and mails[0].inner_text() == "directie@kcdematrix.example.nl"
        assert "hierboven" not in text
        if script:  # the message form's hint names the address itself
            assert page.locator("#bericht-uitleg a[href^='mailto:']").is_visible()
