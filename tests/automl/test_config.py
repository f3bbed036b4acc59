"""AutoMLConfig.validate: every mistake is caught before any model is trained, with a fix."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from tutor.automl import AutoMLConfig, AutoMLConfigError, run_automl
from tutor.automl.config import STARTING_POINTS_MIN_BUDGET_S
from tutor.errors import TutorError


def config(frame: pd.DataFrame, **overrides) -> AutoMLConfig:
    settings = dict(task="regression", training_data=frame, label_column_name="totalAmount",
                    n_cross_validations=5, experiment_timeout_minutes=1)
    settings.update(overrides)
    return AutoMLConfig(**settings)


def refused(cfg: AutoMLConfig) -> AutoMLConfigError:
    """validate() and run_automl() both refuse, quickly (before any work)."""
    with pytest.raises(AutoMLConfigError) as caught:
        cfg.validate()
    started = time.monotonic()
    with pytest.raises(AutoMLConfigError):
        run_automl(cfg, on_child=lambda child: pytest.fail("no iteration may run"))
    assert time.monotonic() - started < 2
    assert isinstance(caught.value, TutorError) and caught.value.fix
    return caught.value


def test_a_good_config_resolves(small_train):
    settings = config(small_train).validate()
    assert settings.X.shape == (6000, 7) and "totalAmount" not in settings.X.columns
    assert len(settings.splits) == 5
    assert all(len(valid) in (1200,) for _, valid in settings.splits)
    covered = np.sort(np.concatenate([valid for _, valid in settings.splits]))
    assert (covered == np.arange(6000)).all()  # every row scored once
    assert settings.budget_s == 60 and settings.use_starting_points
    assert settings.learners[0] == "LightGBM"


def test_other_tasks_are_refused(small_train):
    error = refused(config(small_train, task="classification"))
    assert "classification" in error.what and "regression" in error.fix


def test_unknown_primary_metric_lists_the_valid_ones(small_train):
    error = refused(config(small_train, primary_metric="accuracy"))
    assert "spearman_correlation" in error.fix


def test_missing_label_column_names_the_columns(small_train):
    error = refused(config(small_train, label_column_name="fare"))
    assert "'fare'" in error.what and "tripDistance" in error.fix


def test_non_numeric_label_is_refused(small_train):
    frame = small_train.assign(totalAmount=small_train["totalAmount"].map(lambda v: f"${v:.2f}"))
    error = refused(config(frame))
    assert "not numeric" in error.what


def test_label_stored_as_numeric_text_gets_a_conversion_hint(small_train):
    frame = small_train.assign(totalAmount=small_train["totalAmount"].astype(str))
    error = refused(config(frame))
    assert "pd.to_numeric" in error.fix


def test_too_few_rows_for_the_folds(small_train):
    error = refused(config(small_train.head(30), n_cross_validations=5))
    assert "too few" in error.what and "fewer folds" in error.fix


def test_budget_too_small_for_one_iteration(small_train):
    error = refused(config(small_train, experiment_timeout_minutes=0.005))
    assert "too short" in error.what and "experiment_timeout_minutes" in error.fix


def test_iteration_timeout_too_small(small_train):
    error = refused(config(small_train, iteration_timeout_minutes=0.001))
    assert "iteration" in error.what


def test_every_model_blocked(small_train):
    from tutor.automl import MODEL_NAMES

    error = refused(config(small_train, blocked_models=list(MODEL_NAMES)))
    assert "blocked" in error.what.lower()
    error = refused(config(small_train, allowed_models=["LightGBM"], blocked_models=["LightGBM"]))
    assert "blocked" in error.what.lower()


def test_unknown_model_names_list_the_valid_ones(small_train):
    error = refused(config(small_train, blocked_models=["LightGBM", "CatBoost"]))
    assert "CatBoost" in error.what and "XGBoostRegressor" in error.what


def test_azure_only_models_can_be_blocked_but_not_allowed(small_train):
    assert config(small_train, blocked_models=["TensorFlowDNN"]).validate().learners
    error = refused(config(small_train, allowed_models=["TensorFlowDNN"]))
    assert "embedded engine" in error.what


def test_model_names_are_case_insensitive(small_train):
    settings = config(small_train, allowed_models=["lightgbm", "ELASTICNET"]).validate()
    assert settings.learners == ["LightGBM", "ElasticNet"]


def test_folds_and_validation_data_are_exclusive(small_train):
    refused(config(small_train, validation_data=small_train.head(100)))


def test_validation_data_must_have_the_columns(small_train):
    error = refused(config(small_train, n_cross_validations=None,
                           validation_data=small_train.drop(columns=["hour_of_day"]).head(100)))
    assert "hour_of_day" in error.what


def test_featurization_checks(small_train):
    error = refused(config(small_train, featurization={"pickupZone": "Categorical"}))
    assert "pickupZone" in error.what
    error = refused(config(small_train, featurization={"vendorID": "Colour"}))
    assert "Colour" in error.what
    text = small_train.assign(vendorID=small_train["vendorID"].map({1: "CMT", 2: "VTS"}))
    error = refused(config(text, featurization="off"))
    assert "vendorID" in error.what
    assert config(text).validate()  # "auto" handles the text column


def test_budget_units(small_train):
    assert config(small_train, experiment_timeout_minutes=None, experiment_timeout_hours=0.3).validate().budget_s \
        == pytest.approx(1080)
    refused(config(small_train, experiment_timeout_minutes=10, experiment_timeout_hours=1))
    small = config(small_train, experiment_timeout_minutes=STARTING_POINTS_MIN_BUDGET_S / 120).validate()
    assert not small.use_starting_points  # a short budget starts from FLAML's cheap corner


def test_azure_default_validation_rule(small_train, split):
    assert len(config(small_train, n_cross_validations=None).validate().splits) == 3
    big = config(split[0], n_cross_validations=None).validate()
    assert len(big.splits) == 3  # 18,577 rows: still under 20,000
    twice = pd.concat([split[0], split[1], split[0].head(2000)])
    held = config(twice, n_cross_validations=None).validate()
    assert held.validation == "10% validation split" and len(held.splits) == 1


def test_rows_without_a_label_are_left_out_with_a_note(small_train):
    frame = small_train.copy()
    frame.iloc[:10, frame.columns.get_loc("totalAmount")] = np.nan
    settings = config(frame).validate()
    assert len(settings.y) == 5990 and any("no label" in note for note in settings.notes)
