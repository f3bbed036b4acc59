"""``Model.deploy`` on the embedded workspace: registered models served by the local scoring service.

The HTTP service itself lives in :mod:`tutor.serving` (a detached process per service, with
its own ``service.json``, keys and log in ``services/<name>/``). This mixin ties it to the
workspace: it resolves model ids from the registry, checks the environment, records the
service in the database so it can be listed and found again, and reads the service's live
state from its folder, which is the truth once the process runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from tutor.errors import TutorError
from tutor.workspace import naming
from tutor.workspace.base import ServiceRecord
from tutor.workspace.local.services import ServicesMixin

SERVICE_KINDS = ("ACI", "AKS")


class DeploymentsMixin(ServicesMixin):
    def _serving_dir(self, name: str) -> Path:
        return self.layout.service_dir(name)

    def _has_live_folder(self, name: str) -> bool:
        return (self._serving_dir(name) / "service.json").exists()

    def get_service(self, name: str) -> ServiceRecord:
        """The recorded service, its state refreshed from the running service (a dead process is Failed)."""
        record = self._recorded_service(name)
        if not self._has_live_folder(name):
            return record
        from tutor import serving

        info = serving.get_state(self._serving_dir(name))
        if info.state != record.state or info.pid != record.pid:
            properties = dict(record.properties)
            properties["reason"] = info.reason
            record = self.update_service(name, state=info.state, pid=info.pid, properties=properties)
        return record

    def list_services(self) -> list[ServiceRecord]:
        return [self.get_service(record.name) for record in super().list_services()]

    def deploy_service(self, name: str, model_ids: Sequence[str], entry_script: str | Path, *,
                       environment: str | None = None, kind: str = "ACI", cpu_cores: float = 1.0,
                       memory_gb: float = 0.5, replicas: int = 1, auth_enabled: bool = True,
                       tags: Mapping[str, Any] | None = None, description: str = "",
                       overwrite: bool = False, keys: tuple[str, str] | None = None) -> ServiceRecord:
        """Deploy registered models behind ``entry_script`` (``Model.deploy``); returns at once.

        The service starts Transitioning; :meth:`wait_for_service` follows it to Healthy
        or Failed. ``kind`` "AKS" with ``replicas`` N serves one port from N worker
        processes (the Kubernetes-style configuration of day 1's extra credit).
        ``environment`` is a name (its latest version) or ``"name:version"``: a package it
        lists that this machine lacks fails the deployment; another Python version than
        this machine's is only noted (``properties["notes"]``), as for runs. ``keys``
        (primary, secondary) replaces the generated keys (Azure: ``primary_key`` and
        ``secondary_key`` of the deployment configuration; kept across an update).
        """
        from tutor import serving

        naming.check_name(naming.SERVICE, name)
        if kind not in SERVICE_KINDS:
            raise TutorError(f"Unknown deployment kind {kind!r}.", f"Use one of {', '.join(SERVICE_KINDS)}.")
        if not model_ids:
            raise TutorError("A deployment needs at least one registered model.", "Register the model first.")
        if len(model_ids) > 1:
            raise TutorError("The embedded workspace deploys one model per service.",
                             "Deploy each model as its own service.")
        entry = Path(entry_script).expanduser()
        if not entry.is_file():
            raise TutorError(f"The entry script {entry} does not exist.",
                             "Run the 'Get the course scripts' step, or pass the path of your score.py.")
        model_name, _, version = model_ids[0].partition(":")
        model = self.get_model(model_name, int(version) if version else "latest")
        notes: list[str] = []
        if environment:
            env_name, _, env_version = environment.partition(":")
            check = self.check_environment(env_name, int(env_version) if env_version.isdigit() else "latest")
            if check.shortfall:
                raise TutorError(check.shortfall, f"Install them ({check.install_command}) and deploy again.")
            if not check.python_ok:
                wanted = self.get_environment(check.name, check.version).python_version
                notes.append(f"The environment asks for Python {wanted}; this machine runs Python "
                             f"{check.python_found}, which the service uses.")
        if keys is not None and (not auth_enabled or len(keys) != 2 or not all(isinstance(k, str) and k for k in keys)):
            raise TutorError("Keys need authentication on and two non-empty strings (primary, secondary).",
                             "Deploy with auth_enabled=True and both keys, or leave the keys out.")
        existing = [s for s in super().list_services() if s.name == name]
        if existing and not overwrite:
            raise TutorError(f"A service named '{name}' already exists.",
                             "Deploy with overwrite=True to replace it, or delete it first.")
        port = existing[0].port if existing else None  # deployed again: same scoring URI when the port is free
        if existing:
            self.delete_service(name)
        info = serving.deploy(
            self._serving_dir(name), entry, Path(model.path), auth_enabled=auth_enabled, workers=replicas,
            cpu_cores=cpu_cores, memory_gb=memory_gb, tags={k: str(v) for k, v in (tags or {}).items()},
            description=description, overwrite=True, port=port,
        )
        if keys is not None:
            from tutor.serving.keys import ServiceKeys, write_keys

            write_keys(self._serving_dir(name), ServiceKeys(primary=keys[0], secondary=keys[1]))
        return self.record_service(
            name, kind=kind, state=info.state, scoring_uri=info.scoring_uri, port=info.port, pid=info.pid,
            models=[model.id],
            properties={"cpu_cores": cpu_cores, "memory_gb": memory_gb, "replicas": replicas,
                        "auth_enabled": auth_enabled, "entry_script": str(entry), "environment": environment,
                        "swagger_uri": info.swagger_uri, "description": description,
                        "tags": {k: str(v) for k, v in (tags or {}).items()}, "notes": notes},
            replace=True,
        )

    def wait_for_service(self, name: str, on_log_line: Callable[[str], None] | None = None,
                         timeout: float = 120.0) -> ServiceRecord:
        """Follow a deployment to Healthy, streaming its log; raises StepFailed with the log tail."""
        from tutor import serving

        self._require_folder(name)
        try:
            serving.wait_for_deployment(self._serving_dir(name), on_log_line=on_log_line, timeout=timeout)
        finally:
            self.get_service(name)  # record the final state either way
        return self.get_service(name)

    def _require_folder(self, name: str) -> None:
        self._recorded_service(name)  # "no such service" error
        if not self._has_live_folder(name):
            raise TutorError(f"The service '{name}' is recorded but its files are gone.",
                             "Delete it and deploy again.")

    def service_keys(self, name: str) -> tuple[str, str]:
        """(primary, secondary) — Azure's ``service.get_keys()``."""
        from tutor import serving

        self._require_folder(name)
        return serving.get_keys(self._serving_dir(name))

    def regen_service_key(self, name: str, which: str) -> tuple[str, str]:
        """Replace the 'Primary' or 'Secondary' key; the old one stops working at once."""
        from tutor import serving

        self._require_folder(name)
        return serving.regen_key(self._serving_dir(name), which)

    def service_logs(self, name: str, tail: int | None = None) -> str:
        from tutor import serving

        self._require_folder(name)
        return serving.get_logs(self._serving_dir(name), tail=tail)

    def delete_service(self, name: str) -> None:
        """Stop the service's processes and forget it."""
        from tutor import serving

        self._recorded_service(name)
        if self._has_live_folder(name):
            serving.delete(self._serving_dir(name))
        self.delete_service_record(name)
