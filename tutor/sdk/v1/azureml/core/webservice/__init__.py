"""``azureml.core.webservice`` on the embedded workspace: ACI- and AKS-style scoring services.

``LocalWebservice`` (a Docker container on this machine) is not part of it: an
``AciWebservice`` on the embedded workspace already runs on this machine.
"""

from __future__ import annotations

from typing import Any

from azureml.core.webservice.aci import AciWebservice
from azureml.core.webservice.aks import AksWebservice
from azureml.core.webservice.webservice import Webservice

__all__ = ["AciWebservice", "AksWebservice", "Webservice"]


def __getattr__(name: str) -> Any:
    from azureml._embedded import unsupported_name

    raise unsupported_name(__name__, name, __all__)
