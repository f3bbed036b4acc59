"""An in-memory Azure ML behind the service boundary (``tutor.workspace.azure.service``).

``FakeAzure`` implements every method of ``AzureService`` without a network. The Azure
backend hands it the SDK's *real* configuration objects (``ScriptRunConfig``,
``AmlCompute``/``ComputeInstance`` provisioning configurations, ``Environment`` with
``CondaDependencies``, ``InferenceConfig``, ``AciWebservice`` deployment configuration);
the fake records each call in ``calls`` so tests can assert on what those objects hold,
and answers with objects shaped like the SDK's (``get_details()`` dicts with Azure's
keys, metrics as ``run.get_metrics()`` returns them, statuses spelled as Azure spells
them, "exited with status code N" error messages).

What a cloud does, it does with an embedded workspace as its engine: a submitted run
really executes (in a ``LocalWorkspace`` under the fake's folder, on a cluster of the
same name), so the contract tests that need real processes (queues, cancel, logs) run
unchanged. Those tests therefore prove the backend's mapping of Azure's answers, not
Azure's own scheduling.
"""

from __future__ import annotations

import copy
import shutil
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tutor.workspace.azure.quiet import quiet
from tutor.workspace.base import RunStatus
from tutor.workspace.base import ScriptRunConfig as LocalScriptRunConfig
from tutor.workspace.local.compute import VM_SIZES

AZURE_STATUS = {RunStatus.QUEUED: "Queued", RunStatus.PREPARING: "Preparing", RunStatus.RUNNING: "Running",
                RunStatus.COMPLETED: "Completed", RunStatus.FAILED: "Failed", RunStatus.CANCELED: "Canceled"}


def _now() -> datetime:
    return datetime.now(timezone.utc)


LOG_NAMES = ("user_logs/std_log.txt", "system_logs/lifecycler/execution-wrapper.txt")


def _when(value: str | None) -> datetime | None:
    """An engine timestamp (ISO text) as the datetime the SDK's records hold."""
    return datetime.fromisoformat(value) if value else None


def _sdk_error(kind: str, message: str) -> Exception:
    import azureml.exceptions as sdk

    return getattr(sdk, kind)(message)


@dataclass
class FakeSdkWorkspace:
    subscription_id: str
    resource_group: str
    name: str
    auth: Any
    location: str = "westeurope"


@dataclass
class FakeScale:
    minimum_node_count: int
    maximum_node_count: int
    idle_seconds_before_scaledown: int


@dataclass
class FakeCompute:
    name: str
    type: str
    vm_size: str
    provisioning_state: str = "Creating"
    scale_settings: FakeScale | None = None
    provisioning_errors: list[Any] | None = None
    created_on: str = field(default_factory=lambda: _now().isoformat())
    applications: list[dict[str, str]] | None = None
    config: Any = None


@dataclass
class FakeStatus:
    current_node_count: int
    state: str = "Running"


@dataclass
class FakeExperiment:
    name: str
    workspace: Any = None


@dataclass
class FakeRun:
    id: str
    experiment: FakeExperiment
    config: Any
    display_name: str | None = None


@dataclass
class FakeDatastore:
    name: str
    root: Path
    container_name: str = "azureml-blobstore-fake"


@dataclass
class FakeDataset:
    paths: list[str]
    file_format: str
    root: Path
    name: str | None = None
    version: int | None = None
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)

    def to_pandas_dataframe(self) -> Any:
        import pandas as pd
        import pyarrow.parquet as pq

        frames = []
        for path in self.paths:
            local = self.root / path
            if self.file_format == "parquet":
                frames.append(pq.read_table(local).to_pandas(ignore_metadata=True))
            else:
                frames.append(pd.read_csv(local))
        return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


@dataclass
class FakeModel:
    name: str
    version: int
    folder: Path
    run_id: str | None = None
    experiment_name: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    description: str | None = None
    created_time: str = field(default_factory=lambda: _now().isoformat())


@dataclass
class FakeWebservice:
    name: str
    models: list[FakeModel]
    inference_config: Any
    deployment_config: Any
    state: str = "Transitioning"
    scoring_uri: str | None = None
    swagger_uri: str | None = None
    compute_type: str = "ACI"
    tags: dict[str, str] = field(default_factory=dict)
    keys: list[str] = field(default_factory=lambda: [uuid.uuid4().hex, uuid.uuid4().hex])
    error: Any = None
    created_time: str = field(default_factory=lambda: _now().isoformat())


class FakeAzure:
    """Azure ML in a folder. ``fail[method] = exception`` makes that call raise once."""

    def __init__(self, root: Path) -> None:
        from tutor.workspace.local import LocalWorkspace

        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.engine = LocalWorkspace(root / "engine", "engine-ws")
        self.blobs = root / "blobs"
        self.blobs.mkdir(exist_ok=True)
        self.datastore = FakeDatastore("workspaceblobstore", self.blobs)
        self.calls: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        self.fail: dict[str, Exception] = {}
        self.compute: dict[str, FakeCompute] = {}
        self.experiments: dict[str, FakeExperiment] = {}
        self.runs: dict[str, FakeRun] = {}
        self.datasets: dict[str, list[FakeDataset]] = defaultdict(list)
        self.environments: dict[str, list[Any]] = defaultdict(list)
        self.models: dict[str, list[FakeModel]] = defaultdict(list)
        self.services: dict[str, FakeWebservice] = {}
        self.provisioning_error: dict[str, Any] | None = None
        self.deployment_fails = False
        self._add_curated_environment()

    def _add_curated_environment(self) -> None:
        with quiet():
            from azureml.core import Environment

            curated = Environment("AzureML-sklearn-1.0-ubuntu20.04-py38-cpu")
        curated.version = "1"
        self.environments[curated.name].append(curated)

    def _record(self, method: str, *args: Any) -> None:
        self.calls[method].append(args)
        if method in self.fail:
            raise self.fail.pop(method)

    # -- workspace ------------------------------------------------------------------

    def connect(self, names: dict[str, str], auth: Any) -> FakeSdkWorkspace:
        self._record("connect", names, auth)
        return FakeSdkWorkspace(names["subscription_id"], names["resource_group"], names["workspace_name"], auth)

    def workspace_details(self, ws: FakeSdkWorkspace) -> dict[str, Any]:
        self._record("workspace_details", ws)
        return {"id": f"/subscriptions/{ws.subscription_id}/resourceGroups/{ws.resource_group}/providers/"
                      f"Microsoft.MachineLearningServices/workspaces/{ws.name}",
                "name": ws.name, "location": ws.location, "workspaceid": "0000-fake", "creationTime": "2026-01-01"}

    # -- compute ----------------------------------------------------------------------

    def get_compute(self, ws: Any, name: str) -> FakeCompute | None:
        self._record("get_compute", name)
        return self.compute.get(name)

    def list_compute(self, ws: Any) -> list[FakeCompute]:
        self._record("list_compute")
        return list(self.compute.values())

    def supported_vm_sizes(self, ws: Any) -> list[dict[str, Any]]:
        self._record("supported_vm_sizes")
        # Azure spells them "Standard_D2_v2"; the backend compares without case.
        return [{"name": size.replace("STANDARD", "Standard").replace("_V", "_v"), "vCPUs": cores,
                 "memoryGB": memory} for size, (cores, memory) in VM_SIZES.items()]

    def create_compute(self, ws: Any, name: str, provisioning_config: Any) -> FakeCompute:
        config = provisioning_config
        self._record("create_compute", name, config)
        kind = config._compute_type.__name__
        if kind == "AmlCompute":
            scale = config.scale_settings
            target = FakeCompute(name, "AmlCompute", config.vm_size, config=config, scale_settings=FakeScale(
                scale.minimum_node_count, scale.maximum_node_count, scale.idle_seconds_before_scaledown))
        else:
            target = FakeCompute(name, "ComputeInstance", config.vm_size, config=config, applications=[
                {"displayName": "Jupyter", "endpointUri": f"https://{name}.westeurope.instances.azureml.ms/tree/"},
                {"displayName": "RStudio", "endpointUri": f"https://{name}-8787.westeurope.instances.azureml.ms"}])
        self.compute[name] = target
        return target

    def refresh_compute(self, target: FakeCompute) -> None:
        self._record("refresh_compute", target.name)
        if target.provisioning_state != "Creating":
            return
        if self.provisioning_error is not None:
            target.provisioning_state = "Failed"
            target.provisioning_errors = [self.provisioning_error]
            return
        if target.type == "AmlCompute":
            scale = target.scale_settings
            assert scale is not None
            self.engine.get_or_create_cluster(target.name, target.vm_size, scale.minimum_node_count,
                                              scale.maximum_node_count, scale.idle_seconds_before_scaledown)
            self.engine.wait_for_compute(target.name)
        target.provisioning_state = "Succeeded"

    def compute_status(self, target: FakeCompute) -> FakeStatus:
        self._record("compute_status", target.name)
        if target.type != "AmlCompute" or target.provisioning_state != "Succeeded":
            return FakeStatus(0)
        return FakeStatus(self.engine.get_compute_status(target.name).current_node_count)

    def active_runs(self, target: FakeCompute) -> list[FakeRun]:
        self._record("active_runs", target.name)
        if target.type != "AmlCompute" or target.provisioning_state != "Succeeded":
            return []
        status = self.engine.get_compute_status(target.name)
        return [self.runs[i] for i in status.running_runs + status.queued_runs if i in self.runs]

    def delete_compute(self, target: FakeCompute) -> None:
        self._record("delete_compute", target.name)
        if target.type == "AmlCompute" and target.provisioning_state == "Succeeded":
            self.engine.delete_compute(target.name)
        del self.compute[target.name]

    # -- datastore ----------------------------------------------------------------------

    def default_datastore(self, ws: Any) -> FakeDatastore:
        self._record("default_datastore")
        return self.datastore

    def list_blobs(self, datastore: FakeDatastore, prefix: str = "") -> list[str]:
        self._record("list_blobs", prefix)
        names = [p.relative_to(datastore.root).as_posix() for p in datastore.root.rglob("*") if p.is_file()]
        return sorted(n for n in names if n.startswith(prefix or ""))

    def upload_files(self, datastore: FakeDatastore, files: list[str], relative_root: str, target_path: str,
                     overwrite: bool) -> None:
        """As the SDK does: files keep their path below relative_root; existing ones are skipped."""
        self._record("upload_files", list(files), relative_root, target_path, overwrite)
        for name in files:
            rel = Path(name).relative_to(relative_root)
            dest = datastore.root / (target_path or "") / rel
            if dest.exists() and not overwrite:
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(name, dest)

    def download(self, datastore: FakeDatastore, target_path: str, prefix: str, overwrite: bool) -> int:
        self._record("download", target_path, prefix, overwrite)
        count = 0
        for name in self.list_blobs(datastore, prefix):
            dest = Path(target_path) / name
            if dest.exists() and not overwrite:
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(datastore.root / name, dest)
            count += 1
        return count

    # -- datasets -----------------------------------------------------------------------

    def tabular_dataset(self, datastore: FakeDatastore, paths: list[str], file_format: str) -> FakeDataset:
        self._record("tabular_dataset", list(paths), file_format)
        for path in paths:
            if not (datastore.root / path).is_file():
                raise _sdk_error("UserErrorException", f"Cannot load any data from the specified path {path}.")
        return FakeDataset(list(paths), file_format, datastore.root)

    def register_dataset(self, ws: Any, dataset: FakeDataset, name: str, description: str, tags: dict[str, str],
                         create_new_version: bool) -> FakeDataset:
        self._record("register_dataset", name, description, tags, create_new_version)
        versions = self.datasets[name]
        if versions and not create_new_version:
            return versions[-1]
        registered = copy.copy(dataset)
        registered.name, registered.version = name, len(versions) + 1
        registered.description, registered.tags = description, dict(tags)
        versions.append(registered)
        return registered

    def get_dataset(self, ws: Any, name: str, version: int | str = "latest") -> FakeDataset | None:
        self._record("get_dataset", name, version)
        versions = self.datasets.get(name) or []
        if not versions:
            return None
        if version == "latest":
            return versions[-1]
        return next((d for d in versions if d.version == int(version)), None)

    def list_datasets(self, ws: Any) -> dict[str, FakeDataset]:
        self._record("list_datasets")
        return {name: versions[-1] for name, versions in self.datasets.items() if versions}

    def dataset_frame(self, dataset: FakeDataset) -> Any:
        self._record("dataset_frame", dataset.name, dataset.version)
        return dataset.to_pandas_dataframe()

    # -- environments ---------------------------------------------------------------------

    def register_environment(self, ws: Any, environment: Any) -> Any:
        self._record("register_environment", environment)
        versions = self.environments[environment.name]
        with quiet():
            stored = copy.deepcopy(environment)
        stored.version = str(len(versions) + 1)
        versions.append(stored)
        return stored

    def get_environment(self, ws: Any, name: str, version: int | None = None) -> Any:
        self._record("get_environment", name, version)
        versions = self.environments.get(name) or []
        if not versions:
            return None
        if version is None:
            return versions[-1]
        return next((e for e in versions if int(e.version) == int(version)), None)

    def list_environments(self, ws: Any) -> dict[str, Any]:
        self._record("list_environments")
        return {name: versions[-1] for name, versions in self.environments.items() if versions}

    # -- experiments and runs ----------------------------------------------------------------

    def experiment(self, ws: Any, name: str) -> FakeExperiment:
        self._record("experiment", name)
        return self.experiments.setdefault(name, FakeExperiment(name, ws))

    def list_experiments(self, ws: Any, name: str | None = None) -> list[FakeExperiment]:
        self._record("list_experiments", name)
        return [e for n, e in self.experiments.items() if name is None or n == name]

    def submit(self, experiment: FakeExperiment, config: Any, tags: dict[str, str]) -> FakeRun:
        """Run the real ScriptRunConfig on the engine: its folder, script, arguments, target, environment."""
        self._record("submit", experiment.name, config, tags)
        target = config.run_config.target
        env = config.run_config.environment
        env_ref = None
        if env is not None and env.version is not None:
            with quiet():
                pip = list(env.python.conda_dependencies.pip_packages)
            engine_env = self.engine.register_environment(env.name, pip)
            env_ref = f"{engine_env.name}:{engine_env.version}"
        record = self.engine.submit(experiment.name, LocalScriptRunConfig(
            source_directory=config.source_directory, script=config.script, arguments=list(config.arguments),
            compute_target=target, environment=env_ref, tags=dict(tags or {})))
        run = FakeRun(record.id, experiment, config)
        self.runs[run.id] = run
        return run

    def set_display_name(self, run: FakeRun, display_name: str) -> None:
        self._record("set_display_name", run.id, display_name)
        run.display_name = display_name
        if run.config is None:  # a logged run: the engine keeps its name (get_children, listings)
            self.engine.set_run_display_name(run.id, display_name)

    # -- runs logged by the client (start_logging, child_run) ------------------------------
    # A logged run has no ScriptRunConfig (``config`` None): Azure shows it as an interactive
    # run on "local" with no script. The engine logs it as this process's run.

    def start_logging(self, experiment: FakeExperiment) -> FakeRun:
        self._record("start_logging", experiment.name)
        record = self.engine.start_logging(experiment.name)
        run = FakeRun(record.id, experiment, None)
        self.runs[run.id] = run
        return run

    def child_run(self, parent: FakeRun) -> FakeRun:
        self._record("child_run", parent.id)
        record = self.engine.start_logging(parent.experiment.name, parent_id=parent.id)
        run = FakeRun(record.id, parent.experiment, None)
        self.runs[run.id] = run
        return run

    def get_children(self, run: FakeRun) -> list[FakeRun]:
        self._record("get_children", run.id)
        return [self.runs[r.id] for r in self.engine.get_children(run.id) if r.id in self.runs]

    def log_metrics(self, run: FakeRun, metrics: dict[str, Any]) -> None:
        self._record("log_metrics", run.id, dict(metrics))
        self.engine.log_metrics(run.id, metrics)

    def set_run_tags(self, run: FakeRun, tags: dict[str, str]) -> None:
        self._record("set_run_tags", run.id, dict(tags))
        assert all(isinstance(v, str) for v in tags.values()), "Azure's run tags are text"
        self.engine.set_run_tags(run.id, tags)

    def upload_run_file(self, run: FakeRun, name: str, path: str) -> None:
        self._record("upload_run_file", run.id, name, path)
        self.engine.upload_run_file(run.id, name, path)

    def complete_run(self, run: FakeRun) -> None:
        self._record("complete_run", run.id)
        self.engine.complete_run(run.id)

    def fail_run(self, run: FakeRun, error: str) -> None:
        self._record("fail_run", run.id, error)
        self.engine.complete_run(run.id, "Failed", error=error)

    def get_run(self, ws: Any, run_id: str) -> FakeRun | None:
        self._record("get_run", run_id)
        return self.runs.get(run_id)

    def list_runs(self, experiment: FakeExperiment) -> list[FakeRun]:
        self._record("list_runs", experiment.name)
        return [self.runs[r.id] for r in self.engine.list_runs(experiment.name) if r.id in self.runs]

    def _details(self, run: FakeRun) -> dict[str, Any]:
        """What ``Run.get_details()`` returns: the service's run status record (``RunDetailsDto``)
        turned into a dict the SDK's way (camelCase keys; startTimeUtc and endTimeUtc absent
        until the run starts and ends), plus ``submittedBy``. No display name, no submit time:
        those come from :meth:`run_header`, as they do from the real SDK."""
        from azureml._restclient.models import ErrorResponse, RootError, RunDetailsDto
        from azureml._restclient.utils import camel_case_transformer

        record = self.engine.get_run(run.id)
        error = None
        if record.status == RunStatus.FAILED:
            if record.exit_code is not None and "exited with code" in (record.error or ""):
                message = (f"Execution failed. User process 'python' exited with status code {record.exit_code}. "
                           "Please check log file 'user_logs/std_log.txt' for error details.")
            else:
                message = record.error or "Failed"
            error = ErrorResponse(error=RootError(code="UserError", message=message))
        if run.config is None:  # logged by the client: no script, no snapshot
            target, properties, definition = "local", {}, {}
        else:
            env = run.config.run_config.environment
            target = run.config.run_config.target
            properties = {"ContentSnapshotId": uuid.uuid4().hex}
            definition = {"script": run.config.script, "arguments": [str(a) for a in run.config.arguments],
                          "target": target, "environment": {"name": env.name, "version": env.version}}
        dto = RunDetailsDto(
            run_id=run.id, target=target, status=AZURE_STATUS[record.status],
            start_time_utc=_when(record.started_at), end_time_utc=_when(record.ended_at), error=error,
            properties=properties, run_definition=definition,
            log_files={name: f"https://fakestore.blob.core.windows.net/azureml/ExperimentRun/dcid.{run.id}/{name}"
                       "?sv=2019-07-07&sr=b&sig=fake" for name in LOG_NAMES},
        )
        details: dict[str, Any] = dto.as_dict(key_transformer=camel_case_transformer)
        details["submittedBy"] = "Fake Learner"
        return details

    def run_header(self, run: FakeRun) -> dict[str, str | None]:
        """As ``AzureService.run_header``: ``run.display_name``, the run record's ``created_utc``
        (which the SDK's record dict holds as ISO text ending in Z) and ``parent_run_id``."""
        from azureml._restclient.clientbase import ClientBase
        from azureml._restclient.models import RunDto

        self._record("run_header", run.id)
        kept = self.engine.get_run(run.id)
        record = ClientBase.dto_to_dictionary(RunDto(run_id=run.id, created_utc=_when(kept.submitted_at),
                                                     display_name=run.display_name, parent_run_id=kept.parent_id))
        return {"display_name": record.get("display_name") or None, "created_utc": record.get("created_utc"),
                "parent_run_id": record.get("parent_run_id") or None}

    def run_details(self, run: FakeRun) -> dict[str, Any]:
        self._record("run_details", run.id)
        return self._details(run)

    def run_details_with_logs(self, run: FakeRun) -> dict[str, Any]:
        self._record("run_details_with_logs", run.id)
        details = self._details(run)
        log = self.engine.layout.run_log(run.id)
        texts = {"user_logs/std_log.txt": log.read_text(errors="replace") if log.exists() else "",
                 "system_logs/lifecycler/execution-wrapper.txt": "fake system log\n"}
        details["logFiles"] = {name: texts[name] for name in details["logFiles"]}  # URLs -> their text
        return details

    def run_status(self, run: FakeRun) -> str:
        self._record("run_status", run.id)
        return AZURE_STATUS[self.engine.get_run(run.id).status]

    def run_metrics(self, run: FakeRun) -> dict[str, Any]:
        """As ``run.get_metrics()``: one value, or a list for a metric logged more than once (or log_list)."""
        self._record("run_metrics", run.id)
        metrics = self.engine.get_metrics(run.id)
        out: dict[str, Any] = {}
        for name, points in metrics.history.items():
            out[name] = points[0].value if len(points) == 1 else [p.value for p in points]
        return out

    def run_tags(self, run: FakeRun) -> dict[str, str]:
        self._record("run_tags", run.id)
        return {**self.engine.get_run(run.id).tags, "_aml_system_ComputeTargetStatus": "{}"}

    def run_files(self, run: FakeRun) -> list[str]:
        self._record("run_files", run.id)
        folder = Path(self.engine.get_run(run.id).run_dir)
        files = [p.relative_to(folder).as_posix() for p in (folder / "outputs").rglob("*") if p.is_file()]
        return sorted(files + ["user_logs/std_log.txt"])

    def download_run_files(self, run: FakeRun, prefix: str, dest: str) -> None:
        self._record("download_run_files", run.id, prefix, dest)
        source = Path(self.engine.get_run(run.id).run_dir) / prefix
        if source.is_dir():
            shutil.copytree(source, Path(dest) / prefix, dirs_exist_ok=True)

    def cancel_run(self, run: FakeRun) -> None:
        self._record("cancel_run", run.id)
        if run.config is None:  # a logged run belongs to this process: it ends, nothing is killed
            self.engine.complete_run(run.id, "Canceled", error="The run was canceled.")
        else:
            self.engine.cancel(run.id)

    # -- models --------------------------------------------------------------------------

    def _store_model(self, name: str, source: Path, **fields: Any) -> FakeModel:
        versions = self.models[name]
        folder = self.root / "models" / name / str(len(versions) + 1)
        folder.mkdir(parents=True)
        if source.is_dir():
            shutil.copytree(source, folder / source.name)
        else:
            shutil.copyfile(source, folder / source.name)
        model = FakeModel(name, len(versions) + 1, folder, **fields)
        versions.append(model)
        return model

    def register_run_model(self, run: FakeRun, name: str, path: str, tags: dict[str, str],
                           description: str) -> FakeModel:
        self._record("register_run_model", run.id, name, path, tags, description)
        source = Path(self.engine.get_run(run.id).run_dir) / path
        return self._store_model(name, source, run_id=run.id, experiment_name=run.experiment.name,
                                 tags=dict(tags), description=description or None)

    def register_model(self, ws: Any, path: str, name: str, tags: dict[str, str], description: str) -> FakeModel:
        self._record("register_model", path, name, tags, description)
        return self._store_model(name, Path(path), tags=dict(tags), description=description or None)

    def get_model(self, ws: Any, name: str, version: int | None = None) -> FakeModel | None:
        self._record("get_model", name, version)
        versions = self.models.get(name) or []
        if not versions:
            return None
        if version is None:
            return versions[-1]
        return next((m for m in versions if m.version == version), None)

    def list_models(self, ws: Any, name: str | None = None, latest: bool = False) -> list[FakeModel]:
        self._record("list_models", name, latest)
        found = []
        for model_name, versions in self.models.items():
            if name is not None and model_name != name:
                continue
            found.extend(versions[-1:] if latest else versions[::-1])  # Azure lists newest first
        return found

    def download_model(self, model: FakeModel, target_dir: str, exist_ok: bool) -> str:
        self._record("download_model", model.name, model.version, target_dir, exist_ok)
        entries = list(model.folder.iterdir())
        for entry in entries:
            dest = Path(target_dir) / entry.name
            if dest.exists() and not exist_ok:
                raise _sdk_error("WebserviceException", f"File {dest} already exists. Set exist_ok=True.")
            if entry.is_dir():
                shutil.copytree(entry, dest, dirs_exist_ok=True)
            else:
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(entry, dest)
        return str(Path(target_dir) / entries[0].name)

    # -- web services -----------------------------------------------------------------------

    def deploy(self, ws: Any, name: str, models: list[FakeModel], inference_config: Any, deployment_config: Any,
               overwrite: bool) -> FakeWebservice:
        self._record("deploy", name, list(models), inference_config, deployment_config, overwrite)
        if name in self.services and not overwrite:
            raise _sdk_error("WebserviceException", f"Service {name} already exists.")
        service = FakeWebservice(name, list(models), inference_config, deployment_config,
                                 tags=dict(deployment_config.tags or {}))
        self.services[name] = service
        return service

    def refresh_service(self, service: FakeWebservice) -> None:
        self._record("refresh_service", service.name)
        if service.state != "Transitioning":
            return
        if self.deployment_fails:
            service.state = "Failed"
            service.error = {"code": "AciDeploymentFailed",
                             "message": "Your container application crashed. init() raised an exception."}
            return
        service.state = "Healthy"
        host = f"{uuid.uuid4().hex[:8]}.westeurope.azurecontainer.io"
        service.scoring_uri = f"http://{host}/score"
        service.swagger_uri = f"http://{host}/swagger.json"

    def get_service(self, ws: Any, name: str) -> FakeWebservice | None:
        self._record("get_service", name)
        return self.services.get(name)

    def list_services(self, ws: Any) -> list[FakeWebservice]:
        self._record("list_services")
        return list(self.services.values())

    def service_keys(self, service: FakeWebservice) -> tuple[str, str]:
        self._record("service_keys", service.name)
        return service.keys[0], service.keys[1]

    def regen_key(self, service: FakeWebservice, which: str) -> None:
        self._record("regen_key", service.name, which)
        service.keys[0 if which == "Primary" else 1] = uuid.uuid4().hex

    def service_logs(self, service: FakeWebservice) -> str:
        self._record("service_logs", service.name)
        if service.state == "Failed":
            return "Starting gunicorn\nException in init(): model.pkl not found\nWorker exiting\n"
        return "Starting gunicorn\nUsers's init has completed successfully\nScoring timer is set to 60 seconds\n"

    def delete_service(self, service: FakeWebservice) -> None:
        self._record("delete_service", service.name)
        del self.services[service.name]
