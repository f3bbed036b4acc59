"""``azureml.train`` on the embedded workspace: only ``azureml.train.automl``."""

from __future__ import annotations

from typing import Any

__all__ = ["automl"]


def __getattr__(name: str) -> Any:
    if name == "automl":
        import importlib

        return importlib.import_module("azureml.train.automl")
    from azureml._embedded import unsupported_name

    raise unsupported_name(__name__, name, __all__)
