"""Where azureml-core is not installed, this folder's tests skip; none errors at collection.

A child Python makes ``azureml`` unimportable (a meta-path finder that refuses it, which is
what an environment without the package does) and runs pytest on this folder there. The
tests that need the SDK must come out skipped, with the product's own reason
(:func:`tutor.workspace.azure.config.azure_problem`), and the install checks still pass.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve()

CHILD = r"""
import importlib.abc, json, sys

class NoAzureml(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "azureml" or name.startswith("azureml."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NoAzureml())
import pytest

outcomes = []

class Collect:
    def pytest_collectreport(self, report):
        if report.failed:
            outcomes.append(("collect-error", report.nodeid, str(report.longrepr)[-600:]))

    def pytest_runtest_logreport(self, report):
        if report.when == "call" or report.outcome != "passed":
            reason = report.longrepr[2] if report.skipped and isinstance(report.longrepr, tuple) else ""
            outcomes.append((report.outcome if report.when != "call" or report.outcome != "passed" else "passed",
                             report.nodeid, reason))

code = pytest.main(sys.argv[1:], plugins=[Collect()])
print("OUTCOMES " + json.dumps({"code": int(code), "outcomes": outcomes,
                                "azureml_loaded": any(m.split(".")[0] == "azureml" for m in sys.modules)}))
"""


def _run_without_azureml(*args: str) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    env.pop("PYTEST_ADDOPTS", None)
    done = subprocess.run(
        [sys.executable, "-c", CHILD, "-q", "-p", "no:cacheprovider", "-m", "not slow", str(HERE.parent),
         f"--ignore={HERE}", *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("OUTCOMES ")]
    assert lines, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(lines[-1][len("OUTCOMES "):])
    result["stderr"] = done.stderr[-3000:]
    return result


def test_without_azureml_the_folder_collects_and_its_sdk_tests_skip() -> None:
    result = _run_without_azureml()
    errors = [o for o in result["outcomes"] if o[0] in ("collect-error", "failed")]
    assert not errors, errors
    assert result["code"] == 0, result
    assert not result["azureml_loaded"]
    skipped = [o for o in result["outcomes"] if o[0] == "skipped"]
    passed = [o for o in result["outcomes"] if o[0] == "passed"]
    assert len(skipped) > 50, skipped  # the backend, contract and sign-in tests
    assert all("azureml-core" in o[2] for o in skipped), skipped[:3]
    assert any("test_azure_setup.py" in o[1] for o in passed)  # the install checks need no SDK
