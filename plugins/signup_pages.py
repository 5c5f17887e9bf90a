"""What each page shows of the sign-ups, from the declarations and the postvak's state file.

Three audiences, three views, so nobody reads more than their section allows:
  - the post page (every parent of the group): counts only, never who;
  - a family page (that household, its children's teachers, the directie): its own
    parents' sign-ups, its children's bookings (a child's booking shows in both
    households), the free moments, and the forms;
  - the staff page /personeel/<group>/ (the group's teachers and the directie, its own
    section): who signed up and the conference schedule, also as CSV and calendar file.
Every view is plain values (str, int, bool, list, dict), so the incremental writer can
tell when a page is unchanged.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime

from pelican.generators import Generator

from .filters import MONTHS
from .roster import Roster
from .settings import SCHOOL_TZ
from .signups import CONFERENCES, VOLUNTEERS, Activity, label, read_state, short_moment


def moment_text(moment: datetime) -> str:
    local = moment.astimezone(SCHOOL_TZ)
    return f"{local.day} {MONTHS[local.month - 1]} {local.year} om {local:%H.%M} uur"


def _slot_label(activity: Activity, slot) -> str:
    text = short_moment(slot.start)
    return f"{text} met {slot.teacher_name}" if activity.several_teachers else text


def _common(activity: Activity, entry: dict, now: datetime) -> dict:
    return {"key": activity.ref, "kind": activity.kind, "title": activity.title,
            "anchor": activity.anchor, "deadline": moment_text(activity.deadline),
            "deadline_iso": activity.deadline.isoformat(),
            "open": activity.open_at(now) and not entry.get("gesloten", False)}


def post_view(activity: Activity, entry: dict, now: datetime) -> dict:
    """What every parent of the group may read: how many, never who."""
    view = _common(activity, entry, now)
    if activity.kind == VOLUNTEERS:
        taken = len(entry.get("hulpouders", []))
        view.update(places=activity.places, left=max(0, activity.places - taken),
                    waiting=max(0, taken - activity.places))
    else:
        booked = len(entry.get("gesprekken", {}))
        view.update(slots=len(activity.slots), left=len(activity.slots) - booked)
    return view


def family_view(roster: Roster, family_id: str, activities: dict[str, Activity],
                state: dict[str, dict], now: datetime) -> list[dict]:
    """The sign-ups of this household's groups, with its own state and nobody else's."""
    family = roster.families[family_id]
    groups = {roster.children[c].group for c in family.children}
    views = []
    for activity in sorted(activities.values(), key=lambda a: (a.deadline, a.key)):
        if activity.group not in groups:
            continue
        entry = state.get(activity.key, {})
        view = post_view(activity, entry, now)
        view["title"] = label(activity, roster)  # the post's title belongs to the group section
        if activity.kind == VOLUNTEERS:
            people = entry.get("hulpouders", [])
            mine = []
            for n, person in enumerate(people):
                if person["ouder"] in family.parents and person["ouder"] in roster.parents:
                    status = ("aangemeld" if n < activity.places
                              else f"op de wachtlijst (plek {n + 1 - activity.places})")
                    mine.append({"id": person["ouder"], "name": roster.parents[person["ouder"]].name,
                                 "status": status})
            view["mine"] = mine
        else:
            booked = entry.get("gesprekken", {})
            by_child = {b["kind"]: s for s, b in booked.items()}
            kids = []
            for child_id in family.children:
                child = roster.children[child_id]
                if child.group != activity.group:
                    continue
                slot = activity.slot(by_child.get(child_id, ""))
                kids.append({"id": child_id, "name": child.first_name,
                             "booked": _slot_label(activity, slot) if slot else "",
                             "booked_id": slot.id if slot else ""})
            view["children"] = kids
            view["free"] = [{"id": s.id, "label": _slot_label(activity, s)}
                            for s in activity.slots if s.id not in booked]
        views.append(view)
    return views


def staff_view(roster: Roster, activity: Activity, entry: dict, now: datetime) -> dict:
    """Everything the group's teachers need: who, and when with whom."""
    view = post_view(activity, entry, now)
    view["slug"] = activity.key.rsplit("/", 1)[-1]
    if activity.kind == VOLUNTEERS:
        rows = []
        for n, person in enumerate(entry.get("hulpouders", [])):
            parent = roster.parents.get(person["ouder"])
            if parent is None:
                continue
            kids = [roster.children[c].full_name for c in parent.children
                    if c in roster.children and roster.children[c].group == activity.group]
            rows.append({"name": parent.name, "children": " en ".join(kids),
                         "status": "aangemeld" if n < activity.places else "wachtlijst",
                         "at": moment_text(datetime.fromisoformat(person["at"]))})
        view["rows"] = rows
    else:
        booked = entry.get("gesprekken", {})
        view["rows"] = [_schedule_row(roster, activity, slot, booked.get(slot.id))
                        for slot in activity.slots]
    return view


def _schedule_row(roster: Roster, activity: Activity, slot, booking: dict | None) -> dict:
    child = roster.children.get(booking["kind"]) if booking else None
    parents = ", ".join(p.name for p in roster.parents_of(child.id)) if child else ""
    return {"id": slot.id, "when": short_moment(slot.start), "teacher": slot.teacher_name,
            "child": child.full_name if child else "", "parents": parents}


def schedule_csv(view: dict) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["moment", "leerkracht", "leerling", "ouders"])
    for row in view["rows"]:
        writer.writerow([row["when"], row["teacher"], row["child"] or "(vrij)", row["parents"]])
    return "\ufeff" + buffer.getvalue()  # a spreadsheet reads the accents right with the BOM


def schedule_ics(roster: Roster, activity: Activity, entry: dict, host: str) -> bytes:
    """The booked talks as a calendar file (RFC 5545, icalendar): stable UIDs per slot."""
    from icalendar import Calendar, Event

    cal = Calendar()
    cal.add("prodid", "-//Schoolplein//oudergesprekken//NL")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", activity.title)
    for slot in activity.slots:
        booking = entry.get("gesprekken", {}).get(slot.id)
        child = roster.children.get(booking["kind"]) if booking else None
        if child is None:
            continue
        event = Event()
        event.add("uid", f"{slot.id}@{host or 'schoolplein'}")
        event.add("dtstamp", datetime.fromisoformat(booking["at"]))
        event.add("dtstart", slot.start)
        event.add("dtend", slot.end)
        event.add("summary", f"Oudergesprek {child.full_name}")
        parents = ", ".join(p.name for p in roster.parents_of(child.id))
        event.add("description", f"Met {slot.teacher_name}. Ouders: {parents}.")
        cal.add_component(event)
    return cal.to_ical()


class SignupPagesGenerator(Generator):
    """/personeel/<group>/: the group's sign-up lists (index.html) and each conference
    schedule as <post>.csv and <post>.ics."""

    def generate_context(self) -> None:
        pass

    def generate_output(self, writer) -> None:
        from pathlib import Path
        from urllib.parse import urlsplit

        settings = self.settings
        sections = settings["SCHOOLPLEIN_SECTIONS"]
        roster = settings["SCHOOLPLEIN_ROSTER_OBJ"]
        activities = settings.get("SCHOOLPLEIN_SIGNUPS", {})
        state = read_state(settings["SCHOOLPLEIN_PRIVATE"])
        now = settings["SCHOOLPLEIN_NOW"]
        host = urlsplit(settings.get("SITEURL") or "").netloc
        for section in sections:
            if section.kind != "staff":
                continue
            mine = sorted((a for a in activities.values() if a.group == section.key),
                          key=lambda a: (a.deadline, a.key))
            views = [staff_view(roster, a, state.get(a.key, {}), now) for a in mine]
            group = sections.get("group", section.key)
            writer.write_file(f"{section.dir}/index.html", self.get_template("staff"),
                              self.context, url=f"{section.dir}/", section=section,
                              group_dir=group.dir, group_title=group.title, lists=views,
                              section_page=section.name)
            for activity, view in zip(mine, views, strict=True):
                if activity.kind != CONFERENCES:
                    continue
                base = Path(self.output_path) / section.dir / view["slug"]
                base.with_suffix(".csv").write_text(schedule_csv(view), encoding="utf-8")
                base.with_suffix(".ics").write_bytes(
                    schedule_ics(roster, activity, state.get(activity.key, {}), host))


def attach(articles, settings) -> None:
    """Give every post that declares a sign-up its post view (counts only)."""
    activities = settings.get("SCHOOLPLEIN_SIGNUPS", {})
    if not activities:
        return
    state = read_state(settings["SCHOOLPLEIN_PRIVATE"])
    now = settings["SCHOOLPLEIN_NOW"]
    for article in articles:
        key = article.url.strip("/") if getattr(article, "url", None) else ""
        if key in activities:
            article.signup = post_view(activities[key], state.get(key, {}), now)

