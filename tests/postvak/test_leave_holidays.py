"""Leave requests against the school's holidays (the school agenda's '…vakantie' events)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from plugins.agenda import school_holidays
from postvak import export_threads, process

from .conftest import FAM_A, MORNING
from .test_signups import leave_request, shown_reasons

AGENDA = """\
Wat: Kerstvakantie
Wanneer: 2026-12-19 t/m 2027-01-03

Wat: Studiedag
Wanneer: 2027-01-25

Wat: Voorjaarsvakantie
Wanneer: 2027-02-13 t/m 2027-02-21

Wat: Meivakantie (verschoven)
Wanneer: 2027-04-19 t/m 2027-04-23
Afgelast: ja

Wat: Ouderavond over de zomervakantie
Wanneer: 2027-03-02 19.30-21.00
"""
MARIEKE = "marieke.jansen@example.nl"


def test_days_inside_a_school_holiday_are_refused_with_the_holiday_named(school, inbox,
                                                                        tmp_path):
    content = tmp_path / "content"
    (content / "school").mkdir(parents=True)
    (content / "school" / "agenda.txt").write_text(AGENDA, encoding="utf-8")
    settings = replace(school, content=content)
    assert [h.title for h in school_holidays(content)] == ["Kerstvakantie", "Voorjaarsvakantie"]
    # MORNING is Tuesday 10 November 2026: a holiday request is in time from 5 January 2027
    sent = [
        (date(2026, 12, 21), date(2026, 12, 23), "gewichtig"),  # inside the Christmas holiday
        (date(2027, 2, 11), date(2027, 2, 16), "vakantie"),  # runs into the spring holiday
        (date(2027, 1, 25), date(2027, 1, 26), "vakantie"),  # a study day is no holiday
        (date(2027, 4, 19), date(2027, 4, 20), "religieus"),  # a cancelled holiday: school
    ]
    ids = [leave_request(inbox, FAM_A, MARIEKE, "lotte-jansen", start, end, reason,
                         werkgeversverklaring=True, toelichting="Familie").id
           for start, end, reason in sent]
    summary = process(settings, now=MORNING)
    assert set(summary.applied) == set(ids[2:]) and len(summary.quarantined) == 2
    export_threads(settings.private, settings_roster(settings))
    assert shown_reasons(settings, FAM_A) == [
        "niet verwerkt: verlof: maandag 21 december 2026 t/m woensdag 23 december 2026 valt "
        "(deels) in de Kerstvakantie (zaterdag 19 december 2026 t/m zondag 3 januari 2027); dan "
        "is er geen school en is geen verlof nodig. Vraag verlof alleen voor schooldagen buiten "
        "de schoolvakanties",
        "niet verwerkt: verlof: donderdag 11 februari 2027 t/m dinsdag 16 februari 2027 valt "
        "(deels) in de Voorjaarsvakantie (zaterdag 13 februari 2027 t/m zondag 21 februari "
        "2027); dan is er geen school en is geen verlof nodig. Vraag verlof alleen voor "
        "schooldagen buiten de schoolvakanties"]


def test_without_a_school_agenda_only_the_other_rules_apply(school, inbox, tmp_path):
    settings = replace(school, content=tmp_path / "leeg")
    good = leave_request(inbox, FAM_A, MARIEKE, "lotte-jansen", date(2026, 12, 21),
                         date(2026, 12, 22), "gewichtig", toelichting="Begrafenis")
    assert process(settings, now=MORNING).applied == (good.id,)


def settings_roster(settings):
    from plugins.roster import load_roster

    return load_roster(settings.roster)
