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

A test half is a sample, so its RMSE is an estimate with a margin: :func:`bootstrap_rmse`
gives a percentile interval for one model, and :func:`paired_rmse_difference` the interval of
the difference between two models scored on the same rows (much narrower, because both see
the same hard trips). On the course's 4,645-row test half a few wild fares dominate the
squared error, so these margins are what tells a real gain from luck.
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
AZURE_BEST_ACCURACY = 0.869
#: ... and its other published run on the same split: the two differ by 0.034 RMSE.
AZURE_OTHER_RMSE = 3.568

#: Resamples for the bootstrap intervals; at 2,000 the 95% limits move by about 1% of the
#: interval's width from one seed to another.
BOOTSTRAP_RESAMPLES = 2000


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


@dataclass(frozen=True)
class Interval:
    """An estimate with its percentile-bootstrap interval (``level`` is e.g. 0.95)."""

    estimate: float
    low: float
    high: float
    level: float

    def __contains__(self, value: float) -> bool:
        return self.low <= value <= self.high

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass(frozen=True)
class PairedDifference:
    """RMSE of model A minus RMSE of model B on the same rows, with its interval, and the share
    of resamples in which A had the lower RMSE. ``a`` and ``b`` are each model's own RMSE
    interval from the same resamples (what :func:`bootstrap_rmse` gives with the same seed)."""

    difference: Interval
    share_a_better: float
    a: Interval
    b: Interval

    @property
    def clear(self) -> bool:
        """True when the interval excludes zero: the sign of the difference is not luck."""
        return self.difference.high < 0 or self.difference.low > 0


def _resampled_means(columns: np.ndarray, resamples: int, seed: int) -> np.ndarray:
    """Means of each column of ``columns`` (rows x k) over ``resamples`` bootstrap samples of
    its rows: shape (resamples, k). Drawn in chunks to bound memory (about 10 MB a chunk)."""
    rng = np.random.default_rng(seed)
    n = len(columns)
    chunk = max(1, min(resamples, 1_000_000 // max(1, n)))
    out = np.empty((resamples, columns.shape[1]))
    done = 0
    while done < resamples:
        size = min(chunk, resamples - done)
        rows = rng.integers(0, n, size=(size, n))
        out[done:done + size] = columns[rows].mean(axis=1)
        done += size
    return out


def _check_pairs(y: np.ndarray, *predictions: np.ndarray) -> None:
    if len(y) < 2:
        raise ValueError("a bootstrap interval needs at least two rows")
    for p in predictions:
        if p.shape != y.shape:
            raise ValueError(f"y_true has shape {y.shape} but a prediction has shape {p.shape}")
        if not np.isfinite(p).all():
            raise ValueError("predictions must be finite numbers")


def _percentiles(values: np.ndarray, level: float) -> tuple[float, float]:
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, not {level}")
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(values, [tail, 100.0 - tail])
    return float(low), float(high)


def bootstrap_rmse(y_true: np.ndarray, y_pred: np.ndarray, *, resamples: int = BOOTSTRAP_RESAMPLES,
                   level: float = 0.95, seed: int = 0) -> Interval:
    """The RMSE of ``y_pred`` with a percentile-bootstrap interval over the rows: how far the
    figure could move on another sample of trips of the same size."""
    y = np.asarray(y_true, dtype=float)
    p = np.asarray(y_pred, dtype=float)
    _check_pairs(y, p)
    squared = ((p - y) ** 2)[:, None]
    rmses = np.sqrt(_resampled_means(squared, resamples, seed)[:, 0])
    low, high = _percentiles(rmses, level)
    return Interval(float(np.sqrt(squared.mean())), low, high, level)


def paired_rmse_difference(y_true: np.ndarray, pred_a: np.ndarray, pred_b: np.ndarray, *,
                           resamples: int = BOOTSTRAP_RESAMPLES, level: float = 0.95,
                           seed: int = 0) -> PairedDifference:
    """RMSE(A) - RMSE(B) on the same rows, with a paired bootstrap interval: each resample
    scores both models on the same trips, so the trips that are hard for both cancel out."""
    y = np.asarray(y_true, dtype=float)
    a = np.asarray(pred_a, dtype=float)
    b = np.asarray(pred_b, dtype=float)
    _check_pairs(y, a, b)
    squared = np.column_stack([(a - y) ** 2, (b - y) ** 2])
    rmses = np.sqrt(_resampled_means(squared, resamples, seed))
    own = [Interval(float(np.sqrt(squared[:, i].mean())), *_percentiles(rmses[:, i], level), level) for i in (0, 1)]
    differences = rmses[:, 0] - rmses[:, 1]
    low, high = _percentiles(differences, level)
    difference = Interval(own[0].estimate - own[1].estimate, low, high, level)
    return PairedDifference(difference, float(np.mean(differences < 0)), own[0], own[1])
