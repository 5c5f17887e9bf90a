"""Every folder and file the build reads, and the rule that none of it is a symlink.

Pelican follows a symlink and copies or renders whatever it points at: a link
in `theme/static/css/` to the CloudFront private key would be published as a
stylesheet, a link in a group's folder would pull in another group's post.
Git stores symlinks, so one commit is enough. Every build therefore starts by
walking what it is about to read (content, theme, roster, plugin code, the
family threads, and every path Pelican's settings name) and stops, naming
each link, before anything is read or written. The folders themselves may be
links the admin chose (`content -> /srv/school/content`); nothing inside them
may be.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from .errors import Problem, SchoolpleinError, display_path

FIX = ("vervang de snelkoppeling door het echte bestand of de echte map (of verwijder hem) en "
       "bouw opnieuw; de build volgt nooit een snelkoppeling, want die kan naar een geheim wijzen "
       "(de sleutel of wachtwoorden in private/, .env)")
PLUGIN_ROOT = Path(__file__).resolve().parent


def read_paths(settings: Mapping) -> list[Path]:
    """Every folder or file a build reads, from the build's own settings."""
    content = Path(settings["PATH"])
    theme = Path(settings["THEME"])
    paths = [content, theme, PLUGIN_ROOT]
    if settings.get("SCHOOLPLEIN_ROSTER"):
        paths.append(Path(settings["SCHOOLPLEIN_ROSTER"]))
    if settings.get("SCHOOLPLEIN_PRIVATE"):
        from .family_threads import FOLDER

        paths.append(Path(settings["SCHOOLPLEIN_PRIVATE"]) / FOLDER)
    for key, base in (("THEME_STATIC_PATHS", theme), ("STATIC_PATHS", content),
                      ("ARTICLE_PATHS", content), ("PAGE_PATHS", content),
                      ("THEME_TEMPLATES_OVERRIDES", Path.cwd())):
        paths += [base / p for p in settings.get(key) or ()]
    paths += [content / p for p in (settings.get("EXTRA_PATH_METADATA") or {})]
    return paths


def _covered(path: Path, roots: Iterable[Path]) -> bool:
    """True when `path` (lexically, links unresolved) is one of `roots` or lies inside one."""
    text = os.path.abspath(path)
    return any(text == os.path.abspath(r) or text.startswith(os.path.abspath(r) + os.sep)
               for r in roots)


def symlinks(paths: Iterable[Path]) -> Iterator[Path]:
    """Every symlink inside the folders `paths` (links are never followed).

    A path inside a folder walked before (STATIC_PATHS inside content/) is seen by
    that walk, itself included.
    """
    walked: list[Path] = []
    for path in paths:
        if _covered(path, walked) or not path.is_dir():
            continue
        walked.append(path)
        for folder, dirs, files in os.walk(path, followlinks=False):
            for name in sorted(dirs + files):
                if Path(folder, name).is_symlink():
                    yield Path(folder, name)
            dirs[:] = [d for d in dirs if not Path(folder, d).is_symlink()]


def refuse_symlinks(settings: Mapping) -> None:
    """Stop the build when anything it reads is a symlink, naming each one and where it points."""
    refuse_symlinks_in(read_paths(settings))


def refuse_symlinks_in(paths: Iterable[Path]) -> None:
    """Stop when anything inside `paths` is a symlink (tasks.common.publish_site: the postvak
    store the family threads are exported from is read before the build starts)."""
    problems = []
    for link in dict.fromkeys(symlinks(paths)):
        try:
            target = os.readlink(link)
        except OSError:
            target = "?"
        problems.append(Problem(display_path(link), None,
                                f"snelkoppeling (symlink) naar '{target}': de build leest geen "
                                "snelkoppelingen, er is niets gebouwd of gepubliceerd", FIX))
    if problems:
        raise SchoolpleinError(problems)
