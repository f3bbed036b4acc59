"""Environments and the model registry on Azure.

An environment is ``Environment(name)`` whose ``python.conda_dependencies`` is
``CondaDependencies.create(pip_packages, conda_packages, python_version)``, registered
with ``env.register(ws)``. As in the embedded workspace, registering an unchanged
definition returns the existing version (nothing is rebuilt). On Azure the image is
built remotely when a run first uses it, so :meth:`check_environment` reports what the
environment declares instead of what this machine has installed.

Models are ``run.register_model`` (a file in a run's outputs) or ``Model.register`` (a
local file); their files are downloaded once into the cache, so ``ModelRecord.path`` is a
folder on this machine like the embedded workspace's.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any, Literal, Mapping, Sequence

from tutor.errors import TutorError
from tutor.workspace import naming
from tutor.workspace.azure.core import AzureCore, iso
from tutor.workspace.azure.quiet import quiet
from tutor.workspace.base import EnvironmentCheck, EnvironmentRecord, ModelRecord, RunStatus
from tutor.workspace.local.core import missing_version, not_found, parse_version
from tutor.workspace.local.envcheck import validate_environment

CURATED_PREFIXES = ("AzureML-", "Microsoft-")


def _requirement_name(requirement: str) -> str:
    import re

    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    return match.group(1).lower().replace("_", "-") if match else requirement


def environment_definition(env: Any) -> tuple[list[str], list[str], str | None]:
    """(pip packages, conda packages, python version) declared by an SDK ``Environment``.

    ``CondaDependencies.create`` always adds a ``python=X.Y`` conda package; it is
    reported as the python version, not as a package.
    """
    with quiet():
        deps = env.python.conda_dependencies
        pip = [str(p) for p in deps.pip_packages]
        conda_all = [str(p) for p in deps.conda_packages]
    python = None
    conda = []
    for package in conda_all:
        if package.replace(" ", "").startswith("python=") and python is None:
            python = package.split("=", 1)[1]
        else:
            conda.append(package)
    return pip, conda, python


def environment_record(env: Any) -> EnvironmentRecord:
    pip, conda, python = environment_definition(env)
    return EnvironmentRecord(name=str(env.name), version=int(env.version or 0), pip_packages=pip,
                             conda_packages=conda, python_version=python,
                             created_at=iso(getattr(env, "_created_time", None) or getattr(env, "created_time", None)))


def split_environment_ref(ref: str) -> tuple[str, str]:
    name, _, version = ref.partition(":")
    return name, (version or "latest")


class RegistryMixin(AzureCore):
    # -- environments --------------------------------------------------------------------

    def _build_environment(self, name: str, pip: list[str], conda: list[str], python_version: str | None) -> Any:
        with quiet():
            from azureml.core import Environment
            from azureml.core.conda_dependencies import CondaDependencies

            env = Environment(name)
            kwargs: dict[str, Any] = {"pip_packages": pip, "conda_packages": conda}
            if python_version:
                kwargs["python_version"] = python_version
            env.python.conda_dependencies = CondaDependencies.create(**kwargs)
        return env

    def register_environment(self, name: str, pip_packages: Sequence[str], conda_packages: Sequence[str] = (),
                             python_version: str | None = None) -> EnvironmentRecord:
        """``Environment(name)`` + ``CondaDependencies.create(...)``, ``env.register(ws)`` if it changed."""
        pip, conda = validate_environment(name, pip_packages, conda_packages, python_version)
        latest = self._call(f"looking up the environment '{name}'", self.service.get_environment, self.ws, name)
        env = self._build_environment(name, pip, conda, python_version)
        if latest is not None:
            old_pip, old_conda, old_python = environment_definition(latest)
            new_pip, new_conda, new_python = environment_definition(env)
            if (old_pip, old_conda) == (new_pip, new_conda) and (python_version is None or old_python == new_python):
                return environment_record(latest)
        registered = self._call(f"registering the environment '{name}'", self.service.register_environment,
                                self.ws, env)
        return environment_record(registered)

    def _find_environment(self, name: str, version: int | str = "latest") -> Any:
        wanted = parse_version("environment", name, version)
        found = self._call(f"looking up the environment '{name}'", self.service.get_environment, self.ws, name, wanted)
        if found is not None:
            return found
        latest = None if wanted is None else self._call(f"looking up the environment '{name}'",
                                                         self.service.get_environment, self.ws, name)
        if latest is None:
            names = self._call("listing the environments", self.service.list_environments, self.ws)
            raise not_found("environment", name, (n for n in names if not n.startswith(CURATED_PREFIXES)),
                            "register it first (register_environment)")
        raise missing_version("environment", name, int(wanted or 0), list(range(1, int(latest.version) + 1)))

    def get_environment(self, name: str, version: int | Literal["latest"] = "latest") -> EnvironmentRecord:
        """``Environment.get(ws, name, version)``."""
        return environment_record(self._find_environment(name, version))

    def list_environments(self) -> list[EnvironmentRecord]:
        """The latest version of every environment registered in the workspace (curated ones left out)."""
        found = self._call("listing the environments", self.service.list_environments, self.ws)
        return [environment_record(found[n]) for n in sorted(found) if not n.startswith(CURATED_PREFIXES)]

    def check_environment(self, name: str, version: int | Literal["latest"] = "latest") -> EnvironmentCheck:
        """What the environment declares; Azure builds its image remotely, so it is ``ok``.

        Only the spelling of each requirement can be checked here (done at registration);
        a package that does not exist fails the image build, and the run's error says so.
        """
        env = self.get_environment(name, version)
        declared = {_requirement_name(p): p for p in [*env.pip_packages, *env.conda_packages]}
        python = env.python_version or ""
        return EnvironmentCheck(
            name=env.name, version=env.version, python_ok=True,
            python_found=python or f"the image's default (this machine: {sys.version.split()[0]})",
            provided_by_workspace=[p for p in env.pip_packages if _requirement_name(p).startswith("azureml")],
            installed={k: "built on Azure" for k in declared},
        )

    def _resolve_environment(self, environment: Any) -> Any:
        """An SDK Environment for a name, ``"name:version"`` or an EnvironmentRecord (None stays None)."""
        if environment is None:
            return None
        if isinstance(environment, EnvironmentRecord):
            return self._find_environment(environment.name, environment.version)
        if not isinstance(environment, str):
            raise TutorError(f"environment must be a name or an EnvironmentRecord, not {type(environment).__name__}.",
                             'Write environment="taxi-env" (or "taxi-env:2").')
        name, version = split_environment_ref(environment)
        return self._find_environment(name, version)

    # -- models ---------------------------------------------------------------------

    def _model_dir(self, name: str, version: int) -> Path:
        return self.cache / "models" / name / str(version)

    def _model_record(self, model: Any, fetch: bool = True) -> ModelRecord:
        """A ModelRecord; with ``fetch`` the model's files are downloaded into the cache first."""
        name, version = str(model.name), int(model.version)
        folder = self._model_dir(name, version)
        if fetch and not (folder.is_dir() and any(folder.iterdir())):
            staging = Path(tempfile.mkdtemp(prefix=".download-", dir=self._cache_dir("models")))
            try:
                self._call(f"downloading model {name}:{version}", self.service.download_model, model,
                           str(staging), True)
                folder.parent.mkdir(parents=True, exist_ok=True)
                if folder.exists():
                    shutil.rmtree(folder)
                staging.rename(folder)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        entries = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
        file_name = entries[0] if len(entries) == 1 else ""
        size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else 0
        return ModelRecord(
            name=name, version=version, file_name=file_name, path=str(folder),
            description=str(getattr(model, "description", "") or ""),
            tags={str(k): str(v) for k, v in (getattr(model, "tags", None) or {}).items()},
            run_id=getattr(model, "run_id", None) or None,
            experiment=getattr(model, "experiment_name", None) or None,
            size_bytes=size, created_at=iso(getattr(model, "created_time", None)),
        )

    def register_model(self, name: str, model_path: str | Path, *, run_id: str | None = None,
                       tags: Mapping[str, Any] | None = None, description: str = "") -> ModelRecord:
        """``run.register_model(name, "outputs/model.pkl")`` or ``Model.register(ws, path, name)``."""
        naming.check_name(naming.MODEL, name)
        clean_tags = naming.check_tags(tags)
        if run_id is None:
            source = Path(model_path).expanduser()
            if not source.exists():
                raise TutorError(f"There is no model file or folder {source}.",
                                 "Pass the path of the trained model (e.g. outputs/model.pkl), or the run_id it came from.")
            model = self._call(f"registering the model '{name}'", self.service.register_model, self.ws,
                               str(source), name, clean_tags, description or "")
            return self._model_record(model)
        run = self.get_run(run_id)
        if run.status != RunStatus.COMPLETED:
            raise TutorError(f"Run {run_id} is {run.status.value}, so its model is not trustworthy.",
                             "Register the model of a run that Completed (fix the script and run it again).")
        rel = PurePosixPath(str(model_path).replace("\\", "/"))
        if rel.is_absolute() or ".." in rel.parts:
            raise TutorError(f"'{model_path}' must be a path inside the run's folder.", "Use e.g. 'outputs/model.pkl'.")
        handle = self._run_handle(run_id)
        files = self._call(f"listing the files of run {run_id}", self.service.run_files, handle)

        def present(path: str) -> bool:
            return path in files or any(f.startswith(path.rstrip("/") + "/") for f in files)

        wanted = rel.as_posix()
        if not present(wanted) and present(f"outputs/{wanted}"):
            wanted = f"outputs/{wanted}"
        if not present(wanted):
            outputs = [f for f in files if f.startswith("outputs/")]
            raise TutorError(f"Run {run_id} has no '{rel.as_posix()}'.",
                             "Its outputs are: " + (", ".join(outputs[:10]) or "none") + ".")
        model = self._call(f"registering the model '{name}'", self.service.register_run_model, handle, name,
                           wanted, clean_tags, description or "")
        return self._model_record(model)

    def _find_model(self, name: str, version: int | str = "latest") -> Any:
        wanted = parse_version("model", name, version)
        found = self._call(f"looking up the model '{name}'", self.service.get_model, self.ws, name, wanted)
        if found is not None:
            return found
        versions = sorted(int(m.version) for m in self._call(f"listing the versions of '{name}'",
                                                             self.service.list_models, self.ws, name, False))
        if not versions:
            names = {str(m.name) for m in self._call("listing the models", self.service.list_models, self.ws, None, True)}
            raise not_found("model", name, names, "register it first (register_model)")
        raise missing_version("model", name, int(wanted or 0), versions)

    def get_model(self, name: str, version: int | Literal["latest"] = "latest") -> ModelRecord:
        """``Model(ws, name=name, version=version)``, its files fetched into the cache."""
        return self._model_record(self._find_model(name, version))

    def list_models(self, name: str | None = None, latest: bool = False) -> list[ModelRecord]:
        """``Model.list(ws, name, latest)``, by name and version; files are not fetched."""
        found = self._call("listing the models", self.service.list_models, self.ws, name, latest)
        records = [self._model_record(m, fetch=False) for m in found]
        return sorted(records, key=lambda r: (r.name, r.version))

    def download_model(self, name: str, version: int | Literal["latest"], dest: str | Path,
                       exist_ok: bool = False) -> Path:
        """``model.download(target_dir=dest, exist_ok=...)``; returns the model file (or folder)."""
        model = self._find_model(name, version)
        record = self._model_record(model)
        target_dir = Path(dest).expanduser()
        target = target_dir / record.file_name if record.file_name else target_dir
        if record.file_name and target.exists() and not exist_ok:
            raise TutorError(f"{target} already exists; nothing was downloaded.",
                             "Pass exist_ok=True to replace it, or download into another folder.")
        target_dir.mkdir(parents=True, exist_ok=True)
        got = self._call(f"downloading model {record.id}", self.service.download_model, model, str(target_dir), exist_ok)
        return Path(got)
