"""The embedded azureml SDK's core: Workspace, Environment, Experiment, ScriptRunConfig, Run.

Everything runs on a real embedded workspace: real runs are real processes, their metrics
land in the real SQLite store, and each test checks what the workspace holds afterwards.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]

TRAIN = '''\
import argparse, os, sys
from azureml.core import Run
parser = argparse.ArgumentParser()
parser.add_argument("--alpha", type=float, default=1.0)
parser.add_argument("--fail", action="store_true")
args = parser.parse_args()
run = Run.get_context()
if args.fail:
    sys.exit("the data is not there")
for epoch, loss in enumerate([0.9, 0.5, 0.25]):
    run.log("loss", loss * args.alpha)
run.log("R^2", 0.5 + args.alpha / 10)
run.log_list("residuals", [1.0, -0.5, 0.25])
run.log_row("coefficients", tripDistance=2.5, passengerCount=0.1)
run.tag("seen", "yes")
os.makedirs("outputs", exist_ok=True)
with open("outputs/model.txt", "w") as handle:
    handle.write(f"alpha={args.alpha}")
print("trained with alpha", args.alpha)
'''


@pytest.fixture
def scripts(sdk_course: Path) -> Path:
    folder = sdk_course / "train"
    folder.mkdir()
    (folder / "train.py").write_text(TRAIN)
    return folder


def test_from_config_finds_the_embedded_workspace_as_azureml_looks(ws: Any, sdk_course: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from azureml.core import Workspace

    assert ws.name == "alice-ws" and ws.location == "local"
    assert Workspace.from_config(path=str(sdk_course / "config.json")) == ws
    ws.write_config(path=str(sdk_course / "elsewhere"))
    written = json.loads((sdk_course / "elsewhere" / ".azureml" / "config.json").read_text())
    assert written["workspace_name"] == "alice-ws" and written["embedded_path"]
    sub = sdk_course / "elsewhere" / "deeper"
    sub.mkdir()
    monkeypatch.chdir(sub)
    assert Workspace.from_config().name == "alice-ws"  # .azureml/config.json in a parent, as azureml finds it
    assert Workspace.get("alice-ws") == ws
    details = ws.get_details()
    assert details["name"] == "alice-ws" and details["id"].endswith("/workspaces/alice-ws")


def test_from_config_without_a_config_and_with_an_azure_one(sdk_course: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import tutor.sdk
    from azureml.core import Workspace
    from azureml.exceptions import UserErrorException

    nowhere = tmp_path / "nowhere"
    nowhere.mkdir()
    monkeypatch.chdir(nowhere)
    monkeypatch.delenv(tutor.sdk.WORKSPACE_ENV, raising=False)
    with pytest.raises(UserErrorException, match="config.json, could not be found in"):
        Workspace.from_config()
    (nowhere / "config.json").write_text(json.dumps({"subscription_id": "s", "resource_group": "rg",
                                                     "workspace_name": "real-ws"}))
    with pytest.raises(UserErrorException, match="names the Azure ML workspace 'real-ws'.*azureml-core"):
        Workspace.from_config()
    with pytest.raises(Exception, match="no embedded workspace named 'nope'"):
        Workspace.get("nope")


def test_environment_register_get_and_list(ws: Any, backend: Any) -> None:
    from azureml.core import Environment
    from azureml.core.conda_dependencies import CondaDependencies

    env = Environment("alice-taxi-env")
    env.python.conda_dependencies = CondaDependencies.create(pip_packages=["scikit-learn", "pandas", "joblib",
                                                                         "azureml-defaults"])
    registered = env.register(workspace=ws)
    assert registered.name == "alice-taxi-env" and registered.version == "1"
    record = backend.get_environment("alice-taxi-env")
    assert "scikit-learn" in record.pip_packages and record.version == 1
    assert env.register(workspace=ws).version == "1"  # the same definition: the same version, as on Azure
    env.python.conda_dependencies.add_pip_package("pyarrow")
    again = env.register(workspace=ws)
    assert again.version == "2" and "pyarrow" in backend.get_environment("alice-taxi-env").pip_packages
    assert Environment.get(ws, "alice-taxi-env").version == "2"
    assert Environment.get(ws, "alice-taxi-env", version="1").version == "1"
    assert set(ws.environments) == {"alice-taxi-env"}
    assert "scikit-learn" in ws.environments["alice-taxi-env"].python.conda_dependencies.serialize_to_string()
    with pytest.raises(Exception, match="alice-missing"):
        Environment.get(ws, "alice-missing")


def test_submit_wait_metrics_files_and_tags(ws: Any, backend: Any, scripts: Path, sdk_course: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    from azureml.core import Environment, Experiment, Run, ScriptRunConfig
    from azureml.core.conda_dependencies import CondaDependencies

    env = Environment("alice-env")
    env.python.conda_dependencies = CondaDependencies.create(pip_packages=["pandas"])
    env.register(ws)
    exp = Experiment(workspace=ws, name="alice-exp")
    runs = []
    for alpha in ("1", "3"):
        config = ScriptRunConfig(source_directory="train", script="train.py", arguments=["--alpha", alpha],
                                 compute_target="local", environment=env)
        runs.append(exp.submit(config, tags={"alpha": alpha}))
    details = runs[0].wait_for_completion(show_output=True)
    runs[1].wait_for_completion()
    shown = capsys.readouterr().out
    assert "trained with alpha 1.0" in shown and "Execution Summary" in shown
    assert details["status"] == "Completed" and details["runId"] == runs[0].id
    assert [r.get_status() for r in runs] == ["Completed", "Completed"]

    metrics = runs[1].get_metrics()
    assert metrics["R^2"] == pytest.approx(0.8)
    assert metrics["loss"] == pytest.approx([2.7, 1.5, 0.75])  # logged three times: a list, as on Azure
    assert metrics["residuals"] == [1.0, -0.5, 0.25]
    assert metrics["coefficients"] == {"tripDistance": [2.5], "passengerCount": [0.1]}  # a table: columns
    assert runs[1].get_metrics(name="R^2") == {"R^2": pytest.approx(0.8)}
    assert runs[1].tags["alpha"] == "3" and runs[1].tags["seen"] == "yes"
    # The metrics are in the workspace's own store, where the tutor's steps read them.
    assert backend.get_metrics(runs[1].id)["R^2"] == pytest.approx(0.8)

    assert "outputs/model.txt" in runs[1].get_file_names()
    runs[1].download_file("outputs/model.txt", output_file_path="models/model.txt")
    assert (sdk_course / "models" / "model.txt").read_text() == "alpha=3.0"
    best = max(runs, key=lambda run: run.get_metrics()["R^2"])
    assert best == runs[1] and Run(exp, best.id).get_metrics()["R^2"] == pytest.approx(0.8)
    assert [r.id for r in exp.get_runs()] == [runs[1].id, runs[0].id]  # newest first
    assert [r.id for r in exp.get_runs(tags={"alpha": "1"})] == [runs[0].id]
    assert set(ws.experiments) == {"alice-exp"}


def test_a_failing_script_fails_its_run_as_azureml_says(ws: Any, scripts: Path) -> None:
    from azureml.core import Experiment, ScriptRunConfig
    from azureml.exceptions import ActivityFailedException

    run = Experiment(ws, "alice-exp").submit(ScriptRunConfig("train", "train.py", arguments=["--fail"]))
    with pytest.raises(ActivityFailedException) as raised:
        run.wait_for_completion()
    assert "exited with code 1" in str(raised.value) and "the data is not there" in str(raised.value)
    assert run.get_status() == "Failed"
    assert run.wait_for_completion(raise_on_error=False)["status"] == "Failed"


def test_wrong_arguments_get_azureml_exceptions(ws: Any, scripts: Path) -> None:
    from azureml._embedded import EmbeddedImportError, NotInEmbeddedSDK
    from azureml.core import Experiment, ScriptRunConfig
    from azureml.exceptions import RunConfigurationException, UserErrorException

    with pytest.raises(RunConfigurationException, match="arguments must be a list"):
        ScriptRunConfig("train", "train.py", arguments="--alpha 2")
    with pytest.raises(RunConfigurationException, match="command="):
        ScriptRunConfig("train", command=["python", "train.py"])
    with pytest.raises(TypeError, match="unexpected keyword argument 'scrpt'"):
        ScriptRunConfig("train", scrpt="train.py")  # type: ignore[call-arg]
    with pytest.raises(UserErrorException, match="Experiment name must be a string"):
        Experiment(ws, 42)
    with pytest.raises(UserErrorException, match="Expected an azureml.core.Workspace"):
        Experiment("alice-ws", "alice-exp")
    with pytest.raises(UserErrorException):
        Experiment(ws, "alice-exp").submit("train.py")
    run = Experiment(ws, "alice-exp").submit(ScriptRunConfig("train", "train.py"))
    with pytest.raises(NotInEmbeddedSDK, match="Run.get_portal_url is not part of the azureml SDK on the "
                                               "embedded workspace. Run supports: .*get_metrics"):
        run.get_portal_url()
    assert isinstance(NotInEmbeddedSDK("x"), AttributeError)
    with pytest.raises(EmbeddedImportError, match="azureml.core.ScriptRun is not part"):
        from azureml.core import ScriptRun  # noqa: F401
    with pytest.raises(ModuleNotFoundError, match="No module named 'azureml.pipeline'.*not part of the azureml SDK"):
        import azureml.pipeline.core  # noqa: F401
    run.wait_for_completion()


def test_run_get_context_outside_a_run_is_offline_as_on_azure(sdk_course: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    from azureml.core import Run

    run = Run.get_context()
    run.log("R^2", 0.71)
    assert run.id.startswith("OfflineRun_")
    assert "Attempted to log scalar metric R^2:\n0.71" in capsys.readouterr().out


def test_the_installed_azureml_core_is_never_shadowed_for_an_azure_config(tmp_path: Path) -> None:
    """An exported script in a folder whose config.json names an Azure workspace keeps the real SDK."""
    (tmp_path / "config.json").write_text(json.dumps({"subscription_id": "s", "resource_group": "rg",
                                                      "workspace_name": "real-ws"}))
    code = ("import tutor.sdk, importlib.util\n"
            "print(tutor.sdk.activate_for_course('.', workspace_dir='.tutor/workspaces/x-ws'))\n"
            "spec = importlib.util.find_spec('azureml')\n"
            "print(spec is None or not any(str(p).startswith(str(tutor.sdk.V1_ROOT)) "
            "for p in spec.submodule_search_locations))\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "TUTOR_SDK_WORKSPACE")}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, env=env,
                         check=True).stdout.split("\n")
    assert out[:2] == ["None", "True"]
    # An embedded workspace's config.json turns the embedded SDK on.
    (tmp_path / "config.json").write_text(json.dumps({"subscription_id": "local", "resource_group": "local",
                                                      "workspace_name": "x-ws",
                                                      "embedded_path": str(tmp_path / "x")}))
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, env=env,
                         check=True).stdout.split("\n")
    assert out[:2] == ["the embedded workspace x-ws", "False"]
