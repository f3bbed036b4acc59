"""The service boundary: every azureml-core call that reaches Azure, one method each.

:class:`~tutor.workspace.azure.workspace.AzureWorkspace` builds the SDK's real
configuration objects (``ScriptRunConfig``, ``AmlCompute.provisioning_configuration``,
``Environment`` with ``CondaDependencies``, ``AciWebservice.deploy_configuration``,
``InferenceConfig``) and hands them to this class, which passes them to the SDK call
that talks to the service. The tests replace this class with an in-memory Azure (see
``tests/azure/fake_service.py``) and assert on what the configuration objects hold.

Methods return the SDK's objects (``Run``, ``AmlCompute``, ``Model``, ``Webservice``...);
the workspace reads only the attributes listed in each docstring. A lookup of something
that does not exist returns None instead of raising. Every call runs inside
:func:`~tutor.workspace.azure.quiet.quiet`: nothing the SDK prints reaches the screen.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from tutor.workspace.azure.errors import is_not_found
from tutor.workspace.azure.quiet import quiet

F = TypeVar("F", bound=Callable[..., Any])


def _quiet(function: F) -> F:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with quiet():
            return function(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _none_if_missing(function: F) -> F:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the SDK's various "not found" types
            if is_not_found(exc):
                return None
            raise

    return wrapper  # type: ignore[return-value]


class AzureService:
    """azureml-core, reached for real (needs the ``azure`` extra and a network)."""

    # -- workspace ------------------------------------------------------------------

    @_quiet
    def connect(self, names: Mapping[str, str], auth: Any) -> Any:
        """``Workspace(subscription_id, resource_group, workspace_name, auth)``; reads name, location."""
        from azureml.core import Workspace

        return Workspace(names["subscription_id"], names["resource_group"], names["workspace_name"], auth=auth)

    @_quiet
    def workspace_details(self, ws: Any) -> dict[str, Any]:
        return dict(ws.get_details())

    # -- compute ----------------------------------------------------------------------
    # A target: name, type, vm_size, provisioning_state, provisioning_errors,
    # scale_settings.{minimum,maximum}_node_count / idle_seconds_before_scaledown (AmlCompute),
    # applications (ComputeInstance), created_on.

    @_quiet
    @_none_if_missing
    def get_compute(self, ws: Any, name: str) -> Any:
        from azureml.core.compute import ComputeTarget

        return ComputeTarget(workspace=ws, name=name)

    @_quiet
    def list_compute(self, ws: Any) -> list[Any]:
        from azureml.core.compute import ComputeTarget

        return list(ComputeTarget.list(ws))

    @_quiet
    def create_compute(self, ws: Any, name: str, provisioning_config: Any) -> Any:
        from azureml.core.compute import ComputeTarget

        return ComputeTarget.create(ws, name, provisioning_config)

    @_quiet
    def supported_vm_sizes(self, ws: Any) -> list[dict[str, Any]]:
        """``AmlCompute.supported_vmsizes(ws)``: dicts with name, vCPUs, memoryGB."""
        from azureml.core.compute import AmlCompute

        return list(AmlCompute.supported_vmsizes(ws))

    @_quiet
    def refresh_compute(self, target: Any) -> None:
        target.refresh_state()

    @_quiet
    def compute_status(self, target: Any) -> Any:
        """``target.get_status()``: current_node_count (AmlCompute), state (ComputeInstance)."""
        return target.get_status()

    @_quiet
    def active_runs(self, target: Any) -> list[Any]:
        """Runs queued or executing on a cluster (``AmlCompute.get_active_runs``)."""
        if not hasattr(target, "get_active_runs"):
            return []
        return list(target.get_active_runs())

    @_quiet
    def delete_compute(self, target: Any) -> None:
        target.delete()

    # -- datastore ----------------------------------------------------------------------

    @_quiet
    def default_datastore(self, ws: Any) -> Any:
        return ws.get_default_datastore()

    @_quiet
    def list_blobs(self, datastore: Any, prefix: str = "") -> list[str]:
        container = datastore.blob_service.get_container_client(container=datastore.container_name)
        return sorted(blob.name for blob in container.list_blobs(name_starts_with=prefix or None))

    @_quiet
    def upload_files(self, datastore: Any, files: Sequence[str], relative_root: str, target_path: str,
                     overwrite: bool) -> None:
        datastore.upload_files(files=list(files), relative_root=relative_root, target_path=target_path or None,
                               overwrite=overwrite, show_progress=False)

    @_quiet
    def download(self, datastore: Any, target_path: str, prefix: str, overwrite: bool) -> int:
        return int(datastore.download(target_path=target_path, prefix=prefix, overwrite=overwrite,
                                      show_progress=False) or 0)

    # -- datasets -----------------------------------------------------------------------
    # A dataset: name, version, description, tags, to_pandas_dataframe().

    @_quiet
    def tabular_dataset(self, datastore: Any, paths: Sequence[str], file_format: str) -> Any:
        """``Dataset.Tabular.from_delimited_files`` / ``from_parquet_files`` on (datastore, path) pairs."""
        from azureml.core import Dataset

        pairs = [(datastore, path) for path in paths]
        if file_format == "parquet":
            return Dataset.Tabular.from_parquet_files(path=pairs)
        return Dataset.Tabular.from_delimited_files(path=pairs)

    @_quiet
    def register_dataset(self, ws: Any, dataset: Any, name: str, description: str, tags: dict[str, str],
                         create_new_version: bool) -> Any:
        return dataset.register(workspace=ws, name=name, description=description, tags=tags,
                                create_new_version=create_new_version)

    @_quiet
    @_none_if_missing
    def get_dataset(self, ws: Any, name: str, version: int | str = "latest") -> Any:
        from azureml.core import Dataset

        return Dataset.get_by_name(ws, name, version=version)

    @_quiet
    def list_datasets(self, ws: Any) -> dict[str, Any]:
        """Name -> latest version (``Dataset.get_all``)."""
        from azureml.core import Dataset

        return dict(Dataset.get_all(ws))

    @_quiet
    def dataset_frame(self, dataset: Any) -> Any:
        return dataset.to_pandas_dataframe()

    # -- environments ---------------------------------------------------------------------
    # An environment: name, version, python.conda_dependencies (pip_packages, conda_packages,
    # get_python_version()).

    @_quiet
    def register_environment(self, ws: Any, environment: Any) -> Any:
        return environment.register(ws)

    @_quiet
    @_none_if_missing
    def get_environment(self, ws: Any, name: str, version: int | None = None) -> Any:
        from azureml.core import Environment

        return Environment.get(ws, name, version=None if version is None else str(version))

    @_quiet
    def list_environments(self, ws: Any) -> dict[str, Any]:
        from azureml.core import Environment

        return dict(Environment.list(ws))

    # -- experiments and runs ----------------------------------------------------------------
    # A run: id, experiment.name, get_tags(), get_details(): runId, target, status, startTimeUtc
    # and endTimeUtc (each absent until the run starts, ends), properties, runDefinition, error,
    # warnings, logFiles, submittedBy. get_details() holds neither the run's display name nor when
    # it was submitted: run_header gives those.

    @_quiet
    def experiment(self, ws: Any, name: str) -> Any:
        from azureml.core import Experiment

        return Experiment(ws, name)

    @_quiet
    def list_experiments(self, ws: Any, name: str | None = None) -> list[Any]:
        from azureml.core import Experiment

        return list(Experiment.list(ws, experiment_name=name))

    @_quiet
    def submit(self, experiment: Any, config: Any, tags: dict[str, str]) -> Any:
        """``experiment.submit(ScriptRunConfig, tags=...)``: snapshots the source folder and queues the run."""
        return experiment.submit(config, tags=tags or None)

    @_quiet
    @_none_if_missing
    def get_run(self, ws: Any, run_id: str) -> Any:
        return ws.get_run(run_id)

    @_quiet
    def list_runs(self, experiment: Any) -> list[Any]:
        return list(experiment.get_runs())

    @_quiet
    def run_details(self, run: Any) -> dict[str, Any]:
        """``run.get_details()``, as the SDK gives it."""
        return dict(run.get_details())

    @_quiet
    def run_header(self, run: Any) -> dict[str, str | None]:
        """What ``get_details()`` lacks: ``display_name`` (``run.display_name``), ``created_utc``,
        when the run was submitted (the run record's ``created_utc``; a queued run has no
        ``startTimeUtc`` yet), and ``parent_run_id`` (a child run's parent)."""
        record = run._run_dto
        created = record.get("created_utc") if isinstance(record, dict) else None
        parent = record.get("parent_run_id") if isinstance(record, dict) else None
        return {"display_name": run.display_name or None, "created_utc": str(created) if created else None,
                "parent_run_id": str(parent) if parent else None}

    @_quiet
    def run_details_with_logs(self, run: Any) -> dict[str, Any]:
        """``get_details()`` plus the text so far of every log file (``logFiles``: name -> text)."""
        details = dict(run.get_details_with_logs())
        details["logFiles"] = dict(details.get("logFiles") or {})
        return details

    @_quiet
    def run_status(self, run: Any) -> str:
        return str(run.get_status())

    @_quiet
    def run_metrics(self, run: Any) -> dict[str, Any]:
        return dict(run.get_metrics())

    @_quiet
    def run_tags(self, run: Any) -> dict[str, str]:
        return dict(run.get_tags())

    @_quiet
    def run_files(self, run: Any) -> list[str]:
        return list(run.get_file_names())

    @_quiet
    def download_run_files(self, run: Any, prefix: str, dest: str) -> None:
        run.download_files(prefix=prefix, output_directory=dest, append_prefix=True)

    @_quiet
    def cancel_run(self, run: Any) -> None:
        run.cancel()

    @_quiet
    def set_display_name(self, run: Any, display_name: str) -> None:
        run.display_name = display_name

    # -- runs logged by this process -------------------------------------------------------

    @_quiet
    def start_logging(self, experiment: Any) -> Any:
        """``experiment.start_logging(...)``: an interactive run, with no snapshot of the current
        folder and no ``./outputs`` folder uploaded when it ends (files go up with upload_run_file)."""
        return experiment.start_logging(snapshot_directory=None, outputs=False)

    @_quiet
    def child_run(self, parent: Any) -> Any:
        """``parent.child_run()``: a started run under ``parent``, in the same experiment."""
        return parent.child_run()

    @_quiet
    def get_children(self, run: Any) -> list[Any]:
        """``run.get_children()``: the runs directly under ``run`` (an AutoML parent's iterations)."""
        return list(run.get_children())

    @_quiet
    def log_metrics(self, run: Any, metrics: Mapping[str, Any]) -> None:
        """``run.log(name, value)`` per metric (``run.log_list`` for a list), then ``run.flush()``:
        the SDK sends metrics in the background, and a reader right after must see them."""
        for name, value in metrics.items():
            if isinstance(value, (list, tuple)):
                run.log_list(name, list(value))
            else:
                run.log(name, value)
        run.flush()

    @_quiet
    def set_run_tags(self, run: Any, tags: dict[str, str]) -> None:
        run.set_tags(tags)

    @_quiet
    def upload_run_file(self, run: Any, name: str, path: str) -> None:
        """``run.upload_file(name, path)``: ``name`` is the file's path in the run ("outputs/model.pkl")."""
        run.upload_file(name, path)

    @_quiet
    def complete_run(self, run: Any) -> None:
        run.complete()

    @_quiet
    def fail_run(self, run: Any, error: str) -> None:
        run.fail(error_details=error)

    # -- models --------------------------------------------------------------------------
    # A model: name, version, run_id, experiment_name, tags, description, created_time.

    @_quiet
    def register_run_model(self, run: Any, name: str, path: str, tags: dict[str, str], description: str) -> Any:
        return run.register_model(model_name=name, model_path=path, tags=tags, description=description or None)

    @_quiet
    def register_model(self, ws: Any, path: str, name: str, tags: dict[str, str], description: str) -> Any:
        from azureml.core.model import Model

        return Model.register(workspace=ws, model_path=path, model_name=name, tags=tags,
                              description=description or None)

    @_quiet
    @_none_if_missing
    def get_model(self, ws: Any, name: str, version: int | None = None) -> Any:
        from azureml.core.model import Model

        return Model(ws, name=name, version=version)

    @_quiet
    def list_models(self, ws: Any, name: str | None = None, latest: bool = False) -> list[Any]:
        from azureml.core.model import Model

        return list(Model.list(ws, name=name, latest=latest))

    @_quiet
    def download_model(self, model: Any, target_dir: str, exist_ok: bool) -> str:
        return str(model.download(target_dir=target_dir, exist_ok=exist_ok))

    # -- web services -----------------------------------------------------------------------
    # A service: name, state, scoring_uri, swagger_uri, compute_type, tags, models, created_time,
    # description, error (when Failed).

    @_quiet
    def deploy(self, ws: Any, name: str, models: Sequence[Any], inference_config: Any, deployment_config: Any,
               overwrite: bool) -> Any:
        from azureml.core.model import Model

        return Model.deploy(ws, name, list(models), inference_config=inference_config,
                            deployment_config=deployment_config, overwrite=overwrite, show_output=False)

    @_quiet
    def refresh_service(self, service: Any) -> None:
        """``update_deployment_state()``: polled instead of ``wait_for_deployment``, which prints."""
        service.update_deployment_state()

    @_quiet
    @_none_if_missing
    def get_service(self, ws: Any, name: str) -> Any:
        from azureml.core.webservice import Webservice

        return Webservice(ws, name)

    @_quiet
    def list_services(self, ws: Any) -> list[Any]:
        from azureml.core.webservice import Webservice

        return list(Webservice.list(ws))

    @_quiet
    def service_keys(self, service: Any) -> tuple[str, str]:
        primary, secondary = service.get_keys()
        return primary, secondary

    @_quiet
    def regen_key(self, service: Any, which: str) -> None:
        service.regen_key(which)

    @_quiet
    def service_logs(self, service: Any) -> str:
        return str(service.get_logs() or "")

    @_quiet
    def delete_service(self, service: Any) -> None:
        service.delete()
