"""The local scoring service: what ``Model.deploy`` does on the embedded workspace.

A real HTTP server on 127.0.0.1 (uvicorn + Starlette) running the course's unchanged
``score.py`` with Azure's routes (``GET /``, ``POST /score``, ``GET /swagger.json``),
Bearer-key authentication with a primary and a secondary key, and a 4xx answer with a
reason for every bad request. Services run as detached processes recorded in their
folder, so they outlive the tutor session that deployed them.

Importing this package is cheap (no pandas, no web framework): the heavy imports happen
in the service's own processes.
"""

from tutor.serving.lifecycle import (
    delete,
    deploy,
    get_keys,
    get_logs,
    get_state,
    regen_key,
    scoring_uri,
    stop_all,
    swagger_uri,
    wait_for_deployment,
)
from tutor.serving.record import DELETED, FAILED, HEALTHY, TRANSITIONING, ServiceConfig, ServiceInfo

__all__ = [
    "DELETED",
    "FAILED",
    "HEALTHY",
    "TRANSITIONING",
    "ServiceConfig",
    "ServiceInfo",
    "delete",
    "deploy",
    "get_keys",
    "get_logs",
    "get_state",
    "regen_key",
    "scoring_uri",
    "stop_all",
    "swagger_uri",
    "wait_for_deployment",
]
