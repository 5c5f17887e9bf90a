"""Every mail the postvak sends reads as a Dutch school writes: times as 09.12 uur, no
product name where the parent expects the school, a way to reach the school."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from plugins.roster import Consent
from postvak.consent import Outcome
from postvak.messages import DIRECTIE, Absence, Message
from postvak.notices import absence_notices, consent_notices, daylist_notice, message_notices
from postvak.settings import PostvakSettings

LATE = datetime(2026, 11, 24, 8, 12, tzinfo=UTC)  # 09.12 uur in Amsterdam


def every_kind(roster, tmp_path):
    settings = PostvakSettings(private=tmp_path, roster=tmp_path, site_url="https://ouders.x.nl",
                               sender="noreply@x.nl", admin_email="administratie@x.nl",
                               school_name="Kc de Matrix", school_phone="010-123 45 67")
    parent = roster.parents["ouder-001"]
    child = roster.children["zoe-devries"]
    absence = Absence("zoe-devries", date(2026, 11, 24), date(2026, 11, 24), "ziek", "", True)
    teacher = next(s for s in roster.staff.values() if "groep-3" in s.groups)
    return [*absence_notices(roster, settings, parent.family, absence, LATE),
            *message_notices(roster, settings, parent.family, parent, Message(DIRECTIE, "x")),
            *message_notices(roster, settings, parent.family, parent, Message(teacher.id, "x")),
            *(consent_notices(roster, settings, child, Outcome(c, Consent.SCHOOL, c), school)
              for c in Consent for school in (False, True)),
            daylist_notice(roster, settings, teacher, date(2026, 11, 24),
                           [(child, absence)])]


def test_every_mail_reads_as_the_school_writes(roster, tmp_path):
    mails = []
    for notice in every_kind(roster, tmp_path):
        mails += notice if isinstance(notice, list) else [notice]
    assert len(mails) > 8
    for mail in mails:
        text = f"{mail.subject}\n{mail.body}"
        assert not re.search(r"\b\d\d:\d\d\b", text), text  # 09.12 uur, never 09:12
        assert "Schoolplein" not in text, text  # parents know the school, not the product
        assert "automatisch verstuurd door het ouderplatform van Kc de Matrix" in mail.body
    late = [m for m in mails if m.role == "ouder" and "afmelding" in m.subject.lower()]
    assert late and "gemeld om 09.12 uur, na 08.30 uur" in late[0].body
    assert "bel dan de school: 010-123 45 67" in late[0].body.lower()
