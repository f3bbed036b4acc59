"""Keep azureml-core off the learner's screen.

The SDK prints (``print`` in its login code), logs warnings that Python's last-resort
handler writes to stderr, and raises ``DeprecationWarning``s. The wizard owns the
screen, so every SDK call runs inside :func:`quiet`: while it runs, what the SDK writes
to ``sys.stdout``/``sys.stderr`` and what its loggers emit become lines handed to an
optional callback (the device-code message is found that way) and to the tutor's log
file, never to the terminal.

Streams are swapped process-wide but routed per thread: Rich's refresh thread keeps
writing to the real terminal (a spinner keeps spinning during a long SDK call), every
other thread's output (the SDK's own worker threads included) is captured.
"""

from __future__ import annotations

import contextlib
import io
import logging
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from typing import Any, TextIO

LineCallback = Callable[[str], None]

# Loggers of the SDK and the libraries under it.
SDK_LOGGERS = ("azureml", "msrest", "msrestazure", "msal", "adal-python", "azure", "urllib3", "cli", "knack",
               "paramiko", "docker")

log = logging.getLogger("tutor.workspace.azure.sdk")

_lock = threading.RLock()
_depth = 0
_saved: tuple[TextIO, TextIO] | None = None
_sinks: list["_Sink"] = []


class _Sink:
    """Collects text and log records, calls ``on_line`` for each complete line."""

    def __init__(self, on_line: LineCallback | None) -> None:
        self.on_line = on_line
        self.text = io.StringIO()
        self._pending = ""
        self._guard = threading.Lock()

    def write(self, data: str) -> None:
        with self._guard:
            self.text.write(data)
            self._pending += data
            *lines, self._pending = self._pending.split("\n")
        for line in lines:
            self._line(line)

    def _line(self, line: str) -> None:
        line = line.rstrip("\r")
        if not line.strip():
            return
        log.debug("%s", line)
        if self.on_line is not None:
            try:
                self.on_line(line)
            except Exception:  # noqa: BLE001 - a callback must never break the SDK call
                log.exception("callback failed for SDK output line")

    def flush(self) -> None:
        with self._guard:
            rest, self._pending = self._pending, ""
        if rest:
            self._line(rest)

    @property
    def value(self) -> str:
        return self.text.getvalue()


def _rich_refresh_thread() -> bool:
    return type(threading.current_thread()).__name__ == "_RefreshThread"


class _Router(io.TextIOBase):
    """A stand-in for sys.stdout/sys.stderr that sends writes to the active sink."""

    def __init__(self, original: TextIO) -> None:
        self.original = original

    def write(self, data: str) -> int:  # type: ignore[override]
        if _rich_refresh_thread() or not _sinks:
            return self.original.write(data)
        _sinks[-1].write(data)
        return len(data)

    def flush(self) -> None:
        if _rich_refresh_thread() or not _sinks:
            self.original.flush()

    def isatty(self) -> bool:
        return False

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.original, "encoding", "utf-8")

    def fileno(self) -> int:
        raise io.UnsupportedOperation("fileno")


class _LogHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        if not _sinks:
            return
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001
            message = str(record.msg)
        _sinks[-1].write(message + "\n")


_handler = _LogHandler(level=logging.DEBUG)
_logger_state: dict[str, tuple[bool, list[logging.Handler]]] = {}


def _install() -> None:
    global _saved
    _saved = (sys.stdout, sys.stderr)
    sys.stdout = _Router(sys.stdout)  # type: ignore[assignment]
    sys.stderr = _Router(sys.stderr)  # type: ignore[assignment]
    for name in SDK_LOGGERS:
        logger = logging.getLogger(name)
        _logger_state[name] = (logger.propagate, list(logger.handlers))
        logger.propagate = False
        logger.handlers = [_handler]


def _uninstall() -> None:
    global _saved
    if _saved is not None:
        # Only put the streams back if nobody replaced them meanwhile.
        if isinstance(sys.stdout, _Router):
            sys.stdout = _saved[0]  # type: ignore[assignment]
        if isinstance(sys.stderr, _Router):
            sys.stderr = _saved[1]  # type: ignore[assignment]
        _saved = None
    for name, (propagate, handlers) in _logger_state.items():
        logger = logging.getLogger(name)
        logger.propagate = propagate
        logger.handlers = handlers
    _logger_state.clear()


def original_stderr() -> TextIO:
    """The terminal's stderr even inside :func:`quiet` (for a message that must be seen)."""
    return _saved[1] if _saved is not None else sys.stderr


@contextlib.contextmanager
def quiet(on_line: LineCallback | None = None) -> Iterator[_Sink]:
    """Run SDK code with its prints, logs and warnings captured (see the module doc)."""
    global _depth
    sink = _Sink(on_line)
    with _lock:
        if _depth == 0:
            _install()
        _depth += 1
        _sinks.append(sink)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield sink
    finally:
        sink.flush()
        with _lock:
            _sinks.remove(sink)
            _depth -= 1
            if _depth == 0:
                _uninstall()


def quiet_call(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``function(*args, **kwargs)`` inside :func:`quiet`."""
    with quiet():
        return function(*args, **kwargs)
