"""``azureml.core.conda_dependencies.CondaDependencies``: the packages of an environment."""

from __future__ import annotations

from azureml._embedded import Subset

__all__ = ["CondaDependencies"]

PYTHON_DEFAULT_VERSION = '3.10.18'  # azureml-core 1.61's default


class CondaDependencies(Subset):
    """The conda and pip packages an environment installs (a conda specification on Azure)."""

    def __init__(self, conda_dependencies_file_path=None, _underlying_structure=None):
        self._python_version = PYTHON_DEFAULT_VERSION
        self._conda: list[str] = []
        self._pip: list[str] = []
        self._channels = ["anaconda", "conda-forge"]
        if conda_dependencies_file_path is not None:
            self._load(conda_dependencies_file_path)

    @staticmethod
    def create(pip_indexurl=None, pip_packages=None, conda_packages=None, python_version=PYTHON_DEFAULT_VERSION,
               pin_sdk_version=True):
        """Dependencies with these pip and conda packages and this Python version."""
        deps = CondaDependencies()
        deps._python_version = python_version
        for package in pip_packages or []:
            deps.add_pip_package(package)
        for package in conda_packages or []:
            deps.add_conda_package(package)
        return deps

    def add_pip_package(self, pip_package):
        name = _name(pip_package)
        self._pip = [p for p in self._pip if _name(p) != name] + [str(pip_package)]

    def add_conda_package(self, conda_package):
        name = _name(conda_package)
        self._conda = [p for p in self._conda if _name(p) != name] + [str(conda_package)]

    def remove_pip_package(self, pip_package):
        self._pip = [p for p in self._pip if _name(p) != _name(pip_package)]

    def remove_conda_package(self, conda_package):
        self._conda = [p for p in self._conda if _name(p) != _name(conda_package)]

    def add_channel(self, channel):
        if channel not in self._channels:
            self._channels.append(channel)

    def set_python_version(self, version):
        self._python_version = version

    def get_python_version(self):
        return self._python_version

    @property
    def pip_packages(self):
        return iter(self._pip)

    @property
    def conda_packages(self):
        return iter([f"python={self._python_version}", *self._conda])

    def serialize_to_string(self):
        """The conda specification (YAML), as Azure builds the environment from."""
        pip = "".join(f"  - {p}\n" for p in self._pip)
        conda = "".join(f"- {p}\n" for p in self._conda)
        channels = "".join(f"- {c}\n" for c in self._channels)
        return (f"name: project_environment\ndependencies:\n- python={self._python_version}\n{conda}"
                + (f"- pip:\n{pip}" if pip else "") + f"channels:\n{channels}")

    def save(self, path=None):
        from pathlib import Path

        target = Path(path or "conda_dependencies.yml")
        target.write_text(self.serialize_to_string())
        return str(target)

    def _load(self, path) -> None:
        """Read a conda specification written by :meth:`save` (the simple YAML shape azureml writes)."""
        from pathlib import Path

        section = None
        for raw in Path(path).read_text().splitlines():
            line = raw.split("#", 1)[0].rstrip()
            if not line.strip():
                continue
            if not line.startswith((" ", "-")):
                section = line.split(":", 1)[0].strip()
                continue
            item = line.strip().lstrip("-").strip()
            if section == "channels":
                self.add_channel(item)
            elif section == "dependencies":
                if item == "pip:":
                    section = "pip"
                elif item.startswith("python="):
                    self._python_version = item.split("=", 1)[1]
                elif item and item != "pip":
                    self.add_conda_package(item)
            elif section == "pip" and raw.startswith("  ") and not item.startswith("--"):
                self.add_pip_package(item)
            elif section == "pip" and not raw.startswith("  "):
                section = "dependencies"
                self.add_conda_package(item)

    def __repr__(self):
        return self.serialize_to_string()


def _name(spec: str) -> str:
    import re

    return re.split(r"[<>=!~\[ ;]", str(spec).strip(), maxsplit=1)[0].lower()
