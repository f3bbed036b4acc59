"""Schemathesis against the course's service: the swagger it publishes is what it does.

Every check (``--checks all``), every phase (examples, coverage with its negative cases,
fuzzing), with the service's key, for each swagger version it publishes, bounded in
examples and time, with a fixed seed so a failure can be replayed. The document is fetched from the service and handed over as a file
(with the service's address), because schemathesis leaves out the operation that
served the document it loaded from a URL, and ``GET /swagger.json`` must be tested too.
The one narrowed check is explained in ``serving_schemathesis_hooks.py``.
"""

from __future__ import annotations

import base64
import collections
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from serving_helpers import Service

pytest.importorskip("schemathesis", reason="schemathesis is in the test extra: pip install -e '.[test]'")

HERE = Path(__file__).resolve().parent
MAX_EXAMPLES = 150
RUN_TIMEOUT_SECONDS = 240


def _statuses(report_dir: Path) -> tuple[collections.Counter[str], collections.Counter[str]]:
    """Responses by status code, and the checks schemathesis ran, from its NDJSON report."""
    statuses: collections.Counter[str] = collections.Counter()
    checks: collections.Counter[str] = collections.Counter()
    for report in report_dir.glob("*.ndjson"):
        for line in report.read_text().splitlines():
            event = json.loads(line)
            finished = event.get("ScenarioFinished")
            if not finished:
                continue
            recorder = finished["recorder"]
            for interaction in recorder.get("interactions", {}).values():
                response = interaction.get("response")
                statuses[str(response["status_code"]) if response else "no response"] += 1
            for results in recorder.get("checks", {}).values():
                checks.update(result["name"] for result in results)
    return statuses, checks


@pytest.mark.slow
@pytest.mark.timeout(2 * RUN_TIMEOUT_SECONDS + 60)
@pytest.mark.parametrize("version", ["2", "3", "3.1"])
def test_schemathesis_finds_nothing(taxi_service: Service, tmp_path: Path, version: str) -> None:
    document = requests.get(f"{taxi_service.base}/swagger.json?version={version}", timeout=10)
    assert document.status_code == 200
    spec = tmp_path / "swagger.json"
    spec.write_text(document.text)
    key = taxi_service.keys()[0]
    reports = tmp_path / "reports"
    env = dict(os.environ)
    env["SCHEMATHESIS_HOOKS"] = "serving_schemathesis_hooks"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH")]))
    command = [
        sys.executable, "-m", "schemathesis.cli", "run", str(spec),
        "--url", taxi_service.base,
        "--checks", "all",
        "--exclude-checks", "positive_data_acceptance",  # replaced by the hooks' narrowed copy
        "--header", f"Authorization: Bearer {key}",
        "--max-examples", str(MAX_EXAMPLES),
        "--continue-on-failure",
        "--workers", "1",
        "--seed", "20260",
        "--report", "ndjson",
        "--report-dir", str(reports),
        "--no-color",
    ]
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path,
                            timeout=RUN_TIMEOUT_SECONDS)
    output = result.stdout + result.stderr
    statuses, checks = _statuses(reports)
    print(f"swagger {version}: responses by status {dict(sorted(statuses.items()))}")
    assert result.returncode == 0, output[-6000:]
    assert "3 selected / 3 total" in output, output[-3000:]
    # The run really exercised the service, with the narrowed check among its checks.
    assert statuses["200"] > 50 and statuses["401"] > 0 and statuses["422"] > 0, statuses
    assert not any(code.startswith("5") for code in statuses), statuses
    assert checks["positive_data_acceptance_for_scorable_rows"] > 0 and checks["negative_data_rejection"] > 0
    assert key not in output and not any(key in p.read_text() for p in reports.glob("*"))
    assert base64.b64encode(key.encode()).decode() not in "".join(p.read_text() for p in reports.glob("*"))
