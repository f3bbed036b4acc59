"""Writing a file so nobody reads half of it, and locking a file between processes.

:func:`atomic_write` writes to a temporary file in the same folder (``.<name>.<pid>.tmp``),
flushes it to disk, then renames it over the target: a reader, or the tutor after a
crash, sees the old file or the new one, never a mix. :func:`atomic_copy` does the same
for a copy of another file.

:class:`FileLock` is an exclusive advisory ``flock`` on a lock file. The kernel drops it
when its holder dies, so a killed process never leaves anything locked; a lock made with
``record_holder=True`` also names its holder (pid, host, since) so whoever is refused can
be told who holds it.

Only the standard library is used, and nothing heavy: the CLI imports this at start.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

_TEMPORARY = re.compile(r"^\..+\.\d+\.tmp$")
_BUSY = (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK)


def temporary_path(path: Path) -> Path:
    """The temporary file :func:`atomic_write` uses for ``path`` (same folder, hidden)."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def is_temporary(name: str) -> bool:
    """Whether ``name`` is one of :func:`atomic_write`'s temporary files."""
    return bool(_TEMPORARY.match(name))


def fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (best effort: some filesystems refuse)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _discard(tmp: Path) -> None:
    try:
        tmp.unlink()
    except OSError:
        pass


def atomic_write(path: Path, data: str | bytes, *, mode: int | None = None, encoding: str = "utf-8") -> None:
    """Replace ``path`` with ``data`` (text or bytes) so a reader sees the old or the new file.

    ``mode`` (e.g. ``0o600`` for a secret) is set on the temporary file before anything
    is written to it, so the data is never readable with wider permissions; without it
    the file gets the usual permissions (0666 less the umask). The folder must exist.
    An OSError leaves the old file as it was, removes the temporary file and is raised.
    """
    path = Path(path)
    payload = data.encode(encoding) if isinstance(data, str) else bytes(data)
    tmp = temporary_path(path)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666 if mode is None else mode)
        try:
            if mode is not None:
                os.fchmod(fd, mode)  # an old temporary file could have wider permissions
            view = memoryview(payload)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        _discard(tmp)
        raise
    fsync_folder(path.parent)


def atomic_copy(source: Path, path: Path) -> None:
    """Replace ``path`` with a copy of ``source`` so a reader never sees half a copy."""
    path = Path(path)
    tmp = temporary_path(path)
    try:
        shutil.copyfile(source, tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        _discard(tmp)
        raise
    fsync_folder(path.parent)


class FileLock:
    """An exclusive advisory lock on the file ``path``, shared by every process.

    ``acquire()`` waits (forever, or up to ``timeout`` seconds) and ``try_acquire()``
    does not; both return whether the lock is now held. With ``record_holder=True`` the
    holder writes ``{"pid", "host", "since"}`` into the lock file (emptied again on
    release) and :meth:`holder` reads it back.
    """

    def __init__(self, path: Path, *, mode: int = 0o644, record_holder: bool = False) -> None:
        self.path = Path(path)
        self.mode = mode
        self.record_holder = record_holder
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def _open(self) -> int:
        """The lock file's descriptor; OSError when the folder cannot be written."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(self.path, os.O_RDWR | os.O_CREAT, self.mode)

    def try_acquire(self) -> bool:
        """Take the lock if nobody holds it; False (at once) if somebody does."""
        return self.acquire(timeout=0)

    def acquire(self, timeout: float | None = None) -> bool:
        """Take the lock, waiting up to ``timeout`` seconds (None: as long as it takes)."""
        import fcntl

        if self._fd is not None:
            return True
        fd = self._open()
        try:
            if timeout is None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            else:
                deadline = time.monotonic() + timeout
                while True:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except OSError as exc:
                        if exc.errno not in _BUSY:
                            raise
                        if time.monotonic() >= deadline:
                            os.close(fd)
                            return False
                        time.sleep(0.02)
        except BaseException:
            try:
                os.close(fd)
            except OSError:
                pass
            raise
        if self.record_holder:
            info = {"pid": os.getpid(), "host": socket.gethostname(),
                    "since": datetime.now(timezone.utc).isoformat(timespec="seconds")}
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(info).encode(), 0)
        self._fd = fd
        return True

    def holder(self) -> dict[str, Any]:
        """What the holder wrote into the lock file; {} if nothing (or nothing readable)."""
        try:
            found = json.loads(self.path.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            return {}
        return found if isinstance(found, dict) else {}

    def release(self) -> None:
        """Let go of the lock (nothing happens if it is not held)."""
        if self._fd is None:
            return
        import fcntl

        fd, self._fd = self._fd, None
        try:
            if self.record_holder:
                os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def __enter__(self) -> "FileLock":
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


@contextmanager
def locked(path: Path, *, mode: int = 0o644) -> Iterator[FileLock]:
    """Hold the lock on ``path`` for the ``with`` block, waiting as long as it takes."""
    lock = FileLock(path, mode=mode)
    lock.acquire()
    try:
        yield lock
    finally:
        lock.release()
