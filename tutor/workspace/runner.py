"""The wrapper every embedded-workspace run executes in.

    python -m tutor.workspace.runner <workspace_dir> <run_id> [<claim>]

It runs in the run's own detached process (cwd = the run folder, stdout+stderr going to
``logs/std_log.txt``) and does what Azure's run agent does around a script:

0. Records its own (pid, start token) under the claim it was started for (the process
   that started it may have been killed before recording them). If that claim is no
   longer the run's (its claimant died, so the run was queued again and maybe started
   by another wrapper), it exits at once and touches nothing.
1. Preparing: checks the run's environment against this machine, so a missing package
   fails the run up front with the pip command to fix it, not with an ImportError later.
2. Running: executes the script with :mod:`runpy` in this same process, so the recorded
   pid *is* the script's process: killing it really ends the run, and nothing is orphaned.
3. At the end, whatever happened: writes ``exit_code`` (the proof the run finished; a run
   without it whose process is gone Failed), stores the last metrics, records the final
   status, and starts the next queued run of its compute target, so a queue drains even
   while the tutor is closed.

This module imports only the standard library and the workspace's light modules:
it starts once per run.
"""

from __future__ import annotations

import json
import os
import runpy
import signal
import sys
import traceback
from pathlib import Path
from types import FrameType, TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover - typing only
    import sqlite3

    from tutor.workspace.local.store import Store

CANCELED_EXIT = 128 + signal.SIGTERM


class _Canceled(SystemExit):
    """Raised inside the script when the run is canceled (SIGTERM)."""


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise _Canceled(CANCELED_EXIT)


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)  # sys.exit("message") prints it and means failure
    return 1


def _user_traceback(tb: TracebackType | None, script: Path) -> TracebackType | None:
    """Drop the wrapper's and runpy's frames so the log shows the learner's code first."""
    current = tb
    while current is not None:
        if Path(current.tb_frame.f_code.co_filename).resolve() == script:
            return current
        current = current.tb_next
    return tb


def _prepare(store: Store, row: sqlite3.Row) -> tuple[int, str] | None:
    """Check the run's environment; a (code, reason) to fail the run with, or None."""
    from tutor.workspace.local.envcheck import check_requirements

    if not row["environment"]:
        return None
    with store.read() as conn:
        env = conn.execute(
            "SELECT * FROM environments WHERE name = ? AND version = ?",
            (row["environment"], row["environment_version"]),
        ).fetchone()
    if env is None:
        return 2, f"The environment '{row['environment']}' version {row['environment_version']} is not registered."
    check = check_requirements(
        row["environment"], int(env["version"]), json.loads(env["pip_packages"]), env["python_version"],
        conda=json.loads(env["conda_packages"]),
    )
    if not check.python_ok:
        print(f"[tutor] note: the environment asks for Python {env['python_version']}; "
              f"this machine runs Python {check.python_found}, which the run uses.", flush=True)
    if check.shortfall:
        reason = f"{check.shortfall} Install them ({check.install_command}) and submit again."
        print(f"[tutor] {reason}", flush=True)
        return 2, reason
    return None


def _run_script(script: Path, arguments: list[str]) -> int:
    sys.argv = [str(script), *arguments]
    sys.path[0] = str(script.parent)
    try:
        runpy.run_path(str(script), run_name="__main__")
        return 0
    except _Canceled:
        print("[tutor] the run was canceled", file=sys.stderr, flush=True)
        return CANCELED_EXIT
    except SystemExit as exc:
        return _exit_code(exc)
    except BaseException as exc:  # the script's error, whatever it is, ends the run as Failed
        traceback.print_exception(type(exc), exc, _user_traceback(exc.__traceback__, script.resolve()))
        return 1


def main(argv: list[str] | None = None) -> int:
    from tutor.workspace.base import RunStatus
    from tutor.workspace.local.layout import Layout
    from tutor.workspace.local.procs import process_start_token
    from tutor.workspace.local.scheduler import finalize, promote, take_claim, write_exit_file
    from tutor.workspace.local.store import Store, utcnow

    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (2, 3):
        print("usage: python -m tutor.workspace.runner <workspace_dir> <run_id> [<claim>]", file=sys.stderr)
        return 2
    layout = Layout(Path(args[0]).resolve())
    run_id = args[1]
    claim = args[2] if len(args) == 3 else None
    base_env = dict(os.environ)  # before the script can change it: the next run starts clean
    signal.signal(signal.SIGTERM, _on_sigterm)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)

    try:
        store = Store(layout.db, check=False)
        with store.read() as conn:
            row = conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise LookupError(f"run {run_id} is not in {layout.db}")
        if claim is not None and not take_claim(store, run_id, claim, os.getpid(), process_start_token(os.getpid())):
            return 0  # superseded: the run was queued again after its claimant died
    except Exception as exc:  # nothing to run: leave the proof of failure and stop
        print(f"[tutor] the run could not start: {exc}", file=sys.stderr, flush=True)
        if layout.run_dir(run_id).is_dir():
            write_exit_file(layout.exit_file(run_id), 2, f"The run could not start: {exc}")
        return 2

    code, reason = 1, None
    try:
        failed = _prepare(store, row)
        if failed is not None:
            code, reason = failed
        else:
            with store.write() as conn:
                started = conn.execute(
                    "UPDATE runs SET status = ?, started_at = ? WHERE id = ? AND status = ?",
                    (RunStatus.RUNNING.value, utcnow(), run_id, RunStatus.PREPARING.value),
                ).rowcount
            if not started:
                code, reason = CANCELED_EXIT, "The run was canceled before it started."
            else:
                script = layout.run_dir(run_id) / row["script"]
                arguments = json.loads(row["arguments"])
                print(f"[tutor] run {run_id} on '{row['compute']}': python {row['script']} "
                      f"{' '.join(arguments)}".rstrip(), flush=True)
                code = _run_script(script, arguments)
    except _Canceled:
        code, reason = CANCELED_EXIT, "The run was canceled."
    except Exception as exc:  # the wrapper itself failed (database, files): say so, not "the script"
        traceback.print_exc()
        code, reason = 1, f"The run could not be started by the workspace: {exc}"
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the epilogue is short; let it finish
        sys.stdout.flush()
        sys.stderr.flush()
        write_exit_file(layout.exit_file(run_id), code, reason)
        try:
            finalize(store, layout, run_id, code, reason, utcnow())
        except Exception as exc:  # the tutor finalizes from exit_code later
            print(f"[tutor] could not record the run's end yet ({exc}); the tutor will.", file=sys.stderr)
        try:
            promote(store, layout, row["compute"], base_env=base_env)
        except Exception as exc:  # the next poll by the tutor starts them instead
            print(f"[tutor] could not start the next queued run ({exc}).", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
    return code


if __name__ == "__main__":
    sys.exit(main())
