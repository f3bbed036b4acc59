"""Contract: experiments and runs, with real processes. Every backend must pass these."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tutor.errors import StepFailed, TutorError
from tutor.workspace.base import RunStatus, ScriptRunConfig, Workspace
from tutor.workspace.local.scheduler import cpu_count


def test_run_completes_logs_metrics_and_streams_its_log(workspace: Workspace, write_scripts, cluster) -> None:
    source = write_scripts(train="""
        import os, sys
        print("starting with", sys.argv[1:])
        for loss in (0.9, 0.5, 0.25):
            log_metric("loss", loss)
        log_metric("R^2", 0.8905551665244333)
        log_metric("model", "linear regression")
        log_metric("coefficients", [1.5, -2.0])
        log_metric("run id seen", os.environ["TUTOR_RUN_ID"])
        log_metric("cwd is run dir", os.getcwd() == os.environ["TUTOR_RUN_DIR"])
        with open("outputs/model.pkl", "w") as handle:
            handle.write("a model")
        print("finished")
    """)
    target = cluster("trainer", max_nodes=2)
    run = workspace.submit("alice-taxi-experiment", ScriptRunConfig(
        source_directory=source, script="train.py", arguments=["--data_user", "alice", 3],
        compute_target=target, tags={"model": "basic"},
    ))
    assert re.fullmatch(r"alice-taxi-experiment_\d{10}_[0-9a-f]{8}", run.id)
    assert run.status in (RunStatus.QUEUED, RunStatus.PREPARING, RunStatus.RUNNING)

    lines: list[str] = []
    done = workspace.wait_for_completion(run.id, on_log_line=lines.append, timeout=30)

    assert done.status == RunStatus.COMPLETED, workspace.get_log_tail(run.id)
    assert done.exit_code == 0 and done.error is None
    assert done.started_at and done.ended_at and done.duration_seconds is not None
    assert done.tags == {"model": "basic"}
    assert done.arguments == ["--data_user", "alice", "3"]
    assert "starting with ['--data_user', 'alice', '3']" in lines
    assert "finished" in lines
    assert (Path(done.run_dir) / "outputs" / "model.pkl").read_text() == "a model"

    metrics = workspace.get_metrics(run.id)
    assert metrics["R^2"] == pytest.approx(0.8905551665244333)
    assert metrics["loss"] == 0.25
    assert [p.value for p in metrics.history["loss"]] == [0.9, 0.5, 0.25]
    assert [p.step for p in metrics.history["loss"]] == [0, 1, 2]
    assert metrics["model"] == "linear regression"
    assert metrics["coefficients"] == [1.5, -2.0]
    assert metrics["run id seen"] == run.id
    assert metrics["cwd is run dir"] is True
    with pytest.raises(TutorError, match="no metric named 'RMSE'"):
        metrics["RMSE"]


def test_failing_script_ends_failed_with_its_log_tail(workspace: Workspace, write_scripts) -> None:
    source = write_scripts(train="""
        print("loading data")
        raise ValueError("the label column totalAmount is missing")
    """)
    run = workspace.submit("failing", ScriptRunConfig(source, "train.py"))
    done = workspace.wait_for_completion(run.id, timeout=30)
    assert done.status == RunStatus.FAILED
    assert done.exit_code == 1
    assert "exited with code 1" in (done.error or "")
    tail = workspace.get_log_tail(run.id, 5)
    assert "ValueError: the label column totalAmount is missing" in tail
    full = workspace.get_log_tail(run.id, 100)
    assert "runpy" not in full, "the traceback should start at the learner's script"
    with pytest.raises(StepFailed) as caught:
        workspace.wait_for_completion(run.id, raise_on_error=True)
    assert "ValueError" in (caught.value.log_tail or "")


def test_exit_code_of_sys_exit_is_kept(workspace: Workspace, write_scripts) -> None:
    source = write_scripts(ok="import sys; sys.exit(0)", bad="import sys; sys.exit(3)")
    ok = workspace.submit("exits", ScriptRunConfig(source, "ok.py"))
    bad = workspace.submit("exits", ScriptRunConfig(source, "bad.py"))
    assert workspace.wait_for_completion(ok.id, timeout=30).status == RunStatus.COMPLETED
    failed = workspace.wait_for_completion(bad.id, timeout=30)
    assert (failed.status, failed.exit_code) == (RunStatus.FAILED, 3)


def test_cancel_a_running_run(wait_until, workspace: Workspace, write_scripts) -> None:
    source = write_scripts(train="""
        import time
        print("sleeping", flush=True)
        time.sleep(60)
    """)
    run = workspace.submit("cancel", ScriptRunConfig(source, "train.py"))
    wait_until(lambda: workspace.get_run(run.id).status == RunStatus.RUNNING)
    canceled = workspace.cancel(run.id)
    assert canceled.status == RunStatus.CANCELED
    assert "canceled" in (canceled.error or "").lower()
    # Stays canceled once the process is gone, and canceling again changes nothing.
    assert workspace.wait_for_completion(run.id, timeout=10).status == RunStatus.CANCELED
    assert workspace.cancel(run.id).status == RunStatus.CANCELED


def test_queued_runs_wait_for_a_free_node_then_run(workspace: Workspace, write_scripts, cluster) -> None:
    source = write_scripts(train="""
        import time
        log_metric("start", time.time())
        time.sleep(0.6)
        log_metric("end", time.time())
    """)
    target = cluster("single", max_nodes=1)
    first = workspace.submit("queue", ScriptRunConfig(source, "train.py", compute_target=target))
    second = workspace.submit("queue", ScriptRunConfig(source, "train.py", compute_target=target))
    assert workspace.get_run(second.id).status == RunStatus.QUEUED
    status = workspace.get_compute_status(target)
    assert status.current_node_count == 1 and status.queued_runs == [second.id]

    runs = workspace.wait_for_runs([first.id, second.id], timeout=30)
    assert [r.status for r in runs] == [RunStatus.COMPLETED, RunStatus.COMPLETED]
    m1, m2 = workspace.get_metrics(first.id), workspace.get_metrics(second.id)
    assert m2["start"] >= m1["end"], "the second run must start after the first ended"


@pytest.mark.skipif(cpu_count() < 2, reason="needs 2 cores: a cluster runs at most one run per core")
def test_two_nodes_run_two_runs_at_once(workspace: Workspace, write_scripts, cluster) -> None:
    source = write_scripts(train="""
        import time
        log_metric("start", time.time())
        time.sleep(1.0)
        log_metric("end", time.time())
    """)
    target = cluster("pair", max_nodes=2)
    ids = [workspace.submit("overlap", ScriptRunConfig(source, "train.py", compute_target=target)).id
           for _ in range(2)]
    runs = workspace.wait_for_runs(ids, timeout=30)
    assert all(r.status == RunStatus.COMPLETED for r in runs)
    (s1, e1), (s2, e2) = [(workspace.get_metrics(i)["start"], workspace.get_metrics(i)["end"]) for i in ids]
    assert s2 < e1 and s1 < e2, "the two runs should overlap in time"


def test_cancel_a_queued_run_and_the_next_one_starts(workspace: Workspace, write_scripts, cluster) -> None:
    source = write_scripts(slow="import time; time.sleep(60)", quick="print('quick')")
    target = cluster("one", max_nodes=1)
    slow = workspace.submit("cq", ScriptRunConfig(source, "slow.py", compute_target=target))
    queued = workspace.submit("cq", ScriptRunConfig(source, "quick.py", compute_target=target))
    third = workspace.submit("cq", ScriptRunConfig(source, "quick.py", compute_target=target))
    assert workspace.cancel(queued.id).status == RunStatus.CANCELED
    assert workspace.get_run(third.id).status == RunStatus.QUEUED
    workspace.cancel(slow.id)
    assert workspace.wait_for_completion(third.id, timeout=30).status == RunStatus.COMPLETED
    assert workspace.get_run(queued.id).started_at is None


def test_snapshot_is_taken_at_submit_and_skips_outputs_and_caches(workspace: Workspace, write_scripts, cluster) -> None:
    source = write_scripts(train="""
        import os
        print(sorted(os.listdir(".")))
        print(open("data.txt").read())
    """)
    (source / "data.txt").write_text("version 1")
    (source / "outputs").mkdir()
    (source / "outputs" / "old_model.pkl").write_text("stale")
    (source / "__pycache__").mkdir()
    (source / "__pycache__" / "x.pyc").write_bytes(b"cache")
    target = cluster("snap", max_nodes=1)
    blocker = workspace.submit("snap", ScriptRunConfig(source, "train.py", compute_target=target))
    run = workspace.submit("snap", ScriptRunConfig(source, "train.py", compute_target=target))
    (source / "data.txt").write_text("version 2")  # after submit: the queued run must not see it
    lines: list[str] = []
    workspace.wait_for_completion(blocker.id, timeout=30)
    done = workspace.wait_for_completion(run.id, on_log_line=lines.append, timeout=30)
    assert done.status == RunStatus.COMPLETED
    assert "version 1" in lines
    listing = next(line for line in lines if line.startswith("["))
    assert "__pycache__" not in listing and "train.py" in listing
    assert not (Path(done.run_dir) / "outputs" / "old_model.pkl").exists()


def test_submit_refuses_bad_input_with_a_fix(workspace: Workspace, write_scripts, tmp_path: Path) -> None:
    source = write_scripts(train="print(1)")
    with pytest.raises(TutorError, match="no script") as caught:
        workspace.submit("bad", ScriptRunConfig(source, "trian.py"))
    assert "train.py" in str(caught.value)
    with pytest.raises(TutorError, match="does not exist"):
        workspace.submit("bad", ScriptRunConfig(tmp_path / "nowhere", "train.py"))
    with pytest.raises(TutorError, match="compute target named 'nocluster'"):
        workspace.submit("bad", ScriptRunConfig(source, "train.py", compute_target="nocluster"))
    with pytest.raises(TutorError, match="environment named 'noenv'"):
        workspace.submit("bad", ScriptRunConfig(source, "train.py", environment="noenv"))
    with pytest.raises(TutorError, match="not a valid experiment name"):
        workspace.submit("bad experiment!", ScriptRunConfig(source, "train.py"))
    with pytest.raises(TutorError, match="inside the source folder"):
        workspace.submit("bad", ScriptRunConfig(source, "../train.py"))


def test_unknown_run_is_a_clear_error(workspace: Workspace) -> None:
    with pytest.raises(TutorError, match="no run 'exp_1_deadbeef'"):
        workspace.get_run("exp_1_deadbeef")
    with pytest.raises(TutorError, match="no experiment named 'nope'"):
        workspace.list_runs("nope")


def test_list_runs_newest_first(workspace: Workspace, write_scripts) -> None:
    source = write_scripts(train="print('hi')")
    ids = [workspace.submit("listing", ScriptRunConfig(source, "train.py")).id for _ in range(3)]
    workspace.wait_for_runs(ids, timeout=30)
    assert [r.id for r in workspace.list_runs("listing")] == ids[::-1]
    assert {e.name for e in workspace.list_experiments()} == {"listing"}


def test_environment_with_a_missing_package_fails_before_the_script(workspace: Workspace, write_scripts) -> None:
    source = write_scripts(train="log_metric('ran', 1)")
    workspace.register_environment("needs-missing", ["surely-not-installed-package-xyz>=1.0", "pandas"])
    run = workspace.submit("envs", ScriptRunConfig(source, "train.py", environment="needs-missing"))
    done = workspace.wait_for_completion(run.id, timeout=30)
    assert done.status == RunStatus.FAILED
    assert "surely-not-installed-package-xyz" in (done.error or "")
    assert "pip install" in (done.error or "")
    assert "ran" not in workspace.get_metrics(run.id)
    assert done.environment == "needs-missing:1"


def test_a_run_in_a_present_environment_completes(workspace: Workspace, write_scripts) -> None:
    source = write_scripts(train="log_metric('ok', 1)")
    workspace.register_environment("sklearn-env", ["scikit-learn", "pandas>=2.1", "azureml-defaults"])
    run = workspace.submit("envs", ScriptRunConfig(source, "train.py", environment="sklearn-env:1"))
    assert workspace.wait_for_completion(run.id, timeout=30).status == RunStatus.COMPLETED


def test_records_can_stand_for_names_in_a_run_config(workspace: Workspace, write_scripts, cluster) -> None:
    """Azure's ScriptRunConfig takes the ComputeTarget and Environment objects themselves."""
    assert isinstance(workspace, Workspace)
    source = write_scripts(train="log_metric('ok', 1)")
    target = workspace.get_compute(cluster("records", max_nodes=1))
    env = workspace.register_environment("rec-env", ["pandas"])
    run = workspace.submit(workspace.experiment("records"),
                           ScriptRunConfig(source, "train.py", compute_target=target, environment=env))
    done = workspace.wait_for_completion(run.id, timeout=30)
    assert (done.status, done.compute_target, done.environment) == (RunStatus.COMPLETED, "records", "rec-env:1")


COURSE_TRAIN = """
    import os
    from sklearn.linear_model import LinearRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from tutor.workspace.local import load_dataset_frame

    df = load_dataset_frame(os.environ["TUTOR_WORKSPACE_DIR"], "green-taxi-raw")
    pickup = df["lpepPickupDatetime"]
    df["month_num"], df["day_of_month"] = pickup.dt.month, pickup.dt.day
    df["day_of_week"], df["hour_of_day"] = pickup.dt.dayofweek, pickup.dt.hour
    df = df[df.pickupLatitude.between(40.53, 40.88) & df.pickupLongitude.between(-74.09, -73.72)
            & (df.tripDistance >= 0.25) & (df.tripDistance < 31) & (df.passengerCount > 0) & (df.totalAmount > 0)]
    features = ["vendorID", "passengerCount", "tripDistance", "month_num", "day_of_month", "day_of_week", "hour_of_day"]
    x_train, x_test, y_train, y_test = train_test_split(df[features], df["totalAmount"], test_size=0.2, random_state=0)
    model = make_pipeline(StandardScaler(), LinearRegression()).fit(x_train, y_train)
    log_metric("rows", len(df))
    log_metric("Train accuracy", model.score(x_train, y_train))
    log_metric("Test accuracy", model.score(x_test, y_test))
"""


@pytest.mark.slow
def test_course_regression_runs_on_a_registered_dataset(workspace: Workspace, write_scripts, cluster,
                                                        real_data: Path) -> None:
    """End to end: datastore -> dataset -> a run on a cluster -> the course's reference R^2."""
    workspace.default_datastore.upload_files([real_data], "raw")
    workspace.register_tabular_dataset("green-taxi-raw", f"raw/{real_data.name}", file_format="parquet")
    run = workspace.submit("course", ScriptRunConfig(write_scripts(train=COURSE_TRAIN), "train.py",
                                                     compute_target=cluster("course", max_nodes=1)))
    done = workspace.wait_for_completion(run.id, timeout=120)
    assert done.status == RunStatus.COMPLETED, workspace.get_log_tail(run.id)
    metrics = workspace.get_metrics(run.id)
    assert metrics["rows"] == 23222
    assert metrics["Train accuracy"] == pytest.approx(0.8577399618717584, abs=1e-9)
    assert metrics["Test accuracy"] == pytest.approx(0.8905551665244333, abs=1e-9)
