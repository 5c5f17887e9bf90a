"""The generated server configs: nginx (one server block) and Apache (vhost + .htaccess).

Security headers are the shared definition (publish.headers); the cache
policy of this target is decided here, once: photos private and immutable,
protected pages never stored, public pages revalidated.
"""

from __future__ import annotations

import contextlib
import getpass
import os
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from plugins.calendar_feeds import FEED_NAME
from plugins.photos.settings import PHOTO_DIR
from plugins.sections import FEED_ROOT, ROOTS, SectionMap
from publish import headers
from publish.accounts import BCRYPT_COST

from .access import GROUP_FILE, HOMES_FILE, NOBODY_FILE, NOBODY_GROUP, PASSWORD_FILE, REALM, Access

TEMPLATES = Path(__file__).parent / "templates"
AUTH_DELAY_MS = 200  # nginx: every failed login waits this long (see nginx-server.conf.j2)
POSTVAK_PER_MINUTE = 10  # submissions a login may send a minute (a burst of as many more)
APACHE_DIR, APACHE_LOG = "apache", "ontvangen.log"  # Apache's part of the spool, its side record
# The postvak's own rules (postvak.messages UUID4_RE, MAX_BODY), as the servers enforce them;
# a test holds them equal (publish never imports postvak to write a config).
UUID_RE = "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"  # lower-case UUID4
MAX_BODY = 16 * 1024  # bytes
# The staff postvak (postvak.team holds the same, tested): a post's files under
# /team/<staff-id>/postvak/<uuid>/, photos as the editor scales them, the manifest last.
TEAM_DIR = "team"  # <spool>/team/: the staff postvak's part of the spool
TEAM_FILE_RE = r"(manifest\.json|foto-(0[1-9]|[12][0-9]|30)\.jpg)"
TEAM_MAX_FILE = 8 * 1024 * 1024  # bytes per file
TEAM_PER_MINUTE = 120  # PUTs a staff login may make a minute (30 photos and a manifest each post)
# What goes out compressed (suffix -> type): text; photos are compressed already.
COMPRESSED = {".html": "text/html", ".css": "text/css", ".js": "application/javascript",
              ".svg": "image/svg+xml", ".atom": "application/atom+xml", ".txt": "text/plain"}
CACHE = {"cache_photo": headers.CACHE_PHOTO, "cache_page": headers.CACHE_PAGE,
         "cache_protected": headers.CACHE_PROTECTED_PAGE, "photo_dir": PHOTO_DIR}


def _env() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                       keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)


def _ascii_case_folded(logins: dict[str, str]) -> list[tuple[str, str]]:
    """nginx lower-cases (ASCII) the value it looks up in a map: one key per folded login."""
    folded: dict[str, str] = {}
    for login, pid in sorted(logins.items()):
        folded.setdefault(login.encode().lower().decode(), pid)
    return sorted(folded.items())


def nginx_server(access: Access, root: Path, password_file: Path, listen: str, spool: Path,
                 hsts: bool = False) -> str:
    grants = access.grants()
    entries = len(access.logins) + len(grants) + len(access.hashes)
    return _env().get_template("nginx-server.conf.j2").render(
        sections=access.sections.protected, root=root, password_file=password_file,
        listen=listen, realm=REALM, headers=headers.headers(hsts),
        roots=[r.strip("/") for r in ROOTS.values()], logins=_ascii_case_folded(access.logins),
        grants=grants, homes=access.homes(), default_home=ROOTS["school"],
        auth_delay_ms=AUTH_DELAY_MS, nobody_file=password_file.with_name(NOBODY_FILE),
        spool=spool, uuid_re=UUID_RE, max_body=MAX_BODY,
        postvak_per_minute=POSTVAK_PER_MINUTE, team_file_re=TEAM_FILE_RE,
        team_max_file=TEAM_MAX_FILE, team_per_minute=TEAM_PER_MINUTE,
        map_hash_max_size=max(2048, 2 * entries), compressed=sorted(set(COMPRESSED.values())),
        feeds=access.sections.feeds, feed_root=FEED_ROOT, feed_name=FEED_NAME,
        **CACHE,
    )


def nginx_main(server_conf: Path, run_dir: Path) -> str:
    """A complete nginx.conf for `invoke serve` and the tests (no root needed)."""
    user = getpass.getuser()
    return _env().get_template("nginx-main.conf.j2").render(
        server_conf=server_conf, run=run_dir, user=user if os.geteuid() == 0 else None,
    )


APACHE_MODULES = ("mpm_event", "authz_core", "authn_core", "authn_file", "auth_basic",
                  "authz_user", "authz_groupfile", "dir", "mime", "headers", "rewrite", "alias",
                  "dav", "dav_fs", "lua", "deflate", "setenvif")  # mod_log_config: built in


def apache_main(vhost: Path, run_dir: Path, listen: str) -> str:
    """A complete httpd.conf for the tests; Apache never serves as root, so name a user."""
    module_dir = Path("/usr/lib/apache2/modules")
    root = os.geteuid() == 0
    return _env().get_template("apache-main.conf.j2").render(
        run=run_dir, listen=listen, vhost=vhost, modules=APACHE_MODULES, module_dir=module_dir,
        user="www-data" if root else None, group="www-data" if root else None,
    )


def apache_vhost(listen: str, root: Path, htpasswd: Path, sections: SectionMap,
                 apache_spool: Path, login_hook: Path, hsts: bool = False) -> str:
    return _env().get_template("apache-vhost.conf.j2").render(
        listen=listen, root=root, htpasswd=htpasswd, homes=htpasswd / HOMES_FILE,
        login_hook=login_hook, headers=headers.headers(hsts),
        spool=apache_spool, log=APACHE_LOG, uuid_re=UUID_RE, max_body=MAX_BODY, realm=REALM,
        password_file=htpasswd / PASSWORD_FILE, group_file=htpasswd / GROUP_FILE,
        nobody_file=htpasswd / NOBODY_FILE, nobody_group=NOBODY_GROUP,
        families=[s for s in sections.protected if s.kind == "family"],
        team=[s for s in sections.protected if s.kind == "team"],
        team_spool=apache_spool.parent / TEAM_DIR / APACHE_DIR, team_file_re=TEAM_FILE_RE,
        team_max_file=TEAM_MAX_FILE)


def apache_login_hook(htpasswd: Path) -> str:
    """The Lua hook that makes a wrong password cost one bcrypt for every login (no oracle)."""
    return _env().get_template("apache-login.lua.j2").render(
        password_file=htpasswd / PASSWORD_FILE, cost=BCRYPT_COST)


def write_htaccess(sections: SectionMap, site: Path, htpasswd: Path) -> list[Path]:
    """Apache's rules per folder; returns the files written.

    Each file is written beside and renamed over the old one, never written through it:
    a `.htaccess` already in `site` may be a hard link into the build output and the live
    release (the release links the output's files, the incremental build links unchanged
    files from the last output), which must not change, nor pass through an empty file."""
    written: list[Path] = []

    def write(path: Path, text: str) -> None:
        tmp = path.with_name(path.name + ".new")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()  # a killed publish's leftover, maybe a link too
        tmp.write_text(text)
        os.replace(tmp, path)
        written.append(path)

    env = _env()
    auth = {"realm": REALM, "password_file": htpasswd / PASSWORD_FILE,
            "group_file": htpasswd / GROUP_FILE, "nobody_group": NOBODY_GROUP}
    write(site / ".htaccess", env.get_template("htaccess-root.j2").render(
        roots=[r.strip("/") for r in ROOTS.values()], feed_root=FEED_ROOT, **CACHE))
    feeds = site / FEED_ROOT.strip("/")
    feeds.mkdir(exist_ok=True)
    write(feeds / ".htaccess", env.get_template("htaccess-feeds.j2").render(
        feeds=sections.feeds, feed_name=FEED_NAME))
    for root in ROOTS.values():
        if root != ROOTS["school"]:  # /groep/ and /gezin/: only the section map's live there
            folder = site / root.strip("/")
            folder.mkdir(parents=True, exist_ok=True)
            write(folder / ".htaccess", env.get_template("htaccess-unknown.j2").render(
                **auth))
    for section in sections.protected:
        folder = site / section.dir
        folder.mkdir(parents=True, exist_ok=True)
        write(folder / ".htaccess", env.get_template("htaccess-section.j2").render(
            section=section, **auth))
    (site / "mijn").mkdir(exist_ok=True)
    write(site / "mijn" / ".htaccess", env.get_template("htaccess-mijn.j2").render(**auth))
    return written
