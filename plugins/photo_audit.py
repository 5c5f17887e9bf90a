"""The private photo audit: per post, which photos were published or dropped, and why.

It is for the teacher who tagged the photos, so it may quote the tag text
that did not match ("onbekende naam 'Zoy'"). It is therefore private: written
outside the output directory (refused if configured inside it) and never
published. The console gets one line per dropped photo that names the file
and a reason code text, never a child.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import Problem, SchoolpleinError

if TYPE_CHECKING:
    from .roster_changes import Widening


@dataclass(frozen=True)
class PhotoReport:
    """One photo's outcome, as the audit and the console show it."""

    post: str  # display path of the post folder
    photo: str  # display path of the photo
    published: bool
    code: str
    reason: str  # Dutch, no child names
    tag_source: str  # "sidecar", "embedded" or "none"
    children: tuple[str, ...] = ()  # resolved child ids (private audit only)
    problems: tuple[str, ...] = ()  # teacher-facing problem texts (may quote tag text)
    outputs: tuple[str, ...] = ()  # published URLs


def console_lines(reports: Iterable[PhotoReport],
                  sidecar_problems: Iterable[Problem] = ()) -> list[str]:
    """One line per dropped photo and per unreadable fotos.txt line; never a name.

    The fotos.txt line itself may contain names, so only file:line is shown.
    """
    lines = [f"foto niet gepubliceerd: {r.photo}: {r.reason}"
             for r in reports if not r.published]
    lines += [f"{p.file}:{p.line or '?'}: regel in fotos.txt niet begrepen (zie het fotoverslag)"
              for p in sidecar_problems]
    return lines


def _inside(path: Path, parent: Path) -> bool:
    try:
        path.resolve().relative_to(parent.resolve())
    except ValueError:
        return False
    return True


def write_audit(reports: list[PhotoReport], audit_dir: Path, output_dir: Path | None = None,
                now: datetime | None = None, notes: Iterable[str] = (),
                roster_changes: Sequence[Widening] = ()) -> tuple[Path, Path]:
    """Write fotos-<timestamp>.json and .txt; refuse a directory inside the output.

    `roster_changes`: roster changes since the last good build that show a child
    to more people (plugins.roster_changes), listed first so the admin sees them.
    """
    audit_dir = Path(audit_dir)
    if output_dir is not None and _inside(audit_dir, Path(output_dir)):
        raise SchoolpleinError(Problem(
            "pelicanconf.py", None,
            f"PHOTO_AUDIT_DIR ({audit_dir}) ligt in de uitvoermap: het fotoverslag is privé",
            "kies een map buiten OUTPUT_PATH, bv. audit/",
        ))
    now = now or datetime.now().astimezone()
    stamp = now.strftime("%Y%m%d-%H%M%S")
    audit_dir.mkdir(parents=True, exist_ok=True)
    base = audit_dir / f"fotos-{stamp}"
    json_path, txt_path = base.with_suffix(".json"), base.with_suffix(".txt")
    payload = {
        "gemaakt": now.isoformat(timespec="seconds"),
        "gepubliceerd": sum(r.published for r in reports),
        "niet_gepubliceerd": sum(not r.published for r in reports),
        "fotos_txt_problemen": list(notes),
        "rooster_ruimer": [asdict(c) for c in roster_changes],
        "fotos": [r.__dict__ | {"children": list(r.children), "problems": list(r.problems),
                                "outputs": list(r.outputs)} for r in reports],
    }
    _atomic_write(json_path, json.dumps(payload, ensure_ascii=False, indent=1))
    _atomic_write(txt_path, render_text(reports, now, list(notes), roster_changes))
    return json_path, txt_path


def render_text(reports: list[PhotoReport], now: datetime, notes: list[str] = (),
                roster_changes: Sequence[Widening] = ()) -> str:
    published = sum(r.published for r in reports)
    lines = [
        f"Fotoverslag {now:%Y-%m-%d %H:%M} (privé: niet publiceren of doorsturen)",
        f"{published} foto's gepubliceerd, {len(reports) - published} niet gepubliceerd.",
        "",
    ]
    if roster_changes:
        lines.append("Rooster: sinds de vorige geslaagde build mogen foto's van deze kinderen "
                     "door meer mensen gezien worden. Klopt dat? Zo niet: herstel het rooster "
                     "vóór het publiceren.")
        lines.extend("  " + c.audit() for c in roster_changes)
        lines.append("")
    if notes:
        lines.append("Niet begrepen regels in fotos.txt:")
        lines.extend("  " + part for note in notes for part in note.splitlines())
        lines.append("")
    posts: dict[str, list[PhotoReport]] = {}
    for r in reports:
        posts.setdefault(r.post, []).append(r)
    for post, items in posts.items():
        lines.append(f"== {post}")
        for r in items:
            mark = "OK  " if r.published else "NIET"
            name = os.path.basename(r.photo)
            lines.append(f"  {mark} {name}: {r.reason} (labels: {_source(r.tag_source)})")
            for p in r.problems:
                lines.extend("         " + part for part in p.splitlines())
        lines.append("")
    return "\n".join(lines)


def _source(source: str) -> str:
    return {"sidecar": "fotos.txt", "embedded": "in de foto"}.get(source, "geen")


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


