"""Fixtures for the Azure backend on azure-ai-ml: the real SDK, with Azure ML's REST API in memory.

``make_workspace`` gives an :class:`AzureMLWorkspace` whose MLClient sends every request
through azure-core's ``RequestsTransport`` to :class:`rest_azure.RestAzureML`: the SDK's own
serializers, retry policy and long-running-operation pollers run, only the answers are local.
The contract tests' other fixtures are tests/workspace/conftest.py's. Without azure-ai-ml
(the ``azure`` extra) every test here is skipped with the backend's own reason.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

import pytest

from workspace.conftest import cluster, real_data, wait_until, write_scripts  # noqa: F401

from tutor.workspace.azure_v2 import v2_problem

V2_PROBLEM = v2_problem()
pytestmark = pytest.mark.skipif(V2_PROBLEM is not None, reason=V2_PROBLEM or "")


class StaticToken:
    """An azure-identity-shaped credential holding one bearer token (a sign-in that already happened)."""

    def __init__(self, token: str = "valid-token") -> None:
        self.token = token
        self.asked = 0

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        self.asked += 1
        return AccessToken(self.token, int(time.time()) + 3600)


@pytest.fixture
def backend() -> str:
    return "azure-v2"


@pytest.fixture
def rest_azure() -> Any:
    if V2_PROBLEM is not None:
        pytest.skip(V2_PROBLEM)
    from azure_v2.rest_azure import RestAzureML

    return RestAzureML()


@pytest.fixture
def credential() -> StaticToken:
    return StaticToken()


@pytest.fixture
def make_workspace(rest_azure: Any, credential: StaticToken, tmp_path: Path) -> Callable[[], Any]:
    """A fresh AzureMLWorkspace on the same (in-memory) Azure ML workspace each call."""
    from azure.core.pipeline.transport import RequestsTransport

    from tutor.workspace.azure_v2 import open_azure_v2_workspace

    config = {"subscription_id": rest_azure.subscription, "resource_group": rest_azure.resource_group,
              "workspace_name": rest_azure.workspace}

    def make() -> Any:
        return open_azure_v2_workspace(config, cache_root=tmp_path / "course" / ".tutor" / "azure",
                                       credential=credential, transport=RequestsTransport(session=rest_azure),
                                       poll_seconds=0.05)

    return make


@pytest.fixture
def workspace(make_workspace: Callable[[], Any]) -> Any:
    return make_workspace()
