"""Contract: runs logged by this process (start_logging, child runs, metrics, tags, files).

Every backend must pass these: an AutoML search records itself through exactly these
methods (tutor.automl.parent_run), on the embedded workspace and on Azure alike.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tutor.errors import TutorError
from tutor.workspace.base import RunStatus, Workspace


def test_a_logged_run_takes_metrics_tags_and_files_then_completes(workspace: Workspace, tmp_path: Path) -> None:
    run = workspace.start_logging("logged-runs", display_name="interactive", tags={"kind": "notebook"})
    assert run.status == RunStatus.RUNNING
    assert run.experiment == "logged-runs"
    assert run.display_name == "interactive"
    assert run.tags == {"kind": "notebook"}

    workspace.log_metrics(run.id, {"rmse": 4.1})
    workspace.log_metrics(run.id, {"rmse": 3.6, "r2": 0.81})
    workspace.set_run_tags(run.id, {"best": "lightgbm", "iterations": 12})
    source = tmp_path / "model.pkl"
    source.write_bytes(b"a fitted model")
    uploaded = workspace.upload_run_file(run.id, "outputs/model.pkl", source)
    assert uploaded.read_bytes() == b"a fitted model"

    done = workspace.complete_run(run.id)
    assert done.status == RunStatus.COMPLETED
    assert done.ended_at and done.error is None
    assert done.tags == {"kind": "notebook", "best": "lightgbm", "iterations": "12"}
    assert (done.outputs_dir / "model.pkl").read_bytes() == b"a fitted model"
    metrics = workspace.get_metrics(run.id)
    assert [p.value for p in metrics.history["rmse"]] == [4.1, 3.6]
    assert metrics["r2"] == pytest.approx(0.81)
    assert workspace.get_run(run.id).status == RunStatus.COMPLETED
    assert run.id in {r.id for r in workspace.list_runs("logged-runs")}


def test_child_runs_are_recorded_finished_with_their_metrics(workspace: Workspace) -> None:
    parent = workspace.start_logging("automl-search", display_name="AutoML")
    good = workspace.record_child_run(parent.id, display_name="MaxAbsScaler, LightGBM", metrics={"rmse": 3.5},
                                      tags={"iteration": "0"})
    bad = workspace.record_child_run(parent.id, display_name="StandardScaler, XGBoost", status="Failed",
                                     error="the learner ran out of memory", tags={"iteration": "1"})

    assert good.status == RunStatus.COMPLETED and good.experiment == "automl-search"
    assert good.display_name == "MaxAbsScaler, LightGBM"
    assert good.tags["iteration"] == "0"
    assert workspace.get_metrics(good.id)["rmse"] == 3.5
    assert bad.status == RunStatus.FAILED
    assert "ran out of memory" in (bad.error or "")
    assert workspace.get_run(parent.id).status == RunStatus.RUNNING  # children do not end their parent
    assert workspace.complete_run(parent.id).status == RunStatus.COMPLETED
    children = workspace.get_children(parent.id)
    assert [c.id for c in children] == [good.id, bad.id]
    assert [c.display_name for c in children] == ["MaxAbsScaler, LightGBM", "StandardScaler, XGBoost"]
    assert all(c.parent_id == parent.id for c in children)
    assert workspace.get_children(good.id) == []


def test_ending_a_run_failed_or_canceled_and_ending_it_twice(workspace: Workspace) -> None:
    failed = workspace.start_logging("logged-runs")
    record = workspace.complete_run(failed.id, "Failed", error="could not keep the model")
    assert record.status == RunStatus.FAILED and "could not keep the model" in (record.error or "")
    assert workspace.complete_run(failed.id).status == RunStatus.FAILED  # an ended run stays as it ended

    canceled = workspace.start_logging("logged-runs")
    assert workspace.complete_run(canceled.id, "Canceled").status == RunStatus.CANCELED


def test_bad_calls_are_explained(workspace: Workspace, tmp_path: Path) -> None:
    run = workspace.start_logging("logged-runs")
    with pytest.raises(TutorError, match="ends Completed, Failed or Canceled, not Running"):
        workspace.complete_run(run.id, "Running")
    with pytest.raises(TutorError, match="ends Completed, Failed or Canceled, not Finished"):
        workspace.record_child_run(run.id, display_name="x", status="Finished")
    source = tmp_path / "notes.txt"
    source.write_text("notes")
    with pytest.raises(TutorError, match="must be a path inside the run's folder"):
        workspace.upload_run_file(run.id, "../outside.txt", source)
    with pytest.raises(TutorError, match="Azure tags hold text"):
        workspace.set_run_tags(run.id, {"features": ["a", "b"]})
    with pytest.raises(TutorError):
        workspace.start_logging("not a valid experiment name!")
    assert workspace.complete_run(run.id).status == RunStatus.COMPLETED


def test_an_automl_search_records_itself_as_a_parent_run(workspace: Workspace, real_data: Path) -> None:
    """tutor.automl.parent_run through the protocol only: the parent, a child per iteration,
    the model with the parent and the best child, the best child named in a tag."""
    from tutor.automl import AutoMLConfig
    from tutor.automl.parent_run import BEST_CHILD_TAG, MODEL_FILE, run_automl_parent
    from tutor.prep import load_raw, prepare

    frame, _ = prepare(load_raw(real_data))
    config = AutoMLConfig(task="regression", training_data=frame.sample(1500, random_state=0),
                          label_column_name="totalAmount", n_cross_validations=2,
                          experiment_timeout_minutes=3 / 60, enable_early_stopping=False)
    started: list[str] = []

    outcome = run_automl_parent(workspace, "automl-contract", config, tags={"dataset": "taxi"},
                                on_started=lambda record: started.append(record.id))

    parent = workspace.get_run(outcome.run_id)
    assert started == [parent.id]
    assert parent.status == RunStatus.COMPLETED
    assert parent.tags["kind"] == "automl" and parent.tags["dataset"] == "taxi"
    assert outcome.child_ids and parent.tags[BEST_CHILD_TAG] == outcome.best_child_id
    assert (Path(parent.run_dir) / MODEL_FILE).is_file()
    best = workspace.get_run(outcome.best_child_id or "")
    assert best.status == RunStatus.COMPLETED and (Path(best.run_dir) / MODEL_FILE).is_file()
    assert {workspace.get_run(i).experiment for i in outcome.child_ids.values()} == {"automl-contract"}
