"""``azure.ai.ml.operations`` on the embedded workspace: what ``MLClient``'s properties return."""

from __future__ import annotations

from azureml._embedded import lazy_names as _lazy_names

_WHERE = {
    "WorkspaceOperations": "azure.ai.ml.operations._workspace_operations",
    "ComputeOperations": "azure.ai.ml.operations._compute_operations",
    "DataOperations": "azure.ai.ml.operations._data_operations",
    "DatastoreOperations": "azure.ai.ml.operations._datastore_operations",
    "EnvironmentOperations": "azure.ai.ml.operations._environment_operations",
    "ModelOperations": "azure.ai.ml.operations._model_operations",
    "JobOperations": "azure.ai.ml.operations._job_operations",
    "OnlineEndpointOperations": "azure.ai.ml.operations._online_endpoint_operations",
    "OnlineDeploymentOperations": "azure.ai.ml.operations._online_deployment_operations",
}

__all__ = sorted(_WHERE)

__getattr__, __dir__ = _lazy_names(__name__, _WHERE)
