"""The private photo audit: per post, which photos were published or dropped, and why.

It is for the teacher who tagged the photos: per photo, which source (labels
in the photo, a .xmp sidecar, a fotos.txt line) named whom, which name did
not match ("onbekende naam 'Zoy' … bedoel je Zoë?") and which child has no
consent. It is therefore private: written outside the output directory
(refused if configured inside it) and never published.

The console (the build log) gets one line per dropped photo with the photo,
the reason, the source location and the exact audit line to read, but never
a child's name. Printing the suggestion itself ("bedoel je Sem B. of Sem
K.?") would be handier, and we decided against it: every useful suggestion
is a child's name; so is the mistyped tag itself ("Zoy"); and beside a
consent drop a name would say which family refused photos. Build logs are
kept and shared (CI runs, a terminal on the smartboard, a log pasted into a
helpdesk mail), so the line points at `audit/fotos-….txt:14`, which a
terminal or editor opens at the suggestion in one click.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import Problem, SchoolpleinError, display_path
from .settings import FOTOS_TXT

if TYPE_CHECKING:
    from ..roster_changes import Widening

STATUS = {"ok": "", "no_consent": " (geen toestemming)",
          "blurred": " (geen toestemming: onherkenbaar gemaakt)"}
UNRESOLVED = {"unknown": "onbekend", "ambiguous": "meer dan één kind"}


@dataclass(frozen=True)
class TagReport:
    """One name as one source wrote it, and what it matched (private audit)."""

    text: str  # as written
    source: str  # Dutch label: "fotos.txt regel 3", "gezichtslabels in foto.jpg.xmp", …
    file: str  # display path of the file that holds it
    line: int | None = None  # the fotos.txt line
    child: str = ""  # the matched child id; "" when the name fits no or several children
    status: str = "ok"  # "ok", "unknown", "ambiguous", "no_consent" or "blurred"


@dataclass(frozen=True)
class BlurReport:
    """One child made unrecognisable on a published photo, and why (private audit)."""

    child: str  # the child's id
    why: str  # which consent forbids which page
    regions: str  # where the face regions came from


@dataclass(frozen=True)
class PhotoReport:
    """One photo's outcome, as the audit and the console show it."""

    post: str  # display path of the post folder
    photo: str  # display path of the photo
    published: bool
    code: str
    reason: str  # Dutch, no child names
    tags: tuple[TagReport, ...] = ()  # every source's names (private audit only)
    marks: tuple[str, ...] = ()  # where "geen herkenbare kinderen" is written
    children: tuple[str, ...] = ()  # resolved child ids (private audit only)
    problems: tuple[Problem, ...] = ()  # teacher-facing (may quote tag text, name children)
    outputs: tuple[str, ...] = ()  # published URLs
    fix: str = ""  # what to do about a dropped photo; never a name
    blurred: tuple[BlurReport, ...] = ()  # children made unrecognisable (private audit only)


@dataclass(frozen=True)
class Audit:
    """The written audit, and which of its text lines to read for each photo and problem."""

    json: Path
    txt: Path
    lines: Mapping[str, int] = field(default_factory=dict)  # see key() -> 1-based line in txt

    def see(self, key: str) -> str:
        where = display_path(self.txt)
        return f"zie {where}:{self.lines[key]}" if key in self.lines else f"zie {where}"


def key(item: PhotoReport | Problem) -> str:
    """How the audit's line index knows a photo (its path) or a loose problem (file:line)."""
    if isinstance(item, PhotoReport):
        return item.photo
    return f"{item.file}:{item.line}" if item.line else item.file


def loose_summary(problem: Problem) -> str:
    """A name-free headline for a problem in a tag file that belongs to no photo.

    A fotos.txt line may hold names anywhere (even before the ':'), so only
    its file:line is shown; a sidecar's problem is about the file itself.
    """
    if problem.file.lower().endswith(".xmp"):
        return problem.message
    return f"regel in {FOTOS_TXT} niet begrepen"


def console_lines(reports: Iterable[PhotoReport], loose: Iterable[Problem] = (),
                  audit: Audit | None = None) -> list[str]:
    """One line per dropped photo, per photo with a child made unrecognisable and per loose
    tag-file problem; never a child's name (which child, and why, is in the audit)."""
    def see(item) -> str:
        return f"; {audit.see(key(item))}" if audit else " (zie het fotoverslag)"

    reports = list(reports)
    lines = [f"foto niet gepubliceerd: {r.photo}: {r.reason}{see(r)}"
             for r in reports if not r.published]
    lines += [f"foto gepubliceerd met een kind onherkenbaar gemaakt: {r.photo}{see(r)}"
              for r in reports if r.published and r.blurred]
    lines += [f"{key(p)}: {loose_summary(p)}{see(p)}" for p in loose]
    return lines


def _inside(path: Path, parent: Path) -> bool:
    try:
        path.resolve().relative_to(parent.resolve())
    except ValueError:
        return False
    return True


def private_dir(audit_dir: Path | str, output_dir: Path | str) -> Path:
    """PHOTO_AUDIT_DIR (the photo audit, the roster state), refused inside the output."""
    audit_dir = Path(audit_dir)
    if _inside(audit_dir, Path(output_dir)):
        raise SchoolpleinError(Problem(
            "pelicanconf.py", None,
            f"PHOTO_AUDIT_DIR ({audit_dir}) ligt in de uitvoermap: het fotoverslag en de "
            "rooster-stand zijn privé", "kies een map buiten OUTPUT_PATH, bv. audit/"))
    return audit_dir


def write_audit(reports: list[PhotoReport], audit_dir: Path, output_dir: Path | None = None,
                now: datetime | None = None, notes: Iterable[Problem] = (),
                roster_changes: Sequence[Widening] = ()) -> Audit:
    """Write fotos-<timestamp>.json and .txt; refuse a directory inside the output.

    `notes` are the tag-file problems that belong to no photo (loose lines in
    fotos.txt, sidecars without a photo). `roster_changes`: roster changes since
    the last good build that show a child to more people (plugins.roster_changes),
    listed first so the admin sees them.
    """
    audit_dir = Path(audit_dir) if output_dir is None else private_dir(audit_dir, output_dir)
    notes = list(notes)
    now = now or datetime.now().astimezone()
    stamp = now.strftime("%Y%m%d-%H%M%S")
    audit_dir.mkdir(parents=True, exist_ok=True)
    digest = _content_digest(reports, notes, roster_changes)
    if (kept := _unchanged(audit_dir, digest)) is not None:  # the same audit again: confirm it
        _confirm(audit_dir, kept, digest, now, reused=True)
        return kept
    base = audit_dir / f"fotos-{stamp}"
    json_path, txt_path = base.with_suffix(".json"), base.with_suffix(".txt")
    text, lines = render_text(reports, now, notes, roster_changes)
    payload = {
        "gemaakt": now.isoformat(timespec="seconds"),
        "gepubliceerd": sum(r.published for r in reports),
        "niet_gepubliceerd": sum(not r.published for r in reports),
        "fotos_txt_problemen": [asdict(p) | {"verslagregel": lines.get(key(p))} for p in notes],
        "rooster_ruimer": [asdict(c) for c in roster_changes],
        "fotos": [asdict(r) | {"verslagregel": lines.get(key(r))} for r in reports],
    }
    _atomic_write(json_path, json.dumps(payload, ensure_ascii=False, indent=1))
    _atomic_write(txt_path, text)
    audit = Audit(json_path, txt_path, lines)
    _confirm(audit_dir, audit, digest, now)
    return audit


# An unchanged audit is not written again: `LATEST` names the newest audit and the digest
# of its content, and says for each audit that a later build found again when it last did
# ("bevestigd"): the weekly report counts a drop of such a build as of that time.
LATEST = "laatste-fotoverslag.json"


def _content_digest(reports, notes, roster_changes) -> str:
    """Everything the audit says except its time (and this module's code, which renders it)."""
    h = hashlib.sha256(Path(__file__).read_bytes())
    h.update(repr((tuple(reports), tuple(notes), tuple(roster_changes))).encode())
    return h.hexdigest()


def latest(audit_dir: Path) -> dict:
    """The LATEST record ({} when missing or unreadable)."""
    try:
        data = json.loads((Path(audit_dir) / LATEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _unchanged(audit_dir: Path, digest: str) -> Audit | None:
    """The newest audit when it says exactly what this build would write, else None."""
    data = latest(audit_dir)
    try:
        json_path, txt_path = audit_dir / data["json"], audit_dir / data["txt"]
        lines = {str(k): int(v) for k, v in data["regels"].items()}
        if data["inhoud"] != digest or "/" in data["json"] + data["txt"]:
            return None
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    return Audit(json_path, txt_path, lines) if json_path.is_file() and txt_path.is_file() else None


def confirmed(audit_dir: Path) -> dict[str, str]:
    """{audit file name: when a later build last found exactly that audit again}."""
    found = latest(audit_dir).get("bevestigd")
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}


def _confirm(audit_dir: Path, audit: Audit, digest: str, now: datetime,
             reused: bool = False) -> None:
    times = {name: when for name, when in confirmed(audit_dir).items()
             if (audit_dir / name).is_file()}
    if reused:
        times[audit.json.name] = now.isoformat(timespec="seconds")
    _atomic_write(audit_dir / LATEST, json.dumps({
        "json": audit.json.name, "txt": audit.txt.name, "inhoud": digest,
        "regels": dict(audit.lines), "bevestigd": times}))


def _local(file: str, post: str) -> str:
    """A file inside the post folder by its own name: the post is the heading above it."""
    prefix = post.rstrip(os.sep) + os.sep
    return file[len(prefix):] if file.startswith(prefix) else file


def _problem_line(p: Problem, post: str = "") -> str:
    where = _local(p.file, post) if post else p.file
    where = f"{where}:{p.line}" if p.line else where
    return f"{where}: {p.message}" + (f" — oplossing: {p.fix}" if p.fix else "")


def _tag_lines(r: PhotoReport) -> list[str]:
    """One line per source: what it named and what each name matched."""
    by_source: dict[str, list[str]] = {}
    for t in r.tags:
        match = f"{t.child}{STATUS.get(t.status, '')}" if t.child else UNRESOLVED.get(t.status, "?")
        by_source.setdefault(t.source, []).append(f"{t.text} → {match}")
    lines = [f"{source}: {', '.join(names)}" for source, names in by_source.items()]
    return lines + [f"{mark}: geen herkenbare kinderen" for mark in r.marks]


def render_text(reports: list[PhotoReport], now: datetime, notes: list[Problem] = (),
                roster_changes: Sequence[Widening] = ()) -> tuple[str, dict[str, int]]:
    """The audit as text, and the line to read for each photo and note (see key())."""
    published = sum(r.published for r in reports)
    blurred = sum(bool(r.blurred) for r in reports)
    lines = [
        f"Fotoverslag {now:%Y-%m-%d %H:%M} (privé: niet publiceren of doorsturen)",
        f"{published} foto's gepubliceerd, {len(reports) - published} niet gepubliceerd."
        + (f" Op {blurred} foto{'' if blurred == 1 else chr(39) + 's'} is een kind onherkenbaar "
           "gemaakt." if blurred else ""),
        "Wie er op een foto staat, komt uit alle bronnen samen: de labels in de foto, "
        "zijbestanden (.xmp) en fotos.txt.",
        "",
    ]
    if roster_changes:
        lines.append("Rooster: sinds de vorige geslaagde build mogen foto's van deze kinderen "
                     "door meer mensen gezien worden. Klopt dat? Zo niet: herstel het rooster "
                     "vóór het publiceren.")
        lines.extend("  " + c.audit() for c in roster_changes)
        lines.append("")
    anchors: dict[str, int] = {}
    if notes:
        lines.append("Niet begrepen regels en bestanden:")
        for p in notes:
            anchors.setdefault(key(p), len(lines) + 1)
            lines.append("  " + _problem_line(p))
        lines.append("")
    posts: dict[str, list[PhotoReport]] = {}
    for r in reports:
        posts.setdefault(r.post, []).append(r)
    indent = " " * 7
    for post, items in posts.items():
        lines.append(f"== {post}")
        for r in items:
            mark = "OK  " if r.published else "NIET"
            anchors[key(r)] = len(lines) + 1
            lines.append(f"  {mark} {os.path.basename(r.photo)}: {r.reason}")
            lines.extend(indent + t for t in _tag_lines(r))
            lines.extend(f"{indent}onherkenbaar gemaakt: {b.child} ({b.why}; gezichtsvak uit "
                         f"{b.regions})" for b in r.blurred)
            for n, p in enumerate(r.problems):
                if n == 0 and not r.published:
                    anchors[key(r)] = len(lines) + 1  # the first thing to fix
                lines.append(indent + _problem_line(p, post))
            if not r.published and not r.problems and r.fix:
                anchors[key(r)] = len(lines) + 1
                lines.append(f"{indent}oplossing: {r.fix}")
        lines.append("")
    return "\n".join(lines), anchors


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
