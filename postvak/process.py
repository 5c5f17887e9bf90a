"""Apply every stored submission exactly once, also when killed (SIGKILL) and run again.

Per submission, in the order received:
  1. validate it and compute every effect against the current state: the roster
     change, the audit line, whether it is urgent, and each mail with its id;
  2. write ONE journal record holding all of that (atomic: rename of a whole file);
  3. apply the record idempotently (set the consent cell, append the audit line
     unless present, mark urgent, queue each mail unless queued or sent), then
     write its `toegepast` marker and drop the inbox copy.
A record is applied before the next one is computed, and a run first finishes
any record a killed run left unapplied, so effects never depend on a half state.
Mails are sent after that, from the outbox (mail.py); SMTP trouble leaves them
queued for the next run and never re-applies anything.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from plugins.errors import Problem, SchoolpleinError
from plugins.roster import Consent, Parent, Roster, Staff, load_roster
from plugins.settings import SCHOOL_TZ

from . import consent, family_choices, leave, notices, parentjson, signups, store
from .households import person_for_login, recipients
from .mail import Delivery, Mail, deliver, mail_id, to_eml
from .messages import (
    SIGNUP_TYPES,
    Absence,
    ConsentChoice,
    FeedRequest,
    LeaveRequest,
    Message,
    NoticeChoice,
    Rejected,
    is_submission_id,
    parse,
)
from .settings import PostvakSettings
from .store import QuarantineItem, Received

ADMIN_KIND = "besluit"


@dataclass(frozen=True)
class Urgent:
    """A consent withdrawal that is applied to the roster but not yet published."""

    submission: str
    child: str
    received_at: datetime  # when the parent sent it (or the admin decided)
    applied_at: datetime


@dataclass(frozen=True)
class Summary:
    """What one round did; `text` is the one place its counts are put into words."""

    applied: tuple[str, ...]  # submission ids applied in this run
    quarantined: tuple[QuarantineItem, ...]  # rejected in this round (intake too), with the reason
    urgent: tuple[Urgent, ...]  # every withdrawal not yet acknowledged: rebuild and publish now
    mail: Delivery
    stuck: tuple[str, ...] = ()  # not applied because of the roster (a cell or the whole file)
    waiting: int = 0  # everything in quarantine, for the admin to look at
    resent: int = 0  # mails held back by an SMTP outage that went out in this run
    problems: tuple[str, ...] = ()  # items this run could not handle at all (it went on)
    collected: int = 0  # handed over by the target in this round
    roster_error: str = ""  # the roster could not be read: nothing was processed

    @property
    def eventful(self) -> bool:
        """Worth a line on the console (a quiet round prints nothing)."""
        return bool(self.collected or self.applied or self.quarantined or self.stuck
                    or self.resent or self.problems or self.roster_error)

    def text(self) -> str:
        """What the admin's task prints (Dutch)."""
        def at(moment: datetime) -> str:
            return moment.astimezone(SCHOOL_TZ).strftime("%d-%m %H:%M")

        lines = [f"Postvak: {self.collected} opgehaald, {len(self.applied)} verwerkt, "
                 f"{len(self.quarantined)} in quarantaine (er staan er nu {self.waiting} in "
                 "private/postvak/quarantaine/)."]
        lines += [f"  quarantaine: {at(q.received_at)} van {q.sender} (gezin {q.family}): {q.reason}"
                  for q in self.quarantined]
        if self.roster_error:
            lines.append("  Het rooster is onleesbaar; er is niets verwerkt:\n" + self.roster_error)
        lines += [f"  SPOED: beeldgebruik van {u.child} beperkt (ingestuurd {at(u.received_at)}): "
                  "publiceer opnieuw" for u in self.urgent]
        lines += [f"  NIET TOEGEPAST, herstel het rooster: {s}" for s in self.stuck]
        lines += [f"  NIET VERWERKT (de ronde ging door): {p}" for p in self.problems]
        m = self.mail
        lines.append(f"Mails: {m.sent} verstuurd, {m.queued} wachten op de mailserver, "
                     f"{m.failed} geweigerd" + (f" ({m.error})" if m.error else "") + ".")
        if self.resent:
            lines.append(f"Mailserver weer bereikbaar: {self.resent} mail(s) verstuurd die "
                         "tijdens de storing waren blijven wachten.")
        return "\n".join(lines)


def process(settings: PostvakSettings, now: datetime | None = None,
            quarantine_before: frozenset[str] | None = None, collected: int = 0) -> Summary:
    """Process the inbox; returns what happened. Never raises for one submission.

    A record that cannot be applied because leerlingen.csv cannot be edited stays
    journaled and unapplied (it is retried every run, and listed in `stuck`); the
    other submissions go on. A roster that cannot be read at all processes
    nothing: every waiting consent choice is listed in `stuck` (it is a pending
    withdrawal), and mails already queued still go out. `quarantine_before`: the
    quarantine's names before this round's intake, so its count includes what
    intake refused (one count, in `Summary.quarantined`).
    """
    private = settings.private
    applied, problems, stuck, roster_error = [], [], [], ""
    with store.locked(private):
        before = (store.quarantine_names(private) if quarantine_before is None
                  else quarantine_before)
        held = {p.stem for p in store.outbox(private)}  # queued by an earlier run
        store.sweep(private, settings.roster)
        try:
            roster = load_roster(settings.roster)
        except SchoolpleinError as exc:
            roster, roster_error = None, exc.render()
            stuck = _waiting_choices(private)
        if roster is not None:
            state = _State(settings, roster, now)
            stuck = state.stuck
            for envelope in store.inbox(private):
                try:
                    ident = _one(envelope, state, now)
                except Exception as exc:  # even quarantining failed: report it, go on
                    problems.append(f"{envelope.id}: {type(exc).__name__}: {exc}"[:300])
                    continue
                if ident:
                    applied.append(ident)
            try:  # sign-ups whose deadline passed: the teachers get the list (issue 20)
                signups.close_due(state, now)
            except SchoolpleinError as exc:
                stuck.append(f"inschrijvingen sluiten: {exc.render()}")
            except Exception as exc:  # a bug must not stop the round
                problems.append(f"inschrijvingen sluiten: {type(exc).__name__}: {exc}"[:300])
        delivery = deliver(settings)
        resent = sum(1 for ident in held if store.was_sent(private, ident))
        everything = store.quarantine_list(private)
    return Summary(tuple(applied), tuple(q for q in everything if q.name not in before),
                   pending_urgent(settings), delivery, tuple(stuck), len(everything), resent,
                   tuple(problems), collected, roster_error)


def _one(envelope: Received, state: _State, now) -> str:
    """Handle one stored submission; returns its id when applied ('' when not)."""
    private = state.private
    try:
        record = _evaluate(envelope, state)
    except Rejected as exc:
        _reject(private, envelope, exc.reason, now)
        return ""
    except Exception as exc:  # a bug must not stop the queue: keep it for the admin
        reason = f"interne fout ({type(exc).__name__}: {exc}); meld dit aan de beheerder"
        _reject(private, envelope, reason, now)
        return ""
    if record is None:  # already journaled by a killed run: only the copy was left
        store.remove(store.folder(private, store.INBOX) / f"{envelope.id}.json")
        return ""
    try:
        state.journal(record)
    except SchoolpleinError as exc:
        state.stuck.append(f"{envelope.id}: {exc.render()}")
        return ""
    return envelope.id


def _waiting_choices(private) -> list[str]:
    """Consent choices that wait because the roster cannot be read (each may be a withdrawal)."""
    found = []
    for envelope in store.inbox(private):
        try:
            data = parentjson.load(envelope.body)
        except parentjson.Unreadable:
            continue
        if isinstance(data, dict) and data.get("soort") == "beeldgebruik":
            child = parentjson.shown(data.get("kind"))
            found.append(f"{envelope.id}: beeldgebruik van {child} wacht tot het rooster "
                         "leesbaar is (zie hierboven)")
    return found


def record_admin_decision(settings: PostvakSettings, child: str, decision: Consent | str, by: str,
                          now: datetime | None = None) -> consent.Outcome:
    """The school decides a child's consent (e.g. parents disagree): applies at once.

    `by` is the admin's name for the audit trail. Every parent linked to the child
    is told; a narrowing is urgent like a parent's withdrawal.
    """
    if decision not in {c.value for c in Consent}:
        raise SchoolpleinError(Problem("besluit beeldgebruik", None,
                                       f"onbekende keuze '{decision}'", "kies geen, groep of school"))
    decision = Consent(decision)
    if not by.strip():
        raise SchoolpleinError(Problem("besluit beeldgebruik", None, "wie besluit ontbreekt",
                                       "geef de naam van wie namens de school besluit"))
    with store.locked(settings.private):
        roster = load_roster(settings.roster)
        if child not in roster.children:
            raise SchoolpleinError(Problem("besluit beeldgebruik", None, f"onbekend kind '{child}'",
                                           "gebruik een id uit leerlingen.csv"))
        state = _State(settings, roster, now)
        moment = now or datetime.now(UTC)
        ident = f"{ADMIN_KIND}-{uuid.uuid4()}"
        outcome = consent.Outcome(decision, state.effective(child), decision)
        effect = state.consent_effect(ident, child, outcome, f"{consent.SCHOOL} {by.strip()}", "",
                                      moment)
        record = {"id": ident, "kind": ADMIN_KIND, "envelope": None, "person": "",
                  "received_at": moment.isoformat(), "data": {"kind": child, "keuze": decision.value},
                  "consent": effect, "urgent": outcome.narrowed,
                  "mails": state.mails(ident, notices.consent_notices(
                      roster, settings, roster.children[child], outcome, by_school=True), moment)}
        state.journal(record)
        deliver(settings)
    return outcome


def pending_urgent(settings: PostvakSettings) -> tuple[Urgent, ...]:
    items = []
    for path in sorted(store.folder(settings.private, store.URGENT).glob("*.json")):
        data = store.read_json(path)
        items.append(Urgent(data["id"], data["child"], datetime.fromisoformat(data["received_at"]),
                            datetime.fromisoformat(data["applied_at"])))
    return tuple(sorted(items, key=lambda u: u.received_at))


def acknowledge_urgent(settings: PostvakSettings, ids: tuple[str, ...] | list[str]) -> None:
    """Call after the rebuild and publish that removed the withdrawn photos succeeded."""
    for ident in ids:
        store.remove(store.folder(settings.private, store.URGENT) / f"{ident}.json")


@dataclass(frozen=True)
class Pending:
    """What waits for a publish: withdrawals (spoed/) and other changes that reach a page."""

    urgent: tuple[Urgent, ...]
    markers: frozenset[str]  # names in publiceren/

    def __bool__(self) -> bool:
        return bool(self.urgent or self.markers)


def pending_publish(settings: PostvakSettings) -> Pending:
    """Take this before the build reads anything: a publish acknowledges only what it holds.

    Every marker is written after the change it announces is on disk (or, for the
    threads, under the same site lock the publish holds), so whatever is listed
    here is in the build that follows.
    """
    folder = store.folder(settings.private, store.TO_PUBLISH)
    return Pending(pending_urgent(settings),
                   frozenset(p.name for p in folder.iterdir() if not p.name.startswith(".")))


def acknowledge_published(settings: PostvakSettings, pending: Pending) -> None:
    """Call once the publish that followed `pending_publish` is live: those changes are done."""
    acknowledge_urgent(settings, [u.submission for u in pending.urgent])
    for name in pending.markers:
        store.remove(store.folder(settings.private, store.TO_PUBLISH) / name)


def _reject(private, envelope: Received, reason: str, now) -> None:
    store.quarantine(private, envelope, reason, now=now)
    store.remove(store.folder(private, store.INBOX) / f"{envelope.id}.json")


class _State:
    """What the next record is computed against: the roster as applied so far."""

    def __init__(self, settings: PostvakSettings, roster: Roster, now: datetime | None):
        self.settings, self.roster, self.now = settings, roster, now
        self.private = settings.private
        self.cells = {c.id: c.consent for c in roster.children.values()}
        self.stuck: list[str] = []
        journaled = store.journal_ids(self.private)
        self.seq = len(journaled)  # records are numbered in the order they were written
        unapplied = [store.read_json(store.journal_path(self.private, i))
                     for i in journaled - store.applied_ids(self.private)]
        for record in sorted(unapplied, key=lambda r: r["seq"]):
            try:  # a killed run left it half applied, or the roster could not be edited
                self.apply(record)
            except SchoolpleinError as exc:
                self.stuck.append(f"{record['id']}: {exc.render()}")

    def effective(self, child: str) -> Consent:
        return self.cells[child] or self.settings.consent_default

    def journal(self, record: dict) -> None:
        self.seq += 1
        moment = self.now or datetime.now(UTC)
        record = dict(record, v=1, seq=self.seq, processed_at=moment.isoformat())
        if not store.write_json(store.journal_path(self.private, record["id"]), record,
                                exclusive=True):
            raise SchoolpleinError(Problem(str(store.journal_path(self.private, record["id"])),
                                           None, "journaalregel bestaat al",
                                           "meld dit aan de beheerder; er is niets dubbel verwerkt"))
        self.apply(record)
        signups.noted(self, record)
        if record["envelope"] is not None:
            store.remove(store.folder(self.private, store.INBOX) / f"{record['id']}.json")

    def apply(self, record: dict) -> None:
        """Idempotent: applying a record twice leaves the same state as once."""
        effect = record.get("consent")
        if effect:
            new = Consent(effect["nieuw"])
            if effect["schrijf"]:
                consent.write_consent(self.settings.roster, effect["kind"], new)
                self.cells[effect["kind"]] = new
            consent.append_audit(self.private, effect["audit"])
        family_choices.apply(self.private, record)  # a parent's own settings (mails, agenda)
        if record.get("verlof_audit"):  # the directie's leave decision (postvak/leave.py)
            leave.append_audit(self.private, record["verlof_audit"])
        if record["urgent"]:
            store.write_json(store.folder(self.private, store.URGENT) / f"{record['id']}.json",
                             {"id": record["id"], "child": effect["kind"],
                              "received_at": record["received_at"],
                              "applied_at": record["processed_at"]}, exclusive=True)
        for m in record["mails"]:
            mail = Mail(m["id"], m["to"], m["subject"], m["body"], datetime.fromisoformat(m["date"]))
            store.queue_mail(self.private, mail.id, to_eml(mail, self.settings.sender))
        store.sync_outbox(self.private)
        # every record shows on a family page (and a consent change on photos): durable
        # "needs publishing" before the record counts as applied
        store.mark_to_publish(self.private, record["id"])
        store.mark_applied(self.private, record["id"])

    def mails(self, ident: str, items: list[notices.Notice], when: datetime) -> list[dict]:
        return [{"id": mail_id(ident, n.key), "key": n.key, "role": n.role, "name": n.name,
                 "to": n.to, "subject": n.subject, "body": n.body, "date": when.isoformat()}
                for n in items]

    def consent_effect(self, ident: str, child: str, outcome: consent.Outcome, by: str,
                       family: str, moment: datetime) -> dict:
        if outcome.pending:
            effective = "nee: wacht tot alle ouders dit kiezen"
        else:
            effective = "ja" if outcome.new != outcome.old else "ja (geen verandering)"
        audit = {"tijd": moment.isoformat(), "inzending": ident, "kind": child, "door": by,
                 "gezin": family, "keuze": outcome.choice.value, "oud": outcome.old.value,
                 "nieuw": outcome.new.value, "van_kracht": effective}
        return {"kind": child, "oud": outcome.old.value, "nieuw": outcome.new.value,
                "keuze": outcome.choice.value, "schrijf": outcome.new != outcome.old,
                "audit": audit}


def _evaluate(envelope: Received, state: _State) -> dict | None:
    """The journal record for one submission, or Rejected with the reason; None if done."""
    private, roster, settings = state.private, state.roster, state.settings
    done = store.journal_path(private, envelope.id)
    if done.exists():
        first = Received.from_json(store.read_json(done)["envelope"])
        if first == envelope:
            return None
        raise Rejected(store.replay_reason(first))
    if not is_submission_id(envelope.id):
        raise Rejected(f"ongeldige naam '{envelope.id[:60]}.json'")
    family = roster.families.get(envelope.family)
    if family is None:
        raise Rejected(f"onbekend gezin '{envelope.family[:60]}'")
    person = person_for_login(roster, envelope.sender)
    if person is None:
        raise Rejected(f"onbekende afzender '{envelope.sender[:80]}' (staat niet in de roster)")
    if isinstance(person, Staff):
        raise Rejected("ingestuurd door een medewerker: het postvak is voor ouders; antwoord in "
                       "content/gezin/<gezin-id>/ of gebruik het besluit van de school")
    if person.id not in family.parents:
        raise Rejected(f"afzender {person.id} is geen ouder van dit gezin")
    submission = parse(envelope.body, envelope.received_at)
    if isinstance(submission, SIGNUP_TYPES):  # sign-ups and leave requests (issue 20)
        if isinstance(submission, LeaveRequest):
            return leave.evaluate(envelope, state, person, family, submission)
        return signups.evaluate(envelope, state, person, family, submission)
    when = envelope.received_at
    base = {"id": envelope.id, "envelope": envelope.to_json(), "person": person.id,
            "received_at": when.isoformat(), "urgent": False, "consent": None}
    if isinstance(submission, Absence):
        _own_child(roster, family.children, submission.child)
        data = {"kind": submission.child, "van": submission.start.isoformat(),
                "tot": submission.end.isoformat(), "reden": submission.reason,
                "toelichting": submission.note, "te_laat": submission.late}
        items = notices.absence_notices(roster, settings, family.id, submission, when)
        return dict(base, kind="afwezigheid", data=data, mails=state.mails(envelope.id, items, when))
    if isinstance(submission, Message):
        allowed = recipients(roster, family.id)
        if submission.to not in allowed:
            raise Rejected(f"bericht: '{submission.to}' is geen leerkracht van de kinderen van dit "
                           "gezin en niet de directie")
        data = {"aan": submission.to, "aan_naam": allowed[submission.to], "tekst": submission.text}
        items = notices.message_notices(roster, settings, family.id, person, submission)
        return dict(base, kind="bericht", data=data, mails=state.mails(envelope.id, items, when))
    if isinstance(submission, NoticeChoice | FeedRequest):
        return family_choices.evaluate(base, state, person, family, submission)
    assert isinstance(submission, ConsentChoice)
    return _consent(envelope, state, person, family.children, submission)


def _own_child(roster: Roster, children: tuple[str, ...], child: str) -> None:
    if child in children:
        return
    if child in roster.children:
        raise Rejected(f"kind '{child}' hoort niet bij dit gezin")
    raise Rejected(f"onbekend kind '{child}'")


def _consent(envelope: Received, state: _State, parent: Parent, children: tuple[str, ...],
             choice: ConsentChoice) -> dict:
    roster = state.roster
    _own_child(roster, children, choice.child)
    if choice.child not in parent.children:
        raise Rejected(f"beeldgebruik: {parent.id} staat niet als ouder van '{choice.child}' in de "
                       "roster (alleen ouders van het kind beslissen)")
    linked = [p.id for p in roster.parents_of(choice.child)]
    current = state.effective(choice.child)
    outcome = consent.decide(current, choice.choice, parent.id,
                             consent.recorded_choices(state.private, choice.child, current), linked)
    when = envelope.received_at
    effect = state.consent_effect(envelope.id, choice.child, outcome, parent.id, envelope.family,
                                  when)
    items = notices.consent_notices(roster, state.settings, roster.children[choice.child], outcome,
                                    by_school=False)
    if outcome.new == outcome.old and not outcome.pending:  # nothing changed: tell the sender only
        items = [n for n in items if n.to == parent.email]
    return {"id": envelope.id, "envelope": envelope.to_json(), "person": parent.id,
            "received_at": when.isoformat(), "kind": "beeldgebruik",
            "data": {"kind": choice.child, "keuze": choice.choice.value, "oud": outcome.old.value,
                     "nieuw": outcome.new.value, "wacht": outcome.pending},
            "consent": effect, "urgent": outcome.narrowed,
            "mails": state.mails(envelope.id, items, when)}
