"""The service's swagger (OpenAPI) document, built from the entry script's decorators.

It has the shape Azure's inference server publishes, so a client generated from one
works with the other: three paths (``/`` health, ``/score``, ``/swagger.json``),
``ServiceInput``/``ServiceOutput`` taken from inference-schema, and an ``ErrorResponse``.
``GET /swagger.json`` answers version 2 by default, like Azure (``?version=3`` or ``3.1``
for OpenAPI 3). Where Azure's document is vaguer than the server, this one says exactly
what the server does (the routes are the compatibility target, not the document):

- the Bearer security scheme is declared only when the service checks keys, and only
  ``/score`` asks for it, so the document never asks for a key nobody will check;
- ``GET /`` answers the text ``Healthy`` (``text/plain``), and ``GET /swagger.json``
  a JSON object;
- ``ServiceInput`` is as strict as the server's check of the body (``data`` required,
  at least one row, no unknown fields in a row, integers within their format's range:
  :meth:`~tutor.serving.inputs.InputPlan.published_schema`).

Every document is strict JSON: a NaN or infinity in a decorator's sample becomes null.
"""

from __future__ import annotations

import copy
import math
from typing import Any

DEFAULT_VERSION = "2"
# Each requested version (with its aliases) and the inference-schema version it needs.
VERSION_ALIASES = {"2": "2.0", "2.0": "2.0", "3": "3.0", "3.0": "3.0", "3.1": "3.1"}

_UNDECORATED_SCHEMA = {"type": "object", "example": {}}

_HEALTH_DESCRIPTION = "Simple health check endpoint to ensure the service is up at any given point."
_HEALTHY_DESCRIPTION = "If service is up and running, this response will be returned with the content 'Healthy'"
_SCORE_DESCRIPTION = "Run web service's model and get the prediction output"
_INPUT_DESCRIPTION = "The input payload for executing the real-time machine learning service."
_OK_DESCRIPTION = "The service processed the input correctly and provided a result prediction, if applicable."
_ERROR_DESCRIPTION = "The service failed to execute due to an error."
_BEARER = {
    "type": "apiKey",
    "name": "Authorization",
    "in": "header",
    "description": "For example: Bearer abc123",
}
_ERROR_SCHEMA = {"type": "object", "required": ["message"], "properties": {"message": {"type": "string"}}}
_TEXT = "text/plain"
_JSON = "application/json"


class SwaggerVersionError(ValueError):
    """A swagger version the service cannot produce (unknown, or not for this script)."""


def _swagger2(name: str, input_schema: dict[str, Any], output_schema: dict[str, Any], auth: bool,
              versions: list[int], body_required: bool) -> dict[str, Any]:
    error_ref = {"$ref": "#/definitions/ErrorResponse"}
    score: dict[str, Any] = {
        "operationId": "RunMLService",
        "description": _SCORE_DESCRIPTION,
        "parameters": [
            {
                "name": "serviceInputPayload",
                "in": "body",
                "description": _INPUT_DESCRIPTION,
                "required": body_required,
                "schema": {"$ref": "#/definitions/ServiceInput"},
            }
        ],
        "responses": {
            "200": {"description": _OK_DESCRIPTION, "schema": {"$ref": "#/definitions/ServiceOutput"}},
            "default": {"description": _ERROR_DESCRIPTION, "schema": error_ref},
        },
    }
    doc: dict[str, Any] = {
        "swagger": "2.0",
        "info": _info(name),
        "schemes": ["http"],
        "consumes": ["application/json"],
        "produces": ["application/json"],
    }
    if auth:
        score["security"] = [{"Bearer": []}]
        doc["securityDefinitions"] = {"Bearer": dict(_BEARER)}
    doc["paths"] = {
        "/": {
            "get": {
                "operationId": "ServiceHealthCheck",
                "description": _HEALTH_DESCRIPTION,
                "produces": [_TEXT, _JSON],  # the text "Healthy"; an error is JSON
                "responses": {
                    "200": {
                        "description": _HEALTHY_DESCRIPTION,
                        "schema": {"type": "string"},
                        "examples": {_TEXT: "Healthy"},
                    },
                    "default": {"description": _ERROR_DESCRIPTION, "schema": error_ref},
                },
            }
        },
        "/score": {"post": score},
        "/swagger.json": {
            "get": {
                "operationId": "GetSwaggerSpec",
                "description": "Get the Swagger specification.",
                "parameters": [
                    {"name": "version", "in": "query", "required": False, "type": "integer", "enum": versions}
                ],
                "responses": {
                    "200": {"description": "The Swagger specification.", "schema": {"type": "object"}},
                    "default": {"description": _ERROR_DESCRIPTION, "schema": error_ref},
                },
            }
        },
    }
    doc["definitions"] = {
        "ServiceInput": copy.deepcopy(input_schema),
        "ServiceOutput": copy.deepcopy(output_schema),
        "ErrorResponse": copy.deepcopy(_ERROR_SCHEMA),
    }
    return doc


def _json_content(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _openapi3(
    name: str, input_schema: dict[str, Any], output_schema: dict[str, Any], auth: bool, version: str,
    versions: list[int], body_required: bool,
) -> dict[str, Any]:
    error_ref = {"$ref": "#/components/schemas/ErrorResponse"}
    score: dict[str, Any] = {
        "operationId": "RunMLService",
        "description": _SCORE_DESCRIPTION,
        "requestBody": {
            "description": _INPUT_DESCRIPTION,
            "required": body_required,
            "content": _json_content({"$ref": "#/components/schemas/ServiceInput"}),
        },
        "responses": {
            "200": {
                "description": _OK_DESCRIPTION,
                "content": _json_content({"$ref": "#/components/schemas/ServiceOutput"}),
            },
            "default": {"description": _ERROR_DESCRIPTION, "content": _json_content(error_ref)},
        },
    }
    doc: dict[str, Any] = {"openapi": "3.1.0" if version == "3.1" else "3.0.3", "info": _info(name)}
    components: dict[str, Any] = {
        "schemas": {
            "ServiceInput": copy.deepcopy(input_schema),
            "ServiceOutput": copy.deepcopy(output_schema),
            "ErrorResponse": copy.deepcopy(_ERROR_SCHEMA),
        }
    }
    if auth:
        doc["security"] = [{"Bearer": []}]
        score["security"] = [{"Bearer": []}]
        components["securitySchemes"] = {"Bearer": dict(_BEARER)}
    health: dict[str, Any] = {
        "operationId": "ServiceHealthCheck",
        "description": _HEALTH_DESCRIPTION,
        "responses": {
            "200": {
                "description": _HEALTHY_DESCRIPTION,
                "content": {_TEXT: {"schema": {"type": "string", "example": "Healthy"}}},
            },
            "default": {"description": _ERROR_DESCRIPTION, "content": _json_content(error_ref)},
        },
    }
    spec: dict[str, Any] = {
        "operationId": "GetSwaggerSpec",
        "description": "Get the Swagger specification.",
        "parameters": [
            {
                "name": "version",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "enum": versions},
            }
        ],
        "responses": {
            "200": {"description": "The Swagger specification.", "content": _json_content({"type": "object"})},
            "default": {"description": _ERROR_DESCRIPTION, "content": _json_content(error_ref)},
        },
    }
    if auth:
        # The document-wide requirement (Azure's shape) does not apply to the open routes.
        health["security"] = []
        spec["security"] = []
    doc["paths"] = {"/": {"get": health}, "/score": {"post": score}, "/swagger.json": {"get": spec}}
    doc["components"] = components
    return doc


def _info(name: str) -> dict[str, str]:
    return {
        "title": name,
        "description": f"API specification for the Azure Machine Learning service {name}",
        "version": "1.0",
    }


def _strict(value: Any) -> Any:
    """``value`` with every NaN or infinity replaced by None, so it is strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _strict(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_strict(item) for item in value]
    return value


class SwaggerDocuments:
    """Every swagger version a service offers, built once when the worker starts."""

    def __init__(
        self,
        service_name: str,
        *,
        decorated: bool,
        input_schema: dict[str, Any],
        output_schema: dict[str, Any],
        supported_versions: list[str],
        auth_enabled: bool,
    ) -> None:
        # A decorated run() needs a JSON body; an undecorated one gets whatever was sent.
        if not decorated:
            # Azure publishes an empty object schema for an undecorated run().
            input_schema = output_schema = _UNDECORATED_SCHEMA
        self.supported = sorted(set(supported_versions) & set(VERSION_ALIASES.values()))
        # The whole-number versions ?version= takes (3.1 is offered too, by its name).
        versions = sorted({int(float(v)) for v in self.supported})
        input_schema, output_schema = _strict(input_schema), _strict(output_schema)
        self._documents: dict[str, dict[str, Any]] = {}
        for version in self.supported:
            if version == "2.0":
                doc = _swagger2(service_name, input_schema, output_schema, auth_enabled, versions, decorated)
            else:
                doc = _openapi3(service_name, input_schema, output_schema, auth_enabled, version, versions,
                                decorated)
            self._documents[version] = doc

    def get(self, requested: str | None) -> dict[str, Any]:
        """The document for ``?version=`` (2 when not given)."""
        wanted = (requested or DEFAULT_VERSION).strip()
        version = VERSION_ALIASES.get(wanted)
        offered = ", ".join(v.removesuffix(".0") for v in self.supported)
        if version is None:
            raise SwaggerVersionError(f"Swagger version {wanted!r} is not valid. Supported versions: {offered}.")
        if version not in self._documents:
            raise SwaggerVersionError(
                f"Swagger version {wanted!r} cannot describe this scoring script's schema. "
                f"Supported versions: {offered}."
            )
        return self._documents[version]
