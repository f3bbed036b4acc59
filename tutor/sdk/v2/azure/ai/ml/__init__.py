"""``azure.ai.ml`` (azure-ai-ml 1.35) on the embedded workspace: the names the course uses.

Each name is imported from its own module on first use, so importing the package costs a few
milliseconds. ``MLClient.from_config()`` opens the embedded workspace a config.json written by
the tutor names (or the one the tutor activated the SDK for); the same code runs on Azure
with the real package.
"""

from __future__ import annotations

from azureml._embedded import lazy_names as _lazy_names

VERSION = "1.35.2"
__embedded__ = True

_WHERE = {
    "MLClient": "azure.ai.ml._ml_client",
    "command": "azure.ai.ml._builders",
    "Input": "azure.ai.ml._inputs",
    "Output": "azure.ai.ml._inputs",
}

__all__ = sorted(_WHERE)

__getattr__, __dir__ = _lazy_names(__name__, _WHERE, ("automl", "constants", "entities", "exceptions", "operations"))
