"""``azureml.core.compute`` on the embedded workspace: clusters, compute instances and AKS clusters.

``ComputeTarget(ws, name)`` returns the target as an object of its own type;
``ComputeTarget.create(ws, name, <Type>.provisioning_configuration(...))`` creates one.
"""

from __future__ import annotations

from typing import Any

from azureml.core.compute.compute import ComputeTarget
from azureml.core.compute.aks import AksCompute
from azureml.core.compute.amlcompute import AmlCompute
from azureml.core.compute.computeinstance import ComputeInstance

VERSION = "1.61.0"
__version__ = VERSION

__all__ = ["AksCompute", "AmlCompute", "ComputeInstance", "ComputeTarget"]


def __getattr__(name: str) -> Any:
    from azureml._embedded import unsupported_name

    raise unsupported_name(__name__, name, __all__)
