"""Accounts: passphrases shown once in the letters, only bcrypt hashes kept."""

from __future__ import annotations

import csv
import stat

import bcrypt
import pytest

from plugins.errors import SchoolpleinError
from plugins.roster import Roster
from publish import accounts


def rows(private):
    with (private / "accounts.csv").open() as fh:
        return {r["person_id"]: r for r in csv.DictReader(fh)}


def test_creates_everyone_once_with_bcrypt_hashes_only(roster, tmp_path):
    change = accounts.sync_accounts(roster, tmp_path, rounds=4, school="Kc de Matrix",
                                    site_url="https://ouders.example.nl")
    people = list(roster.people())
    assert len(change.issued) == len(people)
    stored = rows(tmp_path)
    for issued in change.issued:
        h = stored[issued.person_id]["hash"]
        assert h.startswith("$2b$04$") and bcrypt.checkpw(issued.passphrase.encode(), h.encode())
        assert issued.passphrase not in (tmp_path / "accounts.csv").read_text()
    assert stat.S_IMODE((tmp_path / "accounts.csv").stat().st_mode) == 0o600
    letters = change.letters.read_text()
    assert all(i.passphrase in letters for i in change.issued)
    assert stat.S_IMODE(change.letters.stat().st_mode) == 0o600
    # one printable page per person (parents and staff), with the family page's address
    assert letters.count('class="letter"') == len(people)
    assert all(f"/gezin/{fam}/" in letters for fam in roster.families)

    again = accounts.sync_accounts(roster, tmp_path, rounds=4)
    assert again.issued == () and again.letters is None
    assert rows(tmp_path) == stored


def test_reset_one_person_by_email_changes_only_that_hash(roster, tmp_path):
    accounts.sync_accounts(roster, tmp_path, rounds=4)
    before = rows(tmp_path)
    email = roster.parents["ouder-003"].email
    change = accounts.sync_accounts(roster, tmp_path, rounds=4, reset=(email,), letters=False)
    assert [i.person_id for i in change.issued] == ["ouder-003"]
    assert change.letters is None and len(list((tmp_path / "letters").iterdir())) == 1
    after = rows(tmp_path)
    assert after["ouder-003"]["hash"] != before["ouder-003"]["hash"]
    assert {k: v for k, v in after.items() if k != "ouder-003"} == {
        k: v for k, v in before.items() if k != "ouder-003"}
    with pytest.raises(SchoolpleinError, match="onbekende persoon"):
        accounts.sync_accounts(roster, tmp_path, rounds=4, reset=("niemand@example.nl",))


def test_people_who_left_lose_their_account(roster, tmp_path):
    accounts.sync_accounts(roster, tmp_path, rounds=4)
    smaller = Roster(roster.groups, roster.children,
                     {k: v for k, v in roster.parents.items() if k != "ouder-003"},
                     roster.staff, roster.families)
    change = accounts.sync_accounts(smaller, tmp_path, rounds=4)
    assert change.removed == ("ouder-003",)
    assert "ouder-003" not in rows(tmp_path)


def test_each_person_gets_a_letter_with_only_their_own_passphrase(roster, tmp_path):
    """Both parents of a family on one page could act as each other, and the consent audit's
    'who' would mean nothing: one letter (page) per person, the family's printed together."""
    import re

    change = accounts.sync_accounts(roster, tmp_path, rounds=4, school="Kc de Matrix",
                                    site_url="https://ouders.example.nl")
    pages = re.findall(r'<section class="letter"[^>]*>(.*?)</section>', change.letters.read_text(),
                       re.S)
    issued = {i.person_id: i for i in change.issued}
    assert len(pages) == len(issued)
    order = []
    for page in pages:
        own = [i for i in issued.values() if i.passphrase in page]
        assert len(own) == 1, "a letter with more than one passphrase"
        person = roster.person(own[0].person_id)
        assert person.name in page and own[0].login in page
        others = [p.name for p in roster.people() if p.name in page and p.id != person.id]
        assert others == [], others  # nobody else is named on it
        order.append(getattr(person, "family", None))
    families = [f for f in order if f]
    # a family's letters follow each other, so they come off the printer together
    assert all(families.index(f) + families.count(f) - 1 == len(families) - 1 - families[::-1]
               .index(f) for f in set(families))
