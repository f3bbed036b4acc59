"""Fixtures for the training-script tests.

Tests that need the course's real data read it from ``TUTOR_DATA`` (or the tutor's
download cache) and are skipped, with the reason, when it is not there. Everything else
uses small synthetic frames (see train_testing.py).
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

# The helpers sit beside this file; pytest does not always put this folder on sys.path
# before importing a nested conftest.
if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from train_testing import TrainRun, run_train  # noqa: E402


def _cached_dataset() -> Path | None:
    try:
        from tutor import dataset
    except Exception:
        return None
    try:
        cached = Path(dataset.cached_path())
    except Exception:
        return None
    return cached if cached.is_file() else None


@pytest.fixture(scope="session")
def raw_data_path() -> Path:
    value = os.environ.get("TUTOR_DATA")
    if value:
        if not Path(value).is_file():
            pytest.skip(f"TUTOR_DATA={value} is not a file")
        return Path(value)
    cached = _cached_dataset()
    if cached is None:
        pytest.skip("TUTOR_DATA is not set (and no cached download): point it at green_taxi_data.parquet "
                    "to run the real-data tests")
    return cached


@pytest.fixture(scope="session")
def prepared(raw_data_path: Path):
    from tutor.prep import load_raw, prepare

    return prepare(load_raw(raw_data_path))


@pytest.fixture(scope="session")
def prepared_files(prepared, tmp_path_factory) -> dict[str, Path]:
    """The prepared data as parquet and as CSV (the registered dataset is a CSV)."""
    frame, _ = prepared
    folder = tmp_path_factory.mktemp("prepared")
    files = {"parquet": folder / "prepped.parquet", "csv": folder / "prepped.csv"}
    frame.to_parquet(files["parquet"], index=False)
    frame.to_csv(files["csv"], index=False)
    return files


@pytest.fixture(scope="session")
def variant_runs(prepared_files, tmp_path_factory) -> dict[str, TrainRun]:
    """Every variant on the prepared parquet, plus the pipeline on the CSV, run two at a time."""
    base = tmp_path_factory.mktemp("runs")
    jobs = {v: ["--variant", v, "--data", str(prepared_files["parquet"])] for v in ("pipeline", "1", "2", "3", "4", "5")}
    jobs["pipeline-csv"] = ["--variant", "pipeline", "--data", str(prepared_files["csv"])]
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {key: pool.submit(run_train, args, base / key) for key, args in jobs.items()}
        return {key: future.result() for key, future in futures.items()}
