"""Admin tasks (`invoke --list`). Help texts: Dutch first, English after the slash."""

from __future__ import annotations

import shlex
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from invoke import task

from plugins.errors import SchoolpleinError
from plugins.settings import Settings, load_settings
from publish import accounts as accounts_mod
from publish import basic_auth, local_server
from publish.cloudfront_tasks import cloudfront_letters, keys, provision, rotate_keys

__all__ = ["accounts", "build", "check", "cloudfront_letters", "demo", "keys", "provision",
           "publish", "rotate_keys", "serve"]

DEMO_LOGINS = (
    ("ouder-001", "ouder met kinderen in groep 3 en groep 5/6"),
    ("lk-02", "leerkracht groep 3"),
    ("mt-01", "directie"),
)
STRICT_HELP = "stop bij iedere weggelaten foto / fail on any dropped photo"
PORT_HELP = "poort op 127.0.0.1 / port (standaard 8000)"


def _fail(exc: SchoolpleinError) -> None:
    header = getattr(exc, "header", "Bouwen/publiceren gestopt. Er is niets gepubliceerd.")
    print(f"\n{header}\n{exc.render()}", file=sys.stderr)
    sys.exit(1)


def _settings() -> Settings:
    """The admin's settings; a bad value stops the task with the same message everywhere."""
    try:
        return load_settings()
    except SchoolpleinError as exc:
        _fail(exc)
        raise  # unreachable: _fail exits


def _build(cfg: Settings, strict: bool = False, output: Path | None = None,
           production: bool = False) -> dict:
    """Build into a fresh staging folder, then move it into place: no half outputs."""
    from plugins.site import build as pelican_build

    target = Path(output or cfg.output)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".build-", dir=target.parent))
    config = cfg.root / ("publishconf.py" if production else "pelicanconf.py")
    overrides = {"photo_strict": True} if strict else {}  # else SCHOOLPLEIN_STRICT decides
    try:
        settings = pelican_build(config, output_path=str(staging),
                                 schoolplein_roster=str(cfg.roster), **overrides)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if target.exists():
        shutil.rmtree(target)
    staging.rename(target)
    settings["OUTPUT_PATH"] = str(target)
    return settings


@task(help={"strict": STRICT_HELP, "output": "uitvoermap / output folder (standaard output/)"})
def build(c, strict=False, output=None):
    """Bouw de site uit roster/ en content/ / Build the site."""
    cfg = _settings()
    try:
        _build(cfg, strict, Path(output) if output else None)
    except SchoolpleinError as exc:
        _fail(exc)
    print(f"Klaar: site gebouwd in {output or cfg.output}")


@task(iterable=["reset"], help={
    "reset": "nieuw wachtwoord voor deze persoon (id of e-mail), mag vaker / reset one person"})
def accounts(c, reset=None):
    """Maak accounts voor nieuwe ouders en medewerkers, verwijder vertrokkenen / Sync accounts."""
    from plugins.roster import load_roster
    from publish.cloudfront_settings import CloudFrontSettings

    cfg = _settings()
    try:
        roster = load_roster(cfg.roster)
        change = accounts_mod.sync_accounts(roster, cfg.private, reset=tuple(reset or ()),
                                            school=cfg.school_name, site_url=cfg.site_url)
    except SchoolpleinError as exc:
        _fail(exc)
    print(f"{len(change.issued)} nieuwe inloggegevens, {len(change.removed)} accounts verwijderd.")
    if change.letters:
        print(f"Brieven om te printen (privé): {change.letters}\n"
              "Verwijder dit bestand zodra de brieven zijn uitgedeeld.")
    cloudfront = CloudFrontSettings.from_env()
    if change.removed:
        print("nginx/Apache: publiceer opnieuw om de toegang van vertrokken mensen in te trekken.")
        if cloudfront.key_pair_id:
            print("CloudFront: hun inloglinks werken niet meer na de volgende "
                  "`invoke publish --target cloudfront` (de andere links blijven geldig).")
    if cloudfront.key_pair_id and cloudfront.private_key_file.exists():
        cloudfront_letters(c)  # the CloudFront target: personal login links with QR codes


def _publish_nginx(cfg: Settings, listen: str, deploy: Path, strict: bool = False,
                   production: bool = False):
    settings = _build(cfg, strict, production=production)
    return basic_auth.publish(cfg.output, deploy, settings["SCHOOLPLEIN_SECTIONS"],
                              accounts_mod.load_accounts(cfg.private), listen, cfg.hsts,
                              server_root=cfg.server_root if production else None,
                              web_user=cfg.web_user if production else None)


def _dry_run_nginx(cfg: Settings, strict: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        _build(cfg, strict, Path(tmp) / "output", production=True)
        added, changed, removed = basic_auth.plan(Path(tmp) / "output",
                                                  cfg.deploy / "nginx")
    print(f"Plan (er verandert niets): {len(added)} nieuw, {len(changed)} gewijzigd, "
          f"{len(removed)} verwijderd.")
    for label, files in (("nieuw", added), ("gewijzigd", changed), ("verwijderd", removed)):
        for name in files[:50]:
            print(f"  {label:10s} {name}")


@task(help={"target": "nginx (basic auth, ook Apache) of cloudfront",
            "dry_run": "toon alleen wat er zou veranderen / only show the plan",
            "strict": STRICT_HELP,
            "listen": "listen-adres in de nginx-config / nginx listen address"})
def publish(c, target="nginx", dry_run=False, strict=False, listen="127.0.0.1:8080"):
    """Bouw en publiceer / Build and publish (nginx/Apache basic auth or S3 + CloudFront)."""
    cfg = _settings()
    try:
        if target == "nginx" and dry_run:
            _dry_run_nginx(cfg, strict)
        elif target == "nginx":
            deploy = _publish_nginx(cfg, listen, cfg.deploy / "nginx", strict, production=True)
            print(f"Gepubliceerd in {deploy.root} (nginx: {deploy.nginx_conf}, "
                  f"Apache: {deploy.apache_conf})")
            if cfg.rsync_dest:
                with basic_auth.publish_lock(deploy.root):  # never while a release is written
                    c.run(shlex.join(basic_auth.rsync_command(deploy.root, cfg.rsync_dest)))
        elif target == "cloudfront":
            from publish.cloudfront_tasks import publish_cloudfront

            settings = _build(cfg, strict, production=True)
            publish_cloudfront(cfg.output, settings["SCHOOLPLEIN_SECTIONS"], None, dry_run)
        else:
            print("Onbekend doel: kies --target nginx of --target cloudfront", file=sys.stderr)
            sys.exit(2)
    except SchoolpleinError as exc:
        _fail(exc)


def _republish_local(cfg: Settings, deploy_root: Path, listen: str):
    """A new release from whatever `invoke build` last wrote, with the current accounts."""
    from plugins.roster import load_roster
    from plugins.sections import build_section_map

    sections = build_section_map(load_roster(cfg.roster), cfg.school_name)
    return basic_auth.publish(cfg.output, deploy_root, sections,
                              accounts_mod.load_accounts(cfg.private), listen, cfg.hsts)


def _serve(cfg: Settings, port: int, banner: str = "") -> None:
    """Serve the build; a later `invoke build` or `invoke accounts` is live at the next reload."""
    listen = f"127.0.0.1:{port}"
    deploy = _publish_nginx(cfg, listen, cfg.deploy / "local")
    proc = local_server.start(deploy, port)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop nginx on kill too
    print(f"{banner}\n{cfg.school_name} draait op http://127.0.0.1:{port}/  "
          "(Ctrl+C om te stoppen)\nNa 'invoke build' of 'invoke accounts' in een ander venster "
          "ziet u de nieuwe versie door de pagina te verversen.")
    watched = local_server.Watch([cfg.output, accounts_mod.store_path(cfg.private)])
    try:
        while proc.poll() is None:
            time.sleep(0.5)
            if watched.changed():
                try:
                    _republish_local(cfg, cfg.deploy / "local", listen)
                except SchoolpleinError as exc:
                    print(f"\nNieuwe versie niet geladen:\n{exc.render()}", file=sys.stderr)
                    continue
                local_server.reload(proc)
                print("Nieuwe versie geladen.")
    except KeyboardInterrupt:
        print("\nGestopt.")
    finally:
        local_server.stop(proc)


@task(help={"port": PORT_HELP})
def serve(c, port=None):
    """Bouw en serveer lokaal met nginx, zoals ouders het zien / Build and serve locally."""
    cfg = _settings()
    try:
        _serve(cfg, int(port or cfg.port))
    except SchoolpleinError as exc:
        _fail(exc)


@task(help={"port": PORT_HELP})
def demo(c, port=None):
    """Demo-school: nieuwe wachtwoorden, brieven, bouwen en serveren / Build and serve the demo."""
    from plugins.roster import load_roster

    cfg = _settings()
    port = int(port or cfg.port)
    try:
        roster = load_roster(cfg.roster)
        # Every demo start issues fresh passphrases for everyone, so the letters file it
        # writes is the only valid one: older demo letters only hold void passphrases.
        letters = cfg.private / "letters"
        stale = sorted(letters.glob("brieven-*.html")) if letters.is_dir() else []
        change = accounts_mod.sync_accounts(roster, cfg.private,
                                            reset=tuple(p.id for p in roster.people()),
                                            school=cfg.school_name,
                                            site_url=f"http://127.0.0.1:{port}")
        for old in stale:
            old.unlink()
        issued = {i.person_id: i for i in change.issued}
        parent = roster.parents[DEMO_LOGINS[0][0]]
        banner = ("\nDemo-logins (nieuw wachtwoord bij iedere start):\n" + "".join(
            f"  {role:45s} {issued[pid].login}  /  {issued[pid].passphrase}\n"
            for pid, role in DEMO_LOGINS)
            + f"\nGezinspagina van de demo-ouder: http://127.0.0.1:{port}/gezin/{parent.family}/"
            f"  (of http://127.0.0.1:{port}/mijn/)\n"
            f"Brieven voor alle ouders en medewerkers (privé): {change.letters}")
        _serve(cfg, port, banner)
    except SchoolpleinError as exc:
        _fail(exc)


@task
def check(c):
    """Controleer roster en content zonder te publiceren / Validate roster and content."""
    cfg = _settings()
    with tempfile.TemporaryDirectory() as tmp:
        try:
            _build(cfg, output=Path(tmp) / "out")
        except SchoolpleinError as exc:
            _fail(exc)
    print("Alles in orde.")
