"""``azureml.data.datapath.DataPath``: a datastore and a path on it, as datasets take them."""

from __future__ import annotations

import uuid

from azureml._embedded import Subset

__all__ = ["DataPath"]


class DataPath(Subset):
    """A path on a datastore (a file, a folder or a glob such as ``"folder/*.csv"``)."""

    def __init__(self, datastore=None, path_on_datastore=None, name=None):
        """``DataPath(datastore, "folder/file.csv")``."""
        if datastore is None:
            raise ValueError("datastore parameter is required.")
        self._datastore = datastore
        self._path_on_datastore = path_on_datastore
        self._name = name or f"{self.datastore_name}_{uuid.uuid4().hex[:8]}"

    @property
    def datastore_name(self):
        """The datastore's name."""
        return self._datastore.name

    @property
    def path_on_datastore(self):
        """The path on the datastore."""
        return self._path_on_datastore

    @staticmethod
    def create_from_data_reference(data_reference):
        """The DataPath of a DataReference (``datastore.path(...)``)."""
        from azureml.data.data_reference import DataReference

        if not data_reference:
            raise ValueError("data_reference is a required parameter")
        if not isinstance(data_reference, DataReference):
            raise ValueError(f"Invalid type. Expected DataReference, but type is {type(data_reference).__name__}")
        return DataPath(datastore=data_reference.datastore, path_on_datastore=data_reference.path_on_datastore)

    def __repr__(self):
        return f"DataPath(datastore='{self.datastore_name}', path_on_datastore='{self.path_on_datastore}')"
