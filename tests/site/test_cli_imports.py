"""`invoke build` as a teacher runs it pays only for the build: no publish, mail or key code."""

from __future__ import annotations

import os
import subprocess
import sys

from publish import targets
from tests.helpers import ROOT

# What a warm `invoke build` never needs: the targets (boto3, the CloudFront code, the server
# configs), accounts (bcrypt), keys and letters (cryptography, qrcode), the postvak and its mail,
# and the photo encoder when every photo comes from the cache (pillow-heif, colour management;
# PIL.Image itself comes with Pelican: docutils imports it).
NOT_NEEDED = ("boto3", "botocore", "bcrypt", "cryptography", "qrcode", "smtplib", "postvak",
              "publish.accounts", "publish.targets.basic_auth", "publish.targets.cloudfront",
              "pillow_heif", "PIL.ImageCms", "plugins.photos.encode")

PROBE = """
import atexit, runpy, sys
def report():
    with open({out!r}, "w") as fh:
        fh.write("\\n".join(sorted(sys.modules)))
atexit.register(report)
sys.argv = ["invoke", "build"]
runpy.run_path({invoke!r}, run_name="__main__")
"""


def test_the_target_names_need_no_target_import():
    assert targets.names() == tuple(targets._table())


def test_a_warm_invoke_build_imports_only_what_the_build_needs(tmp_path):
    env = dict(os.environ, SCHOOLPLEIN_OUTPUT=str(tmp_path / "output"),
               SCHOOLPLEIN_BUILD_CACHE=str(tmp_path / "build-cache"),
               SCHOOLPLEIN_PHOTO_CACHE=str(tmp_path / "photo-cache"),
               SCHOOLPLEIN_AUDIT=str(tmp_path / "audit"))
    invoke = str(ROOT / ".venv" / "bin" / "invoke")
    if not os.path.exists(invoke):
        invoke = str(os.path.join(os.path.dirname(sys.executable), "invoke"))
    subprocess.run([invoke, "build"], cwd=ROOT, env=env, check=True, capture_output=True)
    out = tmp_path / "modules.txt"
    done = subprocess.run([sys.executable, "-c", PROBE.format(out=str(out), invoke=invoke)],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Klaar: site gebouwd" in done.stdout
    loaded = out.read_text().split()
    assert not [m for m in loaded if any(m == n or m.startswith(f"{n}.") for n in NOT_NEEDED)]
