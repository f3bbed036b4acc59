"""Azure's regression metrics, the course's evaluation, and the featurizer's forgiveness."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr
from sklearn.metrics import mean_absolute_error, r2_score, root_mean_squared_error

from tutor.automl import evaluate_regression, regression_metrics
from tutor.automl.ensemble import greedy_ensemble_selection, primary_score, stack_blend
from tutor.automl.featurize import Featurizer, auto_purpose


def test_regression_metrics_match_their_definitions():
    rng = np.random.default_rng(0)
    y = rng.uniform(2, 60, 500)
    p = y + rng.normal(0, 3, 500)
    m = regression_metrics(y, p, y_range=(0.0, 100.0))
    assert m["root_mean_squared_error"] == pytest.approx(root_mean_squared_error(y, p))
    assert m["normalized_root_mean_squared_error"] == pytest.approx(root_mean_squared_error(y, p) / 100)
    assert m["normalized_mean_absolute_error"] == pytest.approx(mean_absolute_error(y, p) / 100)
    assert m["r2_score"] == pytest.approx(r2_score(y, p))
    assert m["spearman_correlation"] == pytest.approx(spearmanr(y, p).statistic)
    assert m["mean_absolute_percentage_error"] == pytest.approx(np.mean(np.abs(p - y) / y) * 100)
    assert "normalized_root_mean_squared_log_error" in m


def test_undefined_metrics_are_left_out_not_faked():
    y = np.array([-5.0, 1.0, 2.0, 3.0])
    m = regression_metrics(y, np.array([1.0, 1.0, 1.0, 1.0]))
    assert "root_mean_squared_log_error" not in m  # log of a negative fare
    assert "spearman_correlation" not in m  # a constant prediction has no ranking


def test_course_evaluation_uses_sum_of_errors_over_sum_of_actuals():
    ev = evaluate_regression(np.array([10.0, 20.0, 30.0]), np.array([12.0, 18.0, 33.0]))
    assert ev.mape == pytest.approx(7 / 60)
    assert ev.accuracy == pytest.approx(1 - 7 / 60)
    assert ev.rmse == pytest.approx(np.sqrt((4 + 4 + 9) / 3))
    assert not ev.beats_azure() or ev.rmse < 3.534


def test_greedy_selection_prefers_the_better_model_and_blends_complements():
    rng = np.random.default_rng(1)
    y = rng.normal(size=2000)
    good, noise_a, noise_b = y + rng.normal(0, 0.3, 2000), rng.normal(0, 1, 2000), rng.normal(0, 1, 2000)
    a, b = y + noise_a, y + noise_b  # equally good, independent errors: the blend beats both
    choice = greedy_ensemble_selection(np.column_stack([a, b]), y, "normalized_root_mean_squared_error", (-5, 5))
    assert choice.weights == pytest.approx([0.5, 0.5], abs=0.15)
    choice = greedy_ensemble_selection(np.column_stack([good, a]), y, "r2_score", (-5, 5))
    assert choice.weights[0] > 0.7
    spearman = greedy_ensemble_selection(np.column_stack([good, a]), y, "spearman_correlation", (-5, 5))
    assert primary_score("spearman_correlation", y, spearman.prediction, (-5, 5)) >= \
        primary_score("spearman_correlation", y, good, (-5, 5))


def test_stack_blend_is_non_negative_least_squares_with_intercept():
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(2)
    matrix = rng.normal(size=(3000, 6))
    y = matrix @ np.array([0.6, 0.3, 0.0, -0.4, 0.1, 0.0]) + 2 + rng.normal(0, 0.1, 3000)
    choice = stack_blend(matrix, y)
    reference = LinearRegression(positive=True).fit(matrix, y)
    assert choice.weights == pytest.approx(reference.coef_, abs=1e-6)
    assert choice.intercept == pytest.approx(reference.intercept_, abs=1e-6)
    assert (choice.weights >= 0).all()


def test_auto_purposes():
    frame = pd.DataFrame({
        "distance": [1.0, 2.5, 3.0, 4.0] * 50,
        "surcharge": ["0.3", "0", "0.3", "0"] * 50,  # numbers stored as text (the raw file's)
        "vendor": ["CMT", "VTS", "CMT", "VTS"] * 50,
        "trip_id": [f"t{i}" for i in range(200)] + [],  # unique text: an identifier
        "pickup": pd.date_range("2015-01-01", periods=200, freq="h"),
        "constant": [7] * 200,
    })
    purposes = {c: auto_purpose(frame[c]) for c in frame.columns}
    assert purposes == {"distance": "Numeric", "surcharge": "Numeric", "vendor": "Categorical",
                        "trip_id": "Ignore", "pickup": "DateTime", "constant": "Ignore"}


def test_featurizer_accepts_the_course_payload_spelling():
    """The service receives the sample trip with vendorID "1", month_num "1" as text."""
    train = pd.DataFrame({"vendorID": [1, 2, 1, 2], "tripDistance": [1.0, 2.0, 3.0, 4.0]})
    featurizer = Featurizer({"vendorID": "Categorical"}).fit(train)
    as_text = featurizer.transform(pd.DataFrame([{"vendorID": "1", "tripDistance": "4.2"}]))
    as_numbers = featurizer.transform(pd.DataFrame([{"vendorID": 1, "tripDistance": 4.2}]))
    assert np.array_equal(as_text, as_numbers)
    unseen = featurizer.transform(pd.DataFrame([{"vendorID": 9, "tripDistance": None}]))
    assert unseen[0, 0] == -1 and unseen[0, 1] == 2.5  # unknown category code; median fill
    onehot = Featurizer({"vendorID": "Categorical"}, encoding="onehot").fit(train)
    assert onehot.transform(pd.DataFrame([{"vendorID": "2", "tripDistance": 1}])).tolist() == [[0.0, 1.0, 1.0]]
    with pytest.raises(ValueError, match="tripDistance"):
        featurizer.transform(pd.DataFrame([{"vendorID": 1}]))


def test_featurizer_handles_pandas_string_dtype():
    train = pd.DataFrame({"vendor": pd.Series(["a", "b", "a", "c"] * 10, dtype="string"),
                          "x": np.arange(40.0)})
    featurizer = Featurizer().fit(train)
    assert featurizer.purposes_ == {"vendor": "Categorical", "x": "Numeric"}
    assert featurizer.transform(train.head(3))[:, 0].tolist() == [0.0, 1.0, 0.0]
