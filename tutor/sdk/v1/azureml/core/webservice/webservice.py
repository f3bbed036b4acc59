"""``azureml.core.webservice.Webservice`` on the embedded workspace.

A web service is one of the workspace's deployed scoring services: a real HTTP server on
127.0.0.1 (:mod:`tutor.serving`) recorded by the workspace. ``Webservice(ws, name)``
returns an ``AciWebservice`` or an ``AksWebservice``, as azureml's constructor returns the
subclass of the service's compute type. Its attributes (``state``, ``scoring_uri``...)
are a snapshot, refreshed by ``wait_for_deployment()`` and ``update_deployment_state()``.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from azureml._embedded import AZURE_HINT, Subset, backend, tags_match, translate
from azureml.exceptions import UserErrorException, WebserviceException

__all__ = ["Webservice", "WebserviceDeploymentConfiguration"]

ALL_WEBSERVICE_TYPES = ["ACI", "AKSENDPOINT", "AKS", "IOT", "MIR"]
#: How long ``wait_for_deployment()`` waits when no timeout is given.
_DEFAULT_WAIT_SECONDS = 600.0


def _refuse(what: str) -> UserErrorException:
    return UserErrorException(f"{what} is not supported by the embedded workspace. {AZURE_HINT}")


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _service_class(kind: str) -> type[Webservice]:
    from azureml.core.webservice.aci import AciWebservice
    from azureml.core.webservice.aks import AksWebservice

    return AksWebservice if kind == "AKS" else AciWebservice


class Webservice(Subset):
    """A deployed scoring service: its state, URIs, keys, logs; call it, update it, delete it."""

    _webservice_type: str | None = None

    # The snapshot azureml keeps on the object (set from the workspace's record).
    name = None
    compute_type = None
    state: str | None = None
    auth_enabled = None
    token_auth_enabled = False
    tags = None
    properties: dict[str, Any] | None = None
    description = None
    created_time = None
    updated_time = None
    created_by = None
    error = None
    image_id = None
    image_digest = None
    workspace = None

    def __new__(cls, workspace, name):
        """The service ``name`` of ``workspace``, as the subclass of its compute type."""
        if workspace and name:
            record = cls._get(workspace, name)
            service = object.__new__(_service_class(record.kind))
            service._initialize(workspace, record)
            return service
        return object.__new__(cls)

    def __init__(self, workspace, name):
        pass

    @classmethod
    def _from_record(cls, workspace: Any, record: Any) -> "Webservice":
        service = object.__new__(_service_class(record.kind))
        service._initialize(workspace, record)
        return service

    @staticmethod
    def _get(workspace, name=None) -> Any:
        from tutor.errors import TutorError

        if not name:
            raise WebserviceException("Name must be provided")
        try:
            return backend(workspace).get_service(name)
        except TutorError as error:
            raise WebserviceException(f"WebserviceNotFound: Webservice with name {name} not found in provided "
                                      f"workspace. {error.what}") from None

    def _initialize(self, workspace: Any, record: Any) -> None:
        props = record.properties
        self.workspace = workspace
        self._record = record
        self.name = record.name
        self.compute_type = record.kind
        self.state = record.state
        self.auth_enabled = bool(props.get("auth_enabled", True))
        self.tags = dict(props.get("tags") or {})
        self.properties = {}
        self.description = props.get("description") or None
        self.created_time = _time(record.created_at)
        self.updated_time = _time(record.updated_at)
        reason = props.get("reason")
        self.error = ({"code": "DeploymentFailed", "message": reason}
                      if record.state == "Failed" and reason else None)
        self._session = None

    # -- following a deployment ------------------------------------------------------------

    def wait_for_deployment(self, show_output=False, timeout_sec=None):
        """Wait until the service is Healthy (or Failed: WebserviceException); ``show_output`` streams its log."""
        from tutor.errors import StepFailed, TutorError

        if show_output:
            print("Tips: You can try get_logs(): https://aka.ms/debugimage#dockerlog or local deployment: "
                  "https://aka.ms/debugimage#debug-locally to debug if deployment takes longer than 10 minutes.")
            for note in self._record.properties.get("notes") or []:
                print(f"Note: {note}")
            print(self.state or "Transitioning", flush=True)
        timeout = float(timeout_sec) if timeout_sec else _DEFAULT_WAIT_SECONDS
        store = backend(self.workspace)
        try:
            store.wait_for_service(self.name, on_log_line=(lambda line: print(line, flush=True))
                                   if show_output else None, timeout=timeout)
        except StepFailed as failure:
            self.update_deployment_state()
            if self.state not in ("Failed", "Deleted"):
                raise WebserviceException(
                    f"Deployment polling exceeded timeout override of {timeout:g}s. Current status: {self.state}\n"
                    "Deployment may be transitioning or unhealthy, use update_deployment_state() to fetch the latest "
                    "status of the webservice") from None
            error = self.error or {"code": "DeploymentFailed", "message": failure.what}
            raise WebserviceException(
                f"Service deployment polling reached non-successful terminal state, current service state: "
                f"{self.state}\nOperation ID: {self.name}\nMore information can be found using '.get_logs()'\n"
                f"Error:\n{json.dumps(error, indent=2)}\n{failure.log_tail or ''}".rstrip()) from None
        except TutorError as error:
            raise WebserviceException(error.what + (f" {error.fix}" if error.fix else "")) from None
        self.update_deployment_state()
        if show_output:
            print("Succeeded")
        print(f'{self._webservice_type} service creation operation finished, operation "Succeeded"')

    def update_deployment_state(self):
        """Refresh this object's state from the workspace."""
        self._initialize(self.workspace, Webservice._get(self.workspace, self.name))

    # -- keys, logs ----------------------------------------------------------------------------

    def get_keys(self):
        """(primary key, secondary key) of a service deployed with auth_enabled."""
        with translate(WebserviceException):
            return tuple(backend(self.workspace).service_keys(self.name))

    def regen_key(self, key, set_key=None):
        """Replace the 'Primary' or 'Secondary' key; the old one is refused from then on."""
        if not key:
            raise WebserviceException("Error, must specify which key with be regenerated: Primary, Secondary")
        key = key.capitalize()
        if key != "Primary" and key != "Secondary":
            raise WebserviceException(f"Error, invalid value provided for key: {key}.\n"
                                      "Valid options are: Primary, Secondary")
        if set_key is not None:
            raise _refuse("regen_key(set_key=...) (a key of your choosing)")
        with translate(WebserviceException):
            backend(self.workspace).regen_service_key(self.name, key)

    def get_token(self):
        """Azure AD token authentication: not on the embedded workspace."""
        raise _refuse("Token authentication (get_token)")

    def get_logs(self, num_lines=5000, init=False):
        """The service's log (its last ``num_lines`` lines)."""
        if init:
            raise _refuse("get_logs(init=True) (the logs of an init container)")
        with translate(WebserviceException):
            return backend(self.workspace).service_logs(self.name, tail=int(num_lines) if num_lines else None)

    # -- calling it ----------------------------------------------------------------------------

    def _post(self, input_data: Any) -> Any:
        import requests

        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.auth_enabled:
            headers["Authorization"] = "Bearer " + self.get_keys()[0]
        try:
            return requests.post(self.scoring_uri, data=input_data, headers=headers, timeout=60)
        except requests.RequestException as error:
            raise WebserviceException(f"Error attempting to call webservice at {self.scoring_uri}: {error}\n"
                                      f"Current State: {self._current_state()}\nErrors: {self.error}") from None

    def _current_state(self) -> str | None:
        try:
            self.update_deployment_state()
        except WebserviceException:
            return "Deleted"
        return self.state

    def run(self, input):
        """POST ``input`` (a JSON string) to the scoring URI with the service key; the parsed JSON answer."""
        return self._run(input)

    def _run(self, input_data: Any) -> Any:
        if not self.scoring_uri:
            raise WebserviceException("Error attempting to call webservice, scoring_uri unavailable. This could be "
                                      "due to a failed deployment, or the service is not ready yet.\n"
                                      f"Current State: {self.state}\nErrors: {self.error}")
        resp = self._post(input_data)
        if resp.status_code == 401 and self.auth_enabled:  # the key was regenerated meanwhile
            resp = self._post(input_data)
        if resp.status_code == 200:
            return resp.json()
        raise WebserviceException("Received bad response from service. More information can be found by calling "
                                  "`.get_logs()` on the webservice object.\n"
                                  f"Response Code: {resp.status_code}\nHeaders: {resp.headers}\n"
                                  f"Content: {resp.content}", status_code=resp.status_code)

    # -- changing it ---------------------------------------------------------------------------

    def update(self, *args):
        raise _refuse(f"{type(self).__name__}.update")

    def _redeploy(self, *, models=None, inference_config=None, auth_enabled=None, tags=None, description=None,
                  **settings: Any) -> None:
        """Deploy the service again under its name with what changed (keys are kept)."""
        store = backend(self.workspace)
        props = self._record.properties
        model_ids = [m.id for m in models] if models is not None else list(self._record.models)
        entry = inference_config._entry_path() if inference_config is not None else props["entry_script"]
        if inference_config is not None:
            env = inference_config.environment
            environment = env._registered_ref(self.workspace) if env is not None else None
        else:
            environment = props.get("environment")
        auth = self.auth_enabled if auth_enabled is None else bool(auth_enabled)
        keys = self.get_keys() if auth and self.auth_enabled else None
        values = {"cpu_cores": props.get("cpu_cores", 1.0), "memory_gb": props.get("memory_gb", 0.5),
                  "replicas": props.get("replicas", 1)}
        values.update({k: v for k, v in settings.items() if v is not None})
        with translate(WebserviceException):
            record = store.deploy_service(
                self.name, model_ids, entry, environment=environment, kind=self.compute_type,
                auth_enabled=auth, tags=self.tags if tags is None else tags,
                description=(description or self.description or ""), overwrite=True, keys=keys, **values)
            if props.get("compute_name"):
                record = store.update_service(self.name, properties={**record.properties,
                                                                     "compute_name": props["compute_name"]})
        self._initialize(self.workspace, record)

    def _update_record(self, tags=None, description=None) -> None:
        props = dict(self._record.properties)
        if tags is not None:
            props["tags"] = {str(k): str(v) for k, v in dict(tags).items()}
        if description:
            props["description"] = description
        with translate(WebserviceException):
            self._initialize(self.workspace, backend(self.workspace).update_service(self.name, properties=props))

    def delete(self):
        """Stop the service and remove it from the workspace."""
        from tutor.errors import TutorError

        store = backend(self.workspace)
        try:
            store.get_service(self.name)
        except TutorError:
            print(f"No service with name {self.name} found to delete.")
            return
        with translate(WebserviceException):
            store.delete_service(self.name)
        self.state = "Deleting"

    # -- listing, describing ---------------------------------------------------------------------

    @staticmethod
    def list(workspace, compute_type=None, image_name=None, image_id=None, model_name=None, model_id=None, tags=None,
             properties=None, image_digest=None):
        """The workspace's services, filtered as azureml filters them."""
        if compute_type and compute_type.upper() not in ALL_WEBSERVICE_TYPES:
            raise WebserviceException('Invalid compute type "{}". Valid options are "{}"'
                                      .format(compute_type, ",".join(ALL_WEBSERVICE_TYPES)))
        found = []
        for record in backend(workspace).list_services():
            if compute_type and record.kind != compute_type.upper():
                continue
            if image_name or image_id or image_digest or properties:
                continue  # services here are not built from images and carry no properties
            if model_name and not any(m.partition(":")[0] == model_name for m in record.models):
                continue
            if model_id and model_id not in record.models:
                continue
            if not tags_match(record.properties.get("tags") or {}, tags):
                continue
            found.append(Webservice._from_record(workspace, record))
        return found

    def serialize(self):
        """The service as azureml's JSON dictionary."""
        return {"name": self.name, "description": self.description, "tags": self.tags,
                "properties": self.properties, "state": self.state,
                "createdTime": self.created_time.isoformat() if self.created_time else None,
                "updatedTime": self.updated_time.isoformat() if self.updated_time else None, "error": self.error,
                "computeType": self.compute_type, "workspaceName": self.workspace.name, "imageId": None,
                "imageDigest": None, "imageDetails": None, "scoringUri": self.scoring_uri, "createdBy": None}

    def __eq__(self, other):
        return isinstance(other, Webservice) and other.name == self.name and other.workspace == self.workspace

    def __hash__(self):
        return hash(self.name)

    def __repr__(self):
        return (f"{type(self).__name__}(workspace={self.workspace!r}, name={self.name}, image_id=None, "
                f"image_digest=None, compute_type={self.compute_type}, state={self.state}, "
                f"scoring_uri={self.scoring_uri}, tags={self.tags}, properties={self.properties}, created_by=None)")


def _initialize_service(service: Any, record: Any) -> None:
    """What ACI and AKS services have in common beyond the base: URIs, models, environment."""
    service.scoring_uri = record.scoring_uri
    service.swagger_uri = record.properties.get("swagger_uri")
    service.models = _load_models(service.workspace, record)
    service.environment = _load_environment(service.workspace, record)


def _load_models(workspace: Any, record: Any) -> list[Any]:
    from azureml.core.model import Model

    found = []
    for model_id in record.models:
        try:
            found.append(Model(workspace, id=model_id))
        except WebserviceException:
            pass  # the model version is gone; the service keeps its copy
    return found


def _load_environment(workspace: Any, record: Any) -> Any:
    ref = record.properties.get("environment")
    if not ref:
        return None
    from tutor.errors import TutorError

    from azureml.core.environment import Environment

    name, _, version = ref.partition(":")
    try:
        return Environment._from_record(backend(workspace).get_environment(
            name, int(version) if version.isdigit() else "latest"))
    except TutorError:
        return None


class WebserviceDeploymentConfiguration(Subset):
    """What ``deploy_configuration()`` returns: how a service is to run."""

    _webservice_type: Any = None

    def __init__(self, type, description=None, tags=None, properties=None, primary_key=None, secondary_key=None,
                 location=None):
        self._webservice_type = type
        self.description = description
        self.tags = {str(k): str(v) for k, v in dict(tags or {}).items()}
        self.properties = properties
        self.primary_key = primary_key
        self.secondary_key = secondary_key
        self.location = location
        if properties:
            raise _refuse("Service properties (deploy_configuration(properties=...))")

    def _keys(self, auth_enabled: bool) -> tuple[str, str] | None:
        if self.primary_key is None and self.secondary_key is None:
            return None
        if not auth_enabled:
            raise WebserviceException("Error, primary_key and secondary_key need auth_enabled=True.")
        from tutor.serving.keys import new_key

        return (self.primary_key or new_key(), self.secondary_key or new_key())


def _print_requirements(cpu_cores: Any, memory_gb: Any, replicas: Any = None) -> None:
    """A deployment configuration's ``print_deploy_configuration``: what it asks for, on one line."""
    shown = []
    if cpu_cores:
        shown.append(f"CPU requirement: {cpu_cores}")
    if memory_gb:
        shown.append(f"Memory requirement: {memory_gb}GB")
    if replicas:
        shown.append(f"Replicas: {replicas}")
    if shown:
        print(", ".join(shown))
