"""The service boundary (tutor/workspace/azure/service.py) run against stand-ins of azureml-core.

The rest of this folder replaces the whole service class with a fake Azure, so the SDK calls
in service.py never run there. Here they do: every SDK class service.py reaches is replaced
by a stand-in whose methods have exactly the real method's signature (checked below with
``inspect.signature`` against azureml-core itself, so a call the real SDK would refuse fails
here too), which records each call, and which answers only what the real SDK answers: run
details and run records are built with the SDK's own record classes and turned into dicts
the SDK's way (``RunDetailsDto.as_dict(camel_case_transformer)``, ``dto_to_dictionary``).
"""

from __future__ import annotations

import importlib
import inspect
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from tutor.workspace.azure.config import azure_problem
from tutor.workspace.base import RunStatus, ScriptRunConfig

AZURE_PROBLEM = azure_problem()
pytestmark = pytest.mark.skipif(AZURE_PROBLEM is not None, reason=AZURE_PROBLEM or "")

CALLS: list[tuple[str, dict[str, Any]]] = []
CLOUD: dict[str, Any] = {}  # the workspace's runs, by id, whichever Workspace object looks
NAMES = {"subscription_id": "00000000-0000-0000-0000-000000000000", "resource_group": "taxi-course-rg",
         "workspace_name": "taxi-course-ws"}
SUBMITTED = datetime(2026, 3, 2, 9, 30, 0, tzinfo=timezone.utc)


def _called(what: str, /, **arguments: Any) -> None:
    CALLS.append((what, arguments))


def calls(name: str) -> list[dict[str, Any]]:
    return [arguments for called, arguments in CALLS if called == name]


# --------------------------------------------------------------------------- stand-ins
# Each names the real class it stands in for (REAL); its methods copy the real signatures.


class StandInWorkspace:
    REAL = "azureml.core.workspace:Workspace"

    def __init__(self, subscription_id, resource_group, workspace_name, auth=None, _location=None,
                 _disable_service_check=False, _workspace_id=None, sku='basic', tags=None, _cloud='AzureCloud'):
        _called("Workspace", subscription_id=subscription_id, resource_group=resource_group,
                workspace_name=workspace_name, auth=auth)
        self.subscription_id, self.resource_group, self._name = subscription_id, resource_group, workspace_name

    @property
    def name(self):
        return self._name

    @property
    def location(self):
        return "westeurope"

    def get_details(self):
        _called("Workspace.get_details")
        return {"name": self._name, "location": "westeurope", "sku": "Basic",
                "id": f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
                      f"/providers/Microsoft.MachineLearningServices/workspaces/{self._name}"}

    def get_default_datastore(self):
        _called("Workspace.get_default_datastore")
        return StandInBlobDatastore(self, "workspaceblobstore", "azureml-blobstore-1234", "taxistore")

    def get_run(self, run_id):
        _called("Workspace.get_run", run_id=run_id)
        return CLOUD[run_id]


class StandInExperiment:
    REAL = "azureml.core.experiment:Experiment"

    def __init__(self, workspace, name, _skip_name_validation=False, _id=None, _archived_time=None,
                 _create_in_cloud=True, _experiment_dto=None, **kwargs):
        _called("Experiment", workspace=workspace, name=name)
        self._workspace, self._name = workspace, name

    @property
    def name(self):
        return self._name

    @property
    def workspace(self):
        return self._workspace

    @staticmethod
    def list(workspace, experiment_name=None, view_type='ActiveOnly', tags=None):
        _called("Experiment.list", workspace=workspace, experiment_name=experiment_name)
        return [StandInExperiment(workspace, experiment_name or "day1-train")]

    def submit(self, config, tags=None, **kwargs):
        _called("Experiment.submit", config=config, tags=tags, kwargs=kwargs)
        run = StandInRun(self, f"{self._name}_1772443800_5d2c9a1e", config)
        CLOUD[run.id] = run
        return run

    def get_runs(self, type=None, tags=None, properties=None, include_children=False):
        _called("Experiment.get_runs")
        return iter([run for run in CLOUD.values() if run.experiment.name == self._name])

    def start_logging(self, *args, **kwargs):
        # The real one passes these on to Run._start_logging(experiment, name=None, run_id=None,
        # outputs=None, snapshot_directory='.', **kwargs): refuse what that would refuse.
        inspect.signature(_real(StandInRun)._start_logging).bind(self, *args, **kwargs)
        _called("Experiment.start_logging", args=args, kwargs=kwargs)
        run = StandInRun(self, f"{self._name}_1772443800_0a1b2c3d")
        run.status = "Running"
        CLOUD[run.id] = run
        return run


class StandInRun:
    REAL = "azureml.core.run:Run"
    LOGS = ("user_logs/std_log.txt", "system_logs/lifecycler/execution-wrapper.txt")

    def __init__(self, experiment, run_id, outputs=None, **kwargs):
        self._experiment, self._id, self._config = experiment, run_id, outputs
        self._display_name = None
        self.status = "Completed"
        self._parent_id = None

    @property
    def id(self):
        return self._id

    @property
    def experiment(self):
        return self._experiment

    @property
    def display_name(self):
        return self._display_name

    @display_name.setter
    def display_name(self, display_name):
        _called("Run.display_name=", display_name=display_name)
        self._display_name = display_name

    @property
    def _run_dto(self):
        from azureml._restclient.clientbase import ClientBase
        from azureml._restclient.models import RunDto

        return ClientBase.dto_to_dictionary(RunDto(run_id=self._id, created_utc=SUBMITTED, status=self.status,
                                                   display_name=self._display_name, parent_run_id=self._parent_id))

    def get_details(self):
        _called("Run.get_details")
        from azureml._restclient.models import RunDetailsDto
        from azureml._restclient.utils import camel_case_transformer

        ended = self.status in ("Completed", "Failed", "Canceled")
        dto = RunDetailsDto(
            run_id=self._id, target="local", status=self.status, start_time_utc=SUBMITTED + timedelta(seconds=40),
            end_time_utc=SUBMITTED + timedelta(seconds=95) if ended else None,
            properties={"ContentSnapshotId": "b4689489-ce2f-4db5-b6d7-6ad11e77079c"},
            run_definition={"script": "train.py", "arguments": ["--data_user", "alice"], "target": "local",
                            "environment": {"name": "taxi-env", "version": "1"}},
            log_files={name: f"https://taxistore.blob.core.windows.net/azureml/ExperimentRun/dcid.{self._id}/{name}"
                             "?sv=2019-07-07&sr=b&sig=x" for name in self.LOGS},
        )
        details = dto.as_dict(key_transformer=camel_case_transformer)
        details["submittedBy"] = "Alice Learner"
        return details

    def get_details_with_logs(self):
        _called("Run.get_details_with_logs")
        details = self.get_details()
        details["logFiles"] = {name: "[tutor] training...\nR^2 0.81\n" if "std_log" in name else "system\n"
                               for name in details["logFiles"]}
        return details

    def get_status(self):
        _called("Run.get_status")
        return self.status

    def get_metrics(self, name=None, recursive=False, run_type=None, populate=False):
        _called("Run.get_metrics")
        return {"R^2": 0.81, "loss": [0.5, 0.3]}

    def get_tags(self):
        _called("Run.get_tags")
        return {"model": "basic", "_aml_system_ComputeTargetStatus": "{}"}

    def get_file_names(self):
        _called("Run.get_file_names")
        return ["outputs/model.pkl", "user_logs/std_log.txt"]

    def download_files(self, prefix=None, output_directory=None, output_paths=None, batch_size=100,
                       append_prefix=True, timeout_seconds=None):
        _called("Run.download_files", prefix=prefix, output_directory=output_directory, append_prefix=append_prefix)
        target = Path(output_directory) / "outputs"
        target.mkdir(parents=True, exist_ok=True)
        (target / "model.pkl").write_bytes(b"model")

    def cancel(self):
        _called("Run.cancel")
        self.status = "Canceled"

    def child_run(self, name=None, run_id=None, outputs=None):
        _called("Run.child_run", name=name, run_id=run_id, outputs=outputs)
        child = StandInRun(self._experiment, f"{self._id}_{len(CLOUD)}")
        child.status = "Running"
        child._parent_id = self._id
        CLOUD[child.id] = child
        return child

    def get_children(self, recursive=False, tags=None, properties=None, type=None, status=None,
                     _rehydrate_runs=True):
        _called("Run.get_children", recursive=recursive)
        return iter([run for run in CLOUD.values() if isinstance(run, StandInRun) and run._parent_id == self._id])

    def log(self, name, value, description='', step=None):
        _called("Run.log", name=name, value=value)

    def log_list(self, name, value, description=''):
        _called("Run.log_list", name=name, value=value)

    def flush(self, timeout_seconds=300):
        _called("Run.flush")

    def set_tags(self, tags):
        _called("Run.set_tags", tags=tags)

    def upload_file(self, name, path_or_stream, datastore_name=None):
        _called("Run.upload_file", name=name, path_or_stream=path_or_stream)

    def complete(self, _set_status=True):
        _called("Run.complete")
        self.status = "Completed"

    def fail(self, error_details=None, error_code=None, _set_status=True):
        _called("Run.fail", error_details=error_details)
        self.status = "Failed"

    def register_model(self, model_name, model_path=None, tags=None, properties=None, model_framework=None,
                       model_framework_version=None, description=None, datasets=None, sample_input_dataset=None,
                       sample_output_dataset=None, resource_configuration=None, **kwargs):
        _called("Run.register_model", model_name=model_name, model_path=model_path, tags=tags,
                description=description)
        return "model"


class StandInComputeTarget:
    REAL = "azureml.core.compute.compute:ComputeTarget"

    def __new__(cls, workspace, name):
        _called("ComputeTarget", workspace=workspace, name=name)
        from azureml.exceptions import ComputeTargetException

        raise ComputeTargetException(f"ComputeTargetNotFound: Compute Target with name {name} not found "
                                     "in provided workspace")

    def __init__(self, workspace, name):
        pass

    @staticmethod
    def list(workspace):
        _called("ComputeTarget.list", workspace=workspace)
        return [StandInAmlCompute()]

    @staticmethod
    def create(workspace, name, provisioning_configuration):
        _called("ComputeTarget.create", workspace=workspace, name=name,
                provisioning_configuration=provisioning_configuration)
        return StandInAmlCompute()


class StandInAmlCompute:
    REAL = "azureml.core.compute.amlcompute:AmlCompute"

    @staticmethod
    def supported_vmsizes(workspace, location=None):
        _called("AmlCompute.supported_vmsizes", workspace=workspace, location=location)
        return [{"name": "Standard_D2_v2", "vCPUs": 2, "gpus": 0, "memoryGB": 7.0, "maxResourceVolumeMB": 102400}]

    def refresh_state(self):
        _called("AmlCompute.refresh_state")

    def get_status(self):
        _called("AmlCompute.get_status")
        return "status"

    def get_active_runs(self, type=None, tags=None, properties=None, status=None):
        _called("AmlCompute.get_active_runs")
        return iter([])

    def delete(self):
        _called("AmlCompute.delete")


class StandInContainerClient:
    REAL = "azureml._vendor.azure_storage.blob:ContainerClient"

    def list_blobs(self, name_starts_with=None, include=None, **kwargs):
        _called("ContainerClient.list_blobs", name_starts_with=name_starts_with)
        return iter([_Blob("UI/green_taxi_data.parquet"), _Blob("UI/a.csv")])


class _Blob:
    def __init__(self, name: str) -> None:
        self.name = name


class StandInBlobServiceClient:
    REAL = "azureml._vendor.azure_storage.blob:BlobServiceClient"

    def get_container_client(self, container):
        _called("BlobServiceClient.get_container_client", container=container)
        return StandInContainerClient()


class StandInBlobDatastore:
    REAL = "azureml.data.azure_storage_datastore:AzureBlobDatastore"

    def __init__(self, workspace, name, container_name, account_name, sas_token=None, account_key=None,
                 protocol=None, endpoint=None, request_session=None, workspace_msi_has_access=False,
                 subscription_id=None, resource_group=None, service_data_access_auth_identity=None):
        self.name, self.container_name, self.account_name = name, container_name, account_name
        self.blob_service = StandInBlobServiceClient()  # azureml: a BlobServiceClient made here

    def upload_files(self, files, relative_root=None, target_path=None, overwrite=False, show_progress=True):
        _called("AzureBlobDatastore.upload_files", files=files, relative_root=relative_root,
                target_path=target_path, overwrite=overwrite, show_progress=show_progress)

    def download(self, target_path, prefix=None, overwrite=False, show_progress=True):
        _called("AzureBlobDatastore.download", target_path=target_path, prefix=prefix, overwrite=overwrite,
                show_progress=show_progress)
        return 2


class StandInTabularDataset:
    REAL = "azureml.data.tabular_dataset:TabularDataset"

    def register(self, workspace, name, description=None, tags=None, create_new_version=False):
        _called("TabularDataset.register", workspace=workspace, name=name, description=description, tags=tags,
                create_new_version=create_new_version)
        return self

    def to_pandas_dataframe(self, on_error='null', out_of_range_datetime='null'):
        _called("TabularDataset.to_pandas_dataframe")
        return "frame"


class StandInTabularFactory:
    REAL = "azureml.data.dataset_factory:TabularDatasetFactory"

    @staticmethod
    def from_parquet_files(path, validate=True, include_path=False, set_column_types=None, partition_format=None):
        _called("TabularDatasetFactory.from_parquet_files", path=path)
        return StandInTabularDataset()

    @staticmethod
    def from_delimited_files(path, validate=True, include_path=False, infer_column_types=True, set_column_types=None,
                             separator=',', header=True, partition_format=None, support_multi_line=False,
                             empty_as_string=False, encoding='utf8'):
        _called("TabularDatasetFactory.from_delimited_files", path=path)
        return StandInTabularDataset()


class StandInDataset:
    REAL = "azureml.core.dataset:Dataset"
    Tabular = StandInTabularFactory

    def get_by_name(workspace, name, version='latest', **kwargs):  # a plain function in the class, as in azureml
        _called("Dataset.get_by_name", workspace=workspace, name=name, version=version)
        return StandInTabularDataset()

    def get_all(workspace):
        _called("Dataset.get_all", workspace=workspace)
        return {"taxi-data": StandInTabularDataset()}


class StandInEnvironment:
    REAL = "azureml.core.environment:Environment"

    def register(self, workspace):
        _called("Environment.register", workspace=workspace)
        return self

    @staticmethod
    def get(workspace, name, version=None, label=None):
        _called("Environment.get", workspace=workspace, name=name, version=version)
        return StandInEnvironment()

    @staticmethod
    def list(workspace):
        _called("Environment.list", workspace=workspace)
        return {"taxi-env": StandInEnvironment()}


class StandInModel:
    REAL = "azureml.core.model:Model"

    def __init__(self, workspace, name=None, id=None, tags=None, properties=None, version=None, run_id=None,
                 model_framework=None, expand=True, **kwargs):
        _called("Model", workspace=workspace, name=name, version=version)

    @staticmethod
    def register(workspace, model_path, model_name, tags=None, properties=None, description=None, datasets=None,
                 model_framework=None, model_framework_version=None, child_paths=None, sample_input_dataset=None,
                 sample_output_dataset=None, resource_configuration=None):
        _called("Model.register", workspace=workspace, model_path=model_path, model_name=model_name, tags=tags,
                description=description)
        return StandInModel(workspace, model_name)

    @staticmethod
    def list(workspace, name=None, tags=None, properties=None, run_id=None, latest=False, dataset_id=None,
             expand=True, page_count=255, model_framework=None):
        _called("Model.list", workspace=workspace, name=name, latest=latest)
        return []

    def download(self, target_dir='.', exist_ok=False, exists_ok=None):
        _called("Model.download", target_dir=target_dir, exist_ok=exist_ok)
        return str(Path(target_dir) / "model.pkl")

    @staticmethod
    def deploy(workspace, name, models, inference_config=None, deployment_config=None, deployment_target=None,
               overwrite=False, show_output=False):
        _called("Model.deploy", workspace=workspace, name=name, models=models, inference_config=inference_config,
                deployment_config=deployment_config, overwrite=overwrite, show_output=show_output)
        return object.__new__(StandInWebservice)  # azureml: the AciWebservice it deployed


class StandInWebservice:
    REAL = "azureml.core.webservice.webservice:Webservice"

    def __new__(cls, workspace, name):
        _called("Webservice", workspace=workspace, name=name)
        return super().__new__(cls)

    def __init__(self, workspace, name):
        pass

    @staticmethod
    def list(workspace, compute_type=None, image_name=None, image_id=None, model_name=None, model_id=None, tags=None,
             properties=None, image_digest=None):
        _called("Webservice.list", workspace=workspace)
        return []

    def update_deployment_state(self):
        _called("Webservice.update_deployment_state")

    def get_keys(self):
        _called("Webservice.get_keys")
        return ("primary-key", "secondary-key")

    def regen_key(self, key, set_key=None):
        _called("Webservice.regen_key", key=key, set_key=set_key)

    def get_logs(self, num_lines=5000, init=False):
        _called("Webservice.get_logs", num_lines=num_lines, init=init)
        return "2026-03-02 service started\n"

    def delete(self):
        _called("Webservice.delete")


STAND_INS = [StandInWorkspace, StandInExperiment, StandInRun, StandInComputeTarget, StandInAmlCompute,
             StandInContainerClient, StandInBlobServiceClient, StandInBlobDatastore, StandInTabularDataset,
             StandInTabularFactory, StandInDataset, StandInEnvironment, StandInModel, StandInWebservice]
# Where service.py imports each class from (``from azureml.core import Workspace`` ...).
PATCHES = {"azureml.core:Workspace": StandInWorkspace, "azureml.core:Experiment": StandInExperiment,
           "azureml.core:Dataset": StandInDataset, "azureml.core:Environment": StandInEnvironment,
           "azureml.core.compute:ComputeTarget": StandInComputeTarget, "azureml.core.compute:AmlCompute":
           StandInAmlCompute, "azureml.core.model:Model": StandInModel,
           "azureml.core.webservice:Webservice": StandInWebservice}


def _real(stand_in: type) -> type:
    module, name = stand_in.REAL.split(":")
    with _quiet():
        return getattr(importlib.import_module(module), name)


def _quiet() -> Any:
    from tutor.workspace.azure.quiet import quiet

    return quiet()


@pytest.mark.parametrize("stand_in", STAND_INS, ids=lambda c: c.__name__)
def test_each_stand_in_has_the_real_signatures(stand_in: type) -> None:
    real = _real(stand_in)
    checked = 0
    for name, ours in vars(stand_in).items():
        if name.startswith("__") and name not in ("__init__", "__new__") or name == "REAL":
            continue
        theirs = inspect.getattr_static(real, name, None)
        if name == "blob_service" or isinstance(ours, type) and name == "Tabular":
            assert isinstance(getattr(real, name, None), type), name
            continue
        if not callable(ours) and not isinstance(ours, (property, staticmethod, classmethod)):
            continue  # a plain value (container_name)
        assert theirs is not None, f"{real.__name__} has no {name}"
        if isinstance(ours, property):
            assert isinstance(theirs, property), f"{real.__name__}.{name} is not a property"
            assert (ours.fset is None) == (theirs.fset is None), f"{real.__name__}.{name}: setter differs"
        else:
            assert type(ours) is type(theirs), f"{real.__name__}.{name}: {type(theirs).__name__} in azureml"
            assert inspect.signature(getattr(stand_in, name)) == inspect.signature(getattr(real, name)), name
        checked += 1
    assert checked


@pytest.fixture
def sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    """service.py's imports find the stand-ins; CALLS starts empty."""
    CALLS.clear()
    CLOUD.clear()
    for where, stand_in in PATCHES.items():
        module, name = where.split(":")
        with _quiet():
            monkeypatch.setattr(importlib.import_module(module), name, stand_in)


def _workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    from tutor.workspace.azure.service import AzureService
    from tutor.workspace.azure.workspace import AzureWorkspace

    monkeypatch.delenv("TUTOR_AZURE_AUTH", raising=False)
    for key, value in {"AZURE_TENANT_ID": "11111111-1111-1111-1111-111111111111",
                       "AZURE_CLIENT_ID": "22222222-2222-2222-2222-222222222222",
                       "AZURE_CLIENT_SECRET": "not-a-real-secret"}.items():
        monkeypatch.setenv(key, value)
    return AzureWorkspace(NAMES, cache_root=tmp_path / "azure", service=AzureService(), poll_interval=0.01)


def test_a_run_read_through_the_real_service(sdk: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Submit, name, read, follow: the display name and submit time come from where azureml keeps
    them (get_details() has neither), and the log is the log's text, not its URL."""
    source = tmp_path / "train"
    source.mkdir()
    (source / "train.py").write_text("print('training')\n")
    ws = _workspace(tmp_path, monkeypatch)

    run = ws.submit("day1-train", ScriptRunConfig(source, "train.py", arguments=["--data_user", "alice"],
                                                  tags={"model": "basic"}, display_name="linear regression"))
    assert calls("Workspace")[0]["workspace_name"] == "taxi-course-ws"
    (submitted,) = calls("Experiment.submit")
    assert submitted["tags"] == {"model": "basic"} and submitted["kwargs"] == {}
    assert type(submitted["config"]).__module__.startswith("azureml.")  # the SDK's own ScriptRunConfig
    assert calls("Run.display_name=") == [{"display_name": "linear regression"}]

    assert run.status == RunStatus.COMPLETED
    assert run.display_name == "linear regression"
    assert run.submitted_at.startswith("2026-03-02T09:30:00")
    assert run.started_at.startswith("2026-03-02T09:30:40") and run.ended_at.startswith("2026-03-02T09:31:35")
    assert (run.script, run.arguments, run.environment) == ("train.py", ["--data_user", "alice"], "taxi-env:1")
    assert run.tags == {"model": "basic"}
    assert ws.get_log_tail(run.id) == "[tutor] training...\nR^2 0.81"
    assert calls("Run.download_files") == [{"prefix": "outputs", "output_directory": str(ws._run_dir(run.id)),
                                            "append_prefix": True}]
    assert ws.get_metrics(run.id)["R^2"] == 0.81

    again = _workspace(tmp_path / "other", monkeypatch)  # a new tutor process, nothing cached
    (listed,) = again.list_runs("day1-train")
    assert (listed.id, listed.display_name, listed.submitted_at) == (run.id, run.display_name, run.submitted_at)
    assert again.wait_for_completion(run.id).status == RunStatus.COMPLETED
    assert "https://" not in again.get_log_tail(run.id)


def test_every_other_sdk_call_of_the_service(sdk: None, tmp_path: Path) -> None:
    from tutor.workspace.azure.service import AzureService

    service = AzureService()
    ws = service.connect(NAMES, auth=None)
    assert service.workspace_details(ws)["location"] == "westeurope"

    assert service.get_compute(ws, "alicercluster") is None  # the SDK's not-found
    assert len(service.list_compute(ws)) == 1
    target = service.create_compute(ws, "alicercluster", "provisioning config")
    assert calls("ComputeTarget.create")[0]["provisioning_configuration"] == "provisioning config"
    assert service.supported_vm_sizes(ws)[0]["name"] == "Standard_D2_v2"
    service.refresh_compute(target)
    assert service.compute_status(target) == "status"
    assert service.active_runs(target) == []
    service.delete_compute(target)

    store = service.default_datastore(ws)
    assert service.list_blobs(store, "UI/") == ["UI/a.csv", "UI/green_taxi_data.parquet"]
    assert calls("BlobServiceClient.get_container_client") == [{"container": "azureml-blobstore-1234"}]
    service.upload_files(store, ["/tmp/a.csv"], "/tmp", "UI", True)
    assert calls("AzureBlobDatastore.upload_files")[0]["show_progress"] is False
    assert service.download(store, str(tmp_path), "UI", False) == 2

    parquet = service.tabular_dataset(store, ["UI/green_taxi_data.parquet"], "parquet")
    assert calls("TabularDatasetFactory.from_parquet_files") == [{"path": [(store, "UI/green_taxi_data.parquet")]}]
    service.tabular_dataset(store, ["UI/a.csv"], "csv")
    service.register_dataset(ws, parquet, "taxi-data", "trips", {"course": "day1"}, True)
    assert service.get_dataset(ws, "taxi-data", 2) is not None
    assert list(service.list_datasets(ws)) == ["taxi-data"]
    assert service.dataset_frame(parquet) == "frame"

    env = service.get_environment(ws, "taxi-env", 3)
    assert calls("Environment.get")[0]["version"] == "3"  # azureml takes the version as text
    service.register_environment(ws, env)
    assert list(service.list_environments(ws)) == ["taxi-env"]

    assert [e.name for e in service.list_experiments(ws, "day1-train")] == ["day1-train"]
    experiment = service.experiment(ws, "day1-train")
    run = service.submit(experiment, "config", {})
    assert calls("Experiment.submit")[0]["tags"] is None
    assert service.get_run(ws, run.id) is run
    assert service.list_runs(experiment) == [run]
    assert "displayName" not in service.run_details(run) and "submittedTimeUtc" not in service.run_details(run)
    assert service.run_header(run) == {"display_name": None, "created_utc": "2026-03-02T09:30:00.000Z",
                                       "parent_run_id": None}
    service.set_display_name(run, "first")
    assert service.run_header(run)["display_name"] == "first"
    assert service.run_status(run) == "Completed"
    assert service.run_tags(run)["model"] == "basic"
    assert service.run_metrics(run) == {"R^2": 0.81, "loss": [0.5, 0.3]}
    assert service.run_details_with_logs(run)["logFiles"]["user_logs/std_log.txt"].startswith("[tutor]")
    service.download_run_files(run, "outputs", str(tmp_path / "run"))
    assert (tmp_path / "run" / "outputs" / "model.pkl").is_file()
    assert service.run_files(run) == ["outputs/model.pkl", "user_logs/std_log.txt"]
    service.register_run_model(run, "taxi-model", "outputs/model.pkl", {"r2": "0.81"}, "")
    assert calls("Run.register_model")[0]["description"] is None
    service.cancel_run(run)
    assert service.run_status(run) == "Canceled"

    logged = service.start_logging(experiment)
    assert calls("Experiment.start_logging") == [{"args": (), "kwargs": {"snapshot_directory": None,
                                                                         "outputs": False}}]
    child = service.child_run(logged)
    assert calls("Run.child_run") == [{"name": None, "run_id": None, "outputs": None}]
    assert service.run_header(child)["parent_run_id"] == logged.id
    assert service.get_children(logged) == [child] and calls("Run.get_children") == [{"recursive": False}]
    service.log_metrics(child, {"rmse": 3.5, "residuals": [0.1, -0.2]})
    assert calls("Run.log") == [{"name": "rmse", "value": 3.5}]
    assert calls("Run.log_list") == [{"name": "residuals", "value": [0.1, -0.2]}]
    assert len(calls("Run.flush")) == 1  # logged metrics are sent before anyone reads them
    service.set_run_tags(child, {"iteration": "0"})
    assert calls("Run.set_tags") == [{"tags": {"iteration": "0"}}]
    service.upload_run_file(logged, "outputs/model.pkl", str(tmp_path / "model.pkl"))
    assert calls("Run.upload_file") == [{"name": "outputs/model.pkl", "path_or_stream": str(tmp_path / "model.pkl")}]
    service.fail_run(child, "out of memory")
    assert calls("Run.fail") == [{"error_details": "out of memory"}] and service.run_status(child) == "Failed"
    service.complete_run(logged)
    assert service.run_status(logged) == "Completed"

    service.register_model(ws, "model.pkl", "taxi-model", {}, "basic")
    model = service.get_model(ws, "taxi-model", 1)
    assert service.list_models(ws, "taxi-model", latest=True) == []
    assert service.download_model(model, str(tmp_path), True) == str(tmp_path / "model.pkl")

    deployed = service.deploy(ws, "alice-taxi-cost-pred", [model], "inference", "deployment", True)
    assert calls("Model.deploy")[0]["show_output"] is False
    service.refresh_service(deployed)
    assert service.get_service(ws, "alice-taxi-cost-pred") is not None
    assert service.list_services(ws) == []
    assert service.service_keys(deployed) == ("primary-key", "secondary-key")
    service.regen_key(deployed, "Primary")
    assert service.service_logs(deployed).startswith("2026-03-02")
    service.delete_service(deployed)

    reached = {name.split(".")[-1].split("=")[0] for name, _ in CALLS}
    assert {"get_details", "get_tags", "get_status", "get_file_names", "cancel", "register_model", "deploy",
            "get_keys", "regen_key", "get_logs", "delete", "list_blobs", "download", "upload_files"} <= reached


def test_the_tests_cover_every_method_of_the_service() -> None:
    """A new SDK call in service.py must be added to the calls above."""
    from tutor.workspace.azure.service import AzureService

    source = inspect.getsource(test_every_other_sdk_call_of_the_service)
    methods = [name for name, _ in inspect.getmembers(AzureService, inspect.isfunction) if not name.startswith("_")]
    assert {name for name in methods if f"service.{name}(" not in source} == set()
