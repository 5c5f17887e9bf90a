"""The staff report: is the platform used, and is anything stuck? (`invoke rapport`, weekly mail)

For the directie, once a week (Monday from 07:30, school time) and on demand:
groups without a post in the last 14 days (the school's own rule is "regelmatig
een bericht"), photos the privacy filter dropped this week by reason (from the
private photo audit), postvak submissions waiting or in quarantine, and the
notices to parents sent and failed. It names groups and reasons, never a child
or a parent: the mail leaves the site's access rules.
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from plugins.filters import datum
from plugins.photos import audit as photo_audit
from plugins.roster import Roster
from plugins.settings import SCHOOL_TZ

from . import news, store
from .households import directie
from .mail import Delivery, Mail, deliver, mail_id, to_eml
from .notices import FOOTER
from .settings import PostvakSettings

QUIET_DAYS = 14
WEEKDAY, AT = 0, time(7, 30)  # the weekly mail: Monday 07:30


@dataclass(frozen=True)
class Report:
    at: datetime
    quiet: tuple[tuple[str, str], ...]  # (group name, last post: "3 november 2026" or "nog nooit")
    dropped: tuple[tuple[str, int], ...]  # (reason, photos) of this week's audits, most first
    waiting: int  # submissions received, not yet processed
    quarantined: int
    quarantine_reasons: tuple[tuple[str, int], ...]  # for the admin's console only
    sent: int
    failed: int
    queued: int
    published: bool  # a publish with notices has happened (else no post dates are known)

    def text(self, for_mail: bool = False) -> str:
        lines = [f"Schoolplein-rapport van {datum(self.at.astimezone(SCHOOL_TZ))}", ""]
        lines.append(f"Groepen zonder bericht in de laatste {QUIET_DAYS} dagen:")
        if not self.published:
            lines.append("  (nog onbekend: er is nog niet gepubliceerd met 'invoke publish')")
        lines += [f"  - {name} (laatste bericht: {last})" for name, last in self.quiet] or (
            ["  geen: alle groepen hebben een recent bericht"] if self.published else [])
        lines += ["", "Foto's deze week niet gepubliceerd, per reden:"]
        lines += [f"  - {reason}: {n}" for reason, n in self.dropped] or ["  geen"]
        lines += ["", f"Postvak: {self.waiting} wachten op verwerking, {self.quarantined} in "
                      "quarantaine" + (" (bekijk private/postvak/quarantaine/)" if self.quarantined
                                      else "") + "."]
        if not for_mail:
            lines += [f"  - {reason}: {n}" for reason, n in self.quarantine_reasons]
        lines += ["", f"Mails aan ouders over nieuwe berichten (laatste 7 dagen): {self.sent} "
                      f"verstuurd, {self.failed} mislukt, {self.queued} wachten op de mailserver."]
        return "\n".join(lines)


def make_report(settings: PostvakSettings, roster: Roster, audit_dir: Path,
                now: datetime | None = None) -> Report:
    now = now or datetime.now(UTC)
    week_ago = now - timedelta(days=7)
    posts = news.live_posts(settings.private)
    last: dict[str, datetime] = {}
    for post in posts:
        slug = post["section"].removeprefix("group-")
        if post["section"].startswith("group-") and post.get("date"):
            when = datetime.fromisoformat(post["date"])
            last[slug] = max(last.get(slug, when), when)
    quiet = tuple((group.name, datum(last[slug].astimezone(SCHOOL_TZ)) if slug in last
                   else "nog nooit")
                  for slug, group in sorted(roster.groups.items())
                  if slug not in last or last[slug] < now - timedelta(days=QUIET_DAYS))
    quarantine = store.quarantine_list(settings.private)
    reasons = Counter(q.reason.split(":", 1)[0][:60] for q in quarantine)
    waiting = len(list((store.root(settings.private) / store.INBOX).glob("*.json")))
    sent, failed, queued = news.notice_counts(settings.private, week_ago)
    return Report(now, quiet, _dropped(audit_dir, week_ago), waiting, len(quarantine),
                  tuple(reasons.most_common()), sent, failed, queued, bool(posts) or _published(
                      settings.private))


def _published(private: Path) -> bool:
    return (Path(private) / news.FOLDER / "live.json").exists()


def _dropped(audit_dir: Path, since: datetime) -> tuple[tuple[str, int], ...]:
    """Each photo dropped by a build of this week once, with its latest reason."""
    latest: dict[str, tuple[str, str]] = {}
    confirmed = photo_audit.confirmed(audit_dir)  # a later build found the same audit again
    for path in sorted(Path(audit_dir).glob("fotos-*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            made = datetime.fromisoformat(data["gemaakt"])
        except (OSError, ValueError, KeyError):
            continue
        if path.name in confirmed:
            with contextlib.suppress(TypeError, ValueError):
                made = max(made, datetime.fromisoformat(confirmed[path.name]))
        if made < since:
            continue
        for photo in data.get("fotos", []):
            if not photo.get("published", True):
                stamp = made.isoformat()
                if photo["photo"] not in latest or latest[photo["photo"]][0] <= stamp:
                    latest[photo["photo"]] = (stamp, photo["reason"])
    return tuple(Counter(reason for _, reason in latest.values()).most_common())


def send_weekly(settings: PostvakSettings, roster: Roster, audit_dir: Path,
                now: datetime | None = None) -> Delivery | None:
    """Mail the report to the directie once a week (Monday from 07:30); None when not due."""
    now = now or datetime.now(UTC)
    local = now.astimezone(SCHOOL_TZ)
    monday = local.date() - timedelta(days=(local.weekday() - WEEKDAY) % 7)
    if local < datetime.combine(monday, AT, SCHOOL_TZ):
        return None
    week = f"{monday.isocalendar().year}-{monday.isocalendar().week:02d}"
    marker = store.folder(settings.private, "rapport") / week
    if marker.exists():
        return None
    report = make_report(settings, roster, audit_dir, now)
    body = report.text(for_mail=True) + FOOTER.format(school=settings.school_name)
    to = [s.email for s in directie(roster)] or [settings.directie_email]
    with store.locked(settings.private):
        for address in filter(None, to):
            ident = mail_id("rapport", week, address)
            mail = Mail(ident, address, f"Weekrapport ouderplatform {settings.school_name}", body,
                        datetime.combine(monday, AT, SCHOOL_TZ))
            store.queue_mail(settings.private, ident, to_eml(mail, settings.sender))
        store.sync_outbox(settings.private)
        store.write_file(marker, b"")
        return deliver(settings)
