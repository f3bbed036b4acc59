"""Regression metrics as Azure AutoML reports them, and the course's evaluation helper.

Azure shows a dozen regression metrics for every child run; the learner compares them
against the studio screenshots, so the names and definitions follow Azure's:

* ``normalized_*`` metrics divide by the range of the label (max - min) of the training
  data, so they are comparable across folds and datasets;
* ``mean_absolute_percentage_error`` is in percent, over the rows whose actual value is
  not zero (a zero actual has no percentage error);
* the log errors are defined only when no actual value is negative; predictions below
  zero are clipped to zero first (a fare cannot be negative, and ``log1p`` needs > -1).
  With negative actuals they are left out rather than faked.

The course itself (day 2 step 7) grades the final model with a different MAPE: the sum
of absolute errors over the sum of actuals. :func:`evaluate_regression` computes that
one, with RMSE and accuracy = 1 - MAPE, next to Azure's published figures.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
from scipy.stats import spearmanr

#: The metrics a learner may choose as primary metric for regression, and which way is better.
PRIMARY_METRICS: dict[str, Literal["maximize", "minimize"]] = {
    "spearman_correlation": "maximize",
    "normalized_root_mean_squared_error": "minimize",
    "r2_score": "maximize",
    "normalized_mean_absolute_error": "minimize",
}

DEFAULT_PRIMARY_METRIC = "normalized_root_mean_squared_error"

#: Azure AutoML's published best on the course's split (COURSE.md, reference figures).
AZURE_BEST_RMSE = 3.534
AZURE_BEST_MAPE = 0.1309


def metric_goal(name: str) -> Literal["maximize", "minimize"]:
    """Whether a larger value of primary metric ``name`` is better."""
    return PRIMARY_METRICS[name]


def to_loss(name: str, value: float) -> float:
    """``value`` of metric ``name`` as a loss (smaller is better), for the searcher.

    NaN (a metric that could not be computed) becomes +inf so such a trial never wins.
    """
    if value is None or not math.isfinite(value):
        return math.inf
    return -value if metric_goal(name) == "maximize" else value


def is_better(name: str, candidate: float | None, incumbent: float | None) -> bool:
    """True when ``candidate`` beats ``incumbent`` on metric ``name`` (None never wins)."""
    if candidate is None or not math.isfinite(candidate):
        return False
    if incumbent is None or not math.isfinite(incumbent):
        return True
    return to_loss(name, candidate) < to_loss(name, incumbent)


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray, y_range: tuple[float, float] | None = None
                       ) -> dict[str, float]:
    """Azure's regression metrics for predictions ``y_pred`` of ``y_true``.

    ``y_range`` is (min, max) of the label over the whole training data; the normalized
    metrics divide by its width. Without it the range of ``y_true`` is used.
    Metrics that are undefined for these values are omitted, never set to NaN.
    """
    y = np.asarray(y_true, dtype=float)
    p = np.asarray(y_pred, dtype=float)
    if y.shape != p.shape:
        raise ValueError(f"y_true has shape {y.shape} but y_pred has shape {p.shape}")
    if len(y) == 0:
        raise ValueError("cannot compute metrics on zero rows")
    lo, hi = (float(y.min()), float(y.max())) if y_range is None else y_range
    width = hi - lo
    err = p - y
    abs_err = np.abs(err)
    rmse = float(np.sqrt(np.mean(err**2)))
    mae = float(np.mean(abs_err))
    medae = float(np.median(abs_err))
    out: dict[str, float] = {
        "root_mean_squared_error": rmse,
        "mean_absolute_error": mae,
        "median_absolute_error": medae,
    }
    if width > 0:
        out["normalized_root_mean_squared_error"] = rmse / width
        out["normalized_mean_absolute_error"] = mae / width
        out["normalized_median_absolute_error"] = medae / width
    var = float(np.var(y))
    if var > 0:
        out["r2_score"] = 1.0 - float(np.mean(err**2)) / var
        out["explained_variance"] = 1.0 - float(np.var(err)) / var
    if np.ptp(p) > 0 and np.ptp(y) > 0:
        rho = spearmanr(y, p).statistic
        if math.isfinite(rho):
            out["spearman_correlation"] = float(rho)
    nonzero = y != 0
    if nonzero.any():
        out["mean_absolute_percentage_error"] = float(np.mean(abs_err[nonzero] / np.abs(y[nonzero])) * 100.0)
    if lo >= 0 and (y >= 0).all():
        rmsle = float(np.sqrt(np.mean((np.log1p(np.clip(p, 0.0, None)) - np.log1p(y)) ** 2)))
        out["root_mean_squared_log_error"] = rmsle
        log_width = math.log1p(hi) - math.log1p(lo)
        if log_width > 0:
            out["normalized_root_mean_squared_log_error"] = rmsle / log_width
    return out


@dataclass(frozen=True)
class RegressionEvaluation:
    """The course's day 2 step 7 figures for a model on held-out data.

    ``mape`` is sum(|error|) / sum(actual): the course's definition, which weights each
    trip by its fare (unlike Azure's per-row percentage); ``accuracy`` is 1 - mape.
    """

    rmse: float
    mape: float
    accuracy: float
    n: int

    def beats_azure(self) -> bool:
        """True when both RMSE and MAPE are below Azure AutoML's published best."""
        return self.rmse < AZURE_BEST_RMSE and self.mape < AZURE_BEST_MAPE

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def evaluate_regression(y_true: np.ndarray, y_pred: np.ndarray) -> RegressionEvaluation:
    """RMSE, MAPE (sum of absolute errors / sum of actuals) and accuracy (1 - MAPE)."""
    y = np.asarray(y_true, dtype=float)
    p = np.asarray(y_pred, dtype=float)
    if y.shape != p.shape:
        raise ValueError(f"y_true has shape {y.shape} but y_pred has shape {p.shape}")
    total = float(np.sum(y))
    if len(y) == 0 or total == 0:
        raise ValueError("MAPE needs at least one row and a non-zero sum of actual values")
    rmse = float(np.sqrt(np.mean((p - y) ** 2)))
    mape = float(np.sum(np.abs(p - y)) / total)
    return RegressionEvaluation(rmse=rmse, mape=mape, accuracy=1.0 - mape, n=int(len(y)))
