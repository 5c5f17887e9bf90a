"""When the postvak runs: the teachers' day list, the --watch loop, systemd units.

At SCHOOLPLEIN_DAYLIST_TIME (08:35, Europe/Amsterdam) on school days every
teacher gets one mail with that day's absences in their groups. The mail's id is
derived from the day and the teacher, so it is queued once however often (and
however interrupted) the list is made; a marker per day skips the work after.
"""

from __future__ import annotations

import time as clock
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path

from plugins.errors import SchoolpleinError
from plugins.roster import Child, Role, Roster, load_roster
from plugins.settings import SCHOOL_TZ

from . import store
from .mail import Delivery, Mail, deliver, mail_id, to_eml
from .messages import DEADLINE, Absence
from .notices import daylist_notice
from .process import Summary, process
from .settings import PostvakSettings
from .store import intake


@dataclass(frozen=True)
class Tick:
    summary: Summary
    daylist: Delivery | None  # None: no day list was due


def absences_on(private: Path, roster: Roster, day: date) -> list[tuple[Child, Absence]]:
    """Applied absences covering `day`, one per child (the first report; both households may)."""
    first: dict[str, tuple[Child, Absence]] = {}
    records = sorted(store.journal(private), key=lambda r: datetime.fromisoformat(r["received_at"]))
    for record in records:
        if record["kind"] != "afwezigheid":
            continue
        d = record["data"]
        # Late means late for *this* day: reported after 08:30 on it (or after it).
        late = datetime.fromisoformat(record["received_at"]) > datetime.combine(
            day, DEADLINE, SCHOOL_TZ)
        absence = Absence(d["kind"], date.fromisoformat(d["van"]), date.fromisoformat(d["tot"]),
                          d["reden"], d["toelichting"], late)
        child = roster.children.get(absence.child)
        if child and absence.covers(day) and child.id not in first:
            first[child.id] = (child, absence)
    return list(first.values())


def daylist_due(settings: PostvakSettings, now: datetime) -> date | None:
    local = now.astimezone(SCHOOL_TZ)
    if local.weekday() >= 5 or local.time() < settings.daylist_at:
        return None
    marker = store.root(settings.private) / store.DAYLIST / local.date().isoformat()
    return None if marker.exists() else local.date()


def send_daylists(settings: PostvakSettings, now: datetime | None = None) -> Delivery | None:
    """Queue and send today's lists when due (once per teacher per day); None when not due
    (or when the roster cannot be read: then it is still due at the next round)."""
    now = now or datetime.now(UTC)
    if daylist_due(settings, now) is None:
        return None
    private = settings.private
    with store.locked(private):
        day = daylist_due(settings, now)
        if day is None:
            return None
        try:
            roster = load_roster(settings.roster)
        except SchoolpleinError:
            return None  # the round reports the roster; the list goes out once it is readable
        absent = absences_on(private, roster, day)
        for teacher in sorted(roster.staff.values(), key=lambda s: s.id):
            if teacher.role is not Role.TEACHER:
                continue
            mine = [(c, a) for c, a in absent if c.group in teacher.groups]
            notice = daylist_notice(roster, settings, teacher, day, mine)
            ident = mail_id("daglijst", day.isoformat(), teacher.id)
            sent_at = datetime.combine(day, settings.daylist_at, SCHOOL_TZ)
            mail = Mail(ident, notice.to, notice.subject, notice.body, sent_at)
            store.queue_mail(private, ident, to_eml(mail, settings.sender))
        store.sync_outbox(private)
        store.write_file(store.folder(private, store.DAYLIST) / day.isoformat(), b"")
        return deliver(settings)


def tick(settings: PostvakSettings, now: datetime | None = None,
         collect: Callable[[Callable], int] | None = None) -> Tick:
    """One round: take what the target collected (`collect(store)`), process the inbox,
    then the day list when it is due. The summary counts everything the round
    quarantined, intake's refusals included."""
    before = store.quarantine_names(settings.private)
    collected = collect(lambda received: intake(received, settings.private)) if collect else 0
    summary = process(settings, now, quarantine_before=before, collected=collected)
    return Tick(summary, send_daylists(settings, now))


def watch(cycle: Callable[[], object], every: float = 30.0, *,
          stop: Callable[[], bool] = lambda: False, sleep: Callable[[float], None] = clock.sleep,
          report: Callable[[str], None] = print) -> int:
    """Run `cycle` (collect, tick, publish when urgent) every `every` seconds until `stop()`.

    A failing round is reported and the next one runs anyway: a roster typo, a
    full disk or a bug must not silence the postvak for the rest of the day. Returns the
    number of rounds.
    """
    rounds = 0
    while not stop():
        started = clock.monotonic()
        try:
            cycle()
        except SchoolpleinError as exc:
            report(f"Postvak: ronde mislukt, volgende over {every:g} s.\n{exc.render()}")
        except OSError as exc:
            report(f"Postvak: ronde mislukt ({exc}), volgende over {every:g} s.")
        except Exception as exc:  # a bug in one round must not stop the rounds after it
            report(f"Postvak: ronde mislukt door een fout in de software ({type(exc).__name__}: "
                   f"{exc}); meld dit aan de beheerder. Volgende over {every:g} s.")
        rounds += 1
        if stop():
            break
        sleep(max(0.0, every - (clock.monotonic() - started)))
    return rounds


def systemd_units(project: Path | str, user: str, *, every_seconds: int = 60,
                  daylist_at: time = time(8, 35), command: str = "postvak",
                  writable: tuple[str, ...] = ()) -> dict[str, str]:
    """Unit files for a server: file name -> text (install in /etc/systemd/system/).

    schoolplein-postvak.timer runs `invoke <command>` a minute after the previous
    run ended (never two at once), so an absence reaches the teacher within about a
    minute; schoolplein-daglijst.timer runs `invoke <command> --daglijst` at the
    day-list time on school days (Persistent: a server that was off catches up).
    `writable` adds folders outside the project the task must write (the spool).
    """
    project = str(project).rstrip("/")
    invoke = f"{project}/.venv/bin/invoke"
    paths = " ".join((project, *writable))

    def service(description: str, args: str) -> str:
        return (f"[Unit]\nDescription={description}\nAfter=network-online.target\n"
                "Wants=network-online.target\n\n"
                f"[Service]\nType=oneshot\nUser={user}\nWorkingDirectory={project}\n"
                f"ExecStart={invoke} {args}\nUMask=0077\nNice=5\nNoNewPrivileges=yes\n"
                "PrivateTmp=yes\nProtectSystem=strict\nProtectHome=read-only\n"
                f"ReadWritePaths={paths}\n")

    return {
        "schoolplein-postvak.service": service(
            "Schoolplein postvak: inzendingen van ouders verwerken en mails versturen", command),
        "schoolplein-postvak.timer": (
            "[Unit]\nDescription=Schoolplein postvak, iedere minuut\n\n"
            f"[Timer]\nOnBootSec=1min\nOnUnitInactiveSec={every_seconds}s\nAccuracySec=1s\n\n"
            "[Install]\nWantedBy=timers.target\n"),
        "schoolplein-daglijst.service": service(
            "Schoolplein: daglijst met afwezigen naar de leerkrachten", f"{command} --daglijst"),
        "schoolplein-daglijst.timer": (
            "[Unit]\nDescription=Schoolplein daglijst op schooldagen\n\n"
            f"[Timer]\nOnCalendar=Mon..Fri *-*-* {daylist_at:%H:%M}:00 Europe/Amsterdam\n"
            "Persistent=true\nAccuracySec=1s\n\n[Install]\nWantedBy=timers.target\n"),
    }
