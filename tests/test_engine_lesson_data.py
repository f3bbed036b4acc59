"""The engine knows no lesson: sample trips and the steps to go back to come from the lesson data."""

from __future__ import annotations

from pathlib import Path

import joblib
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

from tutor.errors import TutorError
from tutor.paths import CourseDir
from tutor.steps.base import Settings, StepContext
from tutor.steps.training import predict_local
from tutor.workspace.local import LocalWorkspace

TRIP = {"vendorID": 2, "passengerCount": 3, "tripDistance": 9.5, "month_num": 3,
        "day_of_month": 20, "day_of_week": 5, "hour_of_day": 7}


def _context(tmp_path: Path, trips: object) -> tuple[StepContext, LinearRegression]:
    frame = pd.DataFrame([{**TRIP, "tripDistance": d, "totalAmount": 3.0 + 2.5 * d} for d in (1.0, 2.0, 4.0, 8.0)])
    model = LinearRegression().fit(frame[list(TRIP)], frame["totalAmount"])
    ws = LocalWorkspace(tmp_path / "ws", "trips-ws")
    run = ws.start_logging("trips-experiment")
    joblib.dump(model, tmp_path / "model.pkl")
    ws.upload_run_file(run.id, "outputs/model.pkl", tmp_path / "model.pkl")
    ws.complete_run(run.id)
    ctx = StepContext(settings=Settings(username="eve", course_dir=CourseDir(tmp_path)),
                      params={"run_from": "best_run_id", "trips": trips}, outputs={"best_run_id": run.id})
    ctx.workspace = ws
    return ctx, model


def test_the_step_predicts_the_trip_its_lesson_gives(tmp_path: Path) -> None:
    ctx, model = _context(tmp_path, [TRIP])
    result = predict_local(ctx)
    expected = float(model.predict(pd.DataFrame([TRIP]))[0])
    assert result.evidence["prediction"] == round(expected, 4)
    assert round(expected, 4) == round(3.0 + 2.5 * 9.5, 4)
    facts = next(item for item in result.display if type(item).__name__ == "Facts")
    assert dict(facts.items)["tripDistance"] == 9.5


@pytest.mark.parametrize("trips", [[], "a trip", [1, 2], [{}], None])
def test_a_lesson_with_bad_trips_is_told_what_to_write(tmp_path: Path, trips: object) -> None:
    ctx, _ = _context(tmp_path, trips)
    if trips is None:
        ctx.params.pop("trips")
    with pytest.raises(TutorError) as caught:
        predict_local(ctx)
    assert "trips" in caught.value.what



def test_a_missing_file_sends_the_learner_back_to_the_step_that_made_it(tmp_path: Path) -> None:
    from tutor.errors import StepFailed
    from tutor.progress import Progress
    from tutor.steps.datasets import upload

    progress = Progress.open(tmp_path / "eve.json", "eve", lock=False)
    order = ["day2-python/prepare", "day2-python/upload"]
    progress.mark_running(order[0])
    progress.mark_done(order[0], evidence={}, outputs={"prepared_csv": str(tmp_path / "gone.csv")}, duration_s=1.0)
    assert progress.output_sources(order) == {"prepared_csv": "day2-python/prepare"}
    ctx = StepContext(settings=Settings(username="eve", course_dir=CourseDir(tmp_path)),
                      params={"files": ["prepared_csv"], "target_path": "data/prepped"},
                      outputs=progress.outputs(order), output_steps=progress.output_sources(order))
    with pytest.raises(StepFailed) as caught:
        upload(ctx)
    assert "gone.csv" in caught.value.what
    assert "tutor reset --step day2-python/prepare" in (caught.value.fix or "")
