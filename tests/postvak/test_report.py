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


def test_the_report_counts_notices_sent_failed_and_waiting_as_the_smtp_server_saw_them(
        tmp_path, school, smtp_server):
    from dataclasses import replace

    from postvak import SmtpSettings
    from publish.targets.basic_auth.local_server import free_port
    from tests.postvak.conftest import FAM_K, with_smtp
    from tests.postvak.test_news import EVENING, GROEP_3, NOW

    site = Site(tmp_path, replace(school, smtp=SmtpSettings("127.0.0.1", free_port(),
                                                            starttls=False, timeout=2)))
    site.publish()
    site.post("groep/groep-3", "2026-11-10-bos", "Uitje naar het bos")
    site.publish()
    site.digest()  # the mail server is down: every summary waits
    audit = tmp_path / "audit"

    def counts(at):
        return make_report(site.settings, load_roster(site.settings.roster), audit, at).text()

    assert f"0 verstuurd, 0 mislukt, {len(GROEP_3)} wachten op de mailserver" in counts(EVENING)
    for name in ("ouders.csv", "leerlingen.csv"):  # the Kok family leaves before the retry
        path = site.settings.roster / name
        path.write_text("".join(line + "\n" for line in path.read_text().splitlines()
                                if f",{FAM_K}," not in line and not line.startswith("sem-kok,")))
    site.publish(NOW + timedelta(hours=8))
    site.settings = with_smtp(site.settings, smtp_server.port)
    site.digest(EVENING + timedelta(hours=1))
    assert len(smtp_server.messages) == len(GROEP_3) - 1
    assert (f"{len(GROEP_3) - 1} verstuurd, 1 mislukt, 0 wachten op de mailserver"
            in counts(EVENING + timedelta(hours=1)))


def test_the_report_reads_the_photo_audit_the_build_writes(tmp_path, school):
    from plugins.photos.audit import PhotoReport, write_audit

    reason = "te weinig kinderen op de foto (geen portretfoto's)"
    reports = [PhotoReport("content/groep/groep-3/x", f"content/groep/groep-3/x/{n}.jpg", False,
                           "portret", reason) for n in range(3)]
    reports.append(PhotoReport("content/groep/groep-3/x", "content/groep/groep-3/x/ok.jpg", True,
                               "ok", ""))
    write_audit(reports, tmp_path / "audit", now=MORNING - timedelta(days=1))
    report = make_report(school, load_roster(school.roster), tmp_path / "audit", MORNING)
    assert report.dropped == ((reason, 3),)


def test_an_unchanged_audit_is_not_written_again_and_still_counts_in_this_weeks_report(
        tmp_path, school):
    """A build that drops the same photos as three weeks ago keeps that audit (no new file),
    and the weekly report still counts its drops: a build of this week found them."""
    from plugins.photos.audit import PhotoReport, write_audit

    reason = "te weinig kinderen op de foto (geen portretfoto's)"
    reports = [PhotoReport("content/groep/groep-3/x", f"content/groep/groep-3/x/{n}.jpg", False,
                           "portret", reason) for n in range(2)]
    audit_dir = tmp_path / "audit"
    first = write_audit(reports, audit_dir, now=MORNING - timedelta(days=21))
    roster = load_roster(school.roster)
    assert make_report(school, roster, audit_dir, MORNING).dropped == ()  # three weeks old
    again = write_audit(reports, audit_dir, now=MORNING - timedelta(days=2))
    assert again == first and len(list(audit_dir.glob("fotos-*.json"))) == 1
    assert make_report(school, roster, audit_dir, MORNING).dropped == ((reason, 2),)
    # a changed audit is a new file, and the report reads the newest reason per photo
    changed = write_audit(reports[:1], audit_dir, now=MORNING - timedelta(days=1))
    assert changed.json != first.json and len(list(audit_dir.glob("fotos-*.json"))) == 2
    assert make_report(school, roster, audit_dir, MORNING).dropped == ((reason, 2),)  # as before
    assert make_report(school, roster, audit_dir, MORNING + timedelta(days=7)).dropped == ()
