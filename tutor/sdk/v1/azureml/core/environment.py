"""``azureml.core.Environment``: what a run's or a service's Python needs.

On Azure an environment becomes a container image; on the embedded workspace it is
checked against this machine (missing packages fail the run with the pip command that
installs them). Python's version is this machine's: a different ``python_version`` is
noted, not enforced.
"""

from __future__ import annotations

from typing import Any

from azureml._embedded import Subset, backend, translate, version_of
from azureml.core.conda_dependencies import CondaDependencies
from azureml.exceptions import UserErrorException

__all__ = ["Environment", "PythonSection"]


class PythonSection(Subset):
    """``env.python``: the conda dependencies, or a Python the learner manages."""

    def __init__(self, **kwargs):
        self.conda_dependencies = CondaDependencies()
        self.user_managed_dependencies = False
        self.interpreter_path = "python"
        self.conda_dependencies_file = None


class Environment(Subset):
    """A named, versioned environment definition."""

    def __init__(self, name, **kwargs):
        if not isinstance(name, str) or not name:
            raise UserErrorException("Environment name must be a non-empty string.")
        self.name = name
        self.version = None
        self.python = PythonSection()
        self.environment_variables: dict[str, str] = {}
        self.inferencing_stack_version = None

    @classmethod
    def _from_record(cls, record: Any) -> "Environment":
        env = cls(record.name)
        env.version = str(record.version)
        env.python.conda_dependencies = CondaDependencies.create(
            pip_packages=list(record.pip_packages), conda_packages=list(record.conda_packages),
            python_version=record.python_version or CondaDependencies().get_python_version())
        return env

    def _definition(self) -> tuple[list[str], list[str], str | None]:
        deps = self.python.conda_dependencies
        python = deps.get_python_version()
        conda = [p for p in deps.conda_packages if not p.startswith("python=")]
        return list(deps.pip_packages), conda, python

    def register(self, workspace):
        """Register this definition (a new version when it changed); returns the registered environment."""
        pip, conda, python = self._definition()
        with translate(UserErrorException):
            record = backend(workspace).register_environment(self.name, pip, conda, python_version=python)
        registered = Environment._from_record(record)
        self.version = registered.version
        return registered

    @staticmethod
    def get(workspace, name, version=None, label=None):
        """A registered environment (its latest version by default)."""
        with translate(UserErrorException):
            record = backend(workspace).get_environment(name, version_of(version))
        return Environment._from_record(record)

    @staticmethod
    def list(workspace):
        """{name: Environment} of the registered environments."""
        return workspace.environments

    @staticmethod
    def from_pip_requirements(name, file_path, pip_version=None):
        """An environment whose pip packages are the lines of a requirements file."""
        from pathlib import Path

        env = Environment(name)
        lines = [line.split("#", 1)[0].strip() for line in Path(file_path).read_text().splitlines()]
        env.python.conda_dependencies = CondaDependencies.create(pip_packages=[l for l in lines if l])
        return env

    @staticmethod
    def from_conda_specification(name, file_path):
        """An environment from a conda specification file (as CondaDependencies.save writes)."""
        env = Environment(name)
        env.python.conda_dependencies = CondaDependencies(conda_dependencies_file_path=file_path)
        return env

    def clone(self, new_name):
        env = Environment(new_name)
        pip, conda, python = self._definition()
        env.python.conda_dependencies = CondaDependencies.create(pip_packages=pip, conda_packages=conda,
                                                                 python_version=python)
        env.environment_variables = dict(self.environment_variables)
        return env

    def _registered_ref(self, workspace) -> str:
        """``name:version`` for the backend, registering the definition first if it is not yet (as Azure does)."""
        if self.version is None:
            self.register(workspace)
        return f"{self.name}:{self.version}"

    def __repr__(self):
        pip, conda, python = self._definition()
        return (f"Environment(Name: {self.name},\nVersion: {self.version},\nPython: {python},\n"
                f"Pip packages: {', '.join(pip) or 'none'})")
