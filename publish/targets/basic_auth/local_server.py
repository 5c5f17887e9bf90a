"""Run real nginx on 127.0.0.1 with the generated production config.

Used by `invoke serve` and by the tests, so a newcomer and the test suite
see exactly what parents will see.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from plugins.errors import Problem, SchoolpleinError

from .releases import Deploy
from .servers import nginx_main


def nginx_binary() -> str:
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None)
    if not found:
        raise SchoolpleinError(Problem(
            "nginx", None, "nginx is niet geïnstalleerd",
            "voer scripts/bootstrap.sh uit (installeert nginx met apt-get)"))
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(deploy: Deploy, port: int, run_dir: Path | None = None) -> subprocess.Popen:
    """Start nginx in the foreground as a child process; wait until it accepts connections."""
    run = Path(run_dir or deploy.root / "run").resolve()
    run.mkdir(parents=True, exist_ok=True)
    conf = run / "nginx.conf"
    conf.write_text(nginx_main(deploy.nginx_conf, run))
    binary = nginx_binary()
    check = subprocess.run([binary, "-t", "-q", "-c", str(conf), "-p", str(run)],
                           capture_output=True, text=True)
    if check.returncode:
        raise SchoolpleinError(Problem(str(conf), None, "nginx-configuratie ongeldig:\n"
                                       + check.stderr.strip(), "meld dit als fout in Schoolplein"))
    proc = subprocess.Popen([binary, "-c", str(conf), "-p", str(run)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SchoolpleinError(Problem(str(conf), None, "nginx startte niet: "
                                           + proc.stderr.read().decode(errors="replace"),
                                           f"is poort {port} al in gebruik? kies een andere"))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.05)
    stop(proc)
    raise SchoolpleinError(Problem(str(conf), None, "nginx reageert niet", "zie run/error.log"))


class Watch:
    """Tells when any of some paths was replaced or changed since the last look.

    `invoke build` swaps the output folder (a new inode); `invoke accounts`
    replaces the accounts file: (inode, mtime) of each path catches both.
    """

    def __init__(self, paths: list[Path]):
        self.paths = [Path(p) for p in paths]
        self.seen = self._state()

    def _state(self) -> tuple:
        state = []
        for path in self.paths:
            try:
                st = path.stat()
                state.append((st.st_ino, st.st_mtime_ns))
            except FileNotFoundError:
                state.append(None)
        return tuple(state)

    def changed(self) -> bool:
        now = self._state()
        if now == self.seen:
            return False
        self.seen = now
        return True


def reload(proc: subprocess.Popen) -> None:
    """nginx re-reads its config and the password file; running requests finish first."""
    proc.send_signal(signal.SIGHUP)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
