"""What every admin task shares: the settings, the build, and one way to fail.

Every task body runs inside `admin_task`: a SchoolpleinError (bad roster,
content, setting or publish) is printed as the admin's message, never a
traceback, and exits non-zero.
"""

from __future__ import annotations

import functools
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from invoke import task

from plugins.errors import Problem, SchoolpleinError
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

        return task(body, **kwargs)

    if args and callable(args[0]):
        return wrap(args[0])
    return wrap


def settings() -> Settings:
    """The admin's settings (.env + environment + defaults)."""
    return load_settings()


def roster_and_sections(cfg: Settings):
    """The roster and the section map derived from it (who may read what), parsed once per
    roster (plugins.roster_cache: keyed by its bytes, so any change is parsed anew)."""
    from plugins import roster_cache

    return roster_cache.load(cfg.roster, cfg.school_name, cfg.build_cache)


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
    staging = Path(tempfile.mkdtemp(prefix=".build-", dir=target.parent))
    config = cfg.root / ("publishconf.py" if production else "pelicanconf.py")
    overrides = {"photo_strict": True} if strict else {}  # else SCHOOLPLEIN_STRICT decides
    try:
        built = pelican_build(config, output_path=str(staging), schoolplein_roster=str(cfg.roster),
                              path=str(cfg.content), photo_cache_dir=str(cfg.photo_cache),
                              photo_audit_dir=str(cfg.audit), schoolplein_private=str(cfg.private),
                              schoolplein_target=for_target, photo_blur=cfg.photo_blur,
                              **({"schoolplein_record_roster": False} if throwaway
                                 else incremental_overrides(cfg, target)),
                              **overrides)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    old = None
    if target.exists():
        old = target.with_name(f"{staging.name}-vorige")
        target.rename(old)
    staging.rename(target)
    if old is not None:
        remove_later(old)
    built["OUTPUT_PATH"] = str(target)
    return built


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
    (postvak.pending_publish), fingerprint the inputs, build (`make`), check the
    fingerprint, and let `release(built, fresh)` switch, which calls `fresh()`
    right before its switch and raises freshness.Stale when the inputs changed.
    A change during the build means: build again. Only after the switch are the
    noted withdrawals and changes acknowledged, so each stays pending until a
    publish that includes it is live. `only_if_pending`: a postvak round, which
    publishes only when something waits.
    """
    import postvak
    from plugins.roster import load_roster
    from publish import freshness

    pv = postvak.PostvakSettings.from_settings(cfg)
    with freshness.site_lock(cfg, out):
        for _attempt in range(MAX_BUILDS):
            left_out: list[str] = []
            postvak.export_threads(cfg.private, load_roster(cfg.roster), left_out)
            for problem in left_out:  # one entry that cannot be shown never stops the publish
                out(f"  NIET OP DE GEZINSPAGINA (de publicatie ging door): {problem}")
            pending = postvak.pending_publish(pv)
            if only_if_pending and not pending:
                return None
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
    """Build with production settings into output/ and hand it to the target (publish_site)."""
    return publish_site(
        cfg, lambda: build(cfg, strict, production=True, for_target=target.name),
        lambda built, fresh: target.publish(cfg, cfg.output, built["SCHOOLPLEIN_SECTIONS"],
                                            fresh=fresh),
        only_if_pending=only_if_pending, out=out)


def remove_later(folder: Path) -> None:
    """Delete the previous output beside the work that follows (thousands of folders take
    seconds on some file systems); a deletion that was cut off is finished next time."""
    import subprocess

    for leftover in folder.parent.glob(".build-*-vorige"):
        subprocess.Popen(["rm", "-rf", "--", str(leftover)], start_new_session=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
