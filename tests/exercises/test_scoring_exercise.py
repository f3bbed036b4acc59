"""The scoring-script exercise: the learner's score.py, run as a service runs it, on sample trips and a bad one.

The check (tutor/exercises/scoring.py) runs in the real exercise kernel against a model trained
on the real data and registered in an embedded workspace through the azureml SDK, as the course
does. Each wrong script gets the sentence a learner needs; the course's own script passes.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tutor.exercises.checks import Probe, run_check
from tutor.exercises.session import Kernel
from tutor.exercises.spec import blanked, function_body, parse_exercise
from tutor.lessons import load_course
from tutor.paths import course_resource
from tutor.workspace.local import LocalWorkspace

ROWS = [
    {"vendorID": 1, "passengerCount": 1, "tripDistance": 4.2, "month_num": 1, "day_of_month": 4,
     "day_of_week": 1, "hour_of_day": 18},
    {"vendorID": 2, "passengerCount": 3, "tripDistance": 11.5, "month_num": 3, "day_of_month": 20,
     "day_of_week": 4, "hour_of_day": 8},
]
BAD = {**ROWS[0], "tripDistance": "far"}
PARAMS = {"file": "score/score.py", "model": "model", "rows": ROWS, "bad_row": BAD}

TRAIN = """
import joblib, os
import pandas as pd
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from tutor.prep import load_raw, prepare
from azureml.core import Workspace
from azureml.core.model import Model
frame, _ = prepare(load_raw({data!r}))
features = ["vendorID", "passengerCount", "tripDistance", "month_num", "day_of_month", "day_of_week", "hour_of_day"]
pipeline = make_pipeline(StandardScaler(), LinearRegression()).fit(frame[features].astype(float), frame["totalAmount"])
os.makedirs("outputs", exist_ok=True)
joblib.dump(pipeline, "outputs/model.pkl")
ws = Workspace.from_config()
model = Model.register(ws, model_path="outputs/model.pkl", model_name="sam-taxi-model")
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, data_path: Path):
    root = tmp_path_factory.mktemp("scoring")
    (root / "score").mkdir()
    LocalWorkspace(root / "ws", "sam-ws", create=True)
    kernel = Kernel(embedded=root / "ws", cwd=root)
    kernel.start()
    outcome = kernel.bind(TRAIN.format(data=str(data_path)))
    assert outcome.status == "ok", outcome.error
    yield root, kernel
    kernel.close()


def check_with(served, source: str) -> str | None:
    root, kernel = served
    (root / "score" / "score.py").write_text(source, encoding="utf-8")
    return run_check("scoring_script", Probe(kernel=kernel, open_workspace=lambda: None), PARAMS)


def course_script() -> str:
    return (course_resource("score") / "score.py").read_text(encoding="utf-8")


def with_run_body(body: str) -> str:
    return blanked(course_script(), "run", body)


def test_the_course_script_passes(served) -> None:
    assert check_with(served, course_script()) is None


def test_a_different_correct_body_passes_and_the_blank_does_not(served) -> None:
    assert check_with(served, with_run_body("return model.predict(data).tolist()")) is None
    said = check_with(served, with_run_body("return ____"))
    assert said is not None and said.startswith("run() raised NameError: name '____' is not defined (line ")
    assert said.endswith("on the sample trips")


def test_wrong_answers_are_told_what_is_wrong(served) -> None:
    said = check_with(served, with_run_body("return [20.0 for _ in range(len(data))]"))
    assert said is not None and said.startswith("run() returned 20.00 for trip 1; the model predicts ")
    said = check_with(served, with_run_body("return [float(model.predict(data)[0])]"))
    assert said == "run() returned 1 fare(s) for 2 trips: return one per row of data"
    said = check_with(served, with_run_body("return str(model.predict(data))"))
    assert said is not None and said.startswith("run() returned '[") and "one predicted fare" in said


def test_a_script_without_its_input_schema_lets_the_bad_trip_through(served) -> None:
    # run() parses the JSON itself: the sample trips work, but "far" reaches the model.
    source = course_script().replace('@input_schema("data", PandasParameterType(SAMPLE_INPUT))\n', "")
    source = source.replace('@output_schema(StandardPythonParameterType(SAMPLE_OUTPUT))\n', "")
    source = blanked(source, "run", "import json\nrows = pd.DataFrame(json.loads(data)['data'])\n"
                                    "return [float(f) for f in model.predict(rows)]")
    said = check_with(served, source)
    assert said is not None and said.startswith("a bad trip (tripDistance='far') gets through to run(): keep the @input_schema")


def test_scripts_that_do_not_load_or_start_say_where(served) -> None:
    said = check_with(served, course_script().replace("def init() -> None:", "def init() -> None\n"))
    assert said is not None and said.startswith("score/score.py does not load: SyntaxError") and "(line " in said
    said = check_with(served, course_script().replace('os.environ.get("AZUREML_MODEL_DIR")', 'os.environ["NOPE"]'))
    assert said is not None and said.startswith("init() in score/score.py raised KeyError: 'NOPE' (line ")
    said = check_with(served, course_script().replace("def run(", "def predict("))
    assert said is not None and "does not define a run() function" in said


def test_the_lesson_exercise_is_a_file_exercise_on_the_course_script() -> None:
    step = load_course().find_step("day1-deploy/scoring-script")
    assert step.exercise is not None and step.exercise.file == "score/score.py" and step.exercise.blank == "run"
    given = blanked(course_script(), "run", step.exercise.scaffold)
    assert "return ____" in given and given.count("def run(") == 1
    assert function_body(given, "init") == function_body(course_script(), "init")  # only run() changes


@pytest.mark.parametrize("raw, said", [
    ({"file": "score/nope.py"}, "the exercise's file 'score/nope.py' is not one of the course's files"),
    ({"file": "../etc/passwd"}, "is not one of the course's files"),
    ({"file": "score/score.py", "blank": "predict"}, "has no module-level function 'predict'"),
    ({"blank": "run"}, "the exercise's 'blank' names a function of its 'file'"),
])
def test_a_bad_file_exercise_is_a_lesson_error(raw: dict, said: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_exercise({"task": "t", "checks": [{"check": "true", "expr": "1", "message": "m"}], **raw},
                       ValueError, has_solution=True)
    assert said in str(caught.value)
