"""The basic-auth target: nginx or Apache, one login for the school, access per section.

`TARGET` is what `invoke publish --target nginx` uses (publish.targets). The
work is in access (who may log in where), servers (the generated nginx and
Apache configs) and releases (complete, readable releases switched atomically);
local_server runs real nginx for `invoke serve` and the tests.
"""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

from plugins.errors import Problem, SchoolpleinError
from plugins.sections import SectionMap
from plugins.settings import Settings
from publish.accounts import load_accounts
from publish.secret_scan import refuse_secrets

from .access import htpasswd_lines
from .inbox import collect_spool, collect_team_spool, pull_remote
from .releases import LOCK_NAME, Deploy, plan, publish, publish_lock, rsync_command
from .servers import apache_main, nginx_main

__all__ = ["LOCK_NAME", "TARGET", "Deploy", "apache_main", "htpasswd_lines", "nginx_main",
           "publish", "publish_lock", "rsync_command"]


class BasicAuthTarget:
    name = "nginx"
    title = "nginx of Apache met één login voor de school"

    @staticmethod
    def deploy_root(settings: Settings) -> Path:
        return settings.deploy / "nginx"

    def plan(self, settings: Settings, output: Path, sections: SectionMap) -> None:
        """Print what a publish would add, change and remove; change nothing."""
        refuse_secrets(output, settings)
        added, changed, removed = plan(output, self.deploy_root(settings))
        print(f"Plan (er verandert niets): {len(added)} nieuw, {len(changed)} gewijzigd, "
              f"{len(removed)} verwijderd.")
        for label, files in (("nieuw", added), ("gewijzigd", changed), ("verwijderd", removed)):
            for name in files[:50]:
                print(f"  {label:10s} {name}")

    def publish(self, settings: Settings, output: Path, sections: SectionMap,
                fresh=None) -> None:
        """A new release from the checked output; with SCHOOLPLEIN_RSYNC_DEST, onto the server.

        `fresh()` is asked right before the switch (publish.freshness): False raises Stale.
        """
        refuse_secrets(output, settings)  # before any live file is replaced
        deploy = publish(output, self.deploy_root(settings), sections,
                         load_accounts(settings.private), settings.listen, settings.hsts,
                         server_root=settings.server_root, web_user=settings.web_user,
                         fresh=fresh)
        print(f"Gepubliceerd in {deploy.root} (nginx: {deploy.nginx_conf}, "
              f"Apache: {deploy.apache_conf})")
        if settings.rsync_dest:
            with publish_lock(deploy.root):  # never while a release is written
                command = rsync_command(deploy.root, settings.rsync_dest)
                done = subprocess.run(command)
            if done.returncode:
                raise SchoolpleinError(Problem(
                    shlex.join(command), None, f"rsync naar de server mislukte ({done.returncode})",
                    "controleer SCHOOLPLEIN_RSYNC_DEST en de ssh-toegang; opnieuw publiceren is "
                    "veilig (de server houdt de vorige versie tot rsync klaar is)"))


    def collect(self, settings: Settings, store) -> int:
        """The postvak: from the local spool, or pulled from the server first (rsync)."""
        spool = Deploy(self.deploy_root(settings)).spool
        if settings.rsync_dest:
            staging = settings.private / "postvak" / "binnenkomst"
            pull_remote(f"{settings.rsync_dest}/{spool.name}", staging)
            return collect_spool(staging, store)
        return collect_spool(spool, store)

    def collect_team(self, settings: Settings, store) -> int:
        """The staff postvak (postvak.team): the same spool's team/ part."""
        spool = Deploy(self.deploy_root(settings)).spool
        if settings.rsync_dest:  # collect() pulled the whole spool, team/ included
            return collect_team_spool(settings.private / "postvak" / "binnenkomst", store)
        return collect_team_spool(spool, store)


TARGET = BasicAuthTarget()
