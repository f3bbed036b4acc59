"""``ml_client.datastores``: the workspace's datastores (the embedded workspace has one)."""

from __future__ import annotations

from azure.ai.ml._embedded import Subset, backend, not_found

__all__ = ["DatastoreOperations"]


def datastore_entity(local):
    from azure.ai.ml.entities import AzureBlobDatastore

    store = local.default_datastore
    return AzureBlobDatastore(name=store.name, account_name="local", container_name=str(store.root),
                              description="The embedded workspace's default datastore (a folder)")


class DatastoreOperations(Subset):
    """``get_default()``, ``get(name)`` and ``list()``."""

    def __init__(self, ml_client):
        self._client = ml_client

    def get_default(self, *, include_secrets=False):
        return datastore_entity(backend(self._client))

    def get(self, name, *, include_secrets=False):
        found = datastore_entity(backend(self._client))
        if name != found.name:
            raise not_found("Datastore", name)
        return found

    def list(self, *, include_secrets=False):
        return iter([datastore_entity(backend(self._client))])
