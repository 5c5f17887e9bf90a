"""What every admin task shares: the settings, the build, and one way to fail.

Every task body runs inside `admin_task`: a SchoolpleinError (bad roster,
content, setting or publish) is printed as the admin's message, never a
traceback, and exits non-zero.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import re
import secrets
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from invoke import task

from plugins.errors import DISK_ERRNOS, Problem, SchoolpleinError, disk_problem
from plugins.settings import Settings, load_settings

STRICT_HELP = "stop bij iedere weggelaten foto / fail on any dropped photo"


def fail(exc: SchoolpleinError) -> None:
    header = getattr(exc, "header", "Bouwen/publiceren gestopt. Er is niets gepubliceerd.")
    print(f"\n{header}\n{exc.render()}", file=sys.stderr)
    sys.exit(1)


def admin_task(*args, **kwargs):
    """invoke's @task, with SchoolpleinError shown as the admin's message (Dutch, no traceback)."""

    def wrap(fn):
        @functools.wraps(fn)
        def body(c, *a, **kw):
            try:
                return fn(c, *a, **kw)
            except SchoolpleinError as exc:
                fail(exc)
            except OSError as exc:  # a full disk, a read-only target: the admin's to fix
                if exc.errno not in DISK_ERRNOS:
                    raise
                fail(SchoolpleinError(disk_problem(exc, written_folders())))

        return task(body, **kwargs)

    if args and callable(args[0]):
        return wrap(args[0])
    return wrap


def written_folders() -> list[Path]:
    """The folders a task writes to, for a message about a full disk."""
    try:
        cfg = settings()
    except SchoolpleinError:
        return []
    return [cfg.output.parent, cfg.build_cache, cfg.photo_cache, cfg.deploy, cfg.private,
            cfg.audit]


def settings() -> Settings:
    """The admin's settings (.env + environment + defaults)."""
    return load_settings()


def roster_and_sections(cfg: Settings, with_former: bool = False):
    """The roster and the section map derived from it (who may read what), parsed once per
    roster (plugins.roster_cache: keyed by its bytes, so any change is parsed anew), with the
    families' calendar addresses (plugins.calendar_feeds).

    The section map holds the kept archives (plugins.archive). `with_former`: the roster
    also holds the parents who left but still read a kept archive, for their logins and
    letters.
    """
    from plugins import roster_cache
    from plugins.archive import account_roster
    from plugins.calendar_feeds import read_addresses
    from plugins.sections import with_feeds

    roster, sections, archives = roster_cache.load_with_archives(
        cfg.roster, cfg.school_name, cfg.build_cache, cfg.retention_months)
    sections = with_feeds(sections, roster, read_addresses(cfg.private))
    return (account_roster(roster, archives.live) if with_former else roster), sections


def incremental_overrides(cfg: Settings, target: Path) -> dict:
    """What makes a build incremental: Pelican's reader cache and the previous output.

    The reader cache skips parsing unchanged Markdown (keyed by each file's
    sha256, never its mtime); plugins.incremental reuses unchanged pages.
    """
    cache = cfg.build_cache
    return {"cache_content": True, "load_content_cache": True,
            "content_caching_layer": "reader", "cache_path": str(cache / "pelican"),
            "check_modified_method": "sha256", "gzip_cache": False,
            "schoolplein_previous_output": str(target), "schoolplein_build_cache": str(cache)}


def build(cfg: Settings, strict: bool = False, output: Path | None = None,
          production: bool = False, throwaway: bool = False, for_target: str = "nginx") -> dict:
    """Build into a fresh staging folder, then move it into place: no half outputs.

    What did not change since the previous build into `output` is reused from
    it (plugins.incremental), so unchanged files keep their bytes and mtimes.
    A throwaway build (`invoke check`) leaves no manifest or reader cache behind
    for a folder that is about to vanish, and does not record the roster as the
    last good build's (audit/rooster-stand.json): a check on a temporary roster
    must not use up the warning the next real build gives.
    `for_target` names the publish target: its public pages get that target's texts.
    """
    from plugins.site import build as pelican_build

    target = Path(output or cfg.output)
    target.parent.mkdir(parents=True, exist_ok=True)
    config = cfg.root / ("publishconf.py" if production else "pelicanconf.py")
    overrides = {"photo_strict": True} if strict else {}  # else SCHOOLPLEIN_STRICT decides
    with staging_folder(cfg, target) as staging:
        built = pelican_build(config, output_path=str(staging), schoolplein_roster=str(cfg.roster),
                              path=str(cfg.content), photo_cache_dir=str(cfg.photo_cache),
                              photo_audit_dir=str(cfg.audit), schoolplein_private=str(cfg.private),
                              schoolplein_target=for_target, photo_blur=cfg.photo_blur,
                              **({"schoolplein_record_roster": False} if throwaway
                                 else incremental_overrides(cfg, target)),
                              **overrides)
        old = None
        if target.exists():
            old = staging.with_name(f"{staging.name}-vorige")
            target.rename(old)
        staging.rename(target)
    if old is not None:
        remove_later(old)
    built["OUTPUT_PATH"] = str(target)
    return built


STAGING = "staging"  # under the build cache: never committed (cache/ is git-ignored), never served
STAGING_BESIDE = ".schoolplein-bouw"  # beside the output when the cache is on another disk
ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789_"
LEFTOVER_RE = re.compile(r"^(?:\.build-|bouw-)[A-Za-z0-9_]{8}(?:-vorige)?$")


def staging_root(cfg: Settings, target: Path) -> Path:
    """Where a build stages: the build cache, or (another file system: a folder can only be
    renamed within one) a hidden folder beside the output, also git-ignored."""
    inside = cfg.build_cache / STAGING
    inside.mkdir(parents=True, exist_ok=True, mode=0o700)
    if os.stat(inside).st_dev == os.stat(target.parent).st_dev:
        return inside
    beside = target.parent / STAGING_BESIDE
    beside.mkdir(exist_ok=True, mode=0o700)
    return beside


@contextlib.contextmanager
def staging_folder(cfg: Settings, target: Path):
    """A fresh, locked staging folder; what a killed build left is removed first.

    Each build holds a lock on `<folder>.lock` while it runs, so a second build
    at the same time (`invoke serve` rebuilding beside `invoke build`) never
    removes the other's folder. Leftovers of builds from before the staging
    moved (`.build-*` beside the output) go too.
    """
    root = staging_root(cfg, target)
    clean_leftovers(root, target.parent)
    while True:  # the lock before the folder: a folder without a held lock is a leftover
        staging = root / ("bouw-" + "".join(secrets.choice(ALPHABET) for _ in range(8)))
        try:
            lock = os.open(f"{staging}.lock", os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        break
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        staging.mkdir(mode=0o700)
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        os.unlink(f"{staging}.lock")
        os.close(lock)


def clean_leftovers(root: Path, beside: Path) -> None:
    """Remove staging folders no running build holds (a killed build's), here and beside."""
    for folder in (root, beside):
        for entry in folder.iterdir():
            name = entry.name.removesuffix(".lock")
            if entry.is_symlink() or not LEFTOVER_RE.match(name):
                continue
            if name.endswith("-vorige"):
                remove_later(entry)
                continue
            lock_path = entry.with_name(name + ".lock")
            if entry.name.endswith(".lock") and entry.with_name(name).exists():
                continue  # dealt with beside its folder
            try:
                fd = os.open(lock_path, os.O_RDWR)
            except FileNotFoundError:
                shutil.rmtree(entry, ignore_errors=True)
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a build that is running now
            else:
                shutil.rmtree(entry.with_name(name), ignore_errors=True)
                lock_path.unlink(missing_ok=True)
            finally:
                os.close(fd)


MAX_BUILDS = 5  # inputs that change during every one of these builds: stop and say so


@dataclass(frozen=True)
class Published:
    """A publish that went live: what it held and when."""

    urgent: tuple  # postvak.Urgent: withdrawals this publish removed from the site
    at: datetime  # when it was live (server clock)


def publish_site(cfg: Settings, make: Callable[[], dict], release: Callable[[dict, Callable], None],
                 *, only_if_pending: bool = False, out: Callable[[str], None] = print,
                 ) -> Published | None:
    """Build and put live under the one site lock, never with inputs older than on disk.

    Under the lock: export the family threads, note what waits for a publish
    (postvak.pending_publish), delete the archives past retention (records.retention),
    fingerprint the inputs, build (`make`), check the
    fingerprint, and let `release(built, fresh)` switch, which calls `fresh()`
    right before its switch and raises freshness.Stale when the inputs changed.
    A change during the build means: build again. Only after the switch are the
    noted withdrawals and changes acknowledged, so each stays pending until a
    publish that includes it is live. `only_if_pending`: a postvak round, which
    publishes only when something waits.
    """
    import postvak
    from plugins import sources
    from plugins.roster import load_roster
    from publish import freshness
    from records.retention import sweep

    pv = postvak.PostvakSettings.from_settings(cfg)
    with freshness.site_lock(cfg, out):
        # before the export reads the postvak store (the build checks the rest again)
        sources.refuse_symlinks_in([cfg.content, cfg.roster, cfg.root / "theme", sources.PLUGIN_ROOT,
                                    cfg.private / "postvak"])
        for _attempt in range(MAX_BUILDS):
            left_out: list[str] = []
            postvak.export_threads(cfg.private, load_roster(cfg.roster), left_out)
            for problem in left_out:  # one entry that cannot be shown never stops the publish
                out(f"  NIET OP DE GEZINSPAGINA (de publicatie ging door): {problem}")
            pending = postvak.pending_publish(pv)
            if only_if_pending and not pending:
                return None
            sweep(cfg, out=out)  # archives past retention go now, so this publish removes them
            before = freshness.fingerprint(cfg)

            def fresh(before=before) -> bool:
                return freshness.fingerprint(cfg) == before

            built = make()
            try:
                if not fresh():
                    raise freshness.Stale
                release(built, fresh)
            except freshness.Stale:
                out("Rooster, inhoud of postvak veranderde tijdens het bouwen: opnieuw bouwen.")
                continue
            live = datetime.now(UTC)
            postvak.acknowledge_published(pv, pending)
            return Published(pending.urgent, live)
    raise SchoolpleinError(Problem(
        str(cfg.roster), None, f"de invoer veranderde tijdens elk van {MAX_BUILDS} builds; er is "
        "niets gepubliceerd", "wacht tot niemand het rooster of de inhoud bewerkt en publiceer "
        "opnieuw (de wachtende wijzigingen blijven staan)"))


def build_and_publish(cfg: Settings, target, strict: bool = False, only_if_pending: bool = False,
                      out: Callable[[str], None] = print) -> Published | None:
    """Build with production settings into output/ and hand it to the target (publish_site).

    Still under the site lock, what is new in what is now live is recorded and the at-once
    notices queued; they are sent once the lock is free (a slow mail server never holds a
    withdrawal's publish back). Neither ever fails the publish (tasks.notices)."""
    from .notices import after_publish, send_waiting

    def release(built, fresh) -> None:
        target.publish(cfg, cfg.output, built["SCHOOLPLEIN_SECTIONS"], fresh=fresh)
        after_publish(cfg, built, out=out, send=False)

    published = publish_site(
        cfg, lambda: build(cfg, strict, production=True, for_target=target.name), release,
        only_if_pending=only_if_pending, out=out)
    if published is not None:
        send_waiting(cfg, out=out)
    return published


def remove_later(folder: Path) -> None:
    """Delete the previous output beside the work that follows (thousands of folders take
    seconds on some file systems); a deletion that was cut off is finished next time."""
    import subprocess

    subprocess.Popen(["rm", "-rf", "--", str(folder)], start_new_session=True,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
