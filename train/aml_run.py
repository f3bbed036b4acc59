"""The run a training script logs to: ``azureml.core.Run.get_context()``, or a local log by hand.

The course's training scripts must run unchanged in three places:

* inside an Azure ML run (a ScriptRunConfig on a cluster): metrics, tags and datasets go
  through ``azureml.core.Run.get_context()`` of Microsoft's azureml-core;
* inside a run of the tutor's embedded workspace: the same calls, answered by the embedded
  workspace's azureml SDK (the workspace puts it first on the run's PYTHONPATH), which
  appends every metric as one JSON line to ``$TUTOR_RUN_DIR/metrics.jsonl``;
* by hand (``python train.py --data prepped.csv``): ``Run.get_context()`` is an offline run
  there, so metrics are printed and written to ``./outputs/metrics.jsonl`` instead.

The metrics file is the embedded workspace's contract, one JSON object per line::

    {"name": "RMSE Test", "value": 3.25, "time": "2025-01-04T18:00:00.000000+00:00"}
    {"name": "errors", "value": [0.1, 0.2], "time": "..."}          (log_list)
    {"tag": "variant", "value": "4", "time": "..."}                  (tag)

This module uses only the standard library; ``azureml`` is imported lazily and silently.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import sys
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

#: Set by the embedded workspace: the run folder (metrics.jsonl is written there).
RUN_DIR_ENV = "TUTOR_RUN_DIR"
#: Set by the embedded workspace: the workspace folder (registered datasets live there).
WORKSPACE_DIR_ENV = "TUTOR_WORKSPACE_DIR"
METRICS_FILE = "metrics.jsonl"


class DatasetUnavailable(RuntimeError):
    """A registered dataset cannot be loaded here (no workspace, unknown name, ...)."""


def _json_safe(value: Any) -> Any:
    """Plain JSON values: numpy scalars become Python numbers, NaN/inf become None."""
    if hasattr(value, "item") and callable(value.item) and not isinstance(value, (list, tuple, dict)):
        try:
            value = value.item()
        except (TypeError, ValueError):
            pass
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)) or hasattr(value, "tolist"):
        items = value.tolist() if hasattr(value, "tolist") else value
        return [_json_safe(v) for v in items]
    return str(value)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


class LocalRun:
    """A run that appends its metrics and tags to a ``metrics.jsonl`` file."""

    kind = "local"

    def __init__(self, run_dir: str | os.PathLike[str] | None = None, *, echo: bool | None = None) -> None:
        if run_dir is None:
            run_dir = os.environ.get(RUN_DIR_ENV) or None
        if run_dir is None:
            # A learner running the script by hand: keep the metrics with the model.
            self.metrics_path = Path("outputs") / METRICS_FILE
            self.echo = True if echo is None else echo
        else:
            self.metrics_path = Path(run_dir) / METRICS_FILE
            self.echo = False if echo is None else echo
        self.metrics_path.parent.mkdir(parents=True, exist_ok=True)

    def _append(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False)
        # Append and close per line so the workspace can follow the file while the run is going.
        with open(self.metrics_path, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")

    def log(self, name: str, value: Any) -> None:
        value = _json_safe(value)
        self._append({"name": name, "value": value, "time": _now()})
        if self.echo:
            print(f"metric {name}: {value}")

    def log_list(self, name: str, values: Iterable[Any]) -> None:
        value = _json_safe(list(values))
        self._append({"name": name, "value": value, "time": _now()})
        if self.echo:
            print(f"metric {name}: {value}")

    def tag(self, key: str, value: Any = "") -> None:
        value = "" if value is None else str(value)
        self._append({"tag": key, "value": value, "time": _now()})
        if self.echo:
            print(f"tag {key}: {value}")


class AzureRun:
    """A thin wrapper over ``azureml.core.Run`` with the same three methods."""

    kind = "azure"

    def __init__(self, run: Any) -> None:
        self.run = run

    def log(self, name: str, value: Any) -> None:
        self.run.log(name, _json_safe(value))

    def log_list(self, name: str, values: Iterable[Any]) -> None:
        self.run.log_list(name, _json_safe(list(values)))

    def tag(self, key: str, value: Any = "") -> None:
        # Azure ML stores tag values as strings.
        self.run.tag(key, "" if value is None else str(value))

    @property
    def workspace(self) -> Any:
        return self.run.experiment.workspace


def mlflow_name(name: str) -> str:
    """A metric or tag name as MLflow allows it (letters, digits, ``_ - . : /`` and spaces):
    "R^2" is logged as "R2". The embedded workspace's MLflow store reads names the same way."""
    import re

    return re.sub(r"[^\w\-. :/]", "_", name.replace("^", "")) or "_"


class MlflowRun:
    """The run of an SDK v2 (azure-ai-ml) job on Azure: metrics and tags go through MLflow."""

    kind = "mlflow"

    def __init__(self, mlflow: Any) -> None:
        self.mlflow = mlflow

    def log(self, name: str, value: Any) -> None:
        value = _json_safe(value)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            self.mlflow.log_metric(mlflow_name(name), value)
        else:
            self.mlflow.set_tag(mlflow_name(name), str(value))

    def log_list(self, name: str, values: Iterable[Any]) -> None:
        for step, value in enumerate(_json_safe(list(values))):
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                self.mlflow.log_metric(mlflow_name(name), value, step=step)

    def tag(self, key: str, value: Any = "") -> None:
        self.mlflow.set_tag(mlflow_name(key), "" if value is None else str(value))


def _mlflow_context() -> Any | None:
    """MLflow, when this is an Azure ML job that tracks with it (SDK v2 jobs set MLFLOW_TRACKING_URI)."""
    if os.environ.get(RUN_DIR_ENV) or not os.environ.get("MLFLOW_TRACKING_URI"):
        return None
    try:
        with _silenced():
            import mlflow  # type: ignore[import-not-found]
    except Exception:
        return None
    return mlflow


@contextlib.contextmanager
def _silenced():
    """Swallow everything azureml prints or warns while it is imported and queried."""
    sink = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stderr(sink), contextlib.redirect_stdout(sink):
        warnings.simplefilter("ignore")
        yield


def _embedded_sdk_active() -> bool:
    return bool(getattr(sys.modules.get("azureml"), "__embedded__", False))


def _azure_context() -> Any | None:
    """The run this process belongs to (Azure's or the embedded workspace's), or None (offline)."""
    if os.environ.get(RUN_DIR_ENV) and not _embedded_sdk_active():
        # A run of the embedded workspace started without its PYTHONPATH: find the SDK here.
        try:
            import tutor.sdk  # type: ignore[import-not-found]

            tutor.sdk.activate(environ=False)
        except ImportError:
            pass
    try:
        with _silenced():
            from azureml.core import Run  # type: ignore[import-not-found]

            context = Run.get_context()
    except Exception:  # ImportError, or a broken/half-configured SDK: behave as local.
        return None
    if type(context).__name__ == "_OfflineRun" or str(getattr(context, "id", "")).startswith("OfflineRun"):
        return None
    try:
        with _silenced():
            has_experiment = getattr(context, "experiment", None) is not None
    except Exception:
        has_experiment = False
    return context if has_experiment else None


_RUN: LocalRun | AzureRun | MlflowRun | None = None


def get_run() -> LocalRun | AzureRun | MlflowRun:
    """The current run (created once per process): the workspace's run, or a local log by hand."""
    global _RUN
    if _RUN is None:
        context = _azure_context()
        tracking = _mlflow_context() if context is None else None
        if tracking is not None:
            _RUN = MlflowRun(tracking)
        elif context is None:
            _RUN = LocalRun()
        else:
            _RUN = AzureRun(context)
            _RUN.kind = "embedded" if _embedded_sdk_active() else "azure"
    return _RUN


def _reset_for_tests() -> None:
    global _RUN
    _RUN = None


def _version_arg(version: Any) -> Any:
    if version is None:
        return "latest"
    text = str(version).strip()
    return int(text) if text.isdigit() else text


def load_dataset(name: str, version: Any = "latest") -> Any:
    """A registered tabular dataset as a pandas DataFrame.

    ``Dataset.get_by_name(workspace, name, version).to_pandas_dataframe()`` on the run's
    workspace, Azure's or the embedded one. Raises :class:`DatasetUnavailable` with a
    readable reason when it cannot.
    """
    version = _version_arg(version)
    run = get_run()
    if not isinstance(run, AzureRun):
        raise DatasetUnavailable(
            f"cannot load the registered dataset {name!r}: this is not a workspace run "
            "(no Azure ML or embedded-workspace run is active). "
            "Pass the prepared file with --data PATH instead."
        )
    try:
        with _silenced():
            from azureml.core import Dataset  # type: ignore[import-not-found]

            dataset = Dataset.get_by_name(run.workspace, name, version)
    except Exception as exc:
        message = getattr(exc, "message", None) or str(exc)
        raise DatasetUnavailable(
            f"the workspace has no dataset {name!r} (version {version}): {message}"
        ) from exc
    return dataset.to_pandas_dataframe()


__all__ = [
    "AzureRun",
    "DatasetUnavailable",
    "LocalRun",
    "MlflowRun",
    "get_run",
    "load_dataset",
]

if __name__ == "__main__":  # pragma: no cover - a quick manual check
    run = get_run()
    print(f"{type(run).__name__} ({run.kind})", file=sys.stderr)
