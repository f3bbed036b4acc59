"""The child Python where a learner's exercise code runs (``python -m tutor.exercises.kernel``).

It lives beside the tutor, in a session of its own, so nothing the learner's code does — an
endless loop, ``os._exit``, a crash in C — takes the tutor or its progress file down. Its
names live as long as it does, from one exercise to the next.

Requests come as JSON lines on stdin; replies go as JSON lines to the file descriptor named by
``--reply-fd``. stdout and stderr are the learner's, streamed by the tutor as they come.
``input()`` has nothing to read: it raises EOFError with a sentence saying why.
"""

from __future__ import annotations

import argparse
import io
import json
import linecache
import os
import sys
import time
import traceback
from typing import Any

SOURCE = "<your code>"
# Written to stdout and stderr after each run, before its reply: the tutor shows the run's output
# up to it, so nothing the code printed arrives after the tutor has moved on.
MARK = "\x1e\x1ftutor-end:{}\x1f\x1e"


class _NoInput(io.TextIOBase):
    """stdin for the learner's code: input() says why there is nothing to read."""

    def readable(self) -> bool:
        return True

    def readline(self, size: int | None = -1, /) -> str:  # type: ignore[override]  # typeshed: TextIOBase.readline is str
        raise EOFError("your code cannot read input here: put the values in the code instead")

    def read(self, size: int | None = -1, /) -> str:
        raise EOFError("your code cannot read input here: put the values in the code instead")


def _learner_traceback(error: BaseException) -> str:
    """The traceback of the learner's own lines only, then the exception."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == SOURCE]
    text = ""
    if frames:
        text = "Traceback (most recent call last):\n" + "".join(traceback.format_list(frames))
    return text + "".join(traceback.format_exception_only(type(error), error))


def _short_repr(value: Any) -> str:
    try:
        text = repr(value)
    except Exception as exc:  # noqa: BLE001 - a repr that raises is the learner's, not ours
        return f"<repr failed: {type(exc).__name__}>"
    return text if len(text) <= 200 else text[:197] + "..."


def _default_config(config: str) -> None:
    """Make ``Workspace.from_config()`` read the tutor's config.json, wherever it is.

    The SDK looks for config.json in the current folder (the course folder) and its parents;
    the config the tutor was given may be elsewhere, and the learner's code must reach the
    workspace the tutor checks. So a call with neither ``path`` nor ``_file_name`` reads that
    file; a call that names its own path or file name searches as the SDK does. The wrapper
    keeps the SDK's signature and docstring (``inspect.signature``, ``help()``), and nothing
    is written to the course folder.
    """
    import functools

    from azureml.core import Workspace

    given = os.path.abspath(config)
    original = Workspace.from_config

    @functools.wraps(original)
    def from_config(path: Any = None, auth: Any = None, _logger: Any = None, _file_name: Any = None) -> Any:
        if path is None and _file_name is None:
            path = given
        return original(path=path, auth=auth, _logger=_logger, _file_name=_file_name)

    Workspace.from_config = staticmethod(from_config)


def _type_name(value: Any) -> str:
    kind = type(value)
    return f"{kind.__module__}.{kind.__qualname__}"


class Kernel:
    def __init__(self, reply: Any) -> None:
        self.reply = reply
        self.namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": __builtins__}
        self.counter = 0

    def send(self, message: dict[str, Any]) -> None:
        self.reply.write(json.dumps(message, default=str) + "\n")
        self.reply.flush()

    def run(self, code: str, quiet: bool = False) -> dict[str, Any]:
        self.counter += 1
        started = time.monotonic()
        linecache.cache[SOURCE] = (len(code), None, [line + "\n" for line in code.splitlines()], SOURCE)
        saved = sys.stdout, sys.stderr
        if quiet:
            sys.stdout = sys.stderr = io.StringIO()
        try:
            compiled = compile(code, SOURCE, "exec")
            exec(compiled, self.namespace)  # noqa: S102 - the learner's own code, in its own process
            status, error = "ok", None
        except KeyboardInterrupt:
            status, error = "interrupted", None
        except SystemExit:
            status, error = "error", "exit() ends a program; here it would end your Python session, so it does nothing.\n"
        except BaseException as exc:  # noqa: BLE001 - everything the learner's code raises is reported
            status, error = "error", _learner_traceback(exc)
        finally:
            if quiet:
                sys.stdout, sys.stderr = saved
            sys.stdout.flush()
            sys.stderr.flush()
        return {"status": status, "error": error, "duration_s": round(time.monotonic() - started, 3)}

    def names(self, names: list[str]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for name in names:
            if name in self.namespace:
                value = self.namespace[name]
                found[name] = {"defined": True, "type": _type_name(value), "repr": _short_repr(value)}
            else:
                found[name] = {"defined": False, "type": None, "repr": None}
        return found

    def evaluate(self, expr: str) -> dict[str, Any]:
        try:
            value = eval(compile(expr, "<check>", "eval"), self.namespace)  # noqa: S307 - a lesson's check
            json.dumps(value)
        except TypeError:
            return {"ok": True, "value": str(value)}
        except BaseException as exc:  # noqa: BLE001 - reported to the check, which says it in words
            return {"ok": False, "value": f"{type(exc).__name__}: {exc}"}
        return {"ok": True, "value": value}

    def serve(self, requests: Any) -> None:
        self.send({"ready": True, "pid": os.getpid()})
        while True:
            try:
                line = requests.readline()
            except KeyboardInterrupt:  # a Ctrl-C that came between two runs
                continue
            if not line:
                return  # the tutor has gone: so does the kernel
            try:
                request = json.loads(line)
                op = request["op"]
            except (ValueError, KeyError, TypeError):
                continue
            try:
                if op == "run":
                    answer = self.run(request["code"])
                elif op == "bind":
                    answer = self.run(request["code"], quiet=True)
                elif op == "names":
                    answer = {"names": self.names(list(request["names"]))}
                elif op == "eval":
                    answer = self.evaluate(request["expr"])
                else:
                    answer = {"status": "error", "error": f"unknown request {op!r}"}
            except KeyboardInterrupt:
                answer = {"status": "interrupted", "error": None, "duration_s": 0.0}
            answer["id"] = request.get("id")
            if op in ("run", "bind"):
                self.mark(request.get("id"))
            self.send(answer)

    @staticmethod
    def mark(request_id: Any) -> None:
        """The end of a run's output on both streams (below whatever the code replaced them with)."""
        for stream, fd in ((sys.__stdout__, 1), (sys.__stderr__, 2)):
            try:
                if stream is not None:
                    stream.flush()
                os.write(fd, MARK.format(request_id).encode())
            except (OSError, ValueError):
                pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tutor-exercise-kernel")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--embedded", metavar="DIR")
    where.add_argument("--azure", metavar="CONFIG")
    parser.add_argument("--reply-fd", type=int, required=True)
    options = parser.parse_args(argv)
    requests = os.fdopen(os.dup(0), "r", encoding="utf-8")
    sys.stdin = _NoInput()
    reply = os.fdopen(options.reply_fd, "w", encoding="utf-8")
    import tutor.sdk

    if options.embedded:
        tutor.sdk.activate(options.embedded)
    else:
        tutor.sdk.deactivate()
        try:
            import azureml.core  # noqa: F401 - the real SDK must be there for Azure
        except ImportError:
            print("azureml-core is not installed: pip install 'aml-tutor[azure]' (Python 3.11 or older).",
                  file=sys.stderr)
            return 2
        _default_config(options.azure)
    sys.path.insert(0, os.getcwd())
    Kernel(reply).serve(requests)
    return 0


if __name__ == "__main__":
    sys.exit(main())
