"""``ml_client.online_endpoints``: managed online endpoints on the embedded workspace.

An endpoint is recorded as one of the workspace's services (kind "MIR", Azure's name for
managed online endpoints), named after the endpoint: one endpoint, one scoring URI. Its keys
exist from its creation; its scoring server starts when a deployment is created
(``ml_client.online_deployments``), and ``get()`` then gives its ``scoring_uri``
(``http://127.0.0.1:<port>/score``) and ``openapi_uri``. The endpoint's own settings (auth
mode, traffic, tags, its deployment) are kept in the service record's properties.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

from azure.ai.ml._embedded import Subset, backend, invalid, not_found, translate

__all__ = ["OnlineEndpointOperations"]

from tutor.workspace.local.endpoints import ENDPOINT, KIND  # the record's shape has one owner

_NAME = re.compile(r"^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$")
_AUTH_MODES = ("key", "aml_token", "aad_token")
NO_DEPLOYMENT = "the endpoint has no deployment yet"


# --------------------------------------------------------------------------- shared with deployments


def check_name(name: Any, is_deployment: bool = False) -> str:
    """azure-ai-ml's rule for endpoint and deployment names, as its ValidationException."""
    what = "a deployment" if is_deployment else "an endpoint"
    if not isinstance(name, str) or not name:
        raise invalid(f"The name for {what} is missing: give it name=...")
    if not 3 <= len(name) <= 32:
        raise invalid(f"The name for {what} must be at least 3 and at most 32 characters long (inclusive of "
                      f"both limits). '{name}' has {len(name)}.")
    if not _NAME.match(name):
        raise invalid(f"The name for {what} must start with an upper- or lowercase letter and only consist of "
                      f"'-'s and alphanumeric characters. '{name}' does not.")
    return name


def http_error(message: str, response: Any = None) -> Exception:
    """azure-core's ``HttpResponseError``, as the service answers a request it refuses."""
    from azure.core.exceptions import HttpResponseError

    return HttpResponseError(message=message, response=response)


def endpoint_record(local: Any, name: Any) -> Any:
    """The service record of the endpoint ``name``; ResourceNotFoundError if there is none."""
    from tutor.errors import TutorError

    if not isinstance(name, str) or not name:
        raise invalid(f"Expected an endpoint name, got {name!r}.")
    try:
        record = local.get_service(name)
    except TutorError:
        raise not_found("Online endpoint", name) from None
    if ENDPOINT not in record.properties:
        raise not_found("Online endpoint", name)
    return record


def settings(record: Any) -> dict[str, Any]:
    """The endpoint's settings (a copy) from its service record."""
    return dict(record.properties.get(ENDPOINT) or {})


def is_live(record: Any) -> bool:
    """Whether a scoring server was started for the endpoint (a deployment exists)."""
    return bool(settings(record).get("deployment")) and record.port is not None


def read_keys(local: Any, record: Any) -> tuple[str, str]:
    """(primary, secondary): the running service's, else the endpoint's stored keys."""
    if is_live(record):
        with translate():
            return tuple(local.service_keys(record.name))  # type: ignore[return-value]
    from tutor.serving.keys import read_keys as stored

    with translate():
        return stored(Path(record.service_dir)).as_tuple()


def record_endpoint(local: Any, name: str, values: dict[str, Any], keys: tuple[str, str] | None = None) -> Any:
    """Record the endpoint without a running deployment (new, or after its deployment is deleted)."""
    from tutor.serving.keys import ServiceKeys, new_key, write_keys

    properties = {ENDPOINT: {k: v for k, v in values.items() if k != "deployment"}, "auth_enabled": True,
                  "tags": dict(values.get("tags") or {}), "description": values.get("description") or "",
                  "reason": NO_DEPLOYMENT}
    with translate():
        record = local.record_service(name, kind=KIND, state="Unhealthy", properties=properties, replace=True)
    primary, secondary = keys or (new_key(), new_key())
    Path(record.service_dir).mkdir(parents=True, exist_ok=True)
    write_keys(Path(record.service_dir), ServiceKeys(primary=primary, secondary=secondary))
    return record


def endpoint_entity(record: Any) -> Any:
    from azure.ai.ml.entities import ManagedOnlineEndpoint

    values = settings(record)
    live = is_live(record)
    return ManagedOnlineEndpoint(
        name=record.name, tags=values.get("tags"), auth_mode=values.get("auth_mode", "key"),
        description=values.get("description") or None, traffic=values.get("traffic"),
        mirror_traffic=values.get("mirror_traffic"), location="local", kind="managed",
        public_network_access=values.get("public_network_access") or "enabled", provisioning_state="Succeeded",
        scoring_uri=record.scoring_uri if live else None,
        openapi_uri=record.properties.get("swagger_uri") if live else None,
        id=f"azureml:onlineEndpoints/{record.name}")


def _strip_zeroes(traffic: Any) -> dict[str, int]:
    if traffic is None:
        return {}
    if not isinstance(traffic, dict):
        raise invalid(f"traffic must be a dict of deployment names to percentages, like {{'blue': 100}}; "
                      f"got {type(traffic).__name__}.")
    clean: dict[str, int] = {}
    for name, share in traffic.items():
        if isinstance(share, bool) or not isinstance(share, (int, str)) or not str(share).strip().isdigit():
            raise invalid(f"traffic[{name!r}] = {share!r}: traffic is a whole percentage from 0 to 100.")
        if int(share):
            clean[str(name)] = int(share)
    return clean


def check_traffic(name: str, traffic: dict[str, int], deployments: list[str], what: str = "traffic") -> None:
    """The service's checks of a traffic map: known deployments, shares adding up to 100 (or nothing)."""
    unknown = sorted(set(traffic) - set(deployments))
    if unknown:
        raise http_error(
            f"(BadRequest) The endpoint {name} has no deployment {', '.join(unknown)}: {what} can only go to its "
            f"deployments ({', '.join(deployments) or 'none yet'}).\nCode: BadRequest\nMessage: Create the "
            "deployment first (ml_client.online_deployments.begin_create_or_update), then set the traffic.")
    total = sum(traffic.values())
    if traffic and (total != 100 if what == "traffic" else total > 50):
        limit = "must add up to 100" if what == "traffic" else "may be at most 50"
        raise http_error(f"(BadRequest) The {what} of the endpoint {name} adds up to {total}%: it {limit}.\n"
                         f"Code: BadRequest\nMessage: Traffic values {limit}.")


def _taken_elsewhere(local: Any, name: str) -> str | None:
    """The workspace next to this one (another learner's, on this machine) with an endpoint ``name``.

    Endpoint names are unique in an Azure region, not only in a workspace; the workspaces of one
    course folder stand for one region here.
    """
    from tutor.workspace.local.layout import DB_FILE

    root = getattr(local, "path", None)
    if root is None:
        return None
    here = Path(root).resolve()
    for db in sorted(here.parent.glob(f"*/{DB_FILE}")):
        if db.parent == here:
            continue
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=2) as conn:
                found = conn.execute("SELECT name FROM services WHERE name = ?", (name,)).fetchone()
        except sqlite3.Error:
            continue
        if found:
            return db.parent.name
    return None


# --------------------------------------------------------------------------- the operations


class OnlineEndpointOperations(Subset):
    """Create, get, list and delete online endpoints; their keys; call them (``invoke``)."""

    def __init__(self, ml_client):
        self._client = ml_client

    def _local(self) -> Any:
        return backend(self._client)

    @staticmethod
    def _no_local(local: bool) -> None:
        if local:
            raise invalid("local=True runs an endpoint in Docker on your machine; the embedded workspace's endpoints "
                          "already run on this machine: leave local out.")

    def begin_create_or_update(self, endpoint, *, local=False):
        """Create the endpoint (with its two keys), or update the traffic, tags and description of an existing one."""
        from azure.ai.ml.entities import ManagedOnlineEndpoint

        self._no_local(local)
        if not isinstance(endpoint, ManagedOnlineEndpoint):
            raise invalid(f"begin_create_or_update() takes a ManagedOnlineEndpoint, not {type(endpoint).__name__} "
                          "(Kubernetes online endpoints are not part of the embedded workspace).")
        name = check_name(endpoint.name)
        auth_mode = str(endpoint.auth_mode or "key").lower()
        if auth_mode not in _AUTH_MODES:
            raise invalid(f"auth_mode={endpoint.auth_mode!r}: use one of {', '.join(_AUTH_MODES)}.")
        if auth_mode != "key":
            raise invalid(f"auth_mode={endpoint.auth_mode!r}: token authentication needs Azure sign-in, which the "
                          "embedded workspace does not have. Use auth_mode='key'.")
        with translate():
            from tutor.workspace import naming

            naming.check_name(naming.SERVICE, name)
        endpoint.traffic = _strip_zeroes(endpoint.traffic)
        endpoint.mirror_traffic = _strip_zeroes(endpoint.mirror_traffic)
        store = self._local()
        from tutor.errors import TutorError

        try:
            existing = store.get_service(name)
        except TutorError:
            existing = None
        if existing is not None and ENDPOINT not in existing.properties:
            raise http_error(
                f"(Conflict) The name {name} is already used by the web service {name} (deployed with "
                f"Model.deploy) in this workspace.\nCode: Conflict\nMessage: Choose another endpoint name, or delete "
                "the web service first.")
        if existing is None:
            other = _taken_elsewhere(store, name)
            if other:
                raise http_error(
                    f"(Conflict) An endpoint named {name} already exists in this region (in the workspace {other}). "
                    f"Endpoint names must be unique in an Azure region.\nCode: Conflict\nMessage: Choose another "
                    "name: put your username in it, e.g. '<username>-taxi-cost-pred'.")
        values = settings(existing) if existing is not None else {}
        deployed = [values["deployment"]["name"]] if values.get("deployment") else []
        check_traffic(name, endpoint.traffic, deployed)
        check_traffic(name, endpoint.mirror_traffic, deployed, what="mirror traffic")
        tags = {str(k): str(v) for k, v in endpoint.tags.items()}
        values.update(auth_mode=auth_mode, traffic=endpoint.traffic, mirror_traffic=endpoint.mirror_traffic,
                      tags=tags, description=endpoint.description or "",
                      public_network_access=endpoint.public_network_access)
        if existing is None:
            record = record_endpoint(store, name, values)
        else:
            properties = {**existing.properties, ENDPOINT: values, "tags": tags,
                          "description": endpoint.description or ""}
            with translate():
                record = store.update_service(name, properties=properties)
        from azure.ai.ml._embedded import done

        return done(endpoint_entity(record))

    def get(self, name, *, local=False):
        """The endpoint ``name``: its traffic, and its scoring URI once a deployment is up."""
        self._no_local(local)
        return endpoint_entity(endpoint_record(self._local(), name))

    def list(self, *, local=False):
        """The workspace's online endpoints."""
        self._no_local(local)
        with translate():
            records = self._local().list_services()
        return iter([endpoint_entity(r) for r in records if ENDPOINT in r.properties])

    def get_keys(self, name):
        """The endpoint's primary and secondary key."""
        from azure.ai.ml.entities import EndpointAuthKeys

        primary, secondary = read_keys(self._local(), endpoint_record(self._local(), name))
        return EndpointAuthKeys(primary_key=primary, secondary_key=secondary)

    def begin_regenerate_keys(self, name, *, key_type='primary'):
        """Replace the "primary" or "secondary" key; the old one is refused from the next request on."""
        store = self._local()
        record = endpoint_record(store, name)
        which = str(key_type).lower() if isinstance(key_type, str) else None
        if which not in ("primary", "secondary"):
            raise invalid(f"Key type must be 'primary' or 'secondary'. Got {key_type!r}.")
        with translate():
            if is_live(record):
                store.regen_service_key(name, which.capitalize())
            else:
                from tutor.serving.keys import regenerate

                regenerate(Path(record.service_dir), which.capitalize())
        from azure.ai.ml._embedded import done

        return done(None)

    def invoke(self, endpoint_name, *, request_file=None, deployment_name=None, input_data=None,
               params_override=None, local=False, **kwargs):
        """POST the JSON of ``request_file`` to the endpoint with its key; the service's answer (JSON text)."""
        self._no_local(local)
        if request_file is None:
            if input_data is not None:
                raise invalid("input_data (a data asset) is for batch endpoints; an online endpoint is invoked "
                              "with request_file='<a JSON file>'.")
            raise invalid("invoke() needs request_file='<a JSON file>' with the request, e.g. {\"data\": [...]}.")
        with open(request_file, "rb") as handle:
            data = json.loads(handle.read())
        store = self._local()
        record = endpoint_record(store, endpoint_name)
        values = settings(record)
        deployed = values.get("deployment") or {}
        if deployment_name:
            if not deployed:
                raise invalid("No deployment exists for this endpoint")
            if deployment_name != deployed.get("name"):
                raise invalid(f"Deployment name {deployment_name} not found for this endpoint")
        elif not deployed or not any(share > 0 for share in (values.get("traffic") or {}).values()):
            raise http_error(
                "(424) No valid deployments to route to. Please check that the endpoint has at least one deployment "
                "with positive weight values or use a deployment specific header to route.\nSet the traffic "
                "(endpoint.traffic = {'blue': 100}, then begin_create_or_update(endpoint)) or pass "
                "deployment_name=...")
        if not is_live(record) or record.state != "Healthy" or not record.scoring_uri:
            raise http_error(f"(ResourceNotReady) The deployment of the endpoint {endpoint_name} is not running "
                             f"(it is {record.state}). Read its log: ml_client.online_deployments.get_logs(...).")
        key = read_keys(store, record)[0]
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
        if deployment_name:
            headers["azureml-model-deployment"] = deployment_name
        import requests

        try:
            response = requests.post(record.scoring_uri, json=data, headers=headers, timeout=120)
        except requests.RequestException as error:
            from azure.core.exceptions import ServiceRequestError

            raise ServiceRequestError(f"Could not reach the endpoint {endpoint_name} at {record.scoring_uri}: "
                                      f"{error}") from None
        if response.status_code >= 400:
            raise http_error(f"({response.status_code}) {_reason(response)}\nCode: {response.status_code}\n"
                             f"Message: {response.text}", _as_azure_response(response))
        return str(response.text)

    def begin_delete(self, name=None, *, local=False):
        """Stop the endpoint's deployment and delete the endpoint, with its keys."""
        self._no_local(local)
        store = self._local()
        endpoint_record(store, name)
        with translate():
            store.delete_service(name)
        from azure.ai.ml._embedded import done

        return done(None)


def _reason(response: Any) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text or response.reason or ""
    if isinstance(body, dict):
        for key in ("message", "error", "detail"):
            if body.get(key):
                return str(body[key])
    return response.text


def _as_azure_response(response: Any) -> Any:
    """The requests response as azure-core's HttpResponse (for ``HttpResponseError.status_code``)."""
    try:
        from azure.core.pipeline.transport import HttpRequest, RequestsTransportResponse

        return RequestsTransportResponse(HttpRequest("POST", response.url), response)
    except Exception:  # noqa: BLE001 - an older azure-core: the message still says it all
        return None
