"""`tutor python`: a learner's own script, a command or a prompt, with the azureml SDK and `ws` ready.

Real processes throughout: the CLI replaces itself with the launcher, which activates the
embedded SDK for the learner's workspace; the prompt is driven through a pseudo-terminal.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tutor_testing import flat, run_tutor, tutor_env

SCRIPT = '''\
import os, sys
from azureml.core import Environment, Experiment, Workspace
from azureml.core.conda_dependencies import CondaDependencies
print("ws:", ws.name, Workspace.from_config().name == ws.name)
print("args:", sys.argv[1:], "cwd:", os.getcwd())
env = Environment("bob-env")
env.python.conda_dependencies = CondaDependencies.create(pip_packages=["pandas"])
print("registered:", env.register(workspace=ws).version)
print("experiment:", Experiment(ws, "bob-exp").name)
print("v2:", ml_client.workspace_name, [e.version for e in ml_client.environments.list(name="bob-env")])
sys.exit(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
'''


@pytest.fixture
def course(tmp_path: Path) -> Path:
    folder = tmp_path / "course"
    folder.mkdir()
    return folder


def tutor(course: Path, *args: str, **kw):
    return run_tutor(["python", "--username", "bob", "--course-dir", str(course), *args], **kw)


def test_a_script_runs_with_ws_bound_in_the_course_folder(course: Path, tmp_path: Path) -> None:
    script = tmp_path / "mine.py"
    script.write_text(SCRIPT)
    result = tutor(course, "--workspace", "local", str(script), "0", "--flag")
    assert result.returncode == 0, result.stderr
    assert "ws: bob-ws True" in result.stdout
    assert f"args: ['0', '--flag'] cwd: {course.resolve()}" in result.stdout
    assert "registered: 1" in result.stdout and "experiment: bob-exp" in result.stdout
    assert "v2: bob-ws ['1']" in result.stdout  # ml_client (azure-ai-ml) is bound to the same workspace
    # What the script did is in the learner's workspace, where the tutor's steps see it.
    from tutor.workspace.local import LocalWorkspace

    backend = LocalWorkspace(course / ".tutor" / "workspaces" / "bob-ws", "bob-ws", create=False)
    assert backend.get_environment("bob-env").version == 1
    assert [e.name for e in backend.list_experiments()] == ["bob-exp"]
    # The workspace exists now: no --workspace needed, and the script's exit code comes back.
    again = tutor(course, str(script), "3")
    assert again.returncode == 3 and "registered: 1" in again.stdout


def test_a_failing_script_shows_its_own_traceback_only(course: Path, tmp_path: Path) -> None:
    script = tmp_path / "broken.py"
    script.write_text("from azureml.core import Experiment\n\ndef go():\n    Experiment(ws, 7)\n\ngo()\n")
    result = tutor(course, "--workspace", "local", str(script))
    assert result.returncode == 1
    err = result.stderr
    assert "Traceback" in err and f'File "{script}", line 6' in err and "line 4, in go" in err
    assert "UserErrorException" in err and "Experiment name must be a string" in err
    assert "launch.py" not in err and "runpy" not in err


def test_a_command_and_what_goes_wrong_before_it_runs(course: Path) -> None:
    result = tutor(course, "--workspace", "local", "-c",
                   "from azureml.core.compute import ComputeTarget; print(sorted(ws.compute_targets))")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"

    missing = tutor(course, "nope.py")
    assert missing.returncode == 2 and "There is no script nope.py" in flat(missing.stderr)
    assert "Traceback" not in missing.stderr
    fresh = run_tutor(["python", "--username", "zoe", "--course-dir", str(course), "-c", "print(ws)"])
    assert fresh.returncode == 2 and "zoe has no workspace" in flat(fresh.stderr)
    assert "Traceback" not in fresh.stderr
    bad = run_tutor(["python", "--username", "Zoe!", "--course-dir", str(course), "-c", "print(ws)"])
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    absent = tutor(course, "--workspace", str(course / "no-config.json"), "-c", "print(ws)")
    assert absent.returncode == 2 and "there is no such config file" in flat(absent.stderr)


def test_an_azure_config_is_left_to_azureml_core(course: Path) -> None:
    """The workspace choice: an embedded config.json reopens its folder, any other one is Azure's."""
    from tutor.cli import _python_workspace

    azure = course / "azure.json"
    azure.write_text(json.dumps({"subscription_id": "s", "resource_group": "rg", "workspace_name": "real-ws"}))
    assert _python_workspace("bob", str(azure), course) == (str(azure.resolve()), "azure")
    from tutor.workspace.local import LocalWorkspace

    backend = LocalWorkspace(course / ".tutor" / "workspaces" / "bob-ws", "bob-ws")
    backend.write_config(course / "config.json")
    assert _python_workspace("bob", str(course / "config.json"), course) == (str(backend.path.resolve()), "embedded")


def test_the_prompt_in_a_terminal(course: Path) -> None:
    pexpect = pytest.importorskip("pexpect")
    tutor(course, "--workspace", "local", "-c", "pass")  # make the workspace
    child = pexpect.spawn(sys.executable, ["-m", "tutor", "python", "-u", "bob", "-C", str(course)],
                          env=tutor_env(None), encoding="utf-8", timeout=30, dimensions=(40, 120))
    try:
        child.expect("the azureml SDK on the embedded workspace bob-ws")
        child.expect("`ws` is your workspace")
        child.expect("`ml_client` is the same workspace in SDK v2")
        child.expect(">>> ")
        child.sendline("ws.name")
        child.expect("'bob-ws'")
        child.expect(">>> ")
        child.sendline("from azureml.core import Experiment; Experiment(ws, 'bob-try').name")
        child.expect("'bob-try'")
        child.expect(">>> ")
        child.sendline("ml_client.compute.get('bob-none')")
        child.expect("ResourceNotFoundError")
        child.expect(">>> ")
        child.sendline("ws.get_portal_url()")
        child.expect("Workspace.get_portal_url is not part of the azureml SDK on the embedded workspace")
        child.expect(">>> ")
        child.sendeof()
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0
