"""Day 1 through the model registry on the embedded workspace, and reattaching to runs after a kill."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tutor_testing import run_tutor, tutor_env

DAY1 = ["day1-setup", "day1-compute", "day1-data", "day1-training"]


def _progress(course_dir: Path, user: str) -> dict:
    return json.loads((course_dir / "progress" / f"{user}.json").read_text())


def _workspace(course_dir: Path, user: str):
    from tutor.workspace.local import LocalWorkspace

    name = f"{user}-ws"
    return LocalWorkspace(course_dir / ".tutor" / "workspaces" / name, name)


def test_day1_runs_five_models_and_registers_the_best(data_path: Path, course_dir: Path) -> None:
    for lesson in DAY1:
        result = run_tutor(["start", "--yes", "-u", "bob", "-C", str(course_dir), "--lesson", lesson],
                           data=data_path, timeout=300)
        assert result.returncode == 0, result.stdout[-3000:]
    doc = _progress(course_dir, "bob")
    runs = doc["steps"]["day1-training/train-five"]["evidence"]["runs"]
    assert len(runs) == 5 and all(r["status"] == "Completed" for r in runs.values())
    compare = doc["steps"]["day1-training/compare"]["evidence"]
    best_name = max(runs, key=lambda name: runs[name]["R^2"])
    assert compare["best_model"] == best_name == "4 full"

    ws = _workspace(course_dir, "bob")
    recorded = ws.list_runs("bob-taxi-experiment-r")
    assert len(recorded) == 5
    for run in recorded:
        assert str(run.status) == "Completed"
        metrics = ws.get_metrics(run.id)
        assert 0.85 < metrics["R^2"] < 0.95 and 2.5 < metrics["RMSE Test"] < 4.5
    model = ws.get_model("bob-taxi-model")
    assert model.version == 1 and model.run_id == compare["best_run_id"]
    assert doc["steps"]["day1-data/register"]["evidence"]["rows"] == 23222
    prediction = doc["steps"]["day1-training/predict-locally"]["evidence"]["prediction"]
    assert 15 < prediction < 22


def test_a_tutor_killed_while_runs_train_reattaches_to_them(data_path: Path, course_dir: Path) -> None:
    for lesson in DAY1[:3]:
        assert run_tutor(["start", "--yes", "-u", "dan", "-C", str(course_dir), "--lesson", lesson],
                         data=data_path).returncode == 0
    args = [sys.executable, "-m", "tutor", "start", "--yes", "-u", "dan", "-C", str(course_dir),
            "--lesson", "day1-training"]
    proc = subprocess.Popen(args, env=tutor_env(data_path), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                entry = _progress(course_dir, "dan")["steps"].get("day1-training/train-five", {})
            except ValueError:
                entry = {}
            if len((entry.get("partial") or {}).get("runs", {})) == 5:
                break
            time.sleep(0.02)
        else:
            raise AssertionError("the five runs were never recorded as submitted")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    submitted = _progress(course_dir, "dan")["steps"]["day1-training/train-five"]["partial"]["runs"]

    resumed = run_tutor(["start", "--yes", "-u", "dan", "-C", str(course_dir), "--lesson", "day1-training"],
                        data=data_path, timeout=300)
    assert resumed.returncode == 0, resumed.stdout[-3000:]
    evidence = _progress(course_dir, "dan")["steps"]["day1-training/train-five"]["evidence"]
    assert evidence["reattached"] == 5
    assert {name: r["run_id"] for name, r in evidence["runs"].items()} == submitted
    assert len(_workspace(course_dir, "dan").list_runs("dan-taxi-experiment-r")) == 5  # nothing submitted twice


def test_a_deleted_cluster_says_how_to_make_it_again(data_path: Path, course_dir: Path) -> None:
    from tutor_testing import flat

    for lesson in DAY1[:3]:
        assert run_tutor(["start", "--yes", "-u", "eva", "-C", str(course_dir), "--lesson", lesson],
                         data=data_path).returncode == 0
    _workspace(course_dir, "eva").delete_compute("evarcluster")  # `tutor cleanup`, or by hand
    fix = (f"tutor reset --step day1-compute/cluster --username eva --course-dir {course_dir.resolve()} --yes")
    for _ in range(2):  # the same clear answer on every resume
        failed = run_tutor(["start", "--yes", "-u", "eva", "-C", str(course_dir), "--lesson", "day1-training"],
                           data=data_path)
        out = flat(failed.stdout)
        assert failed.returncode == 1, out
        assert "The compute cluster evarcluster does not exist" in out, out
        assert fix in out and f"tutor start --username eva --course-dir {course_dir.resolve()}" in out, out
    # Doing what it says makes the cluster again, and the training step then runs.
    assert run_tutor(fix.split()[1:]).returncode == 0
    again = run_tutor(["start", "--yes", "-u", "eva", "-C", str(course_dir), "--lesson", "day1-compute"], data=data_path)
    assert again.returncode == 0, again.stdout[-2000:]
    assert _workspace(course_dir, "eva").get_compute("evarcluster").max_nodes == 3
    trained = run_tutor(["start", "--yes", "-u", "eva", "-C", str(course_dir), "--lesson", "day1-training"],
                        data=data_path, timeout=300)
    assert trained.returncode == 0, trained.stdout[-2000:]


@pytest.mark.slow  # five real runs around a kill
def test_a_run_submitted_just_before_a_kill_is_not_submitted_again(data_path: Path, course_dir: Path) -> None:
    """The narrowest window: the run is in the workspace, but the tutor died before saving its id.

    The state is made as that tutor left it: the step saved what it was submitting, the workspace
    has the run (submitted for real, through the workspace), the partial state does not name it.
    """
    from tutor.lessons import load_course
    from tutor.progress import Progress
    from tutor.steps.training import _utc_now
    from tutor.workspace import ScriptRunConfig

    for lesson in DAY1:
        assert run_tutor(["start", "--yes", "-u", "kim", "-C", str(course_dir), "--lesson", lesson],
                         data=data_path).returncode == 0
    step = load_course().find_step("day1-training/train-five")
    first = step.params["runs"][0]
    arguments = [str(a).replace("{username}", "kim") for a in first["arguments"]]
    ws = _workspace(course_dir, "kim")
    path = course_dir / "progress" / "kim.json"
    with Progress.open(path, "kim", create=False) as progress:  # the step again, as after `tutor reset`
        progress.reset(["day1-training/train-five", "day1-training/compare", "day1-training/predict-locally",
                        "day1-training/register-model"])
    before = {r.id for r in ws.list_runs("kim-taxi-experiment-r")}  # the first five, older than the window
    since = _utc_now()
    config = ScriptRunConfig(source_directory=course_dir / "train", script="train.py", arguments=arguments,
                             environment="kim-taxi-env", compute_target="kimrcluster", display_name=first["name"],
                             tags={k: str(v) for k, v in (first.get("tags") or {}).items()})
    orphan = ws.submit("kim-taxi-experiment-r", config)
    with Progress.open(path, "kim", create=False) as progress:
        progress.mark_running("day1-training/train-five")
        progress.save_partial("day1-training/train-five", {"runs": {}, "submitting": {
            "name": first["name"], "arguments": arguments, "since": since}})
    resumed = run_tutor(["start", "--yes", "-u", "kim", "-C", str(course_dir), "--lesson", "day1-training"],
                        data=data_path, timeout=300)
    assert resumed.returncode == 0, resumed.stdout[-3000:]
    evidence = _progress(course_dir, "kim")["steps"]["day1-training/train-five"]["evidence"]
    assert evidence["reattached"] == 1 and evidence["runs"][first["name"]]["run_id"] == orphan.id
    new = {r.id for r in ws.list_runs("kim-taxi-experiment-r")} - before
    assert len(new) == 5  # the orphan and four more: nothing submitted twice
