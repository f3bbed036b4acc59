"""Contract: environments, the model registry and service records."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutor.errors import TutorError
from tutor.workspace.base import RunStatus, ScriptRunConfig, Workspace

# --------------------------------------------------------------------------- environments


def test_environment_versions_only_change_when_the_definition_does(workspace: Workspace) -> None:
    v1 = workspace.register_environment("taxi-env", ["scikit-learn", "pandas"])
    assert (v1.name, v1.version, v1.pip_packages) == ("taxi-env", 1, ["scikit-learn", "pandas"])
    assert workspace.register_environment("taxi-env", ["scikit-learn", "pandas"]).version == 1
    v2 = workspace.register_environment("taxi-env", ["scikit-learn", "pandas", "pyarrow"], python_version="3.11")
    assert v2.version == 2 and v2.python_version == "3.11"
    assert workspace.get_environment("taxi-env").version == 2
    assert workspace.get_environment("taxi-env", 1).pip_packages == ["scikit-learn", "pandas"]
    assert [(e.name, e.version) for e in workspace.list_environments()] == [("taxi-env", 2)]
    with pytest.raises(TutorError, match="no environment named 'taxi'"):
        workspace.get_environment("taxi")


def test_check_environment_names_what_is_missing(workspace: Workspace) -> None:
    workspace.register_environment("scoring", ["pandas>=2.1", "scikit-learn", "azureml-defaults",
                                               "surely-not-installed-package-xyz", "pandas<1.0"],
                                   conda_packages=["python=3.11", "pip"])
    check = workspace.check_environment("scoring")
    assert not check.ok
    assert check.missing == ["surely-not-installed-package-xyz"]
    assert check.wrong_version == ["pandas<1.0"]
    assert check.provided_by_workspace == ["azureml-defaults"]
    assert check.installed["pandas"]
    assert check.install_command == 'python -m pip install "surely-not-installed-package-xyz" "pandas<1.0"'
    workspace.register_environment("fine", ["pandas", "scikit-learn"])
    assert workspace.check_environment("fine").ok
    workspace.register_environment("old-python", ["pandas"], python_version="2.7")
    old = workspace.check_environment("old-python")
    assert not old.python_ok and not old.ok


def test_environment_input_is_checked(workspace: Workspace) -> None:
    with pytest.raises(TutorError, match="not one string"):
        workspace.register_environment("e", "scikit-learn pandas")  # type: ignore[arg-type]
    with pytest.raises(TutorError, match="not a package requirement"):
        workspace.register_environment("e", [">=1.0"])
    with pytest.raises(TutorError, match="not a Python version"):
        workspace.register_environment("e", ["pandas"], python_version="three")


# --------------------------------------------------------------------------- models


@pytest.fixture
def trained_run(workspace: Workspace, write_scripts) -> str:
    source = write_scripts(train="""
        with open("outputs/model.pkl", "w") as handle:
            handle.write("trained weights")
        log_metric("R^2", 0.89)
    """)
    run = workspace.submit("models", ScriptRunConfig(source, "train.py"))
    assert workspace.wait_for_completion(run.id, timeout=30).status == RunStatus.COMPLETED
    return run.id


def test_model_versions_from_a_run_and_from_a_file(workspace: Workspace, trained_run: str, tmp_path: Path) -> None:
    v1 = workspace.register_model("alice-taxi-model", "outputs/model.pkl", run_id=trained_run,
                                  tags={"Model Type": "linear regression"}, description="best R^2")
    assert (v1.name, v1.version, v1.file_name, v1.run_id, v1.experiment) == (
        "alice-taxi-model", 1, "model.pkl", trained_run, "models")
    assert v1.id == "alice-taxi-model:1" and v1.tags == {"Model Type": "linear regression"}
    assert v1.model_file.read_text() == "trained weights"

    local = tmp_path / "model.pkl"
    local.write_text("hand made")
    v2 = workspace.register_model("alice-taxi-model", local)
    assert v2.version == 2 and v2.run_id is None
    # "model.pkl" alone is looked up under outputs/ too, as learners often write it.
    assert workspace.register_model("alice-taxi-model", "model.pkl", run_id=trained_run).version == 3

    assert workspace.get_model("alice-taxi-model").version == 3
    assert workspace.get_model("alice-taxi-model", 2).model_file.read_text() == "hand made"
    assert [m.version for m in workspace.list_models("alice-taxi-model")] == [1, 2, 3]
    assert [(m.name, m.version) for m in workspace.list_models(latest=True)] == [("alice-taxi-model", 3)]

    local.write_text("changed later")  # the registered copy does not change
    assert workspace.get_model("alice-taxi-model", 2).model_file.read_text() == "hand made"

    got = workspace.download_model("alice-taxi-model", 1, tmp_path / "download")
    assert got == tmp_path / "download" / "model.pkl" and got.read_text() == "trained weights"
    with pytest.raises(TutorError, match="already exists"):
        workspace.download_model("alice-taxi-model", 1, tmp_path / "download")
    assert workspace.download_model("alice-taxi-model", 2, tmp_path / "download", exist_ok=True).read_text() == "hand made"


def test_model_errors_are_explained(workspace: Workspace, trained_run: str, tmp_path: Path) -> None:
    with pytest.raises(TutorError, match="has no 'outputs/missing.pkl'") as caught:
        workspace.register_model("m", "outputs/missing.pkl", run_id=trained_run)
    assert "outputs/model.pkl" in str(caught.value)
    with pytest.raises(TutorError, match="no model file or folder"):
        workspace.register_model("m", tmp_path / "nothing.pkl")
    with pytest.raises(TutorError, match="no model named 'm'"):
        workspace.get_model("m")
    with pytest.raises(TutorError, match="not a valid model name"):
        workspace.register_model("bad name!", "outputs/model.pkl", run_id=trained_run)


def test_a_failed_run_cannot_register_its_model(workspace: Workspace, write_scripts) -> None:
    source = write_scripts(train="""
        open("outputs/model.pkl", "w").write("half")
        raise SystemExit(1)
    """)
    run = workspace.submit("models", ScriptRunConfig(source, "train.py"))
    workspace.wait_for_completion(run.id, timeout=30)
    with pytest.raises(TutorError, match="is Failed"):
        workspace.register_model("m", "outputs/model.pkl", run_id=run.id)


# --------------------------------------------------------------------------- services


def test_service_records(workspace: Workspace) -> None:
    record = workspace.record_service("alice-taxi-cost-pred", kind="aci", state="Transitioning",
                                      models=["alice-taxi-model:1"], properties={"cpu_cores": 1, "memory_gb": 0.5})
    assert record.state == "Transitioning" and Path(record.service_dir).is_dir()
    with pytest.raises(TutorError, match="already exists"):
        workspace.record_service("alice-taxi-cost-pred", kind="aci", state="Healthy")
    updated = workspace.update_service("alice-taxi-cost-pred", state="Healthy", port=8123,
                                       scoring_uri="http://127.0.0.1:8123/score")
    assert (updated.state, updated.port, updated.scoring_uri) == ("Healthy", 8123, "http://127.0.0.1:8123/score")
    assert updated.created_at == record.created_at and updated.models == ["alice-taxi-model:1"]
    assert [s.name for s in workspace.list_services()] == ["alice-taxi-cost-pred"]
    with pytest.raises(TutorError, match="Cannot update"):
        workspace.update_service("alice-taxi-cost-pred", name="other")
    with pytest.raises(TutorError, match="not a valid service name"):
        workspace.record_service("Alice_Service", kind="aci", state="Healthy")
    workspace.delete_service_record("alice-taxi-cost-pred")
    assert workspace.list_services() == []
    assert not Path(record.service_dir).exists()
    with pytest.raises(TutorError, match="no service named 'alice-taxi-cost-pred'"):
        workspace.get_service("alice-taxi-cost-pred")
