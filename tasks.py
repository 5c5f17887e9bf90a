"""Admin tasks (`invoke --list`). Help texts: Dutch first, English after the slash."""

from __future__ import annotations

import shutil
import signal
import sys
import tempfile
from pathlib import Path

from invoke import task

from plugins.errors import SchoolpleinError
from publish import accounts as accounts_mod
from publish import basic_auth, local_server
from publish.cloudfront_tasks import cloudfront_letters, keys, provision, rotate_keys
from publish.config import Config

__all__ = ["accounts", "build", "check", "cloudfront_letters", "demo", "keys", "provision",
           "publish", "rotate_keys", "serve"]

DEMO_LOGINS = (
    ("ouder-001", "ouder met kinderen in groep 3 en groep 5/6"),
    ("lk-02", "leerkracht groep 3"),
    ("mt-01", "directie"),
)


def _fail(exc: SchoolpleinError) -> None:
    print(f"\nBouwen/publiceren gestopt. Er is niets gepubliceerd.\n{exc.render()}",
          file=sys.stderr)
    sys.exit(1)


def _build(cfg: Config, strict: bool = False, output: Path | None = None,
           production: bool = False) -> dict:
    """Build into a fresh staging folder, then move it into place: no half outputs."""
    from plugins.site import build as pelican_build

    target = Path(output or cfg.output)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".build-", dir=target.parent))
    config = cfg.root / ("publishconf.py" if production else "pelicanconf.py")
    try:
        settings = pelican_build(config, output_path=str(staging),
                                 schoolplein_roster=str(cfg.roster), photo_strict=strict)
    except SchoolpleinError:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if target.exists():
        shutil.rmtree(target)
    staging.rename(target)
    settings["OUTPUT_PATH"] = str(target)
    return settings


@task(help={"strict": "stop bij iedere weggelaten foto / fail on any dropped photo",
            "output": "uitvoermap / output folder (standaard output/)"})
def build(c, strict=False, output=None):
    """Bouw de site uit roster/ en content/ / Build the site."""
    cfg = Config.from_env()
    try:
        _build(cfg, strict, Path(output) if output else None)
    except SchoolpleinError as exc:
        _fail(exc)
    print(f"Klaar: site gebouwd in {output or cfg.output}")


@task(iterable=["reset"], help={
    "reset": "nieuw wachtwoord voor deze persoon (id of e-mail), mag vaker / reset one person"})
def accounts(c, reset=None):
    """Maak accounts voor nieuwe ouders en medewerkers, verwijder vertrokken mensen / Sync accounts."""
    cfg = Config.from_env()
    from plugins.roster import load_roster

    try:
        roster = load_roster(cfg.roster)
        change = accounts_mod.sync_accounts(roster, cfg.private, cfg.bcrypt_rounds,
                                            tuple(reset or ()), "Kc de Matrix")
    except SchoolpleinError as exc:
        _fail(exc)
    print(f"{len(change.issued)} nieuwe inloggegevens, {len(change.removed)} accounts verwijderd.")
    if change.letters:
        print(f"Brieven om te printen (privé, niet delen): {change.letters}")
    if change.removed:
        print("Publiceer opnieuw om de toegang van vertrokken mensen echt in te trekken.")
    from publish.cloudfront_settings import CloudFrontSettings

    cloudfront = CloudFrontSettings.from_env()
    if cloudfront.key_pair_id and cloudfront.private_key_file.exists():
        cloudfront_letters(c)  # the CloudFront target: personal login links with QR codes


def _publish_nginx(cfg: Config, listen: str, deploy: Path, strict: bool = False,
                   production: bool = False):
    settings = _build(cfg, strict, production=production)
    accs = accounts_mod.load_accounts(cfg.private)
    # "user@host:/srv/schoolplein" -> the configs name /srv/schoolplein/...
    server_root = Path(cfg.rsync_dest.rsplit(":", 1)[-1]) if production and cfg.rsync_dest \
        else None
    return basic_auth.publish(cfg.output, deploy, settings["SCHOOLPLEIN_SECTIONS"], accs,
                              listen, cfg.hsts, server_root=server_root)


@task(help={"target": "nginx (basic auth) of cloudfront",
            "dry_run": "toon alleen wat er zou gebeuren / only show the plan",
            "strict": "stop bij iedere weggelaten foto / fail on any dropped photo",
            "listen": "nginx listen-adres / nginx listen address (standaard 443 ssl via eigen config)"})
def publish(c, target="nginx", dry_run=False, strict=False, listen="127.0.0.1:8080"):
    """Bouw en publiceer / Build and publish (nginx/Apache basic auth or S3 + CloudFront)."""
    cfg = Config.from_env()
    try:
        if target == "nginx":
            deploy = _publish_nginx(cfg, listen, cfg.deploy / "nginx", strict, production=True)
            print(f"Gepubliceerd in {deploy.root} (nginx: {deploy.nginx_conf})")
            if cfg.rsync_dest and not dry_run:
                c.run(f"rsync -a --delete --delay-updates {deploy.root}/ {cfg.rsync_dest}/")
        elif target == "cloudfront":
            from publish.cloudfront_tasks import publish_cloudfront

            settings = _build(cfg, strict, production=True)
            publish_cloudfront(cfg.output, settings["SCHOOLPLEIN_SECTIONS"], None, dry_run)
        else:
            print("Onbekend doel: kies --target nginx of --target cloudfront", file=sys.stderr)
            sys.exit(2)
    except SchoolpleinError as exc:
        _fail(exc)


def _serve(cfg: Config, port: int, banner: str = "") -> None:
    deploy = _publish_nginx(cfg, f"127.0.0.1:{port}", cfg.deploy / "local")
    proc = local_server.start(deploy, port)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop nginx on kill too
    print(banner + f"\nKc de Matrix draait op http://127.0.0.1:{port}/  (Ctrl+C om te stoppen)")
    try:
        proc.wait()
    except KeyboardInterrupt:
        print("\nGestopt.")
    finally:
        local_server.stop(proc)


@task(help={"port": "poort op 127.0.0.1 / port (standaard 8000)"})
def serve(c, port=None):
    """Bouw en serveer lokaal met nginx en dezelfde wachtwoorden per sectie / Serve locally."""
    cfg = Config.from_env()
    try:
        _serve(cfg, int(port or cfg.port))
    except SchoolpleinError as exc:
        _fail(exc)


@task(help={"port": "poort op 127.0.0.1 / port (standaard 8000)"})
def demo(c, port=None):
    """Demo-school: accounts, drie demo-logins, bouwen en serveren / Build and serve the demo."""
    cfg = Config.from_env()
    from plugins.roster import load_roster

    try:
        roster = load_roster(cfg.roster)
        accounts_mod.sync_accounts(roster, cfg.private, cfg.bcrypt_rounds, (), "Kc de Matrix")
        change = accounts_mod.sync_accounts(roster, cfg.private, cfg.bcrypt_rounds,
                                            tuple(pid for pid, _ in DEMO_LOGINS), "Kc de Matrix")
        issued = {i.person_id: i for i in change.issued}
        banner = "\nDemo-logins (nieuw wachtwoord bij iedere start):\n" + "".join(
            f"  {role:45s} {issued[pid].login}  /  {issued[pid].passphrase}\n"
            for pid, role in DEMO_LOGINS)
        _serve(cfg, int(port or cfg.port), banner)
    except SchoolpleinError as exc:
        _fail(exc)


@task
def check(c):
    """Controleer roster en content zonder te publiceren / Validate roster and content."""
    cfg = Config.from_env()
    with tempfile.TemporaryDirectory() as tmp:
        try:
            _build(cfg, output=Path(tmp) / "out")
        except SchoolpleinError as exc:
            _fail(exc)
    print("Alles in orde.")


