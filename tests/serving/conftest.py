"""Fixtures for the scoring-service tests: the real model and real service processes.

The model is the course's day-2 pipeline trained on the real data (TUTOR_DATA; the
tests that need it skip when it is not set). Services are real detached processes on
127.0.0.1; every one a test starts is deleted at the end of the session.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import serving_model  # noqa: E402
from serving_helpers import SCORE_PY, Service, ServiceFactory  # noqa: E402


@pytest.fixture(scope="session")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceFactory]:
    factory = ServiceFactory(tmp_path_factory.mktemp("serving"))
    yield factory
    factory.cleanup()


@pytest.fixture(scope="session")
def trained() -> serving_model.TrainedModel:
    path = serving_model.data_path()
    if path is None:
        pytest.skip("set TUTOR_DATA to the course parquet (../shared/data/green_taxi_data.parquet) to run this test")
    return serving_model.train(serving_model.prepare(path))


@pytest.fixture(scope="session")
def model_dir(trained: serving_model.TrainedModel, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return serving_model.save_model(trained, tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="session")
def taxi_service(services: ServiceFactory, model_dir: Path) -> Service:
    """The course's service: score.py + the day-2 model, keys on (shared by many tests)."""
    return services.deploy("taxi-cost-pred", SCORE_PY, model_dir, auth_enabled=True,
                           tags={"Model Type": "linear regression"}, description="day 2 linear regression")


@pytest.fixture
def sample_trip() -> dict[str, Any]:
    return dict(serving_model.SAMPLE_TRIP)
