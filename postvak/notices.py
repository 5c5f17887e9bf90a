"""Which mails a submission causes, to whom, saying what (pure: no files, no SMTP).

Privacy rules for every text here: no photos, never a parent's message text or
absence note (staff read those on the family page, behind its login), and no
child's name beyond what the recipient may read already: a teacher and the
directie their pupil's first name (with an initial when the group has two), a
parent their own child's. The pupil administration (SCHOOLPLEIN_ADMIN_EMAIL)
keeps the school's pupil register (it exports leerlingen.csv), so it gets the
full name it needs to record an absence. Parents of the other household learn
the facts about their child, never who in the other household sent them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from plugins.calendar_feeds import feed_path
from plugins.filters import datum
from plugins.roster import Child, Parent, Roster, Staff
from plugins.settings import SCHOOL_TZ

from .consent import DESCRIBE, Outcome
from .households import directie, recipient_addresses, short_name, teachers_of_child
from .messages import DIRECTIE, REASONS, Absence, Message
from .settings import PostvakSettings

DAYS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")
FOOTER = ("\n\n-- \nDeze e-mail is automatisch verstuurd door het ouderplatform van {school}. "
          "U kunt er niet op antwoorden; met vragen kunt u terecht bij de school.")


@dataclass(frozen=True)
class Notice:
    """One mail to one address. `key` is unique within its submission (the mail id's seed)."""

    key: str
    role: str  # leerkracht, directie, administratie, ouder, ontvanger, daglijst
    name: str  # the recipient's name as the family page may show it ("" for addresses)
    to: str
    subject: str
    body: str


def long_date(day: date) -> str:
    return f"{DAYS[day.weekday()]} {datum(day)}"


def period(start: date, end: date) -> str:
    """One day, or "X t/m Y"."""
    if start == end:
        return long_date(start)
    return f"{long_date(start)} t/m {long_date(end)}"


def hh_mm(moment: datetime) -> str:
    """'09.12 uur': how a Dutch school writes a time."""
    return moment.astimezone(SCHOOL_TZ).strftime("%H.%M uur")


def family_link(settings: PostvakSettings, family_id: str) -> str:
    return f"{settings.site_url}/gezin/{family_id}/"


def _unique(notices: Iterable[Notice]) -> list[Notice]:
    """One mail per address and submission: the first role wins (teacher before directie)."""
    seen, kept = set(), []
    for n in notices:
        if n.to and n.to.lower() not in seen:
            seen.add(n.to.lower())
            kept.append(n)
    return kept


def _finish(body: str, settings: PostvakSettings) -> str:
    return body + FOOTER.format(school=settings.school_name)


def parent_notice(parent: Parent, subject: str, body: str, settings: PostvakSettings) -> Notice:
    """The mail to one parent about their own family's submission (keyed by their address)."""
    return Notice(f"ouder:{parent.email}", "ouder", parent.name, parent.email, subject,
                  _finish(body, settings))


def _directie(roster: Roster, settings: PostvakSettings) -> list[tuple[str, str]]:
    members = [(s.name, s.email) for s in directie(roster)]
    if not members and settings.directie_email:
        members = [("", settings.directie_email)]
    return members


def absence_notices(roster: Roster, settings: PostvakSettings, family_id: str,
                    absence: Absence, received_at: datetime) -> list[Notice]:
    child = roster.children[absence.child]
    group = roster.groups[child.group].name
    reason = REASONS[absence.reason]
    when = period(absence.start, absence.end)
    late = (f"\nLet op: gemeld om {hh_mm(received_at)}, na 08.30 uur." if absence.late else "")
    link = family_link(settings, family_id)
    staff_subject = f"Afgemeld: {short_name(roster, child)} ({group}), {when}"
    staff_body = (f"{short_name(roster, child)} uit {group} is afgemeld.\n\n"
                  f"Wanneer: {when}\nReden: {reason}{late}\n\n"
                  f"Een eventuele toelichting van de ouders leest u op de gezinspagina (na "
                  f"inloggen): {link}")
    notices = [Notice(f"leerkracht:{t.email}", "leerkracht", t.name, t.email, staff_subject,
                      _finish(staff_body, settings))
               for t in teachers_of_child(roster, child.id)]
    notices += [Notice(f"directie:{email}", "directie", name, email, staff_subject,
                       _finish(staff_body, settings)) for name, email in _directie(roster, settings)]
    if settings.admin_email:
        body = (f"Afmelding via het ouderplatform.\n\nLeerling: {child.full_name} ({group})\n"
                f"Wanneer: {when}\nReden: {reason}\n"
                f"Gemeld: {long_date(received_at.astimezone(SCHOOL_TZ).date())} om {hh_mm(received_at)}"
                f"{' (na 08.30 uur)' if absence.late else ''}")
        notices.append(Notice(f"administratie:{settings.admin_email}", "administratie", "",
                              settings.admin_email,
                              f"Afmelding {child.full_name} ({group}), {when}",
                              _finish(body, settings)))
    for parent in roster.parents_of(child.id):
        body = (f"Beste {parent.name},\n\nDe school heeft de afmelding van {child.first_name} "
                f"ontvangen.\n\nWanneer: {when}\nReden: {reason}{late}\n\n"
                f"Klopt er iets niet? Bel dan de school: {settings.school_phone}.\n"
                f"Uw gezinspagina: {family_link(settings, parent.family)}")
        notices.append(parent_notice(parent, f"Afmelding van {child.first_name} ontvangen", body, settings))
    return _unique(notices)


def message_notices(roster: Roster, settings: PostvakSettings, family_id: str, sender: Parent,
                    message: Message) -> list[Notice]:
    """The recipient learns that there is a message and where; never what it says."""
    link = family_link(settings, family_id)
    who = "de directie" if message.to == DIRECTIE else "u"
    notices = []
    for name, email in recipient_addresses(roster, message.to, settings.directie_email):
        body = (f"{sender.name} heeft een bericht gestuurd aan {who}. U leest en beantwoordt het "
                f"op de gezinspagina van het gezin (na inloggen):\n{link}")
        notices.append(Notice(f"ontvanger:{email}", "ontvanger", name, email,
                              f"Nieuw bericht van {sender.name}", _finish(body, settings)))
    return _unique(notices)


def consent_notices(roster: Roster, settings: PostvakSettings, child: Child, outcome: Outcome,
                    by_school: bool) -> list[Notice]:
    """Every parent linked to the child hears what now applies, in both households."""
    name = child.first_name
    if by_school:
        what = (f"De school heeft besloten over het beeldgebruik van {name}: {name} staat "
                f"voortaan {DESCRIBE[outcome.new]}.")
    elif outcome.new != outcome.old:
        what = (f"Een ouder heeft het beeldgebruik van {name} aangepast: {name} staat voortaan "
                f"{DESCRIBE[outcome.new]} (tot nu toe: {DESCRIBE[outcome.old]}).")
        if outcome.widened:
            what += " Alle ouders van " + name + " hebben hiermee ingestemd."
    elif outcome.pending:
        what = (f"Een ouder van {name} heeft gekozen voor ruimer beeldgebruik: "
                f"{DESCRIBE[outcome.choice]}. Dat gaat pas in als alle ouders van {name} "
                "dat op hun gezinspagina kiezen, of als de school een besluit neemt. Tot die "
                f"tijd staat {name} {DESCRIBE[outcome.new]}.")
    else:
        what = (f"De keuze voor het beeldgebruik van {name} is vastgelegd; er verandert niets: "
                f"{name} staat {DESCRIBE[outcome.new]}.")
    if outcome.narrowed:
        what += (f"\n\nFoto's van {name} die hier niet meer bij passen, haalt de school meteen "
                 "van de site, ook oudere.")
    notices = []
    for parent in roster.parents_of(child.id):
        body = (f"Beste {parent.name},\n\n{what}\n\nU kunt de keuze zien en wijzigen op uw "
                f"gezinspagina: {family_link(settings, parent.family)}")
        notices.append(parent_notice(parent, f"Beeldgebruik van {name}", body, settings))
    return _unique(notices)


def daylist_notice(roster: Roster, settings: PostvakSettings, teacher: Staff, day: date,
                   entries: list[tuple[Child, Absence]]) -> Notice:
    groups = [roster.groups[g].name for g in teacher.groups if g in roster.groups]
    lines = []
    for child, absence in sorted(entries, key=lambda e: (e[0].group, e[0].first_name)):
        late = ", gemeld na 08.30 uur" if absence.late else ""
        lines.append(f"- {short_name(roster, child)} ({roster.groups[child.group].name}): "
                     f"{REASONS[absence.reason]}{late}")
    listing = "\n".join(lines) if lines else "Voor vandaag is niemand afgemeld."
    body = (f"Goedemorgen {teacher.name},\n\nAfmeldingen via het ouderplatform voor "
            f"{long_date(day)} ({', '.join(groups)}):\n\n{listing}\n\nAfmeldingen per telefoon "
            "staan niet in deze lijst. Wordt er later nog iemand afgemeld, dan krijgt u daarover "
            "een aparte mail.")
    return Notice(f"daglijst:{teacher.email}", "daglijst", teacher.name, teacher.email,
                  f"Afmeldingen voor vandaag, {long_date(day)}", _finish(body, settings))



def feed_address_notices(settings: PostvakSettings, parents: Iterable[Parent], token: str,
                         renewed: bool) -> list[Notice]:
    """The family's calendar address, to the parents it is for (never on a page: staff read those)."""
    host = settings.site_url.split("://", 1)[-1]
    address = f"{host}{feed_path(token)}"
    renewal = ("Het vorige agenda-adres van uw gezin werkt niet meer (ook niet bij wie het nog "
               "had). Staat de agenda al op uw telefoon? Verwijder dan die agenda en zet deze "
               "erin.\n\n") if renewed else ""
    found = []
    for parent in parents:
        body = (f"Beste {parent.name},\n\n{renewal}Hier is het agenda-adres van uw gezin. Tik "
                "er op uw telefoon op om de agenda van school, van de groepen van uw kinderen en "
                f"van uw gezin in uw agenda-app te zetten:\n\nwebcal://{address}\n\n"
                "Werkt tikken niet? Kies in de agenda-app 'Agenda toevoegen' en dan 'Via internet' "
                f"of 'Abonneren', en plak dit adres:\nhttps://{address}\n\n"
                "Verandert de school een afspraak, dan verandert die ook in uw telefoon.\n\n"
                "Let op: wie dit adres heeft, ziet deze afspraken, zonder wachtwoord. Stuur het "
                "niet door. Is het bij iemand anders terechtgekomen? Maak dan op uw gezinspagina "
                "een nieuw agenda-adres; dit adres werkt dan niet meer.\n"
                f"Uw gezinspagina: {family_link(settings, parent.family)}#agenda-telefoon")
        found.append(Notice(f"agenda:{parent.email}", "ouder", parent.name, parent.email,
                            "Nieuw agenda-adres van uw gezin" if renewed
                            else "Het agenda-adres van uw gezin", _finish(body, settings)))
    return _unique(found)
