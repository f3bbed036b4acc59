"""`tutor review`: re-reading lessons a learner really worked through, with nothing run again.

Each test runs the course for real first (`tutor start`, as a subprocess, on the real dataset),
then reads the lesson back with `tutor review` and checks the text a learner sees: explanations
with their name filled in, the code, what each step measured, their answers, the steps not done
yet; and that the progress file and the rest of the course folder are exactly as they were.
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import pexpect

from tutor_testing import run_tutor, spawn_tutor, tutor_env


def start(course: Path, data: Path, *lessons: str) -> None:
    for lesson in lessons:
        done = run_tutor(["start", "--yes", "-u", "eve", "-C", str(course), "--lesson", lesson], data=data, timeout=600)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


def review(course: Path, *args: str, env: dict[str, str] | None = None):
    return run_tutor(["review", *args, "-u", "eve", "-C", str(course)], env=env)


def screen(text: str) -> str:
    """The output as one line of words: box lines and borders (ASCII when piped, Unicode at a
    terminal) and ANSI codes removed, runs of white space folded."""
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)
    kept = [line for line in text.splitlines() if not re.fullmatch(r"[\s+\-|─│╭╮╰╯┃━┏┓┗┛]*", line)]
    return re.sub(r"\s+", " ", re.sub(r"[|│]", " ", " ".join(kept)))


def snapshot(course: Path) -> dict[str, tuple[int, int]]:
    """Every file under the course folder, with its size and modification time."""
    out = {}
    for path in sorted(course.rglob("*")):
        if path.is_file():
            stat = path.stat()
            out[str(path.relative_to(course))] = (stat.st_size, stat.st_mtime_ns)
    return out


def progress_bytes(course: Path) -> bytes:
    return (course / "progress" / "eve.json").read_bytes()


def test_a_finished_lesson_reads_back_its_explanations_code_and_evidence_and_nothing_runs(
        data_path: Path, course_dir: Path) -> None:
    start(course_dir, data_path, "day1-setup", "day1-compute")
    before, files_before = progress_bytes(course_dir), snapshot(course_dir)

    shown = review(course_dir, "day1-setup")
    assert shown.returncode == 0, shown.stderr
    text = screen(shown.stdout)
    assert "Day 1 · Your workspace and the course scripts [day1-setup]" in text
    assert "eve's review: 4 of 4 steps finished." in text
    # Each step in order, with its place in the course day.
    titles = ["1. Connect to your workspace", "2. Save the workspace configuration",
              "3. Create your compute instance", "4. Get the course scripts"]
    assert [text.index(t) for t in titles] == sorted(text.index(t) for t in titles), text
    assert "Day 1, step 1" in text and "Day 1, step 3" in text
    # The explanation, rendered as Markdown (no ** left), with the learner's names filled in.
    assert "the tutor gives you an embedded workspace (eve-ws) that behaves the same way" in text
    assert "the step registers it as eve-dev and records what it has" in text
    assert "**" not in text and "{username}" not in text and "{workspace}" not in text
    # The lesson's Python code, templated; not the R code.
    assert "The lesson's code (Python)" in text
    assert 'instance = ComputeTarget(workspace=ws, name="eve-dev")' in text
    assert 'ws.write_config(path=".", file_name="config.json")' in text
    assert "load_workspace_from_config()" not in text
    # What happened: status, summary, the evidence as key/value rows.
    assert "What happened: done — Compute instance eve-dev is Succeeded." in text
    assert "What happened: done — 10 files in train/ and score/ (10 copied, 0 kept as you edited them)." in text
    assert "vm_size STANDARD_DS3_V2" in text and "copied 10" in text and "kept_files (none)" in text
    assert f"config_path {course_dir.resolve()}/config.json" in text
    assert "1 attempt · no hints used" in text
    # With --yes the exercise's reference ran: it says so, and shows no "your code".
    assert "Exercise: not tried (the lesson's code ran for you)." in text
    assert "Your code" not in text and "not done yet" not in text.lower()

    compute = screen(review(course_dir, "day1-compute").stdout)
    assert "name evercluster" in compute and "max_nodes 3" in compute and "min_nodes 0" in compute
    assert "reused no" in compute and "vm_size STANDARD_D2_V2" in compute
    assert "experiment eve-taxi-experiment-r" in compute
    assert "What happened: done — Cluster evercluster is ready (created)." in compute

    # Reading is all it did: the progress file is byte for byte the same, nothing else was written.
    assert progress_bytes(course_dir) == before
    assert snapshot(course_dir) == files_before


def test_an_unfinished_lesson_shows_its_finished_steps_and_names_the_rest(data_path: Path,
                                                                          course_dir: Path) -> None:
    start(course_dir, data_path, "day1-setup", "day1-compute")
    reset = run_tutor(["reset", "--step", "day1-compute/experiment", "--yes", "-u", "eve", "-C", str(course_dir)])
    assert reset.returncode == 0, reset.stdout + reset.stderr
    before = progress_bytes(course_dir)

    shown = review(course_dir, "day1-compute")
    assert shown.returncode == 0, shown.stderr
    text = screen(shown.stdout)
    assert "eve's review: 1 of 2 steps finished (lesson in progress)." in text
    # The finished step is shown in full...
    assert "2. Create a compute cluster" in text and "max_nodes 3" in text
    # ...the other one is named as not done yet, without its explanation or code.
    assert "1. Create an experiment (Day 1, step 5, day1-compute/experiment): not done yet" in text
    assert "An experiment groups runs" not in text and "Experiment(workspace=ws" not in text
    assert ("Not done yet: 1. Create an experiment (day1-compute/experiment). `tutor start --lesson day1-compute "
            f"--username eve --course-dir {course_dir.resolve()}` continues the lesson.") in text

    # NO_COLOR reads as --plain does: the same words, no box drawing, no symbols for the state.
    for plain in (review(course_dir, "day1-compute", "--plain"),
                  review(course_dir, "day1-compute", env=tutor_env(None, NO_COLOR="1"))):
        assert plain.returncode == 0
        assert not re.search(r"[|╭│+]-|\|", plain.stdout) and "✓" not in plain.stdout, plain.stdout[:800]
        assert "What happened: done — Cluster evercluster is ready (created)." in screen(plain.stdout)
        assert "max_nodes 3" in screen(plain.stdout)

    untouched = screen(review(course_dir, "day1-data").stdout)
    assert "eve's review: 0 of 5 steps finished (lesson not started)." in untouched
    assert "No step of this lesson is finished yet, so there is nothing to re-read." in untouched
    assert "What happened" not in untouched
    assert progress_bytes(course_dir) == before


def test_without_a_lesson_the_lessons_are_listed_with_how_far_the_learner_got(data_path: Path,
                                                                              course_dir: Path) -> None:
    start(course_dir, data_path, "day1-setup", "day1-compute")
    run_tutor(["reset", "--step", "day1-compute/cluster", "--yes", "-u", "eve", "-C", str(course_dir)])
    before = progress_bytes(course_dir)
    shown = review(course_dir)
    assert shown.returncode == 0, shown.stderr
    rows = {line.split("|")[1].strip(): [cell.strip() for cell in line.split("|")[2:-1]]
            for line in shown.stdout.splitlines() if line.startswith("| day")}
    assert rows["day1-setup"] == ["1", "Your workspace and the course scripts", "4/4", "done"], rows
    assert rows["day1-compute"][2:] == ["1/2", "in progress"], rows
    assert rows["day1-data"][2:] == ["0/5", "not started"], rows
    assert rows["day2-wrapup"][2:] == ["0/1", "not started"], rows
    text = screen(shown.stdout)
    assert "`tutor review LESSON` re-reads one, for example `tutor review day1-setup`." in text
    assert progress_bytes(course_dir) == before


def test_the_answers_given_to_questions_are_shown_right_or_wrong(data_path: Path, course_dir: Path) -> None:
    start(course_dir, data_path, "day1-setup", "day1-compute")
    # At no terminal the tutor reads numbered menus and answers line by line: run each step
    # (Enter), answer the first question wrong then right, the second one wrong three times.
    answers = ["", "", "1", "trip_distance", "", "3", "4", "5", "", "", ""]
    done = run_tutor(["start", "-u", "eve", "-C", str(course_dir), "--lesson", "day1-data"], data=data_path,
                     input="\n".join(answers) + "\n", timeout=600)
    assert done.returncode == 0, done.stdout[-3000:]
    shown = review(course_dir, "day1-data")
    assert shown.returncode == 0, shown.stderr
    text = screen(shown.stdout)
    assert "Question: Which filter removed the most trips?" in text
    assert "Your answer: trip_distance — right (2 tries). Very short trips" in text
    assert "Question: How many distinct values does vendorID have?" in text
    assert "Your answer: 5 — not right (3 tries); the answer is 2." in text
    assert "1 attempt · hints used: 1" in text  # the hint the wrong answer got, in prepare
    assert "removed_by_filter.trip_distance 594" in text and "biggest_filter trip_distance" in text
    assert "distinct.vendorID 2" in text and "total_amount_mean 14.839" in text
    assert "columns vendorID, passengerCount, tripDistance" in text  # a short list fits in the table

    # A value too big for the table (five runs with their metrics) is named, not printed.
    start(course_dir, data_path, "day1-training")
    training = screen(review(course_dir, "day1-training").stdout)
    assert "Not shown (too long here; `tutor status --json` has them): runs (5 entries)." in training
    assert "metric R^2" in training and "best_model 4 full" in training and "values.4 full 0.893117" in training
    assert "3.9576" not in training  # the first run's RMSE Train, one of the values left out


def test_a_bad_lesson_id_or_a_learner_with_no_progress_gets_a_clear_message(data_path: Path,
                                                                              course_dir: Path) -> None:
    start(course_dir, data_path, "day1-setup")
    before = progress_bytes(course_dir)
    bad = review(course_dir, "day9-nope")
    assert bad.returncode == 3  # as `tutor start --lesson` with an unknown id
    message = screen(bad.stderr)
    assert "There is no lesson 'day9-nope' to review." in message
    assert "The lessons are: day1-setup, day1-compute, day1-data, day1-training, day1-deploy" in message
    assert "Traceback" not in bad.stderr + bad.stdout and bad.stdout == ""
    assert progress_bytes(course_dir) == before

    nobody = run_tutor(["review", "day1-setup", "-u", "bob", "-C", str(course_dir)])
    assert nobody.returncode == 4
    message = screen(nobody.stderr)
    assert "There is no progress for 'bob'" in message
    assert f"start the course with `tutor start --username bob --course-dir {course_dir.resolve()}`" in message
    assert "Traceback" not in nobody.stderr

    elsewhere = course_dir.parent / "not-a-course"
    missing = run_tutor(["review", "-u", "eve", "-C", str(elsewhere)])
    assert missing.returncode == 4 and "There is no progress for 'eve'" in screen(missing.stderr)
    assert not elsewhere.exists()  # reading made no folder


PAGER = """
import os, sys
text = sys.stdin.read()
with open(os.environ["REVIEW_PAGED"], "w", encoding="utf-8") as out:
    out.write(text)
sys.stdout.write("[the pager shows]\\n" + text)
"""


def test_at_a_terminal_a_long_review_goes_through_the_pager_with_the_learners_own_code(
        data_path: Path, course_dir: Path, tmp_path: Path) -> None:
    # The learner solves the first exercise their own way at a terminal, then quits.
    child = spawn_tutor(["start", "-u", "eve", "-w", "local", "-C", str(course_dir), "--lesson", "day1-setup"],
                        data=data_path)
    try:
        child.expect("What next")
        child.send("\r")
        child.expect("Your turn")
        child.expect(">>>")
        for line in ("import azureml.core as core", "ws = core.Workspace.from_config()  # mine", ""):
            child.send(line + "\r")
        child.expect("That works")
        child.expect("What next")
        child.send("q")
        child.send("\r")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    before = progress_bytes(course_dir)

    pager = tmp_path / "pager.py"
    pager.write_text(PAGER, encoding="utf-8")
    paged = tmp_path / "paged.txt"
    env = tutor_env(None, PAGER=f"{shlex.quote(sys.executable)} {shlex.quote(str(pager))}", REVIEW_PAGED=str(paged))
    env["TERM"] = "xterm"
    env.pop("COLUMNS")

    def review_at_terminal(*extra: str, rows: int = 24) -> str:
        child = pexpect.spawn(sys.executable, ["-m", "tutor", "review", "day1-setup", "-u", "eve", "-C", str(course_dir),
                                               *extra], env=env, encoding="utf-8", timeout=60, dimensions=(rows, 120))
        try:
            child.expect(pexpect.EOF)
        finally:
            child.close()
        assert child.exitstatus == 0, child.before
        return child.before

    out = review_at_terminal()  # longer than the 24 rows of the terminal
    assert out.lstrip().startswith("[the pager shows]"), out[:300]
    text = screen(paged.read_text(encoding="utf-8"))
    assert "1. Connect to your workspace" in text and "Day 1, step 1" in text
    assert "Your code (as the tutor accepted it)" in text
    assert "ws = core.Workspace.from_config() # mine" in text
    assert "Exercise: solved by you, your code above, 1 try." in text
    assert "The lesson's code (Python)" not in text.split("2. Save the workspace configuration")[0]
    assert "Not done yet: 2. Save the workspace configuration (day1-setup/write-config), 3. Create your compute" in text
    assert "\x1b[" in paged.read_text(encoding="utf-8")  # colours go to the pager at a colour terminal
    assert text in screen(out)  # what the pager was given is what the learner saw

    paged.unlink()
    out = review_at_terminal(rows=200)  # it fits on the screen: no pager
    assert not paged.exists() and "[the pager shows]" not in out
    assert "ws = core.Workspace.from_config() # mine" in screen(out)

    out = review_at_terminal("--no-pager")
    assert not paged.exists() and "[the pager shows]" not in out
    assert "ws = core.Workspace.from_config() # mine" in screen(out)

    out = review_at_terminal("--plain")
    plain = paged.read_text(encoding="utf-8")
    # --plain is a transcript for a screen reader: no colour, no box drawing, the titles kept.
    assert "\x1b[" not in plain and "╭" not in plain and "|" not in plain and "+--" not in plain
    assert "1. Connect to your workspace" in plain
    assert "Your code (as the tutor accepted it)" in screen(plain)

    # Piped, the pager is not used even when PAGER is set.
    paged.unlink()
    piped = review(course_dir, "day1-setup", env=env)
    assert piped.returncode == 0 and not paged.exists()
    assert "ws = core.Workspace.from_config() # mine" in screen(piped.stdout)
    assert progress_bytes(course_dir) == before


EDITOR = """
import sys
path = sys.argv[1]
text = open(path).read()
open(path, "w").write(text.replace("return ____", "return [float(fare) for fare in model.predict(data).tolist()]"))
"""


def test_a_file_exercise_shows_the_function_the_learner_wrote_and_the_lessons_code_that_tests_it(
        data_path: Path, course_dir: Path, tmp_path: Path) -> None:
    start(course_dir, data_path, "day1-setup", "day1-compute", "day1-data", "day1-training")
    editor = tmp_path / "editor.py"
    editor.write_text(EDITOR, encoding="utf-8")
    child = spawn_tutor(["start", "-u", "eve", "-w", "local", "-C", str(course_dir), "--lesson", "day1-deploy"],
                        data=data_path, EDITOR=f"{shlex.quote(sys.executable)} {shlex.quote(str(editor))}")
    try:
        child.expect("What next")
        child.send("\r")
        child.expect("Your turn")
        child.expect(">>>")
        child.send("e\r")  # the editor writes run()'s body in score/score.py
        child.send("\r")
        child.expect("That works")
        child.expect("What next")
        child.send("q")
        child.send("\r")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    before = progress_bytes(course_dir)
    shown = review(course_dir, "day1-deploy")
    assert shown.returncode == 0, shown.stderr
    text = screen(shown.stdout)
    mine = text.index("Your code (run() in score/score.py, as the tutor accepted it)")
    theirs = text.index("The lesson's code that uses your file (Python)")
    assert mine < text.index("return [float(fare) for fare in model.predict(data).tolist()]") < theirs
    assert "def run(data: pd.DataFrame) -> list[float]:" in text[mine:theirs]
    assert "def init()" not in text[mine:theirs]  # only the function the learner wrote, not the whole file
    assert 'score = runpy.run_path("score/score.py"' in text[theirs:]
    assert "Exercise: solved by you, your code above, 1 try." in text
    assert "2. Deploy the model as a web service (Day 1, step 16, day1-deploy/deploy): not done yet" in text
    assert progress_bytes(course_dir) == before
