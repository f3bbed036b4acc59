"""The Workspace protocol: the only way step actions touch Azure ML concepts.

Names follow the azureml v1 SDK (``Experiment``, ``ComputeTarget``, ``Datastore.upload``,
``Dataset.Tabular.register``, ``Environment``, ``ScriptRunConfig``, ``Run.get_metrics``,
``Model.register``...) so that an Azure backend maps each method to one SDK call. Records
are plain dataclasses: a step action can put their fields into its evidence as they are,
and a second backend can fill them from SDK objects.

This module imports nothing heavy (no pandas), because the CLI imports it at start-up.
"""

from __future__ import annotations

import builtins  # "list" is a method name in the datastore classes
import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Literal, Protocol, Sequence, runtime_checkable

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas


class RunStatus(enum.StrEnum):
    """The lifecycle of a run, spelled as Azure ML spells it."""

    QUEUED = "Queued"
    PREPARING = "Preparing"
    RUNNING = "Running"
    COMPLETED = "Completed"
    FAILED = "Failed"
    CANCELED = "Canceled"

    @property
    def is_terminal(self) -> bool:
        return self in (RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELED)

    @property
    def is_active(self) -> bool:
        """Holding a compute slot (a process exists or is being started)."""
        return self in (RunStatus.PREPARING, RunStatus.RUNNING)


def run_ending(status: str) -> RunStatus:
    """The terminal status ``status`` names (Completed, Failed, Canceled); anything else is refused."""
    final = next((s for s in RunStatus if s.value == status and s.is_terminal), None)
    if final is None:
        from tutor.errors import TutorError

        raise TutorError(f"A run ends Completed, Failed or Canceled, not {status}.", "Pass one of those.")
    return final


class ProvisioningState(enum.StrEnum):
    """A compute target's state, as Azure's ``provisioning_state`` names it."""

    CREATING = "Creating"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"


# --------------------------------------------------------------------------- compute


@dataclass
class ComputeTarget:
    """A compute cluster (``AmlCompute``), a compute instance (``ComputeInstance``) or an AKS cluster.

    ``type`` is Azure's compute type: an AKS cluster (``AKS``) hosts deployed services, not runs.

    ``slots`` is how many runs it executes at once here: for a cluster
    min(max_nodes, CPU count), because every node is a process on this machine.
    ``properties`` holds what a compute instance found out about the machine.
    """

    name: str
    type: Literal["AmlCompute", "ComputeInstance", "AKS"]
    vm_size: str
    provisioning_state: ProvisioningState
    min_nodes: int = 0
    max_nodes: int = 1
    idle_seconds_before_scaledown: int = 0
    slots: int = 1
    created_at: str = ""
    state_message: str = ""
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass
class ComputeStatus:
    """What a compute target is doing now (Azure: ``get_status()``)."""

    name: str
    provisioning_state: ProvisioningState
    current_node_count: int
    running_runs: list[str]
    queued_runs: list[str]


StateCallback = Callable[[str, str], None]
"""Called with (state, message) as a compute target's provisioning moves on."""


# --------------------------------------------------------------------------- datasets


@dataclass
class ColumnProfile:
    """One column of a dataset profile, like the studio's "Profile" tab.

    ``kind`` is one of integer, decimal, boolean, string, datetime, empty. For numbers and
    dates ``histogram`` holds ~10 equal-width bins (``bin_edges`` has one more entry than
    ``histogram``); for text and booleans it holds the counts of the most common values,
    named in ``bin_labels``.
    """

    name: str
    kind: str
    count: int
    missing: int
    distinct: int
    min: Any = None
    max: Any = None
    mean: Any = None
    std: float | None = None
    histogram: list[int] = field(default_factory=list)
    bin_edges: list[Any] = field(default_factory=list)
    bin_labels: list[str] = field(default_factory=list)


@dataclass
class DatasetProfile:
    """The profile computed when a dataset version is registered."""

    name: str
    version: int
    row_count: int
    columns: list[ColumnProfile]

    def column(self, name: str) -> ColumnProfile:
        for column in self.columns:
            if column.name == name:
                return column
        from tutor.errors import TutorError

        raise TutorError(
            f"Dataset '{self.name}' version {self.version} has no column '{name}'.",
            "Its columns are: " + ", ".join(c.name for c in self.columns) + ".",
        )


@dataclass
class DatasetRecord:
    """One registered version of a tabular dataset (Azure: ``TabularDataset``)."""

    name: str
    version: int
    file_format: Literal["csv", "parquet"]
    datastore_paths: list[str]
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    row_count: int = 0
    column_count: int = 0
    created_at: str = ""

    def __post_init__(self) -> None:
        # Not a dataclass field: asdict() of a record stays JSON-safe for step evidence.
        self._loader: Callable[[], "pandas.DataFrame"] | None = None

    def bind_loader(self, loader: Callable[[], "pandas.DataFrame"]) -> "DatasetRecord":
        """Attach how the backend reads the data (done by the backend that made the record)."""
        self._loader = loader
        return self

    def to_pandas_dataframe(self) -> "pandas.DataFrame":
        """Load the dataset's files into one frame (read now, like Azure's lazy datasets)."""
        if self._loader is None:
            raise RuntimeError("this DatasetRecord was built without a loader")
        return self._loader()


# --------------------------------------------------------------------------- environments


@dataclass
class EnvironmentRecord:
    """A registered environment version: what a run's Python needs."""

    name: str
    version: int
    pip_packages: list[str] = field(default_factory=list)
    conda_packages: list[str] = field(default_factory=list)
    python_version: str | None = None
    created_at: str = ""


@dataclass
class EnvironmentCheck:
    """Whether this machine can run an environment, and what to install if not."""

    name: str
    version: int
    missing: list[str] = field(default_factory=list)
    wrong_version: list[str] = field(default_factory=list)
    python_ok: bool = True
    python_found: str = ""
    # Azure-only packages (azureml-*) that the embedded workspace stands in for.
    provided_by_workspace: list[str] = field(default_factory=list)
    # The installed version of every package that was found, by package name.
    installed: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.python_ok and not self.missing and not self.wrong_version

    @property
    def shortfall(self) -> str:
        """What is missing, as one sentence for an error message; "" when nothing is."""
        needed = self.missing + self.wrong_version
        if not needed:
            return ""
        return (f"The environment '{self.name}' needs packages this machine lacks or has in another version: "
                f"{', '.join(needed)}.")

    @property
    def install_command(self) -> str:
        """A pip command installing what is missing, or "" when nothing is."""
        needed = self.missing + self.wrong_version
        if not needed:
            return ""
        return "python -m pip install " + " ".join(f'"{req}"' for req in needed)


# --------------------------------------------------------------------------- runs


@dataclass
class ExperimentRecord:
    name: str
    created_at: str = ""


@dataclass
class ScriptRunConfig:
    """What to run and where (Azure: ``ScriptRunConfig``).

    ``source_directory`` is snapshotted at submit time, so editing the script afterwards
    does not change a run that is queued. ``compute_target`` is a compute name (or its
    record), or "local" for this machine without a cluster. ``environment`` is an
    environment name (its latest version), ``"name:version"``, or its record.
    """

    source_directory: str | Path
    script: str
    arguments: Sequence[Any] = ()
    environment: "str | EnvironmentRecord | None" = None
    compute_target: "str | ComputeTarget" = "local"
    tags: dict[str, str] = field(default_factory=dict)
    display_name: str | None = None


@dataclass
class RunRecord:
    """A run as last seen. ``error`` says why a run Failed or was Canceled."""

    id: str
    experiment: str
    status: RunStatus
    compute_target: str
    script: str
    arguments: list[str] = field(default_factory=list)
    environment: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    display_name: str | None = None
    submitted_at: str = ""
    started_at: str | None = None
    ended_at: str | None = None
    exit_code: int | None = None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    run_dir: str = ""
    # The parent run of a child run (an AutoML iteration), else None.
    parent_id: str | None = None

    @property
    def outputs_dir(self) -> Path:
        return Path(self.run_dir) / "outputs"

    @property
    def duration_seconds(self) -> float | None:
        """Seconds from start to end (or to now while running); None before it starts."""
        from datetime import datetime, timezone

        if not self.started_at:
            return None
        start = datetime.fromisoformat(self.started_at)
        end = datetime.fromisoformat(self.ended_at) if self.ended_at else datetime.now(timezone.utc)
        return (end - start).total_seconds()


@dataclass
class MetricPoint:
    """One logged value of a metric."""

    value: Any
    time: str
    step: int


class RunMetrics(Mapping[str, Any]):
    """A run's metrics: maps each name to its last value; ``history`` has every value.

    Azure's ``run.get_metrics()`` gives the last value of a scalar; a metric logged more
    than once (a loss per epoch) keeps its history here in order.
    """

    def __init__(self, history: dict[str, list[MetricPoint]]) -> None:
        self.history = history

    def __getitem__(self, name: str) -> Any:
        try:
            return self.history[name][-1].value
        except KeyError:
            from tutor.errors import TutorError

            raise TutorError(
                f"The run logged no metric named '{name}'.",
                "Metrics it logged: " + (", ".join(sorted(self.history)) or "none") + ".",
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self.history

    def get(self, name: str, default: Any = None) -> Any:
        return self[name] if name in self.history else default

    def __iter__(self) -> Iterator[str]:
        return iter(self.history)

    def __len__(self) -> int:
        return len(self.history)

    def __repr__(self) -> str:
        return f"RunMetrics({dict(self)!r})"


LogCallback = Callable[[str], None]


# --------------------------------------------------------------------------- models, services


@dataclass
class ModelRecord:
    """A registered model version. ``path`` is the stored copy (a folder)."""

    name: str
    version: int
    file_name: str
    path: str
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    run_id: str | None = None
    experiment: str | None = None
    size_bytes: int = 0
    created_at: str = ""

    @property
    def id(self) -> str:
        """Azure's model id: ``name:version``."""
        return f"{self.name}:{self.version}"

    @property
    def model_file(self) -> Path:
        return Path(self.path) / self.file_name


@dataclass
class ServiceRecord:
    """A deployed web service as recorded (the HTTP server lives elsewhere)."""

    name: str
    kind: str
    state: str
    scoring_uri: str | None = None
    port: int | None = None
    pid: int | None = None
    pid_token: str | None = None
    models: list[str] = field(default_factory=list)
    properties: dict[str, Any] = field(default_factory=dict)
    service_dir: str = ""
    created_at: str = ""
    updated_at: str = ""


# --------------------------------------------------------------------------- protocols


@runtime_checkable
class Datastore(Protocol):
    """A workspace's blob store (Azure: ``ws.get_default_datastore()``)."""

    name: str

    def upload(self, src_dir: str | Path, target_path: str = "", overwrite: bool = False) -> list[str]: ...

    def upload_files(self, files: Sequence[str | Path], target_path: str = "", overwrite: bool = False) -> list[str]: ...

    def list(self, prefix: str = "") -> list[str]: ...

    def download(self, path: str, dest: str | Path, overwrite: bool = False) -> builtins.list[Path]: ...


@runtime_checkable
class Workspace(Protocol):
    """Everything a step action may do with a workspace. Both backends implement it."""

    name: str

    # Read-only: each backend fixes its own kind (a Literal of one value), which a
    # settable attribute of the wider Literal would refuse.
    @property
    def kind(self) -> Literal["local", "azure"]: ...

    # workspace
    def connect(self, on_device_code: Callable[[str], None] | None = None) -> object: ...
    def write_config(self, path: str | Path) -> Path: ...
    def get_details(self) -> dict[str, Any]: ...

    # compute
    def create_compute_instance(self, name: str, vm_size: str = ..., on_state: StateCallback | None = None) -> ComputeTarget: ...
    def get_compute_instance(self, name: str | None = None) -> ComputeTarget | None: ...
    def get_or_create_cluster(self, name: str, vm_size: str = ..., min_nodes: int = 0, max_nodes: int = ...,
                              idle_seconds_before_scaledown: int = ...) -> ComputeTarget: ...
    def wait_for_compute(self, name: str, on_state: StateCallback | None = None,
                         timeout_seconds: float = ...) -> ComputeTarget: ...
    def get_compute(self, name: str) -> ComputeTarget: ...
    def get_compute_status(self, name: str) -> ComputeStatus: ...
    def list_compute(self) -> list[ComputeTarget]: ...
    def delete_compute(self, name: str) -> None: ...

    # data
    @property
    def default_datastore(self) -> Datastore: ...
    def register_tabular_dataset(self, name: str, datastore_paths: str | Sequence[str], *, description: str = "",
                                 tags: Mapping[str, Any] | None = None, create_new_version: bool = True,
                                 file_format: Literal["csv", "parquet"] = "csv") -> DatasetRecord: ...
    def get_dataset(self, name: str, version: int | Literal["latest"] = "latest") -> DatasetRecord: ...
    def list_dataset_versions(self, name: str) -> list[DatasetRecord]: ...
    def list_datasets(self) -> list[DatasetRecord]: ...
    def dataset_profile(self, name: str, version: int | Literal["latest"] = "latest") -> DatasetProfile: ...

    # environments
    def register_environment(self, name: str, pip_packages: Sequence[str], conda_packages: Sequence[str] = (),
                             python_version: str | None = None) -> EnvironmentRecord: ...
    def get_environment(self, name: str, version: int | Literal["latest"] = "latest") -> EnvironmentRecord: ...
    def list_environments(self) -> list[EnvironmentRecord]: ...
    def check_environment(self, name: str, version: int | Literal["latest"] = "latest") -> EnvironmentCheck: ...

    # experiments and runs
    def experiment(self, name: str) -> ExperimentRecord: ...
    def list_experiments(self) -> list[ExperimentRecord]: ...
    def submit(self, experiment: str | ExperimentRecord, config: ScriptRunConfig) -> RunRecord: ...
    def get_run(self, run_id: str) -> RunRecord: ...
    def list_runs(self, experiment: str | None = None) -> list[RunRecord]: ...
    def get_metrics(self, run_id: str) -> RunMetrics: ...
    def wait_for_completion(self, run_id: str, on_log_line: LogCallback | None = None,
                            timeout: float | None = None, raise_on_error: bool = False) -> RunRecord: ...
    def wait_for_runs(self, run_ids: Sequence[str], on_status: Callable[[list[RunRecord]], None] | None = None,
                      timeout: float | None = None) -> list[RunRecord]: ...
    def cancel(self, run_id: str) -> RunRecord: ...
    def get_log_tail(self, run_id: str, lines: int = 40) -> str: ...

    # runs logged by this process (Azure's experiment.start_logging(), run.child_run()):
    # an AutoML search records itself this way
    def start_logging(self, experiment: str, *, display_name: str | None = None,
                      tags: Mapping[str, Any] | None = None, parent_id: str | None = None) -> RunRecord: ...
    def record_child_run(self, parent_id: str, *, display_name: str, status: str = "Completed",
                         metrics: Mapping[str, Any] | None = None, tags: Mapping[str, Any] | None = None,
                         started_at: str | None = None, ended_at: str | None = None,
                         error: str | None = None) -> RunRecord: ...
    def get_children(self, run_id: str) -> list[RunRecord]: ...
    def log_metrics(self, run_id: str, metrics: Mapping[str, Any]) -> None: ...
    def set_run_tags(self, run_id: str, tags: Mapping[str, Any]) -> None: ...
    def upload_run_file(self, run_id: str, name: str, source: str | Path) -> Path: ...
    def complete_run(self, run_id: str, status: str = "Completed", error: str | None = None) -> RunRecord: ...

    # models
    def register_model(self, name: str, model_path: str | Path, *, run_id: str | None = None,
                       tags: Mapping[str, Any] | None = None, description: str = "") -> ModelRecord: ...
    def get_model(self, name: str, version: int | Literal["latest"] = "latest") -> ModelRecord: ...
    def list_models(self, name: str | None = None, latest: bool = False) -> list[ModelRecord]: ...
    def download_model(self, name: str, version: int | Literal["latest"], dest: str | Path,
                       exist_ok: bool = False) -> Path: ...

    # deployed services (Model.deploy, Webservice)
    def deploy_service(self, name: str, model_ids: Sequence[str], entry_script: str | Path, *,
                       environment: str | None = None, kind: str = "ACI", cpu_cores: float = 1.0,
                       memory_gb: float = 0.5, replicas: int = 1, auth_enabled: bool = True,
                       tags: Mapping[str, Any] | None = None, description: str = "",
                       overwrite: bool = False) -> ServiceRecord: ...
    def wait_for_service(self, name: str, on_log_line: LogCallback | None = None,
                         timeout: float = ...) -> ServiceRecord: ...
    def service_keys(self, name: str) -> tuple[str, str]: ...
    def regen_service_key(self, name: str, which: str) -> tuple[str, str]: ...
    def service_logs(self, name: str, tail: int | None = None) -> str: ...
    def delete_service(self, name: str) -> None: ...

    # service records (what the deployment code keeps about a service)
    def record_service(self, name: str, *, kind: str, state: str, scoring_uri: str | None = None,
                       port: int | None = None, pid: int | None = None, models: Sequence[str] = (),
                       properties: Mapping[str, Any] | None = None, replace: bool = False) -> ServiceRecord: ...
    def update_service(self, name: str, /, **fields: Any) -> ServiceRecord: ...
    def get_service(self, name: str) -> ServiceRecord: ...
    def list_services(self) -> list[ServiceRecord]: ...
    def delete_service_record(self, name: str, remove_files: bool = True) -> None: ...
