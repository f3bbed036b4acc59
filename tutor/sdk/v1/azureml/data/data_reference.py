"""``azureml.data.data_reference.DataReference``: a path on a datastore.

What ``datastore.upload(...)``, ``upload_files(...)`` and ``datastore.path(...)`` return
on Azure. On the embedded workspace it names the path; a dataset can be made from it
(``Dataset.Tabular.from_delimited_files(datastore.path("folder/file.csv"))``).
"""

from __future__ import annotations

import uuid

from azureml._embedded import Subset
from azureml.exceptions import UserErrorException

__all__ = ["DataReference"]

#: The modes azureml accepts (azureml.core.runconfig.SUPPORTED_DATAREF_MODES).
_MODES = ["mount", "download", "upload"]


class DataReference(Subset):
    """A path on a datastore, and how a run would see it (mount, download or upload)."""

    def __init__(self, datastore, data_reference_name=None, path_on_datastore=None, mode="mount",
                 path_on_compute=None, overwrite=False):
        """Name ``path_on_datastore`` on ``datastore``."""
        self.datastore = datastore
        self.data_reference_name = data_reference_name
        self.path_on_datastore = path_on_datastore
        self.mode = mode
        self.path_on_compute = path_on_compute
        self.overwrite = overwrite
        if not self.data_reference_name and path_on_datastore and not self._is_current_path(path_on_datastore):
            self.data_reference_name = uuid.uuid4().hex
        elif not self.data_reference_name:
            self.data_reference_name = self.datastore.name
        if mode not in _MODES:
            raise UserErrorException(f"Invalid mode {mode}. Only mount, download, upload are supported")

    def path(self, path=None, data_reference_name=None):
        """A reference to ``path`` below this one."""
        if not path or self._is_current_path(path):
            if data_reference_name:
                return DataReference(datastore=self.datastore, data_reference_name=data_reference_name)
            return self
        if not self.path_on_datastore or self._is_current_path(self.path_on_datastore):
            return DataReference(datastore=self.datastore, data_reference_name=data_reference_name,
                                 path_on_datastore=path)
        return DataReference(datastore=self.datastore, data_reference_name=data_reference_name,
                             path_on_datastore=f"{self.path_on_datastore}/{path}")

    @staticmethod
    def _is_current_path(path):
        return path in ("/", ".", "./")

    def __str__(self):
        return f"$AZUREML_DATAREFERENCE_{self.data_reference_name}"

    def __repr__(self):
        return self.__str__()
