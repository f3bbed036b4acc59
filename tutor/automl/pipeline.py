"""The fitted models AutoML hands back: raw columns in, fares out.

Azure's best model is a scikit-learn pipeline that starts with its featurizer, so the
deployed service takes the columns the learner knows (vendorID, tripDistance, ...) rather
than an encoded matrix. These classes keep that promise:

* :class:`AutoMLPipeline`: featurizer -> scaler -> learner, with the label optionally
  fitted on a transformed scale (sqrt/log1p) and mapped back at prediction time, and
  optionally on top of a linear base (see :mod:`tutor.automl.learners`);
* :class:`VotingEnsembleRegressor`: a weighted average of pipelines (Azure's VotingEnsemble);
* :class:`StackEnsembleRegressor`: a non-negative linear blend with intercept (StackEnsemble).

All are scikit-learn estimators (``get_params``/``fit``/``predict``/``score``) and hold only
library objects and plain values, so ``joblib.dump`` works and the file loads in any
process that has the tutor and its packages installed.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any, Mapping

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.linear_model import LinearRegression

from tutor.automl.featurize import Featurizer, as_frame
from tutor.automl.learners import (
    LEARNERS,
    NO_DEADLINE,
    Deadline,
    build_estimator,
    fit_estimator,
    forward_feature,
    forward_target,
    huber_delta,
    inverse_target,
    make_scaler,
)


class AutoMLPipeline(BaseEstimator, RegressorMixin):
    """One searched pipeline, refittable and picklable.

    ``learner`` is the Azure model name; ``hyperparameters`` the configuration the search
    chose (including the engine's ``target_transform`` and ``monotone`` choices);
    ``monotone_features`` maps raw column -> +1/-1 for the columns monotone constraints may
    apply to (found on the training data, used only when ``monotone`` is 1).

    ``mean_correction``: a model fitted on a compressed scale (sqrt, log1p) or with Huber's
    loss predicts something between the median and the mean of the fare, lower than the
    mean because fares are skewed upwards. The squared-error metrics want the mean, so the
    pipeline adds the mean of its own training residuals to every prediction. The search
    turns this on for the RMSE, r2 and Spearman metrics (a shift cannot change a rank) and
    off for normalized MAE, which the median suits. Measured on the course's training half
    (5-fold CV, 3 repeats), LightGBM on log1p with Huber's loss: RMSE 3.733 -> 3.729.
    """

    def __init__(self, learner: str = "LightGBM", hyperparameters: Mapping[str, Any] | None = None,
                 featurization: str | Mapping[str, str] = "auto",
                 monotone_features: Mapping[str, int] | None = None, n_jobs: int = 1,
                 random_state: int = 0, mean_correction: bool = False) -> None:
        self.learner = learner
        self.hyperparameters = hyperparameters
        self.featurization = featurization
        self.monotone_features = monotone_features
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.mean_correction = mean_correction

    @property
    def pipeline_name(self) -> str:
        return LEARNERS[self.learner].pipeline_name(dict(self.hyperparameters or {}))

    def fit(self, X: pd.DataFrame, y: Any) -> "AutoMLPipeline":
        """Fit on raw columns ``X`` and label ``y`` (no time limit)."""
        return self.fit_within(X, y, NO_DEADLINE)

    def fit_within(self, X: pd.DataFrame, y: Any, deadline: Deadline) -> "AutoMLPipeline":
        """Fit, raising :class:`~tutor.automl.learners.TrialTimeout` if ``deadline`` passes."""
        spec = LEARNERS[self.learner]
        config = dict(self.hyperparameters or {})
        X = as_frame(X)
        y_arr = np.asarray(y, dtype=float)
        self.featurizer_ = Featurizer(self.featurization, encoding=spec.encoding).fit(X)
        matrix = self.featurizer_.transform(X)
        directions = [int(self.monotone_features.get(self.featurizer_.source_column(name), 0))
                      if self.monotone_features and self.featurizer_.purposes_.get(name) == "Numeric" else 0
                      for name in self.featurizer_.output_names_]
        self.target_transform_ = str(config.get("target_transform", "none"))
        target = forward_target(self.target_transform_, y_arr)
        self.base_columns_: list[int] = []
        self.base_ = None
        if config.get("linear_base") and any(directions):
            self.base_columns_ = [i for i, d in enumerate(directions) if d]
            self.base_shaped_ = [bool(matrix[:, i].min() >= 0) for i in self.base_columns_]
            base_matrix = self._base_matrix(matrix)
            self.base_ = LinearRegression().fit(base_matrix, target)
            target = target - self.base_.predict(base_matrix)
        self.scaler_ = make_scaler(spec.scaler).fit(matrix)
        scaled = self.scaler_.transform(matrix)
        monotone = directions if spec.supports_monotone and any(directions) else None
        delta = huber_delta(target) if config.get("loss") == "huber" else None
        self.estimator_ = build_estimator(spec, config, n_jobs=self.n_jobs, random_state=self.random_state,
                                          monotone=monotone, huber_delta=delta)
        with _thread_limit(self.n_jobs):
            fit_estimator(spec, self.estimator_, scaled, target, deadline)
        self.offset_ = 0.0
        if self.mean_correction and (self.target_transform_ != "none" or config.get("loss") == "huber"):
            self.offset_ = float(np.mean(y_arr - self._predict_matrix(matrix)))
        self.feature_names_in_ = self.featurizer_.feature_names_in_
        self.n_features_in_ = len(self.feature_names_in_)
        return self

    def _base_matrix(self, matrix: np.ndarray) -> np.ndarray:
        """The linear base's inputs: the monotone columns on the target's scale (a column
        with negative values stays as it is: sqrt/log are not defined there)."""
        columns = [forward_feature(self.target_transform_, matrix[:, i]) if shaped else matrix[:, i]
                   for i, shaped in zip(self.base_columns_, self.base_shaped_)]
        return np.column_stack(columns)

    def predict(self, X: Any) -> np.ndarray:
        """Predictions for raw rows (DataFrame, dict of columns or list of row dicts)."""
        matrix = self.featurizer_.transform(as_frame(X))
        return self._predict_matrix(matrix) + getattr(self, "offset_", 0.0)

    def _predict_matrix(self, matrix: np.ndarray) -> np.ndarray:
        """Featurized rows -> fares, before the mean correction."""
        with _thread_limit(self.n_jobs):
            raw = np.asarray(self.estimator_.predict(self.scaler_.transform(matrix)), dtype=float).ravel()
        if self.base_ is not None:
            raw = raw + self.base_.predict(self._base_matrix(matrix))
        return inverse_target(self.target_transform_, raw)


class VotingEnsembleRegressor(BaseEstimator, RegressorMixin):
    """Weighted average of fitted pipelines (weights from greedy ensemble selection)."""

    def __init__(self, estimators: list[AutoMLPipeline] | None = None,
                 weights: list[float] | None = None, n_jobs: int = 1) -> None:
        self.estimators = estimators
        self.weights = weights
        self.n_jobs = n_jobs

    @property
    def pipeline_name(self) -> str:
        return "VotingEnsemble"

    @classmethod
    def from_fitted(cls, members: list[AutoMLPipeline], weights: list[float]) -> "VotingEnsembleRegressor":
        """An ensemble of already-fitted members (no refit): the search's fold models."""
        ensemble = cls(estimators=members, weights=weights)
        ensemble.estimators_ = list(members)
        ensemble.weights_ = _normalise(weights, len(members))
        ensemble.feature_names_in_ = members[0].feature_names_in_
        ensemble.n_features_in_ = len(ensemble.feature_names_in_)
        return ensemble

    def fit(self, X: pd.DataFrame, y: Any) -> "VotingEnsembleRegressor":
        return self.fit_within(X, y, NO_DEADLINE)

    def fit_within(self, X: pd.DataFrame, y: Any, deadline: Deadline) -> "VotingEnsembleRegressor":
        """Refit every member on (X, y); the weights stay those chosen by the search."""
        members = list(self.estimators or [])
        self.estimators_ = _fit_members(members, X, y, deadline, self.n_jobs)
        self.weights_ = _normalise(self.weights, len(members))
        self.feature_names_in_ = self.estimators_[0].feature_names_in_
        self.n_features_in_ = len(self.feature_names_in_)
        return self

    def predict(self, X: Any) -> np.ndarray:
        frame = as_frame(X)
        preds = np.column_stack([m.predict(frame) for m in self.estimators_])
        return preds @ self.weights_


class StackEnsembleRegressor(BaseEstimator, RegressorMixin):
    """Linear blend ``intercept + sum(coef_i * member_i)`` with coefficients >= 0.

    The coefficients were fitted on out-of-fold predictions during the search (that is what
    makes stacking honest: the meta-learner never sees a member's in-sample predictions), so
    ``fit`` refits the members and keeps the blend.
    """

    def __init__(self, estimators: list[AutoMLPipeline] | None = None, coef: list[float] | None = None,
                 intercept: float = 0.0, n_jobs: int = 1) -> None:
        self.estimators = estimators
        self.coef = coef
        self.intercept = intercept
        self.n_jobs = n_jobs

    @property
    def pipeline_name(self) -> str:
        return "StackEnsemble"

    @classmethod
    def from_fitted(cls, members: list[AutoMLPipeline], coef: list[float],
                    intercept: float) -> "StackEnsembleRegressor":
        """A stack of already-fitted members (no refit): the search's fold models."""
        stack = cls(estimators=members, coef=coef, intercept=intercept)
        stack.estimators_ = list(members)
        stack.coef_ = np.asarray(coef, dtype=float)
        stack.feature_names_in_ = members[0].feature_names_in_
        stack.n_features_in_ = len(stack.feature_names_in_)
        return stack

    def fit(self, X: pd.DataFrame, y: Any) -> "StackEnsembleRegressor":
        return self.fit_within(X, y, NO_DEADLINE)

    def fit_within(self, X: pd.DataFrame, y: Any, deadline: Deadline) -> "StackEnsembleRegressor":
        members = list(self.estimators or [])
        self.estimators_ = _fit_members(members, X, y, deadline, self.n_jobs)
        self.coef_ = np.asarray(self.coef if self.coef is not None else np.full(len(members), 1 / len(members)),
                                dtype=float)
        self.feature_names_in_ = self.estimators_[0].feature_names_in_
        self.n_features_in_ = len(self.feature_names_in_)
        return self

    def predict(self, X: Any) -> np.ndarray:
        frame = as_frame(X)
        preds = np.column_stack([m.predict(frame) for m in self.estimators_])
        return float(self.intercept) + preds @ self.coef_


def _thread_limit(n_jobs: int) -> Any:
    """Cap OpenMP threads for this thread's fit/predict. scikit-learn's histogram boosting
    has no thread parameter and grabs every core through OpenMP; with the search running
    folds in parallel on a shared machine that oversubscription made it 5x slower (measured).
    The OpenMP setting is per calling thread, so concurrent folds do not disturb each other."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=max(1, int(n_jobs)), user_api="openmp")


def _fit_members(members: list[AutoMLPipeline], X: pd.DataFrame, y: Any, deadline: Deadline,
                 n_jobs: int) -> list[AutoMLPipeline]:
    """Fit copies of the members, ``n_jobs`` at a time (threads: the learners release the GIL)."""
    if not members:
        raise ValueError("an ensemble needs at least one member")
    X = as_frame(X)
    if n_jobs <= 1 or len(members) == 1:
        return [clone(m).fit_within(X, y, deadline) for m in members]
    with ThreadPoolExecutor(max_workers=min(n_jobs, len(members))) as pool:
        return list(pool.map(lambda m: clone(m).fit_within(X, y, deadline), members))


def _normalise(weights: list[float] | None, n: int) -> np.ndarray:
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    if len(w) != n or w.sum() <= 0:
        raise ValueError("ensemble weights must be one non-negative number per member, not all zero")
    return w / w.sum()
