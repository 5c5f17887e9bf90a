"""Lighthouse mobile on the basic-auth target (real nginx): accessibility 100, performance ≥ 95.

Lighthouse comes from the npm registry (tools/lighthouse, `npm ci` in scripts/bootstrap.sh)
and drives the system's Chromium (CHROME_PATH); the parent's login goes in as a header.
Lighthouse only audits a page answered with 200, so the 403 and logout pages are audited
at their own addresses (/403.html, /uitloggen/index.html): the same documents nginx sends
with 403 and 401. Lighthouse weighs how long each page keeps the CPU busy, so
scripts/test.sh runs this file on its own after the rest of the suite (beside other tests on
two cores the same page scored 0.83 to 0.96).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess

from tests.helpers import ROOT
from tests.http_client import login_of
from tests.site.test_pages_browser import POST

TOOL = ROOT / "tools" / "lighthouse"


def test_lighthouse_mobile_scores_on_the_pages_parents_use_most(nginx_site, roster,
                                                                demo_accounts):
    assert (TOOL / "node_modules" / "lighthouse").is_dir(), \
        "lighthouse ontbreekt: voer scripts/bootstrap.sh uit"
    base, _ = nginx_site
    parent = roster.parents["ouder-001"]
    login = ":".join(login_of(parent, demo_accounts))
    pages = {"403": f"{base}/403.html", "gezinspagina": f"{base}/gezin/{parent.family}/",
             "groep met foto's": base + POST, "uitloggen": f"{base}/uitloggen/index.html"}
    request = {"urls": list(pages.values()), "performance": 0.95,
               "headers": {"Authorization": "Basic " + base64.b64encode(login.encode()).decode()}}
    done = subprocess.run([shutil.which("node") or "node", str(TOOL / "audit.mjs"),
                           json.dumps(request)], cwd=TOOL, capture_output=True, text=True,
                          timeout=300, env=dict(os.environ, CHROME_PATH="/usr/bin/chromium"))
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    print(json.dumps(results, indent=1))
    for name, url in pages.items():
        seen = results[url]
        assert seen["error"] is None, (name, seen)
        assert seen["accessibility"] == 1, (name, seen)
        assert seen["performance"] >= 0.95, (name, seen)
        assert seen["cls"] <= 0.1, (name, seen)
