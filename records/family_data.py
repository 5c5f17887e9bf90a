"""A family's own data (AVG): everything the school keeps about them, to hand over or to erase.

What the platform keeps about a family, and where:
- roster rows: roster/ouders.csv and leerlingen.csv, and the frozen copies of
  past years in roster/archief/<year>/ (with lezers.csv);
- logins: private/accounts.csv (bcrypt hashes only);
- the family page: content/gezin/<id>/ (staff posts), or private/vertrokken/gezin/<id>/
  after the family left (records.rollover);
- the postvak (private/postvak/): the journal of what they sent (absences,
  messages, consent choices) with the mails it caused, quarantine, the inbox,
  the page's thread (gezinnen/<id>.json) and the consent trail
  (beeldgebruik-audit.csv);
- photos: the published copies in which their children are tagged (the build's
  photo audit says which), and the audits themselves.

All reading of the postvak's files goes through the postvak's own helpers
(postvak.store, postvak.thread, postvak.consent), here and nowhere else in
this package; the bytes parents sent are read only by postvak.thread, through
the postvak's one bounded parser (postvak.parentjson). What this module takes
from the journal is what processing wrote after validating it.

`export` writes one zip for the family's parents (`invoke inzage`); it holds
nothing about another family beyond what this family may read on the site
today. `forget` erases a family that left (`invoke vergeet`, and the
retention sweep) and leaves one line without personal data in
private/vergeten.csv.
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
import shutil
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from plugins import archive
from plugins.errors import Problem, SchoolpleinError
from plugins.roster import FILES, Roster, load_roster
from plugins.sections import SectionMap
from plugins.settings import Settings

from .rollover import PARKED

ERASED_LOG = "vergeten.csv"
FORGOTTEN = "vergeten"  # who a revoked login link was issued to, once erased
LETTER = '<section class="letter">'  # one printed page per person (both kinds of letters)
OTHER_HOUSEHOLD = "ander huishouden"


@dataclass(frozen=True)
class Known:
    """Where a family is known: today's roster and/or past years' frozen ones."""

    family: str
    current: Roster | None  # today's roster, when the family is in it
    years: tuple[archive.Archive, ...]  # kept or expired archives that hold the family

    roster: Roster  # the newest roster that holds the family (names, the thread), else today's

    def _members(self, attr: str) -> set[str]:
        rosters = [y.roster for y in self.years] + ([self.current] if self.current else [])
        return {m for r in rosters for m in getattr(r.families[self.family], attr)}

    @property
    def parents(self) -> set[str]:
        return self._members("parents")

    @property
    def children(self) -> set[str]:
        return self._members("children")


def find(cfg: Settings, family: str, archives: archive.Archives | None = None) -> Known:
    roster = load_roster(cfg.roster)
    archives = archives or archive.load_archives(cfg.roster, cfg.retention_months)
    years = tuple(a for a in (*archives.expired, *archives.live) if family in a.roster.families)
    years = tuple(sorted(years, key=lambda a: a.year))
    current = roster if family in roster.families else None
    newest = current or (years[-1].roster if years else roster)
    known = Known(family, current, years, newest)
    if current is None and not years and not family_folders(cfg, family) \
            and not other_postvak_files(cfg, family) and not postvak_records(cfg, known):
        raise SchoolpleinError(Problem(
            "invoke", None, f"onbekend gezin '{family}'",
            "gebruik het gezin-id uit roster/ouders.csv (kolom gezin) of uit een archiefjaar in "
            "roster/archief/"))
    return known


def family_folders(cfg: Settings, family: str) -> list[Path]:
    return [p for p in (cfg.content / "gezin" / family, cfg.private / PARKED / family)
            if p.is_dir()]


# --- reading the postvak (the one place in records) ---------------------------------------------

def postvak_records(cfg: Settings, known: Known) -> list[dict]:
    """Journal records of this family: what its parents sent, and the school's decisions
    about its children."""
    from postvak import store
    from postvak.leave import DECISION_KIND
    from postvak.process import ADMIN_KIND

    found = []
    theirs: set[str] = set()
    for record in store.journal(cfg.private):
        if record["kind"] == ADMIN_KIND:
            if record["data"]["kind"] in known.children:
                found.append(record)
        elif record["kind"] == DECISION_KIND:  # the directie's answer to their leave request
            if record["data"]["aanvraag"] in theirs:
                found.append(record)
        elif record["envelope"] and record["envelope"]["family"] == known.family:
            found.append(record)
            theirs.add(record["id"])
    return found


def signup_rows(cfg: Settings, known: Known) -> tuple[list[list[str]], list[list[str]]]:
    """(sign-ups and bookings as they stand, leave requests with the decision), as the
    family page shows them: a shared child's booking or leave request by the other household
    is there without that household's parent or note."""
    from plugins.signups import all_declared
    from postvak import store
    from postvak.signup_notices import slot_id_text
    from postvak.signups import Ledger

    records = {r["id"]: r for r in store.journal(cfg.private)}
    book = Ledger.from_journal(cfg.private)
    declared = all_declared(cfg.content, known.roster)[0] if cfg.content.is_dir() else {}
    names = {c.id: c.first_name for c in known.roster.children.values()}
    parents = {p.id: p.name for p in known.roster.parents.values()}

    def label(key: str, record_id: str) -> str:
        data = records.get(record_id, {}).get("data") or {}
        return data.get("label") or key.rsplit("/", 1)[-1]

    signups = []
    for key, people in sorted(book.volunteers.items()):
        places = declared[key].places if key in declared else len(people)
        for n, person in enumerate(people):
            if person["gezin"] == known.family:
                status = "aangemeld" if n < places else f"wachtlijst (plek {n + 1 - places})"
                signups.append(["hulpouder", label(key, person["id"]),
                                parents.get(person["ouder"], person["ouder"]), "", status,
                                person["at"]])
    for key, slots in sorted(book.bookings.items()):
        for slot, booking in sorted(slots.items()):
            if booking["kind"] in known.children:
                signups.append(["gesprek", label(key, booking["id"]), "",
                                names.get(booking["kind"], booking["kind"]),
                                f"geboekt: {slot_id_text(slot)}", booking["at"]])
    leave = []
    for request in sorted(book.leave.values(), key=lambda r: r["at"]):
        if request["kind"] not in known.children:
            continue
        own = request["gezin"] == known.family
        leave.append([names.get(request["kind"], request["kind"]), request["van"], request["tot"],
                      request["reden"], request["toelichting"] if own else OTHER_HOUSEHOLD,
                      request["at"], request["besluit"] or "open", request.get("door", ""),
                      request.get("notitie", ""), request.get("besloten", "")])
    return signups, leave


def thread(cfg: Settings, known: Known):
    from postvak.thread import family_thread

    return family_thread(cfg.private, known.roster, known.family)


def consent_rows(cfg: Settings, known: Known) -> list[dict[str, str]]:
    """Consent trail lines about the family's children; another household's parent is not named."""
    from postvak.consent import read_audit

    rows = []
    for row in read_audit(cfg.private):
        if row["kind"] in known.children:
            if row["gezin"] != known.family and not row["door"].startswith("school:"):
                row = dict(row, door=OTHER_HOUSEHOLD, gezin=OTHER_HOUSEHOLD, inzending="")
            rows.append(row)
    return rows


def other_postvak_files(cfg: Settings, family: str) -> list[Path]:
    """Quarantined and unprocessed submissions to the family's postvak."""
    from postvak import store

    quarantined = store.folder(cfg.private, store.QUARANTINE)
    inbox = store.folder(cfg.private, store.INBOX)
    files = [quarantined / f"{q.name}.json" for q in store.quarantine_list(cfg.private)
             if q.family == family]
    files += [inbox / f"{r.id}.json" for r in store.inbox(cfg.private) if r.family == family]
    return files


# --- inzage -------------------------------------------------------------------------------------

def _csv(header: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(list(header))
    writer.writerows(rows)
    return out.getvalue()


def _roster_rows(roster: Roster, known: Known) -> dict[str, str]:
    parents = [p for p in roster.parents.values() if p.family == known.family]
    kids = {k for p in parents for k in p.children}
    children = [c for c in roster.children.values() if c.id in kids]
    return {
        FILES["parents"][0]: _csv(FILES["parents"][1], ([p.id, p.name, p.email, p.family,
                                                         ";".join(p.children)] for p in parents)),
        FILES["children"][0]: _csv(FILES["children"][1], (
            [c.id, c.first_name, c.last_name, c.group, c.consent.value if c.consent else ""]
            for c in children)),
    }


def readable_photos(cfg: Settings, sections: SectionMap, known: Known) -> list[tuple[str, Path]]:
    """(URL, file) of each published photo of the family's children that one of its parents
    may open on the site today; the largest JPEG of each."""
    audits = sorted(cfg.audit.glob("fotos-*.json"))
    if not audits:
        return []
    report = json.loads(audits[-1].read_text(encoding="utf-8"))
    parents = known.parents
    found = []
    for photo in report.get("fotos", []):
        if not photo.get("published") or not set(photo.get("children", ())) & known.children:
            continue
        jpegs = [u for u in photo.get("outputs", ()) if u.endswith(".jpg")]
        if not jpegs:
            continue
        url = max(jpegs, key=lambda u: int(u.rsplit("-", 1)[-1].split(".")[0] or 0))
        section = sections.for_path(url)
        path = cfg.output / url.lstrip("/")
        if section.protected and parents & section.readers and path.is_file():
            found.append((url, path))
    return found


def export(cfg: Settings, family: str, sections: SectionMap, out: Path | None = None) -> Path:
    """One zip for the family's parents with a Dutch cover letter (brief.txt)."""
    known = find(cfg, family)
    files: dict[str, bytes] = {}
    contents: list[str] = []
    if known.current:
        for name, text in _roster_rows(known.current, known).items():
            files[f"rooster/{name}"] = text.encode()
        contents.append("rooster/: uw gegevens en die van uw kinderen in de leerlingenlijst van "
                        "dit schooljaar")
    for year in known.years:
        for name, text in _roster_rows(year.roster, known).items():
            files[f"rooster/archief-{year.year}/{name}"] = text.encode()
        contents.append(f"rooster/archief-{year.year}/: dezelfde gegevens zoals ze waren aan het "
                        f"eind van schooljaar {year.year} (bewaard tot en met {year.until})")
    consent = consent_rows(cfg, known)
    from postvak.consent import AUDIT_FIELDS

    files["beeldgebruik.csv"] = _csv(AUDIT_FIELDS, ([r[k] for k in AUDIT_FIELDS]
                                                    for r in consent)).encode()
    contents.append(f"beeldgebruik.csv: elke keuze en elk besluit over foto's van uw kinderen "
                    f"({len(consent)} regels; keuzes van een ander huishouden zonder naam)")
    items = thread(cfg, known)
    files["gesprek.txt"] = "\n\n".join(
        f"{i.at:%d-%m-%Y %H:%M} {i.sender}: {i.summary} [{i.status}]" + (f"\n{i.text}" if i.text
                                                                         else "")
        for i in items).encode()
    posts = 0
    for folder in family_folders(cfg, family):
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                files[f"berichten-van-school/{path.relative_to(folder)}"] = path.read_bytes()
                posts += path.suffix == ".md"
    contents.append(f"gesprek.txt: wat u via uw gezinspagina stuurde, met de status ({len(items)} "
                    "items)")
    contents.append(f"berichten-van-school/: de berichten van de school op uw gezinspagina "
                    f"({posts})")
    records = postvak_records(cfg, known)
    absences = [r for r in records if r["kind"] == "afwezigheid"]
    names = {c.id: c.first_name for c in known.roster.children.values()}
    files["afwezigheid.csv"] = _csv(
        ("kind", "van", "tot", "reden", "toelichting", "na_0830", "ontvangen"),
        ([names.get(r["data"]["kind"], r["data"]["kind"]), r["data"]["van"], r["data"]["tot"],
          r["data"]["reden"], r["data"]["toelichting"], "ja" if r["data"]["te_laat"] else "nee",
          r["received_at"]] for r in absences)).encode()
    contents.append(f"afwezigheid.csv: de afwezigheidsmeldingen ({len(absences)})")
    signups, leave = signup_rows(cfg, known)
    files["inschrijvingen.csv"] = _csv(("soort", "wat", "ouder", "kind", "status", "sinds"),
                                       signups).encode()
    contents.append(f"inschrijvingen.csv: uw aanmeldingen als hulpouder en de geboekte "
                    f"oudergesprekken van uw kinderen, zoals ze nu staan ({len(signups)})")
    files["verlof.csv"] = _csv(("kind", "van", "tot", "reden", "toelichting", "ontvangen",
                                "besluit", "door", "notitie", "besloten"), leave).encode()
    contents.append(f"verlof.csv: de verlofaanvragen voor uw kinderen met het besluit van de "
                    f"directie ({len(leave)})")
    photos = readable_photos(cfg, sections, known)
    for url, path in photos:
        files[f"fotos/{url.strip('/').replace('/', '_')}"] = path.read_bytes()
    contents.append(f"fotos/: de gepubliceerde foto's waarop uw kinderen staan en die u nu op het "
                    f"ouderplatform kunt openen ({len(photos)})")
    letter = [
        f"Inzage in uw gegevens bij {cfg.school_name}",
        "",
        "Beste ouder/verzorger,",
        "",
        "U vroeg welke gegevens de school via het ouderplatform over uw gezin bewaart. In dit "
        "bestand zit alles wat het platform over u en uw kinderen bewaart:",
        "",
        *(f"- {line}" for line in contents),
        "",
        "Foto's: alleen foto's die u vandaag zelf op het platform kunt openen (de groep van uw "
        "kind, het schoolnieuws, uw gezinspagina of het archief van vorig jaar). Andere foto's "
        "tonen ook andere kinderen, die wij alleen aan hun eigen groep laten zien.",
        "Wachtwoorden bewaart het platform niet leesbaar; ze staan hier dus niet in.",
        "",
        f"Vragen? Mail de directie: {cfg.directie_email}.",
        "",
        f"Gemaakt op {datetime.now():%d-%m-%Y}.",
    ]
    files["brief.txt"] = "\n".join(letter).encode()
    target = out or cfg.private / "inzage" / f"inzage-{family}-{datetime.now():%Y%m%d}.zip"
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = target.with_name(target.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in ["brief.txt", *sorted(n for n in files if n != "brief.txt")]:
            zf.writestr(name, files[name])
    os.chmod(tmp, 0o600)
    os.replace(tmp, target)
    return target


# --- vergeet ------------------------------------------------------------------------------------

def forget(cfg: Settings, family: str, *, reason: str = "op verzoek", now: bool = False,
           archives: archive.Archives | None = None) -> dict[str, int]:
    """Erase a family that left, everywhere; one line without personal data stays.

    Refused while the family is in today's roster, and (unless `now`: the family
    asked) while one of its parents may still read a kept archive.
    """
    from postvak import store

    archives = archives or archive.load_archives(cfg.roster, cfg.retention_months)
    known = find(cfg, family, archives)
    if known.current:
        raise SchoolpleinError(Problem(
            "roster/ouders.csv", None, f"gezin '{family}' staat nog in het rooster",
            "haal het gezin eerst uit ouders.csv en leerlingen.csv (of bij de jaarwissel met "
            "'invoke schooljaar'); vergeten is voor gezinnen die vertrokken zijn"))
    reading = [a for a in archives.live if a in known.years
               and known.parents & frozenset().union(*a.readers.values())]
    if reading and not now:
        raise SchoolpleinError(Problem(
            "invoke vergeet", None, f"gezin '{family}' leest nog het archief van "
            f"{reading[-1].year} (bewaard tot en met {reading[-1].until})",
            "wacht tot de bewaartermijn voorbij is (de publicatie daarna wist het gezin vanzelf), "
            "of gebruik --nu als het gezin zelf vraagt om vergeten te worden"))
    with store.locked(cfg.private):  # no postvak round rewrites the thread meanwhile
        counts = _erase(cfg, known)
    _log(cfg, reason, counts)
    return counts


def _erase(cfg: Settings, known: Known) -> dict[str, int]:
    from postvak import store
    from publish import accounts

    family = known.family
    counts = {"ouders": len(known.parents), "kinderen": 0, "archiefjaren": len(known.years)}
    for year in known.years:
        counts["kinderen"] += _erase_from_archive(archive.folder(cfg.roster, year.year),
                                                  year.roster, known)
    kept = accounts.load_accounts(cfg.private)
    gone = [pid for pid in kept if pid in known.parents]
    for pid in gone:
        del kept[pid]
    accounts._save(cfg.private, kept)
    counts["accounts"] = len(gone)
    counts["gezinspagina"] = 0
    for folder in family_folders(cfg, family):
        shutil.rmtree(folder)
        counts["gezinspagina"] += 1
    records = postvak_records(cfg, known)
    mails = [m["id"] for r in records for m in r.get("mails", ())]
    paths = [store.journal_path(cfg.private, r["id"]) for r in records]
    paths += [store.root(cfg.private) / store.APPLIED / r["id"] for r in records]
    paths += [store.root(cfg.private) / store.URGENT / f"{r['id']}.json" for r in records]
    paths += [store.root(cfg.private) / box / f"{m}.eml" for m in mails
              for box in (store.OUTBOX, store.SENT, store.FAILED)]
    paths += [Path(cfg.private) / "mail" / f"{m}.eml" for m in mails]
    paths += other_postvak_files(cfg, family)
    from plugins.family_threads import thread_file

    paths.append(thread_file(cfg.private, family))
    counts["postvak"] = sum(1 for p in paths if p.exists())
    for path in paths:
        store.remove(path)
    counts["inschrijvingen"] = _erase_signups(cfg, known, {r["id"] for r in records})
    counts["beeldgebruik"] = _erase_consent_trail(cfg, known)
    counts["fotoverslagen"] = _erase_photo_audits(cfg, known.children)
    counts["brieven"] = _erase_letters(cfg, known)
    return counts


def _logins(known: Known) -> set[str]:
    rosters = [y.roster for y in known.years] + ([known.current] if known.current else [])
    return {r.parents[p].email for r in rosters for p in known.parents if p in r.parents}


def _erase_letters(cfg: Settings, known: Known) -> int:
    """The printed letters: the family's pages go from each letters file (a file with no page
    left goes), its CloudFront letter goes, and its login links are revoked under no name."""
    from publish.targets.cloudfront.revocation import REGISTRY_NAME, LinkRegistry

    needles = {f"/gezin/{known.family}/", *(html.escape(e) for e in _logins(known))}
    gone = 0
    for path in sorted((Path(cfg.private) / "letters").glob("*.html")):
        head, *blocks = path.read_text(encoding="utf-8").removesuffix("</html>").split(LETTER)
        kept = [b for b in blocks if not any(n in b for n in needles)]
        if len(kept) == len(blocks):
            continue
        gone += len(blocks) - len(kept)
        if not kept:
            path.unlink()
            continue
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(head + "".join(LETTER + b for b in kept) + "</html>", encoding="utf-8")
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    gone += _erase_cloudfront_letters(Path(cfg.private) / "brieven-cloudfront", known)
    if (Path(cfg.private) / REGISTRY_NAME).exists():
        registry = LinkRegistry.load(cfg.private)
        for pid in known.parents:  # their seconds stay on the deny-list, without their id
            registry.revoke(pid)
            registry.issued.pop(pid, None)
        registry.revoked = {e: FORGOTTEN if p in known.parents else p
                            for e, p in registry.revoked.items()}
        page, nameless = f"/gezin/{known.family}/", f"/gezin/{FORGOTTEN}/"
        for pid, paths in registry.access.items():  # teachers' links opened the family page:
            if page in paths:  # still a narrowing at the next publish, but without the id
                registry.access[pid] = sorted({nameless if p == page else p for p in paths})
        registry.save()
    return gone


def _erase_cloudfront_letters(folder: Path, known: Known) -> int:
    """Each parent's own letter (`brief-<id>.html`) and their pages in the print file of that
    run (publish.targets.cloudfront.links: the same page, rendered once for both)."""
    from publish.targets.cloudfront.links import PRINT_FILE

    pages = []
    for pid in sorted(known.parents):
        own = folder / f"brief-{pid}.html"
        if own.exists():
            text = own.read_text(encoding="utf-8")
            pages += [LETTER + b.split("</section>", 1)[0] + "</section>"
                      for b in text.split(LETTER)[1:]]
            own.unlink()
    together = folder / PRINT_FILE
    if pages and together.exists():
        text = together.read_text(encoding="utf-8")
        for page in pages:
            text = text.replace(page, "")
        if LETTER in text:
            tmp = together.with_name(f".{together.name}.tmp")
            tmp.write_text(text, encoding="utf-8")
            os.chmod(tmp, 0o600)
            os.replace(tmp, together)
        else:
            together.unlink()
    return len(pages)


def _erase_from_archive(folder: Path, frozen: Roster, known: Known) -> int:
    """Drop the family's parents (and children no other parent there still names)."""
    family = frozen.families[known.family]
    parents = set(family.parents)
    still_named = {k for p in frozen.parents.values() if p.id not in parents for k in p.children}
    children = set(family.children) - still_named

    def rewrite(name: str, keep) -> None:
        path = folder / name
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
        kept = [rows[0], *(r for r in rows[1:] if keep(r))]
        tmp = path.with_name(f".{name}.tmp")
        with tmp.open("w", encoding="utf-8", newline="") as fh:
            csv.writer(fh, lineterminator="\n").writerows(kept)
        os.replace(tmp, path)

    rewrite(FILES["parents"][0], lambda r: r[0] not in parents)
    rewrite(FILES["children"][0], lambda r: r[0] not in children)
    if any(len(frozen.households_of(c)) > 1 for c in family.children):  # the other household
        _drop_household(folder / FILES["children"][0], known.family)
    rewrite(archive.READERS_FILE, lambda r: r[1] not in parents)
    return len(children)


def _drop_household(path: Path, family: str) -> None:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    if "gezinnen" not in rows[0]:
        return
    col = rows[0].index("gezinnen")
    for row in rows[1:]:
        row[col] = ";".join(f for f in row[col].split(";") if f.strip() and f.strip() != family)
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    os.replace(tmp, path)


def _erase_photo_audits(cfg: Settings, children: set[str]) -> int:
    """Photo audits that name one of the children (the next build writes a fresh one)."""
    gone = 0
    for path in sorted(cfg.audit.glob("fotos-*")):
        text = path.read_text(encoding="utf-8", errors="replace")
        if any(f'"{c}"' in text or f"→ {c}" in text for c in children):
            path.unlink()
            gone += 1
    return gone


def _erase_signups(cfg: Settings, known: Known, erased: set[str]) -> int:
    """What the pages and feeds still hold of the erased records: the sign-up state the build
    reads, the leave audit's lines and the family's own calendar events. Call after the
    journal records are gone."""
    from plugins.booking_events import section_name
    from plugins.calendar_feeds import read_state, save_state
    from postvak import store
    from postvak.leave import AUDIT, AUDIT_FIELDS
    from postvak.signups import state_change

    gone = 0
    changed = state_change(cfg.private)  # the journal without the family's records
    if changed is not None:
        path, data = changed
        store.write_file(path, data)
        gone += 1
    audit = store.root(cfg.private) / AUDIT
    if audit.exists():
        with audit.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        kept = [r for r in rows if r["aanvraag"] not in erased]
        if len(kept) != len(rows):
            gone += len(rows) - len(kept)
            tmp = audit.with_name(audit.name + ".tmp")
            tmp.write_text(_csv(AUDIT_FIELDS, ([r[k] for k in AUDIT_FIELDS] for r in kept)),
                           encoding="utf-8")
            os.chmod(tmp, 0o600)
            os.replace(tmp, audit)
    feeds = read_state(cfg.private)
    own = f"{section_name(known.family)}/"
    mine = [uid for uid in feeds["events"] if uid.startswith(own)]
    if mine:
        for uid in mine:
            del feeds["events"][uid]
        save_state(cfg.private, feeds)
        gone += len(mine)
    return gone


def _erase_consent_trail(cfg: Settings, known: Known) -> int:
    from postvak.consent import AUDIT_FIELDS, audit_path, read_audit

    rows = read_audit(cfg.private)
    kept = [r for r in rows if r["kind"] not in known.children and r["gezin"] != known.family]
    if len(kept) == len(rows):
        return 0
    path = audit_path(cfg.private)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(_csv(AUDIT_FIELDS, ([r[k] for k in AUDIT_FIELDS] for r in kept)),
                   encoding="utf-8")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return len(rows) - len(kept)


def _log(cfg: Settings, reason: str, counts: dict[str, int]) -> None:
    """One line per erasure: when, why and how much; no id, no name."""
    path = Path(cfg.private) / ERASED_LOG
    new = not path.exists()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with path.open("a", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        if new:
            writer.writerow(("tijd", "reden", "gewist"))
        writer.writerow((datetime.now().astimezone().isoformat(timespec="seconds"), reason,
                         " ".join(f"{k}={v}" for k, v in counts.items())))
