"""The exercise kernel in Azure mode (``python -m tutor.exercises.kernel --azure CONFIG``).

The learner's code runs there on the real azureml-core. Its ``Workspace.from_config()``
looks for config.json from the current folder (the course folder) up; the config the tutor
was given may be anywhere, so the kernel makes a call without a path read that file.

Nothing here reaches Azure: ``from_config`` logs "Found the config file in: <path>" through
its ``_logger`` parameter after reading the file and before it signs in, so the tests pass a
logger that stops the call right there and keep the path it names.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterator

import pytest

import tutor
from tutor.workspace.azure.config import azure_problem

AZURE_PROBLEM = azure_problem()
needs_azureml = pytest.mark.skipif(AZURE_PROBLEM is not None, reason=AZURE_PROBLEM or "")
pytestmark = needs_azureml

CONFIG = {"subscription_id": "00000000-0000-0000-0000-000000000000", "resource_group": "taxi-course-rg",
          "workspace_name": "taxi-course-ws"}

# Defines found_by(call): what from_config would read, stopped before it signs in.
FOUND_BY = '''
class _Found(Exception):
    pass

class _StopAtFound:
    def debug(self, *args, **kwargs):
        pass
    def info(self, message, *args, **kwargs):
        raise _Found(message % args)

def found_by(call):
    try:
        call(_StopAtFound())
    except _Found as found:
        return str(found)
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    return "from_config returned without reading a config"
'''


def _write(path: Path, config: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config))
    return path


def _env() -> dict[str, str]:
    """This environment, with this checkout first on PYTHONPATH: the kernel runs in the course
    folder, so it imports the tutor from its installation, which must be this code."""
    root = str(Path(tutor.__file__).resolve().parents[1])
    env = {k: v for k, v in os.environ.items() if not k.startswith("TUTOR_")}
    env["PYTHONPATH"] = os.pathsep.join([root, *[p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]])
    return env


@pytest.fixture
def course(tmp_path: Path) -> Path:
    folder = tmp_path / "course"
    folder.mkdir()
    return folder


@pytest.fixture
def given_config(tmp_path: Path) -> Path:
    """The config the learner gave the tutor (-w), outside the course folder, under its own name."""
    return _write(tmp_path / "elsewhere" / "taxi-ws.json", CONFIG)


@pytest.fixture
def kernel(given_config: Path, course: Path) -> Iterator[Any]:
    from tutor.exercises.session import Kernel

    with Kernel(azure_config=given_config, cwd=course, env=_env()) as started:
        ok, value = started.evaluate("1")
        assert (ok, value) == (True, 1)
        outcome = started.run(FOUND_BY, lambda stream, text: pytest.fail(f"{stream}: {text}"))
        assert outcome.status == "ok", outcome.error
        yield started


def _eval(kernel: Any, expr: str) -> Any:
    ok, value = kernel.evaluate(expr)
    assert ok, value
    return value


def test_from_config_without_a_path_reads_the_config_the_tutor_was_given(kernel: Any, given_config: Path,
                                                                         course: Path) -> None:
    assert _eval(kernel, "__import__('os').getcwd()") == str(course)
    run = kernel.run("from azureml.core import Workspace", lambda stream, text: None)
    assert run.status == "ok", run.error
    assert _eval(kernel, "found_by(lambda log: Workspace.from_config(_logger=log))") == \
        f"Found the config file in: {given_config}"
    # The SDK's own search, from the course folder up, would not have found it.
    assert _eval(kernel, "found_by(lambda log: Workspace.from_config.__wrapped__(_logger=log))").startswith(
        "UserErrorException: UserErrorException:\n\tMessage: The workspace configuration file config.json, "
        f"could not be found in {course} or its parent directories.")
    # What the learner's ws would name: the workspace in that file (read as the SDK reads it).
    assert _eval(kernel, "list(__import__('azureml._project.project_info', fromlist=['x'])"
                         f".get_workspace_info({str(given_config)!r}))") == \
        [CONFIG["subscription_id"], CONFIG["resource_group"], CONFIG["workspace_name"]]
    assert not list(course.iterdir())  # no config file was written into the course folder


def test_from_config_with_its_own_path_or_file_name_searches_as_the_sdk_does(kernel: Any, course: Path,
                                                                              tmp_path: Path) -> None:
    other = _write(tmp_path / "other" / "config.json", {**CONFIG, "workspace_name": "someone-elses-ws"})
    named = _write(course / ".azureml" / "mine.json", CONFIG)
    kernel.run("from azureml.core import Workspace", lambda stream, text: None)
    assert _eval(kernel, f"found_by(lambda log: Workspace.from_config({str(other.parent)!r}, _logger=log))") == \
        f"Found the config file in: {other}"
    assert _eval(kernel, f"found_by(lambda log: Workspace.from_config(path={str(other)!r}, _logger=log))") == \
        f"Found the config file in: {other}"
    assert _eval(kernel, "found_by(lambda log: Workspace.from_config(_logger=log, _file_name='mine.json'))") == \
        f"Found the config file in: {named}"


def test_a_config_in_the_course_folder_does_not_win_over_the_tutors(kernel: Any, course: Path,
                                                                    given_config: Path) -> None:
    """The checks look at the tutor's workspace: the learner's code must reach the same one."""
    _write(course / "config.json", {**CONFIG, "workspace_name": "an-old-download"})
    kernel.run("from azureml.core import Workspace", lambda stream, text: None)
    assert _eval(kernel, "found_by(lambda log: Workspace.from_config(_logger=log))") == \
        f"Found the config file in: {given_config}"


def test_from_config_keeps_the_sdks_signature_and_help(kernel: Any) -> None:
    kernel.run("import inspect\nfrom azureml.core import Workspace\nfrom azureml.core.workspace import "
               "Workspace as Same", lambda stream, text: None)
    assert _eval(kernel, "str(inspect.signature(Workspace.from_config))") == \
        "(path=None, auth=None, _logger=None, _file_name=None)"
    assert _eval(kernel, "str(inspect.signature(Workspace.from_config.__wrapped__))") == \
        "(path=None, auth=None, _logger=None, _file_name=None)"
    assert _eval(kernel, "Workspace.from_config.__doc__ == Workspace.from_config.__wrapped__.__doc__ "
                         "and 'Return a workspace object' in Workspace.from_config.__doc__")
    assert _eval(kernel, "Workspace.from_config.__wrapped__.__module__") == "azureml.core.workspace"
    assert _eval(kernel, "Same is Workspace and isinstance(Workspace.__dict__['from_config'], staticmethod)")


def test_the_kernels_azureml_is_the_real_package(kernel: Any) -> None:
    import tutor.sdk

    embedded_root = Path(tutor.sdk.__file__).resolve().parent
    found = Path(_eval(kernel, "__import__('azureml.core').core.__file__")).resolve()
    assert not found.is_relative_to(embedded_root), found
    assert found.parts[-3:] == ("azureml", "core", "__init__.py")
    assert _eval(kernel, "getattr(__import__('azureml'), '__embedded__', False)") is False
    assert _eval(kernel, "__import__('azureml.core').core.VERSION").startswith("1.")
    assert _eval(kernel, "'TUTOR_WORKSPACE_DIR' in __import__('os').environ") is False


def test_course_code_on_the_real_sdk_prints_only_what_it_prints(kernel: Any, course: Path) -> None:
    """The SDK's own lines (warnings, logged errors) do not reach the learner's output for the
    course's building blocks: configurations made offline, before anything is submitted."""
    (course / "train.py").write_text("print('training')\n")
    (course / "score.py").write_text("def init():\n    pass\n\ndef run(raw):\n    return []\n")
    output: list[tuple[str, str]] = []
    outcome = kernel.run('''
from azureml.core import Workspace, Experiment, Environment, ScriptRunConfig, Dataset, Model, Run
from azureml.core.compute import AmlCompute, ComputeTarget, ComputeInstance
from azureml.core.compute_target import ComputeTargetException
from azureml.core.conda_dependencies import CondaDependencies
from azureml.core.model import InferenceConfig
from azureml.core.webservice import AciWebservice, Webservice
env = Environment("alice-taxi-env")
env.python.conda_dependencies = CondaDependencies.create(pip_packages=["azureml-defaults", "scikit-learn"])
cluster_config = AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", min_nodes=0, max_nodes=3)
src = ScriptRunConfig(source_directory=".", script="train.py", arguments=["--data_user", "alice"],
                      compute_target="alicercluster", environment=env)
inference_config = InferenceConfig(entry_script="score.py", source_directory=".", environment=env)
deployment_config = AciWebservice.deploy_configuration(cpu_cores=1, memory_gb=0.5, auth_enabled=True)
print("configured", src.arguments)
''', lambda stream, text: output.append((stream, text)))
    assert outcome.status == "ok", outcome.error
    assert "".join(text for _, text in output) == "configured ['--data_user', 'alice']\n"
    assert {stream for stream, _ in output} == {"stdout"}
