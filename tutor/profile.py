"""A dataset profile like Azure ML's: per column type, min, max, mean, missing, distinct and a histogram."""

from __future__ import annotations

from typing import Any

def profile_frame(df: Any, bins: int = 10) -> list[dict[str, Any]]:
    """One JSON-safe dict per column of a pandas DataFrame."""
    import numpy as np
    import pandas as pd

    rows: list[dict[str, Any]] = []
    for name in df.columns:
        col = df[name]
        info: dict[str, Any] = {
            "column": str(name),
            "type": str(col.dtype),
            "missing": int(col.isna().sum()),
            "distinct": int(col.nunique(dropna=True)),
            "min": None,
            "max": None,
            "mean": None,
            "histogram": [],
        }
        values = col.dropna()
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col) and len(values):
            info["min"] = _plain(values.min())
            info["max"] = _plain(values.max())
            info["mean"] = round(float(values.mean()), 6)
            counts, _ = np.histogram(values.astype(float), bins=bins)
            info["histogram"] = [int(c) for c in counts]
        elif pd.api.types.is_datetime64_any_dtype(col) and len(values):
            info["min"] = str(values.min())
            info["max"] = str(values.max())
        elif len(values):
            as_text = values.astype(str)
            info["min"] = str(as_text.min())
            info["max"] = str(as_text.max())
        rows.append(info)
    return rows


def _plain(value: Any) -> Any:
    """numpy scalar -> int/float."""
    try:
        as_float = float(value)
    except (TypeError, ValueError):
        return str(value)
    return int(as_float) if as_float.is_integer() else round(as_float, 6)
