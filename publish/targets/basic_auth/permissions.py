"""Can the web server's own user read what a publish wrote? Decided from stat + pwd/grp.

nginx and Apache read the site and the password file as an unprivileged user
(`www-data` on Debian), not as the admin who published. A release folder that
user cannot enter, or a password file it cannot read, is otherwise found by a
parent (403 or 500). `invoke publish --target nginx` runs this check before it
switches to the new release and stops with the path and the command that fixes it.

The decision follows the kernel's classic rule: owner bits if the user owns the
file, else group bits if one of the user's groups owns it, else the other bits;
root may read anything. ACLs are not consulted (Schoolplein never sets them).
"""

from __future__ import annotations

import grp
import os
import pwd
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from plugins.errors import Problem, SchoolpleinError

READ, WRITE, TRAVERSE = 4, 2, 1
SHOWN = 10  # problems listed one by one; more are summed up with one command for all


@dataclass(frozen=True)
class WebUser:
    name: str
    uid: int
    gids: frozenset[int]  # primary group and every group that lists the user
    group: str  # primary group name

    @classmethod
    def find(cls, name: str) -> WebUser | None:
        """The user as this machine knows it; None if it does not exist here."""
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            return None
        gids = {entry.pw_gid} | {g.gr_gid for g in grp.getgrall() if name in g.gr_mem}
        try:
            group = grp.getgrgid(entry.pw_gid).gr_name
        except KeyError:
            group = str(entry.pw_gid)
        return cls(name, entry.pw_uid, frozenset(gids), group)

    def may(self, st: os.stat_result, want: int) -> bool:
        """Whether this user has every bit of `want` (READ, TRAVERSE) on a file."""
        if self.uid == 0:
            return True
        if st.st_uid == self.uid:
            bits = st.st_mode >> 6
        elif st.st_gid in self.gids:
            bits = st.st_mode >> 3
        else:
            bits = st.st_mode
        return bits & want == want


def _mode(st: os.stat_result) -> str:
    return stat.filemode(st.st_mode)


def path_problems(user: WebUser, folder: Path) -> list[Problem]:
    """Every directory from / down to `folder` must be enterable by the web server."""
    problems = []
    for directory in [*reversed(Path(folder).resolve().parents), Path(folder).resolve()]:
        st = directory.stat()
        if not user.may(st, TRAVERSE):
            problems.append(Problem(
                str(directory), None,
                f"de webserver ({user.name}) kan deze map niet in ({_mode(st)})",
                f"chmod o+x {directory}  (of zet de publicatiemap elders, bv. "
                "SCHOOLPLEIN_DEPLOY=/srv/schoolplein)"))
    return problems


def tree_problems(user: WebUser, root: Path,
                  unreadable: list[tuple[str, os.stat_result, bool]] | None = None
                  ) -> list[Problem]:
    """Every folder in `root` readable and enterable, every file readable.

    `unreadable`: what a walk that already read every entry's stat found (release_tree),
    instead of walking `root` again."""
    if unreadable is None:
        unreadable = _unreadable(user, root)
    problems = [
        Problem(str(path), None,
                f"de webserver ({user.name}) kan {'deze map' if is_dir else 'dit bestand'} "
                f"niet lezen ({_mode(st)})",
                f"chmod {'a+rx' if is_dir else 'a+r'} {path}")
        for path, st, is_dir in unreadable[:SHOWN]]
    if len(unreadable) > SHOWN:
        problems.append(Problem(str(root), None,
                                f"en nog {len(unreadable) - SHOWN} bestanden of mappen die de "
                                f"webserver ({user.name}) niet kan lezen",
                                f"chmod -R a+rX {root}"))
    return problems


def may_read(user: WebUser, st: os.stat_result, is_dir: bool) -> bool:
    """A file readable, a folder readable and enterable."""
    return user.may(st, READ | TRAVERSE if is_dir else READ)


def _unreadable(user: WebUser, root: Path) -> list[tuple[str, os.stat_result, bool]]:
    unreadable: list[tuple[str, os.stat_result, bool]] = []
    for directory, dirs, files in os.walk(root):  # os.path, not a Path per file: 15,000 files
        st = os.stat(directory)
        if not may_read(user, st, True):
            unreadable.append((directory, st, True))
            dirs.clear()  # what lies below is unreachable anyway: one problem is enough
            continue
        for name in files:
            path = os.path.join(directory, name)
            st = os.stat(path)
            if not may_read(user, st, False):
                unreadable.append((path, st, False))
    return unreadable


def password_problems(user: WebUser, files: Iterable[Path]) -> list[Problem]:
    """Readable by the web server through its group (or as owner), never by everyone."""
    problems = []
    for path in files:
        st = path.stat()
        fix = (f"chgrp {user.group} {path}; chmod 640 {path}  (blijvend: publiceer als root of "
               f"als lid van groep {user.group}, bv. sudo adduser $USER {user.group}; dan zet "
               "publish de groep zelf)")
        if st.st_mode & stat.S_IROTH:
            problems.append(Problem(str(path), None,
                                    f"wachtwoordbestand is voor iedereen leesbaar ({_mode(st)})",
                                    fix))
        elif not user.may(st, READ):
            problems.append(Problem(str(path), None,
                                    f"de webserver ({user.name}) kan het wachtwoordbestand niet "
                                    f"lezen ({_mode(st)})", fix))
        if not user.may(path.parent.stat(), TRAVERSE):
            problems.append(Problem(str(path.parent), None,
                                    f"de webserver ({user.name}) kan deze map niet in",
                                    f"chmod o+x {path.parent}"))
    return problems


def spool_problems(user: WebUser, spool: Path) -> list[Problem]:
    """The postvak spool: the web server writes into it; nobody else may look inside."""
    st = spool.stat()
    fix = (f"chgrp {user.group} {spool}; chmod 2770 {spool}  (publish zet dit zelf als het "
           f"als root of als lid van groep {user.group} draait)")
    if st.st_mode & (stat.S_IROTH | stat.S_IXOTH):
        return [Problem(str(spool), None, f"postvak-map is voor iedereen leesbaar ({_mode(st)})",
                        fix)]
    if not user.may(st, WRITE | TRAVERSE):
        return [Problem(str(spool), None, f"de webserver ({user.name}) kan niet in de postvak-map "
                        f"schrijven ({_mode(st)}): berichten van ouders zouden weigeren", fix)]
    return []


def check_readable(web_user: WebUser | str, release: Path, password_files: Iterable[Path],
                   served_from: Path | None = None, spool: Path | None = None,
                   unreadable: list[tuple[str, os.stat_result, bool]] | None = None) -> str:
    """Raise SchoolpleinError listing what the web server cannot read; return a note.

    `web_user`: the user, or its name (looked up here). `served_from`: the folder
    the web server reads on this machine; every directory above it is checked
    too (not for a folder that is rsynced away). `unreadable`: see tree_problems.
    """
    user = WebUser.find(web_user) if isinstance(web_user, str) else web_user
    user_name = web_user if isinstance(web_user, str) else web_user.name
    if user is None:
        return (f"Let op: de webservergebruiker '{user_name}' bestaat niet op deze machine; de "
                "bestandsrechten zijn niet gecontroleerd (SCHOOLPLEIN_WEB_USER).")
    problems = path_problems(user, served_from) if served_from is not None else []
    problems += tree_problems(user, release, unreadable) + password_problems(user, password_files)
    if spool is not None:
        problems += spool_problems(user, spool)
    if problems:
        error = SchoolpleinError(problems)
        error.header = ("Publiceren gestopt: de webserver kan niet alles lezen. De vorige versie "
                        "blijft online.")
        raise error
    return f"Bestandsrechten in orde voor de webserver ({user_name})."
