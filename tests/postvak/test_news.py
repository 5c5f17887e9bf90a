"""Mails about what is new, as a real SMTP server (aiosmtpd on 127.0.0.1) receives them."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from plugins.site import build
from postvak import process
from postvak.news import after_publish, send_digests
from tests.postvak.conftest import CHILDREN, FAM_K, FAM_V, PARENTS, SITE, with_smtp

NOW = datetime.fromisoformat("2026-11-10T12:00:00+01:00")  # a Tuesday
EVENING = datetime.fromisoformat("2026-11-10T18:05:00+01:00")
ALL = {p[2] for p in PARENTS}
GROEP_3 = {p[2] for p in PARENTS if any(c[0] in p[4].split(";") and c[3] == "groep-3"
                                         for c in CHILDREN)}
NAMES = {c[1] for c in CHILDREN} | {f"{c[1]} {c[2]}" for c in CHILDREN}  # first and full names


class Site:
    """A small school's content, built and 'published' (the output is what is live)."""

    def __init__(self, tmp: Path, settings):
        self.tmp, self.settings, self.builds = tmp, settings, 0
        self.content = tmp / "content"
        self.post("school", "2026-09-01-welkom", "Welkom")
        self.post("groep/groep-3", "2026-09-02-start", "Eerste week")
        self.agenda("school", "Wat: Studiedag\nWanneer: 2026-12-14\n")

    def post(self, folder: str, name: str, title: str, body: str = "Tekst.", extra: str = "") -> Path:
        path = self.content / folder / f"{name}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"Title: {title}\nDate: {name[:10]} 10:00\n{extra}\n{body}\n")
        return path

    def agenda(self, folder: str, text: str) -> None:
        (self.content / folder).mkdir(parents=True, exist_ok=True)
        (self.content / folder / "agenda.txt").write_text(text)

    def publish(self, now: datetime = NOW):
        self.builds += 1
        out = self.tmp / f"out-{self.builds}"
        built = build(output_path=str(out), path=str(self.content),
                      schoolplein_roster=str(self.settings.roster),
                      schoolplein_private=str(self.settings.private),
                      photo_cache_dir=str(self.tmp / "cache"), photo_audit_dir=str(self.tmp / "audit"),
                      schoolplein_siteurl=SITE, schoolplein_today="2026-11-10")
        self.sections, self.roster = built["SCHOOLPLEIN_SECTIONS"], built["SCHOOLPLEIN_ROSTER_OBJ"]
        done = after_publish(self.settings, out, self.sections, self.roster, now)
        shutil.rmtree(self.tmp / f"out-{self.builds - 1}", ignore_errors=True)
        return done

    def digest(self, now: datetime = EVENING, **kw):
        return send_digests(self.settings, self.sections, self.roster, now, **kw)


@pytest.fixture
def site(tmp_path, school, smtp_server):
    settings = with_smtp(school, smtp_server.port)
    found = Site(tmp_path, settings)
    assert found.publish().baseline  # the first publish: what is there is not news
    return found


def received(smtp_server, since: int = 0):
    return smtp_server.parsed()[since:]


def test_a_daily_summary_reaches_the_readers_of_each_section_once(site, smtp_server):
    site.post("groep/groep-3", "2026-11-10-bos", "Uitje naar het bos")
    site.agenda("school", "Wat: Studiedag\nWanneer: 2026-12-15\n")  # moved a day
    done = site.publish()
    assert done.new == 2 and done.queued == 0  # daily is the default: nothing at once
    site.digest(NOW.replace(hour=17))  # before 18:00: not due yet
    assert not smtp_server.messages
    site.digest()
    mails = received(smtp_server)
    assert {m["To"] for m in mails} == ALL  # every parent: the school's agenda changed
    for mail in mails:
        text = mail.get_body(("plain",)).get_content()
        page = mail.get_body(("html",)).get_content()
        assert "Gewijzigd in de agenda: Studiedag (dinsdag 15 december 2026)" in text
        assert ("Uitje naar het bos" in text) == (mail["To"] in GROEP_3)
        assert ("Uitje naar het bos" in page) == (mail["To"] in GROEP_3)
        assert mail["Subject"].startswith("Dagoverzicht van ")
        family = next(p[3] for p in PARENTS if p[2] == mail["To"])
        assert mail["List-Unsubscribe"].strip() == f"<{SITE}/gezin/{family}/#meldingen>"
        assert mail["Auto-Submitted"] == "auto-generated" and mail["Message-ID"]
        assert [p.get_content_type() for p in mail.walk()] == [
            "multipart/alternative", "text/plain", "text/html"]  # no image, no attachment
        raw = mail.as_string()
        assert not [n for n in NAMES if n in text or n in page], raw
    again = len(smtp_server.messages)
    site.digest()  # the same evening again
    site.publish()  # and the same site again
    site.digest(EVENING + timedelta(minutes=30))
    assert len(smtp_server.messages) == again


def test_at_once_weekly_and_none_follow_each_parents_choice(site, smtp_server, inbox):
    inbox.settings = site.settings
    choices = {"marieke.devries@example.nl": {"keuze": "direct"},
               "youssef.nováková@example.nl": {"keuze": "wekelijks", "dag": "maandag"},
               "dennis.kok@example.nl": {"keuze": "geen"}}
    families = {p[2]: p[3] for p in PARENTS}
    for login, choice in choices.items():
        inbox.put(families[login], login, {"soort": "meldingen", **choice})
    process(site.settings, NOW)
    smtp_server.messages.clear()
    site.post("groep/groep-3", "2026-11-10-bos", "Uitje naar het bos")
    assert site.publish().queued == 1
    (direct,) = received(smtp_server)
    assert direct["To"] == "marieke.devries@example.nl"
    assert direct["Subject"] == "Nieuw: Uitje naar het bos"
    site.digest()
    daily = {m["To"] for m in received(smtp_server, 1)}
    assert daily == GROEP_3 - set(choices)
    site.digest(EVENING + timedelta(days=6))  # Monday 16 November, 18:05: the week's summary
    weekly = received(smtp_server, 1 + len(daily))
    assert [m["To"] for m in weekly] == ["youssef.nováková@example.nl"]
    assert weekly[0]["Subject"].startswith("Weekoverzicht")
    assert "Uitje naar het bos" in weekly[0].get_body(("plain",)).get_content()


def test_an_smtp_outage_is_retried_and_nobody_gets_it_twice(site, smtp_server):
    from dataclasses import replace

    from postvak import SmtpSettings
    from publish.targets.basic_auth.local_server import free_port

    down = replace(site.settings, smtp=SmtpSettings("127.0.0.1", free_port(), starttls=False,
                                                    timeout=2))
    site.settings = down
    site.post("groep/groep-3", "2026-11-10-bos", "Uitje naar het bos")
    site.publish()
    done = site.digest()
    assert done.queued == len(GROEP_3) and done.delivery.queued == len(GROEP_3)
    assert not smtp_server.messages
    site.settings = with_smtp(down, smtp_server.port)
    site.digest(EVENING + timedelta(minutes=10))  # the next round: the server is back
    site.digest(EVENING + timedelta(minutes=20))
    assert sorted(m["To"] for m in received(smtp_server)) == sorted(GROEP_3)


def test_a_removed_post_and_a_removed_parent_are_left_out(site, smtp_server):
    kept = site.post("groep/groep-3", "2026-11-10-bos", "Uitje naar het bos")
    gone = site.post("groep/groep-3", "2026-11-10-foutje", "Per ongeluk geplaatst")
    site.publish()
    gone.unlink()
    site.publish(NOW + timedelta(hours=1))  # removed again before the summary went out
    roster = site.settings.roster / "ouders.csv"
    roster.write_text("".join(line + "\n" for line in roster.read_text().splitlines()
                              if f",{FAM_K}," not in line))
    (site.settings.roster / "leerlingen.csv").write_text("".join(
        line + "\n" for line in (site.settings.roster / "leerlingen.csv").read_text().splitlines()
        if not line.startswith("sem-kok,")))
    site.publish(NOW + timedelta(hours=2))
    site.digest()
    mails = received(smtp_server)
    assert {m["To"] for m in mails} == GROEP_3 - {"dennis.kok@example.nl"}
    for mail in mails:
        text = mail.get_body(("plain",)).get_content()
        assert "Uitje naar het bos" in text and "Per ongeluk" not in text
    assert kept.exists()


def test_a_staff_answer_on_a_family_page_is_announced_without_its_text(site, smtp_server):
    site.post(f"gezin/{FAM_V}", "2026-11-10-gesprek", "Gesprek over Zoë",
              body="Zoë leest al heel goed; graag spreek ik u dinsdag.")
    site.post("groep/groep-3", "2026-11-10-sem", "Sem wint de voorleeswedstrijd")
    site.publish()
    site.digest()
    by_to = {m["To"]: m for m in received(smtp_server)}
    family = [p[2] for p in PARENTS if p[3] == FAM_V]
    for login, mail in by_to.items():
        text = mail.get_body(("plain",)).get_content() + mail.get_body(("html",)).get_content()
        assert "Zoë" not in text and "Sem" not in text and "leest al" not in text
        assert "Nieuw bericht" in text
        assert (f"/gezin/{FAM_V}/2026-11-10-gesprek/" in text) == (login in family)
    assert set(family) <= set(by_to)


def test_switching_from_at_once_to_daily_does_not_repeat_what_was_mailed(site, smtp_server, inbox):
    inbox.settings = site.settings
    login = "marieke.devries@example.nl"
    family = next(p[3] for p in PARENTS if p[2] == login)
    inbox.put(family, login, {"soort": "meldingen", "keuze": "direct"})
    process(site.settings, NOW)
    site.post("groep/groep-3", "2026-11-10-bos", "Uitje naar het bos")
    site.publish()
    site.digest(NOW + timedelta(hours=1))  # a postvak round: nothing due yet
    assert [m["To"] for m in received(smtp_server)] == [login]  # at once
    inbox.put(family, login, {"soort": "meldingen", "keuze": "dagelijks"}, at=NOW + timedelta(hours=2))
    process(site.settings, NOW + timedelta(hours=2))
    smtp_server.messages.clear()
    site.digest()
    assert login not in {m["To"] for m in received(smtp_server)}


def test_an_at_once_mail_says_in_its_subject_that_an_event_moved_or_was_cancelled(
        site, smtp_server, inbox):
    inbox.settings = site.settings
    login = "marieke.devries@example.nl"
    family = next(p[3] for p in PARENTS if p[2] == login)
    inbox.put(family, login, {"soort": "meldingen", "keuze": "direct"})
    process(site.settings, NOW)
    smtp_server.messages.clear()
    expected = []
    for n, (agenda, subject) in enumerate((
            ("Wat: Studiedag\nWanneer: 2026-12-15\n",
             "Gewijzigd in de agenda: Studiedag (dinsdag 15 december 2026)"),
            ("Wat: Studiedag\nWanneer: 2026-12-15\nAfgelast: ja\n",
             "Afgelast: Studiedag (dinsdag 15 december 2026)"),
            ("Wat: Studiedag\nWanneer: 2026-12-15\nAfgelast: ja\n\n"
             "Wat: Ouderavond\nWanneer: 2026-12-08 19.30\nWaar: aula\n",
             "Nieuw in de agenda: Ouderavond (dinsdag 8 december 2026, 19.30–20.30 uur, aula)"))):
        site.agenda("school", agenda)
        assert site.publish(NOW + timedelta(hours=n + 1)).queued == 1
        expected.append(subject)
    mails = received(smtp_server)
    # never "Nieuw: Studiedag" for a cancellation (Python's header folder may leave a double
    # space where it folds an encoded word: compared word by word)
    assert [" ".join(m["Subject"].split()) for m in mails] == expected
    assert {m["To"] for m in mails} == {login}
    for mail, subject in zip(mails, expected, strict=True):
        line = subject.removeprefix("Nieuw in de agenda: ")
        line = f"In de agenda: {line}" if line != subject else line
        assert f"- {line}\r\n" in mail.get_body(("plain",)).get_content()
