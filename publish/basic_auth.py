"""Basic-auth target: htpasswd per section, nginx config, Apache .htaccess.

All three are derived from the section map; the deploy folder holds complete
releases and `current` is swapped atomically, so a failed build never reaches
parents and files dropped from the output (a revoked photo) disappear from
what nginx serves at the next publish.
"""

from __future__ import annotations

import getpass
import os
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from plugins.sections import ROOTS, SectionMap

from . import security_headers
from .accounts import Account

TEMPLATES = Path(__file__).parent / "templates"
REALM = "Ouderplatform"  # one realm: the browser asks once and reuses it for every section
CACHE = {"cache_photo": security_headers.CACHE_PHOTO, "cache_page": security_headers.CACHE_PAGE}


@dataclass(frozen=True)
class Deploy:
    """Layout of a deploy folder."""

    root: Path

    @property
    def current(self) -> Path:
        return self.root / "current"

    @property
    def htpasswd(self) -> Path:
        return self.root / "htpasswd"

    @property
    def nginx_conf(self) -> Path:
        return self.root / "nginx-schoolplein.conf"

    @property
    def apache_conf(self) -> Path:
        return self.root / "apache-schoolplein.conf"


def _env() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                       keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)


def htpasswd_lines(section, accounts: dict[str, Account]) -> list[str]:
    return sorted(f"{accounts[pid].login}:{accounts[pid].hash}"
                  for pid in section.readers if pid in accounts)


def write_htpasswd(sections: SectionMap, accounts: dict[str, Account], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for section in sections.protected:
        path = folder / f"{section.name}.htpasswd"
        tmp = path.with_suffix(".tmp")
        tmp.write_text("".join(line + "\n" for line in htpasswd_lines(section, accounts)))
        os.chmod(tmp, 0o640)
        os.replace(tmp, path)
    known = {f"{s.name}.htpasswd" for s in sections.protected}
    for stale in folder.glob("*.htpasswd"):
        if stale.name not in known:
            stale.unlink()


def nginx_server(sections: SectionMap, root: Path, htpasswd: Path, listen: str,
                 hsts: bool = False) -> str:
    return _env().get_template("nginx-server.conf.j2").render(
        sections=sections.protected, root=root, htpasswd=htpasswd, listen=listen,
        realm=REALM, headers=security_headers.headers(hsts), roots=ROOTS.values(), **CACHE,
    )


def nginx_main(server_conf: Path, run_dir: Path) -> str:
    """A complete nginx.conf for `invoke serve` and the tests (no root needed)."""
    user = getpass.getuser()
    return _env().get_template("nginx-main.conf.j2").render(
        server_conf=server_conf, run=run_dir, user=user if os.geteuid() == 0 else None,
    )


APACHE_MODULES = ("mpm_event", "authz_core", "authn_core", "authn_file", "auth_basic",
                  "authz_user", "dir", "mime", "headers")


def apache_main(vhost: Path, run_dir: Path, listen: str) -> str:
    """A complete httpd.conf for the tests; Apache never serves as root, so name a user."""
    module_dir = Path("/usr/lib/apache2/modules")
    root = os.geteuid() == 0
    return _env().get_template("apache-main.conf.j2").render(
        run=run_dir, listen=listen, vhost=vhost, modules=APACHE_MODULES, module_dir=module_dir,
        user="www-data" if root else None, group="www-data" if root else None,
    )


def write_htaccess(sections: SectionMap, site: Path, htpasswd: Path, hsts: bool) -> None:
    env = _env()
    (site / ".htaccess").write_text(env.get_template("htaccess-root.j2").render(
        headers=security_headers.headers(hsts), **CACHE))
    for section in sections.protected:
        folder = site / section.dir
        folder.mkdir(parents=True, exist_ok=True)
        (folder / ".htaccess").write_text(env.get_template("htaccess-section.j2").render(
            realm=REALM, htpasswd=htpasswd / f"{section.name}.htpasswd"))


def _copy_tree(src: Path, dst: Path) -> None:
    """Hard-link where possible: releases are cheap, and the output dir is rebuilt anyway."""
    def link_or_copy(a, b):
        try:
            os.link(a, b)
        except OSError:
            shutil.copy2(a, b)
    shutil.copytree(src, dst, copy_function=link_or_copy)


def _files(root: Path) -> dict[str, Path]:
    return {p.relative_to(root).as_posix(): p for p in root.rglob("*")
            if p.is_file() and p.name != ".htaccess"}


def plan(output: Path, deploy_root: Path) -> tuple[list[str], list[str], list[str]]:
    """What a publish would add, change and remove compared with the live release."""
    current = Deploy(Path(deploy_root).resolve()).current
    new = _files(Path(output))
    old = _files(current.resolve()) if current.exists() else {}
    changed = sorted(k for k in new.keys() & old.keys()
                     if new[k].read_bytes() != old[k].read_bytes())
    return sorted(new.keys() - old.keys()), changed, sorted(old.keys() - new.keys())


def publish(output: Path, deploy_root: Path, sections: SectionMap,
            accounts: dict[str, Account], listen: str, hsts: bool = False,
            keep: int = 2, server_root: Path | None = None) -> Deploy:
    """Make a new release from a checked build output and switch to it atomically.

    `server_root` is where the deploy folder lives on the web server (rsync
    target); the generated configs name paths there, not on this machine.
    """
    deploy = Deploy(Path(deploy_root).resolve())
    served = Deploy(Path(server_root) if server_root else deploy.root)
    releases = deploy.root / "releases"
    releases.mkdir(parents=True, exist_ok=True)
    release = releases / datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    _copy_tree(Path(output), release)
    write_htpasswd(sections, accounts, deploy.htpasswd)
    write_htaccess(sections, release, served.htpasswd, hsts)
    deploy.nginx_conf.write_text(
        nginx_server(sections, served.current, served.htpasswd, listen, hsts))
    deploy.apache_conf.write_text(_env().get_template("apache-vhost.conf.j2").render(
        listen=listen, root=served.current, htpasswd=served.htpasswd))
    link = deploy.root / "current.tmp"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(release.relative_to(deploy.root))
    os.replace(link, deploy.current)
    for old in sorted(releases.iterdir())[:-keep]:
        shutil.rmtree(old)
    return deploy
