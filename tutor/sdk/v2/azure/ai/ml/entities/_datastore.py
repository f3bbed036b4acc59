"""``azure.ai.ml.entities.AzureBlobDatastore``: the workspace's default datastore."""

from __future__ import annotations

from azure.ai.ml._embedded import Subset

__all__ = ["AzureBlobDatastore"]


class AzureBlobDatastore(Subset):
    """A blob container registered in the workspace (on the embedded workspace: a folder)."""

    def __init__(self, *, name, account_name, container_name, description=None, tags=None, endpoint=None,
                 protocol='https', properties=None, credentials=None, **kwargs):
        self.type = "azure_blob"
        self.name = name
        self.account_name = account_name
        self.container_name = container_name
        self.description = description
        self.tags = dict(tags or {})
        self.endpoint = endpoint or "core.windows.net"
        self.protocol = protocol
        self.properties = dict(properties or {})
        self._id = kwargs.get("id")

    @property
    def id(self):
        return self._id

    def __repr__(self) -> str:
        return f"AzureBlobDatastore(name={self.name!r}, container_name={self.container_name!r})"
