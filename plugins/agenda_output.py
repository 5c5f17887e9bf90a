"""The agenda in the build: collected from content, versioned, written per section and per feed.

For every section behind the login the build writes `<section>/agenda.ics`
(RFC 5545, for the notices and calendar apps that can log in) and
`<section>/agenda.json` (upcoming events, which the family page merges in the
parent's browser: a static page read by teachers of one group must not carry
another group's events). For every feed section of the section map it writes
`/agenda/<token>/agenda.ics`: the events of exactly the sections every reader
of that feed may read. Removed events stay in the calendars as cancelled for a
while, with a higher SEQUENCE, so a phone drops them instead of keeping a ghost.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from . import booking_events, signups
from .agenda import (
    FILE_NAME,
    Event,
    Versioned,
    check_unique,
    post_event,
    raise_problems,
    read_agenda_file,
    shown,
    version,
)
from .calendar_feeds import FEED_NAME, now, read_state, save_state, to_ics
from .errors import Problem, display_path
from .settings import SCHOOL_TZ

JSON_NAME = "agenda.json"
SETTINGS_KEY = "SCHOOLPLEIN_AGENDA"  # this build's Agenda, saved by plugins.build when it passed
TAG_RE = re.compile(r"<[^>]+>")


@dataclass
class Agenda:
    """One build's agenda: every section's events, versioned, and the state to keep."""

    today: date
    site_url: str
    events: dict[str, list[Event]] = field(default_factory=dict)  # section name -> current
    versioned: dict[str, list[Versioned]] = field(default_factory=dict)  # incl. removed ones
    state: dict = field(default_factory=dict)

    def upcoming(self, section, titles: dict[str, str]) -> list[dict]:
        return shown(self.events.get(section.name, []), self.today, titles)


def today_of(settings) -> date:
    given = settings.get("SCHOOLPLEIN_TODAY")
    if given:
        return given if isinstance(given, date) else date.fromisoformat(str(given))
    return datetime.now(SCHOOL_TZ).date()


def prepare(settings, articles, sections) -> Agenda:
    """Read every agenda file and post event; stop the build on any bad one."""
    problems: list[Problem] = []
    content = Path(settings["PATH"])
    by_dir = {s.dir: s for s in sections.protected}
    events: dict[str, list[Event]] = {s.name: [] for s in sections.protected}
    for path in sorted(content.rglob(FILE_NAME)):
        section = by_dir.get(path.parent.relative_to(content).as_posix())
        if section is None or path.is_symlink():
            problems.append(Problem(
                display_path(path), None,
                "agendabestand buiten een sectiemap" if section is None
                else "agendabestand is een snelkoppeling (symlink)",
                f"zet {FILE_NAME} als gewoon bestand direct in content/school/, "
                "content/groep/<groep>/ of content/gezin/<gezin-id>/"))
            continue
        events[section.name] += read_agenda_file(path, section.name, f"/{section.dir}/", problems)
    by_post: dict[str, Event] = {}  # a sign-up's key (the post's address) -> its event
    for article in articles:
        section = getattr(article, "section", None)
        if section is None or section.name not in events:
            continue
        title = html.unescape(TAG_RE.sub("", str(article.title)))
        event = post_event(article.metadata, article.source_path, section.name, f"/{article.url}",
                           article.slug.rsplit("/", 1)[-1], title, problems)
        if event is not None:
            events[section.name].append(event)
            by_post[article.url.strip("/")] = event
    for name in events:
        events[name] = check_unique(events[name], problems)
    raise_problems(problems)
    agenda = Agenda(today_of(settings), settings.get("SCHOOLPLEIN_SITEURL") or "", events)
    flat = [e for name in sorted(events) for e in events[name]]
    flat += _own_events(settings, sections, by_post)
    # The state belongs to one school's content: another tree built with the same private
    # folder (a test, a copy) starts afresh instead of inheriting its removed events.
    tree = str(content.resolve())
    state = read_state(settings["SCHOOLPLEIN_PRIVATE"])
    if state.get("content") != tree:
        state = {"v": 1, "events": {}}
    items, agenda.state = version(flat, state, now(), agenda.today)
    agenda.state["content"] = tree
    for item in items:
        agenda.versioned.setdefault(item.event.section, []).append(item)
    return agenda


def _own_events(settings, sections, by_post: dict[str, Event]) -> list[Event]:
    roster = settings.get("SCHOOLPLEIN_ROSTER_OBJ")
    activities = settings.get("SCHOOLPLEIN_SIGNUPS") or {}
    if roster is None or not activities:
        return []

    def family_url(family: str) -> str:
        try:
            return "/" + sections.get("family", family).dir + "/"
        except KeyError:
            return "/mijn/"

    return booking_events.events(roster, activities,
                                 signups.read_state(settings["SCHOOLPLEIN_PRIVATE"]), by_post,
                                 family_url)


def _own_items(agenda: Agenda, sections, feed) -> list[Versioned]:
    """The feed's family's own bookings, each only when every reader of the feed may read the
    page it links to (a volunteer's event names the post, which belongs to its group)."""
    readable = {s.name for s in sections.feed_sources(feed)}
    return [i for i in agenda.versioned.get(booking_events.section_name(feed.owner), [])
            if sections.for_path(i.event.url).name in readable]


def write(agenda: Agenda, output: Path, sections, school: str) -> None:
    """Each section's agenda.ics and agenda.json, and every family feed."""
    titles = {s.name: s.title for s in sections}
    for section in sections.protected:
        folder = output / section.dir
        folder.mkdir(parents=True, exist_ok=True)
        items = agenda.versioned.get(section.name, [])
        if items:
            (folder / FEED_NAME).write_bytes(to_ics(items, f"{school} – {section.title}",
                                                    agenda.site_url))
        data = json.dumps(agenda.upcoming(section, titles), ensure_ascii=False, indent=0)
        (folder / JSON_NAME).write_text(data + "\n", encoding="utf-8")
    for feed in sections.feeds:
        items = [i for s in sections.feed_sources(feed) for i in agenda.versioned.get(s.name, [])]
        items += _own_items(agenda, sections, feed)
        folder = output / feed.dir
        folder.mkdir(parents=True, exist_ok=True)
        (folder / FEED_NAME).write_bytes(to_ics(items, f"{school} – agenda", agenda.site_url))


def save(settings, agenda: Agenda | None) -> None:
    """After a good build: keep each event's SEQUENCE for the next one."""
    if agenda is not None:
        save_state(settings["SCHOOLPLEIN_PRIVATE"], agenda.state)
