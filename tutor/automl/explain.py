"""Global feature importance of a fitted model, per raw input column.

Azure's "explain best model" shows which columns the model leans on. We compute
permutation importance: shuffle one raw column of held-out rows and measure how much
the RMSE grows. It works for any model (single pipeline or ensemble) because it only
calls ``predict`` on raw columns, and it is honest because the rows were not used to fit
the model being explained (the search passes a fold's held-out rows from the training
data, never the test half).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tutor.automl.records import FeatureImportance


def permutation_importance(model: Any, X: pd.DataFrame, y: np.ndarray, *, n_repeats: int = 3,
                           random_state: int = 0) -> list[FeatureImportance]:
    """Mean RMSE increase when each column of ``X`` is shuffled, largest first."""
    rng = np.random.default_rng(random_state)
    y_arr = np.asarray(y, dtype=float)
    baseline = _rmse(y_arr, model.predict(X))
    results: list[FeatureImportance] = []
    for column in X.columns:
        increases = []
        for _ in range(n_repeats):
            shuffled = X.copy()
            shuffled[column] = X[column].to_numpy()[rng.permutation(len(X))]
            increases.append(_rmse(y_arr, model.predict(shuffled)) - baseline)
        results.append(FeatureImportance(feature=str(column), importance=float(np.mean(increases)),
                                         std=float(np.std(increases))))
    return sorted(results, key=lambda item: item.importance, reverse=True)


def _rmse(y: np.ndarray, pred: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(pred, dtype=float) - y) ** 2)))
