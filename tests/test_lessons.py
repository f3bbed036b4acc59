"""Lesson files: the shipped ones load, and every kind of mistake is named with file, step and reason."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tutor.errors import LessonError
from tutor.lessons import Check, load_course, load_lesson
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
