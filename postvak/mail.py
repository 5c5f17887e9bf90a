"""Mails out of the outbox: through SMTP, or into the local mailbox (private/mail/).

Each mail has a deterministic id (from the submission and the recipient), so
queueing it twice keeps one file, and its Message-ID is derived from that id. A
mail leaves the outbox (uit/ -> verzonden/) only after the SMTP server accepted
it; when the server is down it stays and the next run tries again.
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import SMTP, SMTPUTF8, default
from email.utils import format_datetime, parseaddr
from pathlib import Path

from . import store
from .settings import PostvakSettings


@dataclass(frozen=True)
class Mail:
    id: str
    to: str
    subject: str
    body: str
    date: datetime


@dataclass(frozen=True)
class Delivery:
    sent: int = 0  # accepted by the server (or written to the mailbox) in this run
    queued: int = 0  # still in the outbox: retried at the next run
    failed: int = 0  # refused for good by the server in this run (mislukt/)
    error: str = ""  # why the rest stayed queued


def mail_id(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


def to_eml(mail: Mail, sender: str, html: str = "", headers: Mapping[str, str] | None = None
           ) -> bytes:
    """The mail as sent; `html`: a simple HTML part beside the text, `headers`: extra ones."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "schoolplein.invalid"
    # An accented address (Nováková) needs SMTPUTF8; everything else stays plain 7-bit headers.
    msg = EmailMessage(policy=SMTP if mail.to.isascii() else SMTPUTF8)
    msg["From"] = sender
    msg["To"] = mail.to
    msg["Subject"] = mail.subject
    msg["Date"] = format_datetime(mail.date)
    msg["Message-ID"] = f"<{mail.id}@{domain}>"
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Schoolplein-Mail"] = mail.id
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(mail.body, cte="quoted-printable")
    if html:
        msg.add_alternative(html, subtype="html", cte="quoted-printable")
    return msg.as_bytes()


def deliver(settings: PostvakSettings) -> Delivery:
    """Send everything in the outbox, oldest first."""
    pending = store.outbox(settings.private)
    if not pending:
        return Delivery()
    if settings.smtp is None:
        return _to_mailbox(settings, pending)
    return _over_smtp(settings, pending)


def _to_mailbox(settings: PostvakSettings, pending: list[Path]) -> Delivery:
    """Copy into the mailbox first (durably), then mark sent: a kill in between copies nothing twice."""
    mailbox = settings.mailbox
    mailbox.mkdir(parents=True, exist_ok=True, mode=0o700)
    for path in pending:
        store.write_file(mailbox / path.name, path.read_bytes(), exclusive=True, sync_dir=False)
    store.fsync_dir(mailbox)
    for path in pending:
        store.move(path, store.SENT, sync=False)
    store.fsync_dir(store.folder(settings.private, store.SENT))
    store.sync_outbox(settings.private)
    return Delivery(sent=len(pending))


def _over_smtp(settings: PostvakSettings, pending: list[Path]) -> Delivery:
    smtp = settings.smtp
    sender = parseaddr(settings.sender)[1]
    sent = failed = 0
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout) as client:
            if smtp.starttls:
                client.starttls(context=ssl.create_default_context())
            if smtp.user:
                client.login(smtp.user, smtp.password)
            for path in pending:
                data = path.read_bytes()
                to = parseaddr(BytesHeaderParser(policy=default).parsebytes(data)["To"])[1]
                try:
                    client.sendmail(sender, [to], data,
                                    mail_options=() if to.isascii() else ("SMTPUTF8",))
                except smtplib.SMTPRecipientsRefused as exc:
                    code, reply = next(iter(exc.recipients.values()))
                    if code < 500:
                        raise
                    _refused(path, code, reply)
                    failed += 1
                    continue
                except smtplib.SMTPResponseException as exc:
                    if exc.smtp_code < 500 or isinstance(exc, smtplib.SMTPSenderRefused):
                        raise
                    _refused(path, exc.smtp_code, exc.smtp_error)
                    failed += 1
                    continue
                # The one window no SMTP client can close: the server has accepted the mail
                # and a SIGKILL or power cut lands before this rename. The next run then sends
                # it again (same Message-ID, which most mail programs show once). Moving the
                # file first instead would lose the mail when the server then says no.
                store.move(path, store.SENT)
                sent += 1
    except (OSError, smtplib.SMTPException) as exc:
        queued = len(store.outbox(settings.private))
        return Delivery(sent, queued, failed, f"{type(exc).__name__}: {exc}"[:300])
    return Delivery(sent, 0, failed)


def _refused(path: Path, code: int, reply: bytes) -> None:
    moved = store.move(path, store.FAILED)
    text = f"{code} {reply.decode('utf-8', errors='replace')}\n"
    store.write_file(moved.with_suffix(".reden.txt"), text.encode("utf-8"))

