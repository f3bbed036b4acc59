"""Embedded-workspace specifics of compute: queued runs when their cluster goes away."""

from __future__ import annotations

import pytest

from tutor.workspace.base import RunStatus, ScriptRunConfig
from tutor.workspace.local import LocalWorkspace

pytestmark = pytest.mark.parametrize("backend", ["local"], indirect=True)


def test_deleting_a_cluster_cancels_its_queued_runs_with_a_reason(wait_until, workspace: LocalWorkspace, write_scripts,
                                                                  cluster) -> None:
    source = write_scripts(slow="import time; time.sleep(60)", quick="log_metric('ran', 1)")
    target = cluster("pending", max_nodes=1)
    running = workspace.submit("gone", ScriptRunConfig(source, "slow.py", compute_target=target))
    queued = [workspace.submit("gone", ScriptRunConfig(source, "quick.py", compute_target=target)).id
              for _ in range(2)]
    wait_until(lambda: workspace.get_run(running.id).status == RunStatus.RUNNING)
    # A cluster that is (re)provisioning starts nothing, so canceling the running run
    # leaves the other two queued and the cluster idle: exactly the case to test.
    with workspace.store.write() as conn:
        conn.execute("UPDATE compute SET state = 'Creating' WHERE name = ?", (target,))
    workspace.cancel(running.id)
    assert [workspace.get_run(i).status for i in queued] == [RunStatus.QUEUED] * 2

    workspace.delete_compute(target)
    for run_id in queued:
        run = workspace.get_run(run_id)
        assert run.status == RunStatus.CANCELED
        assert "compute target 'pending' was deleted before the run could start" in (run.error or "")
        assert run.started_at is None
