"""The course as a learner meets it: the welcome, the welcome back after a kill, the map, the recaps.

Driven through a real pseudo-terminal of 80x24, as a learner's smallest terminal; the day summary
through a real `tutor start --yes` of day 1.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import textwrap
from pathlib import Path

import pexpect
import pytest

from tutor.errors import LessonError
from tutor.journey import DocProgress, minutes_left
from tutor.lessons import load_course, load_lesson
from tutor_testing import flat, run_tutor, spawn_tutor, tutor_env


def spawn(course: Path, data: Path, *args: str) -> pexpect.spawn:
    return spawn_tutor(["start", "-u", "eve", "-w", "local", "-C", str(course), "--no-exercises", *args], data=data,
                       rows=24, cols=80, PROMPT_TOOLKIT_NO_CPR="1", LINES="24")


def screen_text(child: pexpect.spawn) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", child.before or "")


def test_the_first_start_welcomes_with_the_map_the_needs_and_the_keys(data_path: Path, course_dir: Path) -> None:
    child = spawn(course_dir, data_path)
    try:
        child.expect("What next")
        seen = flat(screen_text(child))
    finally:
        child.sendcontrol("c")
        child.close(force=True)
    assert "Welcome, eve!" in seen
    assert "Your workspace and the course scripts (day1-setup)" in seen and "Day 2" in seen
    assert "6 min" in seen and "In all about 1 h 29 min" in seen
    assert "no Azure account is needed" in seen
    assert "h shows a hint, s skips it, b goes back, q quits" in seen
    # (a long path wraps at 80 columns: compare without the spaces the wrapping left)
    assert f"savedaftereverystepin{course_dir / 'progress' / 'eve.json'}" in seen.replace(" ", "")
    # Nothing is cut at 80 columns: every line of the screen fits.
    long = [line for line in screen_text(child).split("\n") if len(line.rstrip("\r")) > 80]
    assert long == []


def test_after_a_kill_the_learner_is_welcomed_back_with_where_and_what_still_runs(data_path: Path,
                                                                                   course_dir: Path) -> None:
    child = spawn(course_dir, data_path)
    try:
        child.expect("What next")
        child.send("\r")  # run day1-setup/connect
        child.expect("Step 2 of 4")  # the next step's menu: the first one is saved
        child.expect("What next")
        os.kill(child.pid, signal.SIGKILL)
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    done = run_tutor(["start", "--yes", "-u", "eve", "-C", str(course_dir), "--lesson", "day1-setup",
                      "--no-exercises"], data=data_path, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:]
    # Kill a second time, inside day1-compute, after its first step.
    child = spawn(course_dir, data_path, "--lesson", "day1-compute")
    try:
        child.expect("What next")
        child.send("\r")
        child.expect("Step 2 of 2")
        child.expect("What next")
        os.kill(child.pid, signal.SIGKILL)
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    child = spawn(course_dir, data_path, "--lesson", "day1-compute")
    try:
        child.expect("What next")
        seen = flat(screen_text(child))
        child.send("q")
        child.send("\r")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert "Welcome back, eve!" in seen
    assert "5 of 44 steps done (1 of 9 lessons)" in seen
    assert "You stopped at Create a compute cluster (day1-compute/cluster)" in seen
    assert "compute instance eve-dev: ComputeInstance" in seen  # made by day1-setup, still there
    assert "a compute instance bills by the hour while it runs" in seen
    assert "✓ Your workspace and the course scripts (day1-setup) 4/4" in seen
    assert "▶ An experiment and a compute cluster (day1-compute) 1/2" in seen
    assert "Left: about 1 h 20 min" in seen


def test_a_finished_lesson_ends_with_its_recap(data_path: Path, course_dir: Path) -> None:
    done = run_tutor(["start", "--yes", "-u", "eve", "-C", str(course_dir), "--lesson", "day1-setup"],
                     data=data_path, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:]
    child = spawn(course_dir, data_path, "--lesson", "day1-compute")
    try:
        for _ in range(2):  # the experiment, then the cluster
            child.expect("What next")
            child.send("\r")
        child.expect("How many nodes will it have")  # the cluster's prediction, before it runs
        child.send("0\r")
        child.expect("Your prediction was right")
        child.expect("every step here is finished")
        seen = flat(screen_text(child))
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert "Recap · An experiment and a compute cluster" in seen
    assert "What you made" in seen and "experiment eve-taxi-experiment-r" in seen
    assert "cluster evercluster" in seen and "cluster nodes (max) 3" in seen
    assert "An experiment groups runs" in seen
    assert "In the original course: Day 1, steps 5-6" in seen


def test_the_end_of_day_one_has_its_summary_with_the_five_runs_charted(data_path: Path, course_dir: Path) -> None:
    lessons = [lesson.id for lesson in load_course().lessons if lesson.day == 1]
    for lesson in lessons:
        result = run_tutor(["start", "--yes", "-u", "eve", "-C", str(course_dir), "--lesson", lesson],
                           data=data_path, timeout=600)
        assert result.returncode == 0, result.stdout[-2000:]
    seen = flat(result.stdout)
    assert "Day 1 is done" in seen
    assert "R^2 of the five runs (higher is better)" in seen and "4 full" in seen
    assert "Test RMSE of the five runs, in dollars" in seen
    assert "Still running:" in seen and "tutor cleanup -u eve" in seen  # day 1's cleanup keeps them by default
    assert "Next: day 2, starting with 'The same flow in Python" in seen
    status = run_tutor(["status", "-u", "eve", "-C", str(course_dir)])
    assert "[done] Deploy the model and call it (day1-deploy)" in flat(status.stdout)
    assert "[next] The same flow in Python" in flat(status.stdout)


def test_the_estimate_left_counts_the_steps_not_finished() -> None:
    course = load_course()
    total = sum(lesson.minutes for lesson in course.lessons)
    assert minutes_left(course, DocProgress({"steps": {}})) == pytest.approx(total)
    first = course.lessons[0]
    half = {s.key: {"status": "done"} for s in first.steps[: len(first.steps) // 2]}
    left = minutes_left(course, DocProgress({"steps": half}))
    assert left == pytest.approx(total - first.minutes * (len(first.steps) // 2) / len(first.steps))
    everything = {s.key: {"status": "skipped"} for s in course.steps}
    assert minutes_left(course, DocProgress({"steps": everything})) == 0


HEAD = '''
id = "x"
title = "X"
day = 1
order = 1
{extra}
[[steps]]
id = "load"
title = "Load"
action = "data.fetch"
explanation = "e"
'''


@pytest.mark.parametrize("extra, said", [
    ('minutes = "ten"', "'minutes' (the lesson's estimate) must be a number of minutes"),
    ('concepts = "one"', "'concepts' must be a list of one-line strings"),
    ('[[recap]]\nlabel = "rows"\nstep = "nope"\nkey = "rows"', "names the step 'nope', which this lesson does not have"),
    ('[[recap]]\nlabel = "rows"\nstep = "load"', "needs a 'label', the 'step' (its id) and the evidence 'key'"),
    ('[[charts]]\ntitle = "T"', "needs a table ('step' and 'key') or 'bars'"),
    ('[[charts]]\ntitle = "T"\nstep = "load"\nkey = "rows"', "give it as lesson/step"),
    ('[[charts]]\ntitle = "T"\nbars = [{ label = "a", value = "big" }]', "has a 'value' that is not a number"),
])
def test_bad_journey_data_is_a_lesson_error(tmp_path: Path, extra: str, said: str) -> None:
    path = tmp_path / "x.toml"
    path.write_text(textwrap.dedent(HEAD.format(extra=extra)))
    with pytest.raises(LessonError) as caught:
        load_lesson(path)
    assert said in str(caught.value)


def test_every_lesson_has_its_estimate_concepts_and_recap() -> None:
    for lesson in load_course().lessons:
        assert lesson.minutes > 0 and lesson.concepts and lesson.recap and lesson.original, lesson.id


@pytest.mark.slow
def test_the_recap_figures_and_charts_are_in_a_real_learners_evidence(tmp_path: Path, data_path: Path) -> None:
    """Against the evidence of a whole course run with --yes: every recap figure and chart bar is found."""
    from tutor.journey import chart_items, recap_rows

    result = run_tutor(["start", "--yes", "-u", "rex", "-w", "local", "-C", str(tmp_path)], data=data_path,
                       timeout=900)
    assert result.returncode == 0, result.stdout[-2000:]
    viewed = DocProgress(json.loads((tmp_path / "progress" / "rex.json").read_text()))
    course = load_course()
    for lesson in course.lessons:
        assert len(recap_rows(lesson, viewed)) == len(lesson.recap), lesson.id
        for chart in lesson.charts:
            expected = len(chart.bars) + (5 if chart.key else 0)
            assert len(chart_items(chart, viewed)) == expected, chart.title


BOX_DRAWING = set("─│╭╮╯╰┃━┏┓┗┛├┤┬┴┼═║") | {"+-", "-+", "|"}


def _drawn(text: str) -> list[str]:
    return [line for line in text.splitlines() if any(mark in line for mark in BOX_DRAWING)]


def test_plain_and_no_color_give_a_transcript_without_box_drawing(data_path: Path, course_dir: Path) -> None:
    result = run_tutor(["start", "--yes", "--plain", "-u", "eve", "-C", str(course_dir), "--lesson", "day1-setup"],
                       data=data_path, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:]
    assert _drawn(result.stdout) == []
    assert "Welcome, eve!" in result.stdout and "\nDay 1 · Your workspace and the course scripts\n" in result.stdout
    assert "Recap · Your workspace and the course scripts" in result.stdout
    # At a terminal, NO_COLOR alone does the same (and colour is off).
    env = tutor_env(data_path, TERM="xterm", PROMPT_TOOLKIT_NO_CPR="1", COLUMNS="80", NO_COLOR="1")
    child = pexpect.spawn(sys.executable, ["-m", "tutor", "status", "-u", "eve", "-C", str(course_dir)], env=env,
                          encoding="utf-8", timeout=60, dimensions=(24, 80))
    child.expect(pexpect.EOF)
    shown = child.before or ""
    assert "[done]  Your workspace and the course scripts" in shown
    assert _drawn(shown) == [] and "\x1b[3" not in shown  # no box drawing, no colour codes
    # A pipe without them keeps ASCII boxes, which read well in a CI log.
    piped = run_tutor(["status", "-u", "eve", "-C", str(course_dir)])
    assert "+--" in piped.stdout


def test_v_shows_the_step_in_the_other_sdk_and_the_track_stays(data_path: Path, course_dir: Path) -> None:
    child = spawn_tutor(["start", "-u", "eve", "-w", "local", "-C", str(course_dir), "--no-exercises", "--sdk", "v1",
                         "--lesson", "day1-setup"], data=data_path, rows=40, cols=120, PROMPT_TOOLKIT_NO_CPR="1")
    try:
        child.expect("What next")
        first = flat(screen_text(child))
        child.send("v")
        child.send("\r")
        child.expect("switches it")
        shown = flat(screen_text(child))
    finally:
        child.sendcontrol("c")
        child.close(force=True)
    assert "The code (Python · SDK v1)" in first and "from azureml.core import Workspace" in first
    assert "The same step in SDK v2 (azure-ai-ml)" in shown
    assert "MLClient.from_config(credential=DefaultAzureCredential())" in shown
    assert "one client, MLClient, does everything" in shown  # what differs
    assert "Your track stays SDK v1; `tutor start --sdk v2`" in shown
    doc = json.loads((course_dir / "progress" / "eve.json").read_text())
    assert doc["sdk"] == "v1" and doc["steps"].get("day1-setup/connect", {}).get("status") != "done"
