"""LocalWorkspace: the embedded workspace, one folder and one SQLite database.

It is assembled from one mixin per topic (compute, datasets, environments, runs,
models, services), each in its own module, so each file has one job and the class a
step action sees is the single object the Workspace protocol describes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Literal

from tutor.errors import TutorError
from tutor.workspace import naming
from tutor.workspace.azure.config import EMBEDDED_KEY
from tutor.workspace.local.compute import ComputeMixin
from tutor.workspace.local.datasets import DatasetsMixin
from tutor.workspace.local.deployments import DeploymentsMixin
from tutor.workspace.local.environments import EnvironmentsMixin
from tutor.workspace.local.layout import Layout
from tutor.workspace.local.logged import LoggedRunsMixin
from tutor.workspace.local.models import ModelsMixin
from tutor.workspace.local.runs import RunsMixin
from tutor.workspace.local.scheduler import cpu_count
from tutor.workspace.local.store import Store, utcnow

# Placeholders in config.json: recognisably not Azure ids.
LOCAL_SUBSCRIPTION = "local"
LOCAL_RESOURCE_GROUP = "local"


class LocalWorkspace(ComputeMixin, DatasetsMixin, EnvironmentsMixin, LoggedRunsMixin, RunsMixin, ModelsMixin,
                     DeploymentsMixin):
    """An embedded workspace in the folder ``root``."""

    kind: Literal["local"] = "local"

    def __init__(self, root: str | Path, name: str | None = None, *, create: bool = True) -> None:
        """Open the workspace at ``root``; with ``create`` make it if it is missing.

        ``name`` defaults to the folder's name; an existing workspace keeps the name it
        was created with.
        """
        self.layout = Layout(Path(root).expanduser().resolve())
        if not self.layout.db.exists() and not create:
            raise TutorError(f"There is no embedded workspace at {self.layout.root}.",
                             "Run the course with --workspace local to create one, or fix the path in config.json.")
        self.layout.create()
        self.store = Store(self.layout.db)
        # An existing workspace keeps its name: only a new one's name is checked.
        self.name = self.store.get_meta("name") or self.store.set_meta_default(
            "name", naming.check_name(naming.WORKSPACE, name or self.layout.root.name))
        self.created_at = self.store.set_meta_default("created_at", utcnow())

    def __repr__(self) -> str:
        return f"LocalWorkspace(name={self.name!r}, root={str(self.layout.root)!r})"

    @property
    def path(self) -> Path:
        return self.layout.root

    def connect(self, on_device_code: Callable[[str], None] | None = None) -> None:
        """Nothing to sign in to: the embedded workspace is open once constructed.

        (Azure's backend signs in here; the protocol lets a step call it on either.)
        """

    def write_config(self, path: str | Path) -> Path:
        """Write a config.json like Azure's (``ws.write_config``) that reopens this workspace.

        ``path`` is a folder (config.json is written in it) or a file name ending in .json.
        """
        target = Path(path).expanduser()
        if target.suffix.lower() != ".json":
            target = target / "config.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        config = {
            "subscription_id": LOCAL_SUBSCRIPTION,
            "resource_group": LOCAL_RESOURCE_GROUP,
            "workspace_name": self.name,
            EMBEDDED_KEY: str(self.layout.root),
        }
        target.write_text(json.dumps(config, indent=2) + "\n")
        return target

    def get_details(self) -> dict[str, Any]:
        """What Azure's ``ws.get_details()`` would show, for this machine."""
        with self.store.read() as conn:
            counts = {
                table: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                for table in ("experiments", "runs", "compute", "models", "services")
            }
            counts["datasets"] = conn.execute("SELECT COUNT(DISTINCT name) FROM dataset_versions").fetchone()[0]
        import platform  # here: get_details is rare, opening a workspace is not

        return {
            "name": self.name,
            "kind": self.kind,
            "location": f"this machine ({platform.node()})",
            "subscription_id": LOCAL_SUBSCRIPTION,
            "resource_group": LOCAL_RESOURCE_GROUP,
            "workspace_dir": str(self.layout.root),
            "default_datastore": self.default_datastore.name,
            "created_at": self.created_at,
            "cpu_count": cpu_count(),
            "counts": counts,
        }
