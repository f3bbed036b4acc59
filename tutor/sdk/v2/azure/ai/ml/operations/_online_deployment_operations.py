"""``ml_client.online_deployments``: the deployments behind managed online endpoints.

A deployment starts the endpoint's scoring server through the workspace's ``deploy_service``
(the service named after the endpoint; the deployment's name, e.g. ``blue``, is kept in the
endpoint's settings) with the registered model, the scoring script of its
``code_configuration`` and its registered environment; ``instance_count`` is the number of
worker processes behind the one port. ``begin_create_or_update(...).result()`` returns once
the deployment serves requests, or raises the service's ``ResourceNotReady`` error with the
end of its log when the scoring script fails in ``init()``. The embedded workspace runs one
deployment per endpoint: creating it again under its name updates it (the keys are kept).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from azure.ai.ml._embedded import Subset, backend, invalid, reference, translate, version_arg
from ._online_endpoint_operations import (ENDPOINT, KIND, check_name, endpoint_record, http_error, is_live, read_keys,
                                          record_endpoint, settings)

__all__ = ["OnlineDeploymentOperations"]

#: How long ``result()`` waits for a deployment to serve requests.
_WAIT_SECONDS = 600.0
#: Cores and memory of the instance types the course names (cores set the worker's threads here).
_INSTANCE_TYPES = {
    "standard_ds1_v2": (1.0, 3.5), "standard_ds2_v2": (2.0, 7.0), "standard_ds3_v2": (4.0, 14.0),
    "standard_ds4_v2": (8.0, 28.0), "standard_ds5_v2": (16.0, 56.0), "standard_f2s_v2": (2.0, 4.0),
    "standard_f4s_v2": (4.0, 8.0), "standard_f8s_v2": (8.0, 16.0), "standard_e2s_v3": (2.0, 16.0),
    "standard_e4s_v3": (4.0, 32.0),
}
_STATES = {"Healthy": "Succeeded", "Transitioning": "Updating", "Failed": "Failed", "Unhealthy": "Failed"}
_CONTAINERS = ("inference-server", "storage-initializer")
_TROUBLESHOOTING = "https://aka.ms/oe-tsg#error-resourcenotready"


class _Failed:
    """A PollingMethod whose operation failed: ``result()`` and ``wait()`` raise ``error``, as on Azure."""

    def __init__(self, error: Exception) -> None:
        self._error = error
        self._over = False

    def initialize(self, client: Any, initial_response: Any, deserialization_callback: Any) -> None:
        pass

    def run(self) -> None:
        self._over = True
        raise self._error

    def status(self) -> str:
        return "Failed"

    def finished(self) -> bool:
        return self._over

    def resource(self) -> Any:
        raise self._error

    def get_continuation_token(self) -> str:
        return "embedded-workspace"


def _failed(error: Exception) -> Any:
    from azure.core.polling import LROPoller

    return LROPoller(None, None, lambda _response: None, _Failed(error))  # type: ignore[arg-type]


def _deployment_entity(record: Any) -> Any:
    from azure.ai.ml.entities import CodeConfiguration, ManagedOnlineDeployment, OnlineRequestSettings

    values = settings(record).get("deployment") or {}
    request = values.get("request_settings")
    return ManagedOnlineDeployment(
        name=str(values.get("name") or ""), endpoint_name=record.name, tags=values.get("tags"),
        description=values.get("description") or None, model=f"azureml:{values.get('model')}",
        environment=f"azureml:{values['environment']}" if values.get("environment") else None,
        code_configuration=CodeConfiguration(code=values.get("code"), scoring_script=values.get("scoring_script")),
        instance_type=values.get("instance_type"), instance_count=values.get("instance_count"),
        request_settings=OnlineRequestSettings(**request) if request else None,
        provisioning_state=_STATES.get(record.state, record.state),
        id=f"azureml:onlineEndpoints/{record.name}/deployments/{values.get('name')}")


def _deployment_record(local: Any, name: Any, endpoint_name: Any) -> Any:
    from azure.ai.ml._embedded import not_found

    record = endpoint_record(local, endpoint_name)
    deployed = settings(record).get("deployment") or {}
    if not deployed or deployed.get("name") != name:
        raise not_found("Online deployment", f"{endpoint_name}/{name}")
    return record


class OnlineDeploymentOperations(Subset):
    """Create (or update), get, list and delete an endpoint's deployment; read its logs."""

    def __init__(self, ml_client):
        self._client = ml_client

    def _local(self) -> Any:
        return backend(self._client)

    @staticmethod
    def _no_local(local: Any) -> None:
        if local:
            raise invalid("local=True runs a deployment in Docker on your machine; the embedded workspace's "
                          "deployments already run on this machine: leave local out.")

    def begin_create_or_update(self, deployment, *, local=False, vscode_debug=False, skip_script_validation=False,
                               local_enable_gpu=False, **kwargs):
        """Deploy the model behind the endpoint; ``.result()`` waits until it serves requests."""
        from azure.ai.ml.entities import ManagedOnlineDeployment

        if vscode_debug and not local:
            raise invalid("VSCode Debug is only support for local endpoints. Please set local to True.")
        self._no_local(local)
        if not isinstance(deployment, ManagedOnlineDeployment):
            raise invalid(f"begin_create_or_update() takes a ManagedOnlineDeployment, not "
                          f"{type(deployment).__name__} (Kubernetes deployments are not part of the embedded workspace).")
        name = check_name(deployment.name, is_deployment=True)
        if not deployment.endpoint_name:
            raise invalid(f"The deployment {name} has no endpoint_name: ManagedOnlineDeployment(name='{name}', "
                          "endpoint_name=endpoint.name, ...).")
        store = self._local()
        record = endpoint_record(store, deployment.endpoint_name)
        endpoint = record.name
        values = settings(record)
        current = values.get("deployment") or {}
        if current and current.get("name") != name:
            raise http_error(
                f"(BadRequest) The endpoint {endpoint} already has the deployment {current['name']}; the embedded "
                f"workspace runs one deployment per endpoint.\nCode: BadRequest\nMessage: Update "
                f"{current['name']} (create it again under that name), or delete it first: "
                f"ml_client.online_deployments.begin_delete('{current['name']}', '{endpoint}') after setting its "
                "traffic to 0.")
        plan = self._plan(store, deployment)
        keys = read_keys(store, record)
        entry = Path(plan["code"]) / plan["scoring_script"]
        deployed = {k: v for k, v in plan.items() if k not in ("cpu_cores", "memory_gb")}
        deployed["name"] = name
        endpoint_values = {**values, "deployment": deployed}
        with translate():
            try:
                started = store.deploy_service(
                    endpoint, [plan["model"]], entry.resolve(), environment=plan["environment"], kind="ACI",
                    cpu_cores=plan["cpu_cores"], memory_gb=plan["memory_gb"], replicas=plan["instance_count"],
                    auth_enabled=True, tags=values.get("tags") or {}, description=values.get("description") or "",
                    overwrite=True, keys=keys)
            except Exception:
                self._restore(store, endpoint, values, keys)
                raise
            store.update_service(endpoint, kind=KIND,
                                 properties={**started.properties, ENDPOINT: endpoint_values, "reason": "starting"})
        from tutor.errors import StepFailed, TutorError

        try:
            store.wait_for_service(endpoint, timeout=_WAIT_SECONDS)
        except StepFailed as failure:
            return _failed(http_error(
                f"(ResourceNotReady) User container has crashed or terminated: {failure.what} Please see "
                f"troubleshooting guide, available here: {_TROUBLESHOOTING}\nCode: ResourceNotReady\nMessage: The "
                f"deployment {name} of the endpoint {endpoint} did not start. The end of its log "
                f"(ml_client.online_deployments.get_logs('{name}', '{endpoint}', lines=50)):\n"
                f"{(failure.log_tail or '').rstrip()}"))
        except TutorError as error:
            return _failed(http_error(f"(ResourceNotReady) {error.what} {error.fix or ''}".rstrip()))
        from azure.ai.ml._embedded import done

        return done(_deployment_entity(store.get_service(endpoint)))

    def _plan(self, store: Any, deployment: Any) -> dict[str, Any]:
        """What to deploy, checked before anything is stopped: model id, environment, script, instances."""
        from tutor.errors import TutorError

        if deployment.model is None:
            raise invalid(f"The deployment {deployment.name} has no model: give model=<a registered Model> or "
                          "model='azureml:<name>:<version>'.")
        model_name, model_version = reference(deployment.model, "model")
        with translate():
            model = store.get_model(model_name, version_arg(model_version))
        if deployment.environment is None:
            raise invalid(f"The deployment {deployment.name} has no environment: a custom model needs "
                          "environment=<a registered Environment> or 'azureml:<name>:<version>'.")
        env_name, env_version = reference(deployment.environment, "environment")
        with translate():
            env = store.get_environment(env_name, version_arg(env_version))
        code = deployment.code_configuration
        if code is None or not code.code or not code.scoring_script:
            raise invalid(f"The deployment {deployment.name} needs code_configuration=CodeConfiguration("
                          "code='<folder>', scoring_script='<file in it>.py') for a custom model.")
        folder = Path(str(code.code)).expanduser()
        if str(code.code).startswith("azureml:"):
            raise invalid(f"code={code.code!r}: give a local folder (relative to the current folder), e.g. 'score'.")
        if not folder.is_dir():
            raise invalid(f"code={code.code!r}: there is no folder {folder.resolve()}. Give the folder that holds "
                          "the scoring script, relative to the current folder.")
        script = folder / str(code.scoring_script)
        if not script.is_file():
            raise invalid(f"scoring_script={code.scoring_script!r}: there is no file {script.resolve()}. Give the "
                          f"script's path inside {code.code!r}.")
        if script.suffix != ".py":
            raise invalid(f"scoring_script={code.scoring_script!r}: the scoring script is a Python file (.py).")
        if deployment.instance_type is not None and not isinstance(deployment.instance_type, str):
            raise invalid(f"instance_type={deployment.instance_type!r}: give a VM size, e.g. 'Standard_DS3_v2'.")
        count = deployment.instance_count if deployment.instance_count is not None else 1
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise invalid(f"instance_count={deployment.instance_count!r}: give a whole number of instances, 1 or more.")
        if deployment.environment_variables:
            raise invalid("environment_variables are not passed to the embedded workspace's scoring server; leave "
                          "them out (score.py finds the model through AZUREML_MODEL_DIR).")
        cores, memory = _INSTANCE_TYPES.get(str(deployment.instance_type or "").lower(), (1.0, 1.0))
        request = deployment.request_settings
        try:
            version = int(env.version)
        except (TypeError, ValueError):
            raise TutorError(f"The environment {env.name} has no version.", "Register it first.") from None
        return {"model": model.id, "environment": f"{env.name}:{version}", "code": str(code.code),
                "scoring_script": str(code.scoring_script), "instance_type": deployment.instance_type,
                "instance_count": count, "cpu_cores": cores, "memory_gb": memory,
                "tags": {str(k): str(v) for k, v in deployment.tags.items()},
                "description": deployment.description or "",
                "request_settings": None if request is None else {
                    "max_concurrent_requests_per_instance": request.max_concurrent_requests_per_instance,
                    "request_timeout_ms": request.request_timeout_ms, "max_queue_wait_ms": request.max_queue_wait_ms}}

    @staticmethod
    def _restore(store: Any, endpoint: str, values: dict[str, Any], keys: tuple[str, str]) -> None:
        """After a deployment that could not start: the endpoint stays, with its keys (and no deployment)."""
        from tutor.errors import TutorError

        try:
            record = store.get_service(endpoint)
            if ENDPOINT in record.properties:
                return  # nothing was stopped
        except TutorError:
            pass
        kept = {k: v for k, v in values.items() if k != "deployment"}
        kept["traffic"] = {}
        record_endpoint(store, endpoint, kept, keys)

    def get(self, name, endpoint_name, *, local=False):
        """The deployment ``name`` of the endpoint: its model, instances and provisioning state."""
        self._no_local(local)
        return _deployment_entity(_deployment_record(self._local(), name, endpoint_name))

    def list(self, endpoint_name, *, local=False):
        """The endpoint's deployments."""
        self._no_local(local)
        record = endpoint_record(self._local(), endpoint_name)
        return iter([_deployment_entity(record)] if settings(record).get("deployment") else [])

    def get_logs(self, name, endpoint_name, lines, *, container_type=None, local=False):
        """The last ``lines`` lines of the deployment's log (its scoring server's)."""
        self._no_local(local)
        if container_type is not None and str(container_type).lower() not in _CONTAINERS:
            raise invalid(f"container_type={container_type!r}: use one of {', '.join(_CONTAINERS)} (or leave it out).")
        store = self._local()
        record = _deployment_record(store, name, endpoint_name)
        if str(container_type or "").lower() == "storage-initializer":
            model = settings(record)["deployment"].get("model")
            return f"The model {model} is read from the workspace's model registry: there was nothing to download.\n"
        if isinstance(lines, bool) or not isinstance(lines, int) or lines < 1:
            raise invalid(f"lines={lines!r}: give the number of log lines to read, e.g. lines=50.")
        with translate():
            return store.service_logs(record.name, tail=lines)

    def begin_delete(self, name, endpoint_name, *, local=False):
        """Stop the deployment; the endpoint stays, with its keys. Its traffic must be 0 first."""
        self._no_local(local)
        store = self._local()
        record = _deployment_record(store, name, endpoint_name)
        values = settings(record)
        share = (values.get("traffic") or {}).get(name, 0)
        if share:
            raise http_error(
                f"(BadRequest) The deployment {name} gets {share}% of the traffic of the endpoint {record.name}: it "
                f"cannot be deleted.\nCode: BadRequest\nMessage: Set its traffic to 0 first (endpoint.traffic = {{}}, "
                "begin_create_or_update(endpoint)), or delete the endpoint with its deployment.")
        keys = read_keys(store, record) if is_live(record) else None
        with translate():
            store.delete_service(record.name)
        kept = {k: v for k, v in values.items() if k != "deployment"}
        kept["mirror_traffic"] = {}
        record_endpoint(store, record.name, kept, keys)
        from azure.ai.ml._embedded import done

        return done(None)
