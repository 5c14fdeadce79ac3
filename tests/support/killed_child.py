"""Injected kills: run a test module's function in a child process until it says it is blocked
mid-write, then SIGKILL it (no timing involved)."""

import select
import signal
import subprocess
import sys

from tests.support import REPO_ROOT

BLOCKED = "partly written"  # what the child prints, flushed, once it blocks


def kill_when_blocked(module: str, function: str, *args: str, timeout: float = 600) -> None:
    """Runs module.function(*args) in a child; SIGKILLs it once it prints BLOCKED (fails the
    test if it never does within timeout seconds)."""
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import sys; from {module} import {function}; {function}(*sys.argv[1:])",
            *args,
        ],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        ready, _, _ = select.select([child.stdout], [], [], timeout)
        line = child.stdout.readline() if ready else ""
        assert line.strip() == BLOCKED, f"the child never blocked: {line!r}"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
