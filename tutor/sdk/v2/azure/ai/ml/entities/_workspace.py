"""``azure.ai.ml.entities.Workspace``: what ``ml_client.workspaces.get()`` describes."""

from __future__ import annotations

from azure.ai.ml._embedded import Subset

__all__ = ["Workspace"]


class Workspace(Subset):
    """A workspace: its name, place and the MLflow tracking URI its runs are read through."""

    def __init__(self, *, name, description=None, tags=None, display_name=None, location=None, resource_group=None,
                 hbi_workspace=False, storage_account=None, container_registry=None, key_vault=None,
                 application_insights=None, customer_managed_key=None, image_build_compute=None,
                 public_network_access=None, network_acls=None, identity=None, primary_user_assigned_identity=None,
                 managed_network=None, provision_network_now=None, system_datastores_auth_mode=None,
                 enable_data_isolation=False, allow_roleassignment_on_rg=None, hub_id=None, workspace_hub=None,
                 serverless_compute=None, **kwargs):
        self.name = name
        self.description = description
        self.tags = dict(tags or {})
        self.display_name = display_name or name
        self.location = location
        self.resource_group = resource_group
        self.storage_account = storage_account
        self._mlflow_tracking_uri = kwargs.get("mlflow_tracking_uri")
        self._discovery_url = kwargs.get("discovery_url")
        self._id = kwargs.get("id")

    @property
    def mlflow_tracking_uri(self):
        """Where MLflow reads and writes this workspace's runs (``mlflow.set_tracking_uri(...)``)."""
        return self._mlflow_tracking_uri

    @property
    def discovery_url(self):
        return self._discovery_url

    @property
    def id(self):
        return self._id

    def __repr__(self) -> str:
        return f"Workspace(name={self.name!r}, location={self.location!r}, resource_group={self.resource_group!r})"
