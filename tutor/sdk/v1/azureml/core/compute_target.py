"""``azureml.core.compute_target`` on the embedded workspace: its ``ComputeTargetException``.

As in azureml-core, the exception is azureml.exceptions' own class, so code that catches
``azureml.core.compute_target.ComputeTargetException`` catches what ``ComputeTarget(ws, name)``
raises for a missing target.
"""

from __future__ import annotations

from typing import Any

from azureml.exceptions import ComputeTargetException

__all__ = ["ComputeTargetException"]


def __getattr__(name: str) -> Any:
    from azureml._embedded import unsupported_name

    raise unsupported_name(__name__, name, __all__)
