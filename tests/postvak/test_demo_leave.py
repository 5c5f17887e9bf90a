"""The demo school has one leave request waiting for the directie (`invoke demo` sends it)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from tests.helpers import ROOT, demo_school, run_invoke

SEED = "from tasks.common import settings; from tasks.inbox import seed_demo_leave; " \
       "seed_demo_leave(settings())"


def test_the_demo_has_one_leave_request_for_invoke_verlof(tmp_path):
    env = demo_school(tmp_path, SCHOOLPLEIN_WEB_USER=os.environ.get("USER", "root"))
    for _ in range(2):  # every demo start: still one request
        seeded = subprocess.run([sys.executable, "-c", SEED], cwd=ROOT, env={**os.environ, **env},
                                capture_output=True, text=True, timeout=120)
        assert seeded.returncode == 0, seeded.stderr
    processed = run_invoke("postvak", "--target", "nginx", env=env)
    assert processed.returncode == 0, processed.stdout + processed.stderr
    listed = run_invoke("verlof", env=env)
    assert listed.returncode == 0, listed.stderr
    rows = re.findall(r"^\w{8}\s+OPEN\s+Ömer de Vries: .*vakantie buiten de schoolvakanties",
                      listed.stdout, re.M)
    assert len(rows) == 1, listed.stdout
