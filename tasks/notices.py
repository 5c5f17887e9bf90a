"""Notices to parents about what is new, and the staff report (`invoke meldingen`, `invoke rapport`).

After every successful publish, `after_publish` hands the output that is now
live to postvak.news; every postvak round (and `invoke meldingen`) sends the
summaries that are due and, on Monday morning, the directie's weekly report.
A notice that fails never undoes or repeats a publish: it is reported and
retried at the next round.
"""

from __future__ import annotations

import sys

from plugins.errors import SchoolpleinError
from plugins.settings import Settings

from .common import admin_task, roster_and_sections, settings


def after_publish(cfg: Settings, built: dict | None = None, out=print, send: bool = True) -> None:
    """Record what is live and mail those who want it at once (never fails the publish).

    `send=False` (a publish, under its site lock): only record and queue; `send_waiting`
    sends once the lock is free, so a slow mail server never holds a withdrawal back."""
    import postvak
    from postvak import news

    try:
        if built is not None:
            roster, sections = built["SCHOOLPLEIN_ROSTER_OBJ"], built["SCHOOLPLEIN_SECTIONS"]
        else:
            roster, sections = roster_and_sections(cfg)
        done = news.after_publish(postvak.PostvakSettings.from_settings(cfg), cfg.output,
                                  sections, roster, send=send)
    except Exception as exc:  # the publish is done: a notice must never undo or repeat it
        _failed(exc)
        return
    if done.new:
        out(f"Meldingen: {done.new} nieuw op de site, {done.queued} mail(s) meteen "
            + ("verstuurd." if send else "klaargezet."))


def send_waiting(cfg: Settings, out=print) -> None:
    """Send the notices a publish queued (never fails the publish; the next round retries)."""
    import postvak
    from postvak import news

    try:
        delivery = news.send_waiting(postvak.PostvakSettings.from_settings(cfg))
    except Exception as exc:
        _failed(exc)
        return
    if delivery.queued:
        out(f"Meldingen: {delivery.queued} mail(s) wachten op de mailserver; de volgende ronde "
            "verstuurt ze.")


def _failed(exc: Exception) -> None:
    text = exc.render() if isinstance(exc, SchoolpleinError) else f"{type(exc).__name__}: {exc}"
    print(f"Meldingen aan ouders: niet gelukt, de volgende ronde probeert het opnieuw.\n{text}",
          file=sys.stderr)


def notices_round(cfg: Settings, due_now: bool = False, out=print) -> None:
    """The summaries that are due, and the weekly report (each at most once).

    Never stops the postvak's round: absences and withdrawals matter more than a summary."""
    try:
        _notices_round(cfg, due_now, out)
    except Exception as exc:
        _failed(exc)


def _notices_round(cfg: Settings, due_now: bool, out) -> None:
    import postvak
    from postvak import news, report

    pv = postvak.PostvakSettings.from_settings(cfg)
    roster, sections = roster_and_sections(cfg)
    done = news.send_digests(pv, sections, roster, due_now=due_now)
    if done.queued:
        out(f"Meldingen: {done.queued} overzicht(en) verstuurd "
            f"({done.delivery.queued} wachten op de mailserver).")
    weekly = report.send_weekly(pv, roster, cfg.audit)
    if weekly is not None:
        out("Weekrapport aan de directie verstuurd.")


@admin_task(help={"nu": "stuur de overzichten nu, ook vóór de vaste tijd / send the summaries "
                        "of what is waiting now"})
def meldingen(c, nu=False):
    """Stuur ouders de overzichten van wat nieuw is / Send parents their summaries when due."""
    _notices_round(settings(), nu, print)


@admin_task
def rapport(c):
    """Rapport voor de directie: stille groepen, weggelaten foto's, postvak, mails / Staff report."""
    import postvak
    from postvak import report

    cfg = settings()
    roster, _ = roster_and_sections(cfg)
    print(report.make_report(postvak.PostvakSettings.from_settings(cfg), roster, cfg.audit).text())
