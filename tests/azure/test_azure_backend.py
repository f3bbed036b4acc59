"""What the Azure backend hands to the SDK, and what it makes of the answers.

The fake Azure records every call at the service boundary; these tests assert on the
SDK's real configuration objects the backend built (ScriptRunConfig, RunConfiguration,
AmlCompute/ComputeInstance provisioning configurations, Environment, InferenceConfig,
AciWebservice deployment configuration), and on the deployment API.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest

from tutor.errors import StepFailed, TutorError
from tutor.workspace.azure.config import azure_problem
from tutor.workspace.base import ProvisioningState, RunStatus, ScriptRunConfig, Workspace

AZURE_PROBLEM = azure_problem()
pytestmark = pytest.mark.skipif(AZURE_PROBLEM is not None, reason=AZURE_PROBLEM or "")

SCORE = '''
import json, os
def init():
    global model_dir
    model_dir = os.environ.get("AZUREML_MODEL_DIR")
def run(raw):
    return [18.2281]
'''


# --------------------------------------------------------------------------- compute


def test_cluster_gets_a_real_amlcompute_provisioning_configuration(workspace: Any, fake_azure: Any) -> None:
    from azureml.core.compute import AmlCompute

    workspace.get_or_create_cluster("alicercluster", "STANDARD_D2_V2", 0, 3, 1500)
    (name, config), = fake_azure.calls["create_compute"]
    assert name == "alicercluster" and config._compute_type is AmlCompute
    assert config.vm_size == "STANDARD_D2_V2" and config.vm_priority == "dedicated"
    scale = config.scale_settings
    assert (scale.minimum_node_count, scale.maximum_node_count, scale.idle_seconds_before_scaledown) == (0, 3, 1500)
    # asking again makes no second cluster
    workspace.get_or_create_cluster("alicercluster", "STANDARD_D2_V2", 0, 3, 1500)
    assert len(fake_azure.calls["create_compute"]) == 1


def test_compute_instance_is_a_vm_with_its_applications(workspace: Any, fake_azure: Any) -> None:
    from azureml.core.compute import ComputeInstance

    states: list[str] = []
    instance = workspace.create_compute_instance("alice-dev", on_state=lambda s, m: states.append(s))
    assert states == ["Creating", "Succeeded"]
    (name, config), = fake_azure.calls["create_compute"]
    assert config._compute_type is ComputeInstance
    assert (config.vm_size, config.ssh_public_access) == ("STANDARD_DS3_V2", False)
    assert instance.type == "ComputeInstance" and instance.provisioning_state == ProvisioningState.SUCCEEDED
    assert instance.properties["applications"]["RStudio"].startswith("https://alice-dev-8787.")
    assert (instance.properties["vcpus"], instance.properties["memory_gb"]) == (4, 14)
    assert workspace.get_compute_instance().name == "alice-dev"
    # the same name again reuses it (no second VM)
    assert workspace.create_compute_instance("alice-dev").name == "alice-dev"
    assert len(fake_azure.calls["create_compute"]) == 1


def test_provisioning_failure_names_the_quota_fix(workspace: Any, fake_azure: Any) -> None:
    fake_azure.provisioning_error = {"error": {"code": "QuotaExceeded", "message": (
        "Operation could not be completed as it results in exceeding approved standardDv2Family Cores quota. "
        "Current Limit: 4, Current Usage: 4, Additional Required: 2.")}}
    workspace.get_or_create_cluster("bigcluster", "STANDARD_D2_V2", 0, 3, 60)
    states: list[str] = []
    with pytest.raises(TutorError, match="failed to provision: Operation could not be completed") as caught:
        workspace.wait_for_compute("bigcluster", on_state=lambda s, m: states.append(s))
    assert states == ["Creating", "Failed"]
    assert "request more quota" in str(caught.value)


def test_vm_sizes_are_checked_against_the_region_without_case(workspace: Any, fake_azure: Any) -> None:
    assert workspace.get_or_create_cluster("c1", "Standard_D13", 0, 1).vm_size == "STANDARD_D13"
    with pytest.raises(TutorError, match="not a VM size the workspace knows"):
        workspace.get_or_create_cluster("c2", "STANDARD_M416MS_V2")
    assert len(fake_azure.calls["supported_vm_sizes"]) == 1  # asked once per session


# --------------------------------------------------------------------------- runs


def test_submit_builds_a_real_scriptrunconfig(workspace: Any, fake_azure: Any, write_scripts, cluster) -> None:
    from azureml.core import Environment, RunConfiguration
    from azureml.core import ScriptRunConfig as SdkScriptRunConfig

    source = write_scripts(train="print('training')")
    target = cluster("pycluster", max_nodes=1)
    env = workspace.register_environment("alice-sklearn", ["scikit-learn", "pandas", "azureml-defaults"],
                                         python_version="3.11")
    run = workspace.submit("alice-taxi-experiment-python", ScriptRunConfig(
        source, "train.py", arguments=["--data_user", "alice", 2], compute_target=target, environment=env,
        tags={"model": "basic"}, display_name="linear regression"))
    (experiment, config, tags), = fake_azure.calls["submit"]
    assert experiment == "alice-taxi-experiment-python" and tags == {"model": "basic"}
    assert isinstance(config, SdkScriptRunConfig) and isinstance(config.run_config, RunConfiguration)
    assert (config.source_directory, config.script) == (str(source), "train.py")
    assert config.arguments == ["--data_user", "alice", "2"]
    assert config.run_config.target == "pycluster"
    sdk_env = config.run_config.environment
    assert isinstance(sdk_env, Environment) and (sdk_env.name, sdk_env.version) == ("alice-sklearn", "1")
    assert list(sdk_env.python.conda_dependencies.pip_packages) == ["scikit-learn", "pandas", "azureml-defaults"]
    assert fake_azure.calls["set_display_name"] == [(run.id, "linear regression")]
    done = workspace.wait_for_completion(run.id, timeout=30)
    assert (done.status, done.environment, done.display_name) == (RunStatus.COMPLETED, "alice-sklearn:1",
                                                                  "linear regression")


def test_run_streams_its_log_and_reads_metrics_as_azure_returns_them(workspace: Any, write_scripts,
                                                                     cluster) -> None:
    """The contract's main run test, with Azure's metric shape (see test_azure_contract)."""
    source = write_scripts(train="""
        import os, sys
        print("starting with", sys.argv[1:])
        for loss in (0.9, 0.5, 0.25):
            log_metric("loss", loss)
        log_metric("R^2", 0.8905551665244333)
        log_metric("model", "linear regression")
        with open("outputs/model.pkl", "w") as handle:
            handle.write("a model")
        print("finished")
    """)
    target = cluster("trainer", max_nodes=2)
    run = workspace.submit("alice-taxi-experiment", ScriptRunConfig(
        source_directory=source, script="train.py", arguments=["--data_user", "alice", 3],
        compute_target=target, tags={"model": "basic"}))
    lines: list[str] = []
    done = workspace.wait_for_completion(run.id, on_log_line=lines.append, timeout=30)
    assert done.status == RunStatus.COMPLETED and done.exit_code == 0 and done.error is None
    assert done.started_at and done.ended_at and done.duration_seconds is not None
    assert done.tags == {"model": "basic"}  # Azure's _aml_system_* tags are left out
    assert done.arguments == ["--data_user", "alice", "3"]
    assert "starting with ['--data_user', 'alice', '3']" in lines and lines[-1] == "finished"
    assert lines.count("finished") == 1  # each line once, however often the log was polled
    assert (Path(done.run_dir) / "outputs" / "model.pkl").read_text() == "a model"
    assert Path(done.run_dir).is_relative_to(workspace.cache)
    metrics = workspace.get_metrics(run.id)
    assert metrics["R^2"] == pytest.approx(0.8905551665244333)
    assert metrics["loss"] == 0.25 and [p.value for p in metrics.history["loss"]] == [0.9, 0.5, 0.25]
    assert [p.step for p in metrics.history["loss"]] == [0, 1, 2]
    assert metrics["model"] == "linear regression"


def test_an_ended_run_is_read_from_the_cache(make_workspace: Any, fake_azure: Any, write_scripts) -> None:
    workspace = make_workspace()
    run = workspace.submit("cached", ScriptRunConfig(write_scripts(train="print('once')"), "train.py"))
    workspace.wait_for_completion(run.id, timeout=30)
    before = len(fake_azure.calls["run_details"]) + len(fake_azure.calls["run_details_with_logs"])
    again = make_workspace()  # a resumed tutor
    assert again.get_run(run.id).status == RunStatus.COMPLETED
    assert again.get_log_tail(run.id, 1) == "once"
    assert len(fake_azure.calls["run_details"]) + len(fake_azure.calls["run_details_with_logs"]) == before


# --------------------------------------------------------------------------- data, environments


def test_upload_uses_upload_files_with_relative_root(workspace: Any, fake_azure: Any, tmp_path: Path) -> None:
    folder = tmp_path / "prepared"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.csv").write_text("x\n1\n")
    (folder / "sub" / "b.csv").write_text("x\n2\n")
    assert workspace.default_datastore.upload(folder, "alice-greentaxi") == [
        "alice-greentaxi/a.csv", "alice-greentaxi/sub/b.csv"]
    (files, root, target, overwrite), = fake_azure.calls["upload_files"]
    assert (Path(root), target, overwrite) == (folder, "alice-greentaxi", False)
    assert sorted(Path(f).name for f in files) == ["a.csv", "b.csv"]


def test_dataset_is_registered_from_datastore_paths(workspace: Any, fake_azure: Any, tmp_path: Path) -> None:
    data = tmp_path / "prepped.csv"
    data.write_text("vendorID,totalAmount\n1,5.0\n2,9.5\n")
    workspace.default_datastore.upload_files([data], "data/prepped")
    record = workspace.register_tabular_dataset("alice-green-taxi-prepped", "data/prepped", tags={"day": 2})
    assert fake_azure.calls["tabular_dataset"] == [(["data/prepped/prepped.csv"], "csv")]
    assert fake_azure.calls["register_dataset"] == [("alice-green-taxi-prepped", "", {"day": "2"}, True)]
    assert (record.version, record.row_count, record.column_count) == (1, 2, 2)
    profile = workspace.dataset_profile("alice-green-taxi-prepped")
    assert profile.column("totalAmount").mean == pytest.approx(7.25)


def test_environment_reports_its_declaration(workspace: Any, fake_azure: Any) -> None:
    workspace.register_environment("scoring", ["azureml-defaults", "inference-schema", "scikit-learn",
                                               "surely-not-installed-package-xyz"], python_version="3.11")
    check = workspace.check_environment("scoring")
    assert check.ok and check.python_ok and check.install_command == ""
    assert check.python_found == "3.11"
    assert check.provided_by_workspace == ["azureml-defaults"]
    assert check.installed["surely-not-installed-package-xyz"] == "built on Azure"
    (env,), = fake_azure.calls["register_environment"]
    assert list(env.python.conda_dependencies.conda_packages) == ["python=3.11"]
    # the curated environments Azure lists are not the learner's
    assert [e.name for e in workspace.list_environments()] == ["scoring"]


# --------------------------------------------------------------------------- deployment


@pytest.fixture
def model_and_env(workspace: Any, tmp_path: Path) -> tuple[str, str, Path]:
    model = tmp_path / "model.pkl"
    model.write_text("weights")
    record = workspace.register_model("alice-python-regression", model, tags={"Model Type": "linear regression"})
    env = workspace.register_environment("alice-scoring", ["azureml-defaults", "inference-schema[numpy-support]",
                                                           "scikit-learn", "pandas"])
    score_dir = tmp_path / "score"
    score_dir.mkdir()
    (score_dir / "score.py").write_text(SCORE)
    return record.id, f"{env.name}:{env.version}", score_dir


def test_deploy_to_aci_with_keys(workspace: Any, fake_azure: Any, model_and_env) -> None:
    from azureml.core import Environment
    from azureml.core.model import InferenceConfig
    from azureml.core.webservice.aci import AciServiceDeploymentConfiguration

    model_id, env_ref, score_dir = model_and_env
    record = workspace.deploy_service("alice-taxi-cost-pred", [model_id], score_dir / "score.py",
                                      environment=env_ref, cpu_cores=1, memory_gb=0.5, auth_enabled=True,
                                      tags={"course": "day2"}, description="taxi fares")
    assert record.kind == "ACI" and record.state == "Transitioning"
    (name, models, inference, deployment, overwrite), = fake_azure.calls["deploy"]
    assert name == "alice-taxi-cost-pred" and not overwrite
    assert [(m.name, m.version) for m in models] == [("alice-python-regression", 1)]
    assert isinstance(inference, InferenceConfig)
    assert (inference.entry_script, inference.source_directory) == ("score.py", str(score_dir))
    assert isinstance(inference.environment, Environment) and inference.environment.name == "alice-scoring"
    assert isinstance(deployment, AciServiceDeploymentConfiguration)
    assert (deployment.cpu_cores, deployment.memory_gb, deployment.auth_enabled) == (1, 0.5, True)
    assert (deployment.tags, deployment.description) == ({"course": "day2"}, "taxi fares")

    log: list[str] = []
    healthy = workspace.wait_for_deployment("alice-taxi-cost-pred", on_log_line=log.append)
    assert healthy.state == "Healthy" and healthy.models == ["alice-python-regression:1"]
    assert workspace.scoring_uri("alice-taxi-cost-pred").endswith(".azurecontainer.io/score")
    assert workspace.swagger_uri("alice-taxi-cost-pred").endswith("/swagger.json")
    assert "Users's init has completed successfully" in log
    primary, secondary = workspace.service_keys("alice-taxi-cost-pred")
    assert primary != secondary
    new_primary, same_secondary = workspace.regen_service_key("alice-taxi-cost-pred", "primary")
    assert new_primary != primary and same_secondary == secondary
    assert "gunicorn" in workspace.service_logs("alice-taxi-cost-pred", tail=3)
    # no key is ever written into the cache
    for path in Path(healthy.service_dir).rglob("*"):
        if path.is_file():
            assert primary not in path.read_text() and new_primary not in path.read_text()
    assert [s.name for s in workspace.list_services()] == ["alice-taxi-cost-pred"]

    with pytest.raises(TutorError, match="already exists") as caught:
        workspace.deploy_service("alice-taxi-cost-pred", [model_id], score_dir / "score.py", environment=env_ref)
    assert "overwrite=True" in str(caught.value)
    workspace.delete_service("alice-taxi-cost-pred")
    assert workspace.list_services() == [] and fake_azure.services == {}


def test_a_failed_deployment_shows_the_log(workspace: Any, fake_azure: Any, model_and_env) -> None:
    model_id, env_ref, score_dir = model_and_env
    fake_azure.deployment_fails = True
    workspace.deploy_service("alice-svc", [model_id], score_dir / "score.py", environment=env_ref)
    with pytest.raises(StepFailed, match="is Failed: Your container application crashed") as caught:
        workspace.wait_for_deployment("alice-svc")
    assert "model.pkl not found" in (caught.value.log_tail or "")


def test_deploy_input_is_checked(workspace: Any, model_and_env, tmp_path: Path) -> None:
    model_id, env_ref, score_dir = model_and_env
    with pytest.raises(TutorError, match="entry script .* does not exist"):
        workspace.deploy_service("alice-svc", [model_id], tmp_path / "nope.py", environment=env_ref)
    with pytest.raises(TutorError, match="needs an environment"):
        workspace.deploy_service("alice-svc", [model_id], score_dir / "score.py")
    with pytest.raises(TutorError, match="no model named 'missing'"):
        workspace.deploy_service("alice-svc", ["missing:1"], score_dir / "score.py", environment=env_ref)
    with pytest.raises(TutorError, match="not a valid service name"):
        workspace.deploy_service("Alice_Svc", [model_id], score_dir / "score.py", environment=env_ref)
    with pytest.raises(TutorError, match="not a key"):
        workspace.regen_service_key("alice-svc", "tertiary")


# --------------------------------------------------------------------------- the boundary itself


def test_the_backend_is_a_workspace(workspace: Any) -> None:
    assert isinstance(workspace, Workspace)


def test_the_fake_offers_exactly_the_service_methods(fake_azure: Any) -> None:
    from tutor.workspace.azure.service import AzureService

    real = {n: inspect.signature(f) for n, f in vars(AzureService).items() if callable(f) and not n.startswith("_")}
    for name, signature in real.items():
        fake = getattr(type(fake_azure), name, None)
        assert fake is not None, f"the fake has no {name}"
        assert list(inspect.signature(fake).parameters) == list(signature.parameters), name


SDK_CALLS = [
    # (SDK callable, the keyword arguments AzureService passes to it)
    ("azureml.core.compute.ComputeTarget.create", dict(workspace=None, name="c", provisioning_configuration=None)),
    ("azureml.core.Experiment.list", dict(workspace=None, experiment_name="e")),
    ("azureml.core.Experiment.submit", dict(self=None, config=None, tags=None)),
    ("azureml.core.Run.register_model", dict(self=None, model_name="m", model_path="outputs/model.pkl", tags={},
                                              description=None)),
    ("azureml.core.Run.download_files", dict(self=None, prefix="outputs", output_directory="d", append_prefix=True)),
    ("azureml.core.Dataset.get_by_name", dict(workspace=None, name="d", version="latest")),
    ("azureml.core.Environment.get", dict(workspace=None, name="e", version="1")),
    ("azureml.core.model.Model.register", dict(workspace=None, model_path="p", model_name="m", tags={},
                                               description=None)),
    ("azureml.core.model.Model.list", dict(workspace=None, name="m", latest=True)),
    ("azureml.core.model.Model.download", dict(self=None, target_dir="d", exist_ok=True)),
    ("azureml.core.model.Model.deploy", dict(workspace=None, name="s", models=[], inference_config=None,
                                             deployment_config=None, overwrite=False, show_output=False)),
    ("azureml.core.webservice.Webservice.update_deployment_state", dict(self=None)),
    ("azureml.core.webservice.Webservice.get_logs", dict(self=None)),
    ("azureml.core.compute.AmlCompute.get_active_runs", dict(self=None)),
    ("azureml.core.compute.AmlCompute.supported_vmsizes", dict(workspace=None)),
    ("azureml.core.webservice.Webservice.regen_key", dict(self=None, key="Primary")),
    ("azureml.data.azure_storage_datastore.AzureBlobDatastore.upload_files",
     dict(self=None, files=[], relative_root="r", target_path="t", overwrite=False, show_progress=False)),
    ("azureml.data.azure_storage_datastore.AzureBlobDatastore.download",
     dict(self=None, target_path="t", prefix="p", overwrite=False, show_progress=False)),
    ("azureml.data.dataset_factory.TabularDatasetFactory.from_delimited_files", dict(path=[])),
    ("azureml.data.dataset_factory.TabularDatasetFactory.from_parquet_files", dict(path=[])),
    ("azureml.data.abstract_dataset.AbstractDataset.register",
     dict(self=None, workspace=None, name="d", description="", tags={}, create_new_version=True)),
]


@pytest.mark.parametrize(("target", "kwargs"), SDK_CALLS, ids=[c[0].rsplit(".", 2)[-2] + "." + c[0].rsplit(".", 1)[-1]
                                                              for c in SDK_CALLS])
def test_the_sdk_accepts_the_arguments_the_service_passes(target: str, kwargs: dict[str, Any]) -> None:
    import importlib

    parts = target.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        break
    inspect.signature(obj).bind(**kwargs)
