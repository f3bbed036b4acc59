"""The Azure ML backend: the Workspace protocol on azureml-core (SDK v1).

A learner with an Azure subscription and a workspace ``config.json`` runs the same
lessons against a real Azure ML workspace. azureml-core is an optional extra
(``pip install 'aml-tutor[azure]'``) that exists only for Python < 3.12, so this package
imports it lazily: importing ``tutor.workspace.azure`` costs nothing, and choosing Azure
without the extra ends in one :class:`~tutor.errors.TutorError` saying what to install.

Nothing the SDK prints, logs or warns reaches the learner's screen (see :mod:`.quiet`);
the device-code login message is handed to a callback instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

from tutor.workspace.azure.config import (
    CONFIG_DIRS,
    CONFIG_FILENAME,
    azure_problem,
    find_config,
    read_config,
    require_azure,
)

if TYPE_CHECKING:  # pragma: no cover - typing only
    from tutor.workspace.azure.workspace import AzureWorkspace

__all__ = [
    "CONFIG_DIRS", "CONFIG_FILENAME", "AzureWorkspace", "azure_problem", "find_config",
    "open_azure_workspace", "read_config", "require_azure",
]


def open_azure_workspace(config_path: Path, config: Mapping[str, Any], *, cache_root: Path | None = None,
                         on_device_code: Callable[[str], None] | None = None) -> "AzureWorkspace":
    """The Azure workspace that ``config`` (read from ``config_path``) names.

    Checks first that the backend can work here (Python < 3.12, azureml-core installed)
    and that the config names a workspace; it does not sign in yet: that happens on the
    first call that needs Azure, or at :meth:`AzureWorkspace.connect`.
    """
    require_azure()
    from tutor.workspace.azure.workspace import AzureWorkspace

    return AzureWorkspace(config, config_path=config_path, cache_root=cache_root, on_device_code=on_device_code)


def __getattr__(name: str) -> Any:
    if name == "AzureWorkspace":
        from tutor.workspace.azure.workspace import AzureWorkspace

        return AzureWorkspace
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
