"""``azure.ai.ml.entities`` on the embedded workspace: the resources the course creates."""

from __future__ import annotations

from azureml._embedded import lazy_names as _lazy_names

_WHERE = {
    # the workspace
    "Workspace": "azure.ai.ml.entities._workspace",
    # compute
    "AmlCompute": "azure.ai.ml.entities._compute",
    "ComputeInstance": "azure.ai.ml.entities._compute",
    "Compute": "azure.ai.ml.entities._compute",
    # data and datastores
    "Data": "azure.ai.ml.entities._data",
    "AzureBlobDatastore": "azure.ai.ml.entities._datastore",
    # environments
    "Environment": "azure.ai.ml.entities._environment",
    # models
    "Model": "azure.ai.ml.entities._model",
    # jobs
    "Job": "azure.ai.ml.entities._job",
    "Command": "azure.ai.ml.entities._job",
    # online endpoints
    "ManagedOnlineEndpoint": "azure.ai.ml.entities._online",
    "ManagedOnlineDeployment": "azure.ai.ml.entities._online",
    "CodeConfiguration": "azure.ai.ml.entities._online",
    "EndpointAuthKeys": "azure.ai.ml.entities._online",
    "OnlineRequestSettings": "azure.ai.ml.entities._online",
}

__all__ = sorted(_WHERE)

__getattr__, __dir__ = _lazy_names(__name__, _WHERE)
