"""Featurization: raw columns in, a numeric matrix out.

Azure's "featurization: auto" decides a purpose for every column (numeric, categorical,
datetime, ignore), imputes, and encodes, so the deployed model takes the same raw columns
a learner posts to the service. :class:`Featurizer` does the same, and is fitted inside
each cross-validation fold so imputation values and category lists never see the rows
they are scored on.

It is forgiving at predict time on purpose: the course posts the sample trip with
``"vendorID": "1"`` and ``"month_num": "1"`` as text, so numeric columns are parsed from
text, categorical values are matched by value (``1``, ``1.0`` and ``"1"`` are the same
category of a numeric column), and unseen categories get their own code instead of an
error.
"""

from __future__ import annotations

from typing import Any, Literal, Mapping

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

Purpose = Literal["Numeric", "Categorical", "DateTime", "Ignore"]

#: Column purposes a featurization dict may name (Azure's FeaturizationConfig names), and
#: what the engine does with each. Azure's "CategoricalHash" is treated as Categorical.
PURPOSE_ALIASES: dict[str, Purpose] = {
    "numeric": "Numeric",
    "categorical": "Categorical",
    "categoricalhash": "Categorical",
    "datetime": "DateTime",
    "ignore": "Ignore",
    "drop": "Ignore",
}

#: Categories kept per column (most frequent first); rarer ones share the "unknown" code.
MAX_CATEGORIES = 200

_DATETIME_PARTS = ("year", "month", "day", "day_of_week", "hour")


def normalize_purpose(value: str) -> Purpose:
    """Azure's purpose name, case-insensitively; ValueError names the valid ones."""
    key = str(value).replace("_", "").replace(" ", "").lower()
    if key not in PURPOSE_ALIASES:
        valid = ", ".join(sorted({v for v in PURPOSE_ALIASES.values()}))
        raise ValueError(f"unknown column purpose {value!r}: use one of {valid}")
    return PURPOSE_ALIASES[key]


def is_text_like(series: pd.Series) -> bool:
    """True for text columns in both pandas 2 (object) and pandas 3 (``str``) spellings."""
    return bool(
        pd.api.types.is_string_dtype(series.dtype)
        or pd.api.types.is_object_dtype(series.dtype)
        or isinstance(series.dtype, pd.CategoricalDtype)
    )


def is_numeric_column(series: pd.Series) -> bool:
    """Numbers or booleans (booleans train as 0/1)."""
    return bool(pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype))


def _parses_as_numbers(series: pd.Series) -> bool:
    values = series.dropna()
    if values.empty:
        return False
    return bool(pd.to_numeric(values.astype(str), errors="coerce").notna().all())


_DATE_PATTERN = r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}"


def _parses_as_dates(series: pd.Series) -> bool:
    """Text that reads as dates: a day-month-year shape and a successful parse (dateutil
    alone would read "t1" as one o'clock today)."""
    values = series.dropna()
    if values.empty:
        return False
    sample = values.astype(str).head(500)
    if sample.str.contains(_DATE_PATTERN, regex=True).mean() < 0.95:
        return False
    try:
        parsed = pd.to_datetime(sample, errors="coerce", format="mixed")
    except (ValueError, TypeError):
        return False
    return bool(parsed.notna().mean() >= 0.95)


def auto_purpose(series: pd.Series) -> Purpose:
    """The purpose "featurization: auto" gives a column, and why.

    Numbers are numeric unless constant or empty (nothing to learn); datetimes are expanded;
    text that is all numbers is numeric ("numbers stored as text", like the raw file's
    improvementSurcharge); other text is categorical unless it looks like an identifier.
    """
    values = series.dropna()
    if values.empty or values.nunique() <= 1:
        return "Ignore"
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return "DateTime"
    if is_numeric_column(series):
        return "Numeric"
    if is_text_like(series):
        if _parses_as_numbers(series):
            return "Numeric"
        distinct = values.nunique()
        if len(values) > 20 and distinct > 0.9 * len(values):
            # Nearly every value different: timestamps written as text, or an identifier
            # / free text that a category code cannot generalise from.
            return "DateTime" if _parses_as_dates(series) else "Ignore"
        if distinct > MAX_CATEGORIES and _parses_as_dates(series):
            return "DateTime"
        return "Categorical"
    return "Ignore"


class Featurizer(BaseEstimator, TransformerMixin):
    """Turn a raw DataFrame into a float matrix, remembering how, for prediction time.

    ``featurization`` is ``"auto"``, ``"off"`` (every column must already be numeric) or a
    dict ``{column: purpose}`` that overrides "auto" for the named columns.
    ``encoding`` is ``"ordinal"`` (one code per category: trees split on it) or
    ``"onehot"`` (one column per category: linear models and KNN need it).
    """

    def __init__(self, featurization: str | Mapping[str, str] = "auto",
                 encoding: Literal["ordinal", "onehot"] = "ordinal") -> None:
        self.featurization = featurization
        self.encoding = encoding

    # -- fitting -----------------------------------------------------------------------
    def fit(self, X: pd.DataFrame, y: Any = None) -> "Featurizer":
        if not isinstance(X, pd.DataFrame):
            raise TypeError("the featurizer needs a pandas DataFrame of raw columns")
        overrides: dict[str, Purpose] = {}
        if isinstance(self.featurization, Mapping):
            overrides = {str(k): normalize_purpose(v) for k, v in self.featurization.items()}
        self.feature_names_in_ = np.array([str(c) for c in X.columns], dtype=object)
        self.purposes_: dict[str, Purpose] = {}
        self.fill_values_: dict[str, float] = {}
        self.categories_: dict[str, list[Any]] = {}
        self.numeric_source_: dict[str, bool] = {}
        for column in X.columns:
            name = str(column)
            series = X[column]
            if name in overrides:
                purpose = overrides[name]
            elif self.featurization == "off":
                purpose = "Numeric"
            else:
                purpose = auto_purpose(series)
            self.purposes_[name] = purpose
            if purpose == "Numeric":
                values = self._as_numbers(series)
                median = float(np.nanmedian(values)) if np.isfinite(values).any() else 0.0
                self.fill_values_[name] = median
            elif purpose == "Categorical":
                self.numeric_source_[name] = is_numeric_column(series)
                keys = self._category_keys(name, series).dropna()
                counts = keys.value_counts()
                # Most frequent first; the long tail beyond MAX_CATEGORIES shares the "other" code.
                self.categories_[name] = list(counts.index[:MAX_CATEGORIES])
        self.output_names_ = self._output_names()
        self.categorical_indices_ = [
            i for i, out in enumerate(self.output_names_)
            if self.encoding == "ordinal" and self.purposes_.get(out) == "Categorical"
        ]
        if not self.output_names_:
            raise ValueError("featurization left no usable column: every column is empty, constant or ignored")
        return self

    def _output_names(self) -> list[str]:
        names: list[str] = []
        for name, purpose in self.purposes_.items():
            if purpose == "Numeric":
                names.append(name)
            elif purpose == "Categorical":
                if self.encoding == "onehot":
                    names.extend(f"{name}={value}" for value in self.categories_[name])
                else:
                    names.append(name)
            elif purpose == "DateTime":
                names.extend(f"{name}_{part}" for part in _DATETIME_PARTS)
        return names

    # -- transforming ------------------------------------------------------------------
    @staticmethod
    def _as_numbers(series: pd.Series) -> np.ndarray:
        if pd.api.types.is_bool_dtype(series.dtype):
            return series.astype(float).to_numpy()
        if pd.api.types.is_numeric_dtype(series.dtype):
            return series.to_numpy(dtype=float, na_value=np.nan)
        return pd.to_numeric(series.astype("string"), errors="coerce").to_numpy(dtype=float, na_value=np.nan)

    def _category_keys(self, name: str, series: pd.Series) -> pd.Series:
        """Values as comparable keys: floats for a column that was numeric when fitted
        (so "1" and 1 match), stripped text otherwise."""
        if self.numeric_source_.get(name):
            return pd.Series(self._as_numbers(series), index=series.index)
        text = series.astype("string").str.strip()
        return text.astype(object).where(text.notna(), None)

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        if not hasattr(self, "purposes_"):
            raise RuntimeError("the featurizer is not fitted")
        X = as_frame(X)
        needed = [n for n, p in self.purposes_.items() if p != "Ignore"]
        missing = [n for n in needed if n not in X.columns]
        if missing:
            raise ValueError(f"the input is missing the column(s) {', '.join(missing)}; "
                             f"the model needs {', '.join(needed)}")
        blocks: list[np.ndarray] = []
        for name, purpose in self.purposes_.items():
            if purpose == "Numeric":
                values = self._as_numbers(X[name])
                values = np.where(np.isfinite(values), values, self.fill_values_[name])
                blocks.append(values[:, None])
            elif purpose == "Categorical":
                keys = self._category_keys(name, X[name])
                categories = self.categories_[name]
                lookup = {value: i for i, value in enumerate(categories)}
                codes = np.array([lookup.get(k, -1) if k is not None and k == k else -1 for k in keys],
                                 dtype=float)
                if self.encoding == "onehot":
                    onehot = np.zeros((len(codes), len(categories)))
                    known = codes >= 0
                    onehot[np.flatnonzero(known), codes[known].astype(int)] = 1.0
                    blocks.append(onehot)
                else:
                    blocks.append(codes[:, None])
            elif purpose == "DateTime":
                stamps = pd.to_datetime(X[name], errors="coerce", format="mixed") \
                    if not pd.api.types.is_datetime64_any_dtype(X[name].dtype) else X[name]
                parts = [getattr(stamps.dt, part).to_numpy(dtype=float, na_value=np.nan) for part in _DATETIME_PARTS]
                block = np.column_stack(parts)
                blocks.append(np.where(np.isfinite(block), block, -1.0))
        return np.column_stack(blocks) if blocks else np.empty((len(X), 0))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.array(self.output_names_, dtype=object)

    def source_column(self, output_name: str) -> str:
        """The raw column an output feature came from (importance is reported per raw column)."""
        for name, purpose in self.purposes_.items():
            if output_name == name or output_name.startswith(f"{name}=") or output_name.startswith(f"{name}_"):
                if purpose != "Ignore":
                    return name
        return output_name


def as_frame(X: Any) -> pd.DataFrame:
    """Accept what a scoring script may receive: a DataFrame, a dict of columns, or a list
    of row dicts (the service's ``{"data": [{...}]}`` payload)."""
    if isinstance(X, pd.DataFrame):
        return X
    if isinstance(X, dict):
        return pd.DataFrame(X if all(isinstance(v, (list, tuple, np.ndarray)) for v in X.values()) else [X])
    if isinstance(X, (list, tuple)) and all(isinstance(r, dict) for r in X):
        return pd.DataFrame(list(X))
    raise TypeError("the model takes a pandas DataFrame of raw columns (or a list of row dicts)")
