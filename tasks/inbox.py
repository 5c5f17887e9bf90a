"""The postvak task: collect what parents sent, process it once, publish what changed.

One round: the target hands over new submissions (nginx/Apache spool, S3),
postvak processes them exactly once and sends the notices, each family's
thread is exported for its page, and when anything was applied the site is
rebuilt and published to the same target (a consent withdrawal is urgent: the
round reports how long it took from the parent's tap to the photos being gone).
"""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from pathlib import Path

from plugins.errors import Problem, SchoolpleinError
from plugins.settings import SCHOOL_TZ, Settings
from publish import targets

from .common import admin_task, build_and_publish, settings


def collect_and_process(cfg: Settings, collect, publish, out=print, collect_team=None,
                        team_git: bool = True, due_now: bool = False) -> None:
    """One round. `collect(store)` hands over submissions, `collect_team(store)` the staff
    postvak's files (tasks.team); `publish()` builds and publishes when something waits for
    it (tasks.common.publish_site with only_if_pending) and returns what went live, or None.
    `team_git` False writes teachers' posts without committing them (the demo); `due_now`
    (the demo): summaries of what is new go out at once, not at their set time."""
    import postvak

    from .team import process_team, publish_with_team

    pv = postvak.PostvakSettings.from_settings(cfg)
    tick = postvak.tick(pv, collect=collect)
    summary = tick.summary
    if summary.eventful:
        out(summary.text())
    if tick.daylist is not None:
        out(f"Daglijst voor de leerkrachten: {tick.daylist.sent} verstuurd.")
    if summary.roster_error:  # nothing processed, nothing can be built: say it, fail loudly
        raise SchoolpleinError(Problem(
            str(cfg.roster), None,
            "het rooster is onleesbaar, dus er is niets verwerkt en niets gepubliceerd"
            + (f"; {len(summary.stuck)} keuze(s) voor beeldgebruik wachten (NIET TOEGEPAST)"
               if summary.stuck else "")
            + (f"; {len(summary.urgent)} beperking(en) van beeldgebruik staan nog op de site"
               if summary.urgent else ""),
            "herstel het rooster zoals hierboven staat (sla het op als 'CSV UTF-8 (door "
            "komma's gescheiden)'); de volgende ronde verwerkt en publiceert alles alsnog"))
    ts, team = process_team(cfg, collect_team, out, team_git)
    reported: set[str] = set()
    published = publish_with_team(ts, publish, out)
    # gone: acknowledged by this publish, or by another one this round waited for
    still = {u.submission for u in postvak.pending_urgent(pv)}
    live = published.at if published is not None else datetime.now(UTC)
    for urgent in (*summary.urgent, *(published.urgent if published else ())):
        if urgent.submission in still or urgent.submission in reported:
            continue
        reported.add(urgent.submission)
        seconds = (live - urgent.received_at).total_seconds()
        out(f"Beeldgebruik van {urgent.child} beperkt: ingestuurd om "
            f"{urgent.received_at.astimezone(SCHOOL_TZ):%H:%M:%S}, foto's weg om "
            f"{live.astimezone(SCHOOL_TZ):%H:%M:%S} ({seconds:.1f} s).")
    from .notices import notices_round

    notices_round(cfg, due_now=due_now, out=out)  # summaries of what is new, when due (postvak.news)
    if team.stuck:  # a teacher's post that is not in content/ is not on the site either
        raise SchoolpleinError(Problem(
            str(cfg.content), None, f"{len(team.stuck)} bericht(en) van leerkrachten niet "
            "geplaatst (zie hierboven)", "los de fout op; de volgende ronde probeert het opnieuw"))
    if summary.stuck:  # fail loudly: a withdrawal that is not in the roster is not on the site
        raise SchoolpleinError(Problem(
            str(cfg.roster), None,
            f"{len(summary.stuck)} inzending(en) van ouders niet verwerkt; een beperking van "
            "beeldgebruik geldt pas op de site als die in het rooster staat",
            "herstel leerlingen.csv zoals hierboven staat; de volgende ronde verwerkt ze alsnog"))


@admin_task(help={
    "target": "waar de berichten binnenkomen: " + " of ".join(targets.names()),
    "watch": "blijf draaien en kijk iedere N seconden (bv. 30) / poll every N seconds",
    "daglijst": "alleen de daglijst van vandaag versturen (als die nog niet weg is) / "
                "only send today's day list",
    "systemd": "schrijf systemd-service en -timers voor deze server in deze map / "
               "write systemd units into this folder"})
def postvak(c, target="nginx", watch=0, daglijst=False, systemd=""):
    """Verwerk berichten, ziekmeldingen en beeldgebruik van ouders / Process the postvak."""
    import postvak as pv_module

    cfg = settings()
    if systemd:
        _write_units(cfg, Path(systemd), targets.target(target).name)
        return
    pv = pv_module.PostvakSettings.from_settings(cfg)
    if daglijst:
        sent = pv_module.send_daylists(pv)
        print("Daglijst verstuurd." if sent else "Geen daglijst nodig (weekend, te vroeg of al weg).")
        return
    chosen = targets.target(target)

    def cycle() -> None:
        collect_and_process(cfg, lambda store: chosen.collect(cfg, store),
                            lambda: build_and_publish(cfg, chosen, only_if_pending=True),
                            collect_team=lambda store: chosen.collect_team(cfg, store))

    if watch:
        print(f"Postvak: iedere {watch} s kijken (Ctrl+C om te stoppen).")
        try:
            pv_module.watch(cycle, every=float(watch))
        except KeyboardInterrupt:
            print("\nGestopt.")
    else:
        cycle()


@admin_task(help={
    "kind": "id van het kind uit leerlingen.csv / the child's id",
    "keuze": "geen, groep of school",
    "door": "wie namens de school besluit (komt in het logboek) / who decides, for the audit trail",
    "target": "waar de site staat: " + " of ".join(targets.names())})
def beeldgebruik(c, kind, keuze, door, target="nginx"):
    """Leg het besluit van de school over beeldgebruik vast en publiceer / Record the school's
    photo-consent decision (e.g. when parents disagree) and publish."""
    import postvak
    from plugins.roster import load_roster

    cfg = settings()
    chosen = targets.target(target)
    if kind not in load_roster(cfg.roster).children:  # a child who left: the archive's cells
        from records.leavers import record_decision

        print("\n".join(record_decision(cfg, kind, keuze, door)))
        build_and_publish(cfg, chosen)
        print("Gepubliceerd.")
        return
    pv = postvak.PostvakSettings.from_settings(cfg)
    outcome = postvak.record_admin_decision(pv, kind, keuze, door)
    print(f"Beeldgebruik van {kind}: {outcome.old.value} -> {outcome.new.value} "
          "(in het logboek; de ouders krijgen bericht).")
    build_and_publish(cfg, chosen)  # exports the threads and acknowledges what it published
    print("Gepubliceerd." + (f" Foto's met {kind} staan niet meer op de site."
                             if outcome.narrowed else ""))


def _write_units(cfg: Settings, folder: Path, target: str) -> None:
    import postvak

    folder.mkdir(parents=True, exist_ok=True)
    writable = [str(cfg.private), str(cfg.deploy), str(cfg.roster), str(cfg.output),
                str(cfg.build_cache), str(cfg.photo_cache), str(cfg.audit)]
    units = postvak.systemd_units(cfg.root, getpass.getuser(), daylist_at=cfg.daylist_time,
                                  command=f"postvak --target {target}",
                                  writable=tuple(dict.fromkeys(writable)))
    for name, text in units.items():
        (folder / name).write_text(text, encoding="utf-8")
        print(f"geschreven: {folder / name}")
    print("Installeer ze in /etc/systemd/system/ en zet de timers aan: "
          "systemctl enable --now schoolplein-postvak.timer schoolplein-daglijst.timer")


@admin_task(help={
    "aanvraag": "kenmerk van de aanvraag (de eerste tekens zijn genoeg); leeg = toon alle "
                "aanvragen / the request's id (a prefix will do); empty: list them",
    "besluit": "toegekend of afgewezen / granted or refused",
    "door": "wie namens de directie besluit (komt in het logboek) / who decides, for the audit",
    "toelichting": "uitleg voor de ouders op hun gezinspagina / a note for the parents",
    "target": "waar de site staat: " + " of ".join(targets.names())})
def verlof(c, aanvraag="", besluit="", door="", toelichting="", target="nginx"):
    """Verlofaanvragen tonen en beslissen; alle ouders van het kind krijgen bericht / List and
    decide leave requests (every linked parent is told; the decision shows on Mijn gezin)."""
    import postvak
    from plugins.roster import load_roster
    from postvak import leave
    from postvak.notices import period

    cfg = settings()
    pv = postvak.PostvakSettings.from_settings(cfg)
    kids = load_roster(cfg.roster).children

    def name(child: str) -> str:  # the directie reads the pupil's full name, as in the register
        return kids[child].full_name if child in kids else child

    if not aanvraag or not besluit:
        found = leave.requests(pv)
        if not found:
            print("Geen verlofaanvragen.")
        for r in found:
            state = r.decision or "OPEN"
            extra = ", werkgeversverklaring wordt ingeleverd" if r.employer else ""
            print(f"{r.id[:8]}  {state:10s} {name(r.child)}: {period(r.start, r.end)}, "
                  f"{leave.LEAVE_REASONS[r.reason]}{extra} (ontvangen "
                  f"{r.received_at.astimezone(SCHOOL_TZ):%d-%m-%Y %H:%M})"
                  + (f"\n          toelichting: {r.note}" if r.note else ""))
        if aanvraag and not besluit:
            raise SchoolpleinError(Problem("invoke verlof", None, "besluit ontbreekt",
                                           "geef --besluit toegekend of --besluit afgewezen"))
        return
    decided = leave.decide(pv, aanvraag, besluit, door, toelichting)
    print(f"Verlof voor {name(decided.child)} ({period(decided.start, decided.end)}): {besluit} "
          "(in het logboek; alle ouders van het kind krijgen bericht).")
    build_and_publish(cfg, targets.target(target))
    print("Gepubliceerd: het besluit staat op de gezinspagina.")


DEMO_LEAVE_ID = "7e1f0c2a-5b3d-4c8e-9a10-2f6d8b4c0e91"  # the demo's one leave request


def seed_demo_leave(cfg: Settings, parent_id: str = "ouder-001",
                    now: datetime | None = None) -> None:
    """The demo has a leave request waiting for the directie (sent once, as the demo parent)."""
    import json
    from datetime import timedelta

    import postvak
    from plugins.roster import load_roster
    from postvak import store

    roster = load_roster(cfg.roster)
    parent = roster.parents.get(parent_id)
    if parent is None or store.known_envelope(cfg.private, DEMO_LEAVE_ID) is not None:
        return
    from plugins.agenda import holiday_in, school_holidays

    now = now or datetime.now(UTC)
    start = (now + timedelta(weeks=10)).astimezone(SCHOOL_TZ).date()
    start += timedelta(days=(7 - start.weekday()) % 7)  # a Monday
    holidays = school_holidays(cfg.content)
    while holiday_in(holidays, start, start + timedelta(days=4)):
        start += timedelta(weeks=1)  # a school week: the postvak refuses days in a holiday
    body = {"v": 1, "soort": "verlof", "kind": parent.children[-1], "van": start.isoformat(),
            "tot": (start + timedelta(days=4)).isoformat(), "reden": "vakantie",
            "werkgeversverklaring": True,
            "toelichting": "Mijn werkgever (bollenteelt) geeft in de zomer geen vrij."}
    postvak.intake(postvak.Received(DEMO_LEAVE_ID, parent.family, parent.email, now,
                                    json.dumps(body).encode(), "demo"), cfg.private)
