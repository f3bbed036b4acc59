"""Workspaces: where experiments, data, compute, runs, models and services live.

Step actions get a workspace from :func:`open_workspace` and use only the methods of the
:class:`~tutor.workspace.base.Workspace` protocol, so the same action works on the
embedded workspace (the default, no account needed) and on Azure ML.

Importing this package is cheap (no pandas, no backend): the CLI imports it at start-up.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tutor.errors import TutorError
from tutor.workspace.base import (
    ColumnProfile,
    ComputeStatus,
    ComputeTarget,
    DatasetProfile,
    DatasetRecord,
    Datastore,
    EnvironmentCheck,
    EnvironmentRecord,
    ExperimentRecord,
    MetricPoint,
    ModelRecord,
    ProvisioningState,
    RunMetrics,
    RunRecord,
    RunStatus,
    ScriptRunConfig,
    ServiceRecord,
    Workspace,
)

if TYPE_CHECKING:  # pragma: no cover - typing only
    from tutor.settings import Settings

__all__ = [
    "ColumnProfile", "ComputeStatus", "ComputeTarget", "DatasetProfile", "DatasetRecord", "Datastore",
    "EnvironmentCheck", "EnvironmentRecord", "ExperimentRecord", "MetricPoint", "ModelRecord",
    "ProvisioningState", "RunMetrics", "RunRecord", "RunStatus", "ScriptRunConfig", "ServiceRecord",
    "Workspace", "open_workspace", "workspace_name",
]


def workspace_name(username: str) -> str:
    """The embedded workspace of a learner is named ``<username>-ws``."""
    return f"{username}-ws"


def open_workspace(settings: "Settings", *, v2_fallback: bool = False) -> Workspace:
    """The learner's workspace: embedded for ``--workspace local``, else from a config.json.

    A config.json written by an embedded workspace (``write_config``) names its folder in
    ``embedded_path`` and reopens it; any other config names an Azure workspace, opened with
    azureml-core (SDK v1). With ``v2_fallback`` (commands that only list, call and delete
    services and compute: ``tutor cleanup``, ``tutor predict``), a Python without azureml-core
    uses the azure-ai-ml backend instead, where it is installed.
    """
    from tutor.workspace.local import LocalWorkspace

    if settings.workspace == "local":
        name = workspace_name(settings.username)
        return LocalWorkspace(settings.course_dir.workspace(name), name)

    config_path = Path(settings.workspace).expanduser()
    if config_path.is_dir():
        config_path = config_path / "config.json"
    if not config_path.is_file():
        raise TutorError(f"There is no workspace config file {config_path}.",
                         "Pass the path of a config.json (see write_config), or use --workspace local.")
    from tutor.workspace.azure.config import embedded_folder, read_config

    config = read_config(config_path)
    embedded = embedded_folder(config)
    if embedded is not None:
        return LocalWorkspace(embedded, config.get("workspace_name"), create=False)
    from tutor.workspace.azure import azure_problem, open_azure_workspace

    cache = settings.course_dir.root / ".tutor" / "azure"
    if v2_fallback and azure_problem() is not None:
        from tutor.workspace.azure_v2 import open_azure_v2_workspace, v2_problem

        if v2_problem() is None:
            return open_azure_v2_workspace(config, config_path=config_path, cache_root=cache)  # type: ignore[return-value]
    return open_azure_workspace(config_path, config, cache_root=cache)
