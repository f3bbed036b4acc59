"""Lesson files: the shipped ones load, and every kind of mistake is named with file, step and reason."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tutor.errors import LessonError
from tutor.lessons import Check, load_course, load_lesson, sdk_code
from tutor_testing import flat, run_tutor

GOOD_STEP = """
[[steps]]
id = "prepare"
title = "Prepare"
explanation = "Some text for {username}."
action = "data.prepare"
done_when = ["rows_final == 23222"]
"""


def write(tmp_path: Path, body: str, name: str = "lesson.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def header(lesson_id: str = "my-lesson") -> str:
    return f'id = "{lesson_id}"\ntitle = "My lesson"\nday = 1\norder = 5\n'


def test_shipped_lessons_load_in_course_order() -> None:
    course = load_course()
    assert course.lessons, "no lessons shipped"
    keys = [s.key for s in course.steps]
    assert len(keys) == len(set(keys))
    assert "day1-data/prepare" in keys
    orders = [(l.day, l.order) for l in course.lessons]
    assert orders == sorted(orders)


def test_a_good_lesson_loads(tmp_path: Path) -> None:
    lesson = load_lesson(write(tmp_path, header() + GOOD_STEP))
    assert lesson.steps[0].key == "my-lesson/prepare"
    assert lesson.steps[0].done_when == (Check("rows_final", "==", 23222, "rows_final == 23222"),)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (GOOD_STEP.replace("data.prepare", "data.nonsense"), "unknown action 'data.nonsense'"),
        (GOOD_STEP + GOOD_STEP, "this step id is used twice"),
        (GOOD_STEP.replace("{username}", "{user_name}"), "unknown template variable {user_name}"),
        (GOOD_STEP.replace('title = "Prepare"\n', ""), "the field 'title' is missing"),
        (GOOD_STEP.replace('"rows_final == 23222"', '"rows_final is big"'), "is not of the form"),
        (GOOD_STEP + 'params = { colour = "red" }\n', "has no parameter 'colour'"),
        (GOOD_STEP + '[steps.question]\nkind = "select"\nprompt = "?"\nchoices = ["a", "b"]\nanswer = "c"\n',
         "the answer 'c' is not one of the choices"),
        (GOOD_STEP + '[steps.question]\nkind = "text"\nprompt = "?"\n', "exactly one of 'answer'"),
        (GOOD_STEP + 'colour = "red"\n', "unknown field 'colour'"),
        (GOOD_STEP + '[steps.code]\npython_v3 = "x = 1"\n', "the code table has 'python_v3'"),
        (GOOD_STEP + '[steps.code]\npython_v2 = "x = 1"\n', "python_v2 code but no python (SDK v1) code"),
        (GOOD_STEP + 'v2_note = "differs"\n[steps.code]\npython = "x = 1"\n', "a v2_note but no python_v2"),
        (GOOD_STEP + 'v2_note = 3\n[steps.code]\npython = "x = 1"\npython_v2 = "y = 1"\n', "'v2_note' must be text"),
    ],
)
def test_mistakes_name_file_step_and_reason(tmp_path: Path, body: str, reason: str) -> None:
    path = write(tmp_path, header() + body)
    with pytest.raises(LessonError) as caught:
        load_lesson(path)
    message = caught.value.what
    assert str(path) in message
    assert "step 'prepare'" in message
    assert reason in message


def test_broken_toml_and_missing_steps(tmp_path: Path) -> None:
    with pytest.raises(LessonError, match="not valid TOML"):
        load_lesson(write(tmp_path, header() + "[[steps]\n"))
    with pytest.raises(LessonError, match="it has no steps"):
        load_lesson(write(tmp_path, header()))


def test_duplicate_lesson_ids_across_files(tmp_path: Path) -> None:
    a = write(tmp_path, header("same") + GOOD_STEP, "a.toml")
    b = write(tmp_path, header("same") + GOOD_STEP, "b.toml")
    with pytest.raises(LessonError, match="also used by"):
        load_course([a, b])


def test_check_expressions() -> None:
    evidence = {"rows": 23222, "metrics": {"r2": 0.89}, "name": "x"}
    assert Check("rows", "==", 23222).holds(evidence)
    assert Check("metrics.r2", ">", 0.8).holds(evidence)
    assert not Check("metrics.r2", ">", 0.95).holds(evidence)
    assert Check("name", "exists").holds(evidence)
    assert not Check("missing", "exists").holds(evidence)
    assert not Check("name", ">", 3).holds(evidence)  # type mismatch is "not done", not a crash


def test_lessons_check_command_reports_a_bad_file_without_traceback(tmp_path: Path) -> None:
    bad = write(tmp_path, header() + GOOD_STEP.replace("data.prepare", "data.nonsense"))
    result = run_tutor(["lessons", "check", str(bad)])
    assert result.returncode == 3
    assert "unknown action 'data.nonsense'" in flat(result.stdout + result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    good = run_tutor(["lessons", "check"])
    assert good.returncode == 0, good.stderr
    assert "day1-data" in good.stdout


def test_every_action_is_documented_for_lesson_authors() -> None:
    from tutor.paths import course_resource
    from tutor.steps import registry

    text = (course_resource("lessons") / "README.md").read_text(encoding="utf-8")
    missing = [name for name in registry() if f"`{name}`" not in text]
    assert missing == [], f"lessons/README.md does not list {missing}"


def test_each_sdk_track_shows_its_own_python_and_the_same_r(tmp_path: Path) -> None:
    body = (GOOD_STEP + 'v2_note = "No Workspace object in v2."\n[steps.code]\npython = "ws = Workspace.from_config()"\n'
            'python_v2 = "ml_client = MLClient.from_config(DefaultAzureCredential())"\nr = "library(azuremlsdk)"\n')
    (step,) = load_lesson(write(tmp_path, header() + body)).steps
    assert sdk_code(step, "v1") == {"python": "ws = Workspace.from_config()", "r": "library(azuremlsdk)"}
    assert sdk_code(step, "v2") == {"python": "ml_client = MLClient.from_config(DefaultAzureCredential())",
                                    "r": "library(azuremlsdk)"}
    assert step.v2_note == "No Workspace object in v2."
    (plain,) = load_lesson(write(tmp_path, header() + GOOD_STEP + '[steps.code]\npython = "x = 1"\n')).steps
    assert sdk_code(plain, "v2") == {"python": "x = 1"}  # no v2 form: the one form there is


def test_lessons_check_asks_for_the_v2_form_of_code_that_uses_the_sdk(tmp_path: Path) -> None:
    from tutor.lessons import v2_gaps

    def step(step_id: str, python: str, v2: str = "") -> str:
        code = f'[steps.code]\npython = """\n{python}\n"""\n' + (f'python_v2 = """\n{v2}\n"""\n' if v2 else "")
        return GOOD_STEP.replace('id = "prepare"', f'id = "{step_id}"') + code

    body = header() + "".join([
        step("connect", "from azureml.core import Workspace\nws = Workspace.from_config()", "ml_client = 1"),
        step("load", "import pandas as pd\ndf = pd.DataFrame()"),               # no SDK: one form serves both
        step("upload", "datastore = ws.get_default_datastore()"),               # uses ws: needs its v2 form
        step("use", "datastore.upload_files([])", "pass"),
        step("plain", "df.describe()"),
    ])
    path = write(tmp_path, body)
    assert v2_gaps(load_course([path])) == ["my-lesson/upload"]
    result = run_tutor(["lessons", "check", str(path)])
    assert result.returncode == 0  # one file: its fields; the gaps are the whole course's check


EXERCISE = '[steps.exercise]\ntask = "Write it."\nchecks = [{ check = "bound", name = "ws" }]\n'
EXERCISE_V2 = '[steps.exercise_v2]\ntask = "Write it in v2."\nchecks = [{ check = "bound", name = "ml_client" }]\n'


def test_each_track_asks_its_own_exercise_and_a_step_without_a_v2_form_asks_the_one(tmp_path: Path) -> None:
    from tutor.lessons import v2_exercise_gaps

    both = (GOOD_STEP + '[steps.code]\npython = "ws = 1"\npython_v2 = "ml_client = 1"\n' + EXERCISE + EXERCISE_V2)
    (step,) = load_lesson(write(tmp_path, header() + both)).steps
    assert step.exercise_for("v1").task == "Write it." and step.exercise_for("v2").task == "Write it in v2."
    assert step.exercise_for("v2").checks[0].params == {"name": "ml_client"}
    only_v1 = GOOD_STEP + '[steps.code]\npython = "ws = 1"\npython_v2 = "ml_client = 1"\n' + EXERCISE
    (gap,) = load_lesson(write(tmp_path, header() + only_v1)).steps
    assert gap.exercise_for("v2") is None  # the v2 track shows the v2 code and runs the step instead
    assert v2_exercise_gaps(load_course([write(tmp_path, header() + only_v1)])) == ["my-lesson/prepare"]
    one_form = GOOD_STEP + '[steps.code]\npython = "df = 1"\n' + EXERCISE
    (plain,) = load_lesson(write(tmp_path, header() + one_form)).steps
    assert plain.exercise_for("v2") is plain.exercise  # the code reads the same in both SDKs


def test_an_exercise_v2_needs_the_v2_code_it_is_checked_against(tmp_path: Path) -> None:
    body = header() + GOOD_STEP + '[steps.code]\npython = "ws = 1"\n' + EXERCISE + EXERCISE_V2
    with pytest.raises(LessonError) as caught:
        load_lesson(write(tmp_path, body))
    assert "'exercise_v2' is the SDK v2 form of the exercise: it needs the step's code.python_v2" in caught.value.what
    bad = header() + GOOD_STEP + '[steps.code]\npython = "ws = 1"\npython_v2 = "m = 1"\n' + EXERCISE + \
        EXERCISE_V2.replace('check = "bound"', 'check = "nonsense"')
    with pytest.raises(LessonError) as caught:
        load_lesson(write(tmp_path, bad))
    assert "unknown exercise check 'nonsense'" in caught.value.what


def test_every_shipped_exercise_has_its_v2_form() -> None:
    from tutor.lessons import v2_exercise_gaps

    course = load_course()
    assert v2_exercise_gaps(course) == []
    assert sum(1 for s in course.steps if s.exercise_for("v2") is not None) == sum(
        1 for s in course.steps if s.exercise is not None) >= 18
