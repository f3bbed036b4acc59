"""``azureml.train.automl`` on the embedded workspace: ``AutoMLConfig``, submitted with
``experiment.submit(automl_config, show_output=True)``, runs the embedded AutoML engine as
a parent run (an ``AutoMLRun``) with one child run per iteration.

Importing it is cheap: the classes load when first named.
"""

from __future__ import annotations

import importlib
from typing import Any

VERSION = "1.61.0"
__version__ = VERSION

_WHERE = {
    "AutoMLConfig": "azureml.train.automl.automlconfig",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        if name in ("automlconfig", "run", "exceptions"):
            return importlib.import_module(f"{__name__}.{name}")
        from azureml._embedded import unsupported_name

        raise unsupported_name(__name__, name, __all__ + ["automlconfig", "exceptions", "run"])
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
