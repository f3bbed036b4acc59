"""Helpers for tests: run the real CLI as a subprocess with a clean environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tutor import dataset


def find_dataset() -> Path | None:
    """The course dataset from TUTOR_DATA or the tutor's download cache, if present."""
    env = os.environ.get("TUTOR_DATA")
    if env and Path(env).is_file():
        return Path(env)
    cached = dataset.cached_path()
    return cached if cached.is_file() else None


def tutor_env(data: Path | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TUTOR_", "NO_COLOR", "FORCE_COLOR"))}
    if data is not None:
        env["TUTOR_DATA"] = str(data)
    # Never download in tests: a cache folder that does not exist.
    env["TUTOR_CACHE"] = extra.pop("TUTOR_CACHE", "/nonexistent/tutor-test-cache")
    env["COLUMNS"] = "120"
    # AutoML searches for a few seconds in tests (lessons give it 2 minutes).
    env["TUTOR_AUTOML_MINUTES"] = "0.12"
    env.update(extra)
    return env


def spawn_tutor(args: list[str], *, data: Path | None, rows: int = 40, cols: int = 120, timeout: float = 60,
                **extra: str) -> Any:
    """``python -m tutor ARGS`` in a real pseudo-terminal of ``rows`` x ``cols`` (a pexpect child),
    with the test environment of :func:`tutor_env` and ``extra`` on top."""
    import pexpect

    env = tutor_env(data, TERM="xterm", COLUMNS=str(cols), **extra)
    return pexpect.spawn(sys.executable, ["-m", "tutor", *args], env=env, encoding="utf-8", timeout=timeout,
                         dimensions=(rows, cols))


def run_tutor(args: list[str], *, data: Path | None = None, input: str | None = None, timeout: float = 120,
              env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m tutor ARGS`` as a real process with no terminal."""
    return subprocess.run(
        [sys.executable, "-m", "tutor", *args],
        input=input if input is not None else "",
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env or tutor_env(data),
        cwd=cwd,
    )


def flat(text: str) -> str:
    """Screen output as one line: panel borders removed and runs of white space folded,
    so a message can be found wherever the terminal width wrapped it."""
    import re

    lines = [line.strip().strip("|│").strip() for line in text.splitlines()]
    return re.sub(r"\s+", " ", " ".join(lines))
