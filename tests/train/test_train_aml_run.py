"""train/aml_run.py: the run a training script logs to."""

from __future__ import annotations

import importlib
import json
import sys
import types
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from train_testing import TRAIN_DIR, embedded_workspace_api, register_frame, synthetic_prepared


@pytest.fixture
def aml_run(monkeypatch):
    """A freshly imported aml_run with no workspace variables set."""
    monkeypatch.syspath_prepend(str(TRAIN_DIR))
    monkeypatch.delenv("TUTOR_RUN_DIR", raising=False)
    monkeypatch.delenv("TUTOR_WORKSPACE_DIR", raising=False)
    monkeypatch.delenv("TUTOR_RUN_ID", raising=False)
    module = importlib.import_module("aml_run")
    module._reset_for_tests()
    yield module
    module._reset_for_tests()
    import tutor.sdk

    tutor.sdk.deactivate()  # a workspace run activated the embedded SDK in this process


def _in_a_workspace_run(monkeypatch, root: Path):
    """This process as a run of a real embedded workspace would see itself: its three variables set."""
    from tutor.workspace.local import LocalWorkspace

    workspace = LocalWorkspace(root / "ws", "alice-ws")
    record = workspace.start_logging("alice-taxi-experiment")
    monkeypatch.setenv("TUTOR_RUN_ID", record.id)
    monkeypatch.setenv("TUTOR_RUN_DIR", record.run_dir)
    monkeypatch.setenv("TUTOR_WORKSPACE_DIR", str(workspace.path))
    return workspace, record


def read_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_workspace_run_logs_through_the_embedded_sdk(aml_run, monkeypatch, tmp_path, capsys):
    workspace, record = _in_a_workspace_run(monkeypatch, tmp_path)
    run = aml_run.get_run()
    assert isinstance(run, aml_run.AzureRun) and run.kind == "embedded"
    assert type(run.run).__module__ == "azureml.core.run" and run.run.id == record.id
    assert getattr(sys.modules["azureml"], "__embedded__", False)  # not the installed azureml-core
    assert aml_run.get_run() is run  # one run per process
    run.log("R^2", np.float64(0.89))
    run.log("rows", np.int64(23222))
    run.log_list("errors", np.array([0.5, 1.5]))
    run.tag("variant", 4)
    lines = read_lines(Path(record.run_dir) / "metrics.jsonl")
    assert [(l.get("name"), l.get("tag"), l["value"]) for l in lines] == [
        ("R^2", None, 0.89),
        ("rows", None, 23222),
        ("errors", None, [0.5, 1.5]),
        (None, "variant", "4"),
    ]
    for line in lines:
        assert pd.Timestamp(line["time"]).tzinfo is not None  # ISO 8601 with a zone
    assert capsys.readouterr().out == ""  # the workspace reads the file, no echo
    # The workspace ingests the file as it does for every run (the contract is unchanged).
    from tutor.workspace.local.metrics import ingest_metrics

    ingest_metrics(workspace.store, record.id, Path(record.run_dir), final=True)
    assert workspace.get_metrics(record.id)["R^2"] == 0.89


def test_by_hand_prints_and_writes_to_outputs(aml_run, monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    run = aml_run.get_run()
    assert isinstance(run, aml_run.LocalRun)
    run.log("RMSE Test", 3.25)
    run.log("diverged", float("nan"))
    out = capsys.readouterr().out
    assert "RMSE Test: 3.25" in out
    lines = read_lines(tmp_path / "outputs" / "metrics.jsonl")
    assert lines[0]["name"] == "RMSE Test" and lines[0]["value"] == 3.25
    assert lines[1]["value"] is None  # NaN is not valid JSON


def _fake_azureml(monkeypatch, context):
    """Install a stand-in ``azureml.core`` whose Run.get_context() returns ``context``."""
    azureml = types.ModuleType("azureml")
    core = types.ModuleType("azureml.core")

    class Run:
        @staticmethod
        def get_context():
            print("Failure while loading azureml_run_type_providers")  # what the SDK tends to print
            warnings.warn("noisy SDK warning")
            return context

    class Dataset:
        calls: list = []

        @staticmethod
        def get_by_name(workspace, name, version="latest"):
            Dataset.calls.append((workspace, name, version))
            return types.SimpleNamespace(to_pandas_dataframe=lambda: pd.DataFrame({"a": [1]}))

    core.Run = Run
    core.Dataset = Dataset
    azureml.core = core
    monkeypatch.setitem(sys.modules, "azureml", azureml)
    monkeypatch.setitem(sys.modules, "azureml.core", core)
    return core


def test_offline_azure_context_means_local(aml_run, monkeypatch, tmp_path, capsys):
    class _OfflineRun:
        id = "OfflineRun_123"

    _fake_azureml(monkeypatch, _OfflineRun())
    monkeypatch.chdir(tmp_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = aml_run.get_run()
    assert isinstance(run, aml_run.LocalRun)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""  # the SDK's chatter is swallowed
    assert not caught


def test_online_azure_context_is_wrapped(aml_run, monkeypatch, capsys):
    logged: list = []

    class Context:
        id = "alice-taxi_1700000000_abc"
        experiment = types.SimpleNamespace(workspace="the-workspace")

        def log(self, name, value):
            logged.append(("log", name, value))

        def log_list(self, name, values):
            logged.append(("log_list", name, values))

        def tag(self, key, value):
            logged.append(("tag", key, value))

    core = _fake_azureml(monkeypatch, Context())
    run = aml_run.get_run()
    assert isinstance(run, aml_run.AzureRun) and run.kind == "azure"
    run.log("Test accuracy", np.float64(0.5))
    run.log_list("l", [np.int64(1), 2])
    run.tag("variant", 3)
    assert logged == [("log", "Test accuracy", 0.5), ("log_list", "l", [1, 2]), ("tag", "variant", "3")]
    frame = aml_run.load_dataset("alice-green-taxi-prepped", "2")
    assert core.Dataset.calls == [("the-workspace", "alice-green-taxi-prepped", 2)]
    assert list(frame.columns) == ["a"]
    assert capsys.readouterr().out == ""


def test_workspace_run_never_uses_an_installed_azureml(aml_run, monkeypatch, tmp_path):
    """Even with another azureml imported, a run of the embedded workspace logs to the embedded workspace."""
    _fake_azureml(monkeypatch, object())
    _in_a_workspace_run(monkeypatch, tmp_path)
    run = aml_run.get_run()
    assert isinstance(run, aml_run.AzureRun) and run.kind == "embedded"


def test_load_dataset_outside_a_workspace_says_what_to_do(aml_run, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(aml_run.DatasetUnavailable, match="--data PATH"):
        aml_run.load_dataset("alice-green-taxi-prepped")


def test_load_dataset_uses_the_embedded_workspace(aml_run, monkeypatch, tmp_path):
    """Through the embedded SDK's Dataset.get_by_name on a real workspace (nothing mocked)."""
    _, LocalWorkspace = embedded_workspace_api()
    workspace, _ = _in_a_workspace_run(monkeypatch, tmp_path)
    frame = synthetic_prepared(50)
    register_frame(LocalWorkspace, workspace.path, "alice-green-taxi-prepped", frame)
    loaded = aml_run.load_dataset("alice-green-taxi-prepped")
    pd.testing.assert_frame_equal(loaded, frame, check_dtype=False)
    assert len(aml_run.load_dataset("alice-green-taxi-prepped", "1")) == 50
    # The workspace's own errors come back as DatasetUnavailable, naming the dataset.
    with pytest.raises(aml_run.DatasetUnavailable, match="no-such-dataset"):
        aml_run.load_dataset("no-such-dataset")
    with pytest.raises(aml_run.DatasetUnavailable, match="version 7"):
        aml_run.load_dataset("alice-green-taxi-prepped", 7)


def test_an_sdk_v2_job_on_azure_logs_through_mlflow_with_names_mlflow_allows(tmp_path: Path, monkeypatch) -> None:
    """An Azure ML v2 job: MLFLOW_TRACKING_URI and MLFLOW_RUN_ID set, no azureml-core in the
    environment (a plain subprocess with the embedded SDK off). MLflow's own file store stands in
    for the workspace's tracking server; the script's metrics land on the job's MLflow run."""
    import os
    import subprocess

    import mlflow

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow's plain file store, kept for such uses
    uri = (tmp_path / "mlruns").as_uri()
    client = mlflow.MlflowClient(tracking_uri=uri)
    experiment = client.create_experiment("alice-taxi")
    job = client.create_run(experiment).info.run_id
    data = tmp_path / "prepared.csv"
    synthetic_prepared(400).to_csv(data, index=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TUTOR_", "PYTHONPATH"))}
    env.update(MLFLOW_TRACKING_URI=uri, MLFLOW_RUN_ID=job, MLFLOW_ALLOW_FILE_STORE="true")
    probe = ("import sys; sys.modules['azureml'] = None\n"  # as in a v2 environment without azureml-core
             "import runpy; sys.argv = ['train.py', '--variant', '4', '--data', sys.argv[1]]\n"
             "runpy.run_path('train.py', run_name='__main__')")
    import shutil

    job_dir = tmp_path / "job"  # the job's snapshot of the scripts, as Azure runs it (never the checkout)
    job_dir.mkdir()
    for script in ("train.py", "aml_run.py"):
        shutil.copy2(TRAIN_DIR / script, job_dir / script)
    done = subprocess.run([sys.executable, "-c", probe, str(data)], cwd=job_dir, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    run = client.get_run(job)
    assert {"R2", "RMSE Test", "RMSE Train"} <= set(run.data.metrics)
    assert 0 < run.data.metrics["R2"] < 1 and run.data.tags["variant"] == "4"
    assert (job_dir / "outputs" / "model.pkl").is_file()
    logged = job_dir / "outputs" / "metrics.jsonl"  # the by-hand log is not written beside MLflow's
    assert not logged.exists() or "R2" not in logged.read_text()


def test_mlflow_names_keep_what_mlflow_allows() -> None:
    sys.path.insert(0, str(TRAIN_DIR))
    try:
        import aml_run

        assert [aml_run.mlflow_name(n) for n in ("R^2", "RMSE Test", "a(b)", "")] == ["R2", "RMSE Test", "a_b_", "_"]
    finally:
        sys.path.remove(str(TRAIN_DIR))
