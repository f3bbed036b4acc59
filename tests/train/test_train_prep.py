"""tutor.prep: the course's data preparation."""

from __future__ import annotations

import pandas as pd
import pytest

from tutor import prep

# Measured on the course's file; the counts a lesson can quote.
EXPECTED_FILTERS = [
    # name, rows before, rows after, removed
    ("pickup_latitude", 24_000, 23_895, 105),
    ("pickup_longitude", 23_895, 23_884, 11),
    ("trip_distance", 23_884, 23_290, 594),
    ("passenger_count", 23_290, 23_285, 5),
    ("total_amount", 23_285, 23_222, 63),
]


def raw_frame(rows: list[dict]) -> pd.DataFrame:
    """A tiny frame with the raw file's columns (values a trip inside NYC would have)."""
    base = {
        "vendorID": 2,
        "lpepPickupDatetime": pd.Timestamp("2015-03-09 08:15:00"),
        "lpepDropoffDatetime": pd.Timestamp("2015-03-09 08:30:00"),
        "passengerCount": 1,
        "tripDistance": 2.0,
        "puLocationId": None,
        "doLocationId": None,
        "pickupLongitude": -73.95,
        "pickupLatitude": 40.70,
        "dropoffLongitude": -73.96,
        "dropoffLatitude": 40.71,
        "rateCodeID": 1,
        "storeAndFwdFlag": "N",
        "paymentType": 1,
        "fareAmount": 9.0,
        "extra": 0.5,
        "mtaTax": 0.5,
        "improvementSurcharge": "0.3",
        "tipAmount": 1.0,
        "tollsAmount": 0.0,
        "ehailFee": None,
        "totalAmount": 11.3,
        "tripType": 1.0,
    }
    return pd.DataFrame([{**base, **row} for row in rows])


# --------------------------------------------------------------------------- synthetic


def test_time_features_are_vectorised_and_monday_is_zero():
    frame = raw_frame(
        [
            {"lpepPickupDatetime": pd.Timestamp("2015-01-05 00:07:15")},  # a Monday
            {"lpepPickupDatetime": pd.Timestamp("2015-01-04 18:00:00")},  # a Sunday
            {"lpepPickupDatetime": pd.Timestamp("2015-12-30 23:57:51")},  # a Wednesday
        ]
    )
    out = prep.add_time_features(frame)
    assert out["month_num"].tolist() == [1, 1, 12]
    assert out["day_of_month"].tolist() == [5, 4, 30]
    assert out["day_of_week"].tolist() == [0, 6, 2]
    assert out["hour_of_day"].tolist() == [0, 18, 23]
    assert "month_num" not in frame.columns  # the input is not modified


def test_filter_bounds_are_inclusive_where_the_course_says_so():
    frame = raw_frame(
        [
            {"pickupLatitude": 40.53},  # kept: inclusive
            {"pickupLatitude": 40.88},  # kept
            {"pickupLatitude": 40.881},  # out
            {"pickupLongitude": -74.09},  # kept
            {"pickupLongitude": -73.719},  # out
            {"tripDistance": 0.25},  # kept
            {"tripDistance": 0.24},  # out
            {"tripDistance": 30.99},  # kept
            {"tripDistance": 31.0},  # out: < 31
            {"passengerCount": 0},  # out
            {"totalAmount": 0.0},  # out
            {"totalAmount": 0.01},  # kept
        ]
    )
    out, steps = prep.prepare(frame)
    assert len(out) == 6
    assert [s.name for s in steps] == [name for name, *_ in EXPECTED_FILTERS]
    assert [s.removed for s in steps] == [1, 1, 2, 1, 1]
    for step in steps:
        assert step.rows_before - step.rows_after == step.removed
        assert step.description
    assert steps[-1].rows_after == len(out)
    assert list(out.columns) == prep.PREPARED_COLUMNS
    assert list(out.index) == list(range(6))


def test_prepare_names_missing_columns():
    frame = raw_frame([{}]).drop(columns=["pickupLatitude", "totalAmount"])
    with pytest.raises(KeyError, match="pickupLatitude, totalAmount"):
        prep.prepare(frame)


def test_constants_describe_the_prepared_table():
    assert prep.LABEL == "totalAmount"
    assert prep.FEATURES == [
        "vendorID", "passengerCount", "tripDistance", "month_num", "day_of_month", "day_of_week", "hour_of_day",
    ]
    assert set(prep.PREPARED_COLUMNS) == {prep.LABEL, *prep.FEATURES}
    assert not set(prep.DROP_COLUMNS) & set(prep.PREPARED_COLUMNS)


# --------------------------------------------------------------------------- the course's file


def test_prepare_gives_the_course_table(prepared):
    frame, _ = prepared
    assert len(frame) == prep.EXPECTED_ROWS == 23_222
    assert list(frame.columns) == [
        "vendorID", "passengerCount", "tripDistance", "totalAmount",
        "month_num", "day_of_month", "day_of_week", "hour_of_day",
    ]
    assert isinstance(frame.index, pd.RangeIndex) and frame.index[0] == 0
    assert not frame.isna().any().any()
    assert frame["totalAmount"].min() == pytest.approx(0.01)
    assert frame["totalAmount"].max() == pytest.approx(191.70)
    assert frame["totalAmount"].mean() == pytest.approx(14.838994, abs=1e-6)
    assert sorted(frame["month_num"].unique()) == list(range(1, 13))
    assert sorted(frame["day_of_week"].unique()) == list(range(7))


def test_each_filter_removes_the_recorded_rows(prepared):
    _, steps = prepared
    assert [(s.name, s.rows_before, s.rows_after, s.removed) for s in steps] == EXPECTED_FILTERS
    assert sum(s.removed for s in steps) == 24_000 - 23_222


def test_day_of_week_counts_monday_as_zero(raw_data_path):
    raw = prep.load_raw(raw_data_path)
    with_time = prep.add_time_features(raw)
    names = raw["lpepPickupDatetime"].dt.day_name()
    assert (with_time.loc[names == "Monday", "day_of_week"] == 0).all()
    assert (with_time.loc[names == "Sunday", "day_of_week"] == 6).all()
    assert (with_time["month_num"] == raw["lpepPickupDatetime"].dt.month).all()
    # 2,000 trips a month before cleaning: no "every month read as 1" slip.
    assert with_time["month_num"].value_counts().eq(2000).all()


def test_prepare_leaves_the_raw_frame_alone(raw_data_path):
    raw = prep.load_raw(raw_data_path)
    before = raw.copy()
    prep.prepare(raw)
    pd.testing.assert_frame_equal(raw, before)
