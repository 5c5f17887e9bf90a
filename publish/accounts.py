"""Parent and staff accounts: bcrypt hashes kept, passphrases shown once.

The store lives in the private folder (outside git and outside the site):
`accounts.csv` with person id, login (e-mail) and bcrypt hash. New
passphrases go into a printable letters file for the admin, one page per
person (each parent their own, with only their own passphrase; a family's
pages follow each other); they are never stored anywhere else.

Why bcrypt at its lowest cost (4): the web server checks the hash on every
request (every photo too), and a slow hash exists to protect *guessable*
passwords. Ours are generated: 16 characters from a 31-letter alphabet,
16 * log2(31) = 79 bits. At cost 4 one guess costs ~1 ms on a CPU core; even a
rack of GPUs at a billion guesses per second needs ~10^7 years for half the
space. Cost 4 keeps a request's check near 1 ms instead of ~55 ms at cost 10.
"""

from __future__ import annotations

import csv
import html
import math
import os
import secrets
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import bcrypt

from plugins.errors import Problem, SchoolpleinError
from plugins.roster import Parent, Roster

PASS_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read from paper
PASS_GROUPS, PASS_GROUP_LEN = 4, 4
PASS_BITS = round(PASS_GROUPS * PASS_GROUP_LEN * math.log2(len(PASS_ALPHABET)))  # 79
BCRYPT_COST = 4  # see the module docstring
FIELDS = ("person_id", "login", "hash", "created")


@dataclass(frozen=True)
class Account:
    person_id: str
    login: str
    hash: str
    created: str


@dataclass(frozen=True)
class Issued:
    """A passphrase handed out in this run (for the letters, never stored)."""

    person_id: str
    login: str
    passphrase: str


@dataclass(frozen=True)
class AccountsChange:
    issued: tuple[Issued, ...]
    removed: tuple[str, ...]
    letters: Path | None


def new_passphrase() -> str:
    """Four groups of four characters (PASS_BITS, 79 bits): typed once on a phone."""
    return "-".join("".join(secrets.choice(PASS_ALPHABET) for _ in range(PASS_GROUP_LEN))
                    for _ in range(PASS_GROUPS))


def hash_passphrase(passphrase: str, rounds: int = BCRYPT_COST) -> str:
    return bcrypt.hashpw(passphrase.encode(), bcrypt.gensalt(rounds)).decode()


def login_spellings(login: str) -> tuple[str, ...]:
    """Every spelling of a login the web server accepts.

    A phone keyboard capitalises the first letter of the login field, and
    typed accents arrive precomposed (NFC) in UTF-8; the roster's address may
    be decomposed (NFD) when it came from a Mac. All of them mean the same
    person, so the password file lists each spelling with the same hash.
    """
    nfc = unicodedata.normalize("NFC", login)
    spellings = [nfc, nfc[:1].upper() + nfc[1:]]
    spellings += [unicodedata.normalize("NFD", s) for s in spellings]
    return tuple(dict.fromkeys(spellings))


def store_path(private: Path) -> Path:
    return Path(private) / "accounts.csv"


def load_accounts(private: Path) -> dict[str, Account]:
    path = store_path(private)
    if not path.exists():
        return {}
    with path.open(encoding="utf-8", newline="") as fh:
        return {row["person_id"]: Account(**row) for row in csv.DictReader(fh)}


def _save(private: Path, accounts: dict[str, Account]) -> None:
    path = store_path(private)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, FIELDS, lineterminator="\n")
        w.writeheader()
        for acc in sorted(accounts.values(), key=lambda a: a.person_id):
            w.writerow(acc.__dict__)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def sync_accounts(roster: Roster, private: Path, rounds: int = BCRYPT_COST,
                  reset: tuple[str, ...] = (), school: str = "", site_url: str = "",
                  letters: bool = True, homes: Mapping[str, str] | None = None) -> AccountsChange:
    """Create missing accounts, reset the named people, drop people who left.

    `reset` takes person ids or e-mail addresses. Logins follow the roster's
    e-mail address: a changed address means a new account. With `letters`
    off (the demo prints its logins) no passphrase is written anywhere.
    """
    private = Path(private)
    accounts = load_accounts(private)
    by_login = {p.email: p.id for p in roster.people()}
    wanted = set()
    for who in reset:
        pid = by_login.get(who.lower(), who)
        if pid not in roster.parents and pid not in roster.staff:
            raise SchoolpleinError(Problem(
                "invoke accounts --reset", None, f"onbekende persoon '{who}'",
                "gebruik een id of e-mailadres uit roster/ouders.csv of roster/personeel.csv",
            ))
        wanted.add(pid)
    removed = tuple(sorted(pid for pid in accounts
                           if pid not in roster.parents and pid not in roster.staff))
    for pid in removed:
        del accounts[pid]
    issued = []
    now = datetime.now().astimezone().isoformat(timespec="seconds")
    for person in roster.people():
        acc = accounts.get(person.id)
        if acc is None or acc.login != person.email or person.id in wanted:
            phrase = new_passphrase()
            accounts[person.id] = Account(person.id, person.email,
                                          hash_passphrase(phrase, rounds), now)
            issued.append(Issued(person.id, person.email, phrase))
    _save(private, accounts)
    written = write_letters(roster, issued, private, school, site_url, homes) \
        if issued and letters else None
    return AccountsChange(tuple(issued), removed, written)


def write_letters(roster: Roster, issued: list[Issued], private: Path, school: str,
                  site_url: str = "", homes: Mapping[str, str] | None = None) -> Path:
    """One printable page per person, with only that person's passphrase.

    Each parent gets a letter of their own (one login per person is what makes the postvak's
    sender and the consent audit's "who" mean something); a family's letters are printed one
    after the other. The family page's address is only in these letters: nothing public links it.
    `homes` (the section map's): where each person lands; a parent who left reads only the
    archive.
    """
    def order(item: Issued) -> tuple:
        person = roster.person(item.person_id)
        return (0, person.family, person.id) if isinstance(person, Parent) else (1, "", person.id)

    blocks = []
    for item in sorted(issued, key=order):
        person = roster.person(item.person_id)
        family = isinstance(person, Parent) and person.family in roster.families
        home = f"{site_url}/gezin/{person.family}/" if family else f"{site_url}/school/"
        where = "Uw gezinspagina" if family else "Start"
        landing = (homes or {}).get(person.id, "")
        if landing and not landing.startswith(("/gezin/", "/school/")):
            home, where = f"{site_url}{landing}", "Archief"
        own = ("Iedere ouder krijgt een eigen brief met een eigen wachtwoord; geef deze brief niet "
               "aan de andere ouder." if isinstance(person, Parent) else
               "Deze gegevens zijn alleen voor u.")
        blocks.append(
            f'<section class="letter"><p><strong>Vertrouwelijk – alleen voor '
            f"{html.escape(person.name)}</strong></p><h1>Welkom bij het ouderplatform van "
            f"{html.escape(school)}</h1><p>Beste {html.escape(person.name)},</p><p>Hieronder "
            f"staan uw persoonlijke inloggegevens. Bewaar deze brief goed en deel uw wachtwoord "
            f"met niemand. {own}</p><table><tr><th>Inlognaam (uw e-mailadres)</th>"
            f"<th>Wachtwoord</th></tr><tr><td><code>{html.escape(item.login)}</code></td>"
            f"<td><code>{html.escape(item.passphrase)}</code></td></tr></table>"
            f"<p>{where}: <code>{html.escape(home)}</code> (bewaar deze link als bladwijzer).</p>"
            f"<p>Uw browser vraagt één keer om deze gegevens en onthoudt ze voor alle pagina's "
            f"die bij u horen, tot u uitlogt.</p></section>"
        )
    out = Path(private) / "letters"
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = out / f"brieven-{datetime.now():%Y%m%d-%H%M%S-%f}.html"
    path.write_text(
        '<!doctype html><html lang="nl"><meta charset="utf-8"><title>Welkomstbrieven</title>'
        "<style>.letter{page-break-after:always;font-family:sans-serif}td,th{padding:.3em 1em;"
        "text-align:left}</style>" + "".join(blocks) + "</html>",
        encoding="utf-8",
    )
    os.chmod(path, 0o600)
    return path
