"""The staff postvak: what teachers post from the phone, turned into posts exactly once.

The editor (/team/<staff-id>/nieuw/) PUTs the photos of one post and then a
manifest naming each file with its SHA-256 to /team/postvak/<uuid>/<file>.
The collectors hand each file to `intake_file`; `process` takes a submission
only when it is complete (every file the manifest names is there with that
hash), checks it against the roster and content, writes one journal record
and applies it: the post folder under content/ (postvak.teampost), committed
to git with the teacher as author. The admin task then builds and publishes
once, and `published` marks what went out (the team page says *geplaatst*).

    private/postvak/team/
      binnen/<uuid>/<sha256>         received files, by content
      binnen/<uuid>/bestanden.jsonl  one line per received file: name, sha256, login, time
      journaal/<uuid>.json           the decision: what to write, commit, mail
      toegepast/<uuid>               applied (committed); geplaatst/<uuid>: published
      quarantaine/<uuid>.json        not taken, with the Dutch reason the teacher sees
      quarantaine/<uuid>/            its files, deleted after KEEP_QUARANTINE
      spoed/<uuid>.json              photos removed but not yet published
      werk/<uuid>/                   the post as it was, while a commit runs
      status/<staff-id>.json         what the team page shows (plugins.team_pages)
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from plugins import team_pages
from plugins.errors import Problem, SchoolpleinError
from plugins.photos.settings import FOTOS_TXT, XMP_SUFFIX
from plugins.roster import Role, Roster, Staff, load_roster
from plugins.sections import ROOTS, build_section_map, posting_sections
from plugins.settings import SCHOOL_TZ

from . import store, teampost
from .households import person_for_login
from .mail import Mail, deliver, mail_id, to_eml
from .messages import is_submission_id
from .settings import PostvakSettings
from .teampost import PhotoTagging

ROOT = Path("postvak", "team")
MANIFEST = "manifest.json"
FILE_RE = re.compile(r"^(manifest\.json|foto-(0[1-9]|[12][0-9]|30)\.jpg)\Z")  # = servers'
MAX_FILE = 8 * 1024 * 1024  # = servers.TEAM_MAX_FILE
MAX_PHOTOS = 30
MAX_MANIFEST = 256 * 1024
MAX_TITLE = 120
MAX_TEXT = 20_000
MAX_ANSWER = 5_000
MAX_PIXELS = 40_000_000
INCOMPLETE_AFTER = timedelta(minutes=30)  # then an incomplete submission is quarantined
KEEP_QUARANTINE = timedelta(days=14)  # then a quarantined submission's photos are deleted
KINDS = ("bericht", "wijziging", "verwijderen", "antwoord")
SHA_RE = re.compile(r"^[0-9a-f]{64}\Z")
KEY_RE = re.compile(r"^(school|groep/[a-z0-9-]+)/[A-Za-z0-9._-]+\Z")


class Refused(Exception):
    """Why a submission is not taken (Dutch, shown to the teacher on the team page)."""


@dataclass(frozen=True)
class TeamFile:
    """One PUT as the server stored it; the collectors build these."""

    submission: str  # the uuid from the path
    name: str  # manifest.json or foto-NN.jpg
    sender: str  # the login the server checked (never from the body)
    received_at: datetime
    body: bytes
    origin: str


@dataclass(frozen=True)
class TeamSettings:
    postvak: PostvakSettings
    content: Path
    git: bool = True  # commit each post (the demo writes the files only)
    min_children: int = 3

    @property
    def private(self) -> Path:
        return self.postvak.private


@dataclass
class TeamSummary:
    applied: list[str] = field(default_factory=list)
    quarantined: list[tuple[str, str]] = field(default_factory=list)  # (id, reason)
    waiting: list[str] = field(default_factory=list)  # incomplete, kept for the next round
    stuck: list[str] = field(default_factory=list)  # journaled, not applied (git failed)
    urgent: list[str] = field(default_factory=list)  # photo removals not yet published
    notes: list[str] = field(default_factory=list)

    def text(self) -> str:
        lines = [f"Teampostvak: {len(self.applied)} geplaatst in content/, "
                 f"{len(self.quarantined)} niet geplaatst, {len(self.waiting)} wachten op de rest."]
        lines += [f"  niet geplaatst: {i}: {r}" for i, r in self.quarantined]
        lines += [f"  NIET TOEGEPAST: {s}" for s in self.stuck]
        lines += [f"  SPOED: {u}: publiceer opnieuw" for u in self.urgent]
        lines += [f"  {n}" for n in self.notes]
        return "\n".join(lines)

    @property
    def anything(self) -> bool:
        return bool(self.applied or self.quarantined or self.stuck)


def folder(private: Path, name: str) -> Path:
    path = Path(private) / ROOT / name
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- intake -----------------------------------------------------------------------------------

def _entries(sub: Path) -> list[dict]:
    path = sub / "bestanden.jsonl"
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def intake_file(received: TeamFile, private: Path) -> None:
    """Store one received file durably; only then may the collector delete its copy."""
    with store.locked(private):
        _intake(received, Path(private))


def _intake(received: TeamFile, private: Path) -> None:
    ident, name = received.submission, received.name
    digest = _sha(received.body)
    line = {"name": name, "sha256": digest, "sender": received.sender,
            "at": received.received_at.isoformat(), "origin": received.origin,
            "size": len(received.body)}
    if not is_submission_id(ident) or not FILE_RE.match(name) or len(received.body) > MAX_FILE:
        _quarantine_late(private, received, digest, "geen bestand van het teampostvak "
                         f"({name[:60]}, {len(received.body)} bytes)")
        return
    if (folder(private, "journaal") / f"{ident}.json").exists() or (
            folder(private, "quarantaine") / f"{ident}.json").exists():
        if not _known(private, ident, name, digest):
            _quarantine_late(private, received, digest,
                             "al ontvangen: deze inzending was al verwerkt")
        return  # a retried PUT of what was taken: nothing to do
    sub = folder(private, "binnen") / ident
    sub.mkdir(exist_ok=True, mode=0o700)
    if any(e["name"] == name and e["sha256"] == digest and e["sender"] == received.sender
           for e in _entries(sub)):
        return  # the same file twice (a double tap, a collector that retried)
    store.write_file(sub / digest, received.body, exclusive=True)
    with (sub / "bestanden.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(line, sort_keys=True) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def _known(private: Path, ident: str, name: str, digest: str) -> bool:
    record = folder(private, "journaal") / f"{ident}.json"
    if record.exists():
        known = store.read_json(record)
        return digest in known.get("hashes", {}).values() or digest == known.get("manifest")
    return True  # quarantined: what else arrives is not taken either


def _quarantine_late(private: Path, received: TeamFile, digest: str, reason: str) -> None:
    name = f"laat-{digest[:20]}"
    path = folder(private, "quarantaine") / f"{name}.json"
    store.write_json(path, {"id": received.submission[:60], "sender": received.sender,
                            "reason": reason, "at": received.received_at.isoformat(),
                            "quarantined_at": datetime.now(UTC).isoformat(), "title": "",
                            "section": "", "late": True}, exclusive=True)


# --- processing -------------------------------------------------------------------------------

def process(settings: TeamSettings, now: datetime | None = None) -> TeamSummary:
    """Take every complete submission (in the order the manifests arrived) exactly once."""
    private = settings.private
    now = now or datetime.now(UTC)
    summary = TeamSummary()
    with store.locked(private):
        roster = load_roster(settings.postvak.roster)
        for record in _unapplied(private):  # a killed or failed run left it: finish it first
            _apply_or_stick(settings, record, summary)
        for sub in _inbox(private):
            try:
                record = _evaluate(settings, roster, sub, now)
            except Exception as exc:  # a bug must not stop the queue: kept, with the reason
                reason = str(exc) if isinstance(exc, Refused) else (
                    f"interne fout ({type(exc).__name__}); meld dit aan de beheerder")
                _quarantine(private, sub, reason, roster)
                summary.quarantined.append((sub.name, reason))
                continue
            if record is None:
                summary.waiting.append(sub.name)
                continue
            store.write_json(folder(private, "journaal") / f"{record['id']}.json", record,
                             exclusive=True)
            _apply_or_stick(settings, record, summary)
        _prune_quarantine(private, now)
        summary.urgent = [store.read_json(p)["what"]
                          for p in sorted(folder(private, "spoed").glob("*.json"))]
        export_status(settings, roster)
    deliver(settings.postvak)
    return summary


def _inbox(private: Path) -> list[Path]:
    subs = [p for p in folder(private, "binnen").iterdir() if p.is_dir()]

    def first(sub: Path) -> str:
        entries = _entries(sub)
        manifests = [e["at"] for e in entries if e["name"] == MANIFEST]
        return min(manifests or [e["at"] for e in entries] or ["9999"])

    return sorted(subs, key=lambda s: (first(s), s.name))


def _unapplied(private: Path) -> list[dict]:
    done = {p.name for p in folder(private, "toegepast").iterdir()}
    records = [store.read_json(p) for p in folder(private, "journaal").glob("*.json")
               if p.stem not in done]
    return sorted(records, key=lambda r: r["at"])


def _apply_or_stick(settings: TeamSettings, record: dict, summary: TeamSummary) -> None:
    try:
        apply(settings, record)
    except SchoolpleinError as exc:
        summary.stuck.append(f"{record['id']} ({record['title']}): {exc.render()}")
        return
    summary.applied.append(record["id"])
    if not settings.git:
        summary.notes.append(f"{record['id']}: niet in git vastgelegd (zonder git, zoals de demo)")


def _age(entries: list[dict], now: datetime) -> timedelta:
    return now - min(datetime.fromisoformat(e["at"]) for e in entries)


def _evaluate(settings: TeamSettings, roster: Roster, sub: Path, now: datetime) -> dict | None:
    """The journal record of a complete submission; None while it is incomplete; or Refused."""
    ident = sub.name
    entries = _entries(sub)
    if not entries:
        raise Refused("leeg: er kwam geen bestand aan")
    late = _age(entries, now) > INCOMPLETE_AFTER
    manifests = [e for e in entries if e["name"] == MANIFEST]
    if not manifests:
        if late:
            raise Refused("onvolledig: het laatste deel (het manifest) kwam niet aan; "
                          "plaats het bericht opnieuw")
        return None
    if len({e["sha256"] for e in manifests}) > 1:
        raise Refused("twee verschillende versies van dit bericht onder één nummer")
    manifest = _manifest((sub / manifests[0]["sha256"]).read_bytes())
    senders = {e["sender"] for e in entries}
    if len(senders) != 1:
        raise Refused("de bestanden kwamen van verschillende logins")
    person = person_for_login(roster, manifests[0]["sender"])
    if not isinstance(person, Staff):
        raise Refused("ingestuurd door iemand die geen medewerker is")
    files: dict[str, str] = {}
    for photo in manifest["fotos"]:
        have = [e for e in entries if e["name"] == photo["bestand"]]
        match = [e for e in have if e["sha256"] == photo["sha256"]]
        if not match:
            if late:
                what = "kwam anders aan dan verstuurd" if have else "kwam niet aan"
                raise Refused(f"onvolledig: {photo['bestand']} {what}; plaats het bericht opnieuw")
            return None
        files[photo["bestand"]] = photo["sha256"]
    frames = {name: _check_photo(name, (sub / digest).read_bytes())
              for name, digest in files.items()}
    for photo in manifest["fotos"]:  # the taps are fractions of the file that arrived
        photo["_frame"] = frames[photo["bestand"]]
    base = {"id": ident, "kind": manifest["soort"], "staff": person.id,
            "author": f"{person.name} <{person.email}>", "name": person.name,
            "at": manifests[0]["at"], "processed_at": now.isoformat(), "hashes": files,
            "manifest": manifests[0]["sha256"],
            "urgent": False, "mails": []}
    kind = manifest["soort"]
    if kind == "bericht":
        return _new_post(settings, roster, person, manifest, base)
    if kind == "antwoord":
        return _answer(settings, roster, person, manifest, base)
    return _change(settings, roster, person, manifest, base)


def _manifest(data: bytes) -> dict:
    if len(data) > MAX_MANIFEST:
        raise Refused(f"tekst te lang (hoogstens {MAX_TEXT} tekens)")
    try:
        m = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise Refused("het bericht is onleesbaar aangekomen (geen geldig manifest)") from None
    if not isinstance(m, dict) or m.get("v") != 1 or m.get("soort") not in KINDS:
        raise Refused("het bericht is onleesbaar aangekomen (onbekende soort of versie)")
    for key, kind in (("titel", str), ("tekst", str), ("sectie", str), ("bericht", str),
                      ("versie", str), ("gezin", str), ("fotos", list), ("verwijder", list)):
        if key in m and not isinstance(m[key], kind):
            raise Refused(f"het bericht is onleesbaar aangekomen ({key})")
    m.setdefault("fotos", [])
    m.setdefault("verwijder", [])
    if len(m["fotos"]) > MAX_PHOTOS:
        raise Refused(f"te veel foto's: {len(m['fotos'])} (hoogstens {MAX_PHOTOS} per bericht)")
    if len(m.get("tekst", "")) > MAX_TEXT:
        raise Refused(f"tekst te lang: {len(m['tekst'])} tekens (hoogstens {MAX_TEXT})")
    names = set()
    for photo in m["fotos"]:
        ok = (isinstance(photo, dict) and isinstance(photo.get("bestand"), str)
              and FILE_RE.match(photo["bestand"]) and photo["bestand"] != MANIFEST
              and isinstance(photo.get("sha256"), str) and SHA_RE.match(photo["sha256"])
              and isinstance(photo.get("kinderen", []), list)
              and all(isinstance(c, str) for c in photo.get("kinderen", []))
              and isinstance(photo.get("gezichten", {}), dict))
        if not ok or photo["bestand"] in names:
            raise Refused("het bericht is onleesbaar aangekomen (een foto zonder naam of "
                          "controlegetal)")
        names.add(photo["bestand"])
    return m


def _check_photo(name: str, data: bytes) -> tuple[int, int, int]:
    """The bytes are one JPEG photo of sane size (the editor always sends JPEG); its
    (width, height, EXIF orientation)."""
    if len(data) > MAX_FILE:
        raise Refused(f"{name} is te groot ({len(data) // 2**20} MB; hoogstens 8 MB)")
    if not data.startswith(b"\xff\xd8\xff"):
        kind = ("een HEIC-foto" if data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1")
                else "een video" if data[4:8] == b"ftyp" else "geen foto")
        raise Refused(f"{name} is {kind}, geen JPEG-foto; kies de foto opnieuw in het formulier "
                      "(dat zet hem om)")
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > MAX_PIXELS:
                raise Refused(f"{name} heeft te veel pixels")
            frame = (img.width, img.height, img.getexif().get(0x0112, 1))
            img.verify()
    except Refused:
        raise
    except Exception:
        raise Refused(f"{name} is geen leesbare foto (kapot of afgebroken)") from None
    return frame


def _section_of(roster: Roster, person: Staff, value: str, sections):
    kind, _, key = value.partition(":")
    if (kind, key) not in posting_sections(roster, person.id):
        try:
            title = sections.get(kind, key).title
        except KeyError:
            title = value[:40] or "(leeg)"
        raise Refused(f"u plaatst niet op '{title}': dat is geen groep van u")
    return sections.get(kind, key)


def _taggings(manifest: dict, section, sections, staff_id: str, names: dict[str, str]
              ) -> list[PhotoTagging]:
    allowed = section.children & sections.get("team", staff_id).children
    out = []
    for photo in manifest["fotos"]:
        kids = tuple(dict.fromkeys(photo.get("kinderen", [])))
        strangers = [c for c in kids if c not in allowed]
        if strangers:
            raise Refused(f"{photo['bestand']}: {len(strangers)} kind(eren) staan niet in "
                          f"{section.title}")
        regions = {}
        width, height, orientation = photo.get("_frame", (0, 0, 1))
        if photo.get("gezichten") and orientation != 1:
            # the editor's canvas writes no EXIF: the phone showed this file turned, so the
            # taps are on another frame than the stored one a face region is drawn on
            raise Refused(f"{photo['bestand']}: aangetikte gezichten op een gedraaide foto "
                          "(EXIF); kies de foto opnieuw in het formulier")
        for child, area in (photo.get("gezichten") or {}).items():
            ok = (child in kids and isinstance(area, list) and len(area) == 4
                  and all(isinstance(v, int | float) and 0 <= v <= 1 for v in area))
            if not ok:
                raise Refused(f"{photo['bestand']}: een aangetikt gezicht klopt niet")
            regions[child] = tuple(float(v) for v in area)
        out.append(PhotoTagging(names[photo["bestand"]], kids,
                                bool(photo.get("geen_kinderen")), regions, (width, height)))
    return out


def _title(manifest: dict) -> str:
    title = teampost.one_line(manifest.get("titel", ""))
    if not title:
        raise Refused("titel ontbreekt: geef het bericht een titel")
    if len(title) > MAX_TITLE:
        raise Refused(f"titel te lang (hoogstens {MAX_TITLE} tekens)")
    return title


def _content_dir(section) -> str:
    return "school" if section.kind == "school" else f"groep/{section.key}"


def _photo_files(record_files: dict, taggings, audience) -> dict:
    return {"photos": record_files,
            "fotos_txt": teampost.fotos_txt(taggings, audience) if taggings else "",
            "xmp": {t.name + XMP_SUFFIX: teampost.regions_xmp(t, audience)
                    for t in taggings if t.regions}}


def _new_post(settings, roster, person, manifest, base) -> dict:
    sections = build_section_map(roster, settings.postvak.school_name)
    section = _section_of(roster, person, manifest.get("sectie", ""), sections)
    title = _title(manifest)
    when = datetime.fromisoformat(base["at"])
    slug = f"{when.astimezone(SCHOOL_TZ):%Y-%m-%d}-{teampost.slugify(title)}"
    parent = settings.content / _content_dir(section)
    photos = bool(manifest["fotos"])
    n = 1
    while True:
        name = slug if n == 1 else f"{slug}-{n}"
        if not (parent / name).exists() and not (parent / f"{name}.md").exists():
            break
        n += 1
    key = f"{_content_dir(section)}/{name}" + ("" if photos else ".md")
    names = {p["bestand"]: p["bestand"] for p in manifest["fotos"]}
    taggings = _taggings(manifest, section, sections, person.id, names)
    audience = [roster.children[c] for c in sorted(section.children)]
    files = {names[p["bestand"]]: p["sha256"] for p in manifest["fotos"]}
    return dict(base, title=title, section=section.title, key=key, folder=photos,
                url=f"{section.prefix}{name}/",
                index=teampost.post_text(title, when, person.name, manifest.get("tekst", ""),
                                         base["id"]),
                remove=[], delete=False,
                message=f"Bericht '{title}' voor {section.title} (vanaf de telefoon)",
                **_photo_files(files, taggings, audience))


def _post_of(settings, roster, person, manifest, sections):
    key = manifest.get("bericht", "")
    if not KEY_RE.match(key) or ".." in key:
        raise Refused("onbekend bericht")
    path = settings.content / key
    source = path / teampost.POST_FILE if path.is_dir() else path
    if not source.is_file():
        raise Refused("dit bericht bestaat niet meer (verwijderd of verplaatst)")
    try:
        section = sections.for_content(key)
    except SchoolpleinError:
        raise Refused("onbekend bericht") from None
    if (section.kind, section.key) not in posting_sections(roster, person.id):
        raise Refused(f"u plaatst niet op '{section.title}': dat is geen groep van u")
    header, body = team_pages.split_post(source.read_text(encoding="utf-8"))
    author = next((h.split(":", 1)[1].strip() for h in header if h.lower().startswith("author:")),
                  "")
    if author != person.name and person.role is not Role.MANAGEMENT:
        raise Refused(f"dit bericht is van {author or 'iemand anders'}: alleen die leerkracht of "
                      "de directie past het aan")
    if manifest.get("versie") != team_pages.post_version(path):
        raise Refused("het bericht is intussen gewijzigd (door u op een ander apparaat, een "
                      "collega of de directie); open het opnieuw en breng uw wijziging opnieuw aan")
    return key, path, section, header, body


def _change(settings, roster, person, manifest, base) -> dict:
    sections = build_section_map(roster, settings.postvak.school_name)
    key, path, section, header, body = _post_of(settings, roster, person, manifest, sections)
    title_line = next((h for h in header if h.lower().startswith("title:")), "Title: ")
    title = title_line.split(":", 1)[1].strip()
    url = f"{section.prefix}{Path(key).stem if not path.is_dir() else path.name}/"
    record = dict(base, section=section.title, key=key, url=url, remove=[], delete=False,
                  photos={}, fotos_txt=None, xmp={}, index=None, folder=path.is_dir())
    photos_now = sorted(p.name for p in path.iterdir() if p.suffix.lower() == ".jpg") if (
        path.is_dir()) else []
    if manifest["soort"] == "verwijderen":
        return dict(record, title=title, delete=True, urgent=bool(photos_now),
                    message=f"Bericht '{title}' verwijderd (vanaf de telefoon)")
    title = _title(manifest)
    remove = [n for n in manifest["verwijder"] if isinstance(n, str)]
    unknown = [n for n in remove if n not in photos_now]
    if unknown:
        raise Refused(f"{unknown[0][:40]} staat niet (meer) bij dit bericht")
    target = path if path.is_dir() else path.with_suffix("")
    names = dict(zip([p["bestand"] for p in manifest["fotos"]],
                     teampost.next_names(target, len(manifest["fotos"])), strict=True))
    taggings = _taggings(manifest, section, sections, person.id, names)
    audience = [roster.children[c] for c in sorted(section.children)]
    keep = [h for h in header if not h.lower().startswith(("title:", "inzending:"))]
    index = "\n".join([f"Title: {title}", *keep, f"Inzending: {base['id']}"]) + "\n\n" + (
        manifest.get("tekst", "").replace("\r\n", "\n").strip("\n")) + "\n"
    lines = teampost.read_fotos_txt(path) if path.is_dir() else {}
    lines = {n: v for n, v in lines.items() if n not in remove}
    new_lines = teampost.parse_fotos_txt(teampost.fotos_txt(taggings, audience)) if (
        taggings) else {}
    files = {names[p["bestand"]]: p["sha256"] for p in manifest["fotos"]}
    if files and not path.is_dir():  # a text post that gets photos becomes a folder
        record.update(key=key.removesuffix(".md"), from_flat=key)
    return dict(record, title=title, index=index, remove=remove, urgent=bool(remove),
                folder=path.is_dir() or bool(files), photos=files,
                fotos_lines={**lines, **new_lines},
                xmp={t.name + XMP_SUFFIX: teampost.regions_xmp(t, audience)
                     for t in taggings if t.regions},
                message=f"Bericht '{title}' gewijzigd (vanaf de telefoon)"
                        + (f", {len(remove)} foto('s) verwijderd" if remove else ""))


def _answer(settings, roster, person, manifest, base) -> dict:
    sections = build_section_map(roster, settings.postvak.school_name)
    family = manifest.get("gezin", "")
    try:
        section = sections.get("family", family)
    except KeyError:
        raise Refused("onbekend gezin") from None
    if person.id not in section.readers:
        raise Refused("u bent geen leerkracht van de kinderen van dit gezin")
    text = manifest.get("tekst", "").strip()
    if not text:
        raise Refused("het antwoord is leeg")
    if len(text) > MAX_ANSWER:
        raise Refused(f"antwoord te lang (hoogstens {MAX_ANSWER} tekens)")
    title = teampost.one_line(manifest.get("titel", "")) or f"Antwoord van {person.name}"
    when = datetime.fromisoformat(base["at"])
    name = f"{when.astimezone(SCHOOL_TZ):%Y-%m-%d}-antwoord-{base['id'][:8]}"
    link = f"{settings.postvak.site_url.rstrip('/')}{ROOTS['family']}{family}/"
    mails = []
    for parent_id in sorted(roster.families[family].parents):
        parent = roster.parents[parent_id]
        mails.append({"id": mail_id(base["id"], "antwoord", parent.email), "to": parent.email,
                      "subject": "Nieuw bericht op Mijn gezin",
                      "body": f"Beste {parent.name},\n\nEr staat een nieuw bericht van "
                              f"{person.name} op de pagina van uw gezin:\n{link}\n\n"
                              "De tekst staat alleen op die pagina (log in om hem te lezen).\n\n"
                              f"{settings.postvak.school_name}\n",
                      "date": when.isoformat()})
    return dict(base, title=title, section="Gezinspagina", key=f"gezin/{family}/{name}.md",
                url=f"{ROOTS['family']}{family}/", folder=False, remove=[], delete=False,
                photos={}, fotos_txt="", xmp={}, mails=mails,
                index=teampost.post_text(title, when, person.name, text, base["id"]),
                message=f"Antwoord aan een gezin van {person.name} (vanaf de site)")


# --- applying ---------------------------------------------------------------------------------

def apply(settings: TeamSettings, record: dict) -> None:
    """Write the record's post into content/ and commit it; idempotent. Raises GitFailed."""
    private, ident = settings.private, record["id"]
    repo = teampost.repo_of(settings.content) if settings.git else None
    if settings.git and repo is None:
        raise SchoolpleinError(Problem(str(settings.content), None, "content/ staat niet in git",
                                       "maak van content/ (of de map erboven) een git-repository"))
    if repo is None or not teampost.committed(repo, ident):
        paths = [settings.content / record["key"]]
        if record.get("from_flat"):
            paths.append(settings.content / record["from_flat"])
        work = folder(private, "werk") / ident
        backups = [teampost.FolderBackup(p, work / str(n)) for n, p in enumerate(paths)]
        try:
            _write(settings, record, paths[0])
            if repo is not None:
                teampost.commit(repo, [p for p in paths if p.exists() or _tracked(repo, p)],
                                record["message"], record["author"], ident)
        except BaseException:
            for backup in backups:
                backup.restore()
            raise
        finally:
            shutil.rmtree(work, ignore_errors=True)
    for m in record["mails"]:
        mail = Mail(m["id"], m["to"], m["subject"], m["body"], datetime.fromisoformat(m["date"]))
        store.queue_mail(private, mail.id, to_eml(mail, settings.postvak.sender))
    store.sync_outbox(private)
    if record["urgent"]:
        store.write_json(folder(private, "spoed") / f"{ident}.json",
                         {"id": ident, "what": f"foto's verwijderd uit '{record['title']}'",
                          "at": record["at"]})
    store.write_file(folder(private, "toegepast") / ident, b"")
    shutil.rmtree(folder(private, "binnen") / ident, ignore_errors=True)


def _tracked(repo: Path, path: Path) -> bool:
    rel = str(path.resolve().relative_to(repo.resolve())) if path.is_absolute() else str(path)
    done = teampost._git(repo, "ls-files", "--", rel, check=False)
    return bool(done.stdout.strip())


def _write(settings: TeamSettings, record: dict, path: Path) -> None:
    inbox = folder(settings.private, "binnen") / record["id"]
    if record["delete"]:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
        return
    if not record["folder"]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(record["index"], encoding="utf-8")
        return
    if record.get("from_flat"):  # a text post that gets photos: a folder at the same address
        old = settings.content / record["from_flat"]
        text = old.read_text(encoding="utf-8") if old.is_file() else ""
        old.unlink(missing_ok=True)
        if record["index"] is None:
            record = dict(record, index=text)
    path.mkdir(parents=True, exist_ok=True)
    for name in record["remove"]:
        teampost.remove_photo(path, name)
    for name, digest in record["photos"].items():
        source = inbox / digest
        if source.is_file():  # a re-run after the inbox went: the photo is there already
            shutil.copyfile(source, path / name)
    if record["index"] is not None:
        (path / teampost.POST_FILE).write_text(record["index"], encoding="utf-8")
    if "fotos_lines" in record:
        teampost.write_fotos_txt(path, record["fotos_lines"])
    elif record.get("fotos_txt"):
        (path / FOTOS_TXT).write_text(record["fotos_txt"], encoding="utf-8")
    for name, text in record["xmp"].items():
        (path / name).write_text(text, encoding="utf-8")
    teampost.write_gitignore(path)


# --- quarantine, status -----------------------------------------------------------------------

def _quarantine(private: Path, sub: Path, reason: str, roster: Roster) -> None:
    entries = _entries(sub)
    title, section = "", ""
    manifests = [e for e in entries if e["name"] == MANIFEST]
    if manifests:
        try:
            data = json.loads((sub / manifests[0]["sha256"]).read_bytes())
            title = teampost.one_line(str(data.get("titel", "")))[:MAX_TITLE]
            kind, _, key = str(data.get("sectie", "")).partition(":")
            section = roster.groups[key].name if key in roster.groups else (
                "School" if kind == "school" else "")
        except (ValueError, OSError, AttributeError):
            pass
    sender = entries[0]["sender"] if entries else ""
    at = min((e["at"] for e in entries), default=datetime.now(UTC).isoformat())
    target = folder(private, "quarantaine")
    store.write_json(target / f"{sub.name}.json",
                     {"id": sub.name, "sender": sender, "reason": reason, "at": at,
                      "title": title, "section": section,
                      "quarantined_at": datetime.now(UTC).isoformat()})
    shutil.rmtree(target / sub.name, ignore_errors=True)
    sub.rename(target / sub.name)


def _prune_quarantine(private: Path, now: datetime) -> None:
    for path in folder(private, "quarantaine").glob("*.json"):
        data = store.read_json(path)
        files = path.with_suffix("")
        if files.is_dir() and now - datetime.fromisoformat(data["quarantined_at"]) > KEEP_QUARANTINE:
            shutil.rmtree(files)


def mark_placed(settings: TeamSettings, ids: list[str], placed: bool = True) -> None:
    """Before the publish that carries them: the team page will say *geplaatst*; after a
    failed publish (`placed=False`) it says *ontvangen* again."""
    private = settings.private
    with store.locked(private):
        for ident in ids:
            marker = folder(private, "geplaatst") / ident
            if placed:
                store.write_file(marker, b"")
            else:
                store.remove(marker)
        export_status(settings, load_roster(settings.postvak.roster))


def published(settings: TeamSettings, ids: list[str]) -> None:
    """After a successful publish: removed photos are gone from the target (no longer urgent)."""
    for ident in ids:
        store.remove(folder(settings.private, "spoed") / f"{ident}.json")


def pending(settings: TeamSettings) -> list[str]:
    """Applied to content/ but not yet published (or their removed photos not yet gone)."""
    private = settings.private
    done = {p.name for p in folder(private, "toegepast").iterdir()}
    out = {p.name for p in folder(private, "geplaatst").iterdir()}
    urgent = {p.stem for p in folder(private, "spoed").glob("*.json")}
    return sorted((done - out) | (urgent & done))


def revert(settings: TeamSettings, ident: str, reason: str) -> None:
    """A published build failed on this post: take it out again and tell the teacher why."""
    private = settings.private
    record = store.read_json(folder(private, "journaal") / f"{ident}.json")
    path = settings.content / record["key"]
    repo = teampost.repo_of(settings.content) if settings.git else None
    sha = teampost.committed(repo, ident) if repo else ""
    if path.is_dir() and sha and _tracked_at(repo, f"{sha}^", path):
        teampost._git(repo, "checkout", f"{sha}^", "--", str(path.relative_to(repo)))
    elif path.is_dir():
        shutil.rmtree(path)
    elif sha and _tracked_at(repo, f"{sha}^", path):
        teampost._git(repo, "checkout", f"{sha}^", "--", str(path.relative_to(repo)))
    else:
        path.unlink(missing_ok=True)
    if repo is not None:
        teampost.commit(repo, [path], f"Terug: '{record['title']}' kon niet gebouwd worden",
                        record["author"], f"{ident}-terug")
    store.write_json(folder(private, "quarantaine") / f"{ident}.json",
                     {"id": ident, "sender": record["author"], "reason": reason,
                      "at": record["at"], "title": record["title"], "section": record["section"],
                      "quarantined_at": datetime.now(UTC).isoformat()})
    store.write_file(folder(private, "geplaatst") / ident, b"")  # settled: never re-published
    store.write_file(folder(private, "teruggedraaid") / ident, b"")
    export_status(settings, load_roster(settings.postvak.roster))


def _tracked_at(repo: Path, rev: str, path: Path) -> bool:
    done = teampost._git(repo, "ls-tree", "-r", "--name-only", rev, "--",
                         str(path.resolve().relative_to(repo.resolve())), check=False)
    return bool(done.stdout.strip())


def record_of(settings: TeamSettings, ident: str) -> dict:
    return store.read_json(folder(settings.private, "journaal") / f"{ident}.json")


def export_status(settings: TeamSettings, roster: Roster) -> None:
    """One status file per staff member, for their team page (plugins.team_pages)."""
    private = settings.private
    items: dict[str, list[dict]] = {sid: [] for sid in roster.staff}
    placed = {p.name for p in folder(private, "geplaatst").iterdir()}
    reverted = {p.name for p in folder(private, "teruggedraaid").iterdir()}
    for path in folder(private, "journaal").glob("*.json"):
        r = store.read_json(path)
        if r["staff"] in items and r["id"] not in reverted:
            status = "geplaatst" if r["id"] in placed else "ontvangen"
            items[r["staff"]].append({
                "id": r["id"], "at": r["at"], "title": r["title"], "section": r["section"],
                # a family id stays on that family's page (the output check holds it there)
                "status": status, "url": "" if r["delete"] or r["kind"] == "antwoord" else r["url"],
                "reason": "verwijderd" if r["delete"] and status == "geplaatst" else (
                    "" if status == "geplaatst" else "wordt geplaatst bij de volgende ronde")})
    for path in folder(private, "quarantaine").glob("*.json"):
        q = store.read_json(path)
        person = person_for_login(roster, q["sender"]) or next(
            (s for s in roster.staff.values() if q["sender"].startswith(s.name)), None)
        if isinstance(person, Staff):
            items[person.id].append({"id": q["id"], "at": q["at"], "title": q["title"],
                                     "section": q["section"], "status": "niet geplaatst",
                                     "reason": q["reason"], "url": ""})
    for sub in folder(private, "binnen").iterdir():
        entries = _entries(sub) if sub.is_dir() else []
        person = person_for_login(roster, entries[0]["sender"]) if entries else None
        if isinstance(person, Staff):
            items[person.id].append({"id": sub.name, "at": entries[0]["at"], "title": "",
                                     "section": "", "status": "ontvangen",
                                     "reason": "nog niet compleet, de rest komt nog", "url": ""})
    target = Path(private) / team_pages.STATUS_FOLDER
    target.mkdir(parents=True, exist_ok=True, mode=0o700)
    for sid, found in items.items():
        found = sorted(found, key=lambda i: i["at"])[-50:]
        data = team_pages.encode_status(sid, found)
        path = team_pages.status_file(private, sid)
        if not path.is_file() or path.read_bytes() != data:
            store.write_file(path, data)

