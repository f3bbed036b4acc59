"""``ml_client.environments``: environments, each an image plus a conda specification.

The embedded workspace runs jobs in this machine's Python, so it keeps what the conda
specification asks for (Python version, conda and pip packages) and checks it against what is
installed before a job runs, as the v1 ``Environment.register`` does; the image is accepted and
not kept.
"""

from __future__ import annotations

from pathlib import Path

from azure.ai.ml._embedded import ListViewType, Subset, asked_version, backend, invalid, translate

__all__ = ["EnvironmentOperations"]


def _conda_spec(conda_file, name):
    """The conda specification as a dict, from a dict or a YAML file."""
    if conda_file is None:
        return {}
    if isinstance(conda_file, dict):
        return conda_file
    import yaml

    path = Path(conda_file).expanduser()
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise invalid(f"Environment {name!r}: cannot read the conda file {path} ({error.strerror}).") from None
    except yaml.YAMLError as error:
        raise invalid(f"Environment {name!r}: {path} is not valid YAML ({error}).") from None
    if not isinstance(spec, dict):
        raise invalid(f"Environment {name!r}: {path} must be a conda specification (name, channels, dependencies).")
    return spec


def _packages(spec, name):
    """(python version, conda packages, pip packages) of a conda specification."""
    dependencies = spec.get("dependencies") or []
    if not isinstance(dependencies, list):
        raise invalid(f"Environment {name!r}: 'dependencies' of the conda specification must be a list.")
    python, conda, pip = None, [], []
    for item in dependencies:
        if isinstance(item, dict) and set(item) == {"pip"} and isinstance(item["pip"], list):
            pip.extend(str(p) for p in item["pip"])
        elif isinstance(item, str):
            package = item.strip()
            if package.split("=")[0].strip() == "python":
                python = package.split("=", 1)[1].lstrip("=").strip() if "=" in package else None
            elif package != "pip" and not package.startswith("pip="):
                conda.append(package)
        else:
            raise invalid(f"Environment {name!r}: {item!r} in the conda dependencies is neither a package nor "
                          "'pip: [...]'.")
    return python, conda, pip


def environment_entity(record):
    from azure.ai.ml.entities import Environment

    dependencies = ([f"python={record.python_version}"] if record.python_version else []) + list(
        record.conda_packages) + ["pip", {"pip": list(record.pip_packages)}]
    return Environment(name=record.name, version=str(record.version),
                       conda_file={"name": record.name, "channels": ["conda-forge"], "dependencies": dependencies},
                       id=f"azureml:{record.name}:{record.version}")


class EnvironmentOperations(Subset):
    """Register (``create_or_update``), ``get`` and ``list`` environments."""

    def __init__(self, ml_client):
        self._client = ml_client

    def create_or_update(self, environment):
        from azure.ai.ml.entities import Environment

        if not isinstance(environment, Environment):
            raise invalid(f"create_or_update() takes an Environment, not {type(environment).__name__}.")
        if not environment.name:
            raise invalid("An Environment needs name=.")
        if not environment.image and environment.build is None:
            raise invalid(f"Environment {environment.name!r}: Docker image or Dockerfile is required for "
                          "environments: pass image=, e.g. image=\"mcr.microsoft.com/azureml/"
                          "openmpi4.1.0-ubuntu22.04:latest\", with conda_file=.")
        python, conda, pip = _packages(_conda_spec(environment.conda_file, environment.name), environment.name)
        with translate():
            record = backend(self._client).register_environment(environment.name, pip, conda, python)
        return environment_entity(record)

    def get(self, name, version=None, label=None):
        wanted = asked_version(version, label)
        with translate():
            record = backend(self._client).get_environment(name, wanted)
        return environment_entity(record)

    def list(self, name=None, *, list_view_type=ListViewType.ACTIVE_ONLY):
        with translate():
            records = backend(self._client).list_environments()
        return iter([environment_entity(r) for r in records if name is None or r.name == name])
