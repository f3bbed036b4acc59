"""The lesson checker's rehearsal: the shipped course passes; broken lessons fail at the right step."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from tutor.errors import StepFailed
from tutor.instructor.rehearse import rehearse
from tutor.lessons import load_course
from tutor.paths import course_resource
from tutor.steps import ActionSpec, registry
from tutor_testing import flat

BROKEN = '''
id = "broken"
title = "A broken lesson"
day = 9
order = 1

[[steps]]
id = "fine"
title = "Copy the scripts"
action = "scripts.copy"
explanation = "Works."
done_when = ["files >= 1"]

[[steps]]
id = "wrong-check"
title = "Load the data, expecting the wrong row count"
action = "data.fetch"
explanation = "Its done_when cannot hold."
done_when = ["rows == 99"]

[[steps]]
id = "fails"
title = "An action that fails"
action = "test.fails"
explanation = "The action raises."

[[steps]]
id = "bad-question"
title = "A question whose answer is not in the evidence"
action = "data.fetch"
explanation = "The answer key is missing."
[steps.question]
kind = "number"
prompt = "How many?"
answer_from = "no_such_key"

[[steps]]
id = "after"
title = "Still rehearsed after the failures"
action = "scripts.copy"
explanation = "Runs."
'''


def test_the_shipped_lessons_pass_step_by_step(rehearsed) -> None:
    outcomes, scratch, screen = rehearsed
    course = load_course()
    assert [o.key for o in outcomes] == [s.key for s in course.steps]
    failed = [(o.key, o.reason) for o in outcomes if not o.ok]
    assert failed == []
    assert not any(o.setup for o in outcomes)
    lines = [line for line in screen.splitlines() if line.startswith("ok")]
    assert len(lines) == len(course.steps)
    load = next(o for o in outcomes if o.key == "day1-data/load")
    assert 0 < load.seconds < 60
    # Every exercise's reference solution ran as a learner's answer and passed its own checks.
    exercises = {s.key for s in course.steps if s.exercise is not None}
    assert {o.key for o in outcomes if o.exercise == "solved-by-reference"} == exercises
    assert sum("exercise: reference solution passed its checks" in line for line in lines) == len(exercises)
    assert (scratch / "progress" / "rehearse.json").exists()  # kept: the scratch folder was ours


def test_a_broken_lesson_fails_at_each_broken_step_and_goes_on(tmp_path: Path, data_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    def fails(ctx):
        raise StepFailed("The pretend cluster is out of quota.", "Ask for more quota.")

    monkeypatch.setitem(registry(), "test.fails", ActionSpec(name="test.fails", func=fails))
    lesson = tmp_path / "broken.toml"
    lesson.write_text(BROKEN)
    screen = io.StringIO()
    outcomes = rehearse([lesson], data_path, Console(file=screen, width=200, color_system=None), alone=True)
    assert [(o.key.split("/")[1], o.status) for o in outcomes] == [
        ("fine", "pass"), ("wrong-check", "fail"), ("fails", "fail"), ("bad-question", "fail"), ("after", "pass")]
    by_id = {o.key.split("/")[1]: o for o in outcomes}
    assert "rows == 99" in by_id["wrong-check"].reason
    assert by_id["fails"].reason == "The pretend cluster is out of quota."
    assert "Ask for more quota." in by_id["fails"].detail  # the wizard's error panel, fix included
    assert "no_such_key" in by_id["bad-question"].reason
    text = screen.getvalue()
    assert text.count("FAIL") == 3 and "broken/after" in text


def test_the_command_rehearses_a_broken_file_and_exits_1(instructor, tmp_path: Path, data_path: Path) -> None:
    lesson = tmp_path / "broken.toml"
    lesson.write_text('''
id = "broken"
title = "Broken"
day = 9

[[steps]]
id = "load"
title = "Load"
action = "data.fetch"
explanation = "x"
done_when = ["rows == 99"]

[[steps]]
id = "save"
title = "Save where no folder is"
action = "data.prepare"
params = { save_as = "no/such/folder/prepared" }
explanation = "x"

[[steps]]
id = "scripts"
title = "Scripts"
action = "scripts.copy"
explanation = "x"
''')
    result = instructor(["rehearse", str(lesson), "--alone", "--json"], data=data_path)
    assert result.returncode == 1, result.stdout + result.stderr
    outcomes = json.loads(result.stdout)
    assert [(o["key"], o["status"]) for o in outcomes] == [
        ("broken/load", "fail"), ("broken/save", "fail"), ("broken/scripts", "pass")]
    assert "rows == 99" in outcomes[0]["reason"]
    assert "crashed" in outcomes[1]["reason"]
    err = flat(result.stderr)
    assert "FAIL broken/load" in err and "1 of 3 step(s) passed, 2 failed" in err
    assert "Traceback" not in result.stderr


def test_a_lesson_rehearsed_in_the_course_runs_the_lessons_before_it_as_setup(instructor, tmp_path: Path,
                                                                              data_path: Path) -> None:
    shipped = course_resource("lessons") / "day1-data.toml"
    broken = tmp_path / "day1-data.toml"
    broken.write_text(shipped.read_text().replace('"rows_final == 23222"', '"rows_final == 99"'))
    result = instructor(["rehearse", str(broken), "--json"], data=data_path, timeout=300)
    assert result.returncode == 1, result.stderr
    outcomes = {o["key"]: o for o in json.loads(result.stdout)}
    course = load_course()
    setup = [s.key for lesson in course.lessons if lesson.id != "day1-data"
             and lesson.order < course.lesson("day1-data").order and lesson.day == 1 for s in lesson.steps]
    assert setup and all(outcomes[k]["setup"] and outcomes[k]["status"] == "pass" for k in setup)
    prepare = outcomes["day1-data/prepare"]
    assert prepare["status"] == "fail" and "rows_final == 99" in prepare["reason"]
    assert outcomes["day1-data/load"]["status"] == "pass" and not outcomes["day1-data/load"]["setup"]
    assert not any(k.startswith("day2-") for k in outcomes)  # nothing after the lesson under test


def test_an_invalid_lesson_file_is_refused_before_anything_runs(instructor, tmp_path: Path, data_path: Path) -> None:
    lesson = tmp_path / "bad.toml"
    lesson.write_text('id = "bad"\ntitle = "Bad"\n[[steps]]\nid = "x"\ntitle = "X"\nexplanation = "x"\n'
                      'action = "no.such.action"\n')
    result = instructor(["rehearse", str(lesson)], data=data_path)
    out = flat(result.stdout + result.stderr)
    assert result.returncode == 3, out
    assert "bad.toml" in out and "unknown action 'no.such.action'" in out
    assert "Traceback" not in out


def test_without_the_dataset_the_rehearsal_says_how_to_point_at_it(instructor, tmp_path: Path) -> None:
    result = instructor(["rehearse", "--data", str(tmp_path / "missing.parquet")])
    assert result.returncode == 5
    assert "missing.parquet" in flat(result.stderr) and "Traceback" not in result.stderr


def test_keep_needs_a_new_or_empty_folder(instructor, tmp_path: Path, data_path: Path) -> None:
    used = tmp_path / "used"
    used.mkdir()
    (used / "something").write_text("x")
    result = instructor(["rehearse", "--keep", str(used)], data=data_path)
    assert result.returncode == 2
    assert "not an empty folder" in flat(result.stderr)


BROKEN_EXERCISE = '''
id = "broken-exercise"
title = "An exercise whose reference solution misses its own check"
day = 9
order = 1

[[steps]]
id = "write"
title = "Copy the scripts, by hand"
action = "scripts.copy"
explanation = "The reference makes x = 1; the check wants 2."
[steps.code]
python = "x = 1"
[steps.exercise]
task = "Make x."
checks = [{ check = "true", expr = "x == 2", message = "`x` should be 2" }]

[[steps]]
id = "after"
title = "Still rehearsed after the failure"
action = "scripts.copy"
explanation = "Runs."
'''


def test_an_exercise_whose_reference_fails_its_checks_fails_the_rehearsal(tmp_path: Path, data_path: Path) -> None:
    lesson = tmp_path / "broken-exercise.toml"
    lesson.write_text(BROKEN_EXERCISE)
    screen = io.StringIO()
    outcomes = rehearse([lesson], data_path, Console(file=screen, width=200, color_system=None), alone=True)
    assert [(o.key.split("/")[1], o.status) for o in outcomes] == [("write", "fail"), ("after", "pass")]
    assert outcomes[0].reason == "The reference solution did not pass its checks: `x` should be 2."
    # Without exercises the step's action runs alone, and passes.
    plain = rehearse([lesson], data_path, Console(file=io.StringIO(), width=200), alone=True, exercises=False)
    assert [o.status for o in plain] == ["pass", "pass"] and plain[0].exercise == ""


def test_an_exercise_whose_module_is_missing_is_not_offered_and_the_step_runs_alone(tmp_path: Path,
                                                                                   data_path: Path) -> None:
    """On Azure without azureml-train-automl-client the AutoML exercises cannot run: the steps do."""
    lesson = tmp_path / "needs-module.toml"
    lesson.write_text(BROKEN_EXERCISE.replace('[steps.exercise]\n', '[steps.exercise]\nrequires = ["no_such_module_here"]\n'))
    screen = io.StringIO()
    outcomes = rehearse([lesson], data_path, Console(file=screen, width=200, color_system=None), alone=True,
                        scratch=tmp_path / "kept")
    assert [o.status for o in outcomes] == ["pass", "pass"]
    assert outcomes[0].exercise == "not offered"
    doc = json.loads((tmp_path / "kept" / "progress" / "rehearse.json").read_text())
    assert doc["steps"]["broken-exercise/write"]["exercise"]["status"] == "not offered"
    assert doc["steps"]["broken-exercise/write"]["evidence"]["files"] >= 1  # scripts.copy ran itself


def test_a_rehearsal_on_the_v2_track_runs_the_v2_exercises(instructor, data_path: Path) -> None:
    shipped = course_resource("lessons") / "day1-setup.toml"
    result = instructor(["rehearse", str(shipped), "--alone", "--sdk", "v2", "--json"], data=data_path)
    assert result.returncode == 0, result.stdout + result.stderr
    outcomes = {o["key"]: o for o in json.loads(result.stdout)}
    assert outcomes["day1-setup/connect"]["status"] == "pass"
    assert outcomes["day1-setup/connect"]["exercise"] == "solved-by-reference"  # MLClient.from_config, checked
    bad = instructor(["rehearse", str(shipped), "--alone", "--sdk", "v3"], data=data_path)
    assert bad.returncode == 2 and "--sdk v3: there is no such SDK track" in flat(bad.stderr)
    assert "Traceback" not in bad.stderr
