"""``azureml.data.abstract_datastore.AbstractDatastore``: what every datastore has."""

from __future__ import annotations

import sys

from azureml._embedded import Subset

__all__ = ["AbstractDatastore"]


class AbstractDatastore(Subset):
    """A datastore: a name, a type and the workspace it belongs to."""

    def __init__(self, workspace, name, datastore_type):
        self._workspace = workspace
        self._name = name
        self._datastore_type = datastore_type

    @property
    def workspace(self):
        """The workspace the datastore belongs to."""
        return self._workspace

    @workspace.setter
    def workspace(self, workspace):
        self._workspace = workspace

    @property
    def name(self):
        """The datastore's name."""
        return self._name

    @name.setter
    def name(self, name):
        self._name = name

    @property
    def datastore_type(self):
        """The datastore's type ("AzureBlob")."""
        return self._datastore_type

    @datastore_type.setter
    def datastore_type(self, datastore_type):
        self._datastore_type = datastore_type

    def _as_dict(self):
        return {"name": self.name, "datastore_type": self.datastore_type}

    def _get_console_logger(self):
        return sys.stdout
