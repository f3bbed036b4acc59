"""MLflow's own API on the embedded workspace, through the tutor:/// tracking store."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Iterator

import pytest

mlflow = pytest.importorskip("mlflow")

from mlflow.exceptions import MlflowException  # noqa: E402

from tutor.workspace.base import RunRecord, RunStatus, ScriptRunConfig  # noqa: E402
from tutor.workspace.local import LocalWorkspace  # noqa: E402
from tutor.workspace.local.mlflow_store import TutorTrackingStore, argument_params, workspace_folder  # noqa: E402


def _reset_mlflow() -> None:
    from mlflow.tracking import fluent
    from mlflow.tracking._tracking_service.utils import _tracking_store_registry

    while mlflow.active_run() is not None:
        mlflow.end_run()
    fluent._active_experiment_id = None
    mlflow.set_tracking_uri(None)
    _tracking_store_registry._get_store_with_resolved_uri.cache_clear()


@pytest.fixture(autouse=True)
def clean_mlflow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.chdir(tmp_path)  # anything MLflow writes by default stays in the test's folder
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_ID", raising=False)
    monkeypatch.delenv("MLFLOW_RUN_ID", raising=False)
    _reset_mlflow()
    yield
    _reset_mlflow()


@pytest.fixture
def ws(tmp_path: Path) -> LocalWorkspace:
    return LocalWorkspace(tmp_path / "ws", "alice-ws")


@pytest.fixture
def tracking(ws: LocalWorkspace) -> str:
    uri = f"tutor://{ws.path.as_posix()}"
    assert uri.startswith("tutor:///")
    mlflow.set_tracking_uri(uri)
    return uri


def _finished_run(ws: LocalWorkspace, tmp_path: Path) -> RunRecord:
    run = ws.start_logging("alice-taxi", display_name="baseline", tags={"model": "basic"})
    ws.log_metrics(run.id, {"R^2": 0.5, "rmse": 3.2, "note": "text", "residuals": [0.1, 0.2]})
    ws.log_metrics(run.id, {"R^2": 0.6})
    ws.log_metrics(run.id, {"R^2": 0.7})
    ws.set_run_tags(run.id, {"data": "green-taxi"})
    model = tmp_path / "model.pkl"
    model.write_bytes(pickle.dumps({"coef": [1.0, 2.0]}))
    ws.upload_run_file(run.id, "outputs/model.pkl", model)
    return ws.complete_run(run.id)


def test_get_run_shows_metrics_tags_status_and_artifact_uri(ws: LocalWorkspace, tracking: str,
                                                            tmp_path: Path) -> None:
    record = _finished_run(ws, tmp_path)

    run = mlflow.get_run(record.id)

    assert run.info.run_id == record.id
    assert run.info.experiment_id == "alice-taxi"
    assert run.info.status == "FINISHED"
    assert run.info.run_name == "baseline"
    assert run.info.artifact_uri == "file://" + record.run_dir
    assert run.info.start_time > 0 and run.info.end_time >= run.info.start_time
    assert run.data.metrics == {"R2": 0.7, "rmse": 3.2}  # text and list metrics left out; "R^2" spelled as MLflow allows
    assert run.data.tags["model"] == "basic"
    assert run.data.tags["data"] == "green-taxi"
    assert run.data.tags["mlflow.runName"] == "baseline"
    assert run.data.params == {}


def test_status_mapping_of_failed_and_canceled_runs(ws: LocalWorkspace, tracking: str) -> None:
    failed = ws.complete_run(ws.start_logging("alice-taxi").id, "Failed", error="boom")
    canceled = ws.complete_run(ws.start_logging("alice-taxi").id, "Canceled")
    running = ws.start_logging("alice-taxi")

    assert mlflow.get_run(failed.id).info.status == "FAILED"
    assert mlflow.get_run(canceled.id).info.status == "KILLED"
    assert mlflow.get_run(running.id).info.status == "RUNNING"
    assert mlflow.get_run(running.id).info.end_time is None
    assert mlflow.get_run(running.id).info.run_name == running.id  # no display name: the id


def test_search_runs_gives_a_frame_with_one_row_per_run(ws: LocalWorkspace, tracking: str, tmp_path: Path) -> None:
    first = _finished_run(ws, tmp_path)
    second = ws.start_logging("alice-taxi", display_name="tuned", tags={"model": "tuned"})
    ws.log_metrics(second.id, {"R^2": 0.9})
    ws.complete_run(second.id)
    child = ws.record_child_run(second.id, display_name="iteration-0", metrics={"R^2": 0.8})
    ws.start_logging("other-exp")

    frame = mlflow.search_runs(experiment_names=["alice-taxi"])

    assert set(frame["run_id"]) == {first.id, second.id, child.id}
    by_id = frame.set_index("run_id")
    assert by_id.loc[first.id, "metrics.R2"] == 0.7
    assert by_id.loc[second.id, "metrics.R2"] == 0.9
    assert by_id.loc[first.id, "tags.model"] == "basic"
    assert by_id.loc[child.id, "tags.mlflow.parentRunId"] == second.id
    assert by_id.loc[first.id, "status"] == "FINISHED"

    tuned = mlflow.search_runs(experiment_names=["alice-taxi"], filter_string="tags.model = 'tuned'")
    assert list(tuned["run_id"]) == [second.id]
    best = mlflow.search_runs(experiment_names=["alice-taxi"], order_by=["metrics.R2 DESC"], max_results=1)
    assert list(best["run_id"]) == [second.id]
    runs = mlflow.search_runs(experiment_names=["alice-taxi"], output_format="list")
    assert len(runs) == 3


def test_an_unsupported_filter_is_refused_clearly(ws: LocalWorkspace, tracking: str, tmp_path: Path) -> None:
    _finished_run(ws, tmp_path)
    with pytest.raises(MlflowException) as caught:
        mlflow.search_runs(experiment_names=["alice-taxi"], filter_string="tags.model ~~ 'x'")
    assert "INVALID_PARAMETER_VALUE" in caught.value.error_code


def test_experiments_by_name_and_search(ws: LocalWorkspace, tracking: str, tmp_path: Path) -> None:
    _finished_run(ws, tmp_path)

    experiment = mlflow.get_experiment_by_name("alice-taxi")

    assert experiment is not None
    assert experiment.experiment_id == "alice-taxi" and experiment.name == "alice-taxi"
    assert experiment.lifecycle_stage == "active"
    assert mlflow.get_experiment("alice-taxi").name == "alice-taxi"
    assert mlflow.get_experiment_by_name("no-such-experiment") is None
    assert [e.name for e in mlflow.search_experiments()] == ["alice-taxi"]
    assert [e.name for e in mlflow.search_experiments(filter_string="name = 'nope'")] == []


def test_set_experiment_creates_an_embedded_experiment(ws: LocalWorkspace, tracking: str) -> None:
    experiment = mlflow.set_experiment("alice-new")

    assert experiment.experiment_id == "alice-new"
    assert "alice-new" in [e.name for e in ws.list_experiments()]
    with pytest.raises(MlflowException) as caught:
        mlflow.create_experiment("alice-new")
    assert caught.value.error_code == "RESOURCE_ALREADY_EXISTS"


def test_download_artifacts_gets_the_model(ws: LocalWorkspace, tracking: str, tmp_path: Path) -> None:
    record = _finished_run(ws, tmp_path)

    local = mlflow.artifacts.download_artifacts(run_id=record.id, artifact_path="outputs",
                                                dst_path=str(tmp_path / "dl"))

    assert Path(local) == tmp_path / "dl" / "outputs"
    model = tmp_path / "dl" / "outputs" / "model.pkl"
    assert pickle.loads(model.read_bytes()) == {"coef": [1.0, 2.0]}
    listed = [f.path for f in mlflow.MlflowClient().list_artifacts(record.id, "outputs")]
    assert listed == ["outputs/model.pkl"]


def test_metric_history_keeps_every_value_in_order(ws: LocalWorkspace, tracking: str, tmp_path: Path) -> None:
    record = _finished_run(ws, tmp_path)

    history = mlflow.MlflowClient().get_metric_history(record.id, "R2")

    assert [m.value for m in history] == [0.5, 0.6, 0.7]
    assert [m.step for m in history] == [0, 1, 2]
    assert all(m.timestamp > 0 for m in history)
    assert mlflow.MlflowClient().get_metric_history(record.id, "note") == []


def test_start_run_logs_an_embedded_run(ws: LocalWorkspace, tracking: str, tmp_path: Path) -> None:
    experiment = mlflow.set_experiment("alice-taxi")
    with mlflow.start_run(experiment_id=experiment.experiment_id, run_name="from-mlflow") as active:
        mlflow.log_metric("x", 1.0)
        mlflow.log_metric("x", 2.0, step=1)
        mlflow.log_metrics({"x": 3.0, "y": 5})
        mlflow.set_tag("k", "v")
        mlflow.log_param("p", 3)
        artifact = tmp_path / "notes.txt"
        artifact.write_text("hello")
        mlflow.log_artifact(str(artifact), artifact_path="outputs")
        run_id = active.info.run_id
        assert ws.get_run(run_id).status == RunStatus.RUNNING

    record = ws.get_run(run_id)
    assert record.experiment == "alice-taxi"
    assert record.status == RunStatus.COMPLETED
    assert record.display_name == "from-mlflow"
    assert record.tags["k"] == "v"
    assert (record.outputs_dir / "notes.txt").read_text() == "hello"
    metrics = ws.get_metrics(run_id)
    assert metrics["x"] == 3.0 and metrics["y"] == 5.0
    assert [p.value for p in metrics.history["x"]] == [1.0, 2.0, 3.0]

    run = mlflow.get_run(run_id)
    assert run.data.params == {"p": "3"}
    assert "mlflow.param.p" not in run.data.tags
    assert run.data.tags["mlflow.runName"] == "from-mlflow"
    with pytest.raises(MlflowException, match="cannot change"):
        mlflow.MlflowClient().log_param(run_id, "p", 4)


def test_a_failed_mlflow_run_and_a_nested_run(ws: LocalWorkspace, tracking: str) -> None:
    mlflow.set_experiment("alice-taxi")
    with pytest.raises(ValueError):
        with mlflow.start_run() as parent:
            with mlflow.start_run(nested=True) as child:
                mlflow.log_metric("loss", 0.1)
            raise ValueError("training broke")

    assert ws.get_run(parent.info.run_id).status == RunStatus.FAILED
    assert ws.get_run(child.info.run_id).status == RunStatus.COMPLETED
    assert ws.get_run(child.info.run_id).parent_id == parent.info.run_id
    assert mlflow.get_run(child.info.run_id).data.tags["mlflow.parentRunId"] == parent.info.run_id


def test_the_default_experiment_is_made_on_first_use(ws: LocalWorkspace, tracking: str) -> None:
    with mlflow.start_run() as active:
        mlflow.log_metric("x", 1.0)

    assert ws.get_run(active.info.run_id).experiment == "Default"
    assert mlflow.get_experiment("0").name == "Default"


def test_an_unknown_run_is_resource_does_not_exist(ws: LocalWorkspace, tracking: str) -> None:
    with pytest.raises(MlflowException) as caught:
        mlflow.get_run("alice-taxi_123_nothere")
    assert caught.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert "alice-taxi_123_nothere" in caught.value.message
    with pytest.raises(MlflowException) as caught:
        mlflow.MlflowClient().get_metric_history("alice-taxi_123_nothere", "R^2")
    assert caught.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_an_unknown_experiment_id_is_resource_does_not_exist(ws: LocalWorkspace, tracking: str) -> None:
    with pytest.raises(MlflowException) as caught:
        mlflow.get_experiment("nope")
    assert caught.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_a_folder_that_is_not_a_workspace_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "not-a-workspace"
    empty.mkdir()
    mlflow.set_tracking_uri(f"tutor://{empty.as_posix()}")

    with pytest.raises(MlflowException) as caught:
        mlflow.get_run("anything")

    assert "does not point at an embedded workspace" in caught.value.message
    assert str(empty) in caught.value.message
    assert "mlflow_tracking_uri" in caught.value.message
    assert not (empty / "workspace.db").exists()  # nothing is created there


def test_uri_forms() -> None:
    assert workspace_folder("tutor:///home/alice/ws") == Path("/home/alice/ws")
    assert workspace_folder("tutor:///home/alice/my%20ws") == Path("/home/alice/my ws")
    with pytest.raises(MlflowException, match="tutor:///"):
        workspace_folder("tutor://relative/ws")
    with pytest.raises(MlflowException, match="absolute"):
        workspace_folder("tutor:relative/ws")
    with pytest.raises(MlflowException, match="tutor:///"):
        TutorTrackingStore("tutor://")


def test_unsupported_operations_say_so(ws: LocalWorkspace, tracking: str) -> None:
    run = ws.complete_run(ws.start_logging("alice-taxi").id)
    with pytest.raises(MlflowException, match="does not support deleting runs"):
        mlflow.delete_run(run.id)
    with pytest.raises(MlflowException, match="does not support"):
        mlflow.MlflowClient().delete_experiment("alice-taxi")


def test_arguments_become_params() -> None:
    assert argument_params(["--data_user", "alice", "--alpha=0.1", "--verbose", "--n", "-1", "extra"]) == {
        "data_user": "alice", "alpha": "0.1", "n": "-1",
    }


def test_a_submitted_run_shows_its_arguments_as_params(ws: LocalWorkspace, tracking: str, write_scripts) -> None:
    source = write_scripts(train="""
        import sys
        log_metric("R^2", 0.42)
        print("args", sys.argv[1:])
    """)
    run = ws.submit("alice-taxi", ScriptRunConfig(source, "train.py", arguments=["--data_user", "alice"],
                                                   display_name="submitted"))
    done = ws.wait_for_completion(run.id, timeout=60)
    assert done.status == RunStatus.COMPLETED, ws.get_log_tail(run.id)

    fetched = mlflow.get_run(run.id)

    assert fetched.info.status == "FINISHED"
    assert fetched.info.run_name == "submitted"
    assert fetched.data.params == {"data_user": "alice"}
    assert fetched.data.metrics == {"R2": 0.42}
    # MLflow cannot end a submitted run: its script does
    mlflow.MlflowClient().set_terminated(run.id, "FAILED")
    assert ws.get_run(run.id).status == RunStatus.COMPLETED
