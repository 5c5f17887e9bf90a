"""The Apache variant of the basic-auth target, on real Apache from Debian."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from publish import accounts, basic_auth, local_server
from tests.spine.http_client import Client

APACHE = shutil.which("apache2") or "/usr/sbin/apache2"


@pytest.fixture(scope="module")
def apache_site(demo_build, sections, demo_accounts):
    assert Path(APACHE).exists(), "apache2 ontbreekt: voer scripts/bootstrap.sh uit"
    output, _ = demo_build
    private, _ = demo_accounts
    # Apache's workers drop root to www-data: the publish itself makes the release and the
    # password files readable for that user (and checks it), as on a real server.
    base = Path(tempfile.mkdtemp(prefix="sp-apache-", dir="/tmp"))
    os.chmod(base, 0o755)
    port = local_server.free_port()
    listen = f"127.0.0.1:{port}"
    deploy = basic_auth.publish(output, base / "deploy", sections,
                                accounts.load_accounts(private), listen,
                                web_user="www-data" if os.geteuid() == 0 else None)
    run = base / "run"
    run.mkdir()
    os.chmod(run, 0o777)
    conf = run / "httpd.conf"
    conf.write_text(basic_auth.apache_main(deploy.apache_conf, run, listen))
    check = subprocess.run([APACHE, "-t", "-f", str(conf)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    proc = subprocess.Popen([APACHE, "-DFOREGROUND", "-f", str(conf)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            assert proc.poll() is None and time.monotonic() < deadline, (
                proc.stderr.read() if proc.poll() is not None else "apache start timeout")
            time.sleep(0.05)
    try:
        yield f"http://{listen}", run / "error.log"
    finally:
        local_server.stop(proc)
        shutil.rmtree(base, ignore_errors=True)


def test_apache_enforces_the_same_section_map(apache_site, roster, sections, demo_accounts,
                                              demo_build):
    output, _ = demo_build
    _, passwords = demo_accounts
    url, error_log = apache_site
    client = Client(url)
    try:
        people = [roster.parents["ouder-001"], roster.staff["lk-02"], roster.staff["mt-01"],
                  roster.parents["ouder-003"]]
        for section in sections:
            assert client.get(section.prefix)[0] == (401 if section.protected else 200), \
                error_log.read_text()[-2000:]
            for person in people:
                status, _, headers = client.get(section.prefix,
                                                (person.email, passwords[person.id]))
                expected = 200 if not section.protected or person.id in section.readers else 401
                assert status == expected, (person.id, section.prefix, status,
                                            error_log.read_text()[-2000:])
        status, _, headers = client.get("/school/")
        assert "noindex" in headers["X-Robots-Tag"]
        assert headers["Cache-Control"] == "no-cache"
        mt = roster.staff["mt-01"]
        photo = next((output / "groep" / "groep-3" / "fotos").iterdir()).name
        status, _, headers = client.get(f"/groep/groep-3/fotos/{photo}",
                                        (mt.email, passwords[mt.id]))
        assert status == 200 and headers["Cache-Control"].startswith("private, max-age=")
        assert client.get("/groep/groep-3/.htaccess")[0] in (401, 403, 404)
        assert client.get("/theme/", None)[0] in (403, 404)
    finally:
        client.close()
