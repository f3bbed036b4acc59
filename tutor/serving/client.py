"""Calling a scoring service the way the course's notebook does, and explaining the answer.

``requests.post(scoring_uri, json_text, headers={"Content-Type": ..., "Authorization":
"Bearer <key>"})`` is what learners write; this module does the same, times it, and
turns every status a learner can meet into a sentence saying what happened and what to
do. It also reads the fields a service takes from its swagger document, so a client can
ask for them one by one. No terminal code here: :mod:`tutor.predict` is the screen.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

DEFAULT_TIMEOUT = 30.0


@dataclass
class CallResult:
    """One call to ``/score``: what was sent, what came back, how long it took."""

    ok: bool
    status: int | None
    latency_ms: float
    rows: int
    predictions: Any = None
    body: Any = None
    message: str = ""
    run_ms: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "status": self.status,
            "latency_ms": round(self.latency_ms, 3),
            "run_ms": self.run_ms,
            "rows": self.rows,
            "predictions": self.predictions,
            "message": self.message,
        }


def payload_from(data: Any) -> dict[str, Any] | Any:
    """The JSON document to post: a list of rows becomes ``{"data": rows}``."""
    if isinstance(data, str):
        data = json.loads(data)
    if isinstance(data, list):
        return {"data": data}
    return data


def _rows_in(payload: Any) -> int:
    if isinstance(payload, dict) and isinstance(payload.get("data"), list):
        return len(payload["data"])
    return 0


def explain(status: int | None, body: Any, scoring_uri: str) -> str:
    """What an answer means, in plain words, with the next thing to try."""
    server = body.get("message", "") if isinstance(body, dict) else ""
    if status is None:
        return server  # set by the caller for network errors
    if 200 <= status < 300:
        return "OK"
    if status == 401:
        return ("401 Unauthorized: the service did not accept the key. Either no key was sent or it is not one "
                "of the service's two current keys (a key stops working the moment it is regenerated). "
                f"Fetch the current keys and send 'Authorization: Bearer <key>'. Service said: {server}")
    if status == 422:
        return ("422: the JSON was read, but a row does not match what the model takes (a missing, extra or "
                f"wrongly typed field). {server}")
    if status == 400:
        return f"400: the service could not read the request. {server}"
    if status == 413:
        return f"413: the request is too large for the service. Send fewer rows per request. {server}"
    if status == 415:
        return f"415: the body must be sent as JSON. {server}"
    if status == 404:
        return f"404: there is nothing at {scoring_uri}; check the scoring URI. {server}"
    if status == 405:
        return f"405: wrong HTTP method; the scoring URI takes POST. {server}"
    if status >= 500:
        return (f"{status}: the scoring script failed while handling the request; its traceback is in the service "
                f"log. {server}")
    return f"{status}: {server or 'unexpected answer'}"


def call_score(
    scoring_uri: str,
    key: str | None,
    data_json: str | list[Any] | dict[str, Any],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    session: requests.Session | None = None,
) -> CallResult:
    """POST ``data_json`` to the service and report the outcome (never raises for HTTP errors).

    ``data_json`` is the JSON text (or the parsed value) of ``{"data": [...]}``; a bare
    list of rows is wrapped in ``{"data": ...}``. Invalid JSON text raises ``ValueError``
    before anything is sent.
    """
    payload = payload_from(data_json)
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    poster = session or requests
    started = time.perf_counter()
    try:
        response = poster.post(scoring_uri, data=json.dumps(payload), headers=headers, timeout=timeout)
    except requests.ConnectionError:
        elapsed = (time.perf_counter() - started) * 1000
        return CallResult(
            ok=False, status=None, latency_ms=elapsed, rows=_rows_in(payload),
            message=(f"Nothing answered at {scoring_uri} (connection refused): the service is not running. "
                     "It may have been deleted or have crashed; check its state and deploy it again if it is Failed."),
        )
    except requests.Timeout:
        elapsed = (time.perf_counter() - started) * 1000
        return CallResult(
            ok=False, status=None, latency_ms=elapsed, rows=_rows_in(payload),
            message=(f"The service did not answer within {timeout:.0f} s. It may still be starting, or run() "
                     "is very slow; check its state and log."),
        )
    elapsed = (time.perf_counter() - started) * 1000
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    run_ms_text = response.headers.get("x-ms-run-fn-exec-ms")
    run_ms = float(run_ms_text) if run_ms_text else None
    ok = 200 <= response.status_code < 300
    return CallResult(
        ok=ok,
        status=response.status_code,
        latency_ms=elapsed,
        rows=_rows_in(payload),
        predictions=body if ok else None,
        body=body,
        message=explain(response.status_code, body, scoring_uri),
        run_ms=run_ms,
    )


def swagger_url(scoring_uri: str) -> str:
    """The swagger address next to a scoring URI (``.../score`` -> ``.../swagger.json``)."""
    parts = urlsplit(scoring_uri)
    path = parts.path.rsplit("/", 1)[0] + "/swagger.json"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def fetch_swagger(scoring_uri: str, timeout: float = 10.0) -> dict[str, Any] | None:
    """The service's swagger document, or None when it cannot be had."""
    try:
        response = requests.get(swagger_url(scoring_uri), timeout=timeout)
    except requests.RequestException:
        return None
    if response.status_code != 200:
        return None
    try:
        doc = response.json()
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


@dataclass
class InputField:
    """One field of a row the service takes, as its swagger describes it."""

    name: str
    type: str
    example: Any = None
    format: str | None = None


@dataclass
class InputSpec:
    """What ``/score`` takes: the name of the rows parameter and the fields of one row."""

    parameter: str
    fields: list[InputField] = field(default_factory=list)
    example: dict[str, Any] = field(default_factory=dict)


def input_spec(swagger: dict[str, Any] | None) -> InputSpec | None:
    """The row fields from a swagger document (2 or 3), or None when run() takes no rows."""
    if not swagger:
        return None
    definitions = swagger.get("definitions") or (swagger.get("components") or {}).get("schemas") or {}
    service_input = definitions.get("ServiceInput") or {}
    example = service_input.get("example") or {}
    for name, schema in (service_input.get("properties") or {}).items():
        items = schema.get("items") if isinstance(schema, dict) else None
        if schema.get("type") != "array" or not isinstance(items, dict) or not items.get("properties"):
            continue
        sample_rows = example.get(name) if isinstance(example, dict) else None
        sample = sample_rows[0] if isinstance(sample_rows, list) and sample_rows else {}
        fields = [
            InputField(field_name, str(spec.get("type", "string")), sample.get(field_name), spec.get("format"))
            for field_name, spec in items["properties"].items()
        ]
        return InputSpec(name, fields, example if isinstance(example, dict) else {})
    return None


def parse_field(text: str, spec: InputField) -> tuple[Any, str | None]:
    """Turn typed text into the field's JSON value; ``(value, None)`` or ``(None, why not)``."""
    text = text.strip()
    if spec.type == "integer":
        try:
            return int(text), None
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                number = None
            if number is not None and number.is_integer():
                return int(number), None
            return None, f"{spec.name} takes a whole number, like {spec.example if spec.example is not None else 1}"
    if spec.type == "number":
        try:
            value = float(text)
        except ValueError:
            return None, f"{spec.name} takes a number, like {spec.example if spec.example is not None else 4.2}"
        if value != value or value in (float("inf"), float("-inf")):
            return None, f"{spec.name} takes a finite number"
        return value, None
    if spec.type == "boolean":
        lowered = text.lower()
        if lowered in ("true", "yes", "y", "1"):
            return True, None
        if lowered in ("false", "no", "n", "0"):
            return False, None
        return None, f"{spec.name} takes true or false"
    return text, None
