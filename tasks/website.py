"""Site tasks: build, check, serve and the demo school.

`invoke build` is what a teacher waits for: the server and account code (nginx config,
bcrypt, the postvak) is imported only by the tasks that serve.
"""

from __future__ import annotations

import dataclasses
import signal
import sys
import tempfile
import time
from pathlib import Path

from plugins.errors import SchoolpleinError
from plugins.settings import Settings

from .common import STRICT_HELP, admin_task, build, publish_site, roster_and_sections, settings

DEMO_LOGINS = ("ouder-001", "lk-02", "mt-01")  # a parent of two groups, a teacher, the directie
PORT_HELP = "poort op 127.0.0.1 / port (standaard 8000)"


@admin_task(name="build", help={"strict": STRICT_HELP,
                                "output": "uitvoermap / output folder (standaard output/)"})
def build_site(c, strict=False, output=None):
    """Bouw de site uit roster/ en content/ / Build the site."""
    from publish.freshness import site_lock

    cfg = settings()
    with site_lock(cfg):  # output/ is what every publish releases: one build at a time
        build(cfg, strict, Path(output) if output else None)
    print(f"Klaar: site gebouwd in {output or cfg.output}")


@admin_task
def check(c):
    """Controleer roster en content zonder te publiceren / Validate roster and content."""
    cfg = settings()
    with tempfile.TemporaryDirectory() as tmp:
        build(cfg, output=Path(tmp) / "out", throwaway=True)
    print("Alles in orde.")


def _local_release(cfg: Settings, listen: str, sections=None, fresh=None):
    """A local release of the last build, with the current accounts (no web-user check)."""
    from publish import accounts
    from publish.secret_scan import refuse_secrets
    from publish.targets import basic_auth

    if sections is None:
        sections = roster_and_sections(cfg)[1]
    refuse_secrets(cfg.output, cfg)
    return basic_auth.publish(cfg.output, cfg.deploy / "local", sections,
                              accounts.load_accounts(cfg.private), listen, cfg.hsts, fresh=fresh)


def serve_site(cfg: Settings, port: int, banner: str = "", postvak_every: float = 0,
               demo_git: bool = True) -> None:
    """Build and serve; a later `invoke build` or `invoke accounts` is live at the next reload.

    With `postvak_every` (the demo) what parents send is processed beside the server every
    that many seconds, and the site is rebuilt when something was applied.
    """
    from publish import accounts
    from publish.targets.basic_auth import local_server
    from publish.targets.basic_auth.inbox import collect_spool, collect_team_spool

    from .inbox import collect_and_process
    from .notices import after_publish, send_waiting

    def live(built=None, send: bool = True) -> None:  # the demo's server is its target: mail
        if postvak_every:                               # what is new there
            after_publish(cfg, built, out=lambda text: print(text, flush=True), send=send)

    listen = f"127.0.0.1:{port}"
    built = build(cfg)
    deploy = _local_release(cfg, listen, built["SCHOOLPLEIN_SECTIONS"])
    live(built)
    proc = local_server.start(deploy, port)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop nginx on kill too
    print(f"{banner}\n{cfg.school_name} draait op http://127.0.0.1:{port}/  "
          "(Ctrl+C om te stoppen)\nNa 'invoke build' of 'invoke accounts' in een ander venster "
          "ziet u de nieuwe versie door de pagina te verversen.", flush=True)
    watched = local_server.Watch([cfg.output, accounts.store_path(cfg.private)])

    def rebuild():
        """The demo's postvak publish: under the site lock, only when something waits."""
        published = publish_site(
            cfg, lambda: build(cfg),
            lambda built, fresh: release(built, fresh),
            only_if_pending=True, out=lambda text: print(text, flush=True))
        if published is not None:
            local_server.reload(proc)
            watched.changed()  # already live: the loop below need not do it again
            if postvak_every:
                send_waiting(cfg, out=lambda text: print(text, flush=True))
        return published

    def release(built, fresh) -> None:  # under the site lock: record and queue, send after
        _local_release(cfg, listen, built["SCHOOLPLEIN_SECTIONS"], fresh)
        live(built, send=False)

    next_postvak = 0.0
    try:
        while proc.poll() is None:
            time.sleep(0.5)
            if postvak_every and time.monotonic() >= next_postvak:
                try:
                    collect_and_process(cfg, lambda store: collect_spool(deploy.spool, store),
                                        rebuild, out=lambda text: print(text, flush=True),
                                        collect_team=lambda store: collect_team_spool(
                                            deploy.spool, store), team_git=demo_git,
                                        due_now=True)
                except SchoolpleinError as exc:
                    print(f"\nPostvak: ronde mislukt:\n{exc.render()}", file=sys.stderr)
                next_postvak = time.monotonic() + postvak_every
            if watched.changed():
                try:
                    _local_release(cfg, listen)
                except SchoolpleinError as exc:
                    print(f"\nNieuwe versie niet geladen:\n{exc.render()}", file=sys.stderr)
                    continue
                local_server.reload(proc)
                print("Nieuwe versie geladen.", flush=True)
                live()
    except KeyboardInterrupt:
        print("\nGestopt.")
    finally:
        local_server.stop(proc)


@admin_task(help={"port": PORT_HELP})
def serve(c, port=None):
    """Bouw en serveer lokaal met nginx, zoals ouders het zien / Build and serve locally."""
    cfg = settings()
    serve_site(cfg, int(port or cfg.port))


def _demo_role(roster, person_id: str) -> str:
    """What a demo login reads, from this year's roster (the demo may be rolled over)."""
    person = roster.person(person_id)
    if person_id in roster.staff:
        groups = [roster.groups[g].name.lower() for g in person.groups if g in roster.groups]
        return "leerkracht " + " en ".join(groups) if groups else person.role.value
    groups = sorted({roster.groups[roster.children[k].group].name.lower()
                     for k in person.children if k in roster.children})
    return ("ouder met kinderen in " + " en ".join(groups) if groups
            else "ouder die vertrok (alleen het archief)")


@admin_task(help={"port": PORT_HELP,
                  "postvak": "verwerk wat ouders sturen iedere N seconden (standaard 5; 0 = niet) / "
                             "process the postvak every N seconds"})
def demo(c, port=None, postvak=5):
    """Demo-school: nieuwe wachtwoorden, brieven, bouwen en serveren / Build and serve the demo."""
    from publish import accounts

    cfg = settings()
    port = int(port or cfg.port)
    cfg = dataclasses.replace(cfg, site_url=f"http://127.0.0.1:{port}")  # links in the demo mails
    roster, sections = roster_and_sections(cfg, with_former=True)  # also who reads an archive
    from .demo_school import refuse_real_school

    refuse_real_school(roster, cfg.roster)  # before a password or a date changes
    # Every demo start issues fresh passphrases for everyone, so the letters file it
    # writes is the only valid one: older demo letters only hold void passphrases.
    letters = cfg.private / "letters"
    stale = sorted(letters.glob("brieven-*.html")) if letters.is_dir() else []
    change = accounts.sync_accounts(roster, cfg.private, reset=tuple(p.id for p in roster.people()),
                                    school=cfg.school_name, site_url=f"http://127.0.0.1:{port}",
                                    homes=sections.homes)
    for old in stale:
        old.unlink()
    issued = {i.person_id: i for i in change.issued}
    leaver = sorted(p for p in roster.parents if not sections.homes[p].startswith("/gezin/"))
    shown = [pid for pid in (*DEMO_LOGINS, *leaver[:1]) if pid in issued]
    home = sections.homes.get(DEMO_LOGINS[0], "/mijn/")
    banner = ("\nDemo-logins (nieuw wachtwoord bij iedere start):\n" + "".join(
        f"  {_demo_role(roster, pid):45s} {issued[pid].login}  /  {issued[pid].passphrase}\n"
        for pid in shown)
        + f"\nGezinspagina van de demo-ouder: http://127.0.0.1:{port}{home}"
        f"  (of http://127.0.0.1:{port}/mijn/)\n"
        f"Brieven voor alle ouders en medewerkers (privé): {change.letters}\n"
        f"Postvak: wat ouders sturen wordt iedere {postvak} s verwerkt; de mails staan in "
        f"{cfg.private / 'mail'} (één .eml per mail).\n"
        "Een gewijzigd beeldgebruik komt in roster/leerlingen.csv (terugzetten: "
        "git checkout roster/).\n"
        "Leerkracht: open /mijn/ en tik op 'Nieuw bericht' (ook op de telefoon); de rondes "
        "plaatsen het in content/ zonder git-commit (weghalen: git clean content/).")
    # the demo's content/ is the project's own: teachers' demo posts are written, not committed
    from datetime import datetime

    from plugins.settings import SCHOOL_TZ

    from .demo_dates import refresh
    from .inbox import seed_demo_leave

    moved = refresh(cfg.content, datetime.now(SCHOOL_TZ).date())  # the sign-ups stay open
    if moved:
        banner += ("\nDe data van de inschrijvingen in de demo zijn naar voren geschoven "
                   f"({len(moved)} berichten; terugzetten: git checkout content/).")
    seed_demo_leave(cfg)  # a leave request for the directie to decide (invoke verlof)
    serve_site(cfg, port, banner, postvak_every=float(postvak), demo_git=False)
