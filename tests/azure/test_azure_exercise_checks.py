"""The exercise checks on the Azure backend (an AzureWorkspace over the fake Azure).

A check looks at the workspace through the Workspace protocol only, so a lesson's checks
must say the same on Azure as on the embedded workspace: what is missing before the learner
makes it, nothing once it is made. Here each thing is made through the Azure backend (the
SDK's real configuration objects handed to the fake service boundary), and the check is
asked before and after with the exact sentence it gives the learner. A fresh backend object
(``make_workspace()``, a resumed tutor) sees the same, so the checks read Azure's state,
not the object that made it.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any, Callable

import pytest

from tutor.exercises.checks import Probe, registry, run_check
from tutor.workspace.azure.config import azure_problem
from tutor.workspace.base import RunStatus, ScriptRunConfig

AZURE_PROBLEM = azure_problem()
needs_azureml = pytest.mark.skipif(AZURE_PROBLEM is not None, reason=AZURE_PROBLEM or "")
pytestmark = needs_azureml

SCORE = '''
import json, os
def init():
    global model_dir
    model_dir = os.environ.get("AZUREML_MODEL_DIR")
def run(raw):
    return [18.2281]
'''


def probe_of(ws: Any) -> Probe:
    """What the exercise runner hands a check: here no kernel, the workspace as it opens it."""
    return Probe(kernel=None, open_workspace=lambda: ws)


def check(check_name: str, ws: Any, /, **params: Any) -> str | None:
    """``run_check`` with the lesson's parameters, which must be ones the check takes."""
    spec = registry()[check_name]
    assert spec.required <= set(params) <= spec.params, f"{check_name} takes {sorted(spec.params)}"
    return run_check(check_name, probe_of(ws), params)


# --------------------------------------------------------------------------- compute


def test_compute_check_names_the_missing_cluster_then_holds(make_workspace: Callable[[], Any]) -> None:
    ws = make_workspace()
    course = dict(name="alicercluster", type="AmlCompute", max_nodes=3)
    assert check("compute", ws, **course) == "the workspace has no compute target named alicercluster yet"
    ws.get_or_create_cluster("alicercluster", "STANDARD_D2_V2", 0, 3, 60)
    ws.wait_for_compute("alicercluster")
    assert check("compute", ws, **course) is None
    assert check("compute", make_workspace(), **course) is None  # a resumed tutor reads Azure
    assert check("compute", ws, name="alicercluster", max_nodes=4) == \
        "alicercluster has max_nodes=3; the course uses 4"
    assert check("compute", ws, name="alicercluster", type="ComputeInstance") == \
        "alicercluster is a AmlCompute, not an ComputeInstance"


def test_compute_check_tells_a_compute_instance_from_a_cluster(workspace: Any) -> None:
    workspace.create_compute_instance("alice-dev-box")
    assert check("compute", workspace, name="alice-dev-box", type="ComputeInstance") is None
    assert check("compute", workspace, name="alice-dev-box", type="AmlCompute") == \
        "alice-dev-box is a ComputeInstance, not an AmlCompute"


def test_no_compute_check_names_what_still_exists(workspace: Any) -> None:
    names = ["alicercluster", "alice-cluster"]
    assert check("no_compute", workspace, names=names) is None  # nothing made yet: nothing to clean up
    for name in names:
        workspace.get_or_create_cluster(name, "STANDARD_D2_V2", 0, 2, 60)
        workspace.wait_for_compute(name)
    assert check("no_compute", workspace, names=names) == \
        "the compute targets alice-cluster, alicercluster still exist (target.delete())"
    workspace.delete_compute("alice-cluster")
    assert check("no_compute", workspace, names=names) == \
        "the compute target alicercluster still exists (target.delete())"
    workspace.delete_compute("alicercluster")
    assert check("no_compute", workspace, names=names) is None


def test_a_check_that_azure_refuses_says_why_in_words(workspace: Any, fake_azure: Any) -> None:
    import azureml.exceptions

    fake_azure.fail["list_compute"] = azureml.exceptions.AuthenticationException(
        "AADSTS700082: The refresh token has expired due to inactivity.")
    assert check("compute", workspace, name="alicercluster") == \
        "Your Azure login has expired or is no longer valid, so listing the workspace's compute was refused."


# --------------------------------------------------------------------------- data


def test_datastore_files_check_then_dataset_check(workspace: Any, tmp_path: Path) -> None:
    folder = tmp_path / "prepared"
    folder.mkdir()
    (folder / "green_taxi.csv").write_text("vendorID,totalAmount\n1,5.0\n2,9.5\n")
    paths = ["alice-greentaxi/green_taxi.csv"]
    assert check("datastore_files", workspace, paths=paths) == \
        "the datastore workspaceblobstore has no alice-greentaxi/green_taxi.csv yet"
    workspace.default_datastore.upload(folder, "alice-greentaxi")
    assert check("datastore_files", workspace, paths=paths) is None
    assert check("datastore_files", workspace, paths=[*paths, "alice-greentaxi/other.csv"]) == \
        "the datastore workspaceblobstore has no alice-greentaxi/other.csv yet"

    assert check("dataset", workspace, name="alice-green-taxi") == \
        "no dataset named alice-green-taxi is registered yet"
    workspace.register_tabular_dataset("alice-green-taxi", "alice-greentaxi/green_taxi.csv")
    assert check("dataset", workspace, name="alice-green-taxi") is None
    assert check("dataset", workspace, name="alice-green-taxi-auto-train") == \
        "no dataset named alice-green-taxi-auto-train is registered yet"


def test_environment_check(make_workspace: Callable[[], Any]) -> None:
    ws = make_workspace()
    message = "`alice-taxi-env` is not registered as an environment yet (env.register(ws))"
    assert check("environment", ws, name="alice-taxi-env") == message
    # Azure's curated environments are listed too, but are not the learner's
    assert check("environment", ws, name="AzureML-sklearn-1.0-ubuntu20.04-py38-cpu") == (
        "`AzureML-sklearn-1.0-ubuntu20.04-py38-cpu` is not registered as an environment yet (env.register(ws))")
    ws.register_environment("alice-taxi-env", ["scikit-learn", "pandas", "azureml-defaults"])
    assert check("environment", ws, name="alice-taxi-env") is None
    assert check("environment", make_workspace(), name="alice-taxi-env") is None


# --------------------------------------------------------------------------- runs


def _gated_script(gate: Path) -> str:
    """A training script that waits until ``gate`` exists, then exits with the code written in it."""
    return textwrap.dedent(f"""
        import pathlib, sys, time
        gate = pathlib.Path({str(gate)!r})
        while not gate.exists():
            time.sleep(0.05)
        print("arguments", sys.argv[1:])
        sys.exit(int(gate.read_text() or 0))
    """)


def test_runs_check_follows_a_run_to_completed(make_workspace: Callable[[], Any], write_scripts: Any,
                                               tmp_path: Path, wait_until: Any) -> None:
    ws = make_workspace()
    experiment = "alice-taxi-experiment-python"
    params = dict(experiment=experiment, arguments=[["--data_user", "alice"]], completed=True)
    # No experiment yet: the workspace's own sentence, listing what there is.
    assert check("runs", ws, **params) == \
        "There is no experiment named 'alice-taxi-experiment-python'. This workspace has no experiments yet."

    gate = tmp_path / "gate"
    source = write_scripts(train=_gated_script(gate))
    run = ws.submit(experiment, ScriptRunConfig(source, "train.py", arguments=["--data_user", "alice"]))
    wait_until(lambda: ws.get_run(run.id).status == RunStatus.RUNNING)
    assert check("runs", ws, **params) == \
        "the run with `--data_user alice` has not completed yet (wait_for_completion)"
    assert check("runs", ws, experiment=experiment, arguments=[["--data_user", "alice"]]) is None  # submitted
    assert check("runs", ws, experiment=experiment, arguments=[["--data_user", "bob"]]) == \
        "the experiment alice-taxi-experiment-python has no run with `--data_user bob` yet"

    gate.write_text("0")
    assert ws.wait_for_completion(run.id, timeout=60).status == RunStatus.COMPLETED
    assert check("runs", ws, **params) is None
    assert check("runs", make_workspace(), **params) is None  # read from Azure (and the cache of ended runs)


def test_runs_check_needs_every_variant_and_says_why_one_failed(workspace: Any, write_scripts: Any,
                                                                tmp_path: Path) -> None:
    experiment = "alice-taxi-experiment-r"
    variants = [["--variant", n, "--dataset", "alice-green-taxi"] for n in (1, 2)]  # numbers, as TOML gives them
    gate = tmp_path / "gate"
    gate.write_text("0")
    ok = workspace.submit(experiment, ScriptRunConfig(write_scripts(train=_gated_script(gate)), "train.py",
                                                      arguments=variants[0]))
    assert workspace.wait_for_completion(ok.id, timeout=60).status == RunStatus.COMPLETED
    assert check("runs", workspace, experiment=experiment, arguments=variants, completed=True) == \
        "the experiment alice-taxi-experiment-r has no run with `--variant 2 --dataset alice-green-taxi` yet"

    failing = tmp_path / "failing"
    failing.write_text("3")
    bad = workspace.submit(experiment, ScriptRunConfig(write_scripts(train=_gated_script(failing)), "train.py",
                                                       arguments=variants[1]))
    failed = workspace.wait_for_completion(bad.id, timeout=60)
    assert failed.status == RunStatus.FAILED and failed.exit_code == 3
    assert check("runs", workspace, experiment=experiment, arguments=variants, completed=True) == (
        "the run with `--variant 2 --dataset alice-green-taxi` failed: The script exited with code 3. "
        "Execution failed. User process 'python' exited with status code 3. "
        "Please check log file 'user_logs/std_log.txt' for error details.")

    # A second failed try: the sentence is about the latest one, not the first.
    (tmp_path / "failing-again").write_text("4")
    retry = workspace.submit(experiment, ScriptRunConfig(
        write_scripts(train=_gated_script(tmp_path / "failing-again")), "train.py", arguments=variants[1]))
    assert workspace.wait_for_completion(retry.id, timeout=60).exit_code == 4
    assert check("runs", workspace, experiment=experiment, arguments=variants, completed=True) == (
        "the run with `--variant 2 --dataset alice-green-taxi` failed: The script exited with code 4. "
        "Execution failed. User process 'python' exited with status code 4. "
        "Please check log file 'user_logs/std_log.txt' for error details.")

    again = workspace.submit(experiment, ScriptRunConfig(write_scripts(train=_gated_script(gate)), "train.py",
                                                         arguments=variants[1]))
    workspace.wait_for_completion(again.id, timeout=60)
    assert check("runs", workspace, experiment=experiment, arguments=variants, completed=True) is None


def test_runs_check_on_a_canceled_run(workspace: Any, write_scripts: Any, tmp_path: Path, wait_until: Any) -> None:
    experiment = "alice-taxi-experiment-python"
    run = workspace.submit(experiment, ScriptRunConfig(write_scripts(train=_gated_script(tmp_path / "never")),
                                                       "train.py", arguments=["--data_user", "alice"]))
    wait_until(lambda: workspace.get_run(run.id).status == RunStatus.RUNNING)
    workspace.cancel(run.id)
    record = workspace.wait_for_completion(run.id, timeout=30)
    assert record.status == RunStatus.CANCELED
    assert check("runs", workspace, experiment=experiment, arguments=[["--data_user", "alice"]]) == \
        f"the run with `--data_user alice` canceled: {record.error}"
    assert record.error  # the sentence names why, not "see its log"


# --------------------------------------------------------------------------- models, services


@pytest.fixture
def model_and_env(workspace: Any, tmp_path: Path) -> tuple[str, str, Path]:
    model = tmp_path / "model.pkl"
    model.write_text("weights")
    record = workspace.register_model("alice-taxi-model", model, tags={"Model Type": "linear regression"})
    env = workspace.register_environment("alice-scoring", ["azureml-defaults", "inference-schema[numpy-support]",
                                                           "scikit-learn", "pandas"])
    score_dir = tmp_path / "score"
    score_dir.mkdir()
    (score_dir / "score.py").write_text(SCORE)
    return record.id, f"{env.name}:{env.version}", score_dir


def test_model_check(make_workspace: Callable[[], Any], tmp_path: Path) -> None:
    ws = make_workspace()
    assert check("model", ws, name="alice-taxi-model") == "no model named alice-taxi-model is registered yet"
    model = tmp_path / "model.pkl"
    model.write_text("weights")
    ws.register_model("alice-taxi-model", model)
    assert check("model", ws, name="alice-taxi-model") is None
    assert check("model", make_workspace(), name="alice-taxi-model") is None
    assert check("model", ws, name="alice-taxi-mode") == "no model named alice-taxi-mode is registered yet"


def test_service_check_follows_a_deployment_to_healthy(workspace: Any, model_and_env: Any) -> None:
    model_id, env_ref, score_dir = model_and_env
    name = "alice-taxi-cost-pred"
    assert check("service", workspace, name=name, auth=True) == "no service named alice-taxi-cost-pred is deployed yet"
    workspace.deploy_service(name, [model_id], score_dir / "score.py", environment=env_ref, auth_enabled=True)
    assert check("service", workspace, name=name, auth=True) == "the service alice-taxi-cost-pred is Transitioning"
    workspace.wait_for_deployment(name)
    assert check("service", workspace, name=name, auth=True) is None
    assert check("service", workspace, name=name) is None


def test_service_check_asks_for_key_authentication(workspace: Any, model_and_env: Any) -> None:
    model_id, env_ref, score_dir = model_and_env
    name = "alice-taxi-cost-pred"
    workspace.deploy_service(name, [model_id], score_dir / "score.py", environment=env_ref, auth_enabled=False)
    workspace.wait_for_deployment(name)
    assert check("service", workspace, name=name) is None
    assert check("service", workspace, name=name, auth=True) == \
        "the service alice-taxi-cost-pred does not ask for a key: deploy it with auth_enabled=True"


def test_service_check_says_why_a_deployment_failed(workspace: Any, fake_azure: Any, model_and_env: Any) -> None:
    from tutor.errors import StepFailed

    model_id, env_ref, score_dir = model_and_env
    name = "alice-taxi-cost-pred"
    fake_azure.deployment_fails = True
    workspace.deploy_service(name, [model_id], score_dir / "score.py", environment=env_ref)
    with pytest.raises(StepFailed):
        workspace.wait_for_deployment(name)
    assert check("service", workspace, name=name, auth=True) == (
        "the service alice-taxi-cost-pred is Failed: Your container application crashed. "
        "init() raised an exception.")


def test_no_service_check_names_what_still_runs(workspace: Any, model_and_env: Any) -> None:
    model_id, env_ref, score_dir = model_and_env
    names = ["alice-taxi-cost-pred", "alice-taxi-aks", "alice-python-service", "alice-automl-service"]
    assert check("no_service", workspace, names=names) is None
    for name in ("alice-taxi-cost-pred", "alice-python-service"):
        workspace.deploy_service(name, [model_id], score_dir / "score.py", environment=env_ref)
        workspace.wait_for_deployment(name)
    assert check("no_service", workspace, names=names) == \
        "the services alice-python-service, alice-taxi-cost-pred still run (service.delete())"
    workspace.delete_service("alice-python-service")
    assert check("no_service", workspace, names=names) == \
        "the service alice-taxi-cost-pred still runs (service.delete())"
    workspace.delete_service("alice-taxi-cost-pred")
    assert check("no_service", workspace, names=names) is None
