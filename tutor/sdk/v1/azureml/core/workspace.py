"""``azureml.core.Workspace`` on the embedded workspace.

``Workspace.from_config()`` reads config.json exactly where azureml looks for it
(``.azureml/``, ``aml_config/``, then the folder, in the start folder and its parents). A
config.json written by an embedded workspace names its folder (``embedded_path``) and
reopens it; with no config.json, the workspace the tutor activated the SDK for is used
(``tutor python``, a run's process). The object's collections (``compute_targets``,
``datasets``, ``models``...) are read from the workspace each time, as on Azure.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from azureml._embedded import Subset, translate
from azureml.exceptions import UserErrorException, WorkspaceException

__all__ = ["Workspace"]

_OPEN: dict[str, Any] = {}  # one backend per workspace folder in a process


def _backend_at(root: str | os.PathLike[str], name: str | None = None) -> Any:
    from tutor.workspace.local import LocalWorkspace

    key = str(Path(root).expanduser().resolve())
    if key not in _OPEN:
        with translate(UserErrorException):
            _OPEN[key] = LocalWorkspace(key, name, create=False)
    return _OPEN[key]


def _default_root() -> str | None:
    from tutor.sdk import RUN_WORKSPACE_ENV, WORKSPACE_ENV

    return os.environ.get(WORKSPACE_ENV) or os.environ.get(RUN_WORKSPACE_ENV) or None


class Workspace(Subset):
    """A workspace: experiments, compute, data, environments, models and services."""

    DEFAULT_CPU_CLUSTER_NAME = "cpu-cluster"

    def __init__(self, subscription_id, resource_group, workspace_name, auth=None, _location=None,
                 _disable_service_check=False, _workspace_id=None, sku='basic', tags=None, _cloud='AzureCloud'):
        """Open an existing workspace by its names (on Azure, the three ARM names)."""
        backend = getattr(self, "_pending_backend", None)
        if backend is None:
            backend = _find_by_name(workspace_name)
        self._backend = backend
        self._subscription_id = subscription_id
        self._resource_group = resource_group
        self._auth = auth
        self._sku = sku
        self._tags = dict(tags or {})

    @classmethod
    def _wrap(cls, backend: Any, subscription_id: str = "local", resource_group: str = "local") -> "Workspace":
        ws = cls.__new__(cls)
        ws._pending_backend = backend
        cls.__init__(ws, subscription_id, resource_group, backend.name)
        del ws._pending_backend
        return ws

    # -- getting one -------------------------------------------------------------------

    @staticmethod
    def from_config(path=None, auth=None, _logger=None, _file_name=None):
        """The workspace named by the config.json found from ``path`` (default: this folder)."""
        from tutor.workspace.azure.config import embedded_folder, find_config, read_config

        start = Path("." if path is None else path).expanduser()
        found = find_config(start) if _file_name is None else _find_named(start, _file_name)
        if found is None:
            root = _default_root()
            if root:
                return Workspace._wrap(_backend_at(root))
            raise UserErrorException(
                f"The workspace configuration file config.json, could not be found in {start.resolve()} or its "
                "parent directories. Please check whether the workspace configuration file exists, or provide "
                "the full path to the configuration file as an argument. You can download a configuration "
                "file for your workspace, via http://ml.azure.com and clicking on the name of your "
                "workspace in the right top.")
        with translate(UserErrorException):
            config = read_config(found)
        embedded = embedded_folder(config)
        if embedded is None:
            raise UserErrorException(
                f"{found} names the Azure ML workspace '{config.get('workspace_name')}', but this Python runs the "
                "embedded workspace's azureml SDK. Install azureml-core (pip install 'aml-tutor[azure]') and run "
                "without the embedded SDK (plain python, or tutor python --workspace " + str(found) + ").")
        return Workspace._wrap(_backend_at(embedded, config.get("workspace_name")),
                               config.get("subscription_id", "local"), config.get("resource_group", "local"))

    @staticmethod
    def get(name, auth=None, subscription_id=None, resource_group=None, location=None, cloud='AzureCloud', id=None):
        """The workspace called ``name``."""
        return Workspace._wrap(_find_by_name(name), subscription_id or "local", resource_group or "local")

    # -- what it is ----------------------------------------------------------------------

    @property
    def name(self):
        return self._backend.name

    @property
    def subscription_id(self):
        return self._subscription_id

    @property
    def resource_group(self):
        return self._resource_group

    @property
    def location(self):
        return "local"

    @property
    def sku(self):
        return self._sku

    @property
    def tags(self):
        return dict(self._tags)

    def get_details(self):
        """The workspace's details, as a dict."""
        details = self._backend.get_details()
        return {
            "id": f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}/providers/"
                  f"Microsoft.MachineLearningServices/workspaces/{self.name}",
            "name": self.name, "location": self.location, "type": "Microsoft.MachineLearningServices/workspaces",
            "tags": self.tags, "sku": self.sku, "workspaceid": details.get("workspace_dir", ""),
            "description": "", "friendlyName": self.name, "creationTime": details.get("created_at", ""),
        }

    def write_config(self, path=None, file_name=None):
        """Write config.json into ``<path>/.azureml/`` (``path`` defaults to this folder)."""
        folder = Path("." if path is None else path).expanduser() / ".azureml"
        name = "config.json" if file_name is None else (file_name if file_name.endswith(".json")
                                                        else f"{file_name}.json")
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise UserErrorException(f"Could not write the config file to: {folder}\n{error}") from None
        target = folder / name
        written = self._backend.write_config(target)
        data = json.loads(written.read_text())
        data["subscription_id"], data["resource_group"] = self.subscription_id, self.resource_group
        written.write_text(json.dumps(data, indent=2) + "\n")

    # -- its collections -----------------------------------------------------------------

    @property
    def compute_targets(self):
        """{name: ComputeTarget} of every compute target."""
        from azureml.core.compute import ComputeTarget

        return {t.name: ComputeTarget._from_record(self, t) for t in self._backend.list_compute()}

    @property
    def datastores(self):
        store = self.get_default_datastore()
        return {store.name: store}

    def get_default_datastore(self):
        """The workspace's default blob datastore."""
        from azureml.data.azure_storage_datastore import AzureBlobDatastore

        return AzureBlobDatastore._from_backend(self, self._backend.default_datastore)

    @property
    def datasets(self):
        """{name: TabularDataset} of every registered dataset (its latest version)."""
        from azureml.data.tabular_dataset import TabularDataset

        return {r.name: TabularDataset._from_record(self, r) for r in self._backend.list_datasets()}

    @property
    def environments(self):
        """{name: Environment} of every registered environment (its latest version)."""
        from azureml.core.environment import Environment

        latest: dict[str, Any] = {}
        for record in self._backend.list_environments():
            if record.name not in latest or record.version > latest[record.name].version:
                latest[record.name] = record
        return {name: Environment._from_record(record) for name, record in latest.items()}

    @property
    def experiments(self):
        """{name: Experiment} of every experiment."""
        from azureml.core.experiment import Experiment

        return {e.name: Experiment(self, e.name) for e in self._backend.list_experiments()}

    @property
    def models(self):
        """{name: Model} of every registered model (its latest version)."""
        from azureml.core.model import Model

        return {r.name: Model._from_record(self, r) for r in self._backend.list_models(latest=True)}

    @property
    def webservices(self):
        """{name: Webservice} of every deployed service."""
        from azureml.core.webservice import Webservice

        return {r.name: Webservice._from_record(self, r) for r in self._backend.list_services()}

    def __eq__(self, other):
        return isinstance(other, Workspace) and other._backend.path == self._backend.path

    def __hash__(self):
        return hash(str(self._backend.path))

    def __repr__(self):
        return (f"Workspace.create(name='{self.name}', subscription_id='{self.subscription_id}', "
                f"resource_group='{self.resource_group}')")


def _find_named(start: Path, file_name: str) -> Path | None:
    from tutor.workspace.azure.config import CONFIG_DIRS

    if start.is_file():
        return start.resolve()
    for sub in CONFIG_DIRS:
        for folder in [start.resolve(), *start.resolve().parents]:
            candidate = (folder / sub / file_name) if sub else (folder / file_name)
            if candidate.is_file():
                return candidate
    return None


def _find_by_name(name: str) -> Any:
    """The embedded workspace called ``name``: the active one, or one in a course folder from here up."""
    from tutor.workspace.local.layout import DB_FILE

    root = _default_root()
    if root and _backend_at(root).name == name:
        return _backend_at(root)
    from tutor.workspace.azure.config import embedded_folder, find_config, read_config

    found = find_config(".")
    if found is not None:
        config = read_config(found)
        embedded = embedded_folder(config)
        if embedded is not None and config.get("workspace_name") == name:
            return _backend_at(embedded, name)
    for folder in [Path.cwd(), *Path.cwd().parents]:
        candidate = folder / ".tutor" / "workspaces" / name
        if (candidate / DB_FILE).exists():
            return _backend_at(candidate, name)
    raise WorkspaceException(f"Workspace not found: there is no embedded workspace named '{name}' here. "
                             "Use Workspace.from_config(), or run in the course folder (tutor python).")
