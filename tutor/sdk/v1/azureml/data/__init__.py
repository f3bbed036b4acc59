"""``azureml.data`` on the embedded workspace: tabular datasets and the default blob datastore.

The names load on first use, as in ``azureml.core``: importing the package imports
neither pandas nor the dataset code. Its modules keep azureml-core's paths
(``azureml.data.tabular_dataset``, ``azureml.data.dataset_factory``,
``azureml.data.azure_storage_datastore``, ``azureml.data.datapath``,
``azureml.data.data_reference``, ``azureml.data.dataset_error_handling``).
"""

from __future__ import annotations

import importlib
from typing import Any

VERSION = "1.61.0"
__version__ = VERSION

_WHERE = {
    "DataType": "azureml.data.dataset_factory",
    "TabularDataset": "azureml.data.tabular_dataset",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        from azureml._embedded import unsupported_name

        raise unsupported_name(__name__, name, __all__)
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
