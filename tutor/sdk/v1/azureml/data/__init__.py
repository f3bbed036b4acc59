"""``azureml.data`` on the embedded workspace: tabular datasets and the default blob datastore.

The names load on first use, as in ``azureml.core``: importing the package imports
neither pandas nor the dataset code. Its modules keep azureml-core's paths
(``azureml.data.tabular_dataset``, ``azureml.data.dataset_factory``,
``azureml.data.azure_storage_datastore``, ``azureml.data.datapath``,
``azureml.data.data_reference``, ``azureml.data.dataset_error_handling``).
"""

from __future__ import annotations

from azureml._embedded import lazy_names as _lazy_names

VERSION = "1.61.0"
__version__ = VERSION

_WHERE = {
    "DataType": "azureml.data.dataset_factory",
    "TabularDataset": "azureml.data.tabular_dataset",
}

__all__ = sorted(_WHERE)

__getattr__, __dir__ = _lazy_names(__name__, _WHERE)
