"""The postvak's durable state in the private folder: inbox, journal, quarantine, outbox.

    private/postvak/
      ontvangen/<id>.json      received, not yet processed (the collector deletes its copy after intake)
      journaal/<id>.json       one record per processed submission: envelope, decision, effects, mails
      toegepast/<id>           marker: the record's effects are applied and its mails queued
      quarantaine/<name>.json  rejected submissions with the reason (Dutch), for the admin
      uit/<mail-id>.eml        outbox: mails not yet accepted by the SMTP server
      verzonden/<mail-id>.eml  accepted by the SMTP server (or written to the local mailbox)
      mislukt/<mail-id>.eml    refused for good by the SMTP server (+ .reden.txt)
      spoed/<id>.json          consent withdrawals applied but not yet published
      publiceren/<name>        marker: a change that reaches a page, not yet published live
      daglijst/<date>          marker: that day's lists for the teachers are queued
      gezinnen/<family>.json   each family's thread for its page (thread.export_threads)
      binnenkomst/             a server's spool pulled over rsync, before intake
      beeldgebruik-audit.csv   every consent choice and decision (consent.py)
    private/mail/<mail-id>.eml the local mailbox when no SMTP server is set

Every file is written whole (temp file, fsync, rename or link, fsync of the
folder), so a SIGKILL or power cut leaves either the old state or the new one.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from plugins.errors import Problem, SchoolpleinError

from .messages import MAX_BODY, is_submission_id
from .parentjson import safe_text

INBOX, JOURNAL, APPLIED, QUARANTINE = "ontvangen", "journaal", "toegepast", "quarantaine"
OUTBOX, SENT, FAILED, URGENT, DAYLIST = "uit", "verzonden", "mislukt", "spoed", "daglijst"
TO_PUBLISH = "publiceren"
REPLAY = "al ontvangen"


@dataclass(frozen=True)
class Received:
    """One submission as the server received it; the collectors build these."""

    id: str  # the client's uuid from the path
    family: str  # the family id from the path
    sender: str  # the login the server authenticated (never from the body)
    received_at: datetime  # server time, timezone-aware
    body: bytes
    origin: str  # where it came from, e.g. "spool:/srv/.../x.json" or "s3://bucket/key"

    def to_json(self) -> dict:
        return {"id": self.id, "family": self.family, "sender": self.sender,
                "received_at": self.received_at.isoformat(), "origin": self.origin,
                "body": base64.b64encode(self.body).decode("ascii")}

    @classmethod
    def from_json(cls, data: dict) -> Received:
        return cls(data["id"], data["family"], data["sender"],
                   datetime.fromisoformat(data["received_at"]),
                   base64.b64decode(data["body"]), data["origin"])

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.to_json(), sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class QuarantineItem:
    name: str
    id: str
    family: str
    sender: str
    received_at: datetime
    origin: str
    reason: str
    quarantined_at: datetime
    body: bytes  # as received (the first 16 KiB of an oversized one)

    @property
    def preview(self) -> str:
        """The start of the body as text, for the admin."""
        return self.body[:300].decode("utf-8", errors="replace")


def root(private: Path) -> Path:
    return Path(private) / "postvak"


def folder(private: Path, name: str) -> Path:
    path = root(private) / name
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_file(path: Path, data: bytes, exclusive: bool = False, sync_dir: bool = True,
               mode: int | None = None) -> bool:
    """Write `path` whole and durably; with `exclusive`, never replace an existing file.

    Returns False when `exclusive` and the file already existed. `sync_dir=False`
    leaves the folder's fsync to the caller, who writes several files first.
    `mode`: the file's permissions (default: the temp file's 0o600).
    """
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        if exclusive:
            try:
                os.link(tmp, path)
            except FileExistsError:
                return False
            finally:
                os.unlink(tmp)
        else:
            os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if sync_dir:
        fsync_dir(path.parent)
    return True


def write_json(path: Path, data: dict, exclusive: bool = False) -> bool:
    text = json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    return write_file(path, text.encode("utf-8"), exclusive)


def read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        return
    fsync_dir(path.parent)


@contextmanager
def locked(private: Path, wait: float = 120.0) -> Iterator[None]:
    """One process at a time works on the postvak (the watch loop, a timer, the admin)."""
    path = root(private)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise SchoolpleinError(Problem(
                        str(path), None, "het postvak wordt al verwerkt door een ander proces",
                        "wacht tot dat klaar is (bv. 'invoke postvak --watch' of de systemd-timer)",
                    )) from None
                time.sleep(0.1)
        yield
    finally:
        os.close(fd)  # the lock goes with the descriptor, also when the process is killed


def sweep(private: Path, *folders: Path) -> None:
    """Remove temp files a killed writer left behind (call with the lock held)."""
    for pattern in ("postvak/*/.tmp-*", "mail/.tmp-*"):
        for stale in Path(private).glob(pattern):
            stale.unlink(missing_ok=True)
    for extra in folders:
        for stale in Path(extra).glob(".tmp-*"):
            stale.unlink(missing_ok=True)


# --- intake -----------------------------------------------------------------------------------

def intake(received: Received, private_dir: Path) -> Path:
    """Store one submission durably in the private folder; only then may the source go.

    A collector that retries (the same id, family, sender, time, origin and body)
    changes nothing. The same id with anything else is a replay: it is kept in
    quarantine as "al ontvangen" and never applied. So are bodies over 16 KiB
    (their first 16 KiB are kept) and ids that are not a canonical UUID4.
    """
    if received.received_at.utcoffset() is None:
        raise ValueError("received_at must be timezone-aware")
    # What the collector took from a path or a header is text we store and print again:
    # never a lone surrogate (an undecodable file name) or a page of it.
    received = Received(*(safe_text(v, 300) for v in (received.id, received.family,
                                                      received.sender)),
                        received.received_at, received.body, safe_text(received.origin, 1000))
    with locked(private_dir):
        return _intake(received, private_dir)


def _intake(received: Received, private_dir: Path) -> Path:
    if len(received.body) > MAX_BODY:
        kept = Received(received.id, received.family, received.sender, received.received_at,
                        received.body[:MAX_BODY], received.origin)
        return quarantine(private_dir, kept, f"te groot: {len(received.body)} bytes (hoogstens "
                          f"{MAX_BODY}); alleen het begin is bewaard", suffix=True)
    if not is_submission_id(received.id):
        return quarantine(private_dir, received, f"ongeldige naam '{received.id[:60]}.json' "
                          "(verwacht een uuid, zoals de gezinspagina die maakt)", suffix=True)
    known = known_envelope(private_dir, received.id)
    if known is not None:
        path, envelope = known
        if envelope == received:
            return path  # the collector tried again: already stored
        return quarantine(private_dir, received, replay_reason(envelope), suffix=True)
    path = folder(private_dir, INBOX) / f"{received.id}.json"
    write_json(path, received.to_json(), exclusive=True)
    return path


def replay_reason(first: Received) -> str:
    return f"{REPLAY}: deze inzending-id kwam al binnen op {first.received_at.isoformat()}"


def known_envelope(private: Path, ident: str) -> tuple[Path, Received] | None:
    """Where an id was stored before, with the envelope it had then."""
    for name in (INBOX, JOURNAL, QUARANTINE):
        path = root(private) / name / f"{ident}.json"
        if path.exists():
            data = read_json(path)
            return path, Received.from_json(data.get("envelope", data))
    return None


def inbox(private: Path) -> list[Received]:
    """Stored submissions not yet processed, oldest first.

    A stored file that cannot be read back (a disk fault, a hand edit) goes to
    quarantine as it is, with the reason, so it never stops a round.
    """
    items = []
    for path in sorted(folder(private, INBOX).glob("*.json")):
        try:
            items.append(Received.from_json(read_json(path)))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            _quarantine_unreadable(private, path, exc)
    return sorted(items, key=lambda r: (r.received_at, r.id))


def _quarantine_unreadable(private: Path, path: Path, exc: Exception) -> None:
    with path.open("rb") as fh:
        raw = fh.read(MAX_BODY)
    moment = datetime.fromtimestamp(path.stat().st_mtime).astimezone()
    kept = Received(safe_text(path.stem, 60), "", "", moment, raw, f"{INBOX}/{path.name}")
    quarantine(private, kept, safe_text(f"opgeslagen inzending onleesbaar ({type(exc).__name__}); "
                                        "het bestand is bewaard zoals het was"), suffix=True)
    remove(path)


# --- quarantine -------------------------------------------------------------------------------

def quarantine(private: Path, received: Received, reason: str, suffix: bool = False,
               now: datetime | None = None) -> Path:
    """Keep a rejected submission with its reason. `suffix`: the name is not the bare id."""
    name = f"{received.id}.{received.digest()[:12]}" if suffix else received.id
    if not is_submission_id(received.id):
        name = f"ongeldig-{received.digest()[:16]}"
    path = folder(private, QUARANTINE) / f"{name}.json"
    record = {"envelope": received.to_json(), "reason": reason,
              "quarantined_at": (now or datetime.now().astimezone()).isoformat()}
    write_json(path, record, exclusive=True)  # already there: the same rejection, kept once
    return path


def quarantine_item(path: Path) -> QuarantineItem:
    """One quarantined submission; a record that cannot be read is listed as such, never raised."""
    try:
        data = read_json(path)
        env = Received.from_json(data["envelope"])
        return QuarantineItem(path.stem, env.id, env.family, env.sender, env.received_at,
                              env.origin, str(data["reason"]),
                              datetime.fromisoformat(data["quarantined_at"]), env.body)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        moment = datetime.fromtimestamp(path.stat().st_mtime).astimezone()
        return QuarantineItem(path.stem, "", "", "", moment, str(path),
                              f"quarantainebestand onleesbaar ({type(exc).__name__})", moment, b"")


def quarantine_list(private: Path) -> list[QuarantineItem]:
    """Everything in quarantine with its reason, oldest first (for the admin)."""
    items = [quarantine_item(p) for p in folder(private, QUARANTINE).glob("*.json")]
    return sorted(items, key=lambda q: (q.received_at, q.name))


def quarantine_names(private: Path) -> frozenset[str]:
    return frozenset(p.stem for p in folder(private, QUARANTINE).glob("*.json"))


# --- journal ----------------------------------------------------------------------------------

def journal_path(private: Path, ident: str) -> Path:
    return folder(private, JOURNAL) / f"{ident}.json"


def journal(private: Path) -> list[dict]:
    """Every journal record, in the order they were written."""
    records = [read_json(p) for p in folder(private, JOURNAL).glob("*.json")]
    return sorted(records, key=lambda r: (r["seq"], r["received_at"]))


def journal_ids(private: Path) -> set[str]:
    return {name[:-5] for name in os.listdir(folder(private, JOURNAL)) if name.endswith(".json")}


def applied_ids(private: Path) -> set[str]:
    return {name for name in os.listdir(folder(private, APPLIED)) if not name.startswith(".")}


def mark_applied(private: Path, ident: str) -> None:
    write_file(folder(private, APPLIED) / ident, b"")


# --- what must be published -------------------------------------------------------------------

def mark_to_publish(private: Path, name: str) -> None:
    """A change that reaches a page waits for a publish (removed once one that holds it is live)."""
    write_file(folder(private, TO_PUBLISH) / name, b"")


# --- outbox -----------------------------------------------------------------------------------

def queue_mail(private: Path, mail_id: str, eml: bytes) -> bool:
    """Put a mail in the outbox unless it was queued, sent or refused before.

    The caller fsyncs the outbox folder (`sync_outbox`) once after its mails.
    """
    name = f"{mail_id}.eml"
    if any((root(private) / d / name).exists() for d in (SENT, FAILED)):
        return False
    return write_file(folder(private, OUTBOX) / name, eml, exclusive=True, sync_dir=False)


def sync_outbox(private: Path) -> None:
    fsync_dir(folder(private, OUTBOX))


def outbox(private: Path) -> list[Path]:
    return sorted(folder(private, OUTBOX).glob("*.eml"), key=lambda p: (p.stat().st_mtime_ns, p.name))


def was_sent(private: Path, mail_id: str) -> bool:
    return (root(private) / SENT / f"{mail_id}.eml").exists()


def move(path: Path, to_folder: str, sync: bool = True) -> Path:
    """Move a mail to sent/failed: one rename, so it is in exactly one folder."""
    target = folder(path.parent.parent.parent, to_folder) / path.name
    os.replace(path, target)
    if sync:
        fsync_dir(target.parent)
        fsync_dir(path.parent)
    return target
