"""Ensembles over the search's out-of-fold predictions.

Every iteration leaves behind its out-of-fold predictions on the training data: each row
predicted by a model that never saw it. Blending those is how Azure builds its final
VotingEnsemble (Caruana et al., "Ensemble Selection from Libraries of Models", 2004): start
from nothing, repeatedly add (with replacement) the model whose inclusion most improves the
primary metric of the averaged prediction, and use the counts as weights. Models can be
picked several times, so a strong model gets a large weight and a weak-but-different one a
small weight; nothing is refitted to do it.

The StackEnsemble fits a meta-learner on the same out-of-fold matrix: a linear regression
with non-negative coefficients and an intercept. Non-negative keeps it a blend (no model
enters with a negative sign to cancel another's noise, which is what overfits stacks), and
the intercept lets it correct a member fitted on a compressed target (sqrt, log) whose
back-transformed predictions sit systematically low.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata

from tutor.automl.metrics import metric_goal


def primary_score(metric: str, y: np.ndarray, pred: np.ndarray, y_range: tuple[float, float]) -> float:
    """Just the primary metric (the selection loop evaluates it thousands of times)."""
    width = y_range[1] - y_range[0] or 1.0
    if metric == "normalized_root_mean_squared_error":
        return float(np.sqrt(np.mean((pred - y) ** 2)) / width)
    if metric == "normalized_mean_absolute_error":
        return float(np.mean(np.abs(pred - y)) / width)
    if metric == "r2_score":
        var = float(np.var(y)) or 1.0
        return 1.0 - float(np.mean((pred - y) ** 2)) / var
    if metric == "spearman_correlation":
        return _spearman(y, pred)
    raise ValueError(f"unknown primary metric {metric!r}")


def _spearman(y: np.ndarray, pred: np.ndarray) -> float:
    ry = rankdata(y)
    rp = rankdata(pred)
    ry = ry - ry.mean()
    rp = rp - rp.mean()
    denom = float(np.sqrt((ry**2).sum() * (rp**2).sum()))
    return float((ry * rp).sum() / denom) if denom > 0 else 0.0


def column_losses(metric: str, y: np.ndarray, blends: np.ndarray, y_range: tuple[float, float]) -> np.ndarray:
    """Loss (smaller is better) of each column of ``blends`` as predictions of ``y``
    (vectorised for the error metrics; Spearman ranks each column)."""
    sign = -1.0 if metric_goal(metric) == "maximize" else 1.0
    if metric in ("normalized_root_mean_squared_error", "r2_score"):
        mse = np.mean((blends - y[:, None]) ** 2, axis=0)
        if metric == "r2_score":
            return -(1.0 - mse / (float(np.var(y)) or 1.0))
        return np.sqrt(mse) / ((y_range[1] - y_range[0]) or 1.0)
    if metric == "normalized_mean_absolute_error":
        return np.mean(np.abs(blends - y[:, None]), axis=0) / ((y_range[1] - y_range[0]) or 1.0)
    return np.array([sign * primary_score(metric, y, blends[:, j], y_range) for j in range(blends.shape[1])])


@dataclass
class EnsembleChoice:
    """Weights over the candidate columns and the blend's out-of-fold predictions."""

    weights: np.ndarray
    prediction: np.ndarray
    intercept: float = 0.0


def greedy_ensemble_selection(oof: np.ndarray, y: np.ndarray, metric: str, y_range: tuple[float, float],
                              iterations: int = 15) -> EnsembleChoice:
    """Caruana's ensemble selection with replacement over the columns of ``oof``.

    ``iterations`` is the number of picks (Azure's ``ensemble_iterations`` defaults to 15):
    weights are multiples of 1/iterations. It stops early if no pick improves the metric.
    """
    n_rows, n_models = oof.shape
    if n_models == 0:
        raise ValueError("ensemble selection needs at least one model")
    counts = np.zeros(n_models)
    current = np.zeros(n_rows)
    best_loss = np.inf
    for step in range(iterations):
        blends = (current[:, None] * step + oof) / (step + 1)
        losses = column_losses(metric, y, blends, y_range)
        pick = int(np.argmin(losses))
        if losses[pick] >= best_loss and step > 0:
            break
        best_loss = float(losses[pick])
        counts[pick] += 1
        current = blends[:, pick]
    weights = counts / counts.sum()
    return EnsembleChoice(weights=weights, prediction=oof @ weights)


def stack_blend(oof: np.ndarray, y: np.ndarray) -> EnsembleChoice:
    """Non-negative least squares with a free intercept on the out-of-fold matrix.

    Solved on the k x k Gram matrix of the centred columns rather than the n x k matrix:
    the same solution, in microseconds instead of half a second on 18,000 rows, which lets
    early stopping re-check the blend after every iteration.
    """
    from scipy.optimize import nnls

    n_rows, n_models = oof.shape
    if n_models == 0:
        raise ValueError("stacking needs at least one model")
    means = oof.mean(axis=0)
    centred = oof - means
    y_mean = float(y.mean())
    gram = centred.T @ centred
    target = centred.T @ (y - y_mean)
    jitter = 1e-10 * (np.trace(gram) / n_models or 1.0)
    try:
        upper = np.linalg.cholesky(gram + jitter * np.eye(n_models)).T
        coef, _ = nnls(upper, np.linalg.solve(upper.T, target))
    except np.linalg.LinAlgError:  # singular even with jitter: solve the full problem
        coef, _ = nnls(centred, y - y_mean)
    coef = np.asarray(coef, dtype=float)
    if not (coef > 0).any():  # no member helps: fall back to the first (the best) alone
        coef = np.zeros(n_models)
        coef[0] = 1.0
        return EnsembleChoice(weights=coef, prediction=oof[:, 0], intercept=0.0)
    intercept = y_mean - float(means @ coef)
    return EnsembleChoice(weights=coef, prediction=intercept + oof @ coef, intercept=intercept)
