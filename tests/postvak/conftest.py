"""A small school with a child in two households, submissions, and a real SMTP server."""

from __future__ import annotations

import asyncio
import email
import json
import os
import signal
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from email.policy import default
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from plugins.roster import Consent, write_roster
from plugins.settings import SCHOOL_TZ
from postvak import PostvakSettings, Received, SmtpSettings, intake
from publish.targets.basic_auth.local_server import free_port

FAM_A = "3qy3dpncrfuqehyhnysg"  # Marieke Jansen: Lotte (shared) and Daan
FAM_B = "48b33g69cu7p4fq2nvx3"  # Peter Jansen and Eva de Boer: Lotte (shared) and Mees (Eva's)
FAM_V = "qd2wuzytxg35863gmxbz"  # Marieke and Youssef de Vries: Zoë (groep 3), Ömer (groep 5/6)
FAM_K = "s47puq79vxknuyfsdv7m"  # Dennis Kok: Sem K. (groep 3)
FAM_S = "nbhrag8vmya3g7t73kxe"  # Anouk Bakker: Sem B. (groep 3)

GROUPS = [("groep-3", "Groep 3", "2026-2027"), ("groep-5-6", "Groep 5/6", "2026-2027")]
CHILDREN = [
    ("lotte-jansen", "Lotte", "Jansen", "groep-5-6", "school", f"{FAM_A};{FAM_B}"),
    ("daan-jansen", "Daan", "Jansen", "groep-3", "", ""),
    ("mees-deboer", "Mees", "de Boer", "groep-3", "groep", ""),
    ("zoe-devries", "Zoë", "de Vries", "groep-3", "", ""),
    ("omer-devries", "Ömer", "de Vries", "groep-5-6", "geen", ""),
    ("sem-kok", "Sem", "Kok", "groep-3", "", ""),
    ("sem-bakker", "Sem", "Bakker", "groep-3", "", ""),
]
PARENTS = [
    ("ouder-a1", "Marieke Jansen", "marieke.jansen@example.nl", FAM_A, "lotte-jansen;daan-jansen"),
    ("ouder-b1", "Peter Jansen", "peter.jansen@example.nl", FAM_B, "lotte-jansen"),
    ("ouder-b2", "Eva de Boer", "eva.deboer@example.nl", FAM_B, "mees-deboer"),
    ("ouder-v1", "Marieke de Vries", "marieke.devries@example.nl", FAM_V, "zoe-devries;omer-devries"),
    ("ouder-v2", "Youssef de Vries", "youssef.nováková@example.nl", FAM_V,
     "zoe-devries;omer-devries"),
    ("ouder-k1", "Dennis Kok", "dennis.kok@example.nl", FAM_K, "sem-kok"),
    ("ouder-s1", "Anouk Bakker", "anouk.bakker@example.nl", FAM_S, "sem-bakker"),
]
STAFF = [
    ("mt-01", "Ingrid Hoekstra", "directie@school.example.nl", "directie", ""),
    ("lk-3", "Juf Mirjam Visser", "mirjam.visser@school.example.nl", "leerkracht", "groep-3"),
    ("lk-56", "Meester Pieter Bos", "pieter.bos@school.example.nl", "leerkracht", "groep-5-6"),
    ("lk-56b", "Juf Anne Smit", "anne.smit@school.example.nl", "leerkracht", "groep-5-6"),
]
ADMIN = "administratie@school.example.nl"
SITE = "https://ouders.example.nl"
# A Tuesday in term time, 07:00 in Amsterdam (before the 08:30 deadline).
MORNING = datetime(2026, 11, 10, 7, 0, tzinfo=SCHOOL_TZ)


def write_school(folder: Path) -> Path:
    return write_roster(folder, groups=GROUPS, children=CHILDREN, parents=PARENTS, staff=STAFF)


@pytest.fixture
def school(tmp_path) -> PostvakSettings:
    """Settings for a fresh private folder and roster; mails go to the local mailbox."""
    return PostvakSettings(private=tmp_path / "private", roster=write_school(tmp_path / "roster"),
                           site_url=SITE, sender="Schoolplein <noreply@ouders.example.nl>",
                           admin_email=ADMIN, consent_default=Consent.SCHOOL)


@dataclass
class Inbox:
    """Hands submissions to intake as a collector would."""

    settings: PostvakSettings
    clock: datetime = MORNING
    ids: list[str] = field(default_factory=list)

    def put(self, family: str, sender: str, body: dict | bytes | str, *, at: datetime | None = None,
            ident: str | None = None) -> Received:
        if isinstance(body, dict):
            body = {"v": 1, **body}
            data = json.dumps(body, ensure_ascii=False).encode()
        elif isinstance(body, str):
            data = body.encode()
        else:
            data = body
        if at is None:
            self.clock += timedelta(seconds=1)
            at = self.clock
        ident = ident or str(uuid.uuid4())
        received = Received(ident, family, sender, at, data,
                            f"spool:/srv/spool/{family}/{ident}.json")
        intake(received, self.settings.private)
        self.ids.append(ident)
        return received


@pytest.fixture
def inbox(school) -> Inbox:
    return Inbox(school)


def mail_files(settings: PostvakSettings) -> set[str]:
    folder = settings.private / "mail"
    return {p.name for p in folder.glob("*.eml")} if folder.exists() else set()


def mailbox(settings: PostvakSettings, skip: set[str] = frozenset()) -> list[email.message.EmailMessage]:
    """The local mailbox (private/mail/), parsed; `skip` leaves out mails seen before."""
    folder = settings.private / "mail"
    return [email.message_from_bytes((folder / name).read_bytes(), policy=default)
            for name in sorted(mail_files(settings) - set(skip))]


def text_of(msg) -> str:
    return f"{msg['Subject']}\n{msg.get_content()}"


class Recorder:
    """An SMTP handler that keeps what it accepts; it can also stall, refuse or kill."""

    def __init__(self):
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.stall = False  # hold every DATA until released (no 250 is ever given)
        self.kill_at: int | None = None  # on this DATA (1-based), SIGKILL `victim` first
        self.victim: int | None = None
        self.refuse: set[str] = set()  # recipients answered with 550
        self.datas = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.datas += 1
        if self.kill_at is not None and self.datas == self.kill_at and self.victim:
            os.kill(self.victim, signal.SIGKILL)
            return "451 4.3.0 try again later"
        if self.stall:  # a server that has not committed the mail when its client dies
            while self.stall:
                await asyncio.sleep(0.02)
            return "451 4.3.0 try again later"
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"

    def parsed(self) -> list[email.message.EmailMessage]:
        return [email.message_from_bytes(c, policy=default) for _, _, c in self.messages]


@pytest.fixture
def smtp_server():
    handler = Recorder()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, enable_SMTPUTF8=True)
    controller.start()
    handler.port = port
    try:
        yield handler
    finally:
        handler.stall = False
        controller.stop()


def with_smtp(settings: PostvakSettings, port: int) -> PostvakSettings:
    return replace(settings, smtp=SmtpSettings("127.0.0.1", port, starttls=False, timeout=10))
