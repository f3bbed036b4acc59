"""Deploy, watch, query and delete a local scoring service: what ``Model.deploy`` does.

A service is a folder (``services/<name>/`` in the embedded workspace) and a detached
process group: a supervisor holding a port on 127.0.0.1 and ``workers`` worker
processes. The folder holds ``service.json`` (state, port, pid; no secrets),
``keys.json`` (mode 0600) when keys are on, ``service.log`` (rotated at
``log_max_bytes``, with up to ``LOG_BACKUPS`` older parts beside it) and ``app/`` (the
entry script as it was at deploy time: editing score.py afterwards changes nothing
until the next deploy, as on Azure).

Everything here returns quickly except :func:`wait_for_deployment`; the state is read
from the record and checked against the process, so a service whose process was killed
is reported Failed (with the reason) and can be deployed again.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tutor.errors import StepFailed, TutorError
from tutor.serving import keys as keys_mod
from tutor.serving import processes, record
from tutor.serving.record import ServiceConfig, ServiceInfo

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
MIN_LOG_MAX_BYTES = 4096
MAX_WORKERS = 32
LOG_TAIL_LINES = 40
# How long a record may exist without a process before it is judged abandoned.
START_GRACE_SECONDS = 15.0


def _package_root() -> str:
    """The folder that holds the ``tutor`` package, for the child's PYTHONPATH."""
    import tutor

    return str(Path(tutor.__file__).resolve().parent.parent)


def _check_arguments(entry_script: Path, model_dir: Path, workers: int, cpu_cores: float,
                     memory_gb: float, max_body_bytes: int, log_max_bytes: int) -> None:
    if not entry_script.is_file():
        raise TutorError(
            f"The entry script {entry_script} does not exist.",
            "Write the scoring script first (score/score.py) or give its correct path.",
        )
    if not model_dir.is_dir():
        raise TutorError(
            f"The model folder {model_dir} does not exist or is not a folder.",
            "Register (or download) the model first; deploy needs the folder that holds model.pkl.",
        )
    if not isinstance(workers, int) or not 1 <= workers <= MAX_WORKERS:
        raise TutorError(f"workers must be a whole number from 1 to {MAX_WORKERS}, not {workers!r}.")
    if cpu_cores <= 0 or memory_gb <= 0:
        raise TutorError(
            f"cpu_cores and memory_gb must be positive (got {cpu_cores} and {memory_gb}).",
            "The course uses 1 core and 0.5 GB for ACI.",
        )
    if max_body_bytes < 1024:
        raise TutorError(f"max_body_bytes must be at least 1024, not {max_body_bytes}.")
    if not isinstance(log_max_bytes, int) or log_max_bytes < MIN_LOG_MAX_BYTES:
        raise TutorError(
            f"log_max_bytes must be a whole number of at least {MIN_LOG_MAX_BYTES}, not {log_max_bytes!r}.",
            f"The default, {record.DEFAULT_LOG_MAX_BYTES:,} bytes, suits a course service.",
        )


def _clear_folder(service_dir: Path, overwrite: bool) -> None:
    """Make ``service_dir`` free for a new deployment, stopping what runs there."""
    if not service_dir.exists():
        return
    if record.record_path(service_dir).exists():
        if not overwrite:
            state = get_state(service_dir)
            raise TutorError(
                f"A service named {state.name!r} already exists ({state.state}).",
                "Deploy with overwrite=True to replace it, or delete it first.",
            )
        delete(service_dir)
        return
    leftovers = {p.name for p in service_dir.iterdir() if not record.is_log_file(p.name)}
    ours = {record.LOCK_FILE, record.APP_DIR, keys_mod.KEYS_FILE}
    if leftovers - ours:
        raise TutorError(
            f"{service_dir} exists and holds files that are not a service's ({', '.join(sorted(leftovers - ours))}).",
            "Choose another service name or move those files away.",
        )
    shutil.rmtree(service_dir)


def _bind(listener: socket.socket, port: int | None) -> None:
    """Bind to 127.0.0.1:``port`` if it is free, else to any free port."""
    if port:
        try:
            listener.bind(("127.0.0.1", int(port)))
            return
        except OSError:
            pass
    listener.bind(("127.0.0.1", 0))


def deploy(
    service_dir: Path | str,
    entry_script: Path | str,
    model_dir: Path | str,
    *,
    auth_enabled: bool = True,
    workers: int = 1,
    cpu_cores: float = 1.0,
    memory_gb: float = 0.5,
    tags: dict[str, str] | None = None,
    description: str = "",
    overwrite: bool = False,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    batching: bool = True,
    log_max_bytes: int = record.DEFAULT_LOG_MAX_BYTES,
    port: int | None = None,
) -> ServiceInfo:
    """Start a scoring service for ``entry_script`` + ``model_dir``; returns at once.

    The service's name is the folder's name. The returned record is Transitioning; call
    :func:`wait_for_deployment` to follow it to Healthy or Failed. ``workers`` is the
    number of processes serving the one port (replicas, in AKS terms); ``cpu_cores``
    sets each worker's BLAS/OpenMP thread count; ``memory_gb`` is recorded only.
    ``log_max_bytes`` is the size at which ``service.log`` is rotated (see :func:`get_logs`).
    ``port`` is the port to listen on when it is free (a service deployed again keeps its
    scoring URI, as an Azure service does across an update); otherwise any free port.
    """
    service_dir = Path(service_dir).expanduser().resolve()
    entry_path = Path(entry_script).expanduser().resolve()
    model_path = Path(model_dir).expanduser().resolve()
    _check_arguments(entry_path, model_path, workers, cpu_cores, memory_gb, max_body_bytes, log_max_bytes)
    _clear_folder(service_dir, overwrite)

    app_dir = service_dir / record.APP_DIR
    app_dir.mkdir(parents=True)
    app_script = app_dir / entry_path.name
    shutil.copy2(entry_path, app_script)
    if auth_enabled:
        keys_mod.create_keys(service_dir)

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        _bind(listener, port)
        listener.listen(1024)
        listener.set_inheritable(True)
        config = ServiceConfig(
            name=service_dir.name,
            entry_script=str(entry_path),
            app_script=str(app_script),
            model_dir=str(model_path),
            auth_enabled=auth_enabled,
            workers=workers,
            cpu_cores=float(cpu_cores),
            memory_gb=float(memory_gb),
            tags=dict(tags or {}),
            description=description,
            max_body_bytes=int(max_body_bytes),
            batching=batching,
            log_max_bytes=log_max_bytes,
            port=listener.getsockname()[1],
        )
        info = ServiceInfo(config=config, state=record.TRANSITIONING, reason="starting", created_at=time.time())
        with record.locked(service_dir):
            record.write(service_dir, info)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [_package_root(), env.get("PYTHONPATH")]))
        env["PYTHONUNBUFFERED"] = "1"
        with open(record.log_path(service_dir), "ab", buffering=0) as log:
            try:
                process = subprocess.Popen(
                    [sys.executable, "-m", "tutor.serving", "supervise", str(service_dir),
                     "--listen-fd", str(listener.fileno())],
                    pass_fds=(listener.fileno(),),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=str(app_dir),
                    env=env,
                    start_new_session=True,
                )
            except OSError as exc:
                record.update(service_dir, state=record.FAILED, reason=f"the service process could not start: {exc}")
                raise TutorError(
                    f"The service {service_dir.name!r} could not be started ({exc}).",
                    f"Check that {sys.executable} can run, then deploy again with overwrite=True.",
                ) from None
    finally:
        listener.close()  # the supervisor has its own copy
    return record.update(service_dir, pid=process.pid, pid_start=processes.start_ticks(process.pid))


def get_state(service_dir: Path | str) -> ServiceInfo:
    """The service's record, with a dead process reported as Failed (and why)."""
    service_dir = Path(service_dir)
    info = record.read(service_dir)
    if info.state not in record.LIVE_STATES:
        return info
    if processes.is_running(info.pid, info.pid_start):
        return info
    if info.pid is None and time.time() - info.created_at < START_GRACE_SECONDS:
        return info  # deploy is between writing the record and starting the process
    with record.locked(service_dir):
        info = record.read(service_dir)
        if info.state in record.LIVE_STATES and not processes.is_running(info.pid, info.pid_start):
            last = _last_line(service_dir)
            info.state = record.FAILED
            info.reason = (
                f"the service process (pid {info.pid}) stopped without being deleted: it was killed or crashed"
                + (f"; the log ends with: {last}" if last else "")
            )
            record.write(service_dir, info)
    return info


def _last_line(service_dir: Path) -> str:
    lines = get_logs(service_dir, tail=1).strip().splitlines()
    return lines[-1][:300] if lines else ""


def get_logs(service_dir: Path | str, tail: int | None = None) -> str:
    """The service log (its last ``tail`` lines when given).

    The log is rotated, so this is what its parts still hold: at most
    ``(LOG_BACKUPS + 1) * log_max_bytes`` bytes, the newest lines last.
    """
    service_dir = Path(service_dir)
    chunks = []
    for path in record.log_parts(service_dir):
        try:
            chunks.append(path.read_bytes())
        except FileNotFoundError:  # rotated away while reading: its lines are in the next part
            continue
    if not chunks:
        if not record.record_path(service_dir).exists():
            record.read(service_dir)  # raises the "no service" error
        return ""
    data = b"".join(chunks)  # each rotated part ends with a whole line
    text = data.decode("utf-8", "replace")
    if tail is None:
        return text
    return "\n".join(text.splitlines()[-tail:]) + ("\n" if text.endswith("\n") and tail else "")


def _inode(path: Path) -> int | None:
    try:
        return path.stat().st_ino
    except FileNotFoundError:
        return None


def wait_for_deployment(
    service_dir: Path | str,
    on_log_line: Callable[[str], None] | None = None,
    timeout: float = 120.0,
) -> ServiceInfo:
    """Follow the service until it is Healthy, streaming its log lines to ``on_log_line``.

    Raises :class:`~tutor.errors.StepFailed` with the log tail when the service fails,
    or when it is not Healthy after ``timeout`` seconds (it is then left running).
    """
    service_dir = Path(service_dir)
    path = record.log_path(service_dir)
    offset = 0
    inode: int | None = None
    pending = b""
    deadline = time.monotonic() + timeout

    def read_from(file: Path, start: int) -> tuple[int | None, bytes]:
        try:
            with open(file, "rb") as handle:
                handle.seek(start)
                return os.fstat(handle.fileno()).st_ino, handle.read()
        except FileNotFoundError:
            return None, b""

    def pump() -> None:
        nonlocal offset, inode, pending
        current, chunk = read_from(path, offset)
        if current is None:
            return
        if inode is not None and current != inode:
            # Rotated since the last read: finish the part that was being read (wherever
            # it is now), read the parts made after it, then the new file from its start.
            older = [path.with_name(f"{record.LOG_FILE}.{n}") for n in range(record.LOG_BACKUPS, 0, -1)]
            inodes = [_inode(part) for part in older]
            start = inodes.index(inode) if inode in inodes else -1
            if start >= 0:
                pending += read_from(older[start], offset)[1]
            for part in older[start + 1:]:
                pending += read_from(part, 0)[1]
            current, chunk = read_from(path, 0)
            if current is None:
                return
            offset = 0
        inode = current
        offset += len(chunk)
        pending += chunk
        *lines, pending = pending.split(b"\n")
        if on_log_line is not None:
            for line in lines:
                on_log_line(line.decode("utf-8", "replace"))

    while True:
        info = get_state(service_dir)
        pump()
        if info.state == record.HEALTHY:
            return info
        if info.state in (record.FAILED, record.DELETED):
            time.sleep(0.05)  # let the last lines of a dying worker reach the log
            pump()
            raise StepFailed(
                f"The service {info.name!r} is {info.state}: {info.reason}.",
                "Read the log below, fix the scoring script or the model, then deploy again "
                "(overwrite=True replaces the failed service).",
                log_tail=get_logs(service_dir, tail=LOG_TAIL_LINES),
            )
        if time.monotonic() > deadline:
            raise StepFailed(
                f"The service {info.name!r} was not Healthy after {timeout:.0f} s (it is {info.state}).",
                "init() may be slow or stuck: read the log below; the service keeps trying until you delete it.",
                log_tail=get_logs(service_dir, tail=LOG_TAIL_LINES),
            )
        time.sleep(0.05)


def delete(service_dir: Path | str, grace_seconds: float = 8.0) -> None:
    """Stop the service's processes and remove its folder."""
    service_dir = Path(service_dir)
    info = record.read(service_dir)
    if info.pid and not processes.stop_group(info.pid, info.pid_start, grace_seconds):
        raise TutorError(
            f"The service {info.name!r} (pid {info.pid}) did not stop.",
            f"Stop the process yourself (kill {info.pid}) and delete again.",
        )
    shutil.rmtree(service_dir, ignore_errors=True)


def get_keys(service_dir: Path | str) -> tuple[str, str]:
    """``(primary, secondary)``, like azureml's ``Webservice.get_keys()``."""
    service_dir = Path(service_dir)
    info = record.read(service_dir)
    if not info.config.auth_enabled:
        raise TutorError(
            f"The service {info.name!r} was deployed without authentication, so it has no keys.",
            "Anyone on this machine can call it without a key; redeploy with auth_enabled=True to require one.",
        )
    return keys_mod.read_keys(service_dir).as_tuple()


def regen_key(service_dir: Path | str, key: str) -> tuple[str, str]:
    """Replace the ``'Primary'`` or ``'Secondary'`` key; the old one is refused at once."""
    service_dir = Path(service_dir)
    get_keys(service_dir)  # same checks and errors
    with record.locked(service_dir):
        return keys_mod.regenerate(service_dir, key).as_tuple()


def scoring_uri(service_dir: Path | str) -> str:
    return record.read(Path(service_dir)).scoring_uri


def swagger_uri(service_dir: Path | str) -> str:
    return record.read(Path(service_dir)).swagger_uri


def stop_all(folder: Path | str) -> list[str]:
    """Stop every service deployed anywhere under ``folder`` (a course folder or a workspace);
    returns their names. For throw-away course folders: a rehearsal, a test."""
    stopped = []
    for record_file in sorted(Path(folder).glob("**/services/*/service.json")):
        try:
            delete(record_file.parent)
            stopped.append(record_file.parent.name)
        except TutorError:
            pass
    return stopped
