"""Which files of the build output may go to the bucket: an allow-list, not a deny-list.

A deny-list of secret-looking names always misses one (`prod.env`, `id_rsa`,
`key.pem.bak`, `htpasswd`). Only the kinds of file the build itself writes are
uploaded: pages, feeds, theme assets, the public login scripts, published
photos and robots.txt. Symlinks and hidden files are never uploaded, whatever
their name: the build writes neither, and a symlink can point at the private key.
Anything else stops the publish before a single request is made.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from plugins.errors import Problem
from plugins.output_check import PHOTO_NAME_RE
from plugins.photos.settings import PHOTO_DIR
from plugins.public_pages import PUBLIC_SCRIPTS
from plugins.sections import ROOTS

_SEGMENT = r"[a-z0-9_][a-z0-9_.-]*"
PAGE_RE = re.compile(rf"^(?:{_SEGMENT}/)*index\.html$|^[0-9]{{3}}\.html$")
FEED_RE = re.compile(rf"^(?:{_SEGMENT}/)+(?:feed\.atom|agenda\.ics|agenda\.json)$")
THEME_RE = re.compile(rf"^theme/(?:{_SEGMENT}/)*{_SEGMENT}\."
                      r"(?:css|js|woff2?|svg|png|ico|webp|jpe?g|gif|avif)$")
# <section>/fotos/: school has one section, groups and families one folder each, archives two.
_KEYED = "|".join(re.escape(ROOTS[kind].strip("/")) for kind in ("group", "family"))
_SCHOOL = re.escape(ROOTS["school"].strip("/"))
_ARCHIVE = re.escape(ROOTS["archive"].strip("/"))  # archief/<schooljaar>/<groep>
PHOTO_DIR_RE = re.compile(rf"^(?:{_SCHOOL}|(?:{_KEYED})/{_SEGMENT}|{_ARCHIVE}/{_SEGMENT}/{_SEGMENT})"
                          rf"/{PHOTO_DIR}/")
TOP_LEVEL = frozenset({"robots.txt", *PUBLIC_SCRIPTS})
# The conference schedules on the staff page: /personeel/<group>/<post>.csv and .ics.
SCHEDULE_RE = re.compile(rf"^{re.escape(ROOTS['staff'].strip('/'))}/{_SEGMENT}/{_SEGMENT}"
                         r"\.(?:csv|ics)$")
# /gezin/<id>/postvak/ is the family's write-only postvak: a page there could never be read.
POSTVAK_RE = re.compile(rf"^{re.escape(ROOTS['family'].strip('/'))}/[^/]+/postvak(?:/|$)")

NOTHING_YET = "; er is nog niets gepubliceerd"
KINDS = ("alleen pagina's (index.html), feeds (feed.atom, agenda.ics, agenda.json), "
         "thema-bestanden, de inlogscripts, "
         "gespreksroosters (personeel/<groep>/<bericht>.csv en .ics), "
         "gepubliceerde foto's en robots.txt worden geüpload")
SECRETS_GO = "geheimen horen in .env of private/, nooit in de site"
FIX_SECRET = f"haal het uit de site-map en bouw opnieuw ('invoke build'); {SECRETS_GO}"


def is_uploadable(key: str) -> bool:
    """True for an output path (relative, `/`-separated) of a kind the build writes."""
    if key in TOP_LEVEL or PAGE_RE.match(key) or FEED_RE.match(key) or THEME_RE.match(key) \
            or SCHEDULE_RE.match(key):
        return True
    folder, _, name = key.rpartition("/")
    return bool(PHOTO_DIR_RE.fullmatch(folder + "/")) and bool(PHOTO_NAME_RE.match(name))


def upload_problems(root: Path) -> tuple[list[tuple[str, Path]], list[Problem]]:
    """(key, path) of every uploadable file, and a Problem for every other entry.

    Walks without following symlinks; a hidden folder is reported once and not
    entered.
    """
    files: list[tuple[str, Path]] = []
    problems: list[Problem] = []
    for dirpath, dirs, names in os.walk(root, followlinks=False):
        here = Path(dirpath)
        for name in sorted(dirs):
            path = here / name
            if path.is_symlink() or name.startswith("."):
                problems.append(_refusal(path, name))
                dirs.remove(name)
        dirs.sort()
        for name in sorted(names):
            path = here / name
            key = path.relative_to(root).as_posix()
            if path.is_symlink() or name.startswith(".") or not path.is_file():
                problems.append(_refusal(path, name))
            elif POSTVAK_RE.match(key):
                problems.append(Problem(str(path), None, "dit adres is het postvak van het gezin "
                                        "(daar sturen ouders berichten heen); een pagina kan er niet "
                                        f"staan{NOTHING_YET}", "geef het bericht in content/gezin/ "
                                        "een andere naam dan 'postvak' en bouw opnieuw"))
            elif not is_uploadable(key):
                problems.append(Problem(str(path), None, f"dit soort bestand schrijft de build "
                                        f"niet ({KINDS}){NOTHING_YET}",
                                        "haal het uit de site-map (of uit theme/static/ als het "
                                        f"daar vandaan komt); {SECRETS_GO}"))
            else:
                files.append((key, path))
    return files, problems


def _refusal(path: Path, name: str) -> Problem:
    if path.is_symlink():
        return Problem(str(path), None, "dit is een snelkoppeling (symlink); die wordt nooit "
                       f"geüpload, want hij kan naar een geheim wijzen{NOTHING_YET}", FIX_SECRET)
    if name.startswith("."):
        return Problem(str(path), None, "verborgen bestand of map (naam begint met een punt, "
                       f"zoals .env of .git); de build schrijft die nooit{NOTHING_YET}",
                       FIX_SECRET)
    return Problem(str(path), None, f"geen gewoon bestand{NOTHING_YET}", FIX_SECRET)
