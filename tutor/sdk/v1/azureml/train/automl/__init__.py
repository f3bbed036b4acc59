"""``azureml.train.automl`` on the embedded workspace: ``AutoMLConfig``, submitted with
``experiment.submit(automl_config, show_output=True)``, runs the embedded AutoML engine as
a parent run (an ``AutoMLRun``) with one child run per iteration.

Importing it is cheap: the classes load when first named.
"""

from __future__ import annotations

from azureml._embedded import lazy_names as _lazy_names

VERSION = "1.61.0"
__version__ = VERSION

_WHERE = {
    "AutoMLConfig": "azureml.train.automl.automlconfig",
}

__all__ = sorted(_WHERE)

__getattr__, __dir__ = _lazy_names(__name__, _WHERE, ("automlconfig", "exceptions", "run"))
