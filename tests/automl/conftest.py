"""Fixtures for the AutoML engine tests: the course's prepared data and its day 2 split."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sklearn.model_selection import train_test_split

from tutor.prep import LABEL, load_raw, prepare

#: The sample trip the course predicts throughout (COURSE.md day 1 step 17), as numbers.
SAMPLE_TRIP = {"vendorID": 1, "passengerCount": 1, "tripDistance": 4.2, "month_num": 1,
               "day_of_month": 4, "day_of_week": 1, "hour_of_day": 18}


@pytest.fixture(scope="session")
def prepared(data_path: Path) -> pd.DataFrame:
    """The course's prepared table (23,222 rows)."""
    frame, _ = prepare(load_raw(data_path))
    return frame


@pytest.fixture(scope="session")
def split(prepared: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Day 2 step 7: 80/20 with random_state=223 (train half, test half)."""
    train, test = train_test_split(prepared, test_size=0.2, random_state=223)
    return train, test


@pytest.fixture(scope="session")
def small_train(split: tuple[pd.DataFrame, pd.DataFrame]) -> pd.DataFrame:
    """6,000 rows of the train half: real data, small enough for few-second searches."""
    return split[0].sample(6000, random_state=0)


@pytest.fixture
def label() -> str:
    return LABEL
