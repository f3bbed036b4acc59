"""Contract: compute instances and clusters."""

from __future__ import annotations

import pytest

from tutor.errors import TutorError
from tutor.workspace.base import ProvisioningState, RunStatus, ScriptRunConfig, Workspace


def test_cluster_is_created_then_provisioned_with_state_callbacks(workspace: Workspace) -> None:
    created = workspace.get_or_create_cluster("alicercluster", "STANDARD_D2_V2", 0, 3, 1500)
    assert created.provisioning_state == ProvisioningState.CREATING
    assert (created.type, created.vm_size, created.min_nodes, created.max_nodes,
            created.idle_seconds_before_scaledown) == ("AmlCompute", "STANDARD_D2_V2", 0, 3, 1500)
    states: list[str] = []
    ready = workspace.wait_for_compute("alicercluster", on_state=lambda state, message: states.append(state))
    assert states == ["Creating", "Succeeded"]
    assert ready.provisioning_state == ProvisioningState.SUCCEEDED
    assert 1 <= ready.slots <= 3
    # Asking again returns the same cluster unchanged (the course's "create if missing").
    again = workspace.get_or_create_cluster("alicercluster", "STANDARD_D2_V2", 0, 1, 60)
    assert again.max_nodes == 3 and again.provisioning_state == ProvisioningState.SUCCEEDED
    assert [c.name for c in workspace.list_compute()] == ["alicercluster"]


@pytest.mark.parametrize("name", ["a", "christopherrcluster", "1cluster", "my_cluster", "my cluster"])
def test_cluster_names_follow_azure_rules(workspace: Workspace, name: str) -> None:
    with pytest.raises(TutorError, match="not a valid compute cluster name") as caught:
        workspace.get_or_create_cluster(name)
    assert "2-16 characters" in str(caught.value)


def test_cluster_settings_are_checked(workspace: Workspace) -> None:
    with pytest.raises(TutorError, match="not a VM size"):
        workspace.get_or_create_cluster("c1", "STANDARD_HUGE")
    with pytest.raises(TutorError, match="min_nodes <= max_nodes"):
        workspace.get_or_create_cluster("c1", "STANDARD_D2_V2", 2, 1)
    with pytest.raises(TutorError, match="at least 0"):
        workspace.get_or_create_cluster("c1", "STANDARD_D2_V2", -1, 1)
    assert workspace.get_or_create_cluster("c1", "standard_d13", 0, 1).vm_size == "STANDARD_D13"


def test_compute_instance_records_this_machine(workspace: Workspace) -> None:
    assert workspace.get_compute_instance() is None
    states: list[str] = []
    instance = workspace.create_compute_instance("alice-dev", on_state=lambda s, m: states.append(s))
    assert states == ["Creating", "Succeeded"]
    assert instance.type == "ComputeInstance"
    assert instance.provisioning_state == ProvisioningState.SUCCEEDED
    facts = instance.properties
    assert facts["cpu_count"] >= 1
    assert facts["python_version"].count(".") == 2
    assert facts["packages"]["pandas"]
    assert workspace.get_compute_instance().name == "alice-dev"
    with pytest.raises(TutorError, match="already registered as the compute instance 'alice-dev'"):
        workspace.create_compute_instance("other-dev")
    with pytest.raises(TutorError, match="taken by the compute instance"):
        workspace.get_or_create_cluster("alice-dev")


def test_missing_compute_is_a_clear_error(workspace: Workspace) -> None:
    workspace.get_or_create_cluster("exists")
    with pytest.raises(TutorError, match="no compute target named 'missing'") as caught:
        workspace.get_compute("missing")
    assert "exists" in str(caught.value)
    with pytest.raises(TutorError, match="no compute target named 'missing'"):
        workspace.delete_compute("missing")


def test_delete_is_refused_while_a_run_executes(wait_until, workspace: Workspace, write_scripts, cluster) -> None:
    source = write_scripts(train="import time; time.sleep(60)")
    target = cluster("busy", max_nodes=1)
    running = workspace.submit("del", ScriptRunConfig(source, "train.py", compute_target=target))
    queued = workspace.submit("del", ScriptRunConfig(source, "train.py", compute_target=target))
    wait_until(lambda: workspace.get_run(running.id).status == RunStatus.RUNNING)
    with pytest.raises(TutorError, match="still has 1 run") as caught:
        workspace.delete_compute(target)
    assert running.id in str(caught.value) and "cancel" in str(caught.value)
    workspace.cancel(queued.id)
    workspace.cancel(running.id)
    workspace.delete_compute(target)
    assert workspace.list_compute() == []


def test_compute_status_counts_nodes_in_use(workspace: Workspace, cluster) -> None:
    target = cluster("idle", max_nodes=2)
    status = workspace.get_compute_status(target)
    assert (status.current_node_count, status.running_runs, status.queued_runs) == (0, [], [])
