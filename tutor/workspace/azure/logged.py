"""Runs logged by this process on Azure: ``experiment.start_logging()``, ``run.child_run()``,
``run.log()``, ``run.set_tags()``, ``run.upload_file()`` and ``run.complete()`` / ``run.fail()``.

An AutoML search runs in the tutor's own process and records itself this way on either
backend: a parent run in the experiment and one finished child run per iteration. On Azure
the runs are real interactive runs of the workspace, so the studio shows the search like
any other experiment. Azure stamps a run's start and end times itself when the calls reach
it: the times an iteration reports are kept as its ``started_at``/``ended_at`` tags instead.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from tutor.errors import TutorError
from tutor.workspace import naming
from tutor.workspace.azure.runs import RunsMixin
from tutor.workspace.base import RunRecord, RunStatus, run_ending

ENDINGS = (RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELED)


_ending = run_ending


class LoggedRunsMixin(RunsMixin):
    def start_logging(self, experiment: str, *, display_name: str | None = None,
                      tags: Mapping[str, Any] | None = None, parent_id: str | None = None) -> RunRecord:
        """A Running run owned by this process (``experiment.start_logging()``, or the parent's
        ``child_run()`` with ``parent_id``); log to it, then :meth:`complete_run`."""
        naming.check_name(naming.EXPERIMENT, experiment)
        clean_tags = naming.check_tags(dict(tags or {}))
        if parent_id is None:
            handle = self._experiment_handle(experiment)
            run = self._call(f"starting a run in '{experiment}'", self.service.start_logging, handle)
        else:
            parent = self._run_handle(parent_id)
            run = self._call(f"starting a child run of {parent_id}", self.service.child_run, parent)
        self._runs[str(run.id)] = run
        if display_name:
            self._call("naming the run", self.service.set_display_name, run, display_name)
        if clean_tags:
            self._call(f"tagging run {run.id}", self.service.set_run_tags, run, clean_tags)
        return self._record(run)

    def record_child_run(self, parent_id: str, *, display_name: str, status: str = "Completed",
                         metrics: Mapping[str, Any] | None = None, tags: Mapping[str, Any] | None = None,
                         started_at: str | None = None, ended_at: str | None = None,
                         error: str | None = None) -> RunRecord:
        """A finished child run with its metrics, recorded in one go (an AutoML iteration)."""
        final = _ending(status)
        parent = self.get_run(parent_id)
        times = {key: value for key, value in (("started_at", started_at), ("ended_at", ended_at)) if value}
        child = self.start_logging(parent.experiment, display_name=display_name,
                                   tags={**dict(tags or {}), **times}, parent_id=parent_id)
        if metrics:
            self.log_metrics(child.id, metrics)
        return self.complete_run(child.id, final.value, error=error)

    def get_children(self, run_id: str) -> list[RunRecord]:
        """``run.get_children()``: a run's child runs, oldest first."""
        runs = self._call(f"listing the child runs of {run_id}", self.service.get_children, self._run_handle(run_id))
        records = []
        for run in runs:
            self._runs.setdefault(str(run.id), run)
            records.append(self._record(run))
        return sorted(records, key=lambda r: r.submitted_at)

    def log_metrics(self, run_id: str, metrics: Mapping[str, Any]) -> None:
        """``run.log(name, value)`` for each pair (``run.log_list`` for a list), then ``run.flush()``."""
        run = self._run_handle(run_id)
        clean = {str(name): value for name, value in metrics.items()}
        self._call(f"logging metrics to run {run_id}", self.service.log_metrics, run, clean)

    def set_run_tags(self, run_id: str, tags: Mapping[str, Any]) -> None:
        """``run.set_tags(tags)``: adds to (or replaces) the run's tags."""
        run = self._run_handle(run_id)
        self._call(f"tagging run {run_id}", self.service.set_run_tags, run, naming.check_tags(dict(tags)))

    def upload_run_file(self, run_id: str, name: str, source: str | Path) -> Path:
        """``run.upload_file(name, source)``, with a copy in the run's cache folder, which is returned."""
        relative = PurePosixPath(str(name).replace("\\", "/"))
        if relative.is_absolute() or ".." in relative.parts or not relative.parts:
            raise TutorError(f"'{name}' must be a path inside the run's folder.", "Use e.g. 'outputs/model.pkl'.")
        local = Path(source).expanduser()
        if not local.is_file():
            raise TutorError(f"There is no file {local} to upload.", "Write the file first, then upload it.")
        run = self._run_handle(run_id)
        self._call(f"uploading {relative} to run {run_id}", self.service.upload_run_file, run,
                   relative.as_posix(), str(local))
        target = self._run_dir(run_id) / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(local, target)
        return target

    def complete_run(self, run_id: str, status: str = "Completed", error: str | None = None) -> RunRecord:
        """End a logged run: ``run.complete()``, ``run.fail(error_details=error)`` or ``run.cancel()``.

        A run that has already ended is returned as it is.
        """
        final = _ending(status)
        run = self._run_handle(run_id)
        if self._status_of(run).is_terminal:
            return self._record(run)
        if final == RunStatus.COMPLETED:
            self._call(f"completing run {run_id}", self.service.complete_run, run)
        elif final == RunStatus.FAILED:
            self._call(f"marking run {run_id} failed", self.service.fail_run, run, error or "The run failed.")
        else:
            self._call(f"canceling run {run_id}", self.service.cancel_run, run)
        return self._record(run)
