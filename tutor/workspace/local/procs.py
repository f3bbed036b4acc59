"""Detached processes the tutor can find again, and a lock file.

Runs and services outlive the tutor: a learner may quit and come back tomorrow. So a
process is recorded as (pid, start token). The token is the process's start time from
``/proc/<pid>/stat``; a pid reused by an unrelated process has another start time, so it
is never mistaken for the run. Where ``/proc`` is missing (macOS) the token is None and
only the pid is compared.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Mapping, Sequence

from tutor.fileio import FileLock

# Popen objects of children this process started, so their exit can be reaped (a child
# that exited but was not waited for is a zombie and would still look alive).
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


def _proc_stat(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name, or None if unreadable."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            data = handle.read().decode("ascii", "replace")
    except OSError:
        return None
    # The command name is in parentheses and may itself contain spaces or ')'.
    return data[data.rfind(")") + 2:].split()


def process_start_token(pid: int) -> str | None:
    """The process's start time in clock ticks since boot, as text; None if unknown."""
    fields = _proc_stat(pid)
    if fields is None or len(fields) < 20:
        return None
    return fields[19]  # field 22 of stat(5); fields[0] is field 3 (state)


def reap_children() -> None:
    """Collect the exit status of our finished children, so none lingers as a zombie."""
    for pid, child in list(_CHILDREN.items()):
        if child.poll() is not None:
            _CHILDREN.pop(pid, None)


def process_is_running(pid: int | None, token: str | None) -> bool:
    """Whether the recorded process still exists (and is the same process, not a reused pid)."""
    if not pid:
        return False
    reap_children()
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else: compare the token below
    fields = _proc_stat(pid)
    if fields is None:
        # With /proc the process has just gone; without it (macOS) the pid is all we have.
        return not Path("/proc/self/stat").exists()
    if fields[0] in ("Z", "X"):  # a zombie has finished: only its exit status remains
        return False
    return token is None or fields[19] == token


def launch_detached(argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], log: Path) -> tuple[int, str | None]:
    """Start ``argv`` in its own session with stdout+stderr appended to ``log``.

    Its own session means closing the tutor's terminal (SIGHUP) does not kill it, and
    signalling its process group reaches whatever it started. Returns (pid, start token).
    """
    reap_children()
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        child = subprocess.Popen(
            list(argv), cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True, close_fds=True,
        )
    _CHILDREN[child.pid] = child
    return child.pid, process_start_token(child.pid)


def terminate(pid: int, token: str | None, grace_seconds: float = 5.0) -> bool:
    """Stop the process group of a recorded process: SIGTERM, then SIGKILL after the grace.

    Returns True when it is gone. Signals nothing if the pid now belongs to another process.
    """
    if not process_is_running(pid, token):
        return True
    _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    while time.monotonic() < deadline:
        if not process_is_running(pid, token):
            return True
        time.sleep(0.05)
    if process_is_running(pid, token):
        _signal_group(pid, signal.SIGKILL)
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        if not process_is_running(pid, token):
            return True
        time.sleep(0.05)
    return not process_is_running(pid, token)


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)  # start_new_session made the pid its group's id
    except ProcessLookupError:
        pass
    except PermissionError:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


@contextmanager
def file_lock(path: Path, timeout: float = 60.0) -> Iterator[FileLock]:
    """An exclusive advisory lock on ``path`` shared by every process of the workspace.

    The kernel drops the lock when its holder dies, so a killed process never leaves the
    workspace locked.
    """
    lock = FileLock(path)
    if not lock.acquire(timeout=timeout):
        from tutor.errors import TutorError

        raise TutorError(
            f"Another tutor process has held the lock {path} for over {timeout:.0f} s.",
            "Wait for it to finish (or close the other tutor window) and try again.",
        )
    try:
        yield lock
    finally:
        lock.release()
