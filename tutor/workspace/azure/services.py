"""Web services on Azure: ACI deployment, keys, URIs, logs, and the service records.

The deployment API mirrors the local scoring service (``tutor.serving``):
:meth:`ServicesMixin.deploy_service` is ``Model.deploy`` with
``InferenceConfig(entry_script, source_directory, environment)`` and
``AciWebservice.deploy_configuration(cpu_cores, memory_gb, auth_enabled, tags,
description)``; then :meth:`~ServicesMixin.wait_for_deployment`, ``service_keys``
(``get_keys``), ``regen_service_key`` (``regen_key``), ``scoring_uri``, ``swagger_uri``,
``service_logs`` (``get_logs``) and ``delete_service`` (``delete``).

The protocol's service *records* (``record_service`` ...) are kept in the cache, one
JSON file per service (no key is ever written there); a record of a deployed service is
refreshed from Azure when it is read.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

from tutor.errors import StepFailed, TutorError
from tutor.workspace import naming
from tutor.workspace.azure.core import AzureCore, iso, read_json, write_json
from tutor.workspace.azure.quiet import quiet
from tutor.workspace.base import EnvironmentRecord, ServiceRecord
from tutor.workspace.local.core import not_found

RECORD_FILE = "service.json"
UPDATABLE = {"kind", "state", "scoring_uri", "port", "pid", "pid_token", "models", "properties"}
ACI = "ACI"
DEPLOY_TIMEOUT = 1800.0
LOG_TAIL_LINES = 40
TERMINAL_STATES = ("Healthy", "Failed", "Unhealthy")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def _model_ids(service: Any) -> list[str]:
    ids = []
    for model in getattr(service, "models", None) or []:
        ids.append(f"{model.name}:{model.version}" if hasattr(model, "name") else str(model))
    return ids


class ServicesMixin(AzureCore):
    # -- the records (the protocol) ---------------------------------------------------------

    def _service_dir(self, name: str) -> Path:
        return self.cache / "services" / name

    def _read_record(self, name: str) -> ServiceRecord | None:
        data = read_json(self._service_dir(name) / RECORD_FILE)
        return None if data is None else ServiceRecord(**data)

    def _write_record(self, record: ServiceRecord) -> ServiceRecord:
        write_json(Path(record.service_dir) / RECORD_FILE, record.__dict__)
        return record

    def record_service(self, name: str, *, kind: str, state: str, scoring_uri: str | None = None,
                       port: int | None = None, pid: int | None = None, models: Sequence[str] = (),
                       properties: Mapping[str, Any] | None = None, replace: bool = False) -> ServiceRecord:
        naming.check_name(naming.SERVICE, name)
        if self._read_record(name) is not None and not replace:
            raise TutorError(f"A service named '{name}' already exists.",
                             "Delete it first, or deploy with overwrite=True to replace it.")
        folder = self._service_dir(name)
        folder.mkdir(parents=True, exist_ok=True)
        now = _now()
        return self._write_record(ServiceRecord(
            name=name, kind=kind, state=state, scoring_uri=scoring_uri, port=port, pid=pid, models=list(models),
            properties=dict(properties or {}), service_dir=str(folder), created_at=now, updated_at=now))

    def update_service(self, name: str, /, **fields: Any) -> ServiceRecord:
        unknown = set(fields) - UPDATABLE
        if unknown:
            raise TutorError(f"Cannot update {', '.join(sorted(unknown))} of a service.",
                             "Only " + ", ".join(sorted(UPDATABLE)) + " can change.")
        record = self._read_record(name)
        if record is None:
            raise self._service_not_found(name)
        for key, value in fields.items():
            setattr(record, key, list(value) if key == "models" else value)
        record.updated_at = _now()
        return self._write_record(record)

    def _service_not_found(self, name: str) -> TutorError:
        return not_found("service", name, (s.name for s in self.list_services()), "deploy it first")

    def get_service(self, name: str) -> ServiceRecord:
        """The service's record; a deployed service's state is read from Azure (``Webservice(ws, name)``)."""
        record = self._read_record(name)
        if record is None or record.kind == ACI:
            service = self._call(f"looking up the service '{name}'", self.service.get_service, self.ws, name)
            if service is not None:
                return self._sync(service, record)
        if record is None:
            raise self._service_not_found(name)
        return record

    def _sync(self, service: Any, record: ServiceRecord | None) -> ServiceRecord:
        """A record refreshed from an SDK ``Webservice``."""
        name = str(service.name)
        if record is None:
            record = self.record_service(name, kind=ACI, state=str(service.state or ""), replace=True)
        record.kind = ACI
        record.state = str(getattr(service, "state", "") or record.state)
        record.scoring_uri = getattr(service, "scoring_uri", None) or record.scoring_uri
        record.models = _model_ids(service) or record.models
        record.properties = {**record.properties, "swagger_uri": getattr(service, "swagger_uri", None),
                             "compute_type": getattr(service, "compute_type", ACI)}
        error = getattr(service, "error", None)
        if error:
            record.properties["error"] = error if isinstance(error, (str, dict)) else str(error)
            # "reason" is what a Failed service's record says on both backends (the exercise
            # check, the deployment step and the CLI read it): Azure's error message.
            message = error.get("message") or error.get("code") if isinstance(error, dict) else None
            record.properties["reason"] = str(message or error)
        if not record.created_at:
            record.created_at = iso(getattr(service, "created_time", None))
        record.updated_at = _now()
        return self._write_record(record)

    def list_services(self) -> list[ServiceRecord]:
        """The services of the workspace (``Webservice.list``) and the records kept here, by name."""
        records: dict[str, ServiceRecord] = {}
        folder = self.cache / "services"
        if folder.is_dir():
            for child in folder.iterdir():
                record = self._read_record(child.name)
                if record is not None:
                    records[record.name] = record
        for service in self._call("listing the web services", self.service.list_services, self.ws):
            records[str(service.name)] = self._sync(service, records.get(str(service.name)))
        return [records[name] for name in sorted(records)]

    def delete_service_record(self, name: str, remove_files: bool = True) -> None:
        if self._read_record(name) is None:
            raise self._service_not_found(name)
        folder = self._service_dir(name)
        if remove_files:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            (folder / RECORD_FILE).unlink(missing_ok=True)

    # -- deploying (Model.deploy to ACI) -----------------------------------------------------

    def _webservice(self, name: str) -> Any:
        service = self._call(f"looking up the service '{name}'", self.service.get_service, self.ws, name)
        if service is None:
            raise self._service_not_found(name)
        return service

    def deploy_service(self, name: str, model_ids: Sequence[str], entry_script: str | Path, *,
                       source_dir: str | Path | None = None, environment: str | EnvironmentRecord | None = None,
                       cpu_cores: float = 1.0, memory_gb: float = 0.5, auth_enabled: bool = True,
                       tags: Mapping[str, Any] | None = None, description: str = "",
                       overwrite: bool = False, kind: str = "ACI", replicas: int = 1) -> ServiceRecord:
        """``Model.deploy(ws, name, models, InferenceConfig(...), AciWebservice.deploy_configuration(...))``.

        Returns at once with the service Transitioning; :meth:`wait_for_deployment` follows it.
        ``model_ids`` are ``"name:version"`` (or names: their latest version); ``entry_script``
        is the scoring script, uploaded with the folder ``source_dir`` (default: its folder).
        """
        naming.check_name(naming.SERVICE, name)
        if kind != ACI or replicas != 1:
            raise TutorError(
                "Deploying to Kubernetes (AKS) with replicas is not part of the tutor's Azure backend: it needs an "
                "AKS cluster attached to the workspace, which costs money around the clock.",
                "Skip this extra-credit step on Azure, or try it on the embedded workspace (--workspace local).",
            )
        clean_tags = naming.check_tags(tags)
        script = Path(entry_script).expanduser()
        source = Path(source_dir).expanduser() if source_dir else script.parent
        if not source.is_dir():
            raise TutorError(f"The source folder {source} does not exist.", "Point source_dir at the scoring folder.")
        if not script.is_absolute():
            script = source / script if (source / script).is_file() else script
        if not script.is_file():
            raise TutorError(f"The entry script {script} does not exist.",
                             "Write the scoring script first (score/score.py) or give its correct path.")
        try:
            entry = script.resolve().relative_to(source.resolve()).as_posix()
        except ValueError:
            raise TutorError(f"The entry script {script} is not inside the source folder {source}.",
                             "Put score.py in the folder you deploy (source_dir).") from None
        if cpu_cores <= 0 or memory_gb <= 0:
            raise TutorError(f"cpu_cores and memory_gb must be positive (got {cpu_cores} and {memory_gb}).",
                             "The course uses 1 core and 0.5 GB for ACI.")
        if not model_ids:
            raise TutorError("A service needs at least one model.", 'Pass model_ids=["alice-taxi-model:1"].')
        models = []
        for model_id in model_ids:
            model_name, _, version = str(model_id).partition(":")
            models.append(self._find_model(model_name, version or "latest"))
        if isinstance(environment, EnvironmentRecord):
            environment = f"{environment.name}:{environment.version}"
        if environment is None:
            raise TutorError("A service needs an environment with the scoring packages.",
                             'Register one (register_environment) with azureml-defaults, inference-schema, '
                             'scikit-learn and pandas, and pass environment="<its name>".')
        sdk_env = self._resolve_environment(environment)
        if not overwrite:
            existing = self._call(f"looking up the service '{name}'", self.service.get_service, self.ws, name)
            if existing is not None:
                raise TutorError(f"A service named '{name}' already exists ({existing.state}).",
                                 "Deploy with overwrite=True to replace it, or delete it first.")
        with quiet():
            from azureml.core.model import InferenceConfig
            from azureml.core.webservice import AciWebservice

            inference_config = InferenceConfig(entry_script=entry, source_directory=str(source),
                                               environment=sdk_env)
            deployment_config = AciWebservice.deploy_configuration(
                cpu_cores=cpu_cores, memory_gb=memory_gb, auth_enabled=auth_enabled, tags=clean_tags or None,
                description=description or None)
        service = self._call(f"deploying the service '{name}'", self.service.deploy, self.ws, name, models,
                             inference_config, deployment_config, overwrite)
        record = self.record_service(
            name, kind=ACI, state=str(getattr(service, "state", None) or "Transitioning"),
            scoring_uri=getattr(service, "scoring_uri", None), models=[f"{m.name}:{m.version}" for m in models],
            properties={"cpu_cores": cpu_cores, "memory_gb": memory_gb, "auth_enabled": auth_enabled,
                        "entry_script": entry, "environment": f"{sdk_env.name}:{sdk_env.version}",
                        "tags": clean_tags, "description": description},
            replace=True,
        )
        return self._sync(service, record)

    def wait_for_service(self, name: str, on_log_line: Any = None, timeout: float = DEPLOY_TIMEOUT) -> ServiceRecord:
        """The protocol's name for :meth:`wait_for_deployment`."""
        return self.wait_for_deployment(name, on_log_line=on_log_line, timeout=timeout)

    def wait_for_deployment(self, name: str, on_log_line: Any = None, timeout: float = DEPLOY_TIMEOUT) -> ServiceRecord:
        """Poll the service until it is Healthy; a Failed one raises StepFailed with its log tail.

        Azure only has the container's log once it runs: it is streamed to ``on_log_line``
        at the end, not live.
        """
        service = self._webservice(name)
        deadline = time.monotonic() + timeout
        while True:
            state = str(getattr(service, "state", "") or "")
            if state in TERMINAL_STATES:
                break
            if time.monotonic() > deadline:
                raise StepFailed(f"The service {name!r} was not Healthy after {timeout:.0f} s (it is {state}).",
                                 "Azure goes on deploying: look at it in the studio (Endpoints), or wait again.")
            self._sleep()
            self._call(f"reading the state of the service '{name}'", self.service.refresh_service, service)
        record = self._sync(service, self._read_record(name))
        logs = self._call(f"reading the log of the service '{name}'", self.service.service_logs, service)
        if on_log_line is not None:
            for line in logs.splitlines():
                on_log_line(line)
        if state != "Healthy":
            error = record.properties.get("error")
            reason = error.get("message", error) if isinstance(error, dict) else error
            raise StepFailed(
                f"The service {name!r} is {state}" + (f": {reason}" if reason else "."),
                "Read the log below, fix the scoring script or the environment, then deploy again "
                "(overwrite=True replaces the failed service).",
                log_tail="\n".join(logs.splitlines()[-LOG_TAIL_LINES:]),
            )
        return record

    def service_keys(self, name: str) -> tuple[str, str]:
        """``(primary, secondary)`` from ``service.get_keys()``: secrets, never stored or logged."""
        record = self.get_service(name)
        if record.properties.get("auth_enabled") is False:
            raise TutorError(
                f"The service {name!r} was deployed without authentication, so it has no keys.",
                "Anyone can call it without a key; redeploy with auth_enabled=True to require one.",
            )
        return self._call(f"reading the keys of the service '{name}'", self.service.service_keys, self._webservice(name))

    def regen_service_key(self, name: str, which: str) -> tuple[str, str]:
        """``service.regen_key("Primary" | "Secondary")``; returns the new pair."""
        key = str(which).capitalize()
        if key not in ("Primary", "Secondary"):
            raise TutorError(f"'{which}' is not a key of a service.", "Regenerate 'Primary' or 'Secondary'.")
        service = self._webservice(name)
        self._call(f"regenerating the {key.lower()} key of '{name}'", self.service.regen_key, service, key)
        return self.service_keys(name)

    def scoring_uri(self, name: str) -> str:
        record = self.get_service(name)
        if not record.scoring_uri:
            raise TutorError(f"The service {name!r} has no scoring URI yet (it is {record.state}).",
                             "Wait for the deployment (wait_for_deployment), then ask again.")
        return record.scoring_uri

    def swagger_uri(self, name: str) -> str | None:
        return self.get_service(name).properties.get("swagger_uri")

    def service_logs(self, name: str, tail: int | None = None) -> str:
        """``service.get_logs()`` (its last ``tail`` lines when given)."""
        text = self._call(f"reading the log of the service '{name}'", self.service.service_logs, self._webservice(name))
        if tail is None:
            return text
        return "\n".join(text.splitlines()[-tail:])

    def delete_service(self, name: str) -> None:
        """``service.delete()`` and forget its record."""
        service = self._call(f"looking up the service '{name}'", self.service.get_service, self.ws, name)
        if service is None and self._read_record(name) is None:
            raise self._service_not_found(name)
        if service is not None:
            self._call(f"deleting the service '{name}'", self.service.delete_service, service)
        shutil.rmtree(self._service_dir(name), ignore_errors=True)
