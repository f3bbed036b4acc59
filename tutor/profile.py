"""A dataset profile, like the studio's "Explore / Profile" tab: one profiler for every backend and step.

Computed once when a dataset version is registered and stored with it, because the
course looks at it right after registering (and a profile of a version must not change
when the files behind a later version do). Imports pandas: only call it lazily.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tutor.workspace.base import ColumnProfile

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas

BINS = 10


def _py(value: Any) -> Any:
    """A numpy/pandas scalar as a plain JSON-safe Python value."""
    if value is None:
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:  # NaN
        return None
    return value


def profile_column(name: str, column: "pandas.Series") -> ColumnProfile:
    import numpy as np
    import pandas as pd

    missing = int(column.isna().sum())
    values = column.dropna()
    count = int(values.size)
    distinct = int(values.nunique())
    profile = ColumnProfile(name=str(name), kind="empty", count=count, missing=missing, distinct=distinct)
    if count == 0:
        return profile
    dtype = column.dtype
    if pd.api.types.is_bool_dtype(dtype):
        profile.kind = "boolean"
        _top_values(profile, values)
    elif pd.api.types.is_numeric_dtype(dtype):
        profile.kind = "integer" if pd.api.types.is_integer_dtype(dtype) else "decimal"
        numbers = values.to_numpy(dtype="float64")
        profile.min, profile.max = _py(values.min()), _py(values.max())
        profile.mean, profile.std = float(numbers.mean()), float(numbers.std(ddof=1)) if count > 1 else 0.0
        counts, edges = np.histogram(numbers, bins=min(BINS, max(distinct, 1)))
        profile.histogram = [int(c) for c in counts]
        profile.bin_edges = [float(e) for e in edges]
    elif pd.api.types.is_datetime64_any_dtype(dtype):
        profile.kind = "datetime"
        profile.min, profile.max = _py(values.min()), _py(values.max())
        profile.mean = _py(values.mean())
        ticks = values.astype("int64").to_numpy(dtype="float64")
        counts, edges = np.histogram(ticks, bins=min(BINS, max(distinct, 1)))
        # tz-aware dtypes name their unit; plain numpy datetime64 dtypes carry it inside
        unit = getattr(values.dtype, "unit", None) or np.datetime_data(values.dtype)[0]
        profile.histogram = [int(c) for c in counts]
        profile.bin_edges = [_py(pd.Timestamp(int(e), unit=unit)) for e in edges]
    else:
        profile.kind = "string"
        text = values.astype(str)
        profile.min, profile.max = str(text.min()), str(text.max())
        _top_values(profile, text)
    return profile


def _top_values(profile: ColumnProfile, values: "pandas.Series") -> None:
    """For categories the "histogram" is the count of each of the most common values."""
    top = values.value_counts().head(BINS)
    profile.histogram = [int(c) for c in top.to_numpy()]
    profile.bin_labels = [str(label) for label in top.index]


def profile_frame(frame: "pandas.DataFrame") -> list[ColumnProfile]:
    return [profile_column(str(name), frame[name]) for name in frame.columns]
