"""The Azure ML backend on azure-ai-ml (SDK v2), for Pythons where azureml-core does not install.

azureml-core (SDK v1, :mod:`tutor.workspace.azure`) exists only for Python 3.11 and older;
azure-ai-ml installs on 3.11 to 3.13. This backend implements the Workspace protocol's
workspace, compute, environment, model-registry and service (managed online endpoint) parts
on ``MLClient``; the parts it does not do yet (tabular datasets, submitting runs and reading
their metrics, deploying) raise one TutorError that says so and what to use instead.

azure-ai-ml is imported only when a workspace is opened, so importing this package costs
nothing. Tests run it against the real SDK with azure-core's HTTP transport answered by an
in-memory Azure ML REST API (tests/azure_v2/rest_azure.py).
"""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING, Any, Mapping

if TYPE_CHECKING:  # pragma: no cover - typing only
    from tutor.workspace.azure_v2.workspace import AzureMLWorkspace

__all__ = ["AzureMLWorkspace", "open_azure_v2_workspace", "v2_problem"]


def v2_problem() -> str | None:
    """Why this backend cannot work here (azure-ai-ml or azure-identity missing), or None."""
    missing = [name for module, name in (("azure.ai.ml", "azure-ai-ml"), ("azure.identity", "azure-identity"))
               if _find(module) is None]
    if missing:
        return (f"The Azure backend on SDK v2 needs {' and '.join(missing)}, which {'is' if len(missing) == 1 else 'are'} "
                "not installed here. Install them with pip install 'aml-tutor[azure]'.")
    return None


def _find(module: str) -> Any:
    try:
        return importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None


def open_azure_v2_workspace(config: Mapping[str, Any], **options: Any) -> "AzureMLWorkspace":
    """The Azure ML workspace ``config`` names, through azure-ai-ml (see :class:`AzureMLWorkspace`)."""
    problem = v2_problem()
    if problem is not None:
        from tutor.errors import TutorError

        raise TutorError(problem, "Or use --workspace local to learn on the embedded workspace.")
    from tutor.workspace.azure_v2.workspace import AzureMLWorkspace

    return AzureMLWorkspace(config, **options)
