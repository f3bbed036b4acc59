"""The azure-ai-ml backend against Azure ML's REST API: sign-in, throttling, long-running
operations, compute instances, models, online endpoints and their keys, and what it does not do yet.

Everything goes through the real azure-ai-ml and azure-core: only the HTTP answers are
local (tests/azure_v2/rest_azure.py), so a wrong path, body or header is a failing test.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from tutor.errors import TutorError
from tutor.workspace.base import ProvisioningState, Workspace


def _raises(call: Any) -> TutorError:
    with pytest.raises(TutorError) as caught:
        call()
    return caught.value


def test_it_connects_and_describes_the_workspace(workspace: Any, rest_azure: Any, credential: Any) -> None:
    details = workspace.get_details()
    assert (details["name"], details["location"], details["kind"]) == ("taxi-course-ws", "eastus", "azure")
    assert details["mlflow_tracking_uri"].startswith("azureml://eastus.api.azureml.ms/mlflow/v1.0/subscriptions/")
    assert credential.asked >= 1
    [first] = rest_azure.requests[:1]
    assert first.method == "GET" and first.path == rest_azure.workspace_path
    assert first.headers["authorization"] == "Bearer valid-token"  # azure-core's bearer-token policy


def test_an_expired_sign_in_says_to_sign_in_again(rest_azure: Any, make_workspace: Any, credential: Any) -> None:
    credential.token = "expired-token"
    error = _raises(lambda: make_workspace().list_compute())
    assert "Your Azure login has expired or is no longer valid" in error.what
    assert "Sign in again" in (error.fix or "")
    assert rest_azure.requests and all(r.headers.get("authorization") == "Bearer expired-token"
                                       for r in rest_azure.requests)


def test_a_missing_workspace_is_named_with_what_to_fix(rest_azure: Any, make_workspace: Any) -> None:
    rest_azure.workspace = "someone-elses-ws"  # the config names a workspace Azure does not have
    error = _raises(lambda: make_workspace().get_details())
    assert "There is no workspace taxi-course-ws" in error.what and "config.json" in (error.fix or "")


def test_throttling_is_retried_after_retry_after_and_a_lasting_one_is_explained(workspace: Any,
                                                                                rest_azure: Any) -> None:
    workspace.connect()
    rest_azure.throttle("GET", "/computes", retry_after=1)
    started = time.monotonic()
    assert workspace.list_compute() == []
    tries = rest_azure.sent("GET", "/computes")
    assert len(tries) == 2 and time.monotonic() - started >= 1.0  # azure-core waited as Azure asked
    for _ in range(12):  # more than azure-core's retries
        rest_azure.throttle("GET", "/computes", retry_after=0)
    error = _raises(workspace.list_compute)
    assert "Azure is limiting how fast" in error.what and "Wait a minute" in (error.fix or "")


def test_a_cluster_is_provisioned_through_its_long_running_operation(workspace: Any, rest_azure: Any) -> None:
    created = workspace.get_or_create_cluster("alicercluster", "STANDARD_D2_V2", 0, 3, 1500)
    assert created.provisioning_state == ProvisioningState.CREATING
    [put] = rest_azure.sent("PUT", "/computes/alicercluster")
    scale = put.body["properties"]["properties"]["scaleSettings"]
    assert (put.body["properties"]["computeType"], scale["maxNodeCount"], scale["nodeIdleTimeBeforeScaleDown"]) == (
        "AmlCompute", 3, "PT25M")
    ready = workspace.wait_for_compute("alicercluster")
    assert ready.provisioning_state == ProvisioningState.SUCCEEDED and ready.slots == 3
    assert rest_azure.sent("GET", "/operations/")  # the poller followed Azure-AsyncOperation
    workspace.delete_compute("alicercluster")
    assert workspace.list_compute() == [] and rest_azure.sent("DELETE", "/computes/alicercluster")
    error = _raises(lambda: workspace.delete_compute("alicercluster"))
    assert "There is no compute target named 'alicercluster'" in error.what


def test_a_compute_instance_is_a_vm_in_the_cloud(workspace: Any, rest_azure: Any) -> None:
    assert workspace.get_compute_instance() is None
    states: list[str] = []
    instance = workspace.create_compute_instance("alice-dev", on_state=lambda state, message: states.append(state))
    assert states == ["Creating", "Succeeded"]
    assert (instance.type, instance.vm_size, instance.properties["vcpus"]) == ("ComputeInstance", "STANDARD_DS3_V2", 4)
    assert workspace.get_compute_instance("alice-dev").name == "alice-dev"
    assert "taken by the compute instance" in _raises(lambda: workspace.get_or_create_cluster("alice-dev")).what
    assert workspace.create_compute_instance("alice-dev").name == "alice-dev"  # reused, not created again
    assert len(rest_azure.sent("PUT", "/computes/alice-dev")) == 1
    assert "not a VM size" in _raises(lambda: workspace.create_compute_instance("bob-dev", "STANDARD_HUGE")).what


def _model(rest_azure: Any, name: str, version: int, job: str | None = None) -> None:
    rest_azure.store(f"/models/{name}", {"name": name, "properties": {"latestVersion": str(version)}})
    rest_azure.store(f"/models/{name}/versions/{version}", {
        "id": f"{rest_azure.workspace_path}/models/{name}/versions/{version}", "name": str(version),
        "properties": {"modelType": "custom_model", "description": "best of five",
                       "modelUri": f"azureml://jobs/{job or 'job'}/outputs/artifacts/paths/outputs/model.pkl",
                       "tags": {"R2": "0.81"}, "jobName": job, "flavors": {}, "properties": {}},
        "systemData": {"createdAt": "2026-12-01T10:00:00Z"}})


def test_models_are_read_from_the_registry(workspace: Any, rest_azure: Any) -> None:
    _model(rest_azure, "alice-taxi-model", 1, job="keen_job_1")
    _model(rest_azure, "alice-taxi-model", 2, job="keen_job_2")
    latest = workspace.get_model("alice-taxi-model")
    assert (latest.version, latest.file_name, latest.run_id, latest.tags) == (2, "model.pkl", "keen_job_2", {"R2": "0.81"})
    assert workspace.get_model("alice-taxi-model", 1).run_id == "keen_job_1"
    assert [m.version for m in workspace.list_models("alice-taxi-model")] == [1, 2]
    assert "has no version 7 (it has 1, 2)" in _raises(lambda: workspace.get_model("alice-taxi-model", 7)).what
    assert "There is no model named 'nobody'" in _raises(lambda: workspace.get_model("nobody")).what


def _endpoint(rest_azure: Any, name: str) -> None:
    rest_azure.store(f"/onlineEndpoints/{name}", {
        "id": f"{rest_azure.workspace_path}/onlineEndpoints/{name}", "name": name, "location": "eastus",
        "kind": "Managed", "identity": {"type": "SystemAssigned"},
        "properties": {"authMode": "Key", "provisioningState": "Succeeded", "traffic": {"blue": 100},
                       "scoringUri": f"https://{name}.eastus.inference.ml.azure.com/score",
                       "swaggerUri": f"https://{name}.eastus.inference.ml.azure.com/swagger.json",
                       "properties": {"azureml.onlineendpointid": f"/subscriptions/.../onlineEndpoints/{name}"}},
        "systemData": {"createdAt": "2026-12-01T10:00:00Z", "lastModifiedAt": "2026-12-01T10:05:00Z"}})
    rest_azure.keys[f"{rest_azure.workspace_path}/onlineEndpoints/{name}".lower()] = {
        "primaryKey": "primary-key-aaaa", "secondaryKey": "secondary-key-bbbb"}


def test_online_endpoints_are_the_services_with_their_keys(workspace: Any, rest_azure: Any) -> None:
    _endpoint(rest_azure, "alice-taxi-cost-pred")
    [service] = workspace.list_services()
    assert (service.name, service.kind, service.state) == ("alice-taxi-cost-pred", "MIR", "Healthy")
    assert service.scoring_uri == "https://alice-taxi-cost-pred.eastus.inference.ml.azure.com/score"
    assert service.properties["auth_enabled"] and service.properties["endpoint"]["traffic"] == {"blue": 100}
    assert workspace.service_keys("alice-taxi-cost-pred") == ("primary-key-aaaa", "secondary-key-bbbb")
    primary, secondary = workspace.regen_service_key("alice-taxi-cost-pred", "Secondary")
    assert primary == "primary-key-aaaa" and secondary != "secondary-key-bbbb"
    [regen] = rest_azure.sent("POST", "/regenerateKeys")
    assert regen.body["keyType"] == "Secondary"
    assert "not a key" in _raises(lambda: workspace.regen_service_key("alice-taxi-cost-pred", "tertiary")).what
    workspace.delete_service("alice-taxi-cost-pred")
    assert workspace.list_services() == []
    assert "There is no service named 'alice-taxi-cost-pred'" in _raises(
        lambda: workspace.service_keys("alice-taxi-cost-pred")).what


def test_what_it_does_not_do_yet_is_said_with_what_to_use_instead(workspace: Any) -> None:
    import inspect

    from tutor.workspace.azure_v2.workspace import AzureMLWorkspace

    protocol = {name for name in dir(Workspace) if not name.startswith("_")} - {"name", "kind"}
    built = {name for name in protocol if name not in AzureMLWorkspace.NOT_YET}
    assert built >= {"connect", "get_details", "get_or_create_cluster", "register_environment", "get_model",
                     "list_services", "service_keys", "regen_service_key", "delete_service"}
    for name in AzureMLWorkspace.NOT_YET:
        assert name in protocol, name
        attribute = inspect.getattr_static(AzureMLWorkspace, name)
        if isinstance(attribute, property):
            call = lambda: workspace.default_datastore  # noqa: E731
        else:
            takes = [p for p in inspect.signature(attribute).parameters.values()
                     if p.name != "self" and p.kind is p.POSITIONAL_OR_KEYWORD]
            call = lambda n=name, args=("x",) * len(takes): getattr(workspace, n)(*args)  # noqa: E731
        error = _raises(call)
        assert "does not do" in error.what and "SDK v1 backend" in (error.fix or "")


def test_tutor_cleanup_removes_the_courses_endpoints_and_clusters_on_it(workspace: Any, rest_azure: Any) -> None:
    """What `tutor cleanup` does (course_resources, then remove_resources) on the azure-ai-ml backend,
    which it uses on a Python without azureml-core: the course's endpoints and clusters go, the
    compute instance and other learners' things stay."""
    from tutor.steps.deployment import course_resources, remove_resources

    _endpoint(rest_azure, "alice-taxi-cost-pred")
    _endpoint(rest_azure, "alice2-taxi-cost-pred")  # another learner's
    workspace.get_or_create_cluster("alicercluster", "STANDARD_D2_V2", 0, 3, 1500)
    workspace.wait_for_compute("alicercluster")
    workspace.create_compute_instance("alice-dev")
    services, clusters = course_resources(workspace, "alice")
    assert ([s.name for s in services], [c.name for c in clusters]) == (["alice-taxi-cost-pred"], ["alicercluster"])
    removed, problems = remove_resources(workspace, services, clusters)
    assert (removed, problems) == (["service alice-taxi-cost-pred", "cluster alicercluster"], [])
    assert [s.name for s in workspace.list_services()] == ["alice2-taxi-cost-pred"]
    assert [c.name for c in workspace.list_compute()] == ["alice-dev"]


def test_without_azureml_core_cleanup_and_predict_open_the_azure_ai_ml_backend(tmp_path: Any, rest_azure: Any,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    import tutor.workspace.azure as azure_v1
    from tutor.steps.base import Settings
    from tutor.paths import CourseDir
    from tutor.workspace import open_workspace
    from tutor.workspace.azure_v2.workspace import AzureMLWorkspace

    config = tmp_path / "config.json"
    config.write_text(json.dumps({"subscription_id": rest_azure.subscription, "resource_group": rest_azure.resource_group,
                                  "workspace_name": rest_azure.workspace}))
    settings = Settings(username="alice", course_dir=CourseDir(tmp_path), workspace=str(config))
    monkeypatch.setattr(azure_v1, "azure_problem", lambda: "azureml-core is not installed")
    opened = open_workspace(settings, v2_fallback=True)
    assert isinstance(opened, AzureMLWorkspace) and opened.name == rest_azure.workspace
    assert not rest_azure.requests  # nothing reaches Azure before the first call that needs it
