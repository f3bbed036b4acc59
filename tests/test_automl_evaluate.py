"""The AutoML evaluation step on a real embedded workspace: its margins, and bad test data refused."""

from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

from tutor.errors import StepFailed
from tutor.paths import CourseDir
from tutor.steps.automl import evaluate
from tutor.steps.base import Settings, StepContext
from tutor.workspace.local import LocalWorkspace

FEATURES = ["vendorID", "passengerCount", "tripDistance", "month_num", "day_of_month", "day_of_week",
            "hour_of_day"]


def _trips(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"vendorID": rng.integers(1, 3, n), "passengerCount": rng.integers(1, 6, n),
                          "tripDistance": rng.gamma(2.0, 1.5, n).round(2), "month_num": rng.integers(1, 13, n),
                          "day_of_month": rng.integers(1, 29, n), "day_of_week": rng.integers(0, 7, n),
                          "hour_of_day": rng.integers(0, 24, n)})
    frame["totalAmount"] = (4.0 + 3.0 * frame["tripDistance"] + rng.normal(0, 2.0, n)).round(2)
    return frame


def _context(tmp_path: Path, model, train: pd.DataFrame, test: pd.DataFrame,
             with_train: bool = True) -> StepContext:
    ws = LocalWorkspace(tmp_path / "ws", "eval-ws")
    files = []
    for name, frame in (("eval-train", train), ("eval-test", test)):
        path = tmp_path / f"{name}.csv"
        frame.to_csv(path, index=False)
        files.append(path)
    ws.default_datastore.upload_files(files, target_path="data/automl", overwrite=True)
    for name in ("eval-train", "eval-test"):
        ws.register_tabular_dataset(name, [f"data/automl/{name}.csv"], create_new_version=True)
    run = ws.start_logging("eval-experiment")
    joblib.dump(model, tmp_path / "model.pkl")
    ws.upload_run_file(run.id, "outputs/model.pkl", tmp_path / "model.pkl")
    ws.complete_run(run.id)
    params = {"run_from": "automl_run_id", "test_dataset": "automl_test"}
    if with_train:
        params["train_dataset"] = "automl_train"
    ctx = StepContext(settings=Settings(username="eve", course_dir=CourseDir(tmp_path)), params=params,
                      outputs={"automl_run_id": run.id, "automl_train": "eval-train", "automl_test": "eval-test"})
    ctx.workspace = ws
    return ctx


def test_a_model_equal_to_the_linear_regression_gains_exactly_nothing(tmp_path: Path) -> None:
    train, test = _trips(800, 1), _trips(300, 2)
    same = LinearRegression().fit(train[FEATURES], train["totalAmount"])
    result = evaluate(_context(tmp_path, same, train, test))
    evidence = result.evidence
    assert evidence["test_rows"] == 300
    assert evidence["linear_rmse"] == evidence["rmse"]
    assert evidence["linear_gain"] == evidence["linear_gain_low"] == evidence["linear_gain_high"] == 0.0
    assert evidence["rmse_low"] < evidence["rmse"] < evidence["rmse_high"]
    # Normal noise of sd 2 on 300 rows: the interval sits around 2 and is a few tenths wide.
    assert 1.6 < evidence["rmse_low"] < 2.0 < evidence["rmse_high"] < 2.4
    notes = [item.text for item in result.display if type(item).__name__ == "Note"]
    assert any("too little to call" in text for text in notes), notes


def test_a_worse_model_shows_a_clear_paired_loss(tmp_path: Path) -> None:
    train, test = _trips(800, 3), _trips(400, 4)
    worse = LinearRegression().fit(train[FEATURES], train["totalAmount"])
    worse.coef_ = worse.coef_ * 1.15  # the line, tilted: clearly worse than the course's fit
    result = evaluate(_context(tmp_path, worse, train, test))
    evidence = result.evidence
    assert evidence["linear_gain_high"] < 0 < evidence["linear_rmse"] < evidence["rmse"]
    notes = [item for item in result.display if type(item).__name__ == "Note"]
    assert any(note.kind == "warning" and "higher than the linear regression's" in note.text for note in notes)


def test_without_a_training_half_the_courses_figures_stand_in(tmp_path: Path) -> None:
    train, test = _trips(500, 5), _trips(200, 6)
    model = LinearRegression().fit(train[FEATURES], train["totalAmount"])
    result = evaluate(_context(tmp_path, model, train, test, with_train=False))
    assert "linear_rmse" not in result.evidence and "rmse_low" in result.evidence
    table = result.display[0]
    assert ["linear regression (course)", 3.685, "-", 0.139, 0.861] in table.rows


@pytest.mark.parametrize("spoil, words", [
    (lambda train, test: (train, test.drop(columns=["totalAmount"])), "has no column totalAmount"),
    (lambda train, test: (train, test.head(1)), "needs at least two"),
    (lambda train, test: (train.drop(columns=["hour_of_day"]), test), "lacks the test half's column(s) hour_of_day"),
    (lambda train, test: (train.assign(vendorID="VTS"), test), "needs numeric columns"),
])
def test_bad_halves_are_refused_with_what_to_do(tmp_path: Path, spoil, words: str) -> None:
    train, test = _trips(300, 7), _trips(100, 8)
    model = LinearRegression().fit(train[FEATURES], train["totalAmount"])
    train, test = spoil(train, test)
    with pytest.raises(StepFailed) as failure:
        evaluate(_context(tmp_path, model, train, test))
    assert words in str(failure.value) and failure.value.fix, str(failure.value)


def test_predictions_that_are_not_numbers_are_refused(tmp_path: Path) -> None:
    train, test = _trips(300, 9), _trips(100, 10)
    broken = LinearRegression().fit(train[FEATURES], train["totalAmount"])
    broken.coef_[2] = np.nan
    with pytest.raises(StepFailed) as failure:
        evaluate(_context(tmp_path, broken, train, test))
    assert "100 prediction(s) that are not numbers" in str(failure.value) and failure.value.fix


def test_with_no_recorded_run_the_model_kept_in_the_course_folder_is_evaluated(tmp_path: Path) -> None:
    """An Azure workspace records no AutoML run (the search runs on this machine): run_from is None,
    and the step reads the model the AutoML step kept in models/automl/ instead of failing."""
    train, test = _trips(500, 11), _trips(200, 12)
    model = LinearRegression().fit(train[FEATURES], train["totalAmount"])
    ctx = _context(tmp_path, model, train, test)
    ctx.outputs["automl_run_id"] = None
    with pytest.raises(StepFailed) as failure:
        evaluate(ctx)
    assert "There is no AutoML model in" in str(failure.value) and "Run the AutoML step again" in failure.value.fix
    (tmp_path / "models" / "automl").mkdir(parents=True)
    joblib.dump(model, tmp_path / "models" / "automl" / "model.pkl")
    assert evaluate(ctx).evidence["linear_gain"] == 0.0  # the same model as the course's fit
