"""Mail parents what is new on the site, exactly once: at once, a daily or weekly summary, or not.

What is new comes from what is live, never from git: after a publish succeeded,
`after_publish` reads the output that was just published (each section's
feed.atom and agenda.ics, and that each post's page is there) into
`live.json`, compares it with what was known before and writes one numbered
batch of new items (a post, a staff answer on a family page, a new, moved or
cancelled event). Parents who want mail at once get it for that batch; the
daily and weekly summaries (`send_digests`, run by every `invoke postvak`
round and by `invoke meldingen`) collect the batches of their period and keep
only what is still live (a post removed before the summary is not in it).

    private/meldingen/
      bekend.json            key -> fingerprint of everything announced (or there at the start)
      live.json              what the last successful publish put online
      batches/<n>.json       one batch of new items, written whole before any mail is queued
      toegepast/<n>          marker: the batch's mails are queued and bekend.json updated
      samenvattingen.json    parent id -> end of the last period summarised
      voorkeuren.json        each parent's choice (plugins.notice_prefs; the postvak writes it)

Exactly once: every mail's id is derived from the batch or the period and the
parent, and the outbox (mail.py) keeps one file per id however often it is
queued; a killed run finishes the batch it left. An SMTP outage leaves the
mails in the outbox for the next run. Whom: the parents in the current roster
who may read the item's section; a mail waiting for a parent who left the
roster is taken out of the outbox. What a mail says: the title, the section's
name and a link, never photos, never the text; a title that names a child,
and everything of a family page, is replaced by a plain "nieuw bericht".
"""

from __future__ import annotations

import html
import json
import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from pathlib import Path
from urllib.parse import urlsplit

from plugins.agenda import DAYS, Event, describe_when
from plugins.calendar_feeds import FEED_NAME
from plugins.notice_prefs import Preference, preference, read_prefs
from plugins.roster import Parent, Roster
from plugins.sections import Section, SectionMap
from plugins.settings import SCHOOL_TZ

from . import store
from .mail import Delivery, Mail, deliver, mail_id, to_eml
from .notices import FOOTER, family_link
from .settings import PostvakSettings

FOLDER = "meldingen"
HEADER = "X-Schoolplein-Melding"  # the parent a notice is for (the outbox purge reads it)
ATOM = "{http://www.w3.org/2005/Atom}"
PERIOD = {"dagelijks": timedelta(days=1), "wekelijks": timedelta(days=7)}
DIRECT = "direct"


@dataclass(frozen=True)
class NewsRound:
    baseline: bool = False  # first run: everything live counts as known, nothing is mailed
    new: int = 0  # items in this publish's batch
    queued: int = 0  # mails queued now
    delivery: Delivery = Delivery()


# --- what is live ------------------------------------------------------------------------------

def live_items(output: Path, sections: SectionMap) -> dict[str, dict]:
    """Every post and event of the sections behind the login, as the published output holds it."""
    items: dict[str, dict] = {}
    for section in sections.protected:
        folder = Path(output) / section.dir
        for item in _posts(folder / "feed.atom", section, Path(output)):
            items[item["key"]] = item
        for item in _events(folder / FEED_NAME, section):
            items[item["key"]] = item
    return items


def _posts(path: Path, section: Section, output: Path) -> list[dict]:
    try:
        root = ET.parse(path).getroot()
    except (FileNotFoundError, ET.ParseError):
        return []
    found = []
    for entry in root.iter(f"{ATOM}entry"):
        link = entry.find(f"{ATOM}link")
        url = urlsplit(link.get("href", "") if link is not None else "").path
        if not url.startswith(section.prefix) or not (output / url.strip("/") / "index.html").is_file():
            continue  # only what the output really holds
        title = html.unescape(re.sub(r"<[^>]+>", "", entry.findtext(f"{ATOM}title") or ""))
        published = entry.findtext(f"{ATOM}published") or entry.findtext(f"{ATOM}updated") or ""
        found.append({"key": f"bericht:{url}", "fp": "1", "section": section.name,
                      "kind": "antwoord" if section.kind == "family" else "bericht",
                      "title": title.strip(), "url": url, "date": published, "when": "",
                      "cancelled": False})
    return found


def _events(path: Path, section: Section) -> list[dict]:
    from icalendar import Calendar

    try:
        calendar = Calendar.from_ical(path.read_bytes())
    except (FileNotFoundError, ValueError):
        return []
    found = []
    for ev in calendar.walk("VEVENT"):
        start, end = ev.decoded("DTSTART"), ev.decoded("DTEND")
        if not isinstance(start, datetime):
            end = end - timedelta(days=1)  # DTEND of a date is exclusive
        event = Event(str(ev["UID"]), section.name, str(ev.get("SUMMARY", "")), start, end,
                      str(ev.get("LOCATION", "")), str(ev.get("STATUS", "")) == "CANCELLED")
        url = urlsplit(str(ev.get("URL", ""))).path or section.prefix
        found.append({"key": f"agenda:{event.uid}", "fp": f"{int(ev.get('SEQUENCE', 0))}",
                      "section": section.name, "kind": "agenda", "title": event.title,
                      "url": url, "date": start.isoformat(), "when": describe_when(event),
                      "place": event.place, "cancelled": event.cancelled,
                      "last_day": event.last_day.isoformat()})
    return found


# --- the private record --------------------------------------------------------------------------

def _root(private: Path) -> Path:
    path = Path(private) / FOLDER
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def _folder(private: Path, name: str) -> Path:
    path = _root(private) / name
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def _read(path: Path, empty):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return empty


def _write(path: Path, data) -> None:
    text = json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    store.write_file(path, text.encode("utf-8"))


def _batches(private: Path) -> list[dict]:
    return sorted((store.read_json(p) for p in _folder(private, "batches").glob("*.json")),
                  key=lambda b: b["n"])


def _locked(private: Path):
    """The postvak's own lock: one process at a time queues, sends or moves mails."""
    return store.locked(private)


# --- after a publish --------------------------------------------------------------------------------

def after_publish(settings: PostvakSettings, output: Path, sections: SectionMap, roster: Roster,
                  now: datetime | None = None, send: bool = True) -> NewsRound:
    """Record what the publish put online and queue the mails for whoever wants them at once.

    `send=False`: only record and queue (a publish does this under its site lock, so the
    record is exactly what went live) and let `send_waiting` send after the lock is free."""
    now = now or datetime.now(UTC)
    private = settings.private
    with _locked(private):
        root = _root(private)
        for batch in _unapplied(private):
            _apply(settings, batch, sections, roster)
        live = live_items(output, sections)
        _write(root / "live.json", live)
        known = _read(root / "bekend.json", None)
        if known is None:  # the first publish with notices: what is there is not news
            _write(root / "bekend.json", {k: v["fp"] for k, v in live.items()})
            return NewsRound(baseline=True)
        today = now.astimezone(SCHOOL_TZ).date().isoformat()
        new = [dict(item, changed=key in known) for key, item in sorted(live.items())
               if known.get(key) != item["fp"] and item.get("last_day", today) >= today]
        queued = 0
        if new:
            n = max((b["n"] for b in _batches(private)), default=0) + 1
            batch = {"n": n, "at": now.isoformat(), "items": new}
            store.write_json(_folder(private, "batches") / f"{n:06d}.json", batch, exclusive=True)
            queued = _apply(settings, batch, sections, roster)
        delivery = deliver(settings) if queued and send else Delivery()
    return NewsRound(False, len(new), queued, delivery)


def send_waiting(settings: PostvakSettings) -> Delivery:
    """Send what waits in the outbox (under the postvak's lock, never the site's)."""
    with _locked(settings.private):
        return deliver(settings)


def _unapplied(private: Path) -> list[dict]:
    done = {p.name for p in _folder(private, "toegepast").iterdir()}
    return [b for b in _batches(private) if f"{b['n']:06d}" not in done]


def _apply(settings: PostvakSettings, batch: dict, sections: SectionMap, roster: Roster) -> int:
    """Queue the at-once mails of one batch and mark its items known (idempotent)."""
    private = settings.private
    prefs = read_prefs(private)
    by_name = {s.name: s for s in sections}
    names = _names(roster)
    queued = 0
    for parent in sorted(roster.parents.values(), key=lambda p: p.id):
        if preference(prefs, parent.id).choice != DIRECT:
            continue
        mine = _readable(batch["items"], parent, by_name)
        if mine:
            ident = mail_id("melding", str(batch["n"]), parent.id)
            queued += _queue(settings, roster, ident, parent, mine, DIRECT, _at(batch),
                             names=names)
    store.sync_outbox(private)
    root = _root(private)
    known = _read(root / "bekend.json", {})
    known.update({i["key"]: i["fp"] for i in batch["items"]})
    _write(root / "bekend.json", known)
    store.write_file(_folder(private, "toegepast") / f"{batch['n']:06d}", b"")
    return queued


def _at(batch: dict) -> datetime:
    return datetime.fromisoformat(batch["at"])


def _readable(items: list[dict], parent: Parent, by_name: dict[str, Section]) -> list[dict]:
    return [i for i in items if i["section"] in by_name and parent.id in by_name[i["section"]].readers]


# --- summaries ---------------------------------------------------------------------------------

def period_end(pref: Preference, at: time, now: datetime) -> datetime | None:
    """The latest moment a summary of this kind was due at or before `now` (school time)."""
    if pref.choice not in PERIOD:
        return None
    local = now.astimezone(SCHOOL_TZ)
    day = local.date()
    for back in range(8):
        candidate = day - timedelta(days=back)
        if pref.choice == "wekelijks" and candidate.weekday() != pref.weekday:
            continue
        moment = datetime.combine(candidate, at, SCHOOL_TZ)
        if moment <= local:
            return moment
    return None


def send_digests(settings: PostvakSettings, sections: SectionMap, roster: Roster,
                 now: datetime | None = None, due_now: bool = False) -> NewsRound:
    """Queue and send every daily and weekly summary that is due (each once).

    `due_now` (the demo, `invoke meldingen --nu`): the period ends at the newest
    batch instead of at the set time, so a summary of what is waiting goes out now.
    """
    now = now or datetime.now(UTC)
    private = settings.private
    queued = 0
    with _locked(private):
        root = _root(private)
        live = _read(root / "live.json", {})
        batches = [b for b in _batches(private) if b["items"]]
        prefs = read_prefs(private)
        done = _read(root / "samenvattingen.json", {})
        by_name = {s.name: s for s in sections}
        names = _names(roster)
        newest = max((_at(b) for b in batches), default=None)
        for parent in sorted(roster.parents.values(), key=lambda p: p.id):
            pref = preference(prefs, parent.id)
            end = period_end(pref, settings.digest_at, now)
            if end is None:  # at once or none: a later switch to a summary starts from here
                done[parent.id] = now.isoformat()
                continue
            if due_now and newest is not None:
                end = max(end, newest)
            start = datetime.fromisoformat(done[parent.id]) if parent.id in done else (
                end - PERIOD[pref.choice])
            if end <= start:
                continue
            items: dict[str, dict] = {}
            for batch in batches:
                if start < _at(batch) <= end:
                    for item in _readable(batch["items"], parent, by_name):
                        now_live = live.get(item["key"])
                        if now_live is not None and now_live["fp"] == item["fp"]:
                            items[item["key"]] = dict(now_live, changed=item.get("changed", False))
            if items:
                ident = mail_id("samenvatting", parent.id, end.isoformat())
                queued += _queue(settings, roster, ident, parent, list(items.values()),
                                 pref.choice, end, since=start, names=names)
            done[parent.id] = end.isoformat()
        store.sync_outbox(private)
        _write(root / "samenvattingen.json", done)
        _drop_departed(private, roster)
        delivery = deliver(settings)
    return NewsRound(False, 0, queued, delivery)


def _drop_departed(private: Path, roster: Roster) -> int:
    """Notices still waiting for a parent who left the roster never go out."""
    present = set(roster.parents)
    dropped = 0
    for path in store.outbox(private):
        with path.open("rb") as fh:
            headers = BytesHeaderParser(policy=default_policy).parse(fh)
        who = headers.get(HEADER)
        if who and str(who) not in present:
            moved = store.move(path, store.FAILED)
            store.write_file(moved.with_suffix(".reden.txt"),
                             b"niet verstuurd: deze ouder staat niet meer in het rooster\n")
            dropped += 1
    return dropped


# --- the mail itself -----------------------------------------------------------------------------

def _names(roster: Roster) -> re.Pattern | None:
    words = {c.first_name for c in roster.children.values()} | {
        c.full_name for c in roster.children.values()}
    words = sorted((w for w in words if w.strip()), key=len, reverse=True)
    if not words:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in words) + r")(?!\w)",
                      re.IGNORECASE)


def line_of(item: dict, names: re.Pattern | None) -> str:
    """What the mail says of one item: never a child's name, nothing of a family page."""
    family = item["section"].startswith("family-")
    title = item["title"]
    if family or not title or (names is not None and names.search(title + " " +
                                                                   item.get("place", ""))):
        if item["kind"] == "agenda":
            return f"Afspraak in de agenda: {item['when']}" + (" (afgelast)" if item["cancelled"]
                                                              else "")
        return "Nieuw bericht van de school" if family else "Nieuw bericht"
    if item["kind"] == "agenda":
        what = "Afgelast" if item["cancelled"] else ("Gewijzigd in de agenda" if item.get("changed")
                                                     else "In de agenda")
        place = f", {item['place']}" if item.get("place") else ""
        return f"{what}: {title} ({item['when']}{place})"
    return f"Nieuw bericht: {title}"


def _queue(settings: PostvakSettings, roster: Roster, ident: str, parent: Parent,
           items: list[dict], choice: str, at: datetime, since: datetime | None = None,
           names: re.Pattern | None = None) -> int:
    mail, html_part = compose(settings, roster, ident, parent, items, choice, at, since, names)
    headers = {"List-Unsubscribe": f"<{family_link(settings, parent.family)}#meldingen>",
               HEADER: parent.id, "Precedence": "bulk"}
    return int(store.queue_mail(settings.private, ident,
                                to_eml(mail, settings.sender, html=html_part, headers=headers)))


def _subject(line: str) -> str:
    """One item's subject: "Nieuw: …" for what is new, the line itself for a moved or
    cancelled event (a cancellation must never read as a new study day)."""
    head, _, rest = line.partition(": ")
    if head == "Nieuw bericht" and rest:
        return f"Nieuw: {rest}"
    return f"Nieuw in de agenda: {rest}" if head == "In de agenda" else line


def _section_title(item: dict, roster: Roster, school: str) -> str:
    kind, _, key = item["section"].partition("-")
    if kind == "group" and key in roster.groups:
        return roster.groups[key].name
    return "Uw gezinspagina" if kind == "family" else f"Schoolnieuws ({school})"


def compose(settings: PostvakSettings, roster: Roster, ident: str, parent: Parent,
            items: list[dict], choice: str, at: datetime, since: datetime | None = None,
            names: re.Pattern | None = None) -> tuple[Mail, str]:
    """The text and HTML of one notice or summary (Dutch). `names`: the roster's children's
    names as one pattern (_names), made once per round by the caller."""
    names = names or _names(roster)
    grouped: dict[str, list[dict]] = {}
    order = sorted(items, key=lambda i: (not i["section"].startswith("school"), i["section"],
                                         i["kind"] == "agenda", i.get("date", ""), i["key"]))
    for item in order:
        grouped.setdefault(_section_title(item, roster, settings.school_name), []).append(item)
    posts = sum(1 for i in items if i["kind"] != "agenda")
    events = len(items) - posts
    counted = " en ".join(p for p in (
        f"{posts} {'bericht' if posts == 1 else 'berichten'}" if posts else "",
        f"{events} {'afspraak' if events == 1 else 'afspraken'}" if events else "") if p)
    if choice == DIRECT:
        subject = (_subject(line_of(items[0], names)) if len(items) == 1
                   else f"Nieuw op het ouderplatform: {counted}")
        intro = "Er staat iets nieuws op het ouderplatform:"
        how = "U krijgt deze mail meteen als er iets nieuws is."
    else:
        label = "Dagoverzicht" if choice == "dagelijks" else "Weekoverzicht"
        subject = f"{label} van {settings.school_name}: {counted}"
        since_text = (f" sinds {DAYS[since.astimezone(SCHOOL_TZ).weekday()]} "
                      f"{since.astimezone(SCHOOL_TZ):%H.%M} uur") if since else ""
        intro = f"Nieuw op het ouderplatform{since_text}:"
        how = ("U krijgt één keer per dag een overzicht." if choice == "dagelijks"
               else "U krijgt één keer per week een overzicht.")
    link = f"{family_link(settings, parent.family)}#meldingen"
    text = [f"Beste {parent.name},", "", intro]
    parts = [f"<p>Beste {html.escape(parent.name)},</p>", f"<p>{html.escape(intro)}</p>"]
    for title, entries in grouped.items():
        text += ["", title]
        parts.append(f"<h2 style=\"font-size:1.1em\">{html.escape(title)}</h2><ul>")
        for item in entries:
            url = f"{settings.site_url}{item['url']}"
            line = line_of(item, names)
            text += [f"- {line}", f"  {url}"]
            parts.append(f"<li><a href=\"{html.escape(url)}\">{html.escape(line)}</a></li>")
        parts.append("</ul>")
    change = (f"{how} Liever anders (meteen, één keer per dag, één keer per week of geen mails)? "
              f"Kies het op uw gezinspagina: {link}")
    text += ["", change]
    footer = FOOTER.format(school=settings.school_name)
    parts.append(f"<p>{html.escape(how)} Liever anders? <a href=\"{html.escape(link)}\">Kies het "
                 "op uw gezinspagina</a>.</p>")
    parts.append("<p style=\"color:#4a5263;font-size:.9em\">"
                 + html.escape(footer.strip().removeprefix("-- ").strip()) + "</p>")
    body = "\n".join(text) + footer
    page = ("<!doctype html><html lang=\"nl\"><head><meta charset=\"utf-8\"><title>"
            f"{html.escape(subject)}</title></head><body>" + "".join(parts) + "</body></html>")
    return Mail(ident, parent.email, subject, body, at), page


# --- for the staff report ------------------------------------------------------------------------------

def notice_counts(private: Path, since: datetime) -> tuple[int, int, int]:
    """(sent, failed, waiting) notices since `since`, from the outbox's folders."""
    counts = []
    for name in (store.SENT, store.FAILED, store.OUTBOX):
        n = 0
        folder = store.root(private) / name
        for path in folder.glob("*.eml") if folder.is_dir() else ():
            if datetime.fromtimestamp(os.stat(path).st_mtime, UTC) < since:
                continue
            with path.open("rb") as fh:
                if BytesHeaderParser(policy=default_policy).parse(fh).get(HEADER):
                    n += 1
        counts.append(n)
    return counts[0], counts[1], counts[2]


def live_posts(private: Path) -> list[dict]:
    """The posts the last successful publish put online (for the staff report)."""
    live = _read(_root(private) / "live.json", {})
    return [i for i in live.values() if i["kind"] != "agenda"]
