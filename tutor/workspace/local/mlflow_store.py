"""MLflow's tracking store for the embedded workspace: ``tutor:///<workspace folder>``.

MLflow finds this class through the ``mlflow.tracking_store`` entry point (the way
azureml-mlflow plugs in ``azureml://``), so code written for Azure ML SDK v2 works offline::

    mlflow.set_tracking_uri(ws.mlflow_tracking_uri)   # "tutor:///home/alice/course/.tutor/ws"
    run = mlflow.get_run(job_name)
    mlflow.search_runs(experiment_names=["alice-taxi"])

How the two models meet:

* an experiment's id is its name; the id ``"0"`` (MLflow's default experiment) is the
  experiment ``Default``, made when a run is first logged to it;
* a run's id is the embedded run id, its name the run's display name, and its
  ``artifact_uri`` the run's folder (``file://...``), so ``outputs/model.pkl`` downloads;
* statuses: Queued and Preparing are SCHEDULED, Running is RUNNING, Completed FINISHED,
  Failed FAILED, Canceled KILLED;
* metrics are the numeric values a run logged (text and list metrics are left out); each
  value logged again is the next step of the metric's history, numbered in log order;
* params are ``--name value`` pairs of a submitted run's arguments, plus the params logged
  through MLflow, which are kept as run tags named ``mlflow.param.<name>``;
* tags are the run's tags, with ``mlflow.runName`` and ``mlflow.parentRunId`` added;
* metric and tag names are spelled as MLflow allows them (:func:`mlflow_name`: "R^2" is
  "R2"), as the course's ``train/aml_run.py`` logs them when an Azure ML job tracks with MLflow.

MLflow is imported here only: the CLI never imports this module.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence
from urllib.parse import unquote, urlparse

from mlflow.entities import (
    Experiment,
    LifecycleStage,
    LoggedModel,
    Metric,
    Param,
    Run,
    RunData,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import (
    INVALID_PARAMETER_VALUE,
    NOT_IMPLEMENTED,
    RESOURCE_ALREADY_EXISTS,
    RESOURCE_DOES_NOT_EXIST,
)
from mlflow.store.entities.paged_list import PagedList
from mlflow.store.tracking import SEARCH_MAX_RESULTS_DEFAULT, SEARCH_MAX_RESULTS_THRESHOLD
from mlflow.store.tracking.abstract_store import AbstractStore
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID, MLFLOW_RUN_NAME, MLFLOW_USER
from mlflow.utils.search_utils import SearchExperimentsUtils, SearchUtils

from tutor.errors import TutorError
from tutor.workspace.base import MetricPoint, RunRecord
from tutor.workspace.base import RunStatus as EmbeddedStatus
from tutor.workspace.local.logged import LOGGED_SCRIPT
from tutor.workspace.local.workspace import LocalWorkspace

log = logging.getLogger(__name__)

SCHEME = "tutor"
DEFAULT_EXPERIMENT_ID = "0"
DEFAULT_EXPERIMENT_NAME = "Default"
# Params logged through MLflow are kept as run tags with this prefix.
PARAM_TAG_PREFIX = "mlflow.param."

_STATUS_TO_MLFLOW = {
    EmbeddedStatus.QUEUED: RunStatus.SCHEDULED,
    EmbeddedStatus.PREPARING: RunStatus.SCHEDULED,
    EmbeddedStatus.RUNNING: RunStatus.RUNNING,
    EmbeddedStatus.COMPLETED: RunStatus.FINISHED,
    EmbeddedStatus.FAILED: RunStatus.FAILED,
    EmbeddedStatus.CANCELED: RunStatus.KILLED,
}
_ENDING_FROM_MLFLOW = {
    RunStatus.FINISHED: EmbeddedStatus.COMPLETED.value,
    RunStatus.FAILED: EmbeddedStatus.FAILED.value,
    RunStatus.KILLED: EmbeddedStatus.CANCELED.value,
}


def workspace_folder(store_uri: str) -> Path:
    """The folder a ``tutor:///<absolute path>`` URI names."""
    parsed = urlparse(store_uri)
    if parsed.scheme != SCHEME:
        raise MlflowException(f"'{store_uri}' is not a {SCHEME}:// tracking URI.", INVALID_PARAMETER_VALUE)
    path = unquote(parsed.path)
    if len(parsed.netloc) == 2 and parsed.netloc[1] == ":":  # tutor://C:/course/ws on Windows
        path = parsed.netloc + path
    elif parsed.netloc:
        raise MlflowException(
            f"The tracking URI '{store_uri}' names a host ('{parsed.netloc}'); the embedded workspace "
            f"is a folder. Write it as {SCHEME}:///<absolute path of the workspace folder>.",
            INVALID_PARAMETER_VALUE,
        )
    if not path or not Path(path).is_absolute():
        raise MlflowException(
            f"The tracking URI '{store_uri}' has no absolute folder path. Write it as "
            f"{SCHEME}:///<absolute path of the workspace folder>, or use ws.mlflow_tracking_uri.",
            INVALID_PARAMETER_VALUE,
        )
    return Path(path)


def mlflow_name(name: str) -> str:
    """A metric or tag name as MLflow allows it (letters, digits, ``_ - . : /`` and spaces):
    "R^2" is "R2". The same rule as ``train/aml_run.py``'s, which cannot import the tutor."""
    import re

    return re.sub(r"[^\w\-. :/]", "_", name.replace("^", "")) or "_"


def _millis(stamp: str | None) -> int | None:
    """Milliseconds since the epoch of an ISO 8601 time (UTC when it names no zone)."""
    if not stamp:
        return None
    try:
        moment = datetime.fromisoformat(stamp)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1000)


def _numeric(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def argument_params(arguments: Sequence[str]) -> dict[str, str]:
    """``--name value`` and ``--name=value`` pairs of a run's arguments (flags alone are left out)."""
    params: dict[str, str] = {}
    items = list(arguments)
    for index, item in enumerate(items):
        if not item.startswith("--") or len(item) == 2:
            continue
        name, sep, value = item[2:].partition("=")
        if sep:
            params[name] = value
        elif index + 1 < len(items) and not items[index + 1].startswith("--"):
            params[name] = items[index + 1]
    return params


def _not_supported(what: str) -> MlflowException:
    return MlflowException(f"The embedded workspace does not support {what}.", NOT_IMPLEMENTED)


class TutorTrackingStore(AbstractStore):
    """Experiments and runs of one embedded workspace, as MLflow sees them."""

    def __init__(self, store_uri: str | None = None, artifact_uri: str | None = None) -> None:
        super().__init__()
        if not store_uri:
            raise MlflowException(f"A {SCHEME}:// tracking URI needs the workspace folder.", INVALID_PARAMETER_VALUE)
        self.store_uri = store_uri
        folder = workspace_folder(store_uri)
        try:
            self.workspace = LocalWorkspace(folder, create=False)
        except TutorError as exc:
            raise MlflowException(
                f"The tracking URI '{store_uri}' does not point at an embedded workspace: "
                f"{exc.what} {exc.fix or ''} Use the workspace's own URI "
                f"(ml_client.workspaces.get(name).mlflow_tracking_uri), which is {SCHEME}:///<workspace folder>.",
                INVALID_PARAMETER_VALUE,
            ) from exc

    # -- helpers ------------------------------------------------------------------------

    def _run_exists(self, run_id: str) -> bool:
        with self.workspace.store.read() as conn:
            return conn.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is not None

    def _record(self, run_id: str) -> RunRecord:
        if not isinstance(run_id, str) or not self._run_exists(run_id):
            recent = [r.id for r in self.workspace.list_runs()[:5]]
            raise MlflowException(
                f"Run '{run_id}' not found in the embedded workspace '{self.workspace.name}'."
                + (" Recent runs: " + ", ".join(recent) + "." if recent else " It has no runs yet."),
                RESOURCE_DOES_NOT_EXIST,
            )
        with _translated():
            return self.workspace.get_run(run_id)

    def _experiment_name(self, experiment_id: str) -> str:
        """The name of an existing experiment (the default one is made on demand)."""
        experiment_id = str(experiment_id)
        if experiment_id == DEFAULT_EXPERIMENT_ID:
            experiment_id = DEFAULT_EXPERIMENT_NAME
        names = [e.name for e in self.workspace.list_experiments()]
        if experiment_id in names:
            return experiment_id
        if experiment_id == DEFAULT_EXPERIMENT_NAME:
            with _translated():
                return self.workspace.experiment(DEFAULT_EXPERIMENT_NAME).name
        raise MlflowException(
            f"No experiment with ID '{experiment_id}' in the embedded workspace '{self.workspace.name}' "
            f"(an experiment's ID is its name). Experiments: {', '.join(names) or 'none'}. "
            "Create one with mlflow.set_experiment(name).",
            RESOURCE_DOES_NOT_EXIST,
        )

    def _experiment(self, name: str, created_at: str) -> Experiment:
        created = _millis(created_at)
        return Experiment(
            experiment_id=name, name=name, artifact_location=self.workspace.layout.runs.as_uri(),
            lifecycle_stage=LifecycleStage.ACTIVE, tags=[], creation_time=created, last_update_time=created,
        )

    def _run_info(self, record: RunRecord) -> RunInfo:
        start = _millis(record.started_at) or _millis(record.submitted_at) or 0
        return RunInfo(
            run_id=record.id, experiment_id=record.experiment, user_id=record.tags.get(MLFLOW_USER, ""),
            status=RunStatus.to_string(_STATUS_TO_MLFLOW[record.status]), start_time=start,
            end_time=_millis(record.ended_at), lifecycle_stage=LifecycleStage.ACTIVE,
            artifact_uri=Path(record.run_dir).as_uri(), run_name=record.display_name or record.id,
        )

    def _metric(self, name: str, point: MetricPoint, fallback_ms: int) -> Metric:
        return Metric(key=name, value=float(point.value), timestamp=_millis(point.time) or fallback_ms,
                      step=point.step)

    def _run(self, record: RunRecord) -> Run:
        info = self._run_info(record)
        with _translated():
            history = self.workspace.get_metrics(record.id).history
        metrics = []
        for name, points in history.items():
            numeric = [p for p in points if _numeric(p.value)]
            if numeric:
                metrics.append(self._metric(mlflow_name(name), numeric[-1], info.start_time))
        params = argument_params(record.arguments) if record.script != LOGGED_SCRIPT else {}
        tags: dict[str, str] = {}
        for key, value in record.tags.items():
            if key.startswith(PARAM_TAG_PREFIX):
                params[key[len(PARAM_TAG_PREFIX):]] = value
            else:
                tags[key if key.startswith("mlflow.") else mlflow_name(key)] = value
        tags[MLFLOW_RUN_NAME] = info.run_name
        if record.parent_id:
            tags[MLFLOW_PARENT_RUN_ID] = record.parent_id
        data = RunData(
            metrics=metrics,
            params=[Param(k, v) for k, v in params.items()],
            tags=[RunTag(k, v) for k, v in tags.items()],
        )
        return Run(run_info=info, run_data=data)

    def _experiment_runs(self, name: str) -> list[RunRecord]:
        """Every run of an experiment, child runs included."""
        with _translated():
            found = self.workspace.list_runs(name)
            pending = list(found)
            while pending:
                children = self.workspace.get_children(pending.pop().id)
                found.extend(children)
                pending.extend(children)
        return found

    # -- experiments ------------------------------------------------------------------

    def search_experiments(self, view_type: int = ViewType.ACTIVE_ONLY, max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
                           filter_string: str | None = None, order_by: list[str] | None = None,
                           page_token: str | None = None) -> PagedList[Experiment]:
        experiments = []
        if view_type != ViewType.DELETED_ONLY:
            experiments = [self._experiment(e.name, e.created_at) for e in self.workspace.list_experiments()]
        filtered = SearchExperimentsUtils.filter(experiments, filter_string)
        ordered = SearchExperimentsUtils.sort(filtered, order_by or ["creation_time DESC", "experiment_id ASC"])
        page, token = SearchUtils.paginate(ordered, page_token, max_results)
        return PagedList(page, token)

    def create_experiment(self, name: str, artifact_location: str | None = None,
                          tags: Sequence[Any] | None = None) -> str:
        if any(e.name == name for e in self.workspace.list_experiments()):
            raise MlflowException(f"Experiment '{name}' already exists.", RESOURCE_ALREADY_EXISTS)
        if tags:
            log.warning("The embedded workspace keeps no experiment tags; those of '%s' are not stored.", name)
        with _translated():
            return self.workspace.experiment(name).name

    def get_experiment(self, experiment_id: str) -> Experiment:
        name = self._experiment_name(experiment_id)
        record = next(e for e in self.workspace.list_experiments() if e.name == name)
        return self._experiment(record.name, record.created_at)

    def get_experiment_by_name(self, experiment_name: str) -> Experiment | None:
        for record in self.workspace.list_experiments():
            if record.name == experiment_name:
                return self._experiment(record.name, record.created_at)
        return None

    def delete_experiment(self, experiment_id: str) -> None:
        raise _not_supported("deleting experiments")

    def restore_experiment(self, experiment_id: str) -> None:
        raise _not_supported("restoring experiments")

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        raise _not_supported("renaming experiments")

    def set_experiment_tag(self, experiment_id: str, tag: Any) -> None:
        raise _not_supported("experiment tags")

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        raise _not_supported("experiment tags")

    # -- runs -------------------------------------------------------------------------

    def get_run(self, run_id: str) -> Run:
        return self._run(self._record(run_id))

    def create_run(self, experiment_id: str, user_id: str | None, start_time: int | None,
                   tags: Sequence[RunTag] | None, run_name: str | None) -> Run:
        experiment = self._experiment_name(experiment_id)
        wanted = {tag.key: tag.value for tag in tags or []}
        parent_id = wanted.pop(MLFLOW_PARENT_RUN_ID, None) or None
        run_name = run_name or wanted.pop(MLFLOW_RUN_NAME, None) or _random_name()
        wanted.pop(MLFLOW_RUN_NAME, None)
        if user_id and MLFLOW_USER not in wanted:
            wanted[MLFLOW_USER] = user_id
        if parent_id is not None:
            self._record(parent_id)
        with _translated():
            record = self.workspace.start_logging(experiment, display_name=run_name, tags=wanted,
                                                  parent_id=parent_id)
        return self._run(record)

    def update_run_info(self, run_id: str, run_status: int | None, end_time: int | None,
                        run_name: str | None) -> RunInfo:
        """End a run logged through MLflow, or rename any run.

        A submitted run ends when its script does, so only its name changes here; a run
        asked to be RUNNING again keeps its status.
        """
        record = self._record(run_id)
        with _translated():
            if run_name:
                record = self.workspace.set_run_display_name(run_id, run_name)
            ending = _ENDING_FROM_MLFLOW.get(run_status) if run_status is not None else None
            if ending and record.script == LOGGED_SCRIPT and not record.status.is_terminal:
                record = self.workspace.complete_run(run_id, ending)
        return self._run_info(record)

    def delete_run(self, run_id: str) -> None:
        raise _not_supported("deleting runs")

    def restore_run(self, run_id: str) -> None:
        raise _not_supported("restoring runs")

    def delete_tag(self, run_id: str, key: str) -> None:
        raise _not_supported("deleting run tags")

    def _search_runs(self, experiment_ids: Sequence[str], filter_string: str | None, run_view_type: int,
                     max_results: int, order_by: list[str] | None,
                     page_token: str | None) -> tuple[list[Run], str | None]:
        if max_results > SEARCH_MAX_RESULTS_THRESHOLD:
            raise MlflowException(
                f"max_results may be at most {SEARCH_MAX_RESULTS_THRESHOLD}, not {max_results}.",
                INVALID_PARAMETER_VALUE,
            )
        runs: list[Run] = []
        if run_view_type != ViewType.DELETED_ONLY:
            known = {e.name for e in self.workspace.list_experiments()}
            for experiment_id in experiment_ids:
                name = DEFAULT_EXPERIMENT_NAME if str(experiment_id) == DEFAULT_EXPERIMENT_ID else str(experiment_id)
                if name in known:
                    runs.extend(self._run(record) for record in self._experiment_runs(name))
        filtered = SearchUtils.filter(runs, filter_string)
        ordered = SearchUtils.sort(filtered, order_by)
        page, token = SearchUtils.paginate(ordered, page_token, max_results)
        return page, token

    # -- logging ----------------------------------------------------------------------

    def log_batch(self, run_id: str, metrics: Sequence[Metric], params: Sequence[Param],
                  tags: Sequence[RunTag]) -> None:
        record = self._record(run_id)
        rounds: list[dict[str, float]] = []  # the n-th value of each metric goes in round n
        for metric in metrics:
            if not _numeric(metric.value):
                raise MlflowException(
                    f"Metric '{metric.key}' has the value {metric.value!r}; metrics are numbers.",
                    INVALID_PARAMETER_VALUE,
                )
            slot = next((r for r in rounds if metric.key not in r), None)
            if slot is None:
                slot = {}
                rounds.append(slot)
            slot[metric.key] = float(metric.value)
        new_tags: dict[str, str] = {}
        for param in params:
            key = PARAM_TAG_PREFIX + param.key
            value = str(param.value)
            old = record.tags.get(key, new_tags.get(key))
            if old is not None and old != value:
                raise MlflowException(
                    f"Param '{param.key}' of run '{run_id}' is '{old}'; a param's value cannot change "
                    f"(tried '{value}').",
                    INVALID_PARAMETER_VALUE,
                )
            new_tags[key] = value
        display_name = None
        for tag in tags:
            if tag.key == MLFLOW_RUN_NAME:
                display_name = str(tag.value)
            elif tag.key != MLFLOW_PARENT_RUN_ID:
                new_tags[tag.key] = str(tag.value)
        with _translated():
            for values in rounds:
                self.workspace.log_metrics(run_id, values)
            if new_tags:
                self.workspace.set_run_tags(run_id, new_tags)
            if display_name:
                self.workspace.set_run_display_name(run_id, display_name)

    def log_metric(self, run_id: str, metric: Metric) -> None:
        self.log_batch(run_id, metrics=[metric], params=[], tags=[])

    def log_param(self, run_id: str, param: Param) -> None:
        self.log_batch(run_id, metrics=[], params=[param], tags=[])

    def set_tag(self, run_id: str, tag: RunTag) -> None:
        self.log_batch(run_id, metrics=[], params=[], tags=[tag])

    def get_metric_history(self, run_id: str, metric_key: str, max_results: int | None = None,
                           page_token: str | None = None) -> PagedList[Metric]:
        record = self._record(run_id)
        fallback = _millis(record.started_at) or _millis(record.submitted_at) or 0
        with _translated():
            points = [p for name, found in self.workspace.get_metrics(run_id).history.items()
                      if mlflow_name(name) == metric_key for p in found]
        history = [self._metric(metric_key, p, fallback) for p in points if _numeric(p.value)]
        if max_results is None:
            return PagedList(history, None)
        page, token = SearchUtils.paginate(history, page_token, max_results)
        return PagedList(page, token)

    def log_inputs(self, run_id: str, datasets: Any = None, models: Any = None) -> None:
        """Datasets and models given as a run's inputs are not recorded (autologging sends them)."""
        self._record(run_id)

    def search_logged_models(self, experiment_ids: list[str], filter_string: str | None = None,
                             datasets: list[dict[str, Any]] | None = None, max_results: int | None = None,
                             order_by: list[dict[str, Any]] | None = None,
                             page_token: str | None = None) -> PagedList[LoggedModel]:
        """None: the embedded workspace keeps no MLflow logged models (listing artifacts asks)."""
        return PagedList([], None)

    def link_traces_to_run(self, trace_ids: list[str], run_id: str) -> None:
        raise _not_supported("traces")


class _translated:
    """Turns the workspace's TutorError into the MlflowException MLflow's callers expect."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: Any) -> None:
        if isinstance(error, TutorError):
            raise MlflowException(str(error), INVALID_PARAMETER_VALUE) from error


def _random_name() -> str | None:
    """A run name like MLflow gives runs it creates (none if MLflow has no generator)."""
    try:
        from mlflow.utils.name_utils import _generate_random_name
    except ImportError:  # pragma: no cover - a private helper of MLflow
        return None
    return str(_generate_random_name())

