"""Exercises are lesson data: the shipped course has one in every lesson, and mistakes are named."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tutor.errors import LessonError
from tutor.exercises.runner import scrub_code
from tutor.lessons import load_course, load_lesson

STEP = '''
id = "my-lesson"
title = "Mine"
day = 1
order = 5

[[steps]]
id = "connect"
title = "Connect"
explanation = "Connect."
action = "workspace.connect"

[steps.code]
python = "ws = 1"

[steps.exercise]
task = "Bind ws."
{extra}
'''


def test_every_lesson_has_an_exercise_and_the_course_has_at_least_twelve() -> None:
    course = load_course()
    for lesson in course.lessons:
        assert any(step.exercise for step in lesson.steps), lesson.id
    exercises = [s for s in course.steps if s.exercise]
    assert len(exercises) >= 12
    for step in exercises:
        assert step.code.get("python", "").strip(), step.key  # the reference solution


@pytest.mark.parametrize("extra, reason", [
    ('checks = [{ check = "nope" }]', "unknown exercise check 'nope'"),
    ('checks = [{ check = "bound" }]', "needs the parameter 'name'"),
    ('checks = [{ check = "bound", name = "ws", colour = "red" }]', "has no parameter 'colour'"),
    ('checks = []', "needs 'checks'"),
    ('checks = [{ check = "bound", name = "ws" }]\nneeds = { "1ws" = "x" }', "is not a Python name"),
    ('checks = [{ check = "bound", name = "{nobody}" }]', "unknown template variable {nobody}"),
    ('checks = [{ check = "bound", name = "ws" }]\nspeed = 3', "unknown field 'speed'"),
])
def test_a_bad_exercise_is_named_with_file_step_and_reason(tmp_path: Path, extra: str, reason: str) -> None:
    path = tmp_path / "lesson.toml"
    path.write_text(textwrap.dedent(STEP.replace("{extra}", extra)), encoding="utf-8")
    with pytest.raises(LessonError) as caught:
        load_lesson(path)
    assert reason in caught.value.what and "step 'connect'" in caught.value.what


def test_an_exercise_without_reference_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "lesson.toml"
    body = STEP.replace('[steps.code]\npython = "ws = 1"\n', "").replace("{extra}", 'checks = [{ check = "bound", name = "ws" }]')
    path.write_text(body, encoding="utf-8")
    with pytest.raises(LessonError) as caught:
        load_lesson(path)
    assert "reference solution" in caught.value.what


def test_keys_in_the_learners_code_are_scrubbed() -> None:
    code = 'key = service.get_keys()[0]\nprimary_key = "abc"\nh = {"Authorization": "Bearer Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4"}\n'
    scrubbed = scrub_code(code)
    assert 'primary_key = "***"' in scrubbed
    assert "Zm9vYmFy" not in scrubbed
    assert "service.get_keys()[0]" in scrubbed  # code, not a literal: kept
