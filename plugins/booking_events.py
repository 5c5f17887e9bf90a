"""A family's own sign-ups as agenda events, for that family's calendar feed only.

A booked conference slot (per child: both households of a child see it) and an
accepted hulpouder place (when the post has an `Agenda:` date) become events of a
pseudo-section `own-<family id>`: no section of the map has that name, so no
section page, `agenda.json` or section `agenda.ics` ever carries them; only the
family's own feed (`/agenda/<token>/agenda.ics`, plugins.agenda_output) adds them.
Their uid is per child and activity (per parent and activity for a volunteer), not
per slot, so a moved booking is the same event with a higher SEQUENCE and a
cancelled one is sent as cancelled (plugins.agenda.version), and a phone follows.
"""

from __future__ import annotations

from .agenda import Event
from .roster import Roster
from .signups import CONFERENCES, VOLUNTEERS, Activity

PREFIX = "own-"


def section_name(family: str) -> str:
    return f"{PREFIX}{family}"


def family_of(name: str) -> str | None:
    return name[len(PREFIX):] if name.startswith(PREFIX) else None


def events(roster: Roster, activities: dict[str, Activity], state: dict[str, dict],
           post_events: dict[str, Event], family_url) -> list[Event]:
    """Every family's own events (each links to a page: the feed checks its readers may read
    it)."""
    found: list[Event] = []
    for activity in sorted(activities.values(), key=lambda a: a.key):
        entry = state.get(activity.key, {})
        if activity.kind == CONFERENCES:
            for slot_id, booking in sorted(entry.get("gesprekken", {}).items()):
                slot, child = activity.slot(slot_id), roster.children.get(booking.get("kind"))
                if slot is None or child is None:
                    continue
                for family in sorted(roster.households_of(child.id)):
                    found.append(Event(
                        f"{section_name(family)}/gesprek-{activity.ref}-{child.id}",
                        section_name(family), f"Oudergesprek {child.first_name} met "
                        f"{slot.teacher_name}", slot.start, slot.end,
                        url=f"{family_url(family)}#{activity.anchor}"))
        elif activity.kind == VOLUNTEERS and activity.key in post_events:
            post = post_events[activity.key]
            for person in entry.get("hulpouders", [])[:activity.places]:
                parent = roster.parents.get(person.get("ouder"))
                if parent is None or post.cancelled:
                    continue
                uid = f"{section_name(parent.family)}/hulpouder-{activity.ref}-{parent.id}"
                found.append(Event(uid, section_name(parent.family),
                                   f"Hulpouder: {post.title} ({parent.name})", post.start,
                                   post.end, post.place, url=post.url))
    return found
