"""Questions: typed numbers (a decimal comma, the ambiguous "1,234"), empty answers that do not
count, predict-first questions (``when = "before"``) validated at load and asked before the step."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from tutor.errors import LessonError
from tutor.lessons import Question, load_course, load_lesson, parse_number
from tutor.steps.training import _test_vs_train
from tutor_testing import flat, run_tutor

STEP = """
[[steps]]
id = "prepare"
title = "Prepare"
explanation = "Some text."
action = "data.prepare"

[steps.question]
kind = "number"
prompt = "How many trips are left?"
answer_from = "rows_final"
"""


def lesson_file(tmp_path: Path, question_extra: str) -> Path:
    path = tmp_path / "lesson.toml"
    path.write_text('id = "my-lesson"\ntitle = "My lesson"\n' + textwrap.dedent(STEP) + question_extra,
                    encoding="utf-8")
    return path


@pytest.mark.parametrize(("typed", "value"), [
    ("3.5", 3.5), (" 3.5 ", 3.5), ("3,5", 3.5), ("-3,5", -3.5), ("+2", 2.0), ("401", 401.0), ("0", 0.0),
    (".5", 0.5), (",5", 0.5), ("3.", 3.0), ("1e3", 1000.0), ("12,3456", 12.3456), ("1,23", 1.23),
    ("0,125", 0.125),  # a zero before the comma: only a decimal can follow
])
def test_numbers_are_read_with_a_decimal_point_or_comma(typed: str, value: float) -> None:
    assert parse_number(typed) == pytest.approx(value)


@pytest.mark.parametrize(("typed", "message"), [
    ("1,234", "'1,234' is ambiguous: the comma may separate thousands (1234) or decimals (1.234). "
              "Type 1234 or 1.234."),
    ("-2,500", "Type -2500 or -2.500."),
    ("abc", "'abc' is not a number: type digits, like 3.5."),
    ("3 5", "'3 5' is not a number: type digits, like 3.5."),
    ("inf", "'inf' is not a number"),
    ("nan", "'nan' is not a number"),
    ("1,234.5", "type it without thousands separators"),
    ("1,2,3", "type it without thousands separators"),
    ("", "Type a number (Enter alone does not count)."),
    ("   ", "Type a number (Enter alone does not count)."),
])
def test_what_is_not_a_number_is_told_so(typed: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_number(typed)
    assert message in str(caught.value)


def test_a_number_question_takes_a_decimal_comma_and_refuses_without_counting() -> None:
    question = Question(kind="number", prompt="RMSE?", answer_from="rmse", tolerance=0.05)
    evidence = {"rmse": 3.5467}
    assert question.is_right("3,5", evidence) and question.is_right(" 3.55 ", evidence)
    assert not question.is_right("3,4", evidence)
    assert not question.is_right("1,234", evidence) and not question.is_right("abc", evidence)
    assert question.answer_problem("3,5") is None
    assert question.answer_problem("") == "Type a number (Enter alone does not count)."
    assert question.answer_problem("abc") == "'abc' is not a number: type digits, like 3.5."
    assert "ambiguous" in (question.answer_problem("1,234") or "")
    exact = Question(kind="number", prompt="Status?", answer=401)
    assert exact.is_right("401", {}) and exact.is_right("401,0", {}) and not exact.is_right("400", {})
    text = Question(kind="text", prompt="Name?", answer="Queued")
    assert text.answer_problem("  ") == "Type an answer (Enter alone does not count)."
    assert text.answer_problem("3,5") is None and text.is_right(" queued ", {})


def test_when_defaults_to_after_and_before_is_a_prediction(tmp_path: Path) -> None:
    after = load_lesson(lesson_file(tmp_path, "")).steps[0].question
    assert after is not None and after.when == "after" and not after.is_prediction
    before = load_lesson(lesson_file(tmp_path, 'when = "before"\n')).steps[0].question
    assert before is not None and before.when == "before" and before.is_prediction


@pytest.mark.parametrize(("extra", "reason"), [
    ('when = "during"\n', "the question's 'when' is 'during': it must be \"after\" (the default: asked once the "
                          "step has run) or \"before\" (a prediction, asked before the step runs and checked "
                          "against what it finds)."),
    ("when = 1\n", "the question's 'when' is 1"),
    ('when = "Before"\n', "the question's 'when' is 'Before'"),
    ('when = "before"\nhints = ["Look at the table."]\n', "is a prediction with one try, so it takes no 'hints'"),
])
def test_a_bad_when_is_a_lesson_error_naming_file_step_and_reason(tmp_path: Path, extra: str, reason: str) -> None:
    path = lesson_file(tmp_path, extra)
    with pytest.raises(LessonError) as caught:
        load_lesson(path)
    message = flat(str(caught.value) + " " + (caught.value.fix or ""))
    assert f"{path}, step 'prepare'" in message
    assert reason in message
    checked = run_tutor(["lessons", "check", str(path)])
    assert checked.returncode != 0 and "Traceback" not in checked.stdout + checked.stderr
    assert reason in flat(checked.stdout + checked.stderr)


def test_every_lesson_has_a_prediction_answered_from_its_evidence() -> None:
    course = load_course()
    for lesson in course.lessons:
        predictions = [s for s in lesson.steps if s.question is not None and s.question.is_prediction]
        assert predictions, f"{lesson.id} has no question asked before its step"
        for step in predictions:
            assert step.question is not None and step.question.answer_from, step.key
            assert not step.question.hints, step.key


def test_test_against_train_is_compared_run_by_run() -> None:
    runs = {"a": {"RMSE Test": 3.3, "RMSE Train": 3.9, "Test accuracy": 0.9, "Train accuracy": 0.8, "R^2": 0.8},
            "b": {"RMSE Test": 3.2, "RMSE Train": 3.8, "Test accuracy": 0.7, "Train accuracy": 0.8}}
    assert _test_vs_train(runs) == {"RMSE": "lower", "accuracy": "mixed"}
    assert _test_vs_train({"a": {"RMSE Test": 4.0, "RMSE Train": 3.0}}) == {"RMSE": "higher"}
    assert _test_vs_train({"a": {"R^2": 0.8}}) == {}


def progress_of(course_dir: Path, user: str = "pat") -> dict:
    return json.loads((course_dir / "progress" / f"{user}.json").read_text())["steps"]


def test_a_prediction_on_a_pipe_refuses_empty_and_non_numbers_then_is_checked(data_path: Path,
                                                                            course_dir: Path) -> None:
    """day1-setup/write-config asks how many secrets config.json will hold, before writing it."""
    # connect: run; write-config: run, then the prediction: Enter, "none", "0"; compute-instance: quit.
    answers = ["", "", "", "none", "0", "q"]
    result = run_tutor(["start", "--plain", "--no-exercises", "-u", "pat", "-w", "local", "-C", str(course_dir),
                        "--lesson", "day1-setup"], data=data_path, input="\n".join(answers) + "\n", timeout=300)
    assert result.returncode == 0, result.stdout[-3000:]
    out = flat(result.stdout)
    assert "Traceback" not in result.stdout + result.stderr
    prompt = "How many passwords, keys or other secrets will config.json hold?"
    asked = out.index("Before this step runs: make a prediction.")
    assert out.index(prompt) > asked
    assert "Type a number (Enter alone does not count)." in out
    assert "'none' is not a number: type digits, like 3.5." in out
    assert out.count(prompt) == 3  # asked again after the empty answer and after "none"
    we_see = out.index("Your prediction: 0. We'll see.")
    written = out.index("Wrote ")  # the action's summary
    verdict = out.index("Your prediction was right: 0.")
    assert asked < we_see < written < verdict
    assert "config.json names the subscription" in out[verdict:]
    question = progress_of(course_dir)["day1-setup/write-config"]["question"]
    assert question == {"attempts": 1, "correct": True, "last_answer": "0"}
    evidence = progress_of(course_dir)["day1-setup/write-config"]["evidence"]
    assert evidence["secret_fields"] == 0


def test_with_yes_a_prediction_is_recorded_as_not_asked(data_path: Path, course_dir: Path) -> None:
    result = run_tutor(["start", "--yes", "-u", "pat", "-w", "local", "-C", str(course_dir), "--lesson",
                        "day1-setup"], data=data_path, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "make a prediction" not in result.stdout and "We'll see" not in result.stdout
    entry = progress_of(course_dir)["day1-setup/write-config"]
    assert entry["status"] == "done"
    assert entry["question"] == {"attempts": 0, "correct": False,
                                 "not_asked": "not asked: running without prompts (--yes)"}
