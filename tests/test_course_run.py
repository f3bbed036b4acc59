"""Walking the course for real: --yes with no terminal, status, resume after a kill, the prompts."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tutor.lessons import load_course
from tutor_testing import run_tutor, tutor_env


def progress_of(course_dir: Path, user: str = "alice") -> dict:
    return json.loads((course_dir / "progress" / f"{user}.json").read_text())


def test_yes_runs_every_step_and_status_reports_the_same(data_path: Path, course_dir: Path) -> None:
    result = run_tutor(["start", "--yes", "--username", "alice", "--course-dir", str(course_dir)], data=data_path,
                       timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Traceback" not in result.stdout + result.stderr
    doc = progress_of(course_dir)
    course = load_course()
    for step in course.steps:
        assert doc["steps"][step.key]["status"] == "done", step.key
    prepare = doc["steps"]["day1-data/prepare"]
    assert prepare["evidence"]["rows_final"] == 23222
    assert prepare["evidence"]["removed_by_filter"] == {
        "pickup_latitude": 105, "pickup_longitude": 11, "trip_distance": 594, "passenger_count": 5, "total_amount": 63,
    }
    assert prepare["question"]["not_asked"].startswith("not asked")
    assert (course_dir / "data" / "green_taxi_prepared.csv").exists()
    assert (course_dir / "train" / "train.py").exists()

    status = run_tutor(["status", "--json", "-u", "alice", "-C", str(course_dir)])
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    assert report["learner"] == "alice"
    assert report["totals"]["done"] == len(course.steps)
    by_key = {s["key"]: s for s in report["steps"]}
    assert by_key["day1-data/prepare"]["evidence"]["rows_final"] == 23222
    assert report["current_step"] is None

    text = run_tutor(["status", "-u", "alice", "-C", str(course_dir)])
    assert "day1-data/prepare" in text.stdout and "done" in text.stdout

    again = run_tutor(["start", "--yes", "-u", "alice", "-C", str(course_dir)], data=data_path)
    assert again.returncode == 0
    assert "already finished" in again.stdout


def _wait_for(predicate, timeout: float = 60.0, interval: float = 0.005) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError("timed out waiting")


def _status(course_dir: Path, key: str) -> str | None:
    try:
        return progress_of(course_dir)["steps"].get(key, {}).get("status")
    except (FileNotFoundError, ValueError):
        return None


# SIGINT (Ctrl-C) in the default run; SIGKILL with the slow tests (the same path, the slower way down).
@pytest.mark.parametrize("sig", [pytest.param(signal.SIGKILL, id="killed", marks=pytest.mark.slow),
                                 pytest.param(signal.SIGINT, id="ctrl-c")])
def test_an_interrupted_step_runs_again_and_nothing_finished_is_lost(
        data_path: Path, course_dir: Path, sig: signal.Signals) -> None:
    # Only the data lesson, so the step we interrupt (loading pandas and the parquet) takes long enough.
    args = [sys.executable, "-m", "tutor", "start", "--yes", "-u", "alice", "-C", str(course_dir)]
    proc = subprocess.Popen(args, env=tutor_env(data_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, text=True)
    try:
        _wait_for(lambda: _status(course_dir, "day1-data/load") == "running")
        proc.send_signal(sig)
        output, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    doc = progress_of(course_dir)
    assert doc["steps"]["day1-setup/get-scripts"]["status"] == "done"
    assert doc["steps"]["day1-data/load"]["status"] in ("running", "failed")
    if sig == signal.SIGINT:
        assert proc.returncode == 130, output
        assert "Interrupted" in output and "Traceback" not in output
        assert doc["steps"]["day1-data/load"]["error"] == "interrupted"

    resumed = run_tutor(["start", "--yes", "-u", "alice", "-C", str(course_dir)], data=data_path, timeout=600)
    assert resumed.returncode == 0, resumed.stdout[-2000:]
    assert "Welcome back, alice" in resumed.stdout
    doc = progress_of(course_dir)
    assert doc["steps"]["day1-data/load"]["status"] == "done"
    assert doc["steps"]["day1-data/load"]["attempts"] == 2
    assert doc["steps"]["day1-setup/get-scripts"]["attempts"] == 1  # not run again


def test_plain_prompts_hint_quit_and_resume(data_path: Path, course_dir: Path) -> None:
    """A learner on a pipe: asks a hint, runs a step, quits at the next, comes back."""
    common = ["start", "--plain", "-u", "alice", "-w", "local", "-C", str(course_dir), "--lesson", "day1-data"]
    # load: hint, then run (Enter); prepare: quit.
    first = run_tutor(common, data=data_path, input="h\n\nq\n")
    assert first.returncode == 0, first.stdout[-2000:]
    assert "Hint: Offline?" in first.stdout
    assert "Progress saved" in first.stdout
    doc = progress_of(course_dir)
    assert doc["steps"]["day1-data/load"]["status"] == "done"
    assert doc["steps"]["day1-data/load"]["hints_used"] == 1
    assert "day1-data/prepare" not in doc["steps"]

    # Back again: prepare runs; the question is answered wrong (passenger_count), hinted, then right.
    second = run_tutor(common, data=data_path, input="\n4\n3\n\n2\n")
    assert second.returncode == 0, second.stdout[-3000:]
    assert "Welcome back, alice" in second.stdout
    assert "Not quite. Hint:" in second.stdout
    assert "Right!" in second.stdout
    doc = progress_of(course_dir)
    question = doc["steps"]["day1-data/prepare"]["question"]
    assert question == {"attempts": 2, "correct": True, "last_answer": "trip_distance"}
    assert doc["steps"]["day1-data/profile"]["question"]["correct"] is True


def test_skip_and_end_of_input(data_path: Path, course_dir: Path) -> None:
    result = run_tutor(["start", "--plain", "-u", "alice", "-w", "local", "-C", str(course_dir), "--lesson", "day1-setup"],
                       data=data_path, input="s\n")
    assert result.returncode == 0, result.stdout
    doc = progress_of(course_dir)
    assert doc["steps"]["day1-setup/connect"]["status"] == "skipped"
    assert "day1-setup/write-config" not in doc["steps"]  # end of input: saved and stopped
    # End of input at a prompt saves and stops, without a traceback.
    result = run_tutor(["start", "--plain", "-u", "alice", "-w", "local", "-C", str(course_dir), "--lesson", "day1-data"],
                       data=data_path, input="")
    assert result.returncode == 0
    assert "Progress saved" in result.stdout and "Traceback" not in result.stdout + result.stderr


def test_no_color_and_dumb_terminal(data_path: Path, course_dir: Path) -> None:
    env = tutor_env(data_path, NO_COLOR="1", TERM="dumb")
    result = run_tutor(["start", "--yes", "-u", "alice", "-C", str(course_dir), "--lesson", "day1-setup"], env=env)
    assert result.returncode == 0, result.stdout
    assert "\x1b[" not in result.stdout


def test_reset_a_step_runs_it_again(data_path: Path, course_dir: Path) -> None:
    assert run_tutor(["start", "--yes", "-u", "alice", "-C", str(course_dir), "--lesson", "day1-setup"],
                     data=data_path).returncode == 0
    refused = run_tutor(["reset", "-u", "alice", "-C", str(course_dir), "--step", "get-scripts"], input="n\n")
    assert refused.returncode == 1 and "Nothing was reset" in refused.stdout
    done = run_tutor(["reset", "--yes", "-u", "alice", "-C", str(course_dir), "--step", "get-scripts"])
    assert done.returncode == 0, done.stdout
    assert "day1-setup/get-scripts" not in progress_of(course_dir)["steps"]


def test_a_step_that_ran_but_is_not_done_keeps_its_evidence(data_path: Path, course_dir: Path) -> None:
    # The learner made their cluster by hand, with 4 nodes: the cluster step (get-or-create)
    # finds it, and the lesson's "max_nodes == 3" does not hold.
    from tutor.workspace.local import LocalWorkspace

    ws = LocalWorkspace(course_dir / ".tutor" / "workspaces" / "alice-ws", "alice-ws")
    ws.get_or_create_cluster("alicercluster", max_nodes=4)
    result = run_tutor(["start", "--yes", "-u", "alice", "-C", str(course_dir), "--lesson", "day1-compute"],
                       data=data_path)
    assert result.returncode == 1, result.stdout[-2000:]
    entry = progress_of(course_dir)["steps"]["day1-compute/cluster"]
    assert entry["status"] == "failed"
    assert entry["evidence"]["max_nodes"] == 4 and entry["evidence"]["name"] == "alicercluster"
    assert entry["unmet"] == ["max_nodes == 3"]
    # The instructor's view of it.
    status = json.loads(run_tutor(["status", "--json", "-u", "alice", "-C", str(course_dir)]).stdout)
    shown = next(s for s in status["steps"] if s["key"] == "day1-compute/cluster")
    assert shown["status"] == "failed" and shown["evidence"]["max_nodes"] == 4
    assert shown["unmet"] == ["max_nodes == 3"] and "max_nodes == 3" in shown["error"]
