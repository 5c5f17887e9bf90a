"""The mails sign-ups and leave requests cause (pure: no files, no SMTP).

The rules of postvak/notices.py hold here too: a parent reads their own child's
first name and nothing about another family; the other household of a child learns
the facts (a booked talk, a leave decision), never who in the first household sent
it; staff read their pupils' first names (with an initial when the group has two).
Who volunteered is for the teacher only: it goes to the teachers of the group at the
deadline, never to a parent. A leave request's reason text and the directie's note
stay on the family page, behind its login.
"""

from __future__ import annotations

from datetime import date, datetime

from plugins.roster import Child, Parent, Roster
from plugins.settings import SCHOOL_TZ
from plugins.signups import CONFERENCES, Activity, Slot, short_moment

from .households import short_name
from .messages import LEAVE_REASONS
from .notices import (
    Notice,
    _directie,
    _finish,
    _unique,
    family_link,
    long_date,
    parent_notice,
    period,
)
from .settings import PostvakSettings


def moment_text(moment: datetime) -> str:
    local = moment.astimezone(SCHOOL_TZ)
    return f"{long_date(local.date())} om {local:%H.%M} uur"


def slot_text(activity: Activity, slot: Slot) -> str:
    text = short_moment(slot.start)
    return f"{text} ({slot.teacher_name})" if activity.several_teachers else text


def slot_id_text(slot_id: str) -> str:
    """'di 9 feb 15.30 uur' from '<teacher>-20270209-1530' (the record keeps only the id)."""
    try:
        day, hhmm = slot_id.rsplit("-", 2)[1:]
        moment = datetime.strptime(day + hhmm, "%Y%m%d%H%M").replace(tzinfo=SCHOOL_TZ)
    except ValueError:
        return slot_id
    return short_moment(moment)


def staff_link(settings: PostvakSettings, activity: Activity) -> str:
    return f"{settings.site_url}/personeel/{activity.group}/"


def volunteer_notices(settings: PostvakSettings, sender: Parent, activity: Activity, data: dict,
                      moved: Parent | None) -> list[Notice]:
    what = {"aangemeld": f"U bent aangemeld als hulpouder voor '{activity.title}'. Dank u wel!",
            "wachtlijst": (f"Alle plaatsen voor '{activity.title}' zijn bezet. U staat op de "
                           f"wachtlijst (plek {data['plek']}). Meldt iemand zich af, dan schuift "
                           "u op en krijgt u een mail."),
            "afgemeld": f"U bent afgemeld als hulpouder voor '{activity.title}'."}[data["uitkomst"]]
    body = (f"Beste {sender.name},\n\n{what}\n\nAanmelden of afmelden kan tot "
            f"{moment_text(activity.deadline)} op uw gezinspagina: "
            f"{family_link(settings, sender.family)}")
    items = [parent_notice(sender, f"Hulpouder: {activity.title}", body, settings)]
    if moved is not None:
        body = (f"Beste {moved.name},\n\nEr is een plaats vrijgekomen: u bent van de wachtlijst "
                f"af en nu hulpouder voor '{activity.title}'. Kunt u toch niet, meld u dan af "
                f"op uw gezinspagina: {family_link(settings, moved.family)}")
        items.append(Notice(f"opgeschoven:{moved.email}", "ouder", moved.name, moved.email,
                            f"U bent hulpouder: {activity.title}", _finish(body, settings)))
    return _unique(items)


def booking_notices(roster: Roster, settings: PostvakSettings, sender: Parent, child: Child,
                    activity: Activity, data: dict) -> list[Notice]:
    """Every parent of the child hears what is booked now; a refusal only the sender."""
    name = child.first_name
    slot = activity.slot(data["moment"]) if data["moment"] else None
    if data["uitkomst"] == "bezet":
        free = "\n".join(f"- {f}" for f in data["vrij"]) or "- (geen; bel de school)"
        body = (f"Beste {sender.name},\n\nHet moment dat u koos voor het gesprek over {name} "
                f"({slot_text(activity, slot)}) was net door een ander gezin geboekt: bezet, kies "
                f"een ander moment. Nog vrij:\n{free}\n\nKies op uw gezinspagina: "
                f"{family_link(settings, sender.family)}")
        return [parent_notice(sender, f"Oudergesprek {name}: bezet, kies een ander moment", body, settings)]
    if data["uitkomst"] == "afgezegd":
        what = (f"Het oudergesprek over {name} op {slot_id_text(data['vorig'])} is afgezegd. "
                "U kunt een nieuw moment kiezen zolang de inschrijving open is.")
    else:
        with_whom = slot.teacher_name
        what = (f"Het oudergesprek over {name} is {'verzet naar' if data['vorig'] else 'op'} "
                f"{moment_text(slot.start)} met {with_whom}.")
    items = []
    for parent in roster.parents_of(child.id):
        body = (f"Beste {parent.name},\n\n{what}\n\nVerzetten of afzeggen kan tot "
                f"{moment_text(activity.deadline)} op uw gezinspagina: "
                f"{family_link(settings, parent.family)}")
        items.append(parent_notice(parent, f"Oudergesprek {name}", body, settings))
    return _unique(items)


def close_notices(roster: Roster, settings: PostvakSettings, activity: Activity,
                  book) -> list[Notice]:
    """At the deadline: the group's teachers get the list (volunteers) or where the schedule is."""
    teachers = [roster.staff[t] for t in sorted(roster.teachers_of(activity.group))]
    if activity.kind == CONFERENCES:
        booked = book.bookings.get(activity.key, {})
        who = {s.teacher for s in activity.slots}
        teachers = [roster.staff[t] for t in sorted(who) if t in roster.staff] or teachers
        summary = (f"De inschrijving voor '{activity.title}' is gesloten: {len(booked)} van de "
                   f"{len(activity.slots)} gesprekken zijn geboekt. Het rooster (ook als CSV en "
                   f"als agenda-bestand) staat op de personeelspagina (na inloggen):\n"
                   f"{staff_link(settings, activity)}")
    else:
        people = book.volunteers.get(activity.key, [])
        lines = []
        for n, entry in enumerate(people):
            parent = roster.parents.get(entry["ouder"])
            if parent is None:
                continue
            kids = [short_name(roster, roster.children[c]) for c in parent.children
                    if c in roster.children and roster.children[c].group == activity.group]
            wait = "" if n < activity.places else " (wachtlijst)"
            lines.append(f"- {parent.name}, ouder van {' en '.join(kids)}{wait}")
        listing = "\n".join(lines) or "- (niemand)"
        summary = (f"De aanmelding voor '{activity.title}' is gesloten. Hulpouders "
                   f"({min(len(people), activity.places)} van {activity.places}):\n{listing}\n\n"
                   f"De lijst staat ook op de personeelspagina: {staff_link(settings, activity)}")
    return _unique(Notice(f"leerkracht:{t.email}", "leerkracht", t.name, t.email,
                          f"Inschrijving gesloten: {activity.title}",
                          _finish(f"Beste {t.name},\n\n{summary}", settings)) for t in teachers)


def _leave_when(data: dict) -> str:
    return period(date.fromisoformat(data["van"]), date.fromisoformat(data["tot"]))


def leave_request_notices(roster: Roster, settings: PostvakSettings, family_id: str,
                          sender: Parent, child: Child, data: dict) -> list[Notice]:
    reason = LEAVE_REASONS[data["reden"]]
    group = roster.groups[child.group].name
    body = (f"Er is verlof aangevraagd voor {short_name(roster, child)} ({group}).\n\n"
            f"Wanneer: {_leave_when(data)}\nReden: {reason}\n"
            + ("Werkgeversverklaring: wordt ingeleverd\n" if data["werkgeversverklaring"] else "")
            + f"\nDe toelichting leest u op de gezinspagina (na inloggen): "
            f"{family_link(settings, family_id)}\nBeslissen: invoke verlof --aanvraag <kenmerk> "
            "--besluit toegekend|afgewezen --door \"<naam>\" (invoke verlof toont de aanvragen).")
    items = [Notice(f"directie:{email}", "directie", name, email,
                    f"Verlofaanvraag {short_name(roster, child)} ({group})",
                    _finish(body, settings)) for name, email in _directie(roster, settings)]
    mine = (f"Beste {sender.name},\n\nDe directie heeft uw verlofaanvraag voor {child.first_name} "
            f"ontvangen ({_leave_when(data)}, {reason}). U krijgt een mail zodra de directie "
            f"heeft besloten; het besluit staat ook op uw gezinspagina: "
            f"{family_link(settings, sender.family)}")
    items.append(parent_notice(sender, f"Verlofaanvraag voor {child.first_name} ontvangen", mine, settings))
    return _unique(items)


def leave_decision_notices(roster: Roster, settings: PostvakSettings, child: Child,
                           data: dict) -> list[Notice]:
    """Every parent linked to the child, in both households; the note stays on the page."""
    items = []
    for parent in roster.parents_of(child.id):
        body = (f"Beste {parent.name},\n\nDe directie heeft het verlof voor {child.first_name} "
                f"({_leave_when(data)}, {LEAVE_REASONS[data['reden']]}) {data['besluit']}.\n\n"
                f"Een eventuele toelichting van de directie leest u op uw gezinspagina: "
                f"{family_link(settings, parent.family)}")
        items.append(parent_notice(parent, f"Verlof voor {child.first_name}: {data['besluit']}",
                                   body, settings))
    return _unique(items)

