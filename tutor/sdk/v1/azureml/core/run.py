"""``azureml.core.Run`` on the embedded workspace.

A Run is a view of one run of the workspace: its status, metrics, tags and files are read
from the workspace when asked. Inside a run's process (a ScriptRunConfig submitted to the
embedded workspace), ``Run.get_context()`` is that run: ``log()`` appends a line to the
run's ``metrics.jsonl``, which the workspace reads while the run goes on (see
:mod:`tutor.workspace.local.metrics`). Elsewhere it is an offline run that only prints,
as azureml's is. Runs started with ``experiment.start_logging()`` or ``run.child_run()``
log straight into the workspace.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any
from uuid import uuid4

from azureml._embedded import Subset, backend, translate
from azureml.exceptions import ActivityFailedException, RunEnvironmentException, UserErrorException

__all__ = ["Run", "get_run"]

_RUN_ID_ENV, _RUN_DIR_ENV, _WORKSPACE_ENV = "TUTOR_RUN_ID", "TUTOR_RUN_DIR", "TUTOR_WORKSPACE_DIR"
_METRICS_FILE = "metrics.jsonl"
#: Folders of a run that hold its files (the rest of the run folder is the source snapshot).
_FILE_FOLDERS = ("outputs", "logs")


def _plain(value: Any) -> Any:
    """A JSON value: numpy scalars and arrays become Python numbers and lists."""
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        value = value.tolist()
    elif hasattr(value, "item") and not isinstance(value, (str, bytes, list, tuple, dict)):
        value = value.item()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _check_value(name: str, value: Any) -> Any:
    value = _plain(value)
    scalars = (bool, int, float, str)
    ok = isinstance(value, scalars) or (isinstance(value, list) and all(isinstance(v, scalars) or v is None
                                                                        for v in value))
    if not ok:
        raise UserErrorException(f"Metric {name!r}: a value of type {type(value).__name__} cannot be logged; "
                                 "log a number, a string, a bool or a list of those.")
    return value


class Run(Subset):
    """A run of an experiment: metrics, tags, files, status and child runs."""

    def __init__(self, experiment, run_id, outputs=None, **kwargs):
        self._experiment = experiment
        self._backend = backend(experiment.workspace)
        self._id = run_id
        self._metrics_file: Path | None = kwargs.get("_metrics_file")
        with translate(UserErrorException):
            self._record = kwargs.get("_record") or self._backend.get_run(run_id)

    @classmethod
    def _wrap(cls, workspace: Any, record: Any, **kwargs: Any) -> "Run":
        from azureml.core.experiment import Experiment

        return cls(Experiment(workspace, record.experiment), record.id, _record=record, **kwargs)

    @classmethod
    def get_context(cls, allow_offline=True, used_for_context_manager=False, **kwargs):
        """The run this process executes for, or (``allow_offline``) an offline run that prints."""
        run_id, run_dir, root = (os.environ.get(v) for v in (_RUN_ID_ENV, _RUN_DIR_ENV, _WORKSPACE_ENV))
        if run_id and run_dir and root:
            from azureml.core.workspace import Workspace, _backend_at

            workspace = Workspace._wrap(_backend_at(root))
            with translate(UserErrorException):
                record = workspace._backend.get_run(run_id)
            return cls._wrap(workspace, record, _metrics_file=Path(run_dir) / _METRICS_FILE)
        if allow_offline:
            return _OfflineRun()
        raise RunEnvironmentException()

    # -- what it is ---------------------------------------------------------------------

    def _refresh(self) -> Any:
        with translate(UserErrorException):
            self._record = self._backend.get_run(self._id)
        return self._record

    @property
    def id(self):
        return self._id

    @property
    def experiment(self):
        return self._experiment

    @property
    def name(self):
        return self._record.display_name

    @property
    def display_name(self):
        return self._record.display_name

    @display_name.setter
    def display_name(self, display_name):
        with translate(UserErrorException):
            self._record = self._backend.set_run_display_name(self._id, display_name)

    @property
    def number(self):
        return None

    @property
    def type(self):
        return "azureml.scriptrun" if self._record.script != "(logged)" else "experimentrun"

    @property
    def status(self):
        return self._refresh().status.value

    def get_status(self):
        """Queued, Preparing, Running, Completed, Failed or Canceled."""
        return self.status

    @property
    def parent(self):
        parent_id = self._refresh().parent_id
        return None if parent_id is None else Run(self._experiment, parent_id)

    @property
    def tags(self):
        return dict(self._refresh().tags)

    def get_tags(self):
        return self.tags

    @property
    def properties(self):
        record = self._refresh()
        return {"azureml.runsource": self.type, "ContentSnapshotId": record.id}

    def get_details(self):
        """The run's details as azureml gives them: ids, target, status, times, definition, log files."""
        record = self._refresh()
        details: dict[str, Any] = {"runId": record.id, "target": record.compute_target, "status": record.status.value}
        if record.started_at:
            details["startTimeUtc"] = record.started_at
        if record.ended_at:
            details["endTimeUtc"] = record.ended_at
        if record.error:
            message = record.error
            if record.status.value == "Failed":
                with translate(UserErrorException):
                    tail = self._backend.get_log_tail(record.id, lines=12).strip()
                if tail:
                    message += "\nThe end of its log:\n" + tail
            details["error"] = {"error": {"code": "UserError", "message": message}}
        details.update({
            "services": {}, "properties": self.properties, "inputDatasets": [], "outputDatasets": [],
            "runDefinition": {"script": record.script, "arguments": list(record.arguments),
                              "target": record.compute_target, "environment": {"name": record.environment}},
            "logFiles": {name: str(Path(record.run_dir) / name) for name in self.get_file_names()
                         if name.startswith("logs/")},
        })
        return details

    # -- logging ------------------------------------------------------------------------

    def _emit(self, line: dict[str, Any], metrics: dict[str, Any] | None = None, tags: dict[str, str] | None = None):
        if self._metrics_file is not None:
            line["time"] = datetime.now(timezone.utc).isoformat()
            with open(self._metrics_file, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(line, ensure_ascii=False) + "\n")
            return
        with translate(UserErrorException):
            if metrics is not None:
                self._backend.log_metrics(self._id, metrics)
            if tags is not None:
                self._backend.set_run_tags(self._id, tags)

    def log(self, name, value, description='', step=None):
        """Log a number or a string under ``name``; logging it again adds to its history."""
        value = _check_value(name, value)
        if isinstance(value, list):
            raise UserErrorException(f"Metric {name!r}: log() takes one value; use log_list() for a list.")
        self._emit({"name": name, "value": value}, metrics={name: value})

    def log_list(self, name, value, description=''):
        """Log a list of values under ``name``."""
        value = _check_value(name, list(value))
        self._emit({"name": name, "value": value}, metrics={name: value})

    def log_row(self, name, description=None, **kwargs):
        """Log one row of a table metric: ``log_row("errors", epoch=1, loss=0.3)``."""
        row = {key: _check_value(f"{name}.{key}", value) for key, value in kwargs.items()}
        self._emit({"name": name, "value": row}, metrics={name: row})

    def tag(self, key, value=None):
        """Set one tag (Azure stores tag values as text)."""
        text = "" if value is None else str(value)
        self._emit({"tag": key, "value": text}, tags={key: text})

    def set_tags(self, tags):
        for key, value in dict(tags).items():
            self.tag(key, value)

    # -- reading ------------------------------------------------------------------------

    def get_metrics(self, name=None, recursive=False, run_type=None, populate=False):
        """{name: value} of the logged metrics; a metric logged several times gives the list of its values."""
        if recursive:
            found = {self._id: self.get_metrics(name)}
            for child in self.get_children(recursive=True):
                found[child.id] = child.get_metrics(name)
            return found
        with translate(UserErrorException):
            history = self._backend.get_metrics(self._id).history
        metrics: dict[str, Any] = {}
        for metric, points in history.items():
            if name is not None and metric != name:
                continue
            values = [p.value for p in points]
            if all(isinstance(v, dict) for v in values):  # a table logged row by row
                columns: dict[str, list[Any]] = {}
                for row in values:
                    for key, value in row.items():
                        columns.setdefault(key, []).append(value)
                metrics[metric] = columns
            else:
                metrics[metric] = values[0] if len(values) == 1 else values
        return metrics

    def get_file_names(self):
        """The run's files (outputs/ and logs/), as paths relative to the run."""
        root = Path(self._refresh().run_dir)
        names = []
        for folder in _FILE_FOLDERS:
            base = root / folder
            if base.is_dir():
                names += [p.relative_to(root).as_posix() for p in sorted(base.rglob("*")) if p.is_file()]
        return names

    def _file(self, name: str) -> Path:
        names = self.get_file_names()
        if name not in names:
            raise UserErrorException(f"File with path {name} was not found,\navailable files include: "
                                     f"{', '.join(names)}.")
        return Path(self._record.run_dir) / name

    def download_file(self, name, output_file_path=None, _validate_checksum=False):
        """Copy one of the run's files here (``output_file_path``: a file or a folder; default: this folder)."""
        source = self._file(str(PurePosixPath(str(name))))
        target = Path(output_file_path) if output_file_path is not None else Path(source.name)
        if target.is_dir():
            target = target / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)

    def download_files(self, prefix=None, output_directory=None, output_paths=None, batch_size=100,
                       append_prefix=True, timeout_seconds=None):
        """Copy the run's files under ``prefix`` into ``output_directory`` (default: this folder)."""
        names = [n for n in self.get_file_names() if prefix is None or n.startswith(str(prefix))]
        folder = Path(output_directory or ".")
        for name in names:
            relative = name if append_prefix or not prefix else name[len(str(prefix)):].lstrip("/")
            self.download_file(name, folder / relative)

    def upload_file(self, name, path_or_stream, datastore_name=None):
        """Store a local file with the run under ``name`` (e.g. "outputs/model.pkl")."""
        if not isinstance(path_or_stream, (str, os.PathLike)):
            raise UserErrorException("The embedded workspace uploads files by path: pass the file's path.")
        with translate(UserErrorException):
            self._backend.upload_run_file(self._id, str(name), path_or_stream)

    def register_model(self, model_name, model_path=None, tags=None, properties=None, model_framework=None,
                       model_framework_version=None, description=None, datasets=None, sample_input_dataset=None,
                       sample_output_dataset=None, resource_configuration=None, **kwargs):
        """Register a file or folder of this run (``model_path``, e.g. "outputs/model.pkl") as a model."""
        from azureml.core.model import Model
        from azureml.exceptions import ModelPathNotFoundException

        if model_path is None:
            raise UserErrorException("model_path is required: the path of the model in the run, "
                                     "e.g. 'outputs/model.pkl'.")
        with translate(ModelPathNotFoundException):
            record = self._backend.register_model(model_name, model_path, run_id=self._id, tags=tags,
                                                  description=description or "")
        return Model._from_record(self._experiment.workspace, record)

    # -- the lifecycle --------------------------------------------------------------------

    def wait_for_completion(self, show_output=False, wait_post_processing=False, raise_on_error=True):
        """Wait until the run ends; with ``show_output`` stream its log. Returns its details."""
        if show_output:
            print(f"RunId: {self._id}\n\nStreaming azureml-logs/70_driver_log.txt\n"
                  "=====================================\n", flush=True)
        with translate(UserErrorException):
            self._record = self._backend.wait_for_completion(
                self._id, on_log_line=(lambda line: print(line, flush=True)) if show_output else None)
        details = self.get_details()
        if show_output:
            print(f"\nExecution Summary\n=================\nRunId: {self._id}\n", flush=True)
        if raise_on_error and self._record.status.value == "Failed":
            raise ActivityFailedException(error_details=json.dumps(details.get("error", {}), indent=4))
        return details

    def get_children(self, recursive=False, tags=None, properties=None, type=None, status=None,
                     _rehydrate_runs=True):
        """The run's child runs (an AutoML run's iterations), oldest first."""
        with translate(UserErrorException):
            records = self._backend.get_children(self._id)
        for record in records:
            child = Run(self._experiment, record.id, _record=record)
            if _matches(child, tags, status):
                yield child
            if recursive:
                yield from child.get_children(recursive=True, tags=tags, status=status)

    def child_run(self, name=None, run_id=None, outputs=None):
        """Start a child run logged by this process."""
        with translate(UserErrorException):
            record = self._backend.start_logging(self._record.experiment, display_name=name, parent_id=self._id)
        return Run(self._experiment, record.id, _record=record)

    def complete(self, _set_status=True):
        """End a run this process logs: Completed."""
        self._end("Completed")

    def fail(self, error_details=None, error_code=None, _set_status=True):
        """End a run this process logs: Failed."""
        self._end("Failed", None if error_details is None else str(error_details))

    def cancel(self):
        """Cancel the run (a submitted run's process is stopped)."""
        with translate(UserErrorException):
            if self._record.script == "(logged)":
                self._backend.complete_run(self._id, "Canceled")
            else:
                self._backend.cancel(self._id)
        self._refresh()

    def _end(self, status: str, error: str | None = None) -> None:
        if self._metrics_file is not None:  # a submitted run ends when its script does
            return
        with translate(UserErrorException):
            self._record = self._backend.complete_run(self._id, status, error=error)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.complete()
        else:
            self.fail(error_details=exc)
        return False

    def __eq__(self, other):
        return isinstance(other, Run) and other.id == self.id

    def __hash__(self):
        return hash(self._id)

    def __repr__(self):
        return (f"Run(Experiment: {self._record.experiment},\nId: {self._id},\nType: {self.type},\n"
                f"Status: {self._record.status.value})")


def _rehydrate(experiment: Any, record: Any) -> Run:
    """A listed run as its own type, as azureml rehydrates runs: an AutoML parent is an AutoMLRun."""
    if record.parent_id is None and record.tags.get("kind") == "automl":
        from azureml.train.automl.run import AutoMLRun

        return AutoMLRun(experiment, record.id, _record=record)
    return Run(experiment, record.id, _record=record)


def _matches(run: Run, tags: Any, status: Any) -> bool:
    if status is not None and run.status != status:
        return False
    if tags is None:
        return True
    have = run.tags
    if isinstance(tags, str):
        return tags in have
    if isinstance(tags, dict):
        return all(have.get(k) == str(v) for k, v in tags.items())
    return all(t in have for t in tags)


def get_run(experiment, run_id, rehydrate=True, clean_up=True):
    """The run ``run_id`` of ``experiment`` (``azureml.core.run.get_run``)."""
    return Run(experiment, run_id)


class _OfflineRun(Subset):
    """The run outside any run: logging prints what would be logged, as azureml's offline run does."""

    def __init__(self, parent_logger=None, run_id=None, **kwargs):
        self._run_id = f"OfflineRun_{uuid4()}" if run_id is None else run_id

    @property
    def id(self):
        return self._run_id

    def _emit(self, kind: str, name: str, value: Any) -> None:
        print(f"Attempted to log {kind} metric {name}:\n{value}")

    def log(self, name, value, description=""):
        self._emit("scalar", name, value)

    def log_list(self, name, value, description=""):
        self._emit("list", name, value)

    def log_row(self, name, description=None, **kwargs):
        self._emit("row", name, kwargs)

    def set_tags(self, tags):
        print(f"Attempted to set tags {tags}")

    def tag(self, name, value=None):
        print(f"Attempted to add tag {name} with value {value}")

    def complete(self):
        pass

    def fail(self, error_details=None, error_code=None):
        print(f"Run failed with error code {error_code}:\n{error_details}")

    def cancel(self):
        pass

    def upload_file(self, name, path_or_stream, datastore_name=None):
        print(f"Attempted to track file {name} at {path_or_stream}")

    def child_run(self, name=None, run_id=None, outputs=None):
        child = str(uuid4()) if name is None else name
        return _OfflineRun(run_id=f"{self.id}.{child}" if run_id is None else run_id)


