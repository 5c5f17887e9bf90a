"""Retention: an archive past its date is deleted before the publish that takes it off the site.

The build already leaves an expired archive out (plugins.build), so nothing of
it is in the output; `sweep` then removes what the school still keeps of it:
the posts and their photos (content/archief/<year>/), the frozen roster
(roster/archief/<year>/), the photo audits that mention its posts, the copies
in older nginx releases, and every family that only this archive still knew
(records.family_data.forget, with an audit line without personal data). The
publish that follows deletes the rest from the target (the S3 sync removes
objects the output no longer has). It says what it removed.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

from plugins import archive
from plugins.photos.settings import IMAGE_SUFFIXES
from plugins.roster import load_roster
from plugins.settings import Settings


def sweep(cfg: Settings, on: date | None = None, dry_run: bool = False,
          out: Callable[[str], None] = print) -> list[str]:
    """Delete every archive past retention on `on` (today); returns the years removed."""
    from . import family_data

    archives = archive.load_archives(cfg.roster, cfg.retention_months, on)
    if not archives.expired:
        return []
    roster = load_roster(cfg.roster)
    kept_families = set(roster.families).union(*(a.roster.families for a in archives.live))
    removed = []
    for old in archives.expired:
        posts = content = cfg.content / archive.FOLDER / old.year
        folders = [p for p in posts.glob("*/*") if p.is_dir()] if content.exists() else []
        photos = sum(1 for f in folders for p in f.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        audits = _audits_naming(cfg.audit, old, folders)
        releases = _older_releases(cfg, old.year)
        gone = sorted(set(old.roster.families) - kept_families)
        verb = "Proefrun: zou verwijderen" if dry_run else "Verwijderd"
        out(f"Bewaartermijn verlopen (archief {old.year}, bewaard tot en met {old.until}). "
            f"{verb}: {len(old.roster.groups)} groepen met {len(folders)} berichten en {photos} "
            f"foto's, het bevroren rooster ({len(old.roster.children)} leerlingen), "
            f"{len(audits)} fotoverslagen, {len(gone)} vertrokken gezinnen"
            + (f", de kopie in {len(releases)} eerdere release(s)" if releases else ""))
        if dry_run:
            continue
        for family in gone:
            family_data.forget(cfg, family, reason="bewaartermijn verlopen", archives=archives)
        for path in (content, archive.folder(cfg.roster, old.year), *releases):
            shutil.rmtree(path, ignore_errors=True)
        for path in audits:
            path.unlink(missing_ok=True)
        removed.append(old.year)
    return removed


def _audits_naming(audit_dir: Path, old, folders: list[Path]) -> list[Path]:
    """Photo audits that mention the archive's posts (as archive or as last year's group)."""
    needles = {f"{archive.FOLDER}/{old.year}/"}
    needles |= {f"groep/{p.parent.name}/{p.name}" for p in folders}
    found = []
    for path in sorted(Path(audit_dir).glob("fotos-*")):
        text = path.read_text(encoding="utf-8", errors="replace")
        if any(n in text for n in needles):
            found.append(path)
    return found


def _older_releases(cfg: Settings, year: str) -> list[Path]:
    """The archive's folder in the nginx releases the publish keeps (the live one too:
    it is past its date, and the publish that follows replaces the release anyway)."""
    from publish.targets.basic_auth import TARGET

    releases = TARGET.deploy_root(cfg) / "releases"
    return sorted(p for p in releases.glob(f"*/{archive.FOLDER}/{year}") if p.is_dir())
