"""Is a recorded process still the one we started, and how to stop it.

A service outlives the tutor session that deployed it, so the only link to it is the
pid in ``service.json``. A pid alone can lie: the process may have died and left a
zombie (when the deploying process is still around), or the pid may have been reused by
something else. So a process counts as running only if it exists, is not a zombie, and
started at the recorded time; and a process group is signalled only after checking it
is still ours.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path


def start_ticks(pid: int) -> int | None:
    """When ``pid`` started (clock ticks since boot), or None if it does not exist."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    except OSError:
        return None
    # The command name (field 2) may hold spaces or parentheses: split after its last ')'.
    fields = stat[stat.rfind(")") + 2:].split()
    try:
        return int(fields[19])  # field 22 overall: starttime
    except (IndexError, ValueError):
        return None


def _state(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2:].split()
    return fields[0] if fields else None


def _reap(pid: int) -> None:
    """Collect ``pid``'s exit status if it is our child, so it does not linger as a zombie."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def is_running(pid: int | None, started: int | None) -> bool:
    """True when ``pid`` is alive and is the process that started at ``started``."""
    if not pid:
        return False
    _reap(pid)
    if Path("/proc").is_dir() and Path("/proc/self/stat").exists():
        state = _state(pid)
        if state is None or state in ("Z", "X"):
            return False
        return started is None or start_ticks(pid) == started
    try:  # no /proc (not Linux): the best that can be done
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_group(pid: int, started: int | None, grace_seconds: float) -> bool:
    """SIGTERM the process group led by ``pid``, then SIGKILL it after ``grace_seconds``.

    The service runs in its own session, so its supervisor leads a group that holds its
    workers too. Returns True once the leader is gone.
    """
    if not is_running(pid, started):
        return True
    try:
        if os.getpgid(pid) != pid:
            # Not a group leader: not the process deploy started. Signal it alone.
            os.kill(pid, signal.SIGTERM)
        else:
            os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return True
    deadline = time.monotonic() + grace_seconds
    while time.monotonic() < deadline:
        if not is_running(pid, started):
            return True
        time.sleep(0.05)
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    for _ in range(40):
        if not is_running(pid, started):
            return True
        time.sleep(0.05)
    return not is_running(pid, started)
