"""The engine's own search dimensions, here the ``loss`` one (squared or Huber)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tutor.automl.learners import HUBER_SCALES, LEARNERS, build_estimator, huber_delta, search_space
from tutor.automl.pipeline import AutoMLPipeline
from tutor.prep import FEATURES, LABEL

LGBM = {"n_estimators": 200, "num_leaves": 12, "min_child_samples": 30, "learning_rate": 0.05, "log_max_bin": 8,
        "colsample_bytree": 0.9, "reg_alpha": 0.001, "reg_lambda": 1.0, "target_transform": "none",
        "monotone": 1, "linear_base": 1}


def test_huber_threshold_is_robust_to_wild_values():
    rng = np.random.default_rng(0)
    clean = rng.normal(0.0, 1.0, 10_000)
    dirty = clean.copy()
    dirty[:100] = 1e6  # 1% of wild values
    assert huber_delta(clean) == pytest.approx(HUBER_SCALES, rel=0.05)
    assert huber_delta(dirty) == pytest.approx(huber_delta(clean), rel=0.05)
    assert huber_delta(np.zeros(10)) > 0
    assert huber_delta(np.array([np.nan])) > 0


@pytest.mark.parametrize("learner, offered", [("LightGBM", True), ("XGBoostRegressor", True),
                                              ("ExtremeRandomTrees", False), ("GradientBoosting", False),
                                              ("ElasticNet", False)])
def test_loss_is_searched_only_where_the_library_has_huber(learner, offered):
    spec = search_space(LEARNERS[learner], 10_000, 7, nonnegative_label=True, has_monotone=True)
    assert ("loss" in spec.space) is offered
    if offered:
        assert set(spec.space["loss"].categories) == {"squared", "huber"}


@pytest.mark.parametrize("learner, objective, threshold", [("LightGBM", "huber", "alpha"),
                                                           ("XGBoostRegressor", "reg:pseudohubererror", "huber_slope")])
def test_huber_loss_reaches_the_library(learner, objective, threshold):
    spec = search_space(LEARNERS[learner], 10_000, 7, nonnegative_label=True, has_monotone=True)
    config = {**spec.starting_points[0], "loss": "huber"}
    estimator = build_estimator(LEARNERS[learner], config, n_jobs=1, random_state=0, monotone=None, huber_delta=0.7)
    params = estimator.get_params()
    assert params["objective"] == objective
    assert params[threshold] == pytest.approx(0.7)
    squared = build_estimator(LEARNERS[learner], {**config, "loss": "squared"}, n_jobs=1, random_state=0,
                              monotone=None, huber_delta=0.7)
    assert squared.get_params()["objective"] != objective
    assert "Huber loss" in LEARNERS[learner].pipeline_name(config)
    assert "Huber" not in LEARNERS[learner].pipeline_name({**config, "loss": "squared"})


def test_huber_pipeline_is_pulled_less_by_wild_fares(small_train: pd.DataFrame):
    """1% of fares made $150 too high: the squared-loss fit follows them up, Huber's much less."""
    X = small_train[FEATURES]
    y = small_train[LABEL].to_numpy().copy()
    clean_mean = {}
    shift = {}
    wild = np.random.default_rng(1).choice(len(y), size=len(y) // 100, replace=False)
    dirty = y.copy()
    dirty[wild] += 150.0
    for loss in ("squared", "huber"):
        config = {**LGBM, "loss": loss}
        clean = AutoMLPipeline("LightGBM", config, monotone_features={"tripDistance": 1}).fit(X, y).predict(X)
        pulled = AutoMLPipeline("LightGBM", config, monotone_features={"tripDistance": 1}).fit(X, dirty).predict(X)
        clean_mean[loss] = float(clean.mean())
        shift[loss] = float(np.mean(pulled - clean))
    assert shift["squared"] > 1.0  # ~ 1% x $150
    assert shift["huber"] < shift["squared"] / 2
    assert abs(clean_mean["huber"] - clean_mean["squared"]) < 0.5  # on clean data both fit the bulk


def test_mean_correction_lifts_a_log_fit_to_the_mean_fare(small_train: pd.DataFrame):
    """A log1p fit with Huber's loss predicts below the mean fare; the correction closes that gap."""
    X = small_train[FEATURES]
    y = small_train[LABEL].to_numpy()
    config = {**LGBM, "target_transform": "log1p", "loss": "huber"}
    plain = AutoMLPipeline("LightGBM", config, monotone_features={"tripDistance": 1}).fit(X, y)
    corrected = AutoMLPipeline("LightGBM", config, monotone_features={"tripDistance": 1},
                               mean_correction=True).fit(X, y)
    gap = float(np.mean(y - plain.predict(X)))
    assert gap > 0.05  # skewed fares: the log fit sits under the mean
    assert float(np.mean(y - corrected.predict(X))) == pytest.approx(0.0, abs=1e-6)
    assert np.allclose(corrected.predict(X) - plain.predict(X), gap)
    # A plain squared-error fit on the raw label needs no correction and gets none.
    raw = AutoMLPipeline("LightGBM", {**LGBM, "loss": "squared"}, monotone_features={"tripDistance": 1},
                         mean_correction=True).fit(X, y)
    assert raw.offset_ == 0.0
