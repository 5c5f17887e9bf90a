"""Who may log in, and to which section: one password file, derived from the section map.

One credential check for the whole school (one realm, one password file),
then a per-section decision. The servers' decision tables (nginx maps, Apache's
group file and /mijn/ map) are all computed here from the section map and the
accounts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from plugins.sections import ROOTS, SectionMap
from publish.accounts import Account, login_spellings

REALM = "Ouderplatform"  # one realm: the browser asks once and reuses it for every section
PASSWORD_FILE = "schoolplein.htpasswd"  # every login, one realm
GROUP_FILE = "schoolplein.groups"  # Apache: section name -> logins that may read it
HOMES_FILE = "schoolplein.homes"  # Apache RewriteMap: login -> own pages (/mijn/)
NOBODY_FILE = "uitloggen.htpasswd"  # no logins: /uitloggen/ refuses every password
NOBODY_GROUP = "niemand"  # Apache: a group nobody is in (unknown groups and families)
GROUP_LINE_LOGINS = 40  # Apache reads at most 8 kB per line of a group file


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


STAGED = ".new"  # a password file written but not yet in place: the publish checks it first


def _write_private(path: Path, text: str) -> Path:
    """Readable by the web server's group only (set by the admin on the folder), never others.

    Written beside `path` as `<name>.new`; `install_password_files` moves it into place.
    """
    tmp = path.with_name(path.name + STAGED)
    tmp.write_text(text, encoding="utf-8")
    os.chmod(tmp, 0o640)
    return tmp


def write_password_files(access: Access, folder: Path) -> list[Path]:
    """The one password file, Apache's group file and its /mijn/ map, written as `*.new`
    beside the live ones (which stay as they are); returns the new files."""
    folder.mkdir(parents=True, exist_ok=True)
    staged = [_write_private(folder / PASSWORD_FILE,
                             "".join(line + "\n" for line in access.password_lines()))]
    groups = []
    for section in access.sections.protected:
        logins = access.logins_of(section)
        for start in range(0, len(logins), GROUP_LINE_LOGINS):
            groups.append(f"{section.name}: " + " ".join(logins[start:start + GROUP_LINE_LOGINS]))
    staged.append(_write_private(folder / GROUP_FILE, "".join(line + "\n" for line in groups)))
    homes = dict(access.homes())
    staged.append(_write_private(folder / HOMES_FILE, "".join(
        f"{login} {homes[pid]}\n" for login, pid in sorted(access.logins.items()))))
    staged.append(_write_private(folder / NOBODY_FILE, ""))
    return staged


def install_password_files(staged: list[Path]) -> None:
    """Move the checked `*.new` files into place (one rename each) and drop the per-section
    files of earlier releases."""
    for tmp in staged:
        os.replace(tmp, tmp.with_name(tmp.name.removesuffix(STAGED)))
    folder = staged[0].parent
    for stale in folder.glob("*.htpasswd"):
        if stale.name not in (PASSWORD_FILE, NOBODY_FILE):
            stale.unlink()


def discard_password_files(folder: Path) -> None:
    """Remove `*.new` files a refused or killed publish left: the live ones stay."""
    for tmp in folder.glob("*" + STAGED) if folder.is_dir() else ():
        tmp.unlink(missing_ok=True)
