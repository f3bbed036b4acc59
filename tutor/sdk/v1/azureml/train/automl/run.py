"""``azureml.train.automl.run.AutoMLRun``: an AutoML parent run on the embedded workspace.

``experiment.submit(automl_config, show_output=True)`` searches in this process and prints
what Azure prints (the iteration, pipeline, duration, metric and best so far); without
``show_output`` it searches in a background thread of this process and returns at once
(``wait_for_completion()`` waits for it). Each iteration is a child run
(``get_children()``); the best child holds the fitted model (``outputs/model.pkl``), which
``get_output()`` returns with that child and ``register_model()`` registers.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta
from typing import Any

from azureml._embedded import backend, translate
from azureml.core.run import Run
from azureml.exceptions import UserErrorException
from azureml.train.automl.exceptions import (
    ConfigException, _automl_error, _config_error, _embedded_refusal, _not_found_error,
)

__all__ = ["AutoMLRun"]

logger = logging.getLogger(__name__)

_BEST_CHILD_TAG = "automl_best_child_run_id"
_MODEL_PATH = "outputs/model.pkl"
#: Metrics to maximize; the other regression metrics are errors, to minimize.
_MAXIMIZE = {"spearman_correlation", "r2_score", "explained_variance"}
_POLL_S = 0.5


class _Search:
    """A search this process runs for a parent run (in a background thread, or done)."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.done = threading.Event()
        self.cancel_requested = False
        self.thread: threading.Thread | None = None
        self.outcome: Any = None
        self.error: BaseException | None = None
        self.console: _Console | None = None


#: parent run id -> its search, for the searches this process started.
_SEARCHES: dict[str, _Search] = {}


class _Console:
    """Azure's live output of an AutoML run (``RemoteConsoleInterface`` / ``ConsoleInterface``)."""

    WIDTHS = (5, 48, 16, 10, 10)

    def __init__(self, primary_metric: str) -> None:
        self.primary_metric = primary_metric
        self.lines: list[str] = []

    def header(self, run_id: str) -> None:
        separator = "*" * (sum(self.WIDTHS) + 3)
        print(f"Parent Run ID: {run_id}", flush=True)
        print("\nCurrent status: ModelSelection. Beginning model selection.\n", flush=True)
        print(separator)
        for column, text in (("ITER", "The iteration being evaluated."),
                             ("PIPELINE", "A summary description of the pipeline being evaluated."),
                             ("DURATION", "Time taken for the current iteration."),
                             ("METRIC", "The result of computing score on the fitted pipeline."),
                             ("BEST", "The best observed score thus far.")):
            print(f"{column}: {text}")
        print(separator + "\n")
        print(self.row("ITER", "PIPELINE", "DURATION", "METRIC", "BEST"), flush=True)

    def row(self, iteration: Any, pipeline: str, duration: str, metric: Any, best: Any) -> str:
        w = self.WIDTHS
        fmt = (lambda v: f"{v:.4f}" if isinstance(v, float) else ("" if v is None else str(v)))
        return (str(iteration).rjust(w[0])[-w[0]:] + "   " + pipeline.ljust(w[1])[:w[1] - 1]
                + duration[:w[2]].ljust(w[2]) + fmt(metric).rjust(w[3]) + fmt(best).rjust(w[4]))

    def child(self, child: Any) -> None:
        seconds = round(float(child.duration_s))
        score = child.score if child.score is not None else float("nan")
        line = self.row(child.iteration, child.pipeline, str(timedelta(seconds=seconds)), score, child.best_so_far)
        self.lines.append(line)
        print(line, flush=True)
        if child.error:
            print(f"ERROR: {child.error}", flush=True)


def _start(workspace: Any, experiment: str, config: Any, primary_metric: str, show_output: bool,
           tags: dict[str, str]) -> Any:
    """Start the search as a parent run; returns the parent's record (when it has started)."""
    from tutor.automl.parent_run import run_automl_parent
    from tutor.errors import TutorError

    local = backend(workspace)
    search = _Search()
    console = _Console(primary_metric) if show_output else None
    search.console = console
    started = threading.Event()
    holder: dict[str, Any] = {}

    def on_started(record: Any) -> None:
        holder["record"] = record
        _SEARCHES[record.id] = search
        if console is not None:
            console.header(record.id)
        started.set()

    def on_child(child: Any, child_id: str | None) -> None:
        if console is not None:
            console.child(child)

    def work() -> None:
        try:
            search.outcome = run_automl_parent(local, experiment, config, tags=tags, on_started=on_started,
                                               on_child=on_child, stop_event=search.stop,
                                               keep_stopped=lambda result: not search.cancel_requested)
        except BaseException as error:  # noqa: BLE001 - kept for the caller of wait/get_output
            search.error = error
        finally:
            search.done.set()
            started.set()

    if show_output:
        work()  # here: Ctrl-C ends the search and keeps the best model so far, as on Azure's local runs
    else:
        search.thread = threading.Thread(target=work, name="automl-search", daemon=False)
        search.thread.start()
        started.wait()
    error = search.error
    if "record" not in holder:  # nothing started: the settings or the workspace refused
        if isinstance(error, TutorError):
            raise ConfigException(f"{error.what} {error.fix}".strip()) from None
        raise error if error is not None else UserErrorException("The AutoML run did not start.")
    if isinstance(error, KeyboardInterrupt):
        raise error
    if isinstance(error, TutorError) and show_output:  # the run ended Failed, as Azure shows it
        print(f"ERROR: {error.what} {error.fix}".rstrip(), flush=True)
    return holder["record"]


class AutoMLRun(Run):
    """An automated ML parent run: its child runs are the iterations; the best one has the model."""

    def __init__(self, experiment, run_id, **kwargs):
        kwargs.pop("host", None)
        kwargs.pop("_user_agent", None)
        self._cached_best_model = None
        self._cached_best_run = None
        super().__init__(experiment=experiment, run_id=run_id, **kwargs)
        self.model_id = None

    @classmethod
    def _from_start(cls, experiment: Any, record: Any) -> "AutoMLRun":
        run = cls(experiment, record.id, _record=record)
        run._refresh()
        search = _SEARCHES.get(record.id)
        outcome = search.outcome if search is not None and search.done.is_set() else None
        if outcome is not None and outcome.best_child_id is not None:
            with translate(UserErrorException):
                child = backend(experiment.workspace).get_run(outcome.best_child_id)
            run._cached_best_run = Run._wrap(experiment.workspace, child)
            run._cached_best_model = outcome.model
        return run

    @property
    def run_id(self):
        return self._id

    @property
    def type(self):
        return "automl"

    # -- waiting ------------------------------------------------------------------------

    def _search(self) -> _Search | None:
        return _SEARCHES.get(self._id)

    def _wait(self) -> Any:
        search = self._search()
        if search is not None:
            search.done.wait()
        record = self._refresh()
        while not record.status.is_terminal:  # a search of another process
            time.sleep(_POLL_S)
            record = self._refresh()
        return record

    def wait_for_completion(self, show_output=False, wait_post_processing=False):
        """Wait until the search ends; with ``show_output`` print its iterations. Returns the run's details."""
        search = self._search()
        if show_output:
            print(f"Parent Run ID: {self._id}", flush=True)
            if search is not None and search.console is not None:
                for line in search.console.lines:
                    print(line)
        record = self._wait()
        if show_output and (search is None or search.console is None):
            console = _Console(self._record.tags.get("primary_metric", "score"))
            print(console.row("ITER", "PIPELINE", "DURATION", "METRIC", "BEST"))
            best = None
            for child in self.get_children():
                score = child.get_metrics().get(console.primary_metric)
                score = float(score) if isinstance(score, (int, float)) else None
                if score is not None and (best is None or (score > best if console.primary_metric in _MAXIMIZE
                                                           else score < best)):
                    best = score
                seconds = round(child._record.duration_seconds or 0)
                print(console.row(child.tags.get("iteration", ""), child.display_name or "",
                                  str(timedelta(seconds=seconds)), score, best))
        if show_output and record.error:
            print(f"ERROR: {record.error}", flush=True)
        return self.get_details()

    def cancel(self):
        """Cancel the search: it stops after the running iteration; the run ends Canceled."""
        record = self._refresh()
        if record.status.is_terminal:
            logger.warning("Run {} is already in a terminal state: {}".format(self._id, record.status.value))
            return
        search = self._search()
        if search is not None:
            if search.thread is None:
                raise _config_error("CancelUnsupportedForLocalRuns", target="cancel")
            search.cancel_requested = True
            search.stop.set()
            search.done.wait()
            self._refresh()
            return
        with translate(UserErrorException):
            backend(self._experiment.workspace).complete_run(self._id, "Canceled")
        self._refresh()

    def complete(self, **kwargs):
        """Mark the run Completed (the search marks it itself when it ends)."""
        return super().complete()

    def fail(self, error_details=None, error_code=None, _set_status=True, **kwargs):
        """Mark the run Failed, with ``error_details``."""
        return super().fail(error_details=error_details, error_code=error_code, _set_status=_set_status)

    # -- the best child and its model -----------------------------------------------------

    def _children_records(self) -> list[Any]:
        with translate(UserErrorException):
            return backend(self._experiment.workspace).get_children(self._id)

    def _get_run_internal(self, iteration: Any, metric: Any, operation_name: str) -> Run:
        if iteration is not None and metric is not None:
            raise _config_error("ConflictingValueForArguments", target=operation_name, arguments="metric, iteration")
        record = self._wait()
        children = self._children_records()
        primary = record.tags.get("primary_metric")
        if iteration is not None:
            found = [c for c in children if c.tags.get("iteration") == str(iteration)]
            if not found:
                raise _not_found_error("InvalidIteration", target="iteration", run_id=self._id,
                                      num_iterations=len(children))
            child = found[0]
            if str(child.status) != "Completed":
                raise UserErrorException(f"Run {iteration} is in {child.status} state.")
        elif metric is not None and metric != primary:
            child = self._best_by(children, metric)
        else:
            best_id = record.tags.get(_BEST_CHILD_TAG)
            if best_id is None:
                if str(record.status) != "Completed":
                    raise UserErrorException(f"The AutoML run {self._id} ended {record.status} without a best "
                                             f"model: {record.error or 'no iteration completed'}.")
                child = self._best_by(children, primary)
            else:
                child = next(c for c in children if c.id == best_id)
        return Run._wrap(self._experiment.workspace, child)

    def _best_by(self, children: list[Any], metric: str) -> Any:
        local = backend(self._experiment.workspace)
        scored = []
        for child in children:
            if str(child.status) != "Completed":
                continue
            value = local.get_metrics(child.id).get(metric)
            if isinstance(value, list):
                value = value[-1] if value else None
            if isinstance(value, (int, float)) and value == value:
                scored.append((float(value), child))
        if not scored:
            raise _automl_error("ModelMissing", target="metric", metric=metric)
        scored.sort(key=lambda pair: pair[0], reverse=metric in _MAXIMIZE)
        return scored[0][1]

    def _model_of(self, child: Run) -> Any:
        import joblib

        if _MODEL_PATH not in child.get_file_names():
            best = self._refresh().tags.get(_BEST_CHILD_TAG)
            raise _embedded_refusal(
                f"Child run {child.id} has no fitted model: the embedded workspace keeps the model of the best "
                f"iteration only (child run {best}).", "Call get_output() without iteration or metric.")
        return joblib.load(child._file(_MODEL_PATH))

    def get_output(self, iteration=None, metric=None, return_onnx_model=False, return_split_onnx_model=None,
                   **kwargs):
        """(the best child run, its fitted model); or those of ``iteration`` / the best by ``metric``."""
        defaults = iteration is None and metric is None and not return_onnx_model and return_split_onnx_model is None
        if defaults and self._cached_best_run is not None and self._cached_best_model is not None:
            return self._cached_best_run, self._cached_best_model
        if return_onnx_model or return_split_onnx_model is not None:
            from azureml.train.automl.exceptions import OnnxConvertException, _error

            raise OnnxConvertException._with_error(_error("OnnxNotEnabled", target="onnx_compatible"))
        child = self._get_run_internal(iteration, metric, "get_output")
        model = self._model_of(child)
        if defaults:
            self._cached_best_run, self._cached_best_model = child, model
        return child, model

    def get_best_child(self, metric=None, onnx_compatible=False, **kwargs):
        """The child run with the best primary metric (or ``metric``)."""
        if metric is None and not onnx_compatible and self._cached_best_run is not None:
            return self._cached_best_run
        if onnx_compatible:
            from azureml.train.automl.exceptions import OnnxConvertException, _error

            raise OnnxConvertException._with_error(_error("OnnxNotEnabled", target="onnx_compatible"))
        return self._get_run_internal(None, metric, "get_best_child")

    def register_model(self, model_name=None, description=None, tags=None, iteration=None, metric=None):
        """Register the best child's model (or that of ``iteration`` / the best by ``metric``)."""
        best_run = self._get_run_internal(iteration, metric, "register_model")
        if _MODEL_PATH not in best_run.get_file_names():
            self._model_of(best_run)  # explains which child has the model
        if model_name is not None and len(model_name) > 0:
            model_id = model_name
        else:
            model_id = self._id.replace("_", "").replace("-", "")[:15]
            model_id += str(iteration) if iteration is not None else (metric if metric is not None else "best")
            model_id = model_id.replace("_", "")[:29]
        self.model_id = model_id
        return best_run.register_model(model_name=model_id, model_path=_MODEL_PATH, tags=tags, description=description)

    def summary(self):
        """[algorithm, iterations, best primary metric] for each algorithm the search tried."""
        primary = self._refresh().tags.get("primary_metric")
        local = backend(self._experiment.workspace)
        counts: dict[str, int] = {}
        best: dict[str, Any] = {}
        for child in self._children_records():
            algo = child.tags.get("learner") or "Failed" if str(child.status) == "Completed" else "Failed"
            score = local.get_metrics(child.id).get(primary) if str(child.status) == "Completed" else None
            counts[algo] = counts.get(algo, 0) + 1
            if score is not None and (best.get(algo) is None or
                                      (score > best[algo] if primary in _MAXIMIZE else score < best[algo])):
                best[algo] = score
            best.setdefault(algo, score)
        return [[algo, counts[algo], best[algo]] for algo in counts]

    def __repr__(self):
        return (f"Run(Experiment: {self._record.experiment},\nId: {self._id},\nType: automl,\n"
                f"Status: {self._record.status.value})")
