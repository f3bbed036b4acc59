"""The embedded azureml SDK's compute: clusters, the compute instance and AKS, on a real embedded workspace.

The lessons' compute code (day 1's compute instance and get-or-create cluster, the AKS
cluster of the scale-out step, day 2's cluster, the wrap-up's cleanup loop) runs as written;
effects are checked on the backend (the LocalWorkspace the step actions use), printed
progress on stdout. azureml names are imported inside the tests: the SDK is active only
while the ``sdk_course`` fixture runs.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest


def _cluster_config(**overrides: Any) -> Any:
    from azureml.core.compute import AmlCompute

    settings = dict(vm_size="STANDARD_D2_V2", min_nodes=0, max_nodes=3, idle_seconds_before_scaledown=1500)
    settings.update(overrides)
    return AmlCompute.provisioning_configuration(**settings)


def _get_or_create(ws: Any, name: str) -> tuple[Any, bool]:
    """The course's day-1 cluster code; returns (cluster, whether it was created)."""
    from azureml.core.compute import ComputeTarget
    from azureml.core.compute_target import ComputeTargetException

    try:
        return ComputeTarget(workspace=ws, name=name), False
    except ComputeTargetException:
        return ComputeTarget.create(ws, name, _cluster_config()), True


# --------------------------------------------------------------------------- the lessons' code


def test_course_compute_code_runs_as_written(ws: Any, backend: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from azureml.core.compute import AksCompute, AmlCompute, ComputeInstance, ComputeTarget

    # day1-setup/compute-instance
    config = ComputeInstance.provisioning_configuration(vm_size="STANDARD_DS3_V2")
    instance = ComputeTarget.create(ws, "alice-dev", config)
    instance.wait_for_completion(show_output=True)
    assert isinstance(instance, ComputeInstance) and instance.type == "ComputeInstance"
    assert instance.get_status().state == "Running" and instance.vm_size == "STANDARD_DS3_V2"
    assert backend.get_compute_instance().name == "alice-dev"
    assert backend.get_compute_instance().properties["cpu_count"] >= 1
    assert capsys.readouterr().out == "Running\n"

    # day1-compute/cluster: the first time creates it, the second finds it
    cluster, created = _get_or_create(ws, "alicercluster")
    assert created and cluster.provisioning_state == "Creating"
    cluster.wait_for_completion(show_output=True)
    out = capsys.readouterr().out
    assert out.startswith("InProgress") and 'Succeeded' in out
    assert 'Provisioning operation finished, operation "Succeeded"' in out
    assert out.endswith("AmlCompute wait for completion finished\n\n"
                        "Minimum number of nodes requested have been provisioned\n")
    record = backend.get_compute("alicercluster")
    assert (record.type, record.vm_size, record.min_nodes, record.max_nodes,
            record.idle_seconds_before_scaledown) == ("AmlCompute", "STANDARD_D2_V2", 0, 3, 1500)
    assert record.provisioning_state.value == "Succeeded"
    again, created = _get_or_create(ws, "alicercluster")
    assert not created and isinstance(again, AmlCompute) and again.provisioning_state == "Succeeded"
    again.wait_for_completion(show_output=True)
    assert capsys.readouterr().out == ("Succeeded\nAmlCompute wait for completion finished\n\n"
                                       "Minimum number of nodes requested have been provisioned\n")

    # day1-deploy/scale-out
    aks = ComputeTarget.create(ws, "alice-aks", AksCompute.provisioning_configuration())
    assert isinstance(aks, AksCompute) and aks.type == "AKS" and aks.provisioning_state == "Creating"
    aks.wait_for_completion(show_output=True)
    assert capsys.readouterr().out.endswith('Succeeded' 'Provisioning operation finished, operation "Succeeded"\n')
    assert (aks.provisioning_state, aks.agent_count, aks.agent_vm_size) == ("Succeeded", 3, "STANDARD_D3_V2")
    assert backend.get_compute("alice-aks").type == "AKS"

    # day2-python/cluster
    day2 = ComputeTarget.create(ws, "alice-cluster", AmlCompute.provisioning_configuration(
        vm_size="STANDARD_D13", min_nodes=0, max_nodes=1))
    day2.wait_for_completion(show_output=True)
    assert backend.get_compute("alice-cluster").vm_size == "STANDARD_D13"
    assert day2.scale_settings.maximum_node_count == 1 and day2.scale_settings.idle_seconds_before_scaledown == 1800

    # day2-wrapup/cleanup: the clusters go, the instance and the AKS cluster stay
    targets = ws.compute_targets
    assert {name: type(t).__name__ for name, t in targets.items()} == {
        "alice-dev": "ComputeInstance", "alicercluster": "AmlCompute", "alice-aks": "AksCompute",
        "alice-cluster": "AmlCompute"}
    for target in ws.compute_targets.values():
        if target.type == "AmlCompute":
            target.delete()
    assert sorted(t.name for t in backend.list_compute()) == ["alice-aks", "alice-dev"]


# --------------------------------------------------------------------------- looking targets up


def test_constructor_returns_the_targets_own_type(ws: Any, backend: Any) -> None:
    from azureml.core.compute import AksCompute, AmlCompute, ComputeInstance, ComputeTarget

    backend.create_compute_instance("alice-dev")
    backend.get_or_create_cluster("alicercluster", max_nodes=2)
    backend.get_or_create_aks("alice-aks")
    assert type(ComputeTarget(ws, "alice-dev")) is ComputeInstance
    assert type(ComputeTarget(workspace=ws, name="alicercluster")) is AmlCompute
    assert type(ComputeTarget(ws, "alice-aks")) is AksCompute
    # As azureml's __new__ does, the stored type wins over the class the lookup was made through.
    assert type(AmlCompute(ws, "alice-dev")) is ComputeInstance
    assert [type(t).__name__ for t in ComputeTarget.list(ws)] == ["ComputeInstance", "AmlCompute", "AksCompute"]
    cluster = ComputeTarget(ws, "alicercluster")
    assert cluster.workspace == ws and cluster.name == "alicercluster" and cluster.location == ws.location
    assert cluster.id.endswith("/workspaces/alice-ws/computes/alicercluster")
    assert cluster.vm_size == "STANDARD_D2_V2" and cluster.scale_settings.maximum_node_count == 2
    assert cluster.provisioning_state == "Creating" and cluster.status is None
    assert repr(cluster).startswith("AmlCompute(workspace=Workspace.create(name='alice-ws'")
    assert "provisioning_state=Creating" in repr(cluster)
    assert json.loads(repr(ComputeTarget(ws, "alice-dev")))["properties"]["status"]["state"] == "Running"
    assert cluster.serialize()["properties"]["properties"]["scaleSettings"]["maxNodeCount"] == 2


def test_a_missing_target_raises_azureml_exception_and_message(ws: Any, backend: Any) -> None:
    import azureml.exceptions
    from azureml.core.compute import AmlCompute, ComputeTarget
    from azureml.core.compute_target import ComputeTargetException

    assert ComputeTargetException is azureml.exceptions.ComputeTargetException
    for lookup in (lambda: ComputeTarget(workspace=ws, name="nocluster"), lambda: AmlCompute(ws, "nocluster")):
        with pytest.raises(ComputeTargetException) as caught:
            lookup()
        assert caught.value.message == ("ComputeTargetNotFound: Compute Target with name nocluster not found in "
                                        "provided workspace")
    assert backend.list_compute() == []


# --------------------------------------------------------------------------- settings


def test_provisioning_configuration_checks_as_azureml_does(sdk_course: Path) -> None:
    from azureml.core.compute import AksCompute, AmlCompute, ComputeInstance
    from azureml.exceptions import ComputeTargetException

    with pytest.raises(ComputeTargetException, match="max nodes count is mandatory"):
        AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2")
    with pytest.raises(ComputeTargetException, match="max nodes count must be greater than or equal to min nodes"):
        AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", min_nodes=3, max_nodes=1)
    with pytest.raises(ComputeTargetException, match="greater than or equal to 0"):
        AmlCompute.provisioning_configuration(max_nodes=-1)
    with pytest.raises(ComputeTargetException, match="not all virtual net information"):
        AmlCompute.provisioning_configuration(max_nodes=1, vnet_name="net")
    with pytest.raises(ComputeTargetException, match="admin username must be provided"):
        AmlCompute.provisioning_configuration(max_nodes=1, admin_user_password="x")
    with pytest.raises(ComputeTargetException, match="identity_type must be set"):
        AmlCompute.provisioning_configuration(max_nodes=1, identity_type="Mine")
    with pytest.raises(TypeError):  # azureml compares the counts: a string is a TypeError there too
        AmlCompute.provisioning_configuration(max_nodes="3")
    with pytest.raises(ComputeTargetException, match="not all virtual net information"):
        ComputeInstance.provisioning_configuration(subnet_name="default")
    with pytest.raises(ComputeTargetException, match="agent count must be a positive integer"):
        AksCompute.provisioning_configuration(agent_count=-2)
    config = AmlCompute.provisioning_configuration(max_nodes=4, min_nodes=None)
    assert (config.vm_size, config.vm_priority, config.scale_settings.minimum_node_count,
            config.scale_settings.idle_seconds_before_scaledown) == ("", "dedicated", 0, 1800)
    assert ComputeInstance.provisioning_configuration().vm_size == "Standard_DS3_V2"


def test_bad_settings_at_create_write_nothing(ws: Any, backend: Any) -> None:
    from azureml.core.compute import AmlCompute, ComputeInstance, ComputeTarget
    from azureml.exceptions import ComputeTargetException, UserErrorException

    with pytest.raises(ComputeTargetException) as caught:
        ComputeTarget.create(ws, "alicercluster", _cluster_config(vm_size="STANDARD_HUGE"))
    assert caught.value.message.startswith("Received bad response from Resource Provider:\nResponse Code: 400")
    assert "'STANDARD_HUGE' is not a VM size" in caught.value.message
    with pytest.raises(ComputeTargetException, match="at least 0"):
        ComputeTarget.create(ws, "alicercluster", _cluster_config(min_nodes=-1))
    with pytest.raises(ComputeTargetException, match="not a valid compute cluster name"):
        ComputeTarget.create(ws, "christopherrcluster", _cluster_config())
    with pytest.raises(UserErrorException, match="local is a reserved name"):
        ComputeTarget.create(ws, "local", _cluster_config())
    with pytest.raises(ComputeTargetException) as caught:
        ComputeTarget.create(ws, "alice-dev", ComputeInstance.provisioning_configuration(vm_size="Standard_Z9"))
    assert caught.value.message == ("VmSize 'Standard_Z9' is not available in the specified region. More details "
                                    "can be found here: https://aka.ms/azureml-vm-details.")
    with pytest.raises(UserErrorException, match="subnet_name, vnet_name, vnet_resourcegroup_name are not supported"):
        ComputeTarget.create(ws, "alicercluster", AmlCompute.provisioning_configuration(
            max_nodes=1, vnet_name="v", vnet_resourcegroup_name="rg", subnet_name="s"))
    with pytest.raises(UserErrorException, match="location is not supported"):
        ComputeTarget.create(ws, "alicercluster", AmlCompute.provisioning_configuration(max_nodes=1,
                                                                                       location="westeurope"))
    with pytest.raises(AttributeError, match="_compute_type"):  # azureml reads the type off the configuration
        ComputeTarget.create(ws, "alicercluster", ("STANDARD_D2_V2", 0, 3))
    assert backend.list_compute() == []


def test_creating_an_existing_cluster(ws: Any, backend: Any) -> None:
    from azureml.core.compute import AksCompute, ComputeInstance, ComputeTarget
    from azureml.exceptions import ComputeTargetException

    first = ComputeTarget.create(ws, "alicercluster", _cluster_config())
    first.wait_for_completion()
    same = ComputeTarget.create(ws, "alicercluster", _cluster_config(vm_size="standard_d2_v2"))
    assert same.name == "alicercluster" and same.provisioning_state == "Succeeded"
    with pytest.raises(ComputeTargetException) as caught:
        ComputeTarget.create(ws, "alicercluster", _cluster_config(max_nodes=5, vm_size="STANDARD_D13"))
    message = caught.value.message
    assert "Response Code: 409" in message and "already exists" in message
    assert "max_nodes 3 (asked for 5)" in message and "vm_size 'STANDARD_D2_V2' (asked for 'STANDARD_D13')" in message
    assert backend.get_compute("alicercluster").max_nodes == 3
    with pytest.raises(ComputeTargetException, match="taken by the compute cluster 'alicercluster'"):
        ComputeTarget.create(ws, "alicercluster", AksCompute.provisioning_configuration())
    ComputeTarget.create(ws, "alice-dev", ComputeInstance.provisioning_configuration())
    with pytest.raises(ComputeTargetException, match="Compute name 'alice-dev' is not available. Reason: AlreadyExists"):
        ComputeTarget.create(ws, "alice-dev", ComputeInstance.provisioning_configuration())
    with pytest.raises(ComputeTargetException, match="already registered as the compute instance 'alice-dev'"):
        ComputeTarget.create(ws, "alice-dev2", ComputeInstance.provisioning_configuration())
    assert sorted(t.name for t in backend.list_compute()) == ["alice-dev", "alicercluster"]


# --------------------------------------------------------------------------- status, runs, deleting


def _wait_for(condition: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_status_counts_the_runs_on_a_cluster_and_delete_waits_for_them(
        ws: Any, backend: Any, sdk_course: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from azureml.core import Experiment, ScriptRunConfig
    from azureml.core.compute import ComputeTarget
    from azureml.core.compute.amlcompute import AmlComputeStatus
    from azureml.exceptions import ComputeTargetException

    cluster = ComputeTarget.create(ws, "alicercluster", _cluster_config(max_nodes=2))
    assert cluster.get_status() is None
    assert capsys.readouterr().out == "AmlCompute is getting created. Consider calling wait_for_completion() first\n\n"
    cluster.wait_for_completion()
    status = cluster.get_status()
    assert isinstance(status, AmlComputeStatus)
    assert (status.current_node_count, status.target_node_count, status.provisioning_state, status.vm_size,
            status.allocation_state) == (0, 0, "Succeeded", "STANDARD_D2_V2", "Steady")
    assert status.scale_settings.maximum_node_count == 2
    assert status.serialize()["scaleSettings"] == {"minNodeCount": 0, "maxNodeCount": 2,
                                                   "nodeIdleTimeBeforeScaleDown": "PT25M"}

    source = sdk_course / "job"
    source.mkdir()
    release = sdk_course / "release"
    (source / "hold.py").write_text(
        "import pathlib, time\n"
        f"while not pathlib.Path({str(release)!r}).exists():\n    time.sleep(0.05)\n")
    run = Experiment(ws, "alice-hold").submit(ScriptRunConfig("job", "hold.py", compute_target=cluster))
    try:
        _wait_for(lambda: cluster.get_status().current_node_count == 1)
        status = cluster.get_status()
        assert status.node_state_counts.running_node_count == 1 and status.target_node_count == 1
        with pytest.raises(ComputeTargetException, match="still has 1 run"):
            cluster.delete()
        assert backend.get_compute("alicercluster").name == "alicercluster"
    finally:
        release.write_text("go")
    run.wait_for_completion()
    assert run.get_status() == "Completed"

    cluster.delete()
    assert cluster.provisioning_state == "Deleting"
    assert [t.name for t in backend.list_compute()] == []
    cluster.wait_for_completion(show_output=True, is_delete_operation=True)
    assert capsys.readouterr().out.endswith('Provisioning operation finished, operation "Succeeded"\n')
    with pytest.raises(ComputeTargetException, match="ComputeTargetNotFound"):
        cluster.refresh_state()


def test_aks_cluster_hosts_services_not_runs(ws: Any, backend: Any, sdk_course: Path) -> None:
    from azureml.core import Experiment, ScriptRunConfig
    from azureml.core.compute import AksCompute, ComputeTarget
    from azureml.exceptions import ComputeTargetException, UserErrorException

    aks = ComputeTarget.create(ws, "alice-aks", AksCompute.provisioning_configuration(agent_count=2,
                                                                                      vm_size="Standard_D2_v2"))
    aks.wait_for_completion()
    assert (aks.provisioning_state, aks.agent_count, aks.agent_vm_size) == ("Succeeded", 2, "STANDARD_D2_V2")
    assert "services deployed to it run as processes here" in backend.get_compute("alice-aks").state_message
    same = ComputeTarget.create(ws, "alice-aks", AksCompute.provisioning_configuration(agent_count=2,
                                                                                       vm_size="STANDARD_D2_V2"))
    assert same.provisioning_state == "Succeeded"
    with pytest.raises(ComputeTargetException, match=r"agent_count 2 \(asked for 3\)"):
        ComputeTarget.create(ws, "alice-aks", AksCompute.provisioning_configuration(vm_size="STANDARD_D2_V2"))
    with pytest.raises(UserErrorException, match="ssl_cert_pem_file, ssl_cname, ssl_key_pem_file are not supported"):
        ComputeTarget.create(ws, "other-aks", AksCompute.provisioning_configuration(
            ssl_cname="x.example.com", ssl_cert_pem_file="c.pem", ssl_key_pem_file="k.pem"))
    # A target fetched again has no operation to follow, as on Azure.
    with pytest.raises(ComputeTargetException, match="Long running operation information not known"):
        ComputeTarget(ws, "alice-aks").wait_for_completion()

    (sdk_course / "job").mkdir()
    (sdk_course / "job" / "noop.py").write_text("print('hi')\n")
    with pytest.raises(UserErrorException, match="'alice-aks' is an AKS cluster: it hosts deployed services"):
        Experiment(ws, "alice-aks-run").submit(ScriptRunConfig("job", "noop.py", compute_target=aks))
    assert backend.list_experiments() == [] or all(not backend.list_runs(e.name) for e in backend.list_experiments())

    ComputeTarget(ws, "alice-aks").delete()
    assert backend.list_compute() == []


def test_compute_instance_delete(ws: Any, backend: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from azureml.core.compute import ComputeInstance, ComputeTarget

    instance = ComputeTarget.create(ws, "alice-dev", ComputeInstance.provisioning_configuration())
    assert str(instance).count('"State": "Running"') == 1
    instance.delete(wait_for_completion=True, show_output=True)
    assert capsys.readouterr().out == "Deleted\n"
    assert backend.get_compute_instance() is None


# --------------------------------------------------------------------------- the subset's edges


def test_unsupported_calls_explain_themselves(ws: Any, backend: Any) -> None:
    from azureml._embedded import EmbeddedImportError, NotInEmbeddedSDK
    from azureml.core.compute import AmlCompute, ComputeTarget
    from azureml.exceptions import UserErrorException

    cluster = ComputeTarget.create(ws, "alicercluster", _cluster_config())
    with pytest.raises(NotInEmbeddedSDK) as caught:
        cluster.update(max_nodes=4)
    message = str(caught.value)
    assert message.startswith("AmlCompute.update is not part of the azureml SDK on the embedded workspace.")
    for name in ("wait_for_completion", "get_status", "delete", "provisioning_configuration", "scale_settings"):
        assert name in message
    with pytest.raises(NotInEmbeddedSDK, match="AmlCompute.supported_vmsizes is not part"):
        AmlCompute.supported_vmsizes(ws)
    with pytest.raises(EmbeddedImportError, match="azureml.core.compute.DatabricksCompute is not part"):
        from azureml.core.compute import DatabricksCompute  # noqa: F401
    with pytest.raises(EmbeddedImportError, match="provides: ComputeTargetException"):
        from azureml.core.compute_target import LocalTarget  # noqa: F401
    with pytest.raises(UserErrorException, match="min_node_count=2"):
        cluster.wait_for_completion(min_node_count=2)
    assert backend.get_compute("alicercluster").provisioning_state.value == "Creating"


def test_an_older_database_gains_aks_and_keeps_its_compute(tmp_path: Path) -> None:
    from tutor.workspace.local import LocalWorkspace
    from tutor.workspace.local.layout import DB_FILE
    from tutor.workspace.local.store import MIGRATIONS, _split_sql

    root = tmp_path / "ws"
    LocalWorkspace(root, "alice-ws")
    db = root / DB_FILE
    for leftover in root.glob(DB_FILE + "*"):
        leftover.unlink()
    conn = sqlite3.connect(db)
    for number in range(2):
        for statement in _split_sql(MIGRATIONS[number]):
            conn.execute(statement)
    conn.execute(f"PRAGMA user_version={2}")
    conn.execute("INSERT INTO compute (name, type, vm_size, min_nodes, max_nodes, idle_seconds, state, created_at) "
                 "VALUES ('alicercluster', 'AmlCompute', 'STANDARD_D2_V2', 0, 3, 1500, 'Succeeded', '2026-01-01')")
    conn.commit()
    conn.close()
    workspace = LocalWorkspace(root, "alice-ws", create=False)
    assert [(t.name, t.max_nodes) for t in workspace.list_compute()] == [("alicercluster", 3)]
    assert workspace.get_or_create_aks("alice-aks").type == "AKS"
