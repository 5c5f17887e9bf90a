"""The staff postvak's part of a postvak round: collect, process, then publish exactly once.

Called by tasks.inbox.collect_and_process beside the parents' postvak, so one
round (the timer, `--watch`, the demo's loop) does both and publishes once. A
build that fails on a new post takes that post out again (postvak.team.revert:
the teacher's team page says why) and publishes the rest; any other failure
leaves the previous site online and is raised, like every failed publish.
"""

from __future__ import annotations

from collections.abc import Callable

from plugins.errors import SchoolpleinError
from plugins.settings import Settings


def team_settings(cfg: Settings, git: bool = True):
    import postvak
    from postvak.team import TeamSettings

    return TeamSettings(postvak.PostvakSettings.from_settings(cfg), cfg.content, git,
                        cfg.min_children)


def process_team(cfg: Settings, collect_team: Callable | None, out=print, git: bool = True):
    """Collect and process the staff postvak; returns its summary."""
    from postvak import team

    ts = team_settings(cfg, git)
    collected = collect_team(lambda f: team.intake_file(f, cfg.private)) if collect_team else 0
    summary = team.process(ts)
    if collected or summary.anything or summary.urgent:
        out(f"Teampostvak: {collected} bestand(en) opgehaald.\n{summary.text()}")
    return ts, summary


def _blamed(exc: SchoolpleinError, record: dict) -> str:
    """The build's complaint about this post (Dutch), or '' when the failure is elsewhere."""
    key = record["key"].removesuffix(".md")
    page = record["url"].strip("/") + "/"
    for problem in exc.problems:
        if key in problem.file.replace("\\", "/") or page in problem.file:
            return f"de site kon er niet mee gebouwd worden: {problem.message} ({problem.fix})"
    return ""


def publish_with_team(ts, publish: Callable[[], object], out=print):
    """Publish once; the team page of each new post says *geplaatst* in that same publish.

    Each post applied but not yet live gets a durable "needs publishing" marker
    (postvak.store.mark_to_publish), so the round's publish (only when something
    waits) carries it, and a publish that dies leaves it waiting for the next.
    Returns what `publish()` returned (what went live, or None).
    """
    from postvak import store, team

    waiting = team.pending(ts)
    for ident in waiting:
        store.mark_to_publish(ts.private, f"team-{ident}")
    team.mark_placed(ts, waiting)
    try:
        published = publish()
    except SchoolpleinError as exc:
        blamed = {i: r for i in waiting if (r := _blamed(exc, team.record_of(ts, i)))}
        if not blamed:
            team.mark_placed(ts, waiting, placed=False)
            raise
        for ident, reason in blamed.items():
            team.revert(ts, ident, reason)
            out(f"Teampostvak: {ident} niet geplaatst: {reason}")
        published = publish()  # the rest, without the post the build refused
        waiting = [i for i in waiting if i not in blamed]
    team.published(ts, waiting)
    return published
