"""Roster questions the postvak asks: who is this login, whose child, who may be written to.

A child of separated parents belongs to two households (roster: `gezinnen`);
each household is its own family with its own page and postvak. These helpers
answer per household, except where the school's rules name every parent linked
to the child (absence and consent notices, the consent rule).
"""

from __future__ import annotations

import unicodedata

from plugins import family_threads
from plugins.roster import Child, Person, Roster, Staff

from .messages import DIRECTIE


def login_key(login: str) -> str:
    """One spelling per login: the server accepts a capital first letter and NFC/NFD."""
    return unicodedata.normalize("NFC", login.strip()).casefold()


def person_for_login(roster: Roster, login: str) -> Person | None:
    key = login_key(login)
    for person in roster.people():
        if login_key(person.email) == key:
            return person
    return None


def teachers_of_child(roster: Roster, child_id: str) -> tuple[Staff, ...]:
    ids = roster.teachers_of(roster.children[child_id].group)
    return tuple(roster.staff[i] for i in sorted(ids))


def directie(roster: Roster) -> tuple[Staff, ...]:
    return tuple(roster.staff[i] for i in sorted(roster.management()))


def recipients(roster: Roster, family_id: str) -> dict[str, str]:
    """Whom this family may write to (id -> name): the rule the family page's form offers."""
    return {r.id: r.name for r in family_threads.recipients(roster, family_id)}


def recipient_addresses(roster: Roster, to: str, fallback: str) -> tuple[tuple[str, str], ...]:
    """(name, e-mail) for a message recipient; the directie is every directie member."""
    if to == DIRECTIE:
        members = directie(roster)
        if members:
            return tuple((s.name, s.email) for s in members)
        return (("de directie", fallback),) if fallback else ()
    staff = roster.staff[to]
    return ((staff.name, staff.email),)


def short_name(roster: Roster, child: Child) -> str:
    """First name, plus the initial of the last name when the group has two of them."""
    same = [c for c in roster.children_in(child.group) if c.first_name == child.first_name]
    if len(same) < 2:
        return child.first_name
    initial = next((w[0].upper() for w in child.last_name.split() if w[:1].isupper()),
                   child.last_name[:1].upper())
    return f"{child.first_name} {initial}."

