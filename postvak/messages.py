"""What a parent may send: the postvak's JSON shapes, validated without side effects.

A submission is one JSON object (UTF-8, at most 16 KiB) PUT to
`/gezin/<gezin-id>/postvak/<uuid>.json`. Who sent it and for which family come
from the authenticated request and the path, never from the body. Three kinds:

    {"v": 1, "soort": "afwezigheid", "kind": "<leerling-id>",
     "van": "2026-11-10", "tot": "2026-11-12",
     "reden": "ziek" | "arts" | "anders", "toelichting": "..."}

        van: optional, default the day it was received (the next school day on a
             weekend); tot: optional, default van. At most 7 days back, at most a
             year ahead, at most 14 school days. toelichting: optional, <= 500
             characters. Received after 08:30 (Europe/Amsterdam) on or after the
             first school day of the period: accepted and marked late.

    {"v": 1, "soort": "bericht", "aan": "<medewerker-id>" | "directie", "tekst": "..."}

        aan: a teacher of one of this family's children, or the directie.
        tekst: 1..2,000 characters, kept exactly as typed; whoever shows it escapes
        it (HTML and script are just text, Markdown is never rendered).

    {"v": 1, "soort": "beeldgebruik", "kind": "<leerling-id>", "keuze": "geen" | "groep" | "school"}

    {"v": 1, "soort": "meldingen", "keuze": "direct" | "dagelijks" | "wekelijks" | "geen",
     "dag": "maandag" .. "zondag"}

        How often the sending parent (only them) gets mail about what is new; dag:
        only with wekelijks (default vrijdag). See postvak/news.py.

    {"v": 1, "soort": "agenda", "actie": "sturen" | "nieuw"}

        sturen: mail the sending parent the family's calendar-feed address (made
        when there is none); nieuw: a new address for the family, mailed to each of
        its parents; the old one stops at the next publish (postvak/family_choices.py).

Sign-ups and leave (issue 20; the declarations are plugins/signups.py):

    {"v": 1, "soort": "hulpouder", "activiteit": "act-<12 hex>",   (Activity.ref of the post)
     "actie": "aanmelden" | "afmelden"}

    {"v": 1, "soort": "gesprek", "activiteit": "act-<12 hex>", "kind": "<leerling-id>",
     "actie": "boeken" | "afzeggen", "moment": "<slot id>"}      (moment: only with boeken)

    {"v": 1, "soort": "verlof", "kind": "<leerling-id>", "van": "2027-03-01",
     "tot": "2027-03-05", "reden": "vakantie" | "gewichtig" | "religieus",
     "toelichting": "...", "werkgeversverklaring": true}

        vakantie: at least 8 weeks ahead, at most 10 school days, the employer's
        statement promised; gewichtig: at most 10 school days (longer: the
        leerplichtambtenaar decides), toelichting required; religieus: at least
        2 days ahead, at most 2 school days. Once a school year: see postvak/leave.py.

Anything else (other or duplicate keys, wrong types, control characters) is
rejected with a Dutch reason; the roster checks (is it this family's child, may
this family write to that teacher) happen in `process`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from plugins.agenda import DAYS
from plugins.family_threads import DIRECTIE as DIRECTIE  # the one definition; re-exported here
from plugins.notice_prefs import CHOICES as NOTICE_CHOICES
from plugins.notice_prefs import DEFAULT_DAY
from plugins.roster import Consent
from plugins.settings import SCHOOL_TZ

from . import parentjson
from .parentjson import MAX_BODY as MAX_BODY  # the one limit; re-exported here

MAX_NOTE = 500
MAX_TEXT = 2000
MAX_SCHOOL_DAYS = 14
DAYS_BACK = 7
DAYS_AHEAD = 365
DEADLINE = time(8, 30)  # school policy: report an absence before 08:30
REASONS = {"ziek": "ziek", "arts": "arts/tandarts", "anders": "anders"}
UUID4_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\Z")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SHAPES = {
    "afwezigheid": ({"v", "soort", "kind", "reden"}, {"van", "tot", "toelichting"}),
    "bericht": ({"v", "soort", "aan", "tekst"}, set()),
    "beeldgebruik": ({"v", "soort", "kind", "keuze"}, set()),
    "meldingen": ({"v", "soort", "keuze"}, {"dag"}),
    "agenda": ({"v", "soort", "actie"}, set()),
}
FEED_ACTIONS = ("sturen", "nieuw")
SHAPES.update({  # sign-ups and leave (issue 20): parsed in their own block below
    "hulpouder": ({"v", "soort", "activiteit", "actie"}, set()),
    "gesprek": ({"v", "soort", "activiteit", "kind", "actie"}, {"moment"}),
    "verlof": ({"v", "soort", "kind", "van", "tot", "reden"},
               {"toelichting", "werkgeversverklaring"}),
})


class Rejected(Exception):
    """A submission that cannot be applied; `reason` is what the admin reads (Dutch)."""

    def __init__(self, reason: str):
        reason = parentjson.safe_text(reason)  # never a lone surrogate or a page of parent text
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Absence:
    child: str
    start: date
    end: date
    reason: str  # a key of REASONS
    note: str
    late: bool

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end and day.weekday() < 5


@dataclass(frozen=True)
class Message:
    to: str  # staff id or DIRECTIE
    text: str


@dataclass(frozen=True)
class ConsentChoice:
    child: str
    choice: Consent


@dataclass(frozen=True)
class NoticeChoice:
    choice: str  # one of plugins.notice_prefs.CHOICES
    day: str  # for "wekelijks": the weekday (Dutch)


@dataclass(frozen=True)
class FeedRequest:
    action: str  # "sturen" (mail me the address) or "nieuw" (a new one for the family)


Submission = (Absence | Message | ConsentChoice | NoticeChoice | FeedRequest)
# | Volunteer | Booking | LeaveRequest (below)


def is_submission_id(text: str) -> bool:
    """Canonical lowercase UUID4 text, as crypto.randomUUID() writes it."""
    return bool(UUID4_RE.match(text))


def school_days(start: date, end: date) -> int:
    return sum(1 for n in range((end - start).days + 1) if (start + timedelta(n)).weekday() < 5)


def next_school_day(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(1)
    return day


def parse(body: bytes, received_at: datetime) -> Submission:
    """The submission in `body`, or Rejected with the reason the admin reads."""
    try:
        data = parentjson.load(body)  # bounded and total: the one reader of a parent's bytes
    except parentjson.Unreadable as exc:
        raise Rejected(exc.reason) from None
    if not isinstance(data, dict):
        raise Rejected("geen JSON-object")
    if type(data.get("v")) is not int or data["v"] != 1:
        raise Rejected(f"onbekende versie {data.get('v')!r} (verwacht \"v\": 1)")
    kind = data.get("soort")
    if not isinstance(kind, str) or kind not in SHAPES:
        raise Rejected(f"onbekende soort {kind!r} ({', '.join(SHAPES)})")
    required, optional = SHAPES[kind]
    missing = sorted(required - data.keys())
    if missing:
        raise Rejected(f"{kind}: veld ontbreekt: {', '.join(missing)}")
    extra = sorted(data.keys() - required - optional)
    if extra:
        raise Rejected(f"{kind}: onbekend veld: {', '.join(parentjson.shown(k) for k in extra[:5])}")
    if kind == "afwezigheid":
        return _absence(data, received_at)
    if kind in SIGNUP_PARSERS:
        return SIGNUP_PARSERS[kind](data, received_at)
    if kind == "bericht":
        return Message(_word(data, "aan"), _text(data, "tekst", MAX_TEXT, required=True))
    if kind == "meldingen":
        return _notice_choice(data)
    if kind == "agenda":
        if data["actie"] not in FEED_ACTIONS:
            raise Rejected(f"agenda: onbekende actie {str(data['actie'])[:20]!r} (sturen of nieuw)")
        return FeedRequest(data["actie"])
    choice = data["keuze"]
    if not isinstance(choice, str) or choice not in {c.value for c in Consent}:
        raise Rejected(f"beeldgebruik: onbekende keuze {choice!r} (geen, groep of school)")
    return ConsentChoice(_word(data, "kind"), Consent(choice))


def _absence(data: dict, received_at: datetime) -> Absence:
    local = received_at.astimezone(SCHOOL_TZ)
    today = local.date()
    start = _date(data, "van") or next_school_day(today)
    end = _date(data, "tot") or start
    if end < start:
        raise Rejected(f"afwezigheid: 'tot' ({end}) ligt voor 'van' ({start})")
    if start < today - timedelta(DAYS_BACK):
        raise Rejected(f"afwezigheid: {start} ligt meer dan {DAYS_BACK} dagen terug")
    if end > today + timedelta(DAYS_AHEAD):
        raise Rejected(f"afwezigheid: {end} ligt meer dan een jaar vooruit")
    days = school_days(start, end)
    if days == 0:
        raise Rejected("afwezigheid: de periode valt helemaal in het weekend")
    if days > MAX_SCHOOL_DAYS:
        raise Rejected(f"afwezigheid: {days} schooldagen (hoogstens {MAX_SCHOOL_DAYS}; "
                       "bel de school voor een langere afwezigheid)")
    reason = data["reden"]
    if not isinstance(reason, str) or reason not in REASONS:
        raise Rejected(f"afwezigheid: onbekende reden {reason!r} (ziek, arts of anders)")
    note = _text(data, "toelichting", MAX_NOTE, required=False)
    # 08:30 on the first *school* day: a weekend report for a period that starts on Saturday
    # and runs into Monday is in time for Monday.
    late = local > datetime.combine(next_school_day(start), DEADLINE, SCHOOL_TZ)
    return Absence(_word(data, "kind"), start, end, reason, note, late)


def _notice_choice(data: dict) -> NoticeChoice:
    choice, day = data["keuze"], data.get("dag", DEFAULT_DAY)
    if not isinstance(choice, str) or choice not in NOTICE_CHOICES:
        raise Rejected(f"meldingen: onbekende keuze {str(choice)[:20]!r} "
                       f"({', '.join(NOTICE_CHOICES)})")
    if not isinstance(day, str) or day not in DAYS:
        raise Rejected(f"meldingen: onbekende dag {str(day)[:20]!r} (maandag t/m zondag)")
    if "dag" in data and choice != "wekelijks":
        raise Rejected("meldingen: een dag hoort alleen bij 'wekelijks'")
    return NoticeChoice(choice, day)


def _word(data: dict, key: str) -> str:
    value = data[key]
    if not isinstance(value, str) or not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", value):
        raise Rejected(f"'{key}' is geen geldig id: {str(value)[:40]!r}")
    return value


def _text(data: dict, key: str, limit: int, required: bool) -> str:
    value = data.get(key, "")
    if not isinstance(value, str):
        raise Rejected(f"'{key}' is geen tekst")
    if required and not value.strip():
        raise Rejected(f"'{key}' is leeg")
    if len(value) > limit:
        raise Rejected(f"'{key}' is te lang: {len(value)} tekens (hoogstens {limit})")
    if any(unicodedata.category(ch) in ("Cc", "Cs") and ch not in "\n\r\t" for ch in value):
        raise Rejected(f"'{key}' bevat onzichtbare stuurtekens")
    return value


def _date(data: dict, key: str) -> date | None:
    if key not in data:
        return None
    value = data[key]
    if not isinstance(value, str) or not DATE_RE.match(value):
        raise Rejected(f"afwezigheid: '{key}' is geen datum (JJJJ-MM-DD): {str(value)[:20]!r}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Rejected(f"afwezigheid: '{key}' bestaat niet: {value}") from None


# --- sign-ups and leave requests (issue 20) -------------------------------------------------
# Every reason here starts with "aanmelden: ", "gesprek: " or "verlof: " and is about the
# parent's own input only: the family page shows it as it is (postvak/thread.py).

REF_RE = re.compile(r"^act-[0-9a-f]{12}\Z")  # plugins.signups.Activity.ref
SLOT_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}-\d{8}-\d{4}\Z")
LEAVE_REASONS = {"vakantie": "vakantie buiten de schoolvakanties",
                 "gewichtig": "gewichtige omstandigheden",
                 "religieus": "religieuze verplichtingen"}
LEAVE_WEEKS_AHEAD = 8  # vakantieverlof: asked at least 8 weeks before (Leerplichtwet art. 13a)
LEAVE_MAX_DAYS = 10  # the directeur decides up to 10 school days
RELIGIOUS_DAYS_AHEAD = 2
RELIGIOUS_MAX_DAYS = 2


@dataclass(frozen=True)
class Volunteer:
    activity: str
    join: bool  # False: withdraw


@dataclass(frozen=True)
class Booking:
    activity: str
    child: str
    slot: str | None  # None: cancel the child's booking


@dataclass(frozen=True)
class LeaveRequest:
    child: str
    start: date
    end: date
    reason: str  # a key of LEAVE_REASONS
    note: str
    employer: bool  # the employer's statement is promised (vakantie)


SIGNUP_TYPES = (Volunteer, Booking, LeaveRequest)


def _activity(data: dict, kind: str) -> str:
    value = data["activiteit"]
    if not isinstance(value, str) or not REF_RE.match(value):
        raise Rejected(f"{kind}: dit is geen activiteit van de school ({str(value)[:60]!r})")
    return value


def _volunteer(data: dict, received_at: datetime) -> Volunteer:
    action = data["actie"]
    if action not in ("aanmelden", "afmelden"):
        raise Rejected(f"aanmelden: onbekende actie {str(action)[:20]!r} (aanmelden of afmelden)")
    return Volunteer(_activity(data, "aanmelden"), action == "aanmelden")


def _booking(data: dict, received_at: datetime) -> Booking:
    action = data["actie"]
    if action not in ("boeken", "afzeggen"):
        raise Rejected(f"gesprek: onbekende actie {str(action)[:20]!r} (boeken of afzeggen)")
    slot = data.get("moment")
    if action == "boeken":
        if not isinstance(slot, str) or not SLOT_RE.match(slot):
            raise Rejected("gesprek: kies een moment voor het gesprek")
    elif slot is not None:
        raise Rejected("gesprek: afzeggen gaat zonder moment")
    return Booking(_activity(data, "gesprek"), _word(data, "kind"),
                   slot if action == "boeken" else None)


def _leave(data: dict, received_at: datetime) -> LeaveRequest:
    today = received_at.astimezone(SCHOOL_TZ).date()
    days = {}
    for key in ("van", "tot"):
        value = data[key]
        if not isinstance(value, str) or not DATE_RE.match(value):
            raise Rejected(f"verlof: '{key}' is geen datum (JJJJ-MM-DD)")
        try:
            days[key] = date.fromisoformat(value)
        except ValueError:
            raise Rejected(f"verlof: '{key}' bestaat niet: {value}") from None
    start, end = days["van"], days["tot"]
    reason = data["reden"]
    if not isinstance(reason, str) or reason not in LEAVE_REASONS:
        raise Rejected("verlof: kies een reden (vakantie, gewichtig of religieus)")
    note = _text(data, "toelichting", MAX_NOTE, required=reason == "gewichtig")
    employer = data.get("werkgeversverklaring", False)
    if not isinstance(employer, bool):
        raise Rejected("verlof: 'werkgeversverklaring' is ja of nee")
    if end < start:
        raise Rejected(f"verlof: de laatste dag ({end}) ligt voor de eerste ({start})")
    if end > today + timedelta(DAYS_AHEAD):
        raise Rejected("verlof: de dagen liggen meer dan een jaar vooruit")
    count = school_days(start, end)
    if count == 0:
        raise Rejected("verlof: de periode valt helemaal in het weekend")
    if reason == "vakantie":
        first = today + timedelta(weeks=LEAVE_WEEKS_AHEAD)
        if start < first:
            raise Rejected(f"verlof: vakantieverlof vraagt u minstens {LEAVE_WEEKS_AHEAD} weken "
                           f"van tevoren aan; voor {start:%d-%m-%Y} had dat uiterlijk "
                           f"{start - timedelta(weeks=LEAVE_WEEKS_AHEAD):%d-%m-%Y} gemoeten")
        if count > LEAVE_MAX_DAYS:
            raise Rejected(f"verlof: vakantieverlof is hoogstens {LEAVE_MAX_DAYS} schooldagen "
                           f"(gevraagd: {count})")
        if not employer:
            raise Rejected("verlof: voor vakantieverlof is een werkgeversverklaring nodig; "
                           "kruis aan dat u die inlevert")
    elif reason == "gewichtig":
        if start < today - timedelta(DAYS_BACK):
            raise Rejected(f"verlof: {start:%d-%m-%Y} ligt meer dan {DAYS_BACK} dagen terug")
        if count > LEAVE_MAX_DAYS:
            raise Rejected(f"verlof: voor meer dan {LEAVE_MAX_DAYS} schooldagen beslist de "
                           "leerplichtambtenaar van de gemeente; neem contact op met de directie")
    else:
        if start < today + timedelta(RELIGIOUS_DAYS_AHEAD):
            raise Rejected(f"verlof: meld een religieuze verplichting minstens "
                           f"{RELIGIOUS_DAYS_AHEAD} dagen van tevoren")
        if count > RELIGIOUS_MAX_DAYS:
            raise Rejected(f"verlof: voor een religieuze verplichting hoogstens "
                           f"{RELIGIOUS_MAX_DAYS} schooldagen; vraag anders verlof wegens "
                           "gewichtige omstandigheden")
    return LeaveRequest(_word(data, "kind"), start, end, reason, note, employer)


SIGNUP_PARSERS = {"hulpouder": _volunteer, "gesprek": _booking, "verlof": _leave}
