"""Sign-ups through real parts: Chromium on a phone signs up and books on the demo school behind
real nginx, `invoke postvak` decides, aiosmtpd receives the mails; 30 families race for 20 slots.

The demo's deadlines and conference days are moved relative to the real clock in the test's own
copy of the content (nginx stamps each PUT with its own time), so no test depends on today."""

from __future__ import annotations

import csv
import email
import json
import os
import re
import shlex
import threading
import uuid
from datetime import UTC, datetime, timedelta
from email.policy import default as default_policy
from pathlib import Path, PurePosixPath

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import expect

from plugins import signups as declared
from plugins.agenda import holiday_in, school_holidays
from plugins.roster import load_roster
from publish.headers import CACHE_PROTECTED_PAGE
from publish.targets.basic_auth import Deploy, local_server
from tests.chromium import capture_errors, phone
from tests.helpers import ROOT, demo_school, family_id, passphrase, run_invoke
from tests.http_client import Client

TALKS = "content/groep/groep-3/2026-12-01-oudergesprekken.md"
TRIP = "content/groep/groep-3/2026-10-20-hulpouders-gezocht.md"


class Mailbox:
    """aiosmtpd's handler: every mail the round sends, as parsed messages."""

    def __init__(self):
        self.messages: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope.content)
        return "250 OK"

    def parsed(self) -> list[email.message.EmailMessage]:
        return [email.message_from_bytes(m, policy=default_policy) for m in self.messages]


@pytest.fixture
def mailbox():
    box, port = Mailbox(), local_server.free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port, enable_SMTPUTF8=True)
    controller.start()
    box.port = port
    try:
        yield box
    finally:
        controller.stop()


def days(n: int) -> str:
    return (datetime.now(UTC) + timedelta(days=n)).date().isoformat()


def move_dates(content: Path) -> None:
    """The demo's sign-ups, open for three more weeks whatever today is."""
    for post in (content / "groep").glob("*/*-hulpouders-gezocht.md"):
        text = post.read_text(encoding="utf-8")
        post.write_text(text.replace("Aanmelden_tot: 2027-03-01", f"Aanmelden_tot: {days(21)}"),
                        encoding="utf-8")
    talks = content.parent / TALKS
    text = talks.read_text(encoding="utf-8")
    for old, new in (("2027-02-09", days(28)), ("2027-02-11", days(30)),
                     ("2027-02-05", days(21))):
        text = text.replace(old, new)
    talks.write_text(text, encoding="utf-8")


def nginx_school(tmp_path: Path, mailbox: Mailbox, prepare=None):
    """The demo school (dates moved, `prepare(tmp_path)` applied) published to nginx."""
    port = local_server.free_port()
    env = demo_school(tmp_path, SCHOOLPLEIN_LISTEN=f"127.0.0.1:{port}",
                      SCHOOLPLEIN_SITEURL=f"http://127.0.0.1:{port}",
                      SCHOOLPLEIN_SMTP_HOST="127.0.0.1", SCHOOLPLEIN_SMTP_PORT=str(mailbox.port),
                      SCHOOLPLEIN_SMTP_STARTTLS="false")
    env["SCHOOLPLEIN_WEB_USER"] = os.environ.get("USER", "root")
    move_dates(tmp_path / "content")
    if prepare:
        prepare(tmp_path)
    accounts = run_invoke("accounts", env=env)
    assert accounts.returncode == 0, accounts.stderr
    letters = next((tmp_path / "private" / "letters").glob("*.html")).read_text()
    first = run_invoke("publish", "--target", "nginx", env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    return port, env, letters


@pytest.fixture
def school(tmp_path, mailbox):
    port, env, letters = nginx_school(tmp_path, mailbox)
    proc = local_server.start(Deploy(tmp_path / "deploy" / "nginx"), port)
    try:
        yield tmp_path, env, letters, f"http://127.0.0.1:{port}"
    finally:
        local_server.stop(proc)


def test_a_parent_on_a_phone_signs_up_and_books_a_slot_and_only_the_teacher_sees_who(
        school, browser, mailbox):
    tmp, env, letters, base = school
    roster = load_roster(tmp / "roster")
    parent = roster.parents["ouder-001"]  # Marieke: Zoë in groep 3, Ömer in groep 5/6
    login = (parent.email, passphrase(letters, parent.email))
    context = phone(browser, login=login)
    page = context.new_page()
    errors = capture_errors(page)
    home = f"{base}/gezin/{parent.family}/"
    page.goto(home)
    box = page.locator("#inschrijvingen")
    expect(box).to_be_visible()
    trip = box.locator(".signup", has_text="Hulpouders Groep 3").locator("form")
    trip.get_by_role("button", name="Versturen").tap()
    expect(trip.locator(".receipt")).to_contain_text("Ontvangen door de school")
    talks = box.locator(".signup", has_text="Oudergesprekken Groep 3").locator(
        "form[data-kind='zoe-devries']")
    first_free = talks.locator("select option").nth(1)
    when = first_free.inner_text()
    talks.locator("select").select_option(index=1)
    talks.get_by_role("button", name="Boeken").tap()
    expect(talks.locator(".receipt")).to_contain_text("Ontvangen door de school")

    processed = run_invoke("postvak", "--target", "nginx", env=env)
    assert processed.returncode == 0, processed.stdout + processed.stderr
    assert "2 verwerkt" in processed.stdout, processed.stdout
    page.reload()
    box = page.locator("#inschrijvingen")
    expect(box.locator(".signup", has_text="Hulpouders Groep 3").locator("[data-mine]")) \
        .to_have_text(f"{parent.name}: aangemeld")
    expect(box.locator(".signup", has_text="Oudergesprekken Groep 3").locator("[data-mine]")) \
        .to_have_text(f"Zoë: gesprek op {when}")
    # the other household of a shared child, and the post every groep-3 parent reads
    post = page.context.new_page()
    post.goto(f"{base}/groep/groep-3/2026-10-20-hulpouders-gezocht/")
    expect(post.locator("[data-places]")).to_have_text("Nog 2 van de 3 plaatsen vrij.")
    expect(post.locator("section.signup")).not_to_contain_text(parent.name)
    assert parent.name not in post.content()
    # the post's button leads to the form on Mijn gezin
    post.get_by_role("link", name="Aanmelden").tap()
    expect(post).to_have_url(re.compile(rf"/gezin/{parent.family}/#aanmelden-act-[0-9a-f]{{12}}$"))
    # twice: refused, with the reason on the page
    trip = post.locator("#inschrijvingen .signup", has_text="Hulpouders Groep 3").locator("form")
    trip.get_by_role("button", name="Versturen").tap()
    expect(trip.locator(".receipt")).to_contain_text("Ontvangen door de school")
    again = run_invoke("postvak", "--target", "nginx", env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    post.reload()
    expect(post.locator("[data-thread]")).to_contain_text(
        "niet verwerkt: aanmelden: u staat al op de lijst (aangemeld)")
    # a parent never opens the staff list; the group's teacher does, with name and schedule
    staff_page = post.goto(f"{base}/personeel/groep-3/")
    assert staff_page.status == 403
    assert errors == []
    context.close()

    teacher = roster.staff["lk-02"]
    client = Client(base)
    t_login = (teacher.email, passphrase(letters, teacher.email))
    status, body, _ = client.get("/personeel/groep-3/", t_login)
    assert status == 200 and parent.name in body.decode()
    status, body, headers = client.get("/personeel/groep-3/2026-12-01-oudergesprekken.csv", t_login)
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    assert headers["Cache-Control"] == CACHE_PROTECTED_PAGE  # never kept by a shared cache
    rows = list(csv.reader(body.decode("utf-8-sig").splitlines()))
    assert [r for r in rows if "Zoë de Vries" in r] and sum(r[2] == "(vrij)" for r in rows) == \
        len(rows) - 2
    status, body, headers = client.get("/personeel/groep-3/2026-12-01-oudergesprekken.ics", t_login)
    assert status == 200 and headers["Content-Type"].startswith("text/calendar")
    assert body.count(b"BEGIN:VEVENT") == 1 and "Oudergesprek Zoë".encode() in body
    other_teacher = roster.staff["lk-04"]  # groep 5/6 only
    status, _, _ = client.get("/personeel/groep-3/",
                              (other_teacher.email, passphrase(letters, other_teacher.email)))
    assert status == 403
    client.close()

    mails = mailbox.parsed()
    assert mails, "no mail reached aiosmtpd"
    others = [p.name for p in roster.parents.values() if p.family != parent.family]
    other_kids = [c.first_name for c in roster.children.values()
                  if c.id not in parent.children and len(c.first_name) > 3]
    for mail in mails:
        text = mail.get_body(("plain",)).get_content()
        assert not [n for n in others if n in text], (mail["To"], text)
        assert not [n for n in other_kids if re.search(rf"\b{re.escape(n)}\b", text)], text
    assert any(parent.email in m["To"] for m in mails)


def thirty_families(tmp: Path) -> None:
    """Groep 7 gets 30 more families (one child each) and a conference post with 20 slots."""
    kids, parents = tmp / "roster" / "leerlingen.csv", tmp / "roster" / "ouders.csv"
    with kids.open("a", encoding="utf-8") as k, parents.open("a", encoding="utf-8") as p:
        for i in range(30):
            k.write(f"race-{i:02d},Kind{i:02d},Race,groep-7,\n")
            p.write(f"race-ouder-{i:02d},Ouder {i:02d} Race,race{i:02d}@example.nl,"
                    f"{family_id(500 + i)},race-{i:02d}\n")
    (tmp / "content" / "groep" / "groep-7" / "2026-12-02-gesprekken.md").write_text(
        "Title: Gesprekken groep 7\nDate: 2026-12-02 09:00\nAuthor: Meester Rik de Wit\n"
        f"Gesprekken: Meester Rik de Wit, {days(28)}, 14:00-17:20, 10 min\n"
        f"Aanmelden_tot: {days(21)} 12:00\n\nKies een moment.\n", encoding="utf-8")


def test_thirty_families_booking_twenty_slots_at_once_through_nginx(tmp_path, mailbox):
    port, env, letters = nginx_school(tmp_path, mailbox, thirty_families)
    roster = load_roster(tmp_path / "roster")
    activity = declared.declared(tmp_path / "content/groep/groep-7/2026-12-02-gesprekken.md",
                                 tmp_path / "content", roster)
    assert len(activity.slots) == 20
    assert activity.key == str(PurePosixPath("groep/groep-7/2026-12-02-gesprekken"))
    proc = local_server.start(Deploy(tmp_path / "deploy" / "nginx"), port)
    statuses: dict[int, int] = {}
    start = threading.Barrier(30)

    def book(i: int) -> None:
        parent = roster.parents[f"race-ouder-{i:02d}"]
        client = Client(f"http://127.0.0.1:{port}")
        body = {"v": 1, "soort": "gesprek", "activiteit": activity.ref, "kind": f"race-{i:02d}",
                "actie": "boeken", "moment": activity.slots[i % 20].id}
        start.wait()
        statuses[i], _, _ = client.request(
            "PUT", f"/gezin/{parent.family}/postvak/{uuid.uuid4()}.json",
            (parent.email, passphrase(letters, parent.email)), json.dumps(body).encode(),
            {"Content-Type": "application/json"})
        client.close()

    try:
        threads = [threading.Thread(target=book, args=(i,)) for i in range(30)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert sorted(statuses) == list(range(30)) and set(statuses.values()) == {201}
        result = run_invoke("postvak", "--target", "nginx", env=env)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "30 verwerkt" in result.stdout, result.stdout
    finally:
        local_server.stop(proc)
    state = declared.read_state(tmp_path / "private")
    booked = state[activity.key]["gesprekken"]
    assert len(booked) == 20 and {b["kind"] for b in booked.values()} <= \
        {f"race-{i:02d}" for i in range(30)}
    assert len({b["kind"] for b in booked.values()}) == 20  # no slot twice, no child twice
    # slots 0..9 were contested: the earlier receipt won each; the ten others were told 'bezet'
    busy = [m for m in mailbox.parsed() if "bezet" in m.get_body(("plain",)).get_content()]
    losers = {m["To"] for m in busy}
    assert len(losers) == 10, sorted(losers)
    winners = {roster.children[b["kind"]].id for b in booked.values()}
    for i in range(30):
        parent = roster.parents[f"race-ouder-{i:02d}"]
        assert (f"race-{i:02d}" in winners) != any(parent.email in t for t in losers)
    for mail in busy:
        assert "kies een ander moment" in mail.get_body(("plain",)).get_content()


def test_a_leave_request_from_a_phone_is_decided_with_invoke_verlof_and_both_parents_told(
        school, browser, mailbox):
    tmp, env, letters, base = school
    roster = load_roster(tmp / "roster")
    parent, other = roster.parents["ouder-001"], roster.parents["ouder-002"]  # one household
    context = phone(browser, login=(parent.email, passphrase(letters, parent.email)))
    page = context.new_page()
    errors = capture_errors(page)
    page.goto(f"{base}/gezin/{parent.family}/")
    form = page.locator("#verlof form")
    start = datetime.now(UTC).date() + timedelta(weeks=10)
    start += timedelta(days=(7 - start.weekday()) % 7)  # a Monday, well over 8 weeks ahead
    holidays = school_holidays(ROOT / "content")  # days in a holiday are refused
    while holiday_in(holidays, start, start + timedelta(days=4)):
        start += timedelta(weeks=1)
    form.locator("input[name='kind'][value='zoe-devries']").check()
    form.locator("input[name='van']").fill(start.isoformat())
    form.locator("input[name='tot']").fill((start + timedelta(days=4)).isoformat())
    form.locator("input[name='reden'][value='vakantie']").check()
    form.get_by_role("button", name="Verlof aanvragen").tap()
    expect(form.locator(".error")).to_contain_text("werkgeversverklaring")  # said before sending
    form.locator("input[name='werkgeversverklaring']").check()
    form.locator("textarea").fill("Mijn werkgever geeft in de zomer geen vrij.")
    form.get_by_role("button", name="Verlof aanvragen").tap()
    expect(form.locator(".receipt")).to_contain_text("Ontvangen door de school")
    processed = run_invoke("postvak", "--target", "nginx", env=env)
    assert processed.returncode == 0 and "1 verwerkt" in processed.stdout, processed.stdout

    listed = run_invoke("verlof", env=env)
    assert listed.returncode == 0, listed.stderr
    match = re.search(r"^(\w{8})\s+OPEN\s+Zoë", listed.stdout, re.M)
    assert match, listed.stdout
    nobody = run_invoke("verlof", "--aanvraag", match.group(1), "--besluit", "toegekend",
                        env=env)
    assert nobody.returncode == 1 and "wie besluit ontbreekt" in nobody.stderr
    before = len(mailbox.messages)
    # the directie's mail says how to decide; typed as it says, it works
    # (on the report's weekday the directie also gets the staff report: not this mail)
    directie = [m for m in mailbox.parsed() if m["To"] == "directie@kcdematrix.example.nl"
                and "Beslissen: " in m.get_body(("plain",)).get_content()]
    said = re.search(r"Beslissen: (invoke verlof .*?) \(", directie[-1].get_body(
        ("plain",)).get_content())
    assert said, directie[-1].get_body(("plain",)).get_content()
    command = shlex.split(said.group(1).replace("<kenmerk>", match.group(1)).replace(
        "toegekend|afgewezen", "toegekend").replace("<naam>", "Ingrid Hoekstra"))
    decided = run_invoke(*command[1:], "--toelichting", "Verklaring ontvangen.",
                         "--target", "nginx", env=env)
    assert decided.returncode == 0, decided.stdout + decided.stderr
    assert "Gepubliceerd" in decided.stdout
    told = mailbox.parsed()[before:]
    assert {m["To"] for m in told} >= {parent.email, other.email}, [m["To"] for m in told]
    assert all("Verklaring ontvangen" not in m.get_body(("plain",)).get_content() for m in told)
    page.reload()
    expect(page.locator("[data-thread]")).to_contain_text("toegekend door Ingrid Hoekstra")
    expect(page.locator("[data-thread]")).to_contain_text("Verklaring ontvangen.")
    audit = (tmp / "private" / "postvak" / "verlof-audit.csv").read_text(encoding="utf-8")
    assert "Ingrid Hoekstra" in audit and "toegekend" in audit
    assert errors == []
    context.close()


def test_a_page_left_open_past_the_deadline_closes_its_forms(school, browser):
    tmp, env, letters, base = school
    roster = load_roster(tmp / "roster")
    parent = roster.parents["ouder-001"]
    context = phone(browser, login=(parent.email, passphrase(letters, parent.email)))
    page = context.new_page()
    page.clock.install(time=datetime.now(UTC) + timedelta(days=22))  # the phone's clock
    page.goto(f"{base}/gezin/{parent.family}/")
    trip = page.locator("#inschrijvingen .signup", has_text="Hulpouders Groep 3")
    expect(trip.locator("form")).to_be_hidden()
    expect(trip.locator(".closed")).to_have_text("De inschrijving is gesloten.")
    expect(page.locator("#verlof form")).to_be_visible()  # leave has no deadline
    context.close()
