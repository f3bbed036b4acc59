"""The tutor's side of the exercise kernel: start it, run code, stream its output, stop it.

The kernel is a child process in a session of its own, so the terminal's Ctrl-C reaches the
tutor only; the tutor passes it on as SIGINT, and when the learner's code does not stop within
a grace period (a loop in C, a handler that swallows KeyboardInterrupt) the kernel is killed
and a fresh one takes its place. Runs and services the learner's code started are detached
processes of the workspace, not of the kernel, so they outlive it as they would on Azure.
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from tutor.errors import TutorError

GRACE_S = 3.0
FLUSH_S = 2.0  # at most this long for the output of a run after its reply


@dataclass
class Outcome:
    status: str  # "ok" | "error" | "interrupted" | "died" | "timeout"
    error: str | None
    duration_s: float


@dataclass
class NameInfo:
    defined: bool
    type: str | None
    repr: str | None


_MARK_START = "\x1e\x1f"
_MARK_RE = re.compile("\x1e\x1ftutor-end:([^\x1f]*)\x1f\x1e")
_MARK_LONGEST = 40


class Kernel:
    def __init__(self, *, embedded: Path | None = None, azure_config: Path | None = None, cwd: Path,
                 env: dict[str, str] | None = None) -> None:
        if (embedded is None) == (azure_config is None):
            raise ValueError("a kernel needs exactly one of embedded and azure_config")
        self.embedded, self.azure_config, self.cwd = embedded, azure_config, Path(cwd)
        self.env = env
        self._proc: subprocess.Popen[bytes] | None = None
        self._events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._next_id = 0
        self._on_output: Callable[[str, str], None] | None = None
        self._interrupted_at: float | None = None
        self._timed_out = False
        self._marks: set[tuple[str, str]] = set()  # (stream, request id) of end-of-run marks seen

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        read_fd, write_fd = os.pipe()
        where = ["--embedded", str(self.embedded)] if self.embedded else ["--azure", str(self.azure_config)]
        env = dict(self.env if self.env is not None else os.environ)
        env["PYTHONUNBUFFERED"] = "1"
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "tutor.exercises.kernel", *where, "--reply-fd", str(write_fd)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=self.cwd, env=env,
                pass_fds=(write_fd,), start_new_session=True)
        except OSError as exc:
            os.close(read_fd)
            os.close(write_fd)
            raise TutorError(f"The Python for your code could not start ({exc}).",
                             "Check that this Python can run `python -m tutor.exercises.kernel --help`.") from None
        os.close(write_fd)
        self._events = queue.Queue()
        self._marks = set()
        proc = self._proc
        for stream, handle in (("stdout", proc.stdout), ("stderr", proc.stderr)):
            threading.Thread(target=self._pump, args=(stream, handle), daemon=True).start()
        threading.Thread(target=self._replies, args=(os.fdopen(read_fd, "r", encoding="utf-8"),), daemon=True).start()
        said: list[str] = []  # what the kernel prints while it starts: the reason, if it does not
        previous, self._on_output = self._on_output, lambda stream, text: said.append(text)
        try:
            first = self._wait_reply(None, timeout=120.0)
        finally:
            self._on_output = previous
        if first is None or not first.get("ready"):
            err = "".join(said) + self._drain_text()
            self._kill()
            raise TutorError("The Python for your code stopped as it started" + (f": {err.strip()}" if err else "."),
                             "Run `tutor python` to see the same start on its own, and fix what it says.")

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def restart(self) -> None:
        self._kill()
        self.start()

    def close(self) -> None:
        if self._proc is None:
            return
        try:
            if self._proc.stdin:
                self._proc.stdin.close()
            self._proc.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self._kill()

    def __enter__(self) -> "Kernel":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _kill(self) -> None:
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                proc.kill()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self._proc = None

    # -- reading ---------------------------------------------------------------------
    def _pump(self, stream: str, handle: Any) -> None:
        """The kernel's output as "out" events, with a "mark" event where a run's output ends."""
        import codecs

        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        pending = ""
        while True:
            chunk = os.read(handle.fileno(), 4096)
            if not chunk:
                break
            pending += decoder.decode(chunk)
            while True:
                found = _MARK_RE.search(pending)
                if found is None:
                    break
                if found.start():
                    self._events.put(("out", (stream, pending[:found.start()])))
                self._events.put(("mark", (stream, found.group(1))))
                pending = pending[found.end():]
            # Keep back what could be the start of a mark cut by the chunk's end.
            cut = pending.rfind(_MARK_START[0])
            keep = pending[cut:] if cut >= 0 and len(pending) - cut < _MARK_LONGEST else ""
            text = pending[: len(pending) - len(keep)]
            if text:
                self._events.put(("out", (stream, text)))
            pending = keep
        if pending:
            self._events.put(("out", (stream, pending)))
        self._events.put(("closed", stream))

    def _replies(self, handle: Any) -> None:
        for line in handle:
            try:
                self._events.put(("reply", json.loads(line)))
            except ValueError:
                continue
        self._events.put(("gone", None))

    def _drain_text(self) -> str:
        parts = []
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            try:
                kind, value = self._events.get(timeout=0.1)
            except queue.Empty:
                if not self.alive:
                    break
                continue
            if kind == "out":
                parts.append(value[1])
        return "".join(parts)

    def _wait_reply(self, request_id: int | None, *, timeout: float | None = None,
                    interruptible: bool = False) -> dict[str, Any] | None:
        """The reply to ``request_id``; None when the kernel died. Ctrl-C is passed on as SIGINT."""
        deadline = time.monotonic() + timeout if timeout else None
        self._interrupted_at = None
        gone = False
        while True:
            try:
                try:
                    kind, value = self._events.get(timeout=0.05)
                except queue.Empty:
                    kind, value = "", None
                if kind == "out":
                    if self._on_output is not None:
                        self._on_output(*value)
                    continue
                if kind == "mark":  # kept for _flush_output: the output of that run is all shown
                    self._marks.add((value[0], value[1]))
                    continue
                if kind == "reply" and (request_id is None or value.get("id") == request_id):
                    return value
                if kind == "gone":
                    gone = True
                if gone and not self.alive and self._events.empty():
                    return None
                now = time.monotonic()
                if self._interrupted_at is not None and now - self._interrupted_at > GRACE_S:
                    self._kill()
                    return {"status": "interrupted",
                            "error": "Your code did not stop, so its Python was restarted: names from earlier "
                                     "steps are rebuilt."}
                if deadline is not None and now > deadline:
                    if not interruptible:
                        return None
                    self.interrupt()
                    deadline = None
                    self._timed_out = True
            except KeyboardInterrupt:
                if not interruptible:
                    raise
                if self._interrupted_at is not None:  # a second Ctrl-C: stop it now
                    self._kill()
                    return {"status": "interrupted", "error": "Stopped at once; its Python was restarted."}
                self.interrupt()

    def interrupt(self) -> None:
        """SIGINT to the kernel: KeyboardInterrupt in the learner's running code."""
        if self.alive:
            assert self._proc is not None
            self._interrupted_at = time.monotonic()
            os.kill(self._proc.pid, signal.SIGINT)

    # -- requests --------------------------------------------------------------------
    def _request(self, message: dict[str, Any]) -> int:
        if not self.alive:
            self.restart()
        assert self._proc is not None and self._proc.stdin is not None
        self._next_id += 1
        message["id"] = self._next_id
        try:
            self._proc.stdin.write((json.dumps(message) + "\n").encode("utf-8"))
            self._proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass
        return self._next_id

    def _died(self, started: float) -> Outcome:
        proc = self._proc
        code = proc.poll() if proc is not None else None
        how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        self._proc = None
        return Outcome("died", how, time.monotonic() - started)

    def run(self, code: str, on_output: Callable[[str, str], None], *, timeout: float | None = None) -> Outcome:
        started = time.monotonic()
        self._on_output = on_output
        self._timed_out = False
        request_id = self._request({"op": "run", "code": code})
        try:
            reply = self._wait_reply(request_id, timeout=timeout, interruptible=True)
        finally:
            self._flush_output(request_id)
            self._on_output = None
        if reply is None:
            return self._died(started)
        status = "timeout" if self._timed_out and reply.get("status") == "interrupted" else reply.get("status", "error")
        return Outcome(status, reply.get("error"), time.monotonic() - started)

    def _flush_output(self, request_id: int) -> None:
        """Show what the run printed last, which may come after its reply: up to the kernel's
        end-of-run mark on both streams (a kernel that died or closed a stream is not waited for)."""
        waiting = {stream for stream in ("stdout", "stderr") if (stream, str(request_id)) not in self._marks}
        self._marks = {m for m in self._marks if m[1] != str(request_id)}
        deadline = time.monotonic() + FLUSH_S
        while waiting:
            try:
                kind, value = self._events.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                return
            if kind == "out" and self._on_output is not None:
                self._on_output(*value)
            elif kind == "mark" and value[1] == str(request_id):
                waiting.discard(value[0])
            elif kind == "closed":
                waiting.discard(value)

    def bind(self, code: str) -> Outcome:
        started = time.monotonic()
        request_id = self._request({"op": "bind", "code": code})
        reply = self._wait_reply(request_id, interruptible=True)
        self._flush_output(request_id)  # quiet: consumes its marks (and any output below them)
        if reply is None:
            return self._died(started)
        return Outcome(reply.get("status", "error"), reply.get("error"), time.monotonic() - started)

    def names(self, names: Sequence[str]) -> dict[str, NameInfo]:
        reply = self._wait_reply(self._request({"op": "names", "names": list(names)}), timeout=30)
        found = (reply or {}).get("names") or {}
        return {n: NameInfo(**found[n]) if n in found else NameInfo(False, None, None) for n in names}

    def evaluate(self, expr: str) -> tuple[bool, Any]:
        reply = self._wait_reply(self._request({"op": "eval", "expr": expr}), timeout=300, interruptible=True)
        if reply is None or "ok" not in reply:
            return False, "the Python for your code stopped"
        return bool(reply["ok"]), reply.get("value")
