"""``azureml.core`` on the embedded workspace: the names the course uses, loaded on first use.

Importing it costs a few milliseconds (no pandas, no scikit-learn): each class is imported
from its own module, as in azureml-core, when it is first named.
"""

from __future__ import annotations

import importlib
from typing import Any

VERSION = "1.61.0"

_WHERE = {
    "ComputeTarget": "azureml.core.compute",
    "Dataset": "azureml.core.dataset",
    "Datastore": "azureml.core.datastore",
    "Environment": "azureml.core.environment",
    "Experiment": "azureml.core.experiment",
    "Model": "azureml.core.model",
    "Run": "azureml.core.run",
    "ScriptRunConfig": "azureml.core.script_run_config",
    "Webservice": "azureml.core.webservice",
    "Workspace": "azureml.core.workspace",
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
