"""Login links stay QR-sized: a generated school with a large group and its teacher."""

from __future__ import annotations

import random
from urllib.parse import parse_qs, unquote

import pytest
import qrcode
from cf_helpers import cf_settings

from plugins.roster import FAMILY_ALPHABET, load_roster, write_roster
from plugins.sections import build_section_map
from publish.targets.cloudfront.links import (
    QR_PART_MAX_BYTES,
    cookie_prefixes,
    login_link,
    qr_svg,
    write_cloudfront_letters,
)
from publish.targets.cloudfront.signing import load_private_key

CHILDREN = 34  # a large group, every child from another family


@pytest.fixture(scope="module")
def big_school(tmp_path_factory):
    rng = random.Random(34)
    folder = tmp_path_factory.mktemp("roster")
    children, parents = [], []
    for n in range(CHILDREN + 3):  # three more children in groep-7
        family = "".join(rng.choice(FAMILY_ALPHABET) for _ in range(20))
        group = "groep-8" if n < CHILDREN else "groep-7"
        children.append([f"ll-{n:03}", f"Kind{n}", "Groot", group, ""])
        for p in range(2):
            parents.append([f"ouder-{n:03}-{p}", f"Ouder {n}-{p}", f"ouder{n}{p}@example.nl",
                            family, f"ll-{n:03}"])
    write_roster(folder, groups=[["groep-7", "Groep 7", "2026-2027"],
                                 ["groep-8", "Groep 8", "2026-2027"]], children=children,
                 parents=parents,
                 staff=[["lk-01", "Juf Groot", "juf@example.nl", "leerkracht", "groep-8"],
                        ["mt-01", "Dirk Directeur", "dir@example.nl", "directie", ""]])
    roster = load_roster(folder)
    return roster, build_section_map(roster, "Kc de Matrix")


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    return cf_settings(tmp_path_factory.mktemp("cf"), CLOUDFRONT_KEY_PAIR_ID="K2ABCDEFGHIJKL")


def sets_in(url: str) -> list[str]:
    return [unquote(c).rsplit(".", 1)[0] for c in parse_qs(url.split("#", 1)[1])["c"]]


def qr_version(url: str) -> int:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_L)
    code.add_data(url)
    code.make(fit=True)
    return code.version


def test_a_teacher_of_a_large_group_gets_complete_qr_sized_parts(big_school, settings):
    roster, section_map = big_school
    link = login_link(roster.person("lk-01"), section_map, settings,
                      load_private_key(settings.private_key_file))
    prefixes = cookie_prefixes("lk-01", section_map, link.home)
    # the own team page, school, the group, its sign-up list (/personeel/), every family
    assert len(prefixes) == 4 + CHILDREN and "/personeel/groep-8/" in prefixes
    assert len(link.url.encode()) > 3 * QR_PART_MAX_BYTES  # far too long for one code
    parts = link.parts
    assert 1 < len(parts) <= 5, [len(p.url) for p in parts]
    assert [(p.number, p.of) for p in parts] == [(n, len(parts)) for n in range(1, len(parts) + 1)]
    for part in parts:
        assert len(part.url.encode()) <= QR_PART_MAX_BYTES
        assert qr_version(part.url) <= 25 and qr_svg(part.url)
        fragment = parse_qs(part.url.split("#", 1)[1])
        assert fragment["h"] == ["/team/lk-01/"] and fragment["p"] == [f"{part.number}.{part.of}"]
    found = [prefix for part in parts for prefix in sets_in(part.url)]
    assert sorted(found) == sorted(prefixes)  # every set exactly once
    assert sets_in(parts[0].url)[:2] == ["/team/lk-01/", "/school/"]  # home first
    assert parts[0].titles[:2] == ("Team · Juf Groot", "Kc de Matrix")
    assert parts[-1].titles[-1].endswith("gezinspagina's")


def test_parents_and_the_directie_get_one_small_qr_code(big_school, settings):
    roster, section_map = big_school
    key = load_private_key(settings.private_key_file)
    for person in ("ouder-007-1", "mt-01"):
        link = login_link(roster.person(person), section_map, settings, key)
        assert len(link.parts) == 1 and link.parts[0].url == link.url
        assert "&p=" not in link.url
        assert len(link.url.encode()) < 600 and qr_version(link.url) <= 15


def test_the_teachers_letter_shows_every_part(big_school, settings, tmp_path):
    roster, section_map = big_school
    (letter,) = [p for p in write_cloudfront_letters(roster, section_map, settings,
                                                     tmp_path / "brieven")
                 if p.name == "brief-lk-01.html"]
    text = letter.read_text()
    parts = text.count("<h2>Deel ")
    assert parts > 1 and text.count("<svg") == parts
    assert f"Deel 1 van {parts}" in text and f"Deel {parts} van {parts}" in text
    assert "Scan de QR-codes na elkaar" in text
