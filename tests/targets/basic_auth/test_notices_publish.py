"""`invoke publish` and its notices: a slow mail server never holds the site lock; `invoke rapport`.

The at-once notices of a publish are recorded and queued while the publish holds
the one site lock (so they describe exactly what went live), and sent after it
let go: a withdrawal round that needs the lock never waits for an SMTP server.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import time

from aiosmtpd.controller import Controller

from plugins.notice_prefs import Preference, encode_prefs, prefs_file
from publish.freshness import LOCK_NAME
from publish.targets.basic_auth import local_server
from tests.helpers import ROOT, demo_site, run_invoke
from tests.postvak.conftest import Recorder

PARENT = "ouder-001"


def _lock_is_free(private) -> bool:
    fd = os.open(private / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def test_a_stalled_mail_server_never_holds_the_site_lock(tmp_path, roster):
    handler = Recorder()
    port = local_server.free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, enable_SMTPUTF8=True)
    controller.start()
    try:
        env, _ = demo_site(tmp_path, local_server.free_port())
        env.update(SCHOOLPLEIN_SMTP_HOST="127.0.0.1", SCHOOLPLEIN_SMTP_PORT=str(port),
                   SCHOOLPLEIN_SMTP_STARTTLS="false", SCHOOLPLEIN_SMTP_FROM="school@example.nl")
        private = tmp_path / "private"
        first = run_invoke("publish", "--target", "nginx", env=env)
        assert first.returncode == 0, first.stderr  # what is live now is not news
        path = prefs_file(private)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(encode_prefs({PARENT: Preference("direct")}))
        (tmp_path / "content" / "school" / "2026-11-30-nieuw.md").write_text(
            "Title: Schoolfotograaf komt\nDate: 2026-11-30 10:00\n\nTekst.\n")

        handler.stall = True  # the server takes the mail and never answers
        invoke = ROOT / ".venv" / "bin" / "invoke"
        proc = subprocess.Popen([str(invoke), "publish", "--target", "nginx"], cwd=ROOT,
                                env=dict(os.environ, **env), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        try:
            deadline = time.monotonic() + 240
            while handler.datas == 0 and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            assert handler.datas == 1, proc.communicate(timeout=5)[0] if proc.poll() else ""
            assert _lock_is_free(private)  # sending, and a withdrawal could publish meanwhile
        finally:
            handler.stall = False  # 451: the mail waits in the outbox
            output = proc.communicate(timeout=120)[0]
        assert proc.returncode == 0, output
        assert not handler.messages

        retry = run_invoke("meldingen", env=env)  # the next round sends what waited
        assert retry.returncode == 0, retry.stderr
        # (the round may also send what is due by today's clock, such as Monday's staff report)
        email = roster.parents[PARENT].email
        (data,) = [data for _, to, data in handler.messages if to == [email]]
        assert b"Subject: Nieuw: Schoolfotograaf komt" in data

        report = run_invoke("rapport", env=env)  # the staff report counts it, and names no pupil
        assert report.returncode == 0, report.stderr
        assert "Groepen zonder bericht in de laatste 14 dagen:" in report.stdout
        assert "1 verstuurd, 0 mislukt, 0 wachten op de mailserver" in report.stdout
        assert not [c.full_name for c in roster.children.values() if c.full_name in report.stdout]
    finally:
        controller.stop()


def test_a_notice_that_fails_never_fails_the_publish_and_says_so(tmp_path, capsys):
    from plugins.settings import load_settings
    from tasks.notices import after_publish
    from tests.helpers import demo_school

    cfg = load_settings(environ=demo_school(tmp_path))
    state = tmp_path / "private" / "meldingen" / "bekend.json"
    state.parent.mkdir(parents=True)
    state.write_text("{half geschreven")  # a damaged record: the notices cannot go on
    after_publish(cfg)  # returns: the publish that called it stays done
    err = capsys.readouterr().err
    assert "Meldingen aan ouders: niet gelukt, de volgende ronde probeert het opnieuw." in err
    assert state.read_text() == "{half geschreven"  # nothing was guessed over it
