"""Experiments and runs on Azure.

``submit`` builds the SDK's real ``ScriptRunConfig`` (source folder, script, arguments,
compute target name, ``Environment``) and calls ``experiment.submit(config, tags=...)``;
Azure snapshots the folder then. Waiting polls ``get_details_with_logs()`` every
``poll_interval`` seconds and streams the new lines of the run's main log to
``on_log_line``: the SDK's own ``wait_for_completion(show_output=True)`` would print them.

A run's files live on Azure; when a run has ended its ``outputs/`` and its log are
downloaded once into the cache (``runs/<id>/``), which is the record's ``run_dir``, so
``record.outputs_dir`` works as on the embedded workspace.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from tutor.errors import StepFailed, TutorError
from tutor.workspace import naming
from tutor.workspace.azure.core import AzureCore, iso, read_json, write_json
from tutor.workspace.azure.quiet import quiet
from tutor.workspace.base import (
    ComputeTarget,
    EnvironmentRecord,
    ExperimentRecord,
    LogCallback,
    MetricPoint,
    RunMetrics,
    RunRecord,
    RunStatus,
    ScriptRunConfig,
)
from tutor.workspace.local.core import not_found

LOG_PREFERENCE = ("user_logs/std_log.txt", "azureml-logs/70_driver_log.txt", "azureml-logs/70_driver_log_0.txt")
LOG_FILE = "log.txt"

STATUSES = {
    "notstarted": RunStatus.QUEUED, "starting": RunStatus.QUEUED, "provisioning": RunStatus.QUEUED,
    "queued": RunStatus.QUEUED, "preparing": RunStatus.PREPARING, "running": RunStatus.RUNNING,
    "finalizing": RunStatus.RUNNING, "cancelrequested": RunStatus.CANCELED, "completed": RunStatus.COMPLETED,
    "failed": RunStatus.FAILED, "canceled": RunStatus.CANCELED,
}
EXIT_CODE = re.compile(r"exit(?:ed)?\s+(?:with\s+)?(?:status\s+)?code[:\s]+(-?\d+)", re.IGNORECASE)


def run_status(text: Any) -> RunStatus:
    return STATUSES.get(str(text or "").replace(" ", "").lower(), RunStatus.QUEUED)


def main_log(log_files: dict[str, str]) -> str:
    """The text of the run's main log: the script's stdout/stderr."""
    for name in LOG_PREFERENCE:
        if name in log_files:
            return log_files[name] or ""
    for name in sorted(log_files):
        if "std_log" in name or "driver_log" in name:
            return log_files[name] or ""
    return ""


def _error_message(details: dict[str, Any]) -> str:
    error = details.get("error") or {}
    if isinstance(error, dict):
        inner = error.get("error", error)
        if isinstance(inner, dict):
            return str(inner.get("message") or inner.get("code") or "").strip()
        return str(inner)
    return str(error)


def run_record(details: dict[str, Any], tags: dict[str, str], experiment: str, run_dir: Path,
               header: dict[str, str | None] | None = None) -> RunRecord:
    """A RunRecord from ``run.get_details()`` (Azure's keys), ``run.get_tags()`` and the run's
    display name and submission time (``header``: see ``AzureService.run_header``)."""
    header = header or {}
    status = run_status(details.get("status"))
    definition = details.get("runDefinition") or {}
    env = definition.get("environment") or {}
    env_ref = f"{env.get('name')}:{env.get('version')}" if env.get("name") and env.get("version") else env.get("name")
    message = _error_message(details)
    exit_code: int | None = None
    error: str | None = None
    if status == RunStatus.COMPLETED:
        exit_code = 0
    elif status == RunStatus.FAILED:
        match = EXIT_CODE.search(message)
        exit_code = int(match.group(1)) if match else None
        error = (f"The script exited with code {exit_code}. {message}" if exit_code is not None
                 else message or "The run failed (Azure gave no reason; read its log).")
    elif status == RunStatus.CANCELED:
        error = message or "The run was canceled."
    warnings = [str(w.get("message", w)) if isinstance(w, dict) else str(w) for w in details.get("warnings") or []]
    return RunRecord(
        id=str(details.get("runId")), experiment=experiment, status=status,
        compute_target=str(details.get("target") or definition.get("target") or ""),
        script=str(definition.get("script") or ""),
        arguments=[str(a) for a in definition.get("arguments") or []],
        environment=env_ref, tags={k: v for k, v in tags.items() if not k.startswith("_aml_system")},
        display_name=header.get("display_name") or None,
        submitted_at=iso(header.get("created_utc") or details.get("startTimeUtc")),
        started_at=iso(details.get("startTimeUtc")) or None, ended_at=iso(details.get("endTimeUtc")) or None,
        exit_code=exit_code, error=error, warnings=warnings, run_dir=str(run_dir),
        parent_id=header.get("parent_run_id") or None,
    )


class _LogLines:
    """Hands out the lines of a growing log text once each."""

    def __init__(self, callback: LogCallback | None) -> None:
        self.callback = callback
        self.sent = 0

    def feed(self, text: str, final: bool = False) -> None:
        lines = text.split("\n")
        complete = lines if final else lines[:-1]
        if final and complete and complete[-1] == "":
            complete = complete[:-1]
        for line in complete[self.sent:]:
            if self.callback is not None:
                self.callback(line.rstrip("\r"))
        self.sent = max(self.sent, len(complete))


class RunsMixin(AzureCore):
    _runs: dict[str, Any]

    # -- experiments ---------------------------------------------------------------------

    def experiment(self, name: str | ExperimentRecord) -> ExperimentRecord:
        """``Experiment(ws, name)``: gets it, or creates it on first use."""
        name = name.name if isinstance(name, ExperimentRecord) else name
        naming.check_name(naming.EXPERIMENT, name)
        self._experiment_handle(name)
        return ExperimentRecord(name=name)

    def _experiment_handle(self, name: str) -> Any:
        return self._call(f"opening the experiment '{name}'", self.service.experiment, self.ws, name)

    def list_experiments(self) -> list[ExperimentRecord]:
        """``Experiment.list(ws)``."""
        found = self._call("listing the experiments", self.service.list_experiments, self.ws)
        return sorted((ExperimentRecord(name=str(e.name)) for e in found), key=lambda e: e.name)

    # -- submitting ---------------------------------------------------------------------

    def submit(self, experiment: str | ExperimentRecord, config: ScriptRunConfig) -> RunRecord:
        """``experiment.submit(azureml.core.ScriptRunConfig(...), tags=...)``."""
        name = experiment.name if isinstance(experiment, ExperimentRecord) else experiment
        naming.check_name(naming.EXPERIMENT, name)
        if not isinstance(config, ScriptRunConfig):
            raise TutorError(f"submit() takes a ScriptRunConfig, not {type(config).__name__}.",
                             "Build one: ScriptRunConfig(source_directory, script, arguments=[...]).")
        source = Path(config.source_directory).expanduser()
        if not source.is_dir():
            raise TutorError(f"The source folder {source} does not exist.", "Point source_directory at the training folder.")
        script = PurePosixPath(str(config.script).replace("\\", "/"))
        if script.is_absolute() or ".." in script.parts:
            raise TutorError(f"The script '{config.script}' must be a path inside the source folder.",
                             "Give it relative to source_directory, e.g. 'train.py'.")
        if not (source / script).is_file():
            scripts = sorted(p.name for p in source.glob("*.py"))
            raise TutorError(f"There is no script {source / script}.",
                             "Scripts in that folder: " + (", ".join(scripts) or "none") + ".")
        if script.suffix != ".py":
            raise TutorError(f"The script '{script}' is not a Python file.", "Runs execute .py scripts.")
        if isinstance(config.arguments, str):
            raise TutorError("arguments must be a list, not one string.", 'Write arguments=["--data_user", "alice"].')
        target = config.compute_target
        target_name = target.name if isinstance(target, ComputeTarget) else str(target or "local")
        if target_name != "local":
            self._target(target_name)  # the not-found error, listing what exists
        environment = config.environment
        if isinstance(environment, EnvironmentRecord):
            environment = f"{environment.name}:{environment.version}"
        sdk_env = self._resolve_environment(environment)
        tags = naming.check_tags(config.tags)
        with quiet():
            from azureml.core import ScriptRunConfig as SdkScriptRunConfig

            sdk_config = SdkScriptRunConfig(source_directory=str(source), script=script.as_posix(),
                                            arguments=[str(a) for a in config.arguments],
                                            compute_target=target_name, environment=sdk_env)
        handle = self._experiment_handle(name)
        run = self._call(f"submitting {script} to '{target_name}'", self.service.submit, handle, sdk_config, tags)
        if config.display_name:
            self._call("naming the run", self.service.set_display_name, run, config.display_name)
        self._runs[str(run.id)] = run
        return self._record(run)

    # -- reading ---------------------------------------------------------------------

    def _run_dir(self, run_id: str) -> Path:
        return self.cache / "runs" / run_id

    def _run_handle(self, run_id: str) -> Any:
        run = self._runs.get(run_id)
        if run is None:
            run = self._call(f"looking up run {run_id}", self.service.get_run, self.ws, run_id)
            if run is None:
                raise TutorError(f"There is no run '{run_id}' in workspace {self.name}.",
                                 "Check the run id (list_runs shows them), or submit the run again.")
            self._runs[run_id] = run
        return run

    def _status_of(self, run: Any) -> RunStatus:
        return run_status(self._call(f"reading the status of run {run.id}", self.service.run_status, run))

    def _record(self, run: Any, details: dict[str, Any] | None = None, *, with_logs: bool = False) -> RunRecord:
        """``details`` from ``get_details()``, or from ``get_details_with_logs()`` when ``with_logs``
        (only then are the ``logFiles`` values the logs' text: ``get_details()`` gives their URLs)."""
        run_id = str(run.id)
        folder = self._run_dir(run_id)
        saved = read_json(folder / "record.json")
        if saved is not None:  # an ended run does not change: no need to ask Azure again
            return RunRecord(**{**saved, "status": RunStatus(saved["status"])})
        if details is None:
            details = self._call(f"reading run {run_id}", self.service.run_details, run)
        tags = self._call(f"reading the tags of run {run_id}", self.service.run_tags, run)
        header = self._call(f"reading run {run_id}", self.service.run_header, run)
        experiment = str(getattr(getattr(run, "experiment", None), "name", "") or run_id.rsplit("_", 2)[0])
        record = run_record(details, tags, experiment, folder, header)
        if record.status.is_terminal:
            self._finish(run, record, details.get("logFiles") if with_logs else None)
        return record

    def _finish(self, run: Any, record: RunRecord, logs: Any) -> None:
        """Fetch an ended run's outputs and log into the cache, once (``logs``: name -> text, if known)."""
        folder = self._run_dir(record.id)
        folder.mkdir(parents=True, exist_ok=True)
        if not isinstance(logs, dict) or not any(isinstance(v, str) and v for v in logs.values()):
            logs = self._call(f"reading the log of run {record.id}", self.service.run_details_with_logs,
                              run).get("logFiles", {})
        (folder / LOG_FILE).write_text(main_log(logs), encoding="utf-8")
        files = self._call(f"listing the files of run {record.id}", self.service.run_files, run)
        if any(f.startswith("outputs/") for f in files):
            self._call(f"downloading the outputs of run {record.id}", self.service.download_run_files, run,
                       "outputs", str(folder))
        (folder / "outputs").mkdir(exist_ok=True)
        write_json(folder / "record.json", {**record.__dict__, "status": record.status.value})

    def get_run(self, run_id: str) -> RunRecord:
        """``ws.get_run(run_id)``."""
        saved = read_json(self._run_dir(run_id) / "record.json")
        if saved is not None:
            return RunRecord(**{**saved, "status": RunStatus(saved["status"])})
        return self._record(self._run_handle(run_id))

    def list_runs(self, experiment: str | ExperimentRecord | None = None) -> list[RunRecord]:
        """``experiment.get_runs()``, newest first (all experiments when None)."""
        if experiment is None:
            names = [e.name for e in self.list_experiments()]
        else:
            name = experiment.name if isinstance(experiment, ExperimentRecord) else experiment
            found = self._call(f"looking up the experiment '{name}'", self.service.list_experiments, self.ws, name)
            if not found:
                raise not_found("experiment", name, (e.name for e in self.list_experiments()),
                                "create it first (experiment) or submit a run to it")
            names = [name]
        records: list[RunRecord] = []
        for name in names:
            runs = self._call(f"listing the runs of '{name}'", self.service.list_runs, self._experiment_handle(name))
            for run in runs:
                self._runs.setdefault(str(run.id), run)
                records.append(self._record(run))
        if experiment is None:
            records.sort(key=lambda r: r.submitted_at, reverse=True)
        return records

    def get_metrics(self, run_id: str) -> RunMetrics:
        """``run.get_metrics()``: a metric logged more than once comes back as a list (its history).

        Azure gives no time or step per value: steps are numbered in order, times left empty.
        A list logged once with ``log_list`` looks the same as repeated values, so its last
        element is its value here (read ``.history`` for all of it).
        """
        run = self._run_handle(run_id)
        raw = self._call(f"reading the metrics of run {run_id}", self.service.run_metrics, run)
        history: dict[str, list[MetricPoint]] = {}
        for name, value in raw.items():
            values = list(value) if isinstance(value, (list, tuple)) else [value]
            history[str(name)] = [MetricPoint(value=v, time="", step=i) for i, v in enumerate(values)]
        return RunMetrics(history)

    def get_log_tail(self, run_id: str, lines: int = 40) -> str:
        """The last ``lines`` lines of the run's main log."""
        cached = self._run_dir(run_id) / LOG_FILE
        if cached.is_file():
            text = cached.read_text(encoding="utf-8", errors="replace")
        else:
            run = self._run_handle(run_id)
            logs = self._call(f"reading the log of run {run_id}", self.service.run_details_with_logs, run)
            text = main_log(logs.get("logFiles", {}))
        tail = text.rstrip("\n").split("\n")[-lines:] if text.strip() else []
        return "\n".join(tail)

    # -- waiting and canceling -------------------------------------------------------------

    def wait_for_completion(self, run_id: str, on_log_line: LogCallback | None = None,
                            timeout: float | None = None, raise_on_error: bool = False) -> RunRecord:
        """Poll the run until it ends, streaming new log lines to ``on_log_line``."""
        saved = read_json(self._run_dir(run_id) / "record.json")
        deadline = None if timeout is None else time.monotonic() + timeout
        if saved is None:
            run = self._run_handle(run_id)
            follower = _LogLines(on_log_line)
            while True:
                details = self._call(f"following run {run_id}", self.service.run_details_with_logs, run)
                status = run_status(details.get("status"))
                follower.feed(main_log(details.get("logFiles") or {}), final=status.is_terminal)
                if status.is_terminal:
                    record = self._record(run, details, with_logs=True)
                    break
                if deadline is not None and time.monotonic() > deadline:
                    raise TutorError(f"Run {run_id} is still {status.value} after {timeout:g} s.",
                                     "It goes on in Azure: wait again later, or cancel it.")
                self._sleep()
        else:
            record = self.get_run(run_id)
        if raise_on_error and record.status != RunStatus.COMPLETED:
            raise StepFailed(f"Run {run_id} {record.status.value.lower()}: {record.error or 'no reason given'}",
                             "Read the end of its log below, fix the script, and run the step again.",
                             log_tail=self.get_log_tail(run_id, 25))
        return record

    def wait_for_runs(self, run_ids: Sequence[str], on_status: Callable[[list[RunRecord]], None] | None = None,
                      timeout: float | None = None) -> list[RunRecord]:
        """Poll several runs until all have ended; ``on_status(records)`` after every change."""
        deadline = None if timeout is None else time.monotonic() + timeout
        last: list[tuple[str, str]] | None = None
        while True:
            records = [self.get_run(run_id) for run_id in run_ids]
            shape = [(r.id, r.status.value) for r in records]
            if shape != last and on_status is not None:
                on_status(records)
            last = shape
            waiting = [r.id for r in records if not r.status.is_terminal]
            if not waiting:
                return records
            if deadline is not None and time.monotonic() > deadline:
                raise TutorError(f"{len(waiting)} run(s) still going after {timeout:g} s: {', '.join(waiting)}.",
                                 "They go on in Azure: wait again later, or cancel them.")
            self._sleep()

    def cancel(self, run_id: str) -> RunRecord:
        """``run.cancel()``; an ended run is left as it is."""
        record = self.get_run(run_id)
        if record.status.is_terminal:
            return record
        run = self._run_handle(run_id)
        self._call(f"canceling run {run_id}", self.service.cancel_run, run)
        return self._record(run)
