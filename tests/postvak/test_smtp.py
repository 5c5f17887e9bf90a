"""Notices through a real SMTP server (aiosmtpd on 127.0.0.1): recipients, retries, refusals."""

from __future__ import annotations

import re

import pytest

from plugins.errors import SchoolpleinError
from postvak import PostvakSettings, process
from postvak.settings import SmtpSettings
from postvak.store import journal
from publish.targets.basic_auth.local_server import free_port

from .conftest import ADMIN, FAM_A, FAM_V, with_smtp

SECRET = "Mijn zoon wordt gepest door <b>Daan</b>"


def test_notices_arrive_with_the_right_recipients_and_never_the_message_text(school, inbox,
                                                                             smtp_server):
    settings = with_smtp(school, smtp_server.port)
    inbox.put(FAM_V, "marieke.devries@example.nl", {"soort": "bericht", "aan": "lk-3",
                                                     "tekst": SECRET})
    inbox.put(FAM_A, "marieke.jansen@example.nl", {"soort": "afwezigheid", "kind": "daan-jansen",
                                                    "reden": "ziek", "toelichting": SECRET})
    inbox.put(FAM_V, "youssef.nováková@example.nl", {"soort": "afwezigheid", "kind": "zoe-devries",
                                                      "reden": "ziek"})
    summary = process(settings)
    assert summary.mail.sent == len(smtp_server.messages) and summary.mail.queued == 0
    rcpts = sorted(r for _, rs, _ in smtp_server.messages for r in rs)
    assert rcpts == sorted([
        "mirjam.visser@school.example.nl",  # the message
        "mirjam.visser@school.example.nl", "directie@school.example.nl", ADMIN,
        "marieke.jansen@example.nl",  # Daan's absence
        "mirjam.visser@school.example.nl", "directie@school.example.nl", ADMIN,
        "marieke.devries@example.nl", "youssef.nováková@example.nl",  # Zoë's absence
    ])
    for (sender, rs, raw), msg in zip(smtp_server.messages, smtp_server.parsed(), strict=True):
        assert sender == "noreply@ouders.example.nl" and rs == [msg["To"]]
        assert b"gepest" not in raw and "gepest" not in msg.get_content()
        assert msg["Message-ID"].endswith("@ouders.example.nl>")
        assert msg["Auto-Submitted"] == "auto-generated"
    assert len({m["Message-ID"] for m in smtp_server.parsed()}) == len(smtp_server.messages)


def test_smtp_down_keeps_mails_queued_and_never_reapplies(school, inbox, smtp_server):
    inbox.put(FAM_V, "marieke.devries@example.nl", {"soort": "afwezigheid", "kind": "zoe-devries",
                                                     "reden": "ziek"})
    down = with_smtp(school, free_port())  # nothing listens there
    summary = process(down)
    assert len(summary.applied) == 1
    assert summary.mail.sent == 0 and summary.mail.queued == 5 and "ConnectionRefused" in \
        summary.mail.error
    again = process(down)
    assert again.applied == () and again.mail.queued == 5
    up = process(with_smtp(school, smtp_server.port))
    assert up.applied == () and up.mail.sent == 5 and up.mail.queued == 0
    assert len(smtp_server.messages) == 5 and len(journal(school.private)) == 1
    assert process(with_smtp(school, smtp_server.port)).mail.sent == 0


def test_a_refused_recipient_is_set_aside_and_the_rest_is_delivered(school, inbox, smtp_server):
    smtp_server.refuse = {"directie@school.example.nl"}
    inbox.put(FAM_V, "marieke.devries@example.nl", {"soort": "afwezigheid", "kind": "zoe-devries",
                                                     "reden": "ziek"})
    summary = process(with_smtp(school, smtp_server.port))
    assert (summary.mail.sent, summary.mail.failed, summary.mail.queued) == (4, 1, 0)
    [reason] = (school.private / "postvak/mislukt").glob("*.reden.txt")
    assert reason.read_text().startswith("550")
    smtp_server.refuse = set()
    assert process(with_smtp(school, smtp_server.port)).mail.sent == 0  # not retried for ever


def test_smtp_settings_come_from_the_environment(tmp_path):
    env = {"SCHOOLPLEIN_SMTP_HOST": "smtp.example.nl", "SCHOOLPLEIN_SMTP_USER": "school",
           "SCHOOLPLEIN_SMTP_PASSWORD": "geheim", "SCHOOLPLEIN_SMTP_FROM": "School <info@school.nl>",
           "SCHOOLPLEIN_ADMIN_EMAIL": "administratie@school.nl", "SCHOOLPLEIN_PRIVATE": "priv",
           "SCHOOLPLEIN_SITEURL": "https://ouders.school.nl/", "SCHOOLPLEIN_DAYLIST_TIME": "8.40"}
    settings = PostvakSettings.from_env(env, root=tmp_path)
    assert settings.smtp == SmtpSettings("smtp.example.nl", 587, "school", "geheim", True)
    assert "geheim" not in repr(settings)
    assert settings.private == tmp_path / "priv" and settings.site_url == "https://ouders.school.nl"
    assert settings.daylist_at.strftime("%H:%M") == "08:40"
    local = PostvakSettings.from_env({}, root=tmp_path)
    assert local.smtp is None and local.mailbox == tmp_path / "private/mail"
    assert local.sender == "Schoolplein <noreply@ouders.kcdematrix.example.nl>"  # SITEURL's host


def test_a_password_is_never_sent_unencrypted_and_bad_values_are_named(tmp_path):
    with pytest.raises(SchoolpleinError) as info:
        PostvakSettings.from_env({"SCHOOLPLEIN_SMTP_HOST": "smtp.example.nl",
                                  "SCHOOLPLEIN_SMTP_USER": "school", "SCHOOLPLEIN_SMTP_STARTTLS":
                                  "false", "SCHOOLPLEIN_SMTP_PORT": "vijf",
                                  "SCHOOLPLEIN_DAYLIST_TIME": "half negen"}, root=tmp_path)
    text = info.value.render()  # every bad value at once, each named
    assert "SCHOOLPLEIN_SMTP_PORT" in text
    assert "SCHOOLPLEIN_DAYLIST_TIME" in text and text.count(".env") == 2
    with pytest.raises(SchoolpleinError) as info:
        PostvakSettings.from_env({"SCHOOLPLEIN_SMTP_HOST": "smtp.example.nl",
                                  "SCHOOLPLEIN_SMTP_USER": "school",
                                  "SCHOOLPLEIN_SMTP_STARTTLS": "false"}, root=tmp_path)
    assert "onversleuteld" in info.value.render()
    relay = PostvakSettings.from_env({"SCHOOLPLEIN_SMTP_HOST": "127.0.0.1", "SCHOOLPLEIN_SMTP_PORT":
                                      "25", "SCHOOLPLEIN_SMTP_USER": "x",
                                      "SCHOOLPLEIN_SMTP_STARTTLS": "nee"}, root=tmp_path)
    assert relay.smtp.port == 25 and not relay.smtp.starttls


def _round_settings(school, port: int):
    from dataclasses import replace

    from plugins.settings import load_settings
    from tests.helpers import ROOT

    return replace(load_settings(ROOT, {}), private=school.private, roster=school.roster,
                   smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False, smtp_user="")


def test_a_round_after_an_smtp_outage_says_the_held_mails_went_out(school, inbox, smtp_server):
    from tasks.inbox import collect_and_process

    inbox.put(FAM_V, "marieke.devries@example.nl", {"soort": "afwezigheid", "kind": "zoe-devries",
                                                     "reden": "ziek"})
    printed: list[str] = []
    collect_and_process(_round_settings(school, free_port()), lambda store: 0, lambda: None,
                        printed.append)
    assert re.search(r"Mails: 0 verstuurd, [1-9]\d* wachten op de mailserver", "\n".join(printed))
    held = len(list((school.private / "postvak" / "uit").glob("*.eml")))  # (+ a day list)
    printed.clear()
    collect_and_process(_round_settings(school, smtp_server.port), lambda store: 0, lambda: None,
                        printed.append)
    text = "\n".join(printed)
    assert f"Mailserver weer bereikbaar: {held} mail(s) verstuurd die tijdens de storing waren " \
           "blijven wachten." in text, text
    assert len(smtp_server.messages) == held
    printed.clear()
    collect_and_process(_round_settings(school, smtp_server.port), lambda store: 0, lambda: None,
                        printed.append)
    assert printed == []  # a quiet round says nothing


def test_a_replay_round_counts_its_quarantine_once_and_the_same_everywhere(school, inbox,
                                                                          smtp_server):
    """Issue 15 §4: the summary said 0 in quarantine while intake had put two there."""
    from dataclasses import replace
    from datetime import timedelta

    from tasks.inbox import collect_and_process

    first = inbox.put(FAM_V, "marieke.devries@example.nl", {"soort": "bericht", "aan": "lk-3",
                                                             "tekst": "Hallo"})
    cfg = _round_settings(school, smtp_server.port)
    collect_and_process(cfg, lambda store: 0, lambda: None, lambda _: None)
    replays = [replace(first, received_at=first.received_at + timedelta(minutes=n),
                       body=f'{{"v": 1, "soort": "bericht", "aan": "lk-3", "tekst": "{n}"}}'.encode())
               for n in (1, 2)]
    printed: list[str] = []

    def collect(store) -> int:
        for received in replays:
            store(received)
        return len(replays)

    collect_and_process(cfg, collect, lambda: None, printed.append)
    text = "\n".join(printed)
    assert "Postvak: 2 opgehaald, 0 verwerkt, 2 in quarantaine (er staan er nu 2 in" in text, text
    assert text.count("quarantaine: ") == 2 and text.count("al ontvangen") == 2
