"""The embedded (local) workspace backend.

``LocalWorkspace`` is the workspace step actions use when the learner has no Azure
account; ``load_dataset_frame`` lets a run's script read a registered dataset given
``$TUTOR_WORKSPACE_DIR``. Nothing here imports pandas until data is read.

Both names are loaded on first use: every run's wrapper imports modules of this package
(the store, the scheduler) and should not pay for the whole workspace class.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - typing only
    from tutor.workspace.local.datasets import load_dataset_frame
    from tutor.workspace.local.workspace import LocalWorkspace

__all__ = ["LocalWorkspace", "load_dataset_frame"]


def __getattr__(name: str) -> Any:
    if name == "LocalWorkspace":
        from tutor.workspace.local.workspace import LocalWorkspace

        return LocalWorkspace
    if name == "load_dataset_frame":
        from tutor.workspace.local.datasets import load_dataset_frame

        return load_dataset_frame
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
