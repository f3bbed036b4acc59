"""``azureml.core`` on the embedded workspace: the names the course uses, loaded on first use.

Importing it costs a few milliseconds (no pandas, no scikit-learn): each class is imported
from its own module, as in azureml-core, when it is first named.
"""

from __future__ import annotations

from azureml._embedded import lazy_names as _lazy_names

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

__getattr__, __dir__ = _lazy_names(__name__, _WHERE)
