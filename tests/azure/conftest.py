"""Fixtures for the Azure backend's tests: the contract tests' fixtures, on a fake Azure.

The workspace contract tests (tests/workspace/test_ws_*_contract.py) take a
``workspace`` fixture; here it is an :class:`AzureWorkspace` whose service boundary is
:class:`fake_service.FakeAzure`, so ``test_azure_contract.py`` can import those tests and
run them unchanged on this backend. The other fixtures the contract tests use
(``write_scripts``, ``cluster``, ``wait_until``, ``real_data``) are the same ones, taken
from tests/workspace/conftest.py.

Every test here needs azureml-core (the optional extra "azure"); without it they are
skipped with the product's own reason (:func:`azure_problem`, which the tutor uses to refuse the
Azure backend), and the suite still passes (test_azure_without_sdk.py proves it).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any, Callable

import pytest

from workspace.conftest import cluster, real_data, wait_until, write_scripts  # noqa: F401

from tutor.workspace.azure.config import azure_problem

AZURE_PROBLEM = azure_problem()
HAVE_AZUREML = AZURE_PROBLEM is None
needs_azureml = pytest.mark.skipif(not HAVE_AZUREML, reason=AZURE_PROBLEM or "")

CONFIG = {"subscription_id": "00000000-0000-0000-0000-000000000000", "resource_group": "taxi-course-rg",
          "workspace_name": "taxi-course-ws"}
SP_ENV = {"AZURE_TENANT_ID": "11111111-1111-1111-1111-111111111111",
          "AZURE_CLIENT_ID": "22222222-2222-2222-2222-222222222222", "AZURE_CLIENT_SECRET": "not-a-real-secret"}


def _load_fake_module() -> Any:
    """tests/azure/fake_service.py as the module ``azure_fake_service``.

    (This folder cannot be imported as a package: "azure" is the SDK's namespace.)
    """
    name = "azure_fake_service"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("fake_service.py"))
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture
def backend() -> str:
    return "azure"


@pytest.fixture
def sp_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A service principal in the environment: the sign-in that needs no terminal."""
    monkeypatch.delenv("TUTOR_AZURE_AUTH", raising=False)
    for key, value in SP_ENV.items():
        monkeypatch.setenv(key, value)
    return SP_ENV


@pytest.fixture
def fake_azure(tmp_path: Path) -> Any:
    if AZURE_PROBLEM is not None:
        pytest.skip(AZURE_PROBLEM)
    return _load_fake_module().FakeAzure(tmp_path / "azure-cloud")


@pytest.fixture
def make_workspace(fake_azure: Any, tmp_path: Path, sp_env: dict[str, str]) -> Callable[[], Any]:
    """A fresh AzureWorkspace object on the same (fake) Azure workspace each call."""
    from tutor.workspace.azure.workspace import AzureWorkspace

    def make() -> Any:
        return AzureWorkspace(CONFIG, cache_root=tmp_path / "course" / ".tutor" / "azure", service=fake_azure,
                              poll_interval=0.05)

    return make


@pytest.fixture
def workspace(make_workspace: Callable[[], Any]) -> Any:
    return make_workspace()
