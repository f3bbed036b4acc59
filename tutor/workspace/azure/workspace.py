"""AzureWorkspace: the Workspace protocol on an Azure ML workspace (azureml-core, SDK v1).

Assembled like the embedded workspace, one mixin per topic (compute, data, environments
and models, runs, logged runs, services), each in its own module. Every method maps to one SDK call
where it can (see :mod:`.service`, the only module that reaches Azure); the records it
returns are the protocol's dataclasses filled from the SDK's objects.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Literal, Mapping

from tutor.workspace.azure.compute import ComputeMixin
from tutor.workspace.azure.config import check_azure_config
from tutor.workspace.azure.data import DataMixin
from tutor.workspace.azure.logged import LoggedRunsMixin
from tutor.workspace.azure.registry import RegistryMixin
from tutor.workspace.azure.services import ServicesMixin

DEFAULT_POLL_SECONDS = 5.0


class AzureWorkspace(ComputeMixin, DataMixin, RegistryMixin, LoggedRunsMixin, ServicesMixin):
    """The Azure ML workspace named by a config.json.

    Nothing reaches Azure until the first call that needs it (or :meth:`connect`), so the
    wizard can pass the device-code callback first. ``service`` is the SDK boundary
    (:class:`~tutor.workspace.azure.service.AzureService`; the tests pass a fake).
    """

    kind: Literal["azure"] = "azure"

    def __init__(self, config: Mapping[str, Any], *, config_path: Path | str | None = None,
                 cache_root: Path | str | None = None, service: Any = None,
                 on_device_code: Callable[[str], None] | None = None,
                 poll_interval: float = DEFAULT_POLL_SECONDS) -> None:
        self.config = dict(config)
        self.config_path = Path(config_path) if config_path else None
        self.names = check_azure_config(self.config, config_path or "config.json")
        self.name = self.names["workspace_name"]
        if service is None:
            from tutor.workspace.azure.service import AzureService

            service = AzureService()
        self.service = service
        root = Path(cache_root) if cache_root else Path.cwd() / ".tutor" / "azure"
        self.cache = (root / self.name).expanduser().resolve()
        self.cache.mkdir(parents=True, exist_ok=True)
        self.poll_interval = poll_interval
        self.on_device_code = on_device_code
        self.auth_method = ""
        self._ws = None
        self._runs: dict[str, Any] = {}
        self._vm_sizes: dict[str, tuple[int, float]] | None = None

    def __repr__(self) -> str:
        return (f"AzureWorkspace(name={self.name!r}, subscription_id={self.names['subscription_id']!r}, "
                f"resource_group={self.names['resource_group']!r})")

    def write_config(self, path: str | Path) -> Path:
        """Write config.json (``ws.write_config``): what ``--workspace PATH`` and scripts read."""
        target = Path(path).expanduser()
        if target.suffix.lower() != ".json":
            target = target / "config.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        config = {key: self.names[key] for key in ("subscription_id", "resource_group", "workspace_name")}
        if self.config.get("tenant_id"):
            config["tenant_id"] = self.config["tenant_id"]
        target.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
        return target

    def get_details(self) -> dict[str, Any]:
        """What ``ws.get_details()`` says, in the shape the embedded workspace uses."""
        details = self._call("reading the workspace's details", self.service.workspace_details, self.ws)
        return {
            "name": self.name,
            "kind": self.kind,
            "location": details.get("location", ""),
            "subscription_id": self.names["subscription_id"],
            "resource_group": self.names["resource_group"],
            "workspace_id": details.get("workspaceid") or details.get("id", ""),
            "default_datastore": self.default_datastore.name,
            "signed_in_with": self.auth_method,
            "created_at": str(details.get("creationTime") or details.get("creation_time") or ""),
            "cache_dir": str(self.cache),
        }
