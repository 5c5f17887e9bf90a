"""The JSON shapes a parent may send: what is accepted, and a Dutch reason for the rest."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plugins.roster import Consent
from plugins.settings import SCHOOL_TZ
from postvak.messages import Absence, ConsentChoice, Message, Rejected, is_submission_id, parse, school_days

TUESDAY = datetime(2026, 11, 10, 7, 0, tzinfo=SCHOOL_TZ)


def body(**fields) -> bytes:
    return json.dumps({"v": 1, **fields}, ensure_ascii=False).encode()


def test_an_absence_defaults_to_the_day_it_was_received():
    got = parse(body(soort="afwezigheid", kind="zoe-devries", reden="ziek"), TUESDAY)
    assert got == Absence("zoe-devries", date(2026, 11, 10), date(2026, 11, 10), "ziek", "", False)


def test_on_a_weekend_the_default_is_the_next_school_day():
    saturday = datetime(2026, 11, 14, 20, 0, tzinfo=SCHOOL_TZ)
    got = parse(body(soort="afwezigheid", kind="zoe-devries", reden="arts"), saturday)
    assert got.start == got.end == date(2026, 11, 16) and not got.late


@pytest.mark.parametrize("van", ["2026-11-14", "2026-11-15"])  # Saturday or Sunday, through Monday
def test_a_weekend_report_for_monday_is_not_late(van):
    """08:30 counts on the first school day of the period, not on a weekend day in it."""
    saturday = datetime(2026, 11, 14, 20, 0, tzinfo=SCHOOL_TZ)
    got = parse(body(soort="afwezigheid", kind="zoe-devries", reden="ziek", van=van,
                     tot="2026-11-16"), saturday)
    assert not got.late
    monday = datetime(2026, 11, 16, 9, 0, tzinfo=SCHOOL_TZ)  # reported on Monday after 08:30
    assert parse(body(soort="afwezigheid", kind="zoe-devries", reden="ziek", van="2026-11-15",
                      tot="2026-11-16"), monday).late


@pytest.mark.parametrize(("hour", "minute", "late"), [(8, 29, False), (8, 30, False), (8, 31, True)])
@pytest.mark.parametrize("day", [date(2026, 11, 10), date(2026, 7, 7)])  # winter and summer time
def test_after_0830_amsterdam_time_it_is_accepted_and_marked_late(hour, minute, late, day):
    at = datetime(day.year, day.month, day.day, hour, minute, 1 if late else 0, tzinfo=SCHOOL_TZ)
    got = parse(body(soort="afwezigheid", kind="x", reden="ziek"), at.astimezone(UTC))
    assert got.late is late


def test_a_range_and_a_note_are_kept():
    got = parse(body(soort="afwezigheid", kind="sem-kok", van="2026-11-12", tot="2026-11-20",
                     reden="anders", toelichting="Bruiloft in Marokko"), TUESDAY)
    assert (got.start, got.end, got.note) == (date(2026, 11, 12), date(2026, 11, 20),
                                             "Bruiloft in Marokko")
    assert school_days(got.start, got.end) == 7


def test_a_message_keeps_html_and_script_as_typed():
    text = '<script>alert("x")</script> **niet vet** & <b>ook niet</b>\nTweede regel'
    assert parse(body(soort="bericht", aan="lk-3", tekst=text), TUESDAY) == Message("lk-3", text)


def test_a_consent_choice():
    got = parse(body(soort="beeldgebruik", kind="zoe-devries", keuze="geen"), TUESDAY)
    assert got == ConsentChoice("zoe-devries", Consent.NONE)


BAD = [
    (b"{niet json", "geen geldige JSON"),
    (b"\xff{}", "geen UTF-8"),
    (b"\xff\xfe{\x00}\x00", "BOM"),  # UTF-16
    (b"\xef\xbb\xbf" + body(soort="bericht", aan="lk-3", tekst="x"), "BOM"),
    (b'{"v": 1, "soort": "bericht", "aan": "lk-3", "tekst": "\xed\xa0\x80"}', "geen UTF-8"),
    (b"[" * 5000 + b"]" * 5000, "te diep genest"),
    (b'{"v": 1, "x": ' + b'{"a": ' * 4 + b"1" + b"}" * 4 + b"}", "te diep genest"),
    (b'{"v": NaN}', "NaN"),
    (b'{"v": -Infinity}', "Infinity"),
    (b'{"v": 1e999}', "buiten bereik"),
    (b'{"v": ' + b"9" * 5000 + b"}", "getal te lang"),
    (b'{"v": 1, "\\ud800": 1, "\\ud800": 2}', "twee keer"),
    (b"[1, 2]", "geen JSON-object"),
    (b'{"v": 1, "v": 1, "soort": "bericht"}', "twee keer"),
    (body(soort="feest"), "onbekende soort"),
    (json.dumps({"v": 2, "soort": "bericht", "aan": "lk-3", "tekst": "x"}).encode(),
     "onbekende versie"),
    (json.dumps({"v": True, "soort": "bericht", "aan": "lk-3", "tekst": "x"}).encode(),
     "onbekende versie"),
    (body(soort=["bericht"]), "onbekende soort"),
    (body(soort="bericht", aan="lk-3"), "veld ontbreekt: tekst"),
    (body(soort="bericht", aan="lk-3", tekst="x", afzender="ouder-a1"), "onbekend veld: 'afzender'"),
    (body(soort="bericht", aan="lk-3", tekst="   "), "leeg"),
    (body(soort="bericht", aan="lk-3", tekst="x" * 2001), "te lang: 2001"),
    (body(soort="bericht", aan="../../etc", tekst="x"), "geen geldig id"),
    (body(soort="bericht", aan="lk-3", tekst="a\x00b"), "stuurtekens"),
    (b'{"v": 1, "soort": "bericht", "aan": "lk-3", "tekst": "\\ud800"}', "losse surrogaat"),
    (body(soort="afwezigheid", kind="zoe-devries", reden="griep"), "onbekende reden"),
    (body(soort="afwezigheid", kind="zoe-devries", reden="ziek", toelichting="x" * 501),
     "te lang: 501"),
    (body(soort="afwezigheid", kind="zoe-devries", reden="ziek", van="10-11-2026"),
     "geen datum"),
    (body(soort="afwezigheid", kind="zoe-devries", reden="ziek", van="2026-02-30"), "bestaat niet"),
    (body(soort="afwezigheid", kind="zoe-devries", reden="ziek", van="2026-11-02"),
     "meer dan 7 dagen terug"),
    (body(soort="afwezigheid", kind="zoe-devries", reden="ziek", van="2027-11-11"),
     "meer dan een jaar vooruit"),
    (body(soort="afwezigheid", kind="zoe-devries", reden="ziek", van="2026-11-12",
          tot="2026-11-11"), "ligt voor"),
    (body(soort="afwezigheid", kind="zoe-devries", reden="ziek", van="2026-11-10",
          tot="2026-12-10"), "hoogstens 14"),
    (body(soort="afwezigheid", kind="zoe-devries", reden="ziek", van="2026-11-14",
          tot="2026-11-15"), "weekend"),
    (body(soort="beeldgebruik", kind="zoe-devries", keuze="alles"), "onbekende keuze"),
    (b"{" + b" " * 16 * 1024 + b"}", "te groot"),
]


@pytest.mark.parametrize(("data", "reason"), BAD)
def test_bad_input_gets_a_dutch_reason(data, reason):
    with pytest.raises(Rejected) as info:
        parse(data, TUESDAY)
    assert reason in info.value.reason
    info.value.reason.encode("utf-8")  # always storable and printable


@settings(max_examples=300, deadline=None)
@given(st.one_of(
    st.binary(max_size=300),
    st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                 lambda inner: st.lists(inner, max_size=4)
                 | st.dictionaries(st.sampled_from(["v", "soort", "kind", "aan", "tekst", "van",
                                                    "tot", "reden", "keuze", "toelichting"]),
                                   inner, max_size=6),
                 max_leaves=12).map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries({"v": st.just(1), "soort": st.sampled_from(
        ["afwezigheid", "bericht", "beeldgebruik"])}, optional={
        "kind": st.text(max_size=10), "aan": st.text(max_size=10), "tekst": st.text(),
        "van": st.dates().map(str), "tot": st.dates().map(str), "keuze": st.text(max_size=8),
        "reden": st.sampled_from(["ziek", "arts", "anders", "x"]),
    }).map(lambda v: json.dumps(v).encode())))
def test_any_body_is_either_a_submission_or_rejected_never_a_crash(data):
    try:
        got = parse(data, TUESDAY)
    except Rejected as exc:
        assert exc.reason
    else:
        assert isinstance(got, Absence | Message | ConsentChoice)


@given(st.text(min_size=1, max_size=2000).filter(lambda t: t.strip() and all(
    c in "\n\r\t" or (ord(c) >= 32 and not 0x7F <= ord(c) <= 0x9F) for c in t)
    and not any(0xD800 <= ord(c) <= 0xDFFF for c in t)))
def test_message_text_is_kept_exactly(text):
    assert parse(body(soort="bericht", aan="lk-3", tekst=text), TUESDAY).text == text


def test_submission_ids_are_canonical_uuid4():
    assert is_submission_id("0f8fad5b-d9cb-469f-a165-70867728950e")
    for bad in ("0F8FAD5B-D9CB-469F-A165-70867728950E", "0f8fad5b-d9cb-169f-a165-70867728950e",
                "0f8fad5bd9cb469fa16570867728950e", "../0f8fad5b-d9cb-469f-a165-70867728950e", ""):
        assert not is_submission_id(bad)
