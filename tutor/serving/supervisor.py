"""The service's own process: it holds the port, runs the workers and keeps the record.

``deploy`` starts it detached (its own session, so closing the tutor does not stop the
service) and hands it the listening socket. It starts the workers, marks the service
Healthy when all have run ``init()``, Failed (with the reason) when one could not, and
restarts a worker that dies later, as a container platform would; a worker that keeps
dying fails the service rather than looping forever. On SIGTERM (``delete``) it stops
the workers and exits.

It is also the log's only writer. Each worker's stdout and stderr (its log lines, what
score.py prints, warnings, tracebacks) come to it through a pipe, line by line, and go
to ``service.log`` through one ``RotatingFileHandler``: when the file reaches the
service's ``log_max_bytes`` it becomes ``service.log.1`` (and so on, up to
``LOG_BACKUPS`` parts), so a flood of refused requests cannot fill the disk, and no
line is torn or lost to a rotation, as it could be with several processes rotating one
file.
"""

from __future__ import annotations

import logging
import logging.handlers
import math
import os
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tutor.serving import record

logger = logging.getLogger("tutor.serving.supervisor")

POLL_SECONDS = 0.1
STOP_GRACE_SECONDS = 6.0
# A worker that dies this many times within the window fails the service.
MAX_RESTARTS = 3
RESTART_WINDOW_SECONDS = 60.0
# A worker's output is relayed line by line; a "line" longer than this is cut.
MAX_LINE_BYTES = 64 * 1024
SUPERVISOR_FORMAT = "%(asctime)s supervisor [%(process)d] %(levelname)s: %(message)s"

relayed = logging.getLogger("tutor.serving.output")


class _LogFormatter(logging.Formatter):
    """The supervisor's own records in its format; a worker's lines exactly as it wrote them."""

    def format(self, record: logging.LogRecord) -> str:
        if getattr(record, "relayed", False):
            return record.getMessage()
        return super().format(record)


class _ServiceLogHandler(logging.handlers.RotatingFileHandler):
    """A RotatingFileHandler that also points this process's stdout and stderr at the
    current file, so what bypasses logging (a crash of the interpreter) is not written
    to a part that was rotated away."""

    def _follow(self) -> None:
        if self.stream is not None:
            self.stream.flush()
            for fd in (1, 2):
                os.dup2(self.stream.fileno(), fd)

    def doRollover(self) -> None:  # noqa: N802 - the logging API's name
        super().doRollover()
        self._follow()


@dataclass
class _Worker:
    index: int
    process: subprocess.Popen[bytes]
    ready: bool = False
    restarts: list[float] = field(default_factory=list)
    # What the worker wrote after its last newline, not yet relayed.
    partial: bytes = b""


class Supervisor:
    def __init__(self, service_dir: Path, listen_fd: int) -> None:
        self.service_dir = service_dir
        self.listen_fd = listen_fd
        self.info = record.read(service_dir)
        self.stopping = False
        self.ready_r, self.ready_w = os.pipe()
        self.lifeline_r, self.lifeline_w = os.pipe()
        self.workers: dict[int, _Worker] = {}
        self._buffer = b""

    # -- process management -------------------------------------------------------
    def _worker_env(self) -> dict[str, str]:
        env = dict(os.environ)
        # One BLAS/OpenMP thread per requested core: the deployment's cpu_cores, like a
        # container's CPU limit, and no oversubscription when several workers share cores.
        threads = str(max(1, math.floor(self.info.config.cpu_cores)))
        for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[name] = threads
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def _spawn(self, index: int) -> subprocess.Popen[bytes]:
        command = [
            sys.executable, "-m", "tutor.serving", "worker", str(self.service_dir),
            "--index", str(index),
            "--listen-fd", str(self.listen_fd),
            "--ready-fd", str(self.ready_w),
            "--lifeline-fd", str(self.lifeline_r),
        ]
        process = subprocess.Popen(
            command,
            pass_fds=(self.listen_fd, self.ready_w, self.lifeline_r),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=self._worker_env(),
            cwd=str(Path(self.info.config.app_script).parent),
        )
        assert process.stdout is not None
        os.set_blocking(process.stdout.fileno(), False)
        logger.info("started worker %d (pid %d)", index, process.pid)
        return process

    def _stop_workers(self) -> None:
        for worker in self.workers.values():
            if worker.process.poll() is None:
                worker.process.terminate()
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        # Keep relaying while they stop: a worker blocked on a full pipe could not exit.
        while time.monotonic() < deadline and any(w.process.poll() is None for w in self.workers.values()):
            self._poll(0.05)
        for worker in self.workers.values():
            if worker.process.poll() is None:
                logger.warning("worker %d did not stop in time; killing it", worker.index)
                worker.process.kill()
                worker.process.wait()
            self._close_output(worker)

    # -- the workers' output ----------------------------------------------------------
    def _relay(self, worker: _Worker) -> None:
        """Relay what ``worker`` wrote (whole lines; the rest waits for its newline)."""
        stream = worker.process.stdout
        if stream is None or stream.closed:
            return
        while True:
            try:
                chunk = os.read(stream.fileno(), 65536)
            except BlockingIOError:
                break
            except OSError:
                chunk = b""
            if not chunk:  # the worker and everything it started have closed the pipe
                self._flush_partial(worker)
                stream.close()
                break
            *lines, worker.partial = (worker.partial + chunk).split(b"\n")
            for line in lines:
                relayed.info("%s", line.decode("utf-8", "replace"), extra={"relayed": True})
            if len(worker.partial) > MAX_LINE_BYTES:
                self._flush_partial(worker)

    def _flush_partial(self, worker: _Worker) -> None:
        if worker.partial:
            relayed.info("%s", worker.partial.decode("utf-8", "replace"), extra={"relayed": True})
            worker.partial = b""

    def _close_output(self, worker: _Worker) -> None:
        """Relay the rest of an exited worker's output and close its pipe."""
        self._relay(worker)
        self._flush_partial(worker)
        if worker.process.stdout is not None and not worker.process.stdout.closed:
            worker.process.stdout.close()

    # -- state ----------------------------------------------------------------------
    def _set_state(self, state: str, reason: str = "", **extra: object) -> None:
        # Log first: whoever sees the new state in the record then also finds it in the log.
        logger.info("service state: %s%s", state, f" ({reason})" if reason else "")
        self.info = record.update(self.service_dir, state=state, reason=reason, **extra)

    def _fail(self, reason: str) -> int:
        self._set_state(record.FAILED, reason)
        self._stop_workers()
        return 1

    # -- messages from workers ------------------------------------------------------
    def _poll(self, timeout: float) -> list[str]:
        """Relay the workers' output and return their messages, waiting up to ``timeout``."""
        outputs = {
            w.process.stdout.fileno(): w
            for w in self.workers.values()
            if w.process.stdout is not None and not w.process.stdout.closed
        }
        readable, _, _ = select.select([self.ready_r, *outputs], [], [], timeout)
        # Output first: a worker writes its log lines before it reports, so they come first.
        for fd in readable:
            if fd in outputs:
                self._relay(outputs[fd])
        if self.ready_r not in readable:
            return []
        self._buffer += os.read(self.ready_r, 65536)
        *lines, self._buffer = self._buffer.split(b"\n")
        return [line.decode("utf-8", "replace") for line in lines]

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        record.update(self.service_dir, pid=os.getpid())
        config = self.info.config
        logger.info(
            "starting %s on %s:%d with %d worker(s)", config.name, config.host, config.port, config.workers
        )
        for index in range(config.workers):
            self.workers[index] = _Worker(index, self._spawn(index))
        while not self.stopping:
            for line in self._poll(POLL_SECONDS):
                verb, _, rest = line.partition(" ")
                index_text, _, detail = rest.partition(" ")
                worker = self.workers.get(int(index_text)) if index_text.isdigit() else None
                if verb == "ready" and worker is not None:
                    worker.ready = True
                elif verb == "failed":
                    return self._fail(f"worker {index_text}: {detail}")
            for worker in self.workers.values():
                code = worker.process.poll()
                if code is None or self.stopping:
                    continue
                if not worker.ready:
                    return self._fail(
                        f"worker {worker.index} exited with code {code} before it was ready; see the service log"
                    )
                now = time.monotonic()
                worker.restarts = [t for t in worker.restarts if now - t < RESTART_WINDOW_SECONDS] + [now]
                if len(worker.restarts) > MAX_RESTARTS:
                    return self._fail(
                        f"worker {worker.index} died {len(worker.restarts)} times within "
                        f"{RESTART_WINDOW_SECONDS:.0f} s (last exit code {code}); see the service log"
                    )
                self._close_output(worker)
                logger.warning("worker %d (pid %d) exited with code %s; restarting it",
                               worker.index, worker.process.pid, code)
                self._set_state(record.TRANSITIONING, f"restarting worker {worker.index} after exit code {code}")
                worker.process = self._spawn(worker.index)
                worker.ready = False
            all_ready = all(w.ready for w in self.workers.values())
            if all_ready and self.info.state != record.HEALTHY:
                extra = {} if self.info.healthy_at else {"healthy_at": time.time()}
                self._set_state(record.HEALTHY, "", **extra)
        logger.info("stopping %s", config.name)
        self._stop_workers()
        try:
            self._set_state(record.DELETED, "stopped on request")
        except Exception:  # noqa: BLE001 - the folder may already be going away
            pass
        return 0

    def _on_signal(self, signum: int, frame: object) -> None:
        self.stopping = True


def _log_to_file(service_dir: Path) -> None:
    """Send every record (and the workers' relayed lines) to the rotated service log."""
    max_bytes = record.read(service_dir).config.log_max_bytes
    handler = _ServiceLogHandler(
        record.log_path(service_dir), maxBytes=max_bytes, backupCount=record.LOG_BACKUPS, encoding="utf-8"
    )
    handler.setFormatter(_LogFormatter(SUPERVISOR_FORMAT))
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    handler._follow()
    logging.captureWarnings(True)


def run_supervisor(service_dir: Path, listen_fd: int) -> int:
    # Until the record is read, stderr (which deploy pointed at service.log) will do.
    logging.basicConfig(level=logging.INFO, format=SUPERVISOR_FORMAT, stream=sys.stderr)
    try:
        _log_to_file(service_dir)
    except Exception:  # noqa: BLE001 - the service can still run, logging to stderr
        logger.exception("the service log could not be set up; logging to the inherited output")
    try:
        return Supervisor(service_dir, listen_fd).run()
    except Exception as exc:  # noqa: BLE001 - whatever happens, the record must say Failed
        logger.exception("the service supervisor crashed")
        try:
            record.update(service_dir, state=record.FAILED, reason=f"the service supervisor crashed: {exc}")
        except Exception:  # noqa: BLE001
            pass
        return 1
