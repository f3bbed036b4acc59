"""The embedded azure-ai-ml's workspace, compute, data, environments, command jobs, models and
AutoML, on a real embedded workspace with the course's real data and training script.

Each test writes what a learner on the v2 track writes, then checks the effect on the backend
(the LocalWorkspace the step actions and the v1 SDK use too). azure-ai-ml names are imported
inside the tests: the embedded SDK is active only while the ``v2_course`` fixture runs.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
FEATURES = ["vendorID", "passengerCount", "tripDistance", "month_num", "day_of_month", "day_of_week", "hour_of_day"]
LABEL = "totalAmount"
IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest"


@pytest.fixture(scope="module")
def prepared(data_path: Path) -> Any:
    from tutor.prep import load_raw, prepare

    frame, _ = prepare(load_raw(data_path))
    return frame


@pytest.fixture
def course(v2_course: Path, prepared: Any) -> Path:
    """The course folder with train/ and the prepared data as data/green_taxi_prepared.csv (3,000 trips)."""
    shutil.copytree(REPO / "train", v2_course / "train")
    (v2_course / "data").mkdir()
    prepared.sample(3000, random_state=0).to_csv(v2_course / "data" / "green_taxi_prepared.csv", index=False)
    return v2_course


def _raises(exc_type: type, call: Any) -> str:
    with pytest.raises(exc_type) as caught:
        call()
    return str(caught.value)


def test_the_client_opens_the_workspace_of_config_json_and_describes_it(ml_client: Any, backend: Any,
                                                                         v2_course: Path) -> None:
    ws = ml_client.workspaces.get(ml_client.workspace_name)
    assert (ws.name, ws.resource_group) == ("alice-ws", "local")
    assert ws.mlflow_tracking_uri == "tutor://" + Path(backend.path).resolve().as_posix()
    from azure.core.exceptions import ResourceNotFoundError

    assert "someone-else" in _raises(ResourceNotFoundError, lambda: ml_client.workspaces.get("someone-else"))
    assert [w.name for w in ml_client.workspaces.list()] == ["alice-ws"]
    import azure.ai.ml

    assert azure.ai.ml.__embedded__ and Path(azure.ai.ml.__file__).is_relative_to(REPO / "tutor" / "sdk" / "v2")
    import azure.core

    assert not Path(azure.core.__file__).is_relative_to(REPO)  # the real azure-core serves errors and pollers


def test_compute_is_created_once_read_back_and_deleted(ml_client: Any, backend: Any) -> None:
    from azure.ai.ml.entities import AmlCompute, ComputeInstance
    from azure.core.exceptions import ResourceNotFoundError
    from azure.core.polling import LROPoller

    _raises(ResourceNotFoundError, lambda: ml_client.compute.get("alice-cluster"))
    poller = ml_client.compute.begin_create_or_update(
        AmlCompute(name="alice-cluster", size="STANDARD_D2_V2", min_instances=0, max_instances=3,
                   idle_time_before_scale_down=1500))
    assert isinstance(poller, LROPoller) and poller.done() and poller.status() == "Succeeded"
    cluster = poller.result()
    assert (cluster.type, cluster.provisioning_state, cluster.max_instances) == ("amlcompute", "Succeeded", 3)
    target = {t.name: t for t in backend.list_compute()}["alice-cluster"]
    assert (target.type, target.max_nodes, target.idle_seconds_before_scaledown) == ("AmlCompute", 3, 1500)
    instance = ml_client.compute.begin_create_or_update(ComputeInstance(name="alice-dev", size="STANDARD_DS3_V2")).result()
    assert (instance.type, instance.state) == ("computeinstance", "Running")
    assert sorted(c.name for c in ml_client.compute.list()) == ["alice-cluster", "alice-dev"]
    assert [c.name for c in ml_client.compute.list(compute_type="AmlCompute")] == ["alice-cluster"]
    ml_client.compute.begin_delete("alice-cluster").result()
    assert "alice-cluster" not in {t.name for t in backend.list_compute()}
    _raises(ResourceNotFoundError, lambda: ml_client.compute.begin_delete("alice-cluster"))


def test_bad_compute_is_refused_with_what_to_do(ml_client: Any) -> None:
    from azure.ai.ml.entities import AmlCompute
    from azure.ai.ml.exceptions import ValidationException

    assert "size=" in _raises(ValidationException, lambda: ml_client.compute.begin_create_or_update(
        AmlCompute(name="alice-cluster")))
    assert "STANDARD_NOPE" in _raises(ValidationException, lambda: ml_client.compute.begin_create_or_update(
        AmlCompute(name="alice-cluster", size="STANDARD_NOPE")))
    assert "min_instances" in _raises(ValidationException, lambda: ml_client.compute.begin_create_or_update(
        AmlCompute(name="alice-cluster", size="STANDARD_D2_V2", min_instances=3, max_instances=1)))


def test_a_uri_file_is_uploaded_registered_versioned_and_read_back(ml_client: Any, backend: Any,
                                                                    course: Path) -> None:
    from azure.ai.ml.constants import AssetTypes
    from azure.ai.ml.entities import Data

    first = ml_client.data.create_or_update(Data(name="alice-green-taxi", path="data/green_taxi_prepared.csv",
                                                 type=AssetTypes.URI_FILE, description="prepared trips"))
    again = ml_client.data.create_or_update(Data(name="alice-green-taxi", path="data/green_taxi_prepared.csv",
                                                 type=AssetTypes.URI_FILE))
    assert (first.version, again.version, first.type) == ("1", "2", "uri_file")
    assert first.path.startswith("azureml://datastores/workspaceblobstore/paths/LocalUpload/")
    assert first.path == again.path  # the same content is uploaded once
    record = backend.get_dataset("alice-green-taxi", 2)
    assert record.to_pandas_dataframe().shape == (3000, len(FEATURES) + 1)
    latest = ml_client.data.get("alice-green-taxi", label="latest")
    assert (latest.version, ml_client.data.get("alice-green-taxi", version="1").description) == ("2", "prepared trips")
    assert [d.version for d in ml_client.data.list("alice-green-taxi")] == ["1", "2"]


def test_an_mltable_folder_registers_the_files_it_names(ml_client: Any, backend: Any, course: Path) -> None:
    from azure.ai.ml.constants import AssetTypes
    from azure.ai.ml.entities import Data

    folder = course / "data" / "train-mltable"
    folder.mkdir()
    shutil.copy(course / "data" / "green_taxi_prepared.csv", folder / "train.csv")
    (folder / "MLTable").write_text("paths:\n  - file: ./train.csv\ntransformations:\n  - read_delimited:\n"
                                    "      delimiter: ','\n      header: all_files_same_headers\n")
    data = ml_client.data.create_or_update(Data(name="alice-auto-train", path=str(folder), type=AssetTypes.MLTABLE))
    assert data.type == "mltable" and data.path.endswith("/train-mltable/")
    assert ml_client.data.get("alice-auto-train", label="latest").type == "mltable"
    assert backend.get_dataset("alice-auto-train").row_count == 3000


def test_bad_data_is_refused_with_what_to_do(ml_client: Any, course: Path) -> None:
    from azure.ai.ml.constants import AssetTypes
    from azure.ai.ml.entities import Data
    from azure.ai.ml.exceptions import ValidationException
    from azure.core.exceptions import ResourceNotFoundError

    assert "is not a file" in _raises(ValidationException, lambda: ml_client.data.create_or_update(
        Data(name="x", path="data/missing.csv", type=AssetTypes.URI_FILE)))
    (course / "notes.txt").write_text("hello")
    assert "CSV or Parquet" in _raises(ValidationException, lambda: ml_client.data.create_or_update(
        Data(name="x", path="notes.txt", type=AssetTypes.URI_FILE)))
    (course / "empty-table").mkdir()
    (course / "empty-table" / "MLTable").write_text("paths: []\n")
    assert "names no files" in _raises(ValidationException, lambda: ml_client.data.create_or_update(
        Data(name="x", path="empty-table", type=AssetTypes.MLTABLE)))
    assert "version or label" in _raises(ValidationException, lambda: ml_client.data.get("x"))
    _raises(ResourceNotFoundError, lambda: ml_client.data.get("nobody", label="latest"))


def test_an_environment_keeps_its_conda_packages(ml_client: Any, backend: Any, course: Path) -> None:
    from azure.ai.ml.entities import Environment
    from azure.ai.ml.exceptions import ValidationException

    (course / "conda.yml").write_text("name: taxi\nchannels: [conda-forge]\ndependencies:\n  - python=3.11\n  - pip\n"
                                      "  - pip:\n    - scikit-learn\n    - pandas\n")
    env = ml_client.environments.create_or_update(Environment(name="alice-env", image=IMAGE, conda_file="conda.yml"))
    assert env.version == "1"
    record = backend.get_environment("alice-env")
    assert (record.pip_packages, record.python_version) == (["scikit-learn", "pandas"], "3.11")
    assert ml_client.environments.get("alice-env", label="latest").conda_file["dependencies"][-1] == {
        "pip": ["scikit-learn", "pandas"]}
    assert "image" in _raises(ValidationException, lambda: ml_client.environments.create_or_update(
        Environment(name="alice-env", conda_file="conda.yml")))


def _train_job(**changes: Any) -> Any:
    from azure.ai.ml import Input, command

    settings: dict[str, Any] = dict(
        code="train", command="python train.py --variant 4 --data ${{inputs.data}}",
        inputs={"data": Input(type="uri_file", path="azureml:alice-green-taxi@latest")},
        environment="alice-env@latest", compute="alice-cluster", experiment_name="alice-taxi",
        display_name="full", tags={"model": "full"})
    settings.update(changes)
    return command(**settings)


@pytest.fixture
def ready(ml_client: Any, course: Path) -> Any:
    """The data asset, environment and cluster a training job needs."""
    from azure.ai.ml.entities import AmlCompute, Data, Environment

    ml_client.data.create_or_update(Data(name="alice-green-taxi", path="data/green_taxi_prepared.csv", type="uri_file"))
    ml_client.environments.create_or_update(Environment(name="alice-env", image=IMAGE, conda_file={
        "dependencies": ["python=3.11", "pip", {"pip": ["scikit-learn", "pandas", "pyarrow", "joblib"]}]}))
    ml_client.compute.begin_create_or_update(AmlCompute(name="alice-cluster", size="STANDARD_D2_V2",
                                                        max_instances=2)).result()
    return ml_client


def test_a_command_job_trains_on_the_data_asset_and_its_model_is_registered(
        ready: Any, backend: Any, course: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from azure.ai.ml.constants import AssetTypes
    from azure.ai.ml.entities import Model

    ml_client = ready
    job = ml_client.jobs.create_or_update(_train_job())
    assert job.status in ("Queued", "Preparing", "Running", "Completed")
    record = backend.get_run(job.name)
    assert (record.experiment, record.compute_target, record.script, record.tags) == (
        "alice-taxi", "alice-cluster", "train.py", {"model": "full"})
    assert record.arguments[-1].endswith("/green_taxi_prepared.csv") and Path(record.arguments[-1]).is_file()
    ml_client.jobs.stream(job.name)
    shown = capsys.readouterr().out
    assert f"RunId: {job.name}" in shown and "3,000 rows" in shown and "Execution Summary" in shown
    assert ml_client.jobs.get(job.name).status == "Completed"
    assert float(backend.get_metrics(job.name)["RMSE Test"]) > 0
    ml_client.jobs.download(job.name, download_path="dl")
    assert (course / "dl" / "artifacts" / "outputs" / "model.pkl").is_file()
    model = ml_client.models.create_or_update(Model(
        name="alice-taxi-model", path=f"azureml://jobs/{job.name}/outputs/artifacts/paths/outputs/model.pkl",
        type=AssetTypes.CUSTOM_MODEL, tags={"variant": "4"}))
    assert model.version == "1" and job.name in model.path
    assert backend.get_model("alice-taxi-model").run_id == job.name
    ml_client.models.download("alice-taxi-model", model.version, download_path="models")
    import joblib
    import pandas as pd

    fitted = joblib.load(course / "models" / "alice-taxi-model" / "model.pkl")
    trip = pd.DataFrame([dict(zip(FEATURES, [1, 1, 4.2, 1, 4, 1, 18]))])
    assert 5 < float(fitted.predict(trip)[0]) < 40
    assert [j.name for j in ml_client.jobs.list()] == [job.name]


def test_a_failing_job_raises_job_exception_from_stream(ready: Any, course: Path) -> None:
    from azure.ai.ml.exceptions import JobException

    job = ready.jobs.create_or_update(_train_job(command="python train.py --variant 9 --data ${{inputs.data}}"))
    message = _raises(JobException, lambda: ready.jobs.stream(job.name))
    assert job.name in message
    assert ready.jobs.get(job.name).status == "Failed"


def test_bad_jobs_are_refused_before_anything_runs(ready: Any, backend: Any, course: Path) -> None:
    from azure.ai.ml import Input
    from azure.ai.ml.exceptions import ValidationException
    from azure.core.exceptions import ResourceNotFoundError

    assert "inputs.other" in _raises(ValidationException, lambda: ready.jobs.create_or_update(
        _train_job(command="python train.py --data ${{inputs.other}}")))
    assert "python <script>.py" in _raises(ValidationException, lambda: ready.jobs.create_or_update(
        _train_job(command="Rscript model1.R")))
    assert "no folder" in _raises(ValidationException, lambda: ready.jobs.create_or_update(_train_job(code="nowhere")))
    assert "mltable" in _raises(ValidationException, lambda: ready.jobs.create_or_update(_train_job(
        inputs={"data": Input(type="mltable", path="azureml:alice-green-taxi@latest")})))
    _raises(ResourceNotFoundError, lambda: ready.jobs.create_or_update(_train_job(
        inputs={"data": Input(type="uri_file", path="azureml:nobody@latest")})))
    _raises(ResourceNotFoundError, lambda: ready.jobs.get("alice-taxi_1_deadbeef"))
    assert backend.list_runs() == []


def test_automl_regression_searches_as_a_parent_job_with_the_best_model_saved(
        ready: Any, backend: Any, course: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from azure.ai.ml import Input, automl
    from azure.ai.ml.constants import AssetTypes
    from azure.ai.ml.entities import Data
    from azure.ai.ml.exceptions import ValidationException

    monkeypatch.setenv("TUTOR_AUTOML_MINUTES", "0.15")
    folder = course / "data" / "auto-train"
    folder.mkdir()
    shutil.copy(course / "data" / "green_taxi_prepared.csv", folder / "train.csv")
    (folder / "MLTable").write_text("paths:\n  - file: ./train.csv\ntransformations:\n  - read_delimited:\n"
                                    "      delimiter: ','\n      header: all_files_same_headers\n")
    ready.data.create_or_update(Data(name="alice-auto-train", path=str(folder), type=AssetTypes.MLTABLE))
    job = automl.regression(compute="alice-cluster", experiment_name="alice-automl",
                            training_data=Input(type=AssetTypes.MLTABLE, path="azureml:alice-auto-train@latest"),
                            target_column_name=LABEL, primary_metric="normalized_root_mean_squared_error",
                            n_cross_validations=5, enable_model_explainability=True)
    job.set_limits(timeout_minutes=10, trial_timeout_minutes=2, enable_early_termination=True)
    assert "at least 15" in _raises(ValidationException, lambda: ready.jobs.create_or_update(job))
    job.set_limits(timeout_minutes=18, trial_timeout_minutes=2, enable_early_termination=True)
    job.set_featurization(mode="auto")
    # The settings read back as attributes, as azure-ai-ml's settings objects give them.
    assert (job.limits.timeout_minutes, job.limits.enable_early_termination, job.featurization.mode) == (18, True, "auto")
    assert job.training.enable_model_explainability is True and job.training.blocked_training_algorithms is None
    submitted = ready.jobs.create_or_update(job)
    assert submitted.type == "automl"
    ready.jobs.stream(submitted.name)
    assert ready.jobs.get(submitted.name).status == "Completed"
    parent = backend.get_run(submitted.name)
    best = parent.tags["automl_best_child_run_id"]
    children = [j.name for j in ready.jobs.list(parent_job_name=submitted.name)]
    assert best in children and len(children) >= 2
    assert (Path(backend.get_run(best).run_dir) / "outputs" / "model.pkl").is_file()
    assert "Execution Summary" in capsys.readouterr().out
    wrong = automl.regression(training_data=Input(type="uri_file", path="azureml:alice-green-taxi@latest"),
                              target_column_name=LABEL)
    assert "MLTable" in _raises(ValidationException, lambda: ready.jobs.create_or_update(wrong))
    missing = automl.regression(training_data=Input(type="mltable", path="azureml:alice-auto-train@latest"),
                                target_column_name="fare")
    assert "fare" in _raises(ValidationException, lambda: ready.jobs.create_or_update(missing))


def test_what_the_embedded_azure_ai_ml_lacks_is_named_with_what_it_has(ml_client: Any) -> None:
    import importlib

    message = _raises(ModuleNotFoundError, lambda: importlib.import_module("azure.ai.ml.sweep"))
    assert "not part of azure-ai-ml on the embedded workspace" in message and "azure.ai.ml.entities" in message
    message = _raises(ImportError, lambda: exec("from azure.ai.ml import dsl", {}))
    assert "azure.ai.ml.dsl is not part of azure-ai-ml" in message and "MLClient" in message
    message = _raises(AttributeError, lambda: ml_client.batch_endpoints)
    assert "MLClient.batch_endpoints" in message and "online_endpoints" in message
    message = _raises(ImportError, lambda: exec("from azure.ai.ml.entities import KubernetesOnlineEndpoint", {}))
    assert "ManagedOnlineEndpoint" in message
    from azure.ai.ml.exceptions import ValidationException

    assert "registry_name" in _raises(ValidationException, lambda: type(ml_client)(
        ml_client._credential, registry_name="azureml"))
