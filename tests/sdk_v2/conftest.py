"""Fixtures for the embedded azure-ai-ml: a course folder whose workspace the SDK is active for.

As in tests/sdk: the SDK is activated in this process for the test and deactivated after it,
so the real azure-ai-ml (installed with the ``azure`` extra) is what other tests import.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest


@pytest.fixture
def v2_course(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A course folder with an embedded workspace ``alice-ws`` and its config.json; cwd is the folder.

    The SDK is active: ``MLClient.from_config(DefaultAzureCredential())`` opens that workspace.
    Services deployed in the folder are stopped afterwards.
    """
    import tutor.sdk
    from tutor.workspace.local import LocalWorkspace

    course = tmp_path / "course"
    course.mkdir()
    backend = LocalWorkspace(course / ".tutor" / "workspaces" / "alice-ws", "alice-ws")
    backend.write_config(course / "config.json")
    monkeypatch.chdir(course)
    for var in ("PYTHONPATH", tutor.sdk.WORKSPACE_ENV, tutor.sdk.RUN_WORKSPACE_ENV, "TUTOR_RUN_DIR",
                "TUTOR_RUN_ID", "MLFLOW_TRACKING_URI", "MLFLOW_RUN_ID", "MLFLOW_EXPERIMENT_NAME"):
        monkeypatch.delenv(var, raising=False)
    tutor.sdk.activate(backend.path)
    _forget_open_workspaces()
    try:
        yield course
    finally:
        _forget_open_workspaces()
        tutor.sdk.deactivate()
        from tutor.serving import stop_all

        stop_all(course)


def _forget_open_workspaces() -> None:
    import sys

    module = sys.modules.get("azureml.core.workspace")
    if module is not None:
        module._OPEN.clear()


@pytest.fixture
def ml_client(v2_course: Path) -> Any:
    """``MLClient.from_config(DefaultAzureCredential())`` of the embedded SDK, in ``v2_course``."""
    from azure.ai.ml import MLClient
    from azure.identity import DefaultAzureCredential

    return MLClient.from_config(credential=DefaultAzureCredential())


@pytest.fixture
def backend(ml_client: Any) -> Any:
    """The embedded workspace (Workspace protocol) behind ``ml_client``: what a test checks effects on."""
    return ml_client._backend
