"""Fixtures for the embedded azureml SDK: a course folder whose workspace the SDK is active for.

The SDK is activated in this process for the test and deactivated after it, so the real
azureml-core (installed with the ``azure`` extra) is what other tests import.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest


@pytest.fixture
def sdk_course(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A course folder with an embedded workspace ``alice-ws`` and its config.json; cwd is the folder.

    The SDK is active, ``Workspace.from_config()`` opens that workspace. Services deployed
    in the folder are stopped afterwards.
    """
    import tutor.sdk
    from tutor.workspace.local import LocalWorkspace

    course = tmp_path / "course"
    course.mkdir()
    backend = LocalWorkspace(course / ".tutor" / "workspaces" / "alice-ws", "alice-ws")
    backend.write_config(course / "config.json")
    monkeypatch.chdir(course)
    for var in ("PYTHONPATH", tutor.sdk.WORKSPACE_ENV, tutor.sdk.RUN_WORKSPACE_ENV, "TUTOR_RUN_DIR",
                "TUTOR_RUN_ID"):
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
def ws(sdk_course: Path) -> Any:
    """``Workspace.from_config()`` of the embedded SDK, in ``sdk_course``."""
    from azureml.core import Workspace

    return Workspace.from_config()


@pytest.fixture
def backend(ws: Any) -> Any:
    """The embedded workspace (Workspace protocol) behind ``ws``: what a test checks effects on."""
    return ws._backend
