"""Runs logged by a process instead of submitted: Azure's ``experiment.start_logging()``,
``run.child_run()``, ``run.log()`` and ``run.complete()``.

AutoML in the embedded workspace searches in the tutor's own process and records itself
this way: a parent run for the experiment, and one child run per iteration as it finishes.
A logged run records the pid of the process that logs it (with its start token), so if that
process dies the run becomes Failed like any other run, never Running forever.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any, Mapping

from tutor.errors import TutorError
from tutor.workspace import naming
from tutor.workspace.base import RunRecord, RunStatus, run_ending
from tutor.workspace.local.core import WorkspaceCore
from tutor.workspace.local.procs import process_start_token
from tutor.workspace.local.scheduler import LOCAL_TARGET
from tutor.workspace.local.store import dumps, utcnow

LOGGED_SCRIPT = "(logged)"
TERMINAL = (RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELED)


_ending = run_ending


class LoggedRunsMixin(WorkspaceCore):
    def _insert_logged(self, experiment: str, *, display_name: str | None, tags: Mapping[str, Any] | None,
                       parent_id: str | None, status: RunStatus, started_at: str, ended_at: str | None,
                       error: str | None) -> str:
        naming.check_name(naming.EXPERIMENT, experiment)
        self.experiment(experiment)
        run_id = f"{experiment}_{int(time.time())}_{os.urandom(4).hex()}"
        run_dir = self.layout.run_dir(run_id)
        (run_dir / "outputs").mkdir(parents=True, exist_ok=True)
        (run_dir / "logs").mkdir(exist_ok=True)
        live = status not in TERMINAL
        pid = os.getpid() if live else None
        with self.store.write() as conn:
            if parent_id is not None and conn.execute("SELECT 1 FROM runs WHERE id = ?", (parent_id,)).fetchone() is None:
                raise TutorError(f"There is no parent run '{parent_id}'.", "Start the parent run first.")
            seq = conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM runs").fetchone()[0]
            conn.execute(
                "INSERT INTO runs (id, experiment, seq, status, compute, script, arguments, tags, display_name, "
                "source_directory, submitted_at, started_at, ended_at, pid, pid_token, error, parent_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (run_id, experiment, seq, status.value, LOCAL_TARGET, LOGGED_SCRIPT, "[]",
                 dumps(naming.check_tags(dict(tags or {}))), display_name, "", started_at, started_at, ended_at,
                 pid, process_start_token(pid) if pid else None, error, parent_id),
            )
        return run_id

    def start_logging(self, experiment: str, *, display_name: str | None = None,
                      tags: Mapping[str, Any] | None = None, parent_id: str | None = None) -> RunRecord:
        """A Running run owned by this process; log to it, then :meth:`complete_run`."""
        run_id = self._insert_logged(experiment, display_name=display_name, tags=tags, parent_id=parent_id,
                                     status=RunStatus.RUNNING, started_at=utcnow(), ended_at=None, error=None)
        return self.get_run(run_id)

    def record_child_run(self, parent_id: str, *, display_name: str, status: str = "Completed",
                         metrics: Mapping[str, Any] | None = None, tags: Mapping[str, Any] | None = None,
                         started_at: str | None = None, ended_at: str | None = None,
                         error: str | None = None) -> RunRecord:
        """A finished child run with its metrics, recorded in one go (an AutoML iteration)."""
        final = _ending(status)
        parent = self.get_run(parent_id)
        now = utcnow()
        run_id = self._insert_logged(parent.experiment, display_name=display_name, tags=tags, parent_id=parent_id,
                                     status=final, started_at=started_at or now,
                                     ended_at=ended_at or now, error=error)
        if metrics:
            self.log_metrics(run_id, metrics)
        return self.get_run(run_id)

    def log_metrics(self, run_id: str, metrics: Mapping[str, Any]) -> None:
        """Log name/value pairs to a run (each call adds one step to a metric's history)."""
        self._run_row(run_id)
        stamp = utcnow()
        with self.store.write() as conn:
            for name, value in metrics.items():
                last = conn.execute("SELECT MAX(step) FROM metrics WHERE run_id = ? AND name = ?",
                                    (run_id, name)).fetchone()[0]
                conn.execute("INSERT INTO metrics (run_id, name, value, time, step) VALUES (?, ?, ?, ?, ?)",
                             (run_id, str(name), json.dumps(value), stamp, 0 if last is None else int(last) + 1))

    def set_run_tags(self, run_id: str, tags: Mapping[str, Any]) -> None:
        row = self._run_row(run_id)
        current = json.loads(row["tags"] or "{}")
        current.update(naming.check_tags(dict(tags)))
        with self.store.write() as conn:
            conn.execute("UPDATE runs SET tags = ? WHERE id = ?", (dumps(current), run_id))

    def set_run_display_name(self, run_id: str, display_name: str | None) -> RunRecord:
        """Rename a run (Azure's ``run.display_name = ...``); any run, submitted or logged."""
        self._run_row(run_id)
        if display_name is not None and not isinstance(display_name, str):
            raise TutorError(f"A run's display name is text, not {type(display_name).__name__}.",
                             "Pass a string, e.g. run.display_name = 'baseline'.")
        with self.store.write() as conn:
            conn.execute("UPDATE runs SET display_name = ? WHERE id = ?", (display_name, run_id))
        return self.get_run(run_id)

    def upload_run_file(self, run_id: str, name: str, source: str | Path) -> Path:
        """Copy a file into a run's folder (``name`` like "outputs/model.pkl")."""
        self._run_row(run_id)
        target = self.layout.run_dir(run_id) / name
        if ".." in Path(name).parts or Path(name).is_absolute():
            raise TutorError(f"'{name}' must be a path inside the run's folder.", "Use e.g. 'outputs/model.pkl'.")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        return target

    def complete_run(self, run_id: str, status: str = "Completed", error: str | None = None) -> RunRecord:
        """End a logged run: Completed, Failed (with ``error``) or Canceled."""
        final = _ending(status)
        self._run_row(run_id)
        with self.store.write() as conn:
            conn.execute("UPDATE runs SET status = ?, ended_at = ?, error = ? WHERE id = ? AND status IN (?, ?)",
                         (final.value, utcnow(), error, run_id, RunStatus.RUNNING.value, RunStatus.PREPARING.value))
        return self.get_run(run_id)

    def get_children(self, run_id: str) -> list[RunRecord]:
        """A run's child runs, in the order they were recorded."""
        self._run_row(run_id)
        with self.store.read() as conn:
            rows = conn.execute("SELECT id FROM runs WHERE parent_id = ? ORDER BY seq", (run_id,)).fetchall()
        return [self.get_run(row["id"]) for row in rows]
