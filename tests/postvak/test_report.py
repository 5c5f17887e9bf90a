"""The staff report: quiet groups, dropped photos by reason, the postvak's queue, notices."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from plugins.roster import load_roster
from postvak import process
from postvak.report import make_report, send_weekly
from tests.postvak.conftest import FAM_V, MORNING, mailbox
from tests.postvak.test_news import Site


def test_the_report_names_quiet_groups_dropped_photos_queue_and_notices(tmp_path, school, inbox):
    site = Site(tmp_path, school)
    site.publish()  # groep 3 posted on 2 September; groep 5/6 never
    audit = tmp_path / "audit"
    audit.mkdir(exist_ok=True)
    week = MORNING - timedelta(days=2)
    for n, made in enumerate((week, week + timedelta(hours=1), MORNING - timedelta(days=30))):
        (audit / f"fotos-{n}.json").write_text(json.dumps({"gemaakt": made.isoformat(), "fotos": [
            {"photo": "content/groep/groep-3/x/portret.jpg", "published": False,
             "reason": "te weinig kinderen op de foto (geen portretfoto's)"},
            {"photo": f"content/groep/groep-3/x/oud-{n}.jpg", "published": False,
             "reason": "een kind zonder toestemming voor deze pagina"},
            {"photo": "content/groep/groep-3/x/goed.jpg", "published": True, "reason": ""}]}))
    inbox.put(FAM_V, "marieke.devries@example.nl", b"{kapot")  # quarantined
    process(school, MORNING)
    inbox.put(FAM_V, "marieke.devries@example.nl", {"soort": "meldingen", "keuze": "geen"})
    report = make_report(school, load_roster(school.roster), audit, MORNING)
    text = report.text()
    assert "Groep 3 (laatste bericht: 2 september 2026)" in text
    assert "Groep 5/6 (laatste bericht: nog nooit)" in text
    assert "te weinig kinderen op de foto (geen portretfoto's): 1" in text  # once, not per build
    assert "een kind zonder toestemming voor deze pagina: 2" in text  # the month-old audit: no
    assert "Postvak: 1 wachten op verwerking, 1 in quarantaine" in text
    assert "0 verstuurd, 0 mislukt" in text


def test_the_weekly_report_is_mailed_to_the_directie_once_on_monday(tmp_path, school):
    roster = load_roster(school.roster)
    friday = datetime.fromisoformat("2026-11-13T09:00:00+01:00")
    monday = datetime.fromisoformat("2026-11-16T07:45:00+01:00")
    assert send_weekly(school, roster, tmp_path / "audit", monday - timedelta(minutes=30)) is None
    assert send_weekly(school, roster, tmp_path / "audit", monday).sent == 1
    assert send_weekly(school, roster, tmp_path / "audit", monday + timedelta(hours=3)) is None
    assert send_weekly(school, roster, tmp_path / "audit", friday + timedelta(days=7)) is None
    (mail,) = mailbox(school)
    assert mail["To"] == "directie@school.example.nl"
    assert mail["Subject"].startswith("Weekrapport ouderplatform")
    assert "Groepen zonder bericht" in mail.get_content()
