"""Azure ML's REST API in memory, behind azure-core's own HTTP transport.

``RestAzureML`` is a ``requests.Session`` whose ``request()`` answers as the Azure Resource
Manager and Azure ML endpoints do: resources by their ARM path (workspaces, computes,
environments and models with their versions, online endpoints), ``PUT`` / ``GET`` /
``DELETE``, ``value`` lists, the ``listKeys`` and ``regenerateKeys`` actions, and errors as
ARM spells them (``{"error": {"code", "message"}}``). Long-running operations answer ``201`` /
``202`` with an ``Azure-AsyncOperation`` URL that reports ``InProgress`` for a few polls, then
``Succeeded``; a missing or refused bearer token gets ``401``; ``throttle()`` makes the next
matching request answer ``429`` with ``Retry-After``.

It is handed to the real azure-ai-ml through ``RequestsTransport(session=...)``: the SDK's
clients, serializers, retry and polling policies all run as they do against Azure, and
only the bytes on the wire come from here. ``requests`` records each request the SDK sent.
"""

from __future__ import annotations

import copy
import io
import json
import re
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import requests

ARM = "https://management.azure.com"
_WORKSPACE = re.compile(r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/"
                        r"Microsoft\.MachineLearningServices/workspaces/(?P<ws>[^/]+)(?P<rest>/.*)?$", re.I)
VERSIONED = ("environments", "models", "data", "codes")
#: The region's VM sizes, as ``GET .../locations/{location}/vmSizes`` lists them (a few of Azure's).
VM_SIZES = (
    {"name": "Standard_D2_v2", "family": "standardDv2Family", "vCPUs": 2, "memoryGB": 7.0, "gpus": 0},
    {"name": "Standard_DS3_v2", "family": "standardDSv2Family", "vCPUs": 4, "memoryGB": 14.0, "gpus": 0},
    {"name": "Standard_D13", "family": "standardDFamily", "vCPUs": 8, "memoryGB": 56.0, "gpus": 0},
    {"name": "Standard_F4s_v2", "family": "standardFSv2Family", "vCPUs": 4, "memoryGB": 8.0, "gpus": 0},
)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


@dataclass
class Sent:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: Any


@dataclass
class RestAzureML(requests.Session):
    subscription: str = "00000000-0000-0000-0000-000000000000"
    resource_group: str = "taxi-course-rg"
    workspace: str = "taxi-course-ws"
    location: str = "eastus"
    token: str = "valid-token"
    #: How long a long-running operation works before it succeeds, in seconds.
    work_seconds: float = 0.3
    #: The Retry-After of a long-running operation's answers: whole seconds, as the REST API
    #: defines it (Azure's are often 10 or more; one keeps the tests short).
    poll_after: str = "1"
    requests: list[Sent] = field(default_factory=list)
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    _operations: dict[str, dict[str, Any]] = field(default_factory=dict)
    _throttles: list[tuple[str, str, int]] = field(default_factory=list)
    _query: dict[str, str] = field(default_factory=dict)
    keys: dict[str, dict[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        requests.Session.__init__(self)
        ws_path = self.workspace_path
        self.resources[ws_path.lower()] = {
            "id": ws_path, "name": self.workspace, "type": "Microsoft.MachineLearningServices/workspaces",
            "location": self.location, "kind": "Default",
            "properties": {"friendlyName": self.workspace, "provisioningState": "Succeeded",
                           "discoveryUrl": f"https://{self.location}.api.azureml.ms/discovery",
                           "mlFlowTrackingUri": f"azureml://{self.location}.api.azureml.ms/mlflow/v1.0{ws_path}",
                           "workspaceId": str(uuid.uuid5(uuid.NAMESPACE_URL, ws_path))}}

    # -- what a test sets up ---------------------------------------------------------------

    @property
    def workspace_path(self) -> str:
        return (f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}/providers/"
                f"Microsoft.MachineLearningServices/workspaces/{self.workspace}")

    def throttle(self, method: str, path_part: str, retry_after: int = 1) -> None:
        """The next ``method`` request whose path contains ``path_part`` answers 429 (Retry-After)."""
        self._throttles.append((method.upper(), path_part, retry_after))

    def store(self, path: str, body: dict[str, Any]) -> None:
        """Store a resource as Azure would hold it (a test's setup, not a request)."""
        self.resources[(self.workspace_path + path).lower()] = copy.deepcopy(body)

    def sent(self, method: str, part: str) -> list[Sent]:
        return [r for r in self.requests if r.method == method and part in r.path]

    # -- the wire --------------------------------------------------------------------------

    def request(self, method: str, url: str, params: Any = None, data: Any = None, headers: Any = None,
                **kwargs: Any) -> requests.Response:  # type: ignore[override]
        parts = urlsplit(url)
        headers = {str(k).lower(): str(v) for k, v in dict(headers or {}).items()}
        body = data.decode() if isinstance(data, bytes) else data
        parsed = json.loads(body) if isinstance(body, str) and body.strip().startswith(("{", "[")) else body
        self.requests.append(Sent(method.upper(), parts.path, parts.query, headers, parsed))
        if headers.get("authorization") != f"Bearer {self.token}":
            return self._answer(url, 401, {"error": {"code": "InvalidAuthenticationToken",
                                                     "message": "The access token is invalid or has expired."}},
                                {"WWW-Authenticate": 'Bearer authorization_uri="https://login.microsoftonline.com/'
                                                    'common", error="invalid_token"'})
        for index, (verb, part, wait) in enumerate(self._throttles):
            if verb == method.upper() and part in parts.path:
                del self._throttles[index]
                return self._answer(url, 429, {"error": {"code": "TooManyRequests",
                                                         "message": "Rate limit exceeded. Try again later."}},
                                    {"Retry-After": str(wait)})
        if "/operations/" in parts.path:
            return self._operation(url, parts.path)
        if parts.path.lower().endswith(f"/locations/{self.location}/vmsizes"):
            return self._answer(url, 200, {"value": [dict(size) for size in VM_SIZES]})
        match = _WORKSPACE.match(parts.path)
        if not match or match["sub"] != self.subscription or match["rg"].lower() != self.resource_group.lower():
            return self._error(url, 404, "ResourceGroupNotFound",
                               f"Resource group '{self.resource_group}' could not be found.")
        if match["ws"].lower() != self.workspace.lower():
            return self._error(url, 404, "ResourceNotFound", f"The Resource 'Microsoft.MachineLearningServices/"
                               f"workspaces/{match['ws']}' under resource group was not found.")
        rest = [p for p in (match["rest"] or "").split("/") if p]
        from urllib.parse import parse_qs

        self._query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        return self._route(method.upper(), url, rest, parsed)

    def _route(self, method: str, url: str, rest: list[str], body: Any) -> requests.Response:
        base = self.workspace_path
        if not rest:
            return self._get(url, base) if method == "GET" else self._error(url, 405, "MethodNotAllowed", method)
        kind = rest[0]
        path = base + "/" + "/".join(rest)
        if method == "POST" and kind == "onlineEndpoints" and len(rest) == 3:
            return self._endpoint_action(url, base + "/" + "/".join(rest[:2]), rest[2], body)
        if method == "POST" and kind == "computes" and len(rest) == 3 and rest[2] == "listNodes":
            return self._answer(url, 200, {"nodes": [], "nextLink": None})
        if len(rest) % 2 == 1:  # a collection
            return self._list(url, path) if method == "GET" else self._error(url, 405, "MethodNotAllowed", method)
        if method == "GET":
            return self._get(url, path)
        if method == "PUT":
            return self._put(url, kind, rest, path, body)
        if method == "DELETE":
            return self._delete(url, kind, path)
        return self._error(url, 405, "MethodNotAllowed", method)

    # -- resources -------------------------------------------------------------------------

    def _get(self, url: str, path: str) -> requests.Response:
        found = self.resources.get(path.lower())
        if found is None:
            return self._not_found(url, path)
        for key, operation in list(self._operations.items()):  # Azure works on without being asked
            if operation["path"].lower() == path.lower() and not operation["finished"]:
                self._operation(url, f"/operations/{key}")
        found = self.resources.get(path.lower())
        if found is None:
            return self._not_found(url, path)
        return self._answer(url, 200, self._public(found))

    def _list(self, url: str, path: str) -> requests.Response:
        prefix = path.lower() + "/"
        items = [v for k, v in sorted(self.resources.items(), key=lambda kv: kv[1].get("_order", 0))
                 if k.startswith(prefix) and "/" not in k[len(prefix):]]
        if "desc" in self._query.get("$orderBy", "").lower():  # "createdtime desc": the newest first
            items.reverse()
        if self._query.get("$top", "").isdigit():
            items = items[:int(self._query["$top"])]
        return self._answer(url, 200, {"value": [self._public(v) for v in items]})

    def _put(self, url: str, kind: str, rest: list[str], path: str, body: Any) -> requests.Response:
        if not isinstance(body, dict):
            return self._error(url, 400, "BadRequest", "The request body must be a JSON object.")
        existed = path.lower() in self.resources
        resource = copy.deepcopy(body)
        resource.update(id=path, name=rest[-1], type=f"Microsoft.MachineLearningServices/workspaces/{kind}")
        resource["_order"] = len(self.resources)
        created = self.resources.get(path.lower(), {}).get("systemData", {}).get("createdAt") or _now()
        resource["systemData"] = {"createdAt": created, "createdBy": "learner", "createdByType": "User",
                                  "lastModifiedAt": _now(), "lastModifiedBy": "learner", "lastModifiedByType": "User"}
        props = resource.setdefault("properties", {})
        if kind in VERSIONED and len(rest) == 4 and existed:
            # A version is immutable: the same definition again is accepted as it is, another one refused.
            stored = {k: v for k, v in self.resources[path.lower()].get("properties", {}).items()
                      if k != "provisioningState"}
            if stored != {k: v for k, v in props.items() if k != "provisioningState"}:
                return self._error(url, 409, "UserError", f"Conflict: the {kind[:-1]} {rest[1]} version {rest[3]} "
                                   "already exists with a different definition; versions are immutable.")
            return self._answer(url, 200, self._public(self.resources[path.lower()]))
        if kind in VERSIONED and len(rest) == 4:  # a version: its container follows its latest version
            container = "/".join(path.split("/")[:-2])
            latest = self.resources.get(container.lower(), {}).get("properties", {}).get("latestVersion", "0")
            self.resources[container.lower()] = {
                "id": container, "name": rest[1], "type": f"Microsoft.MachineLearningServices/workspaces/{kind}",
                "_order": self.resources.get(container.lower(), {}).get("_order", len(self.resources)),
                "properties": {"latestVersion": str(max(int(latest), int(rest[3])) if rest[3].isdigit() else rest[3]),
                               "nextVersion": str(int(rest[3]) + 1) if rest[3].isdigit() else None}}
            props.setdefault("provisioningState", "Succeeded")
            self.resources[path.lower()] = resource
            return self._answer(url, 200 if existed else 201, self._public(resource))
        if kind in ("computes", "onlineEndpoints", "deployments"):
            props["provisioningState"] = "Updating" if existed else "Creating"
            if kind == "computes":
                props.setdefault("properties", {}).setdefault("allocationState", "Steady")
                props["properties"].setdefault("currentNodeCount", 0)
                props.setdefault("createdOn", _now())
            if kind == "onlineEndpoints":
                props["scoringUri"] = f"https://{rest[1]}.{self.location}.inference.ml.azure.com/score"
                props["swaggerUri"] = f"https://{rest[1]}.{self.location}.inference.ml.azure.com/swagger.json"
                self.keys.setdefault(path.lower(), {"primaryKey": secrets.token_urlsafe(24),
                                                    "secondaryKey": secrets.token_urlsafe(24)})
            self.resources[path.lower()] = resource
            return self._long_running(url, path, 201 if not existed else 200, resource, "provisioningState")
        self.resources[path.lower()] = resource
        return self._answer(url, 200 if existed else 201, self._public(resource))

    def _delete(self, url: str, kind: str, path: str) -> requests.Response:
        if path.lower() not in self.resources:
            return self._answer(url, 204, None)  # ARM: deleting what is not there succeeds
        if kind in ("computes", "onlineEndpoints"):
            self.resources[path.lower()]["properties"]["provisioningState"] = "Deleting"
            return self._long_running(url, path, 202, None, "delete")
        del self.resources[path.lower()]
        return self._answer(url, 200, None)

    def _endpoint_action(self, url: str, path: str, action: str, body: Any) -> requests.Response:
        if path.lower() not in self.resources:
            return self._not_found(url, path)
        keys = self.keys.setdefault(path.lower(), {"primaryKey": secrets.token_urlsafe(24),
                                                   "secondaryKey": secrets.token_urlsafe(24)})
        if action == "listKeys":
            return self._answer(url, 200, dict(keys))
        if action == "regenerateKeys":
            which = str((body or {}).get("keyType", "")).lower()
            if which not in ("primary", "secondary"):
                return self._error(url, 400, "BadRequest", f"keyType must be Primary or Secondary, not {which!r}.")
            keys[f"{which}Key"] = secrets.token_urlsafe(24)
            return self._long_running(url, path, 202, None, "action")
        return self._error(url, 404, "NotFound", f"There is no action {action}.")

    # -- long-running operations --------------------------------------------------------------

    def _long_running(self, url: str, path: str, status: int, body: Any, what: str) -> requests.Response:
        operation = uuid.uuid4().hex
        self._operations[operation] = {"path": path, "done_at": time.monotonic() + self.work_seconds, "what": what,
                                       "finished": False}
        location = f"{ARM}/subscriptions/{self.subscription}/providers/Microsoft.MachineLearningServices/" \
                   f"locations/{self.location}/operations/{operation}?api-version=2023-10-01"
        headers = {"Azure-AsyncOperation": location, "Retry-After": self.poll_after}
        if status == 202:
            headers["Location"] = location
        return self._answer(url, status, self._public(body) if body else None, headers)

    def _operation(self, url: str, path: str) -> requests.Response:
        operation = self._operations.get(path.rsplit("/", 1)[-1])
        if operation is None:
            return self._error(url, 404, "NotFound", "No such operation.")
        if time.monotonic() < operation["done_at"]:
            return self._answer(url, 200, {"status": "InProgress"}, {"Retry-After": self.poll_after})
        if not operation["finished"]:
            operation["finished"] = True
            target = operation["path"].lower()
            if operation["what"] == "delete":
                self.resources.pop(target, None)
                for key in [k for k in self.resources if k.startswith(target + "/")]:
                    del self.resources[key]
            elif operation["what"] == "provisioningState" and target in self.resources:
                self.resources[target]["properties"]["provisioningState"] = "Succeeded"
        return self._answer(url, 200, {"status": "Succeeded", "endTime": _now()})

    # -- answers ---------------------------------------------------------------------------

    @staticmethod
    def _public(resource: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in resource.items() if not k.startswith("_")}

    def _not_found(self, url: str, path: str) -> requests.Response:
        kind = path.rstrip("/").split("/")[-2] if "/" in path else "resource"
        return self._error(url, 404, "UserError" if kind in VERSIONED else "ResourceNotFound",
                           f"The {kind} resource '{path.rsplit('/', 1)[-1]}' was not found.")

    def _error(self, url: str, status: int, code: str, message: str) -> requests.Response:
        return self._answer(url, status, {"error": {"code": code, "message": message}})

    @staticmethod
    def _answer(url: str, status: int, body: Any, headers: dict[str, str] | None = None) -> requests.Response:
        response = requests.Response()
        response.status_code = status
        response.url = url
        response.reason = {200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 400: "Bad Request",
                           401: "Unauthorized", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict",
                           429: "Too Many Requests"}.get(status, "")
        content = b"" if body is None else json.dumps(body).encode()
        response._content = content
        response.raw = io.BytesIO(content)
        response.headers.update({"Content-Type": "application/json; charset=utf-8",
                                 "x-ms-request-id": str(uuid.uuid4()), **(headers or {})})
        return response
