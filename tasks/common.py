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
from pathlib import Path

from invoke import task

from plugins.errors import SchoolpleinError
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


def roster_and_sections(cfg: Settings, with_former: bool = False):
    """The roster and the section map derived from it (who may read what).

    `with_former`: the roster also holds the parents who left but still read a
    kept archive (plugins.archive), for their logins and letters.
    """
    from plugins.archive import account_roster, load_archives
    from plugins.roster import load_roster
    from plugins.sections import build_section_map

    roster = load_roster(cfg.roster)
    archives = load_archives(cfg.roster, cfg.retention_months).live
    sections = build_section_map(roster, cfg.school_name, archives)
    return (account_roster(roster, archives) if with_former else roster), sections


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
          production: bool = False, incremental: bool = True) -> dict:
    """Build into a fresh staging folder, then move it into place: no half outputs.

    What did not change since the previous build into `output` is reused from
    it (plugins.incremental), so unchanged files keep their bytes and mtimes.
    A throwaway build (`invoke check`) passes incremental=False: it leaves no
    manifest or reader cache behind for a folder that is about to vanish.
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
                              **(incremental_overrides(cfg, target) if incremental else {}),
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


def build_and_publish(cfg: Settings, target, strict: bool = False) -> None:
    """Build with production settings into output/ and hand it to the target.

    First, archives past their retention are deleted (records.retention): the
    publish then takes them off the target too.
    """
    from records.retention import sweep

    sweep(cfg)
    built = build(cfg, strict, production=True)
    target.publish(cfg, cfg.output, built["SCHOOLPLEIN_SECTIONS"])


def remove_later(folder: Path) -> None:
    """Delete the previous output beside the work that follows (thousands of folders take
    seconds on some file systems); a deletion that was cut off is finished next time."""
    import subprocess

    for leftover in folder.parent.glob(".build-*-vorige"):
        subprocess.Popen(["rm", "-rf", "--", str(leftover)], start_new_session=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
