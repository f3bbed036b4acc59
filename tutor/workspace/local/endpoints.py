"""Managed online endpoints (SDK v2) as the embedded workspace records them.

An endpoint is one of the workspace's services, of kind "MIR" (Azure's name for managed online
endpoints), named after the endpoint: one endpoint, one scoring URI. Its own settings (auth
mode, traffic, tags) and its one deployment (``blue``: model, environment, scoring script,
instances) are kept in the service record's properties under ``"endpoint"``. The embedded
azure-ai-ml (``ml_client.online_endpoints`` / ``online_deployments``) writes and reads this
shape; the steps of the SDK v2 track write it too, so what a step deployed is the endpoint the
learner's v2 code finds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: The service kind an endpoint is recorded with.
KIND = "MIR"
#: Where the endpoint's settings live in the service record's properties.
ENDPOINT = "endpoint"
#: The deployment name the course gives its one deployment per endpoint.
DEPLOYMENT = "blue"


def is_endpoint(record: Any) -> bool:
    """Whether a service record is a managed online endpoint (not a v1 web service)."""
    return ENDPOINT in (record.properties or {})


def deployment_entry(name: str, model_id: str, environment: str | None, entry_script: str | Path, *,
                     instance_type: str | None = "Standard_DS3_v2", instance_count: int = 1,
                     tags: dict[str, str] | None = None, description: str = "",
                     request_settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """The deployment as the endpoint's settings keep it."""
    entry = Path(entry_script)
    return {"name": name, "model": model_id, "environment": environment, "code": str(entry.parent),
            "scoring_script": entry.name, "instance_type": instance_type, "instance_count": int(instance_count),
            "tags": dict(tags or {}), "description": description, "request_settings": request_settings}


def endpoint_settings(deployment: dict[str, Any] | None, *, traffic: dict[str, int] | None = None,
                      tags: dict[str, str] | None = None, description: str = "") -> dict[str, Any]:
    """An endpoint's settings with key auth: its deployment (or None) and where its traffic goes."""
    values: dict[str, Any] = {"auth_mode": "key", "traffic": dict(traffic or {}), "mirror_traffic": {},
                              "tags": dict(tags or {}), "description": description,
                              "public_network_access": "enabled"}
    if deployment is not None:
        values["deployment"] = deployment
    return values


def record_as_endpoint(ws: Any, name: str, *, deployment: str = DEPLOYMENT, instance_count: int | None = None,
                       instance_type: str = "Standard_DS3_v2") -> Any:
    """Record the running service ``name`` (deployed by a step) as the endpoint ``name`` whose
    deployment ``deployment`` gets all the traffic; an endpoint already keeps its settings
    (``instance_count`` updated when given)."""
    record = ws.get_service(name)
    props = dict(record.properties)
    if is_endpoint(record):
        values = dict(props[ENDPOINT])
        if instance_count is not None and values.get("deployment"):
            values["deployment"] = {**values["deployment"], "instance_count": int(instance_count)}
    else:
        entry = deployment_entry(deployment, record.models[0], props.get("environment"), props["entry_script"],
                                 instance_type=instance_type,
                                 instance_count=instance_count or int(props.get("replicas", 1)),
                                 tags=props.get("tags"), description=str(props.get("description") or ""))
        values = endpoint_settings(entry, traffic={deployment: 100}, tags=props.get("tags"),
                                   description=str(props.get("description") or ""))
    return ws.update_service(name, kind=KIND, properties={**props, ENDPOINT: values})
