"""``ml_client.workspaces``: the workspace the client is connected to."""

from __future__ import annotations

from pathlib import Path

from azure.ai.ml._embedded import Subset, backend, not_found

__all__ = ["WorkspaceOperations"]


def workspace_entity(ml_client, local):
    from azure.ai.ml.entities import Workspace

    details = local.get_details()
    root = Path(details["workspace_dir"]).resolve()
    return Workspace(name=local.name, location=details["location"], resource_group=details["resource_group"],
                     description=f"The embedded workspace in {root}",
                     mlflow_tracking_uri="tutor://" + root.as_posix(), discovery_url=root.as_uri(),
                     id=f"/subscriptions/{details['subscription_id']}/resourceGroups/{details['resource_group']}"
                        f"/providers/Microsoft.MachineLearningServices/workspaces/{local.name}")


class WorkspaceOperations(Subset):
    """The workspace: ``get(name)`` describes it, with its ``mlflow_tracking_uri``."""

    def __init__(self, ml_client):
        self._client = ml_client

    def get(self, name=None, **kwargs):
        local = backend(self._client)
        if name not in (None, local.name):
            raise not_found("Workspace", name)
        return workspace_entity(self._client, local)

    def list(self, *, scope='resource_group', filtered_kinds=None):
        return iter([workspace_entity(self._client, backend(self._client))])
