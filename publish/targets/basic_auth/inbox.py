"""Collect what parents PUT into the spool (nginx's DAV, Apache's mod_dav) for the postvak.

nginx stores each submission as
    <spool>/<login>/<seconds.millis>/gezin/<family>/postvak/<uuid>.json
(servers.py: the login it checked and its own clock are part of the path, so
neither comes from the request body). Apache cannot put the login in a path:
it stores <spool>/apache/<family>/<uuid>.json and writes a side record line
"<epoch> <login> <status> <path>" per PUT to <spool>/apache/ontvangen.log.

Each file is handed to `store` (postvak.intake: durable in the private folder)
and removed only after `store` returned, so a collector killed at any point
loses nothing; the next run hands over what is left, and intake ignores an
exact repeat.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from plugins.errors import Problem, SchoolpleinError

from .servers import APACHE_DIR, APACHE_LOG, TEAM_DIR, TEAM_FILE_RE, TEAM_MAX_FILE, UUID_RE

MAX_READ = 64 * 1024  # the servers refuse more than 16 KiB; never read a huge file whole
NO_RECORD_AFTER = 600  # seconds an Apache submission may wait for its side record
_NGINX_PARTS = re.compile(rf"^(?P<login>[^/]+)/(?P<msec>\d+\.\d+)/gezin/(?P<family>[a-z0-9]+)"
                          rf"/postvak/(?P<id>{UUID_RE})\.json$")
_APACHE_PARTS = re.compile(rf"^{APACHE_DIR}/(?P<family>[a-z0-9]+)/(?P<id>{UUID_RE})\.json$")
_APACHE_LINE = re.compile(rf"^(?P<epoch>\d+) (?P<login>\S+) 201 /gezin/(?P<family>[a-z0-9]+)"
                          rf"/postvak/(?P<id>{UUID_RE})\.json$")


def _read(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.read(MAX_READ)


def _prune_empty(folder: Path, spool: Path) -> None:
    """Remove the folders a collected file leaves empty (never the spool itself)."""
    while folder != spool and spool in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def _apache_senders(spool: Path) -> dict[tuple[str, str], tuple[str, datetime]]:
    log = spool / APACHE_DIR / APACHE_LOG
    found = {}
    if log.is_file():
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
            match = _APACHE_LINE.match(line.strip())
            if match:
                found[(match["family"], match["id"])] = (
                    match["login"], datetime.fromtimestamp(int(match["epoch"]), UTC))
    return found


def collect_spool(spool: Path, store: Callable) -> int:
    """Hand every submission in a local spool to `store`, then remove it; returns the count.

    In the order the server received them (its clock, across every login), not by path:
    the first of two submissions with one id is the one applied.
    """
    from postvak import Received  # the postvak's own record; publish never imports it at load

    spool = Path(spool)
    if not spool.is_dir():
        return 0
    apache = None
    found: list[tuple[datetime, str, Path, str, str, str, bool]] = []
    for path in (p for p in spool.rglob("*.json") if p.is_file()):
        rel = path.relative_to(spool).as_posix()
        if rel.startswith(f"{TEAM_DIR}/"):
            continue  # the staff postvak's: collect_team_spool
        if match := _NGINX_PARTS.match(rel):
            ident, family, sender = match["id"], match["family"], match["login"]
            at = datetime.fromtimestamp(float(match["msec"]), UTC)
            prune = True
        elif match := _APACHE_PARTS.match(rel):
            ident, family = match["id"], match["family"]
            apache = _apache_senders(spool) if apache is None else apache
            sender, at = apache.get((family, ident), ("", None))
            if at is None:
                stored = datetime.fromtimestamp(path.stat().st_mtime, UTC)
                if (datetime.now(UTC) - stored).total_seconds() < NO_RECORD_AFTER:
                    continue  # the side record follows the file; a later run finds it
                sender, at = "", stored  # still none: handed over, so it ends in quarantine
            prune = False  # its family folder stays: Apache's DAV needs it for the next PUT
        else:  # not a shape the servers write: handed over anyway, so it ends in quarantine
            ident, family, sender = path.stem, "", ""
            at = datetime.fromtimestamp(path.stat().st_mtime, UTC)
            prune = False
        found.append((at, rel, path, ident, family, sender, prune))
    for at, _rel, path, ident, family, sender, prune in sorted(found, key=lambda f: f[:2]):
        store(Received(ident, family, sender, at, _read(path), f"spool:{path}"))
        path.unlink()
        if prune:
            _prune_empty(path.parent, spool)
    return len(found)


def _run(command: list[str], allowed: tuple[int, ...] = (0,)) -> None:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode not in allowed:
        raise SchoolpleinError(Problem(
            " ".join(command), None, f"postvak ophalen van de server mislukte: {done.stderr.strip()}",
            "controleer SCHOOLPLEIN_RSYNC_DEST en de ssh-toegang; opnieuw proberen is veilig"))


def pull_remote(remote_spool: str, staging: Path) -> None:
    """Move a server's spool into a private staging folder (rsync over ssh).

    rsync removes each file on the server only after it is written (and
    fsync'd) here, so a pull that is cut off loses nothing. Apache's side record
    and lock database stay on the server (Apache keeps writing them): the record
    is copied after the files, so every pulled file's line is in the copy.
    Empty folders nginx left behind are removed on the server a minute later.
    """
    staging.mkdir(parents=True, exist_ok=True, mode=0o700)
    (staging / APACHE_DIR).mkdir(exist_ok=True)
    (staging / TEAM_DIR / APACHE_DIR).mkdir(parents=True, exist_ok=True)
    _run(["rsync", "-a", "--fsync", "--remove-source-files",
          f"--exclude=/{APACHE_DIR}/{APACHE_LOG}", f"--exclude=/{APACHE_DIR}/davlock*",
          f"--exclude=/{TEAM_DIR}/{APACHE_DIR}/{APACHE_LOG}",
          f"{remote_spool}/", f"{staging}/"])
    for log in (f"{APACHE_DIR}/{APACHE_LOG}", f"{TEAM_DIR}/{APACHE_DIR}/{APACHE_LOG}"):
        _run(["rsync", "-a", f"{remote_spool}/{log}", f"{staging}/{log}"],
             allowed=(0, 23))  # 23: no Apache here
    host, _, folder = remote_spool.rpartition(":") if ":" in remote_spool.split("/", 1)[0] else (
        "", "", remote_spool)
    find = ["find", folder, "-mindepth", "1", "-type", "d", "-empty", "-mmin", "+1",
            "-not", "-path", f"{folder}/{APACHE_DIR}*",
            "-not", "-path", f"{folder}/{TEAM_DIR}/{APACHE_DIR}*", "-delete"]
    _run(["ssh", host, shlex.join(find)] if host else find)


# --- the staff postvak (postvak.team) ---------------------------------------------------------

_TEAM_FILE = rf"(?P<staff>[a-z0-9][a-z0-9_-]*)/postvak/(?P<id>{UUID_RE})/(?P<name>{TEAM_FILE_RE})"
_TEAM_NGINX = re.compile(rf"^(?P<login>[^/]+)/(?P<msec>\d+\.\d+)/team/{_TEAM_FILE}$")
_TEAM_APACHE = re.compile(rf"^{APACHE_DIR}/(?P<staff>[a-z0-9][a-z0-9_-]*)/(?P<id>{UUID_RE})"
                          rf"\.(?P<name>{TEAM_FILE_RE})$")
_TEAM_LINE = re.compile(rf"^(?P<epoch>\d+) (?P<login>\S+) 201 /team/{_TEAM_FILE}$")


def collect_team_spool(spool: Path, store: Callable) -> int:
    """Hand every file of the staff postvak (`<spool>/team/`) to `store`, then remove it.

    The same rules as the parents' postvak: who sent it is nginx's path (the login it
    checked) or Apache's side record, never the file; a file is removed only after
    `store` (postvak.team.intake_file) returned.
    """
    from postvak.team import TeamFile

    team = Path(spool) / TEAM_DIR
    if not team.is_dir():
        return 0
    senders = None
    handed = 0
    for path in sorted(p for p in team.rglob("*") if p.is_file() and not p.name.startswith(".")):
        rel = path.relative_to(team).as_posix()
        if rel in (f"{APACHE_DIR}/{APACHE_LOG}",) or rel.startswith(f"{APACHE_DIR}/davlock"):
            continue
        if match := _TEAM_NGINX.match(rel):
            sender = match["login"]
            at = datetime.fromtimestamp(float(match["msec"]), UTC)
            prune = True
        elif match := _TEAM_APACHE.match(rel):
            if senders is None:
                senders = _team_senders(team)
            sender, at = senders.get((match["id"], match["name"]), ("", None))
            if at is None:
                stored = datetime.fromtimestamp(path.stat().st_mtime, UTC)
                if (datetime.now(UTC) - stored).total_seconds() < NO_RECORD_AFTER:
                    continue
                sender, at = "", stored
            prune = False
        else:
            continue  # not a shape the servers write (left for the admin to look at)
        with path.open("rb") as fh:
            body = fh.read(TEAM_MAX_FILE + 1)
        store(TeamFile(match["id"], match["name"], sender, at, body, f"spool:{path}"))
        path.unlink()
        handed += 1
        if prune:
            _prune_empty(path.parent, team)
    return handed


def _team_senders(team: Path) -> dict[tuple[str, str], tuple[str, datetime]]:
    log = team / APACHE_DIR / APACHE_LOG
    found = {}
    if log.is_file():
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
            if match := _TEAM_LINE.match(line.strip()):
                found[(match["id"], match["name"])] = (
                    match["login"], datetime.fromtimestamp(int(match["epoch"]), UTC))
    return found
