"""Embedded-workspace specifics of runs: processes, reattaching, the daemon-less queue."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from tutor.workspace.base import RunStatus, ScriptRunConfig
from tutor.workspace.local import LocalWorkspace
from tutor.workspace.local.scheduler import VANISHED

pytestmark = pytest.mark.parametrize("backend", ["local"], indirect=True)


def _row(ws: LocalWorkspace, run_id: str) -> dict:
    with ws.store.read() as conn:
        return dict(conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone())


def _running(ws: LocalWorkspace, run_id: str) -> bool:
    return ws.get_run(run_id).status == RunStatus.RUNNING


def test_killed_run_process_becomes_failed_not_running(wait_until, workspace: LocalWorkspace, write_scripts) -> None:
    source = write_scripts(train="""
        import time
        log_metric("before kill", 1)
        time.sleep(60)
    """)
    run = workspace.submit("killed", ScriptRunConfig(source, "train.py"))
    wait_until(lambda: _running(workspace, run.id) and "before kill" in workspace.get_metrics(run.id))
    os.kill(_row(workspace, run.id)["pid"], signal.SIGKILL)
    done = workspace.wait_for_completion(run.id, timeout=10)
    assert done.status == RunStatus.FAILED
    assert done.error == VANISHED
    assert workspace.get_metrics(run.id)["before kill"] == 1  # what it logged is kept


def test_a_reused_pid_is_not_mistaken_for_the_run(wait_until, workspace: LocalWorkspace, write_scripts) -> None:
    """Same pid, other start time (the machine rebooted, the pid was reused): Failed."""
    source = write_scripts(train="import time; time.sleep(60)")
    run = workspace.submit("reused", ScriptRunConfig(source, "train.py"))
    wait_until(lambda: _running(workspace, run.id))
    pid = _row(workspace, run.id)["pid"]
    with workspace.store.write() as conn:
        conn.execute("UPDATE runs SET pid_token = '1' WHERE id = ?", (run.id,))
    try:
        assert workspace.get_run(run.id).status == RunStatus.FAILED
    finally:
        os.killpg(pid, signal.SIGKILL)


def test_a_new_tutor_process_reattaches_to_a_running_run(wait_until, make_workspace, write_scripts) -> None:
    first = make_workspace()
    source = write_scripts(train="""
        import time
        log_metric("step", 1)
        time.sleep(0.8)
        log_metric("step", 2)
    """)
    run = first.submit("reattach", ScriptRunConfig(source, "train.py"))
    wait_until(lambda: _running(first, run.id))
    del first

    again = make_workspace()  # what a resumed tutor does: open the folder, look the run up
    assert again.get_run(run.id).status == RunStatus.RUNNING
    done = again.wait_for_completion(run.id, timeout=30)
    assert done.status == RunStatus.COMPLETED
    assert [p.value for p in again.get_metrics(run.id).history["step"]] == [1, 2]


def test_the_queue_drains_while_no_tutor_polls(wait_until, workspace: LocalWorkspace, write_scripts, cluster) -> None:
    """Each run's wrapper starts the next queued run as it exits: no daemon, no polling."""
    source = write_scripts(train="import time; time.sleep(0.3)")
    target = cluster("drain", max_nodes=1)
    ids = [workspace.submit("drain", ScriptRunConfig(source, "train.py", compute_target=target)).id for _ in range(3)]
    # Look only at the files the wrappers write; never call the workspace (which would promote).
    def statuses() -> list[str]:
        with workspace.store.read() as conn:
            return [conn.execute("SELECT status FROM runs WHERE id = ?", (i,)).fetchone()[0] for i in ids]

    wait_until(lambda: statuses() == ["Completed"] * 3, timeout=30)
    exit_files = [workspace.layout.exit_file(i) for i in ids]
    assert [json.loads(f.read_text())["code"] for f in exit_files] == [0, 0, 0]


def test_metrics_are_visible_while_the_run_is_going(wait_until, workspace: LocalWorkspace, write_scripts) -> None:
    source = write_scripts(train="""
        import time
        log_metric("epoch loss", 0.5)
        time.sleep(60)
    """)
    run = workspace.submit("live", ScriptRunConfig(source, "train.py"))
    try:
        wait_until(lambda: "epoch loss" in workspace.get_metrics(run.id))
        assert workspace.get_run(run.id).status == RunStatus.RUNNING
    finally:
        workspace.cancel(run.id)


def test_bad_metric_lines_become_run_warnings(workspace: LocalWorkspace, write_scripts) -> None:
    source = write_scripts(train="""
        import os
        with open(os.path.join(os.environ["TUTOR_RUN_DIR"], "metrics.jsonl"), "a") as f:
            f.write("not json\\n")
            f.write('{"value": 1}\\n')
            f.write('{"name": "obj", "value": {"a": {"b": 1}}}\\n')
            f.write('{"name": "row", "value": {"a": 1, "b": "x"}}\\n')
        log_metric("good", 2)
        with open(os.path.join(os.environ["TUTOR_RUN_DIR"], "metrics.jsonl"), "a") as f:
            f.write('{"name": "no newline at the end", "value": 3}')
    """)
    run = workspace.submit("warn", ScriptRunConfig(source, "train.py"))
    done = workspace.wait_for_completion(run.id, timeout=30)
    assert done.status == RunStatus.COMPLETED
    metrics = workspace.get_metrics(run.id)
    assert dict(metrics) == {"row": {"a": 1, "b": "x"}, "good": 2, "no newline at the end": 3}  # a row: log_row
    assert len(done.warnings) == 3
    assert done.warnings[0].startswith("metrics.jsonl line 1: not valid JSON")
    assert "line 3" in done.warnings[2] and "dict" in done.warnings[2]


def test_tag_lines_set_run_tags_not_warnings(workspace: LocalWorkspace, write_scripts) -> None:
    source = write_scripts(train="""
        import os
        with open(os.path.join(os.environ["TUTOR_RUN_DIR"], "metrics.jsonl"), "a") as f:
            f.write('{"tag": "variant", "value": "4", "time": "2026-01-01T00:00:00+00:00"}\\n')
        log_metric("R^2", 0.9)
    """)
    run = workspace.submit("tags", ScriptRunConfig(source, "train.py", tags={"model": "full"}))
    done = workspace.wait_for_completion(run.id, timeout=30)
    assert done.status == RunStatus.COMPLETED
    assert done.warnings == []
    assert done.tags == {"model": "full", "variant": "4"}
    assert dict(workspace.get_metrics(run.id)) == {"R^2": 0.9}


def test_run_environment_variables_and_layout(workspace: LocalWorkspace, write_scripts) -> None:
    source = write_scripts(train="""
        import os
        for key in ("TUTOR_RUN_ID", "TUTOR_RUN_DIR", "TUTOR_WORKSPACE_DIR"):
            log_metric(key, os.environ[key])
    """)
    run = workspace.submit("envvars", ScriptRunConfig(source, "train.py"))
    workspace.wait_for_completion(run.id, timeout=30)
    metrics = workspace.get_metrics(run.id)
    assert metrics["TUTOR_RUN_ID"] == run.id
    assert Path(metrics["TUTOR_RUN_DIR"]) == workspace.layout.run_dir(run.id)
    assert Path(metrics["TUTOR_WORKSPACE_DIR"]) == workspace.layout.root
    assert workspace.layout.run_log(run.id).is_file()
    assert (workspace.layout.run_dir(run.id) / "outputs").is_dir()
    assert json.loads(workspace.layout.exit_file(run.id).read_text())["code"] == 0


def test_a_run_script_can_load_a_registered_dataset(workspace: LocalWorkspace, write_scripts, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "prepped.csv").write_text("tripDistance,totalAmount\n1.0,5.0\n2.0,9.0\n")
    workspace.default_datastore.upload(data, "alice-greentaxi")
    workspace.register_tabular_dataset("alice-green-taxi", "alice-greentaxi/prepped.csv")
    source = write_scripts(train="""
        import os
        from tutor.workspace.local import load_dataset_frame
        frame = load_dataset_frame(os.environ["TUTOR_WORKSPACE_DIR"], "alice-green-taxi")
        log_metric("rows", len(frame))
        log_metric("total", float(frame["totalAmount"].sum()))
    """)
    run = workspace.submit("dataset-in-run", ScriptRunConfig(source, "train.py"))
    done = workspace.wait_for_completion(run.id, timeout=60)
    assert done.status == RunStatus.COMPLETED, workspace.get_log_tail(run.id)
    assert dict(workspace.get_metrics(run.id)) == {"rows": 2, "total": 14.0}


def test_logged_runs_and_their_children(make_workspace, tmp_path: Path) -> None:
    """Azure's start_logging/child runs: a parent owned by this process, finished children with metrics."""
    workspace = make_workspace()
    parent = workspace.start_logging("automl", display_name="AutoML", tags={"kind": "automl"})
    assert parent.status == RunStatus.RUNNING and parent.parent_id is None
    first = workspace.record_child_run(parent.id, display_name="LightGBM", metrics={"rmse": 3.6})
    failed = workspace.record_child_run(parent.id, display_name="KNN", status="Failed", error="it crashed")
    assert first.status == RunStatus.COMPLETED and first.parent_id == parent.id
    assert failed.status == RunStatus.FAILED and failed.error == "it crashed"
    assert [c.display_name for c in workspace.get_children(parent.id)] == ["LightGBM", "KNN"]
    assert [r.id for r in workspace.list_runs("automl")] == [parent.id]  # children are not top-level runs
    model = tmp_path / "model.pkl"
    model.write_bytes(b"model")
    workspace.upload_run_file(parent.id, "outputs/model.pkl", model)
    workspace.log_metrics(parent.id, {"best_rmse": 3.6})
    done = workspace.complete_run(parent.id)
    assert done.status == RunStatus.COMPLETED
    assert workspace.register_model("automl-model", "outputs/model.pkl", run_id=parent.id).version == 1
    assert dict(workspace.get_metrics(parent.id)) == {"best_rmse": 3.6}


def test_a_logged_run_whose_process_died_becomes_failed(make_workspace) -> None:
    import subprocess
    import sys

    workspace = make_workspace()
    code = (
        "import sys; from tutor.workspace.local import LocalWorkspace;"
        f"ws = LocalWorkspace({str(workspace.path)!r}, 'learner-ws'); r = ws.start_logging('logged'); print(r.id, flush=True)"
    )
    run_id = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    run = workspace.get_run(run_id)
    assert run.status == RunStatus.FAILED
    assert "ended unexpectedly" in (run.error or "")
