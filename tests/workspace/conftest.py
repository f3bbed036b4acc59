"""Fixtures for the workspace contract tests.

The contract tests use only the Workspace protocol, through the ``workspace`` fixture,
which is parametrized by backend. Today only "local" exists; an Azure backend adds its
name to BACKENDS and a branch to ``make_workspace`` (and skips when it has no account).
"""

from __future__ import annotations

import textwrap
import time
from pathlib import Path
from typing import Any, Callable

import pytest

from tutor.workspace.base import Workspace

BACKENDS = ["local"]

# The metrics contract, written the way a training script would (no tutor import).
METRICS_HELPER = '''
import datetime, json, os

def log_metric(name, value):
    path = os.path.join(os.environ["TUTOR_RUN_DIR"], "metrics.jsonl")
    with open(path, "a") as handle:
        handle.write(json.dumps({"name": name, "value": value,
                                 "time": datetime.datetime.now(datetime.timezone.utc).isoformat()}) + "\\n")
'''


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_workspace(backend: str, tmp_path: Path) -> Callable[[], Workspace]:
    """Opens the test's workspace; calling it again gives a fresh object on the same
    workspace, which is what a resumed tutor (a new process) does."""

    def make() -> Workspace:
        if backend == "local":
            from tutor.workspace.local import LocalWorkspace

            return LocalWorkspace(tmp_path / "ws", "learner-ws")
        raise NotImplementedError(backend)

    return make


@pytest.fixture
def workspace(make_workspace: Callable[[], Workspace]) -> Workspace:
    return make_workspace()


@pytest.fixture
def write_scripts(tmp_path: Path) -> Callable[..., Path]:
    """Write a source folder: ``write_scripts(train="...python...")`` -> folder.

    Every script may call ``log_metric(name, value)`` (the metrics contract).
    """
    counter = {"n": 0}

    def write(**scripts: str) -> Path:
        counter["n"] += 1
        folder = tmp_path / f"src{counter['n']}"
        folder.mkdir()
        for name, body in scripts.items():
            (folder / f"{name}.py").write_text(METRICS_HELPER + textwrap.dedent(body))
        return folder

    return write


@pytest.fixture
def cluster(workspace: Workspace) -> Callable[..., str]:
    """Create and provision a cluster: ``cluster("c1", max_nodes=2)`` -> its name."""

    def create(name: str = "testcluster", max_nodes: int = 2) -> str:
        workspace.get_or_create_cluster(name, "STANDARD_D2_V2", 0, max_nodes, 60)
        workspace.wait_for_compute(name)
        return name

    return create


@pytest.fixture
def real_data() -> Path:
    """The course's parquet file from $TUTOR_DATA; the test is skipped without it."""
    import os

    value = os.environ.get("TUTOR_DATA")
    if not value:
        pytest.skip("TUTOR_DATA is not set (point it at green_taxi_data.parquet to run this test)")
    path = Path(value)
    if not path.is_file():
        pytest.skip(f"TUTOR_DATA points at {path}, which does not exist")
    return path


def _wait_until(predicate: Callable[[], Any], timeout: float = 15.0, interval: float = 0.05) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail the test on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


@pytest.fixture
def wait_until() -> Callable[..., Any]:
    """``wait_until(predicate, timeout=15)``: poll until true (runs are real processes)."""
    return _wait_until
