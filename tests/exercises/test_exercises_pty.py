"""Exercises through a real pseudo-terminal: the learner types code, checks look at what it did.

Driven as a learner would: a wrong answer gets the specific message and a hint, a correct answer
written differently from the reference passes, Ctrl-C stops a `while True:` loop and the prompt
comes back, `skip` runs the reference and records the exercise as skipped.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pexpect
import pytest

from tutor_testing import run_tutor, spawn_tutor


def spawn(course: Path, data: Path, lesson: str, **extra: str) -> pexpect.spawn:
    return spawn_tutor(["start", "-u", "eve", "-w", "local", "-C", str(course), "--lesson", lesson], data=data, **extra)


def progress(course: Path) -> dict:
    return json.loads((course / "progress" / "eve.json").read_text())["steps"]


def type_code(child: pexpect.spawn, *lines: str) -> None:
    for line in lines:
        child.send(line + "\r")
    child.send("\r")  # an empty line runs it


def test_a_wrong_answer_is_told_what_is_missing_and_a_different_right_one_passes(data_path: Path,
                                                                                  course_dir: Path) -> None:
    child = spawn(course_dir, data_path, "day1-setup")
    try:
        child.expect("What next")
        child.send("\r")  # run this step
        child.expect("Your turn")
        child.expect(">>>")
        type_code(child, "ws = 42")
        child.expect("Not yet")
        child.expect("is a int, not a Workspace")
        child.expect("Hint:")
        # Written unlike the reference: a module alias and no print.
        type_code(child, "import azureml.core as core", "ws = core.Workspace.from_config()")
        child.expect("That works")
        child.expect("What next")  # the next step (write-config) asks
        child.send("q")
        child.send("\r")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    entry = progress(course_dir)["day1-setup/connect"]
    assert entry["status"] == "done"
    record = entry["exercise"]
    assert record["status"] == "solved" and record["attempts"] == 2 and record["hints_used"] == 1
    assert "core.Workspace.from_config()" in record["code"]
    shown = run_tutor(["status", "-u", "eve", "-C", str(course_dir)])
    assert "solved, 2 tries, 1 hint" in shown.stdout, shown.stdout


def test_ctrl_c_stops_a_runaway_loop_and_skip_runs_the_reference(data_path: Path, course_dir: Path) -> None:
    done = run_tutor(["start", "--yes", "-u", "eve", "-C", str(course_dir), "--lesson", "day1-setup"],
                     data=data_path, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:]
    child = spawn(course_dir, data_path, "day1-compute")
    try:
        child.expect("What next")
        child.send("\r")
        child.expect("Your turn")
        child.expect(">>>")
        type_code(child, "n = 0", "while True:", "    n += 1")
        child.send("\r")
        import time

        time.sleep(1.5)
        child.sendintr()
        child.expect("Stopped")
        child.expect(">>>")
        # The kernel survived with its names: n kept counting until the interrupt.
        type_code(child, "print('counted', n > 0)")
        child.expect("counted True")
        child.expect("Not yet")  # still no `exp`
        child.expect(">>>")
        child.send("skip\r")
        child.expect("What next")  # the cluster exercise's step
        child.send("\r")
        child.expect("Your turn")
        child.expect(">>>")
        # A third exercise: too big a cluster is told so; a plain create (no try/except) passes.
        type_code(child, "from azureml.core.compute import AmlCompute, ComputeTarget",
                  "big = AmlCompute.provisioning_configuration(vm_size='STANDARD_D2_V2', max_nodes=6)",
                  "cluster = ComputeTarget.create(ws, 'evercluster', big)")
        child.expect("Not yet")
        child.expect("has max_nodes=6; the course uses 3")
        child.expect(">>>")
        type_code(child, "cluster.delete()",
                  "small = AmlCompute.provisioning_configuration(vm_size='STANDARD_D2_V2', min_nodes=0, max_nodes=3)",
                  "cluster = ComputeTarget.create(workspace=ws, name='evercluster', provisioning_configuration=small)",
                  "cluster.wait_for_completion()")
        child.expect("That works")
        child.expect("How many nodes will it have")  # the step's prediction, after the exercise
        child.send("0\r")
        child.expect("every step here is finished")  # the cluster was the lesson's last step
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    steps = progress(course_dir)
    assert steps["day1-compute/experiment"]["status"] == "done"
    assert steps["day1-compute/experiment"]["exercise"]["status"] == "skipped"
    cluster = steps["day1-compute/cluster"]["exercise"]
    assert cluster["status"] == "solved" and cluster["attempts"] == 2, cluster
    assert "provisioning_configuration=small" in cluster["code"]
    from tutor.workspace.local import LocalWorkspace

    ws = LocalWorkspace(course_dir / ".tutor" / "workspaces" / "eve-ws", "eve-ws", create=False)
    assert "eve-taxi-experiment-r" in [e.name for e in ws.list_experiments()]


EDITOR = """
import sys
path = sys.argv[1]
text = open(path).read()
open(path, "w").write(text.replace("return ____", "return list(map(float, model.predict(data)))"))
"""


def test_the_scoring_script_exercise_is_written_in_the_file_itself(data_path: Path, course_dir: Path,
                                                                    tmp_path: Path) -> None:
    for lesson in ("day1-setup", "day1-compute", "day1-data", "day1-training"):
        done = run_tutor(["start", "--yes", "-u", "eve", "-C", str(course_dir), "--lesson", lesson],
                         data=data_path, timeout=600)
        assert done.returncode == 0, done.stdout[-2000:]
    editor = tmp_path / "editor.py"
    editor.write_text(EDITOR, encoding="utf-8")
    child = spawn(course_dir, data_path, "day1-deploy", EDITOR=f"{sys.executable} {editor}")
    script = course_dir / "score" / "score.py"
    try:
        child.expect("What next")
        child.send("\r")
        child.expect("left for you to write")
        child.expect("Your turn")
        child.expect("____")
        child.expect(">>>")
        assert "return ____" in script.read_text()  # the learner's copy, blanked for them
        child.send("\r")  # Enter alone checks the file as it is
        child.expect("Not yet")
        child.expect("run\\(\\) raised NameError")
        child.expect("Hint:")
        child.expect(">>>")
        child.send("e\r")
        child.send("\r")
        child.expect("That works")
        child.expect("score.py works")  # the step's own test of the file, after the exercise
        child.expect("What next")
        child.send("q")
        child.send("\r")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    record = progress(course_dir)["day1-deploy/scoring-script"]["exercise"]
    assert record["status"] == "solved" and record["file"] == "score/score.py", record
    assert record["attempts"] == 2 and record["hints_used"] == 1
    assert "return list(map(float, model.predict(data)))" in record["code"]
    assert "return list(map(float" in script.read_text()


def test_on_the_v2_track_the_learner_writes_azure_ai_ml_and_its_effects_are_checked(data_path: Path,
                                                                                   course_dir: Path) -> None:
    child = spawn_tutor(["start", "-u", "eve", "-w", "local", "--sdk", "v2", "-C", str(course_dir),
                         "--lesson", "day1-setup"], data=data_path)
    try:
        child.expect("What next")
        child.send("\r")
        child.expect("Your turn")
        child.expect("MLClient.from_config")  # the v2 task and scaffold, not v1's Workspace.from_config
        child.expect(">>>")
        type_code(child, "ml_client = 42")
        child.expect("Not yet")
        child.expect("is a int, not a MLClient")
        child.expect("Hint:")
        type_code(child, "import azure.ai.ml as aml", "from azure.identity import DefaultAzureCredential as Cred",
                  "ml_client = aml.MLClient.from_config(Cred())")
        child.expect("Not yet")
        child.expect("`ws` is not defined yet")
        type_code(child, "ws = ml_client.workspaces.get(ml_client.workspace_name)")
        child.expect("That works")
        child.expect("What next")
        child.send("q")
        child.send("\r")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    record = progress(course_dir)["day1-setup/connect"]["exercise"]
    assert record["status"] == "solved" and record["attempts"] == 3
    assert "ml_client.workspaces.get" in record["code"] and "Workspace.from_config" not in record["code"]
