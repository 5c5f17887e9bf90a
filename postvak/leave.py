"""Leave requests (verlofaanvraag) to the directie, and the directie's decision.

A parent asks on Mijn gezin (messages.LeaveRequest: the rules that need only the
dates, such as eight weeks ahead for a holiday). Here: the rules that need the
history (vakantieverlof once per school year per child), the record, and the
decision the directie takes with `invoke verlof --aanvraag <id> --besluit toegekend|afgewezen
--door "<naam>"`: one journal record like a consent decision, every parent linked
to the child is told by mail, the decision shows on the family pages of the
child's households, and `private/postvak/verlof-audit.csv` keeps who decided what
and when.
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from plugins.agenda import holiday_in, school_holidays
from plugins.errors import Problem, SchoolpleinError
from plugins.roster import Roster, load_roster

from . import csvedit, store
from . import signup_notices as notices
from .mail import deliver
from .messages import LEAVE_REASONS, LeaveRequest, Rejected
from .notices import period
from .settings import PostvakSettings
from .signups import Ledger, ledger

KIND, DECISION_KIND = "verlof", "verlofbesluit"
DECISIONS = {"toegekend": "toegekend", "afgewezen": "afgewezen"}
AUDIT = "verlof-audit.csv"
AUDIT_FIELDS = ("tijd", "besluit_id", "aanvraag", "kind", "van", "tot", "reden", "besluit",
                "door", "toelichting")


def school_year(day: date) -> int:
    """The year a school year starts in (1 August): 2026 for 2026-2027."""
    return day.year if day.month >= 8 else day.year - 1


def evaluate(envelope, state, person, family, request: LeaveRequest) -> dict:
    roster = state.roster
    if request.child not in family.children:
        raise Rejected("verlof: dit kind hoort niet bij uw gezin")
    holiday = _holiday(state, request)
    if holiday is not None:
        raise Rejected(f"verlof: {period(request.start, request.end)} valt (deels) in de "
                       f"{holiday.title} ({period(holiday.start, holiday.end)}); dan is er geen "
                       "school en is geen verlof nodig. Vraag verlof alleen voor schooldagen "
                       "buiten de schoolvakanties")
    if request.reason == "vakantie":
        for earlier in ledger(state).leave.values():
            if (earlier["kind"] == request.child and earlier["reden"] == "vakantie"
                    and earlier["besluit"] != "afgewezen"
                    and school_year(date.fromisoformat(earlier["van"]))
                    == school_year(request.start)):
                raise Rejected("verlof: vakantieverlof kan één keer per schooljaar; voor dit kind "
                               f"is het dit schooljaar al aangevraagd ({_span(earlier)})")
    when = envelope.received_at
    data = {"kind": request.child, "van": request.start.isoformat(),
            "tot": request.end.isoformat(), "reden": request.reason,
            "toelichting": request.note, "werkgeversverklaring": request.employer}
    items = notices.leave_request_notices(roster, state.settings, family.id, person,
                                          roster.children[request.child], data)
    return {"id": envelope.id, "envelope": envelope.to_json(), "person": person.id,
            "received_at": when.isoformat(), "urgent": False, "consent": None, "kind": KIND,
            "data": data, "mails": state.mails(envelope.id, items, when)}


def _holiday(state, request: LeaveRequest):
    """The school holiday (plugins.agenda.school_holidays) the requested days touch, if any."""
    content = state.settings.content
    if content is None:
        return None
    if getattr(state, "_holidays", None) is None:
        state._holidays = school_holidays(Path(content))
    return holiday_in(state._holidays, request.start, request.end)


def _span(entry: dict) -> str:
    return period(date.fromisoformat(entry["van"]), date.fromisoformat(entry["tot"]))


@dataclass(frozen=True)
class Request:
    """A leave request as the directie's task lists it."""

    id: str
    child: str
    start: date
    end: date
    reason: str
    note: str
    employer: bool
    received_at: datetime
    decision: str  # "" while open


def requests(settings: PostvakSettings) -> list[Request]:
    """Every leave request, oldest first, with its decision ('' while open)."""
    book = Ledger.from_journal(settings.private)
    return [Request(r["id"], r["kind"], date.fromisoformat(r["van"]), date.fromisoformat(r["tot"]),
                    r["reden"], r["toelichting"], r["werkgeversverklaring"],
                    datetime.fromisoformat(r["at"]), r["besluit"])
            for r in sorted(book.leave.values(), key=lambda r: r["at"])]


def decide(settings: PostvakSettings, request_id: str, decision: str, by: str, note: str = "",
           now: datetime | None = None) -> Request:
    """The directie's decision: journaled once, every linked parent told, the audit kept."""
    from .process import _State  # the record is applied like every other

    def bad(message: str, fix: str) -> SchoolpleinError:
        return SchoolpleinError(Problem("besluit verlof", None, message, fix))

    if decision not in DECISIONS:
        raise bad(f"onbekend besluit '{decision}'", "kies toegekend of afgewezen")
    if not by.strip():
        raise bad("wie besluit ontbreekt", "geef met --door de naam van wie namens de directie "
                  "besluit")
    if len(note) > 1000:
        raise bad("de toelichting is te lang", "hoogstens 1.000 tekens")
    with store.locked(settings.private):
        roster = load_roster(settings.roster)
        state = _State(settings, roster, now)
        open_ = ledger(state).leave
        matches = [r for r in open_ if r == request_id or r.startswith(request_id)]
        if len(matches) != 1:
            raise bad(f"geen (eenduidige) aanvraag '{request_id}'",
                      "'invoke verlof' zonder besluit toont de aanvragen met hun kenmerk")
        request = open_[matches[0]]
        if request["besluit"]:
            raise bad(f"over deze aanvraag is al besloten ({request['besluit']})",
                      "een nieuw besluit vraagt een nieuwe aanvraag van de ouders")
        if request["kind"] not in roster.children:
            raise bad("het kind staat niet meer in het rooster", "controleer leerlingen.csv")
        moment = now or datetime.now(UTC)
        ident = f"{DECISION_KIND}-{uuid.uuid4()}"
        data = {"aanvraag": request["id"], "kind": request["kind"], "besluit": decision,
                "toelichting": note.strip(), "door": by.strip(), "van": request["van"],
                "tot": request["tot"], "reden": request["reden"]}
        items = notices.leave_decision_notices(roster, settings, roster.children[request["kind"]],
                                               data)
        audit = {"tijd": moment.isoformat(), "besluit_id": ident, "aanvraag": request["id"],
                 "kind": request["kind"], "van": request["van"], "tot": request["tot"],
                 "reden": request["reden"], "besluit": decision, "door": by.strip(),
                 "toelichting": note.strip()}
        state.journal({"id": ident, "kind": DECISION_KIND, "envelope": None, "person": "",
                       "received_at": moment.isoformat(), "urgent": False, "consent": None,
                       "data": data, "verlof_audit": audit,
                       "mails": state.mails(ident, items, moment)})
        deliver(settings)
    return next(r for r in requests(settings) if r.id == request["id"])


def append_audit(private: Path, row: dict) -> None:
    """Append the decision's line unless it is there (applying a record twice changes nothing)."""
    path = store.root(private) / AUDIT
    data = path.read_bytes() if path.exists() else b""
    if any(r.get("besluit_id") == row["besluit_id"]
           for r in csv.DictReader(io.StringIO(data.decode("utf-8"), newline=""))):
        return
    csvedit.append_row(path, data, AUDIT_FIELDS, row)


def thread_text(roster: Roster, record: dict, book: Ledger) -> tuple[str, str, str]:
    """(summary, text, status) of a request in the requesting household's thread."""
    data = record["data"]
    child = roster.children.get(data["kind"])
    name = child.first_name if child else "uw kind"
    summary = f"Verlofaanvraag {name}: {_span(data)}, {LEAVE_REASONS[data['reden']]}"
    decided = book.leave.get(record["id"], {}).get("besluit", "")
    status = f"{decided} door de directie" if decided else "ontvangen; de directie beslist"
    return summary, data["toelichting"], status


def decision_text(roster: Roster, record: dict) -> tuple[str, str, str]:
    """(summary, text, status) of the directie's decision, on every household of the child."""
    data = record["data"]
    child = roster.children.get(data["kind"])
    name = child.first_name if child else "uw kind"
    summary = (f"Besluit van de directie over verlof voor {name} ({_span(data)}): "
               f"{data['besluit']}")
    return summary, data["toelichting"], f"{data['besluit']} door {data['door']}"
