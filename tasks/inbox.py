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

from plugins.settings import SCHOOL_TZ, Settings
from publish import targets

from .common import admin_task, build, settings


def collect_and_process(cfg: Settings, collect, publish, out=print) -> None:
    """One round; `collect(store)` hands over submissions, `publish()` rebuilds and publishes."""
    import postvak

    pv = postvak.PostvakSettings.from_settings(cfg)
    collected = collect(lambda received: postvak.intake(received, cfg.private))
    tick = postvak.tick(pv)
    summary = tick.summary
    from plugins.roster import load_roster

    # what the family pages show: a status can change without anything new applied
    # (a delayed mail went out, something was quarantined)
    threads_changed = postvak.export_threads(cfg.private, load_roster(cfg.roster))
    if collected or summary.applied or summary.quarantined:
        out(f"Postvak: {collected} opgehaald.\n{summary.text()}")
    if tick.daylist is not None:
        out(f"Daglijst voor de leerkrachten: {tick.daylist.sent} verstuurd.")
    if summary.applied or summary.urgent or threads_changed:
        publish()
        gone = datetime.now(UTC)
        for urgent in summary.urgent:
            seconds = (gone - urgent.received_at).total_seconds()
            out(f"Beeldgebruik van {urgent.child} beperkt: ingestuurd om "
                f"{urgent.received_at.astimezone(SCHOOL_TZ):%H:%M:%S}, foto's weg om "
                f"{gone.astimezone(SCHOOL_TZ):%H:%M:%S} ({seconds:.1f} s).")
        postvak.acknowledge_urgent(pv, [u.submission for u in summary.urgent])


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
        _write_units(cfg, Path(systemd))
        return
    pv = pv_module.PostvakSettings.from_settings(cfg)
    if daglijst:
        sent = pv_module.send_daylists(pv)
        print("Daglijst verstuurd." if sent else "Geen daglijst nodig (weekend, te vroeg of al weg).")
        return
    chosen = targets.target(target)

    def publish() -> None:
        built = build(cfg, production=True)
        chosen.publish(cfg, cfg.output, built["SCHOOLPLEIN_SECTIONS"])

    def cycle() -> None:
        collect_and_process(cfg, lambda store: chosen.collect(cfg, store), publish)

    if watch:
        print(f"Postvak: iedere {watch} s kijken (Ctrl+C om te stoppen).")
        try:
            pv_module.watch(cycle, every=float(watch))
        except KeyboardInterrupt:
            print("\nGestopt.")
    else:
        cycle()
        waiting = pv_module.quarantine_list(cfg.private)
        if waiting:
            print(f"In quarantaine (bekijk en verwijder in {cfg.private / 'postvak'}): "
                  f"{len(waiting)}")


def _write_units(cfg: Settings, folder: Path) -> None:
    import postvak

    folder.mkdir(parents=True, exist_ok=True)
    spool = cfg.deploy / "nginx" / "postvak"
    units = postvak.systemd_units(cfg.root, getpass.getuser(), daylist_at=cfg.daylist_time,
                                  writable=(str(cfg.private), str(cfg.deploy), str(cfg.roster),
                                            str(cfg.output), str(spool)))
    for name, text in units.items():
        (folder / name).write_text(text, encoding="utf-8")
        print(f"geschreven: {folder / name}")
    print("Installeer ze in /etc/systemd/system/ en zet de timers aan: "
          "systemctl enable --now schoolplein-postvak.timer schoolplein-daglijst.timer")
