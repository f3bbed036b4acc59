"""score.py runs unchanged under Microsoft's azureml-inference-server-http.

Needs the bench's virtualenv (``python bench/bench_serving.py`` creates it; AML_BENCH_VENV
names another one); skipped when it is not there, since tests never install packages.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import requests
import serving_model
from serving_helpers import REPO

VENV = Path(os.environ.get("AML_BENCH_VENV", "/tmp/aml-tutor-bench-venv"))
PYTHON = VENV / "bin" / "python"


def _bench() -> Any:
    spec = importlib.util.spec_from_file_location("bench_serving", REPO / "bench" / "bench_serving.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_serving"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_score_py_under_azmlinfsrv(model_dir: Path, trained: Any, tmp_path: Path, sample_trip: dict) -> None:
    if not PYTHON.exists() or not list(VENV.glob("lib/python*/site-packages/azureml_inference_server_http")):
        pytest.skip(f"no azureml-inference-server-http virtualenv at {VENV} (run the serving bench once)")
    bench = _bench()
    server = bench.start_azure(PYTHON, tmp_path, model_dir, workers=1)
    try:
        base = f"http://127.0.0.1:{server.port}"
        trips = serving_model.rows(trained.x_test, 2)
        response = requests.post(base + "/score", json={"data": trips}, timeout=30)
        assert response.status_code == 200, response.text
        expected = trained.pipeline.predict(pd.DataFrame(trips))
        assert response.json() == pytest.approx(list(expected), abs=1e-9)
        swagger = requests.get(base + "/swagger.json", timeout=10).json()
        assert swagger["definitions"]["ServiceInput"]["example"] == {"data": [sample_trip]}
        assert swagger["definitions"]["ServiceOutput"]["example"] == [18.2281]
    finally:
        server.stop()
