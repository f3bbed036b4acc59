"""``azure.ai.ml.MLClient`` on the embedded workspace.

``MLClient.from_config(credential)`` reads config.json where azure-ai-ml looks for it (the
folder, ``.azureml/``, then the parents). A config.json the tutor wrote for an embedded
workspace names its folder and reopens it; with none, the workspace the tutor activated the SDK
for is used (``tutor python``, a job's process). The credential is accepted and never used:
the embedded workspace has no sign-in.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from azure.ai.ml._embedded import Subset

__all__ = ["MLClient"]


def _operations(name: str) -> Any:
    import importlib

    module, cls = {
        "workspaces": ("_workspace_operations", "WorkspaceOperations"),
        "compute": ("_compute_operations", "ComputeOperations"),
        "data": ("_data_operations", "DataOperations"),
        "datastores": ("_datastore_operations", "DatastoreOperations"),
        "environments": ("_environment_operations", "EnvironmentOperations"),
        "models": ("_model_operations", "ModelOperations"),
        "jobs": ("_job_operations", "JobOperations"),
        "online_endpoints": ("_online_endpoint_operations", "OnlineEndpointOperations"),
        "online_deployments": ("_online_deployment_operations", "OnlineDeploymentOperations"),
    }[name]
    return getattr(importlib.import_module(f"azure.ai.ml.operations.{module}"), cls)


class MLClient(Subset):
    """The client of one workspace: its compute, data, environments, jobs, models and endpoints."""

    def __init__(self, credential, subscription_id=None, resource_group_name=None, workspace_name=None,
                 registry_name=None, **kwargs):
        """A client of the workspace ``workspace_name`` (on Azure, with its subscription and group)."""
        from azure.ai.ml.exceptions import ValidationException

        backend = kwargs.pop("_backend", None)
        if backend is None:
            backend = _find_by_name(workspace_name)
        if registry_name is not None:
            raise ValidationException(
                message="Registries (registry_name=...) are not part of azure-ai-ml on the embedded workspace; "
                        "leave registry_name out.",
                no_personal_data_message="Registries are not supported on the embedded workspace.")
        self._backend = backend
        self._credential = credential
        self._subscription_id = subscription_id or "local"
        self._resource_group_name = resource_group_name or "local"
        self._workspace_name = workspace_name or backend.name
        self._ops: dict[str, Any] = {}

    @classmethod
    def from_config(cls, credential, *, path=None, file_name=None, **kwargs):
        """The client of the workspace named by the config.json found from ``path``."""
        from azure.ai.ml.exceptions import ValidationException

        from tutor.workspace.azure.config import embedded_folder, read_config

        start = Path("." if path is None else path).expanduser()
        found = _find_config(start, file_name)
        if found is None:
            root = _default_root()
            if root:
                return cls(credential, "local", "local", None, _backend=_backend_at(root))
            raise ValidationException(
                message="We could not find config.json in: . or in its parent directories. Please provide the "
                        "full path to config.json or pass the subscription_id, resource_group_name and "
                        "workspace_name to MLClient(...).",
                no_personal_data_message="config.json not found")
        try:
            config = read_config(found)
        except Exception as error:  # a TutorError naming the file and what is wrong with it
            raise ValidationException(message=str(getattr(error, "what", error)),
                                      no_personal_data_message="config.json unreadable") from None
        embedded = embedded_folder(config)
        if embedded is None:
            raise ValidationException(
                message=f"{found} names the Azure ML workspace '{config.get('workspace_name')}', but this Python "
                        "runs the embedded workspace's azure-ai-ml. Install azure-ai-ml "
                        "(pip install 'aml-tutor[azure]') and run without the embedded SDK (plain python).",
                no_personal_data_message="config.json names an Azure workspace")
        return cls(credential, config.get("subscription_id", "local"), config.get("resource_group", "local"),
                   config.get("workspace_name"), _backend=_backend_at(embedded, config.get("workspace_name")))

    # -- what it is ----------------------------------------------------------------------

    @property
    def subscription_id(self):
        return self._subscription_id

    @property
    def resource_group_name(self):
        return self._resource_group_name

    @property
    def workspace_name(self):
        return self._workspace_name

    def __repr__(self) -> str:
        return (f"MLClient(credential={type(self._credential).__name__}, subscription_id={self.subscription_id}, "
                f"resource_group_name={self.resource_group_name}, workspace_name={self.workspace_name})")

    # -- its operations ------------------------------------------------------------------

    def _get(self, name: str) -> Any:
        if name not in self._ops:
            self._ops[name] = _operations(name)(self)
        return self._ops[name]

    @property
    def workspaces(self):
        return self._get("workspaces")

    @property
    def compute(self):
        return self._get("compute")

    @property
    def data(self):
        return self._get("data")

    @property
    def datastores(self):
        return self._get("datastores")

    @property
    def environments(self):
        return self._get("environments")

    @property
    def models(self):
        return self._get("models")

    @property
    def jobs(self):
        return self._get("jobs")

    @property
    def online_endpoints(self):
        return self._get("online_endpoints")

    @property
    def online_deployments(self):
        return self._get("online_deployments")


def _find_config(start: Path, file_name: str | None) -> Path | None:
    """config.json (or ``file_name``) as azure-ai-ml finds it: ``start`` may be the file itself;
    else the folder, its ``.azureml/``, then each parent's."""
    name = file_name or "config.json"
    if start.is_file():
        return start
    for folder in [start.resolve(), *start.resolve().parents]:
        for candidate in (folder / name, folder / ".azureml" / name):
            if candidate.is_file():
                return candidate
    return None


def _default_root() -> str | None:
    from tutor.sdk import RUN_WORKSPACE_ENV, WORKSPACE_ENV

    return os.environ.get(WORKSPACE_ENV) or os.environ.get(RUN_WORKSPACE_ENV) or None


def _backend_at(root: str | os.PathLike[str], name: str | None = None) -> Any:
    # one backend per workspace folder in a process, shared with the v1 SDK
    from azureml.core.workspace import _backend_at as shared

    return shared(root, name)


def _find_by_name(name: str | None) -> Any:
    """The embedded workspace called ``name`` (as azureml's ``Workspace.get`` finds it)."""
    from azure.ai.ml.exceptions import ValidationException
    from azureml.core.workspace import _find_by_name as shared
    from azureml.exceptions import UserErrorException

    root = _default_root()
    if name is None and root:
        return _backend_at(root)
    try:
        return shared(name or "")
    except UserErrorException as error:
        raise ValidationException(message=str(error), no_personal_data_message="workspace not found") from None
