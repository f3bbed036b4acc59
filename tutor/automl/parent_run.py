"""An AutoML experiment as a parent run of a workspace, with one child run per iteration.

This is the one way an AutoML search is started on a workspace: the day 2 step action
(``automl.run``) and the SDK's ``experiment.submit(AutoMLConfig(...))`` both call
:func:`run_automl_parent`. It starts the parent run, records each iteration as a child run
as soon as it finishes, and at the end keeps the fitted model with the parent run and with
the best child run (``outputs/model.pkl``, as Azure keeps it with the best child), the
explanation with the parent, and tags the parent with ``automl_best_child_run_id``.

The time budget on this machine: :func:`capped_minutes` applies ``TUTOR_AUTOML_MINUTES``
(and, for code written for Azure, whose minimum is 15 minutes, a default cap) so that a
search asked for a quarter of an hour on a cluster takes a couple of minutes here.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from tutor.errors import TutorError

if TYPE_CHECKING:  # pragma: no cover - typing only
    from tutor.workspace.base import RunRecord, Workspace

#: Caps every AutoML search on the embedded workspace, in minutes (rehearsals, tests).
BUDGET_ENV = "TUTOR_AUTOML_MINUTES"
#: The cap when ``TUTOR_AUTOML_MINUTES`` is not set, for code that asks Azure's budgets
#: (Azure's minimum is 15 minutes; the lesson's own form asks for minutes on this machine).
EMBEDDED_DEFAULT_MINUTES = 2.0
#: The tag Azure sets on an AutoML parent run to name its best child.
BEST_CHILD_TAG = "automl_best_child_run_id"
MODEL_FILE = "outputs/model.pkl"
EXPLANATION_FILE = "outputs/explanation.json"


def _minutes_text(minutes: float) -> str:
    return f"{minutes:g}"


def budget_cap(default: float | None) -> float | None:
    """The embedded workspace's cap on a search, in minutes: ``TUTOR_AUTOML_MINUTES`` or ``default``."""
    text = os.environ.get(BUDGET_ENV)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise TutorError(f"{BUDGET_ENV}={text!r} is not a positive number of minutes.",
                         "Unset it, or set it to e.g. 0.5.")
    return value


def capped_minutes(asked: float, default_cap: float | None) -> tuple[float, str | None]:
    """(minutes the search gets here, the note to show once when it is capped, else None)."""
    cap = budget_cap(default_cap)
    if cap is None or asked <= cap:
        return asked, None
    return cap, (f"embedded workspace: search capped at {_minutes_text(cap)} min of the {_minutes_text(asked)} "
                 f"asked; set {BUDGET_ENV} to change")


@dataclass
class AutoMLParentRun:
    """What :func:`run_automl_parent` leaves: the parent run, its children and the best model."""

    run_id: str
    result: Any
    model: Any
    #: iteration -> child run id, in the order the iterations finished.
    child_ids: dict[int, str] = field(default_factory=dict)
    best_child_id: str | None = None

    @property
    def best(self) -> Any:
        return self.result.best_child


def run_automl_parent(ws: Workspace, experiment: str, config: Any, *, tags: dict[str, str] | None = None,
                      display_name: str = "AutoML",
                      on_started: Callable[[RunRecord], None] | None = None,
                      on_child: Callable[[Any, str | None], None] | None = None,
                      on_status: Callable[[str], None] | None = None,
                      stop_event: threading.Event | None = None,
                      keep_stopped: Callable[[Any], bool] | None = None) -> AutoMLParentRun:
    """Validate ``config`` (a :class:`tutor.automl.AutoMLConfig`), then search as a parent run.

    ``on_started(parent record)`` is called once the parent run exists; ``on_child(child,
    child run id)`` after each iteration is recorded; ``stop_event`` ends the search early.
    When the search was stopped (Ctrl-C or ``stop_event``), ``keep_stopped(result)`` decides
    whether the best model so far is kept (default: kept); if not, the parent run ends
    Canceled and KeyboardInterrupt is raised. Any failure ends the parent run Failed (Canceled
    on Ctrl-C) and is raised. Both backends log these runs (Workspace.start_logging), so
    there is always a parent run.
    """
    from tutor.automl import run_automl

    config.validate()  # every bad setting is explained before any run exists
    parent = ws.start_logging(experiment, display_name=display_name,
                              tags={"kind": "automl", "primary_metric": config.primary_metric, **(tags or {})})
    if on_started is not None:
        on_started(parent)
    child_ids: dict[int, str] = {}

    def record(child: Any) -> None:
        metrics = {k: v for k, v in child.metrics.items() if isinstance(v, (int, float))}
        record = ws.record_child_run(parent.id, display_name=child.pipeline[:200], status=child.status,
                                     metrics=metrics, error=child.error,
                                     tags={"iteration": str(child.iteration), "learner": child.learner})
        child_id = record.id
        child_ids[child.iteration] = child_id
        if on_child is not None:
            on_child(child, child_id)

    try:
        result = run_automl(config, on_child=record, on_status=on_status, stop_event=stop_event)
    except BaseException as exc:
        ws.complete_run(parent.id, "Canceled" if isinstance(exc, KeyboardInterrupt) else "Failed",
                        error=str(exc)[:500])
        raise
    best, model = result.get_output()
    if result.stop_reason in ("stopped", "interrupted") and keep_stopped is not None and not keep_stopped(result):
        ws.complete_run(parent.id, "Canceled", error="stopped before the end of the search")
        raise KeyboardInterrupt
    try:
        best_child_id = _keep(ws, parent.id, child_ids.get(best.iteration), result, model)
    except BaseException as exc:
        ws.complete_run(parent.id, "Failed", error=f"could not keep the model: {exc}"[:500])
        raise
    ws.complete_run(parent.id)
    return AutoMLParentRun(parent.id, result, model, child_ids, best_child_id)


def _keep(ws: Workspace, parent_id: str, best_child_id: str | None, result: Any, model: Any) -> str | None:
    """The model with the parent (and the best child), the explanation, metrics and tags."""
    import joblib

    best = result.best_child
    explanation = [{"feature": f.feature, "importance": f.importance} for f in (result.explanation or [])]
    with tempfile.TemporaryDirectory() as tmp:
        model_path = Path(tmp) / "model.pkl"
        joblib.dump(model, model_path)
        ws.upload_run_file(parent_id, MODEL_FILE, model_path)
        if best_child_id is not None:
            ws.upload_run_file(best_child_id, MODEL_FILE, model_path)
        explain_path = Path(tmp) / "explanation.json"
        explain_path.write_text(json.dumps({"global_importance": explanation}, indent=2))
        ws.upload_run_file(parent_id, EXPLANATION_FILE, explain_path)
    ws.log_metrics(parent_id, {k: v for k, v in best.metrics.items() if isinstance(v, (int, float))})
    tags = {"best_pipeline": best.pipeline[:200], "stop_reason": result.stop_reason,
            "iterations": str(len(result.children))}
    if best_child_id is not None:
        tags[BEST_CHILD_TAG] = best_child_id
    ws.set_run_tags(parent_id, tags)
    return best_child_id
