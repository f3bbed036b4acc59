"""The course's data preparation, as one pure function.

Day 1 step 7 and day 2 step 2 both turn the raw green-taxi sample into the same
prepared table. Keeping that recipe here, once, means the tutor's data step, the
training tests and the benchmarks all clean the data the same way, and the numbers
the lessons quote (23,222 rows, the reference R^2 figures) can be checked in tests.

:func:`prepare` follows COURSE.md "Preparation used by the course" in order:

1. time features from ``lpepPickupDatetime`` (vectorised ``.dt`` accessors, no row-wise
   ``apply``: a row-by-row apply is both slow and where the "all months read as 1"
   date-parsing slip usually creeps in);
2. drop the columns the course does not model;
3. the five cleaning filters, one at a time, each recorded as a :class:`FilterStep` so a
   lesson can show how many trips each rule removed;
4. drop the four coordinates (only needed by the filters).

This module imports pandas at the top: the tutor imports it lazily, inside actions.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from os import PathLike
from typing import Any, Callable

import pandas as pd

#: The raw column the time features come from.
PICKUP_COLUMN = "lpepPickupDatetime"

#: Time features added in step 1, in this order. ``day_of_week`` counts Monday = 0
#: (pandas/Python); R's ``wday`` counts Sunday = 1, which is worth a sentence in the lesson.
TIME_FEATURES = ["month_num", "day_of_month", "day_of_week", "hour_of_day"]

#: Columns dropped in step 2 (before cleaning).
DROP_COLUMNS = [
    "lpepPickupDatetime",
    "lpepDropoffDatetime",
    "puLocationId",
    "doLocationId",
    "extra",
    "mtaTax",
    "improvementSurcharge",
    "tollsAmount",
    "ehailFee",
    "tripType",
    "rateCodeID",
    "storeAndFwdFlag",
    "paymentType",
    "fareAmount",
    "tipAmount",
]

#: Coordinates: used by the filters, dropped after them (step 4).
COORDINATE_COLUMNS = ["pickupLongitude", "pickupLatitude", "dropoffLongitude", "dropoffLatitude"]

# Cleaning bounds (step 3). Inclusive unless the name says otherwise.
PICKUP_LATITUDE_MIN = 40.53
PICKUP_LATITUDE_MAX = 40.88
PICKUP_LONGITUDE_MIN = -74.09
PICKUP_LONGITUDE_MAX = -73.72
TRIP_DISTANCE_MIN = 0.25  # inclusive
TRIP_DISTANCE_MAX_EXCLUSIVE = 31.0  # tripDistance < 31
PASSENGER_COUNT_MIN_EXCLUSIVE = 0  # passengerCount > 0
TOTAL_AMOUNT_MIN_EXCLUSIVE = 0.0  # totalAmount > 0

#: The label the course predicts.
LABEL = "totalAmount"

#: The seven features every model uses (raw columns, in the prepared table's order).
FEATURES = [
    "vendorID",
    "passengerCount",
    "tripDistance",
    "month_num",
    "day_of_month",
    "day_of_week",
    "hour_of_day",
]

#: Columns of the prepared table, in order.
PREPARED_COLUMNS = ["vendorID", "passengerCount", "tripDistance", LABEL, *TIME_FEATURES]

#: Row count the course's preparation gives on the course's file.
EXPECTED_ROWS = 23_222


@dataclass(frozen=True)
class FilterStep:
    """One cleaning rule and what it did to the row count."""

    name: str
    description: str
    rows_before: int
    rows_after: int
    removed: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# (name, description, predicate) in the course's order. Predicates are vectorised.
_FILTERS: list[tuple[str, str, Callable[[pd.DataFrame], pd.Series]]] = [
    (
        "pickup_latitude",
        f"pickup latitude between {PICKUP_LATITUDE_MIN} and {PICKUP_LATITUDE_MAX} (inside New York City)",
        lambda d: d["pickupLatitude"].between(PICKUP_LATITUDE_MIN, PICKUP_LATITUDE_MAX),
    ),
    (
        "pickup_longitude",
        f"pickup longitude between {PICKUP_LONGITUDE_MIN} and {PICKUP_LONGITUDE_MAX} (inside New York City)",
        lambda d: d["pickupLongitude"].between(PICKUP_LONGITUDE_MIN, PICKUP_LONGITUDE_MAX),
    ),
    (
        "trip_distance",
        f"trip distance at least {TRIP_DISTANCE_MIN} and under {TRIP_DISTANCE_MAX_EXCLUSIVE:g} miles",
        lambda d: (d["tripDistance"] >= TRIP_DISTANCE_MIN) & (d["tripDistance"] < TRIP_DISTANCE_MAX_EXCLUSIVE),
    ),
    (
        "passenger_count",
        "at least one passenger",
        lambda d: d["passengerCount"] > PASSENGER_COUNT_MIN_EXCLUSIVE,
    ),
    (
        "total_amount",
        "a positive total amount (no refunds or zero fares)",
        lambda d: d["totalAmount"] > TOTAL_AMOUNT_MIN_EXCLUSIVE,
    ),
]


def load_raw(path: str | PathLike[str]) -> pd.DataFrame:
    """Read the raw course parquet (its index is the pickup datetime)."""
    return pd.read_parquet(path)


def add_time_features(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with month_num, day_of_month, day_of_week (Monday = 0), hour_of_day."""
    if PICKUP_COLUMN not in df.columns:
        raise KeyError(f"the data has no {PICKUP_COLUMN!r} column to build time features from")
    pickup = pd.to_datetime(df[PICKUP_COLUMN]).dt
    return df.assign(
        month_num=pickup.month,
        day_of_month=pickup.day,
        day_of_week=pickup.day_of_week,
        hour_of_day=pickup.hour,
    )


def prepare(df: pd.DataFrame) -> tuple[pd.DataFrame, list[FilterStep]]:
    """Prepare the raw green-taxi frame the way the course does.

    Returns the prepared frame (index reset; columns :data:`PREPARED_COLUMNS`) and the
    filters in the order they ran, each with its row counts. ``df`` is not modified.
    Raises ``KeyError`` naming the missing columns when ``df`` is not the raw course data.
    """
    needed = {PICKUP_COLUMN, *COORDINATE_COLUMNS, "vendorID", "passengerCount", "tripDistance", LABEL}
    missing = sorted(needed - set(df.columns))
    if missing:
        raise KeyError(f"the raw data is missing the column(s) {', '.join(missing)}")

    data = add_time_features(df)
    data = data.drop(columns=[c for c in DROP_COLUMNS if c in data.columns])

    steps: list[FilterStep] = []
    for name, description, predicate in _FILTERS:
        before = len(data)
        data = data[predicate(data).to_numpy()]
        after = len(data)
        steps.append(FilterStep(name, description, before, after, before - after))

    data = data.drop(columns=COORDINATE_COLUMNS).reset_index(drop=True)
    # Keep the course's column order even if the raw file had extra columns.
    extra = [c for c in data.columns if c not in PREPARED_COLUMNS]
    data = data[PREPARED_COLUMNS + extra]
    return data, steps
