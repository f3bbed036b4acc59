"""``azureml.core.Datastore``: get the workspace's datastore by name.

The embedded workspace has one datastore, its default blob store ``workspaceblobstore``
(an :class:`~azureml.data.azure_storage_datastore.AzureBlobDatastore`); another name gets
the UserErrorException azureml raises for a datastore the workspace does not have.
Registering datastores (``Datastore.register_azure_blob_container``...) is not on the
embedded workspace.
"""

from __future__ import annotations

from azureml._embedded import Subset, backend
from azureml.exceptions import UserErrorException

__all__ = ["Datastore"]


class Datastore(Subset):
    """``Datastore(ws)`` is the default datastore, ``Datastore(ws, name)`` the one called ``name``."""

    def __new__(cls, workspace, name=None):
        if name is None:
            return Datastore.get_default(workspace)
        return Datastore.get(workspace, name)

    def __init__(self, workspace, name=None):
        self.workspace = workspace
        self.name = name

    @staticmethod
    def get(workspace, datastore_name):
        """The datastore called ``datastore_name``."""
        store = backend(workspace).default_datastore
        if datastore_name != store.name:
            raise UserErrorException(f"(UserError) Could not find datastore: {datastore_name}. The embedded "
                                     f"workspace has one datastore, {store.name}.")
        return Datastore.get_default(workspace)

    @staticmethod
    def get_default(workspace):
        """The workspace's default datastore."""
        from azureml.data.azure_storage_datastore import AzureBlobDatastore

        return AzureBlobDatastore._from_backend(workspace, backend(workspace).default_datastore)
