"""What a staff member's team pages show: their groups' children, consent, posts and statuses.

`/team/<staff-id>/` is its own section (plugins.sections), readable by that
staff member alone, because it lists the children of their groups with each
child's photo consent: a colleague of another group may not read that. The
editor (`/team/<staff-id>/nieuw/`) carries the same data as JSON for its
script (the chips and the live verdict, theme/static/js/verdict.js).

The status of what a teacher sent comes from the processing, in one file per
staff member that `invoke postvak` writes after every round (plugins never
import postvak; the two sides meet in this file, whose format is here):

    private/postvak/team/status/<staff-id>.json
    {"v": 1, "staff": "<staff-id>",
     "items": [{"id": "<uuid>", "at": "<iso>", "title": "...", "section": "Groep 3",
                "status": "ontvangen" | "geplaatst" | "niet geplaatst",
                "reason": "<Dutch, for niet geplaatst>", "url": "/groep/groep-3/<slug>/"}]}
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from .digests import Digests
from .errors import Problem, SchoolpleinError, display_path
from .filters import datum
from .photos.names import fold, short_label
from .photos.tags import post_photos
from .roster import Consent, Roster
from .sections import ROOTS, SectionMap, posting_sections

VERSION = 1
STATUS_FOLDER = Path("postvak", "team", "status")  # under the private folder
POSTVAK = "postvak"  # /team/<staff-id>/postvak/<uuid>/<file>: where the editor PUTs
DATA_ID = "team-data"  # the editor's embedded JSON; the output check keeps it in /team/<id>/
STATUSES = ("ontvangen", "geplaatst", "niet geplaatst")
CONSENT_SHORT = {"allowed": "toestemming", "group_only": "alleen groep", "none": "geen foto's"}
HEADER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_ -]*:")
DIGESTS = "team-digests.json"  # in the build cache: the digests of the posts' files
FIX = ("dit bestand schrijft 'invoke postvak' na elke verwerking; draai dat opnieuw en "
       "verander het bestand niet met de hand")


def status_file(private: Path | str, staff_id: str) -> Path:
    return Path(private) / STATUS_FOLDER / f"{staff_id}.json"


def encode_status(staff_id: str, items: list[dict]) -> bytes:
    data = {"v": VERSION, "staff": staff_id, "items": items}
    return (json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode()


def read_status(private: Path | str, staff_id: str) -> list[dict]:
    path = status_file(private, staff_id)
    if not path.is_file():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        assert data["v"] == VERSION and data["staff"] == staff_id
        items = data["items"]
        assert all(isinstance(i, dict) and i.get("status") in STATUSES for i in items)
    except (ValueError, KeyError, TypeError, AssertionError):
        raise SchoolpleinError(Problem(display_path(path), None,
                                       "statusbestand van de teampagina is onleesbaar", FIX)) from None
    keys = ("id", "at", "title", "section", "status", "reason", "url")
    return [{k: str(i.get(k) or "") for k in keys} for i in items]


# --- posts as files ------------------------------------------------------------------------

def post_key(source_path: str, content_root: str) -> str:
    """A post's stable name: its folder (`groep/groep-3/2026-10-02-uitje`) or its .md file."""
    root, source = os.path.abspath(content_root) + os.sep, os.path.abspath(source_path)
    if source.startswith(root):  # as Pelican names it: no link to resolve (plugins.sources)
        rel = source[len(root):].replace(os.sep, "/")
    else:
        rel = Path(source_path).resolve().relative_to(Path(content_root).resolve()).as_posix()
    return rel.removesuffix("/index.md")


def post_path(content_root: Path | str, key: str) -> Path:
    return Path(content_root) / key


def post_version(path: Path, digests: Digests | None = None) -> str:
    """The version of a post as its files are now: an edit made against another is refused.

    `digests` (a build's, plugins.digests) spares reading the post's photos again.
    """
    digests = digests or Digests(None)
    h = hashlib.sha256()
    files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    for file in files:
        h.update(file.name.encode() + b"\0" + bytes.fromhex(digests.sha256(file)))
    return h.hexdigest()[:32]


def split_post(text: str) -> tuple[list[str], str]:
    """(metadata lines, Markdown body) of a post's source, as Pelican's reader splits them."""
    lines = text.splitlines()
    header: list[str] = []
    for n, line in enumerate(lines):
        if not line.strip():
            return header, "\n".join(lines[n + 1:]).strip("\n")
        if not HEADER_RE.match(line):
            return header, "\n".join(lines[n:]).strip("\n")
        header.append(line)
    return header, ""


# --- the page -------------------------------------------------------------------------------

@dataclass(frozen=True)
class TeamChild:
    id: str
    label: str  # the first name; with the surname's initial where two share it
    consent: str  # a CONSENT_SHORT key for this section
    text: str
    rule: str  # the consent that applies (geen, groep, school): the editor's verdict input


def _consent_for(consent: Consent, kind: str) -> str:
    if kind in consent.allowed_kinds:
        return "allowed"
    return "group_only" if consent is Consent.GROUP else "none"


def _labels(children) -> dict[str, str]:
    firsts: dict[str, int] = {}
    for c in children:
        firsts[fold(c.first_name)] = firsts.get(fold(c.first_name), 0) + 1
    return {c.id: c.first_name if firsts[fold(c.first_name)] == 1 else short_label(c)
            for c in children}


def team_children(roster: Roster, ids, kind: str, default: Consent) -> list[TeamChild]:
    kids = sorted((roster.children[i] for i in ids if i in roster.children),
                  key=lambda c: (fold(c.first_name), fold(c.last_name), c.id))
    labels = _labels(kids)
    out = []
    for c in kids:
        effective = roster.consent_of(c.id, default)
        consent = _consent_for(effective, kind)
        out.append(TeamChild(c.id, labels[c.id], consent, CONSENT_SHORT[consent],
                             effective.value))
    return out


def _author(article) -> str:
    author = getattr(article, "author", None)
    return str(author) if author else ""


class PostData:
    """Each post's entry on the team pages, made once per build for every page that lists it.

    The versions need every file of every post: their digests are kept in the build cache
    (plugins.digests), so a warm build reads only the files that changed.
    """

    def __init__(self, settings) -> None:
        self.root = settings["PATH"]
        cache = settings.get("SCHOOLPLEIN_BUILD_CACHE")
        self.digests = Digests(Path(cache) / DIGESTS if cache else None)
        self._done: dict[int, dict] = {}

    def of(self, article) -> dict:
        if id(article) not in self._done:
            self._done[id(article)] = _post_data(article, self.root, self.digests)
        return dict(self._done[id(article)])

    def save(self) -> None:
        """Remember the digests of the files this build read (deleted posts are forgotten)."""
        self.digests.forget_except(self.digests.seen)
        self.digests.save()


def _post_data(article, content_root: str, digests: Digests | None = None) -> dict:
    key = post_key(article.source_path, content_root)
    source = Path(article.source_path)
    folder = source.parent if source.name == "index.md" else None
    _, body = split_post(source.read_text(encoding="utf-8"))
    published = {p.name: p for p in getattr(article, "photos", []) or []}
    photos = [{"name": p.name, "thumb": published[p.name].thumb_jpeg if p.name in published else "",
               "published": p.name in published} for p in (post_photos(folder) if folder else [])]
    return {"key": key, "title": str(article.title), "url": "/" + article.url,
            "date": datum(article.date), "iso": article.date.isoformat(), "author": _author(article),
            "version": post_version(folder or source, digests), "text": body, "photos": photos,
            "folder": folder is not None}


def team_page(staff_id: str, roster: Roster, sections: SectionMap, articles, settings,
              post_data: PostData | None = None) -> dict:
    """Everything /team/<staff-id>/ and its editor show, as plain values."""
    post_data = post_data or PostData(settings)
    person = roster.staff[staff_id]
    default = settings["PHOTO_CONSENT_DEFAULT"]
    mine = sections.get("team", staff_id).children
    directie = person.role.value == "directie"
    by_prefix: dict[str, list] = {}
    for a in articles:
        by_prefix.setdefault(a.section.prefix, []).append(a)
    out = []
    for kind, key in posting_sections(roster, staff_id):
        section = sections.get(kind, key)
        posts = sorted(by_prefix.get(section.prefix, []), key=lambda a: a.date, reverse=True)
        own = [a for a in posts if directie or _author(a) == person.name]
        out.append({
            "kind": kind, "key": key, "title": section.title, "url": section.prefix,
            "last_post": datum(posts[0].date) if posts else "",
            "children": [asdict(c) for c in team_children(
                roster, sorted(section.children & mine), kind, default)],
            "posts": [post_data.of(a) for a in own],
        })
    return {"staff_id": staff_id, "name": person.name, "directie": directie, "sections": out,
            "statuses": read_status(settings["SCHOOLPLEIN_PRIVATE"], staff_id),
            "postvak": f"{ROOTS['team']}{staff_id}/{POSTVAK}/",
            "min_children": int(settings["MIN_CHILDREN_PER_PHOTO"]),
            "home": f"{ROOTS['team']}{staff_id}/"}


def editor_data(page: dict) -> str:
    """The editor's JSON (embedded in its page; `</` cannot end the script element)."""
    data = {k: page[k] for k in ("staff_id", "name", "directie", "postvak", "min_children", "home")}
    data["sections"] = [{k: s[k] for k in ("kind", "key", "title", "url", "children", "posts")}
                        for s in page["sections"]]
    return json.dumps(data, ensure_ascii=False, sort_keys=True).replace("</", "<\\/")

