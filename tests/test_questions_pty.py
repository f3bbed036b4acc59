"""Questions through a real pseudo-terminal, typed as a learner types them.

A predict-first question is answered before its step runs, the step runs, then the verdict; an
empty Enter or a word at a number question is refused and asked again without counting as a try;
a decimal comma ("2,0") is read as a number.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pexpect

from tutor_testing import run_tutor, spawn_tutor

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def spawn(course: Path, data: Path, lesson: str) -> pexpect.spawn:
    # PROMPT_TOOLKIT_NO_CPR: the pseudo-terminal does not answer "where is the cursor?".
    return spawn_tutor(["start", "-u", "eve", "-w", "local", "-C", str(course), "--no-exercises", "--lesson", lesson],
                       data=data, timeout=90, PROMPT_TOOLKIT_NO_CPR="1")


def steps(course: Path) -> dict:
    return json.loads((course / "progress" / "eve.json").read_text())["steps"]


def seen(child: pexpect.spawn) -> str:
    return ANSI.sub("", child.before or "")


def run_step(child: pexpect.spawn) -> None:
    child.expect("What next")
    time.sleep(0.2)
    child.send("\r")  # the default: run this step


def test_a_prediction_is_asked_before_the_step_runs_and_checked_after_it(data_path: Path, course_dir: Path) -> None:
    child = spawn(course_dir, data_path, "day1-setup")
    try:
        run_step(child)  # connect
        run_step(child)  # write-config: its question comes first
        child.expect("Before this step runs: make a prediction")
        child.expect("How many passwords, keys or other secrets will config.json hold")
        time.sleep(0.2)
        assert not (course_dir / "config.json").exists()  # asked before the action
        child.send("\r")  # Enter alone: refused, asked again
        child.expect(re.escape("Type a number (Enter alone does not count)."))
        assert "question" not in steps(course_dir).get("day1-setup/write-config", {})  # not an attempt
        child.expect("How many passwords, keys or other secrets will config.json hold")  # asked again
        time.sleep(0.2)
        child.send("abc\r")
        child.expect(re.escape("'abc' is not a number: type digits, like 3.5."))
        child.expect("How many passwords, keys or other secrets will config.json hold")
        time.sleep(0.2)
        child.send("0\r")
        child.expect(re.escape("Your prediction: 0. We'll see."))
        between = ""
        child.expect(r"Wrote \S*config\.json")  # the action runs after the prediction
        between += seen(child)
        child.expect(re.escape("Your prediction was right: 0."))
        child.expect("config.json names the subscription")
        child.expect("What next")  # compute-instance
        assert "Your prediction was" not in between  # no verdict before the action ran
        child.send("q")
        child.send("\r")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    entry = steps(course_dir)["day1-setup/write-config"]
    assert entry["status"] == "done" and entry["evidence"]["secret_fields"] == 0
    assert entry["question"] == {"attempts": 1, "correct": True, "last_answer": "0"}
    assert entry["hints_used"] == 0  # a prediction has one try and no hints


def test_a_number_answer_takes_a_decimal_comma_and_empty_answers_do_not_count(data_path: Path,
                                                                             course_dir: Path) -> None:
    for lesson in ("day1-setup", "day1-compute"):
        done = run_tutor(["start", "--yes", "-u", "eve", "-C", str(course_dir), "--lesson", lesson],
                         data=data_path, timeout=300)
        assert done.returncode == 0, done.stdout[-2000:]
    child = spawn(course_dir, data_path, "day1-data")
    try:
        run_step(child)  # load
        run_step(child)  # prepare, then its question (after the step): the third choice
        child.expect("Which filter removed the most trips")
        time.sleep(0.3)
        child.send("\x1b[B\x1b[B")
        time.sleep(0.2)
        child.send("\r")
        child.expect("Right!")
        run_step(child)  # profile, then a number question
        child.expect("How many distinct values does vendorID have")
        time.sleep(0.2)
        child.send("\r")
        child.expect(re.escape("Type a number (Enter alone does not count)."))
        child.expect("How many distinct values does vendorID have")  # asked again
        time.sleep(0.2)
        child.send("1,234\r")
        child.expect("is ambiguous: the comma may separate thousands")
        child.expect("How many distinct values does vendorID have")
        time.sleep(0.2)
        child.send("1,5\r")  # a decimal comma: 1.5, wrong
        child.expect("Not quite. Hint:")
        child.expect("How many distinct values does vendorID have")
        time.sleep(0.2)
        child.send("\r")  # empty again, at the second try: refused, not counted
        child.expect(re.escape("Type a number (Enter alone does not count)."))
        child.expect("How many distinct values does vendorID have")
        time.sleep(0.2)
        child.send(" 2,0 \r")
        child.expect("Right!")
        child.expect("What next")  # upload
        child.send("q")
        child.send("\r")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    question = steps(course_dir)["day1-data/profile"]["question"]
    # Two tries counted ("1,5" and " 2,0 "): the empty answers and "1,234" were asked again.
    assert question == {"attempts": 2, "correct": True, "last_answer": "2,0"}
