"""Basic-auth target: one password file, nginx config, Apache .htaccess.

One credential check for the whole school (one realm, one password file),
then a per-section decision; all of it is derived from the section map. The
deploy folder holds complete releases and `current` is swapped atomically, so
a failed build never reaches parents and files dropped from the output (a
revoked photo) disappear from what nginx serves at the next publish.
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
from .accounts import Account, login_spellings

TEMPLATES = Path(__file__).parent / "templates"
REALM = "Ouderplatform"  # one realm: the browser asks once and reuses it for every section
PASSWORD_FILE = "schoolplein.htpasswd"  # every login, one realm
GROUP_FILE = "schoolplein.groups"  # Apache: section name -> logins that may read it
HOMES_FILE = "schoolplein.homes"  # Apache RewriteMap: login -> own pages (/mijn/)
NOBODY_FILE = "uitloggen.htpasswd"  # no logins: /uitloggen/ refuses every password
AUTH_DELAY_MS = 200  # nginx: every failed login waits this long (see nginx-server.conf.j2)
CACHE = {"cache_photo": security_headers.CACHE_PHOTO, "cache_page": security_headers.CACHE_PAGE,
         "cache_protected": security_headers.CACHE_PROTECTED_PAGE}
GROUP_LINE_LOGINS = 40  # Apache reads at most 8 kB per line of a group file


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
    def password_file(self) -> Path:
        return self.htpasswd / PASSWORD_FILE

    @property
    def nginx_conf(self) -> Path:
        return self.root / "nginx-schoolplein.conf"

    @property
    def apache_conf(self) -> Path:
        return self.root / "apache-schoolplein.conf"


def _env() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                       keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)


@dataclass(frozen=True)
class Access:
    """Everything the servers need to decide access, derived from the section map.

    `logins` maps every accepted spelling of a login to its person; only
    people with an account and at least one readable section appear.
    """

    sections: SectionMap
    logins: dict[str, str]  # spelling -> person id
    hashes: dict[str, str]  # person id -> bcrypt hash

    @classmethod
    def derive(cls, sections: SectionMap, accounts: dict[str, Account]) -> Access:
        readers = set().union(*(s.readers for s in sections.protected))
        logins: dict[str, str] = {}
        for pid in sorted(readers & accounts.keys()):
            for spelling in login_spellings(accounts[pid].login):
                logins.setdefault(spelling, pid)
        return cls(sections, logins, {pid: accounts[pid].hash for pid in set(logins.values())})

    def password_lines(self) -> list[str]:
        return sorted(f"{login}:{self.hashes[pid]}" for login, pid in self.logins.items())

    def logins_of(self, section) -> list[str]:
        return sorted(login for login, pid in self.logins.items() if pid in section.readers)

    def grants(self) -> list[str]:
        """'<section>:<person>' for every person with an account who may read the section."""
        people = set(self.hashes)
        return sorted(f"{s.name}:{pid}" for s in self.sections.protected
                      for pid in s.readers & people)

    def homes(self) -> list[tuple[str, str]]:
        return sorted((pid, self.sections.homes.get(pid, ROOTS["school"])) for pid in self.hashes)


def htpasswd_lines(section, accounts: dict[str, Account]) -> list[str]:
    """The password lines of the logins that may read `section` (every spelling)."""
    access = Access.derive(SectionMap((section,)), accounts)
    return access.password_lines()


def _write_private(path: Path, text: str) -> None:
    """Readable by the web server's group only (set by the admin on the folder), never others."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.chmod(tmp, 0o640)
    os.replace(tmp, path)


def write_password_files(access: Access, folder: Path) -> None:
    """The one password file, Apache's group file and its /mijn/ map."""
    folder.mkdir(parents=True, exist_ok=True)
    _write_private(folder / PASSWORD_FILE, "".join(line + "\n" for line in access.password_lines()))
    groups = []
    for section in access.sections.protected:
        logins = access.logins_of(section)
        for start in range(0, len(logins), GROUP_LINE_LOGINS):
            groups.append(f"{section.name}: " + " ".join(logins[start:start + GROUP_LINE_LOGINS]))
    _write_private(folder / GROUP_FILE, "".join(line + "\n" for line in groups))
    homes = dict(access.homes())
    _write_private(folder / HOMES_FILE, "".join(
        f"{login} {homes[pid]}\n" for login, pid in sorted(access.logins.items())))
    _write_private(folder / NOBODY_FILE, "")
    for stale in folder.glob("*.htpasswd"):  # per-section files of earlier releases
        if stale.name not in (PASSWORD_FILE, NOBODY_FILE):
            stale.unlink()


def _ascii_case_folded(logins: dict[str, str]) -> list[tuple[str, str]]:
    """nginx lower-cases (ASCII) the value it looks up in a map: one key per folded login."""
    folded: dict[str, str] = {}
    for login, pid in sorted(logins.items()):
        folded.setdefault(login.encode().lower().decode(), pid)
    return sorted(folded.items())


def nginx_server(access: Access, root: Path, password_file: Path, listen: str,
                 hsts: bool = False) -> str:
    entries = len(access.logins) + len(access.grants()) + len(access.hashes)
    return _env().get_template("nginx-server.conf.j2").render(
        sections=access.sections.protected, root=root, password_file=password_file,
        listen=listen, realm=REALM, headers=security_headers.headers(hsts),
        roots=[r.strip("/") for r in ROOTS.values()], logins=_ascii_case_folded(access.logins),
        grants=access.grants(), homes=access.homes(), default_home=ROOTS["school"],
        auth_delay_ms=AUTH_DELAY_MS, nobody_file=password_file.with_name(NOBODY_FILE),
        map_hash_max_size=max(2048, 2 * entries), **CACHE,
    )


def nginx_main(server_conf: Path, run_dir: Path) -> str:
    """A complete nginx.conf for `invoke serve` and the tests (no root needed)."""
    user = getpass.getuser()
    return _env().get_template("nginx-main.conf.j2").render(
        server_conf=server_conf, run=run_dir, user=user if os.geteuid() == 0 else None,
    )


APACHE_MODULES = ("mpm_event", "authz_core", "authn_core", "authn_file", "auth_basic",
                  "authz_user", "authz_groupfile", "dir", "mime", "headers", "rewrite")


def apache_main(vhost: Path, run_dir: Path, listen: str) -> str:
    """A complete httpd.conf for the tests; Apache never serves as root, so name a user."""
    module_dir = Path("/usr/lib/apache2/modules")
    root = os.geteuid() == 0
    return _env().get_template("apache-main.conf.j2").render(
        run=run_dir, listen=listen, vhost=vhost, modules=APACHE_MODULES, module_dir=module_dir,
        user="www-data" if root else None, group="www-data" if root else None,
    )


def apache_vhost(listen: str, root: Path, htpasswd: Path) -> str:
    return _env().get_template("apache-vhost.conf.j2").render(
        listen=listen, root=root, htpasswd=htpasswd, homes=htpasswd / HOMES_FILE)


def write_htaccess(sections: SectionMap, site: Path, htpasswd: Path, hsts: bool) -> None:
    env = _env()
    auth = {"realm": REALM, "password_file": htpasswd / PASSWORD_FILE,
            "group_file": htpasswd / GROUP_FILE, "nobody_file": htpasswd / NOBODY_FILE}
    (site / ".htaccess").write_text(env.get_template("htaccess-root.j2").render(
        headers=security_headers.headers(hsts), roots=[r.strip("/") for r in ROOTS.values()],
        **CACHE))
    for section in sections.protected:
        folder = site / section.dir
        folder.mkdir(parents=True, exist_ok=True)
        (folder / ".htaccess").write_text(env.get_template("htaccess-section.j2").render(
            section=section, **auth))
    for folder, template in (("mijn", "htaccess-mijn.j2"), ("uitloggen", "htaccess-uitloggen.j2")):
        (site / folder).mkdir(exist_ok=True)
        (site / folder / ".htaccess").write_text(env.get_template(template).render(**auth))


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
    access = Access.derive(sections, accounts)
    write_password_files(access, deploy.htpasswd)
    write_htaccess(sections, release, served.htpasswd, hsts)
    deploy.nginx_conf.write_text(
        nginx_server(access, served.current, served.password_file, listen, hsts))
    deploy.apache_conf.write_text(apache_vhost(listen, served.current, served.htpasswd))
    link = deploy.root / "current.tmp"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(release.relative_to(deploy.root))
    os.replace(link, deploy.current)
    for old in sorted(releases.iterdir())[:-keep]:
        shutil.rmtree(old)
    return deploy
