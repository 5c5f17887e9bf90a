"""Run an admin task (`invoke <args>`) in this process, stopping or killing itself at one step.

    python tests/run_task.py <module>:<function>:<before|after>:<n>:<stop|kill> <invoke args...>

The n-th call of `<module>.<function>` sends this process SIGSTOP (the test then
does its work and sends SIGCONT) or SIGKILL, right before or right after that
call. It is the real task code in a process of its own, only paused or killed
at a named step: how a slow disk or a power cut would meet it.
"""

from __future__ import annotations

import functools
import importlib
import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def hook(spec: str) -> None:
    module_name, name, when, nth, action = spec.split(":")
    module = importlib.import_module(module_name)
    real = getattr(module, name)
    calls = [0]
    sig = signal.SIGSTOP if action == "stop" else signal.SIGKILL

    @functools.wraps(real)
    def wrapped(*args, **kwargs):
        calls[0] += 1
        hit = calls[0] == int(nth)
        if hit and when == "before":
            os.kill(os.getpid(), sig)
        result = real(*args, **kwargs)
        if hit and when == "after":
            sys.stdout.flush()
            os.kill(os.getpid(), sig)
        return result

    setattr(module, name, wrapped)


if __name__ == "__main__":
    from invoke import Program

    import tasks

    if sys.argv[1] != "-":
        hook(sys.argv[1])
    Program(namespace=tasks.ns).run(["invoke", *sys.argv[2:]])
