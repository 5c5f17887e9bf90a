"""The publish targets, found by name: each knows how to plan and publish a checked build.

A target is a package under publish/targets/ exposing `TARGET` with
`name`, `title`, `plan(settings, output, sections)` (print the plan, change
nothing), `publish(settings, output, sections, fresh=None)` (calls `fresh()`
right before its first change goes live and raises publish.freshness.Stale
when it says False), and
`collect(settings, store) -> int`: hand every new postvak submission (what
parents PUT to /gezin/<id>/postvak/<uuid>.json) to `store` as a
`postvak.Received`, and remove it from the transport only after `store`
returned (the submission is then durable in the private folder). The build
before a publish is the same for every target (tasks/publishing.py); a new
target is a new package here, one line in `_table` and its name in `NAMES`.
"""

from __future__ import annotations

from typing import Protocol

from plugins.errors import Problem, SchoolpleinError


class Target(Protocol):
    name: str
    title: str

    def plan(self, settings, output, sections) -> None: ...

    def publish(self, settings, output, sections, fresh=None) -> None: ...

    def collect(self, settings, store) -> int: ...

    def collect_team(self, settings, store) -> int: ...  # the staff postvak's files


# The targets' names without importing them (boto3, the CloudFront and mail code): the task
# help texts need them at every `invoke` start. A test holds them equal to `_table()`.
NAMES = ("nginx", "cloudfront")


def _table() -> dict[str, Target]:
    from .basic_auth import TARGET as BASIC_AUTH
    from .cloudfront import TARGET as CLOUDFRONT

    return {t.name: t for t in (BASIC_AUTH, CLOUDFRONT)}


def target(name: str) -> Target:
    table = _table()
    if name not in table:
        raise SchoolpleinError(Problem(
            "invoke publish --target", None, f"onbekend doel '{name}'",
            "kies " + " of ".join(f"--target {n} ({t.title})" for n, t in table.items())))
    return table[name]


def names() -> tuple[str, ...]:
    return NAMES
