"""The teachers' sign-up lists on S3 + CloudFront: their cookies open their groups' lists only,
and the schedules (.csv, .ics) are uploaded while no other such file is."""

from __future__ import annotations

from plugins.sections import build_section_map
from publish.targets.cloudfront.links import cookie_prefixes
from publish.targets.cloudfront.uploads import is_uploadable


def test_a_teachers_cookies_open_their_groups_lists_and_a_parents_never(roster):
    sections = build_section_map(roster, "Kc de Matrix")
    mirjam = cookie_prefixes("lk-07", sections)  # groep 1/2 and groep 3
    assert {p for p in mirjam if p.startswith("/personeel/")} == {
        "/personeel/groep-1-2/", "/personeel/groep-3/"}
    for parent in roster.parents.values():
        assert not [p for p in cookie_prefixes(parent.id, sections)
                    if p.startswith("/personeel/") or p == "/"], parent.id
    assert cookie_prefixes("mt-01", sections) == ("/",)  # the directie: every section


def test_only_the_schedules_are_uploaded_of_their_kind():
    assert is_uploadable("personeel/groep-3/2026-12-01-oudergesprekken.csv")
    assert is_uploadable("personeel/groep-3/2026-12-01-oudergesprekken.ics")
    assert is_uploadable("personeel/groep-3/index.html")
    for key in ("groep/groep-3/lijst.csv", "personeel/groep-3/sub/x.csv", "accounts.csv",
                "personeel/groep-3/x.json", "gezin/abc/rooster.ics"):  # agenda.ics is a feed
        assert not is_uploadable(key), key
