"""The scoring service's HTTP routes (a Starlette app), compatible with Azure's server.

``GET /`` answers ``Healthy``; ``POST /score`` takes ``{"data": [...]}`` and answers the
JSON that ``run()`` returned; ``GET /swagger.json`` publishes the API. Every refusal is
a JSON body ``{"message": ...}`` saying what was wrong and how to fix it, and the
service stays up whatever is posted: an unexpected error is a 500 with one log entry,
never a dropped connection. Order of checks on ``/score``: the key (401), the content
type (415), the size (413), the JSON (400), the rows (422), then ``run()`` (500 if it
raises), then its output, sent as strict JSON only (a prediction that is NaN or
infinite is a 422 naming its row). Each refusal is one log line; nothing here ever
logs a key or a request body.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from tutor.serving.inputs import MAX_REPORTED_PROBLEMS, InputPlan, ParsedRequest, RequestError
from tutor.serving.keys import KeyChecker
from tutor.serving.scoring import Scorer, ScoringError
from tutor.serving.swagger import SwaggerDocuments, SwaggerVersionError

logger = logging.getLogger("tutor.serving.app")

ROUTES_TEXT = "GET / (health), POST /score and GET /swagger.json"
# A body this many times over the limit is not read to the end: the connection is closed.
DRAIN_FACTOR = 8


@dataclass
class AppSettings:
    service_name: str
    max_body_bytes: int
    auth_enabled: bool


def _error(status: int, message: str, headers: dict[str, str] | None = None, **details: Any) -> JSONResponse:
    return JSONResponse({"message": message, **details}, status_code=status, headers=headers)


def _to_json(value: Any) -> Any:
    """JSON for what scoring scripts commonly return (numpy and pandas values)."""
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return value.tolist()
    if hasattr(value, "to_dict"):  # pandas Series / DataFrame
        try:
            return value.to_dict(orient="records")
        except TypeError:
            return value.to_dict()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _json_name(number: float) -> str:
    if math.isnan(number):
        return "NaN"
    return "Infinity" if number > 0 else "-Infinity"


def _non_finite(output: Any) -> list[tuple[tuple[Any, ...], float]]:
    """Where ``output`` (as it would be sent) holds NaN or an infinity, in order."""
    loose = json.loads(json.dumps(output, default=_to_json))  # NaN/Infinity come back as floats
    found: list[tuple[tuple[Any, ...], float]] = []
    stack: list[tuple[tuple[Any, ...], Any]] = [((), loose)]
    while stack and len(found) < MAX_REPORTED_PROBLEMS:
        path, value = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            found.append((path, value))
        elif isinstance(value, list):
            stack.extend(((*path, i), item) for i, item in reversed(list(enumerate(value))))
        elif isinstance(value, dict):
            stack.extend(((*path, key), item) for key, item in reversed(list(value.items())))
    return found


def _non_finite_error(output: Any, parsed: ParsedRequest) -> RequestError | None:
    """A 422 naming the rows whose prediction JSON cannot carry (None if there are none)."""
    try:
        found = _non_finite(output)
    except (TypeError, ValueError, RecursionError):
        return None
    if not found:
        return None
    # One value per posted row: the position in the output is the row.
    shape = getattr(output, "shape", None)
    length = len(output) if isinstance(output, (list, tuple)) else (int(shape[0]) if shape else None)
    by_row = parsed.rows is not None and length == len(parsed.rows)
    errors = []
    for path, number in found:
        if by_row and path:
            errors.append({"row": path[0], "field": None,
                           "problem": f"the prediction is {_json_name(number)}, not a finite number"})
        else:
            where = "".join(f"[{step!r}]" for step in path)
            errors.append({"row": None, "field": None,
                           "problem": f"run() returned {_json_name(number)} at output{where}, not a finite number"})
    first_path, first_number = found[0]
    if by_row and first_path:
        what = f"The model's prediction for row {first_path[0]} is {_json_name(first_number)}"
    else:
        what = f"run() returned {_json_name(first_number)} at output{''.join(f'[{s!r}]' for s in first_path)}"
    more = f" (and {len(found) - 1} more, listed in 'errors')" if len(found) > 1 else ""
    return RequestError(
        422,
        f"{what}, not a finite number, so it cannot be sent as JSON{more}. The posted values are "
        "probably far outside the data the model was trained on (a huge or tiny number): "
        "check them and send the request again.",
        errors=errors,
    )


class _TooLarge(Exception):
    def __init__(self, size: int | None) -> None:
        self.size = size


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, or :class:`_TooLarge` once it passes ``limit`` bytes.

    A moderately oversized body is read to its end before answering, so the client gets
    the 413 instead of a broken pipe; a huge one is cut off.
    """
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit * DRAIN_FACTOR:
        raise _TooLarge(int(declared))
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit * DRAIN_FACTOR:
            raise _TooLarge(size)
        if size <= limit:
            chunks.append(chunk)
    if size > limit:
        raise _TooLarge(size)
    return b"".join(chunks)


def build_app(settings: AppSettings, plan: InputPlan, scorer: Scorer, swagger: SwaggerDocuments,
              keys: KeyChecker | None) -> Starlette:
    """The ASGI app of one worker."""
    realm = f'Bearer realm="{settings.service_name}"'

    async def health(request: Request) -> Response:
        return PlainTextResponse("Healthy")

    async def swagger_json(request: Request) -> Response:
        try:
            return JSONResponse(swagger.get(request.query_params.get("version")))
        except SwaggerVersionError as exc:
            return _error(404, str(exc))

    async def score(request: Request) -> Response:
        if keys is not None:
            refused = keys.check(request.headers.get("authorization"))
            if refused is not None:
                return _log(request, _unauthorized(refused), _SHORT_REASONS[refused])
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type and content_type != "application/json" and not content_type.endswith("+json"):
            return _log(request, _error(
                415,
                f"The body was sent as {content_type!r}; this service reads JSON. "
                "Send the header 'Content-Type: application/json'.",
            ))
        try:
            body = await _read_body(request, settings.max_body_bytes)
        except _TooLarge as exc:
            size = f" ({exc.size:,} bytes)" if exc.size else ""
            return _log(request, _error(
                413,
                f"The request body is too large{size}: this service takes at most "
                f"{settings.max_body_bytes:,} bytes. Send fewer rows per request.",
                limit=settings.max_body_bytes,
            ))
        try:
            parsed = plan.parse(body)
            # Only run(request_headers=...) sees headers, never the key.
            headers = (
                {k: v for k, v in request.headers.items() if k != "authorization"}
                if plan.entry.wants_headers else {}
            )
            scored = await scorer.score(parsed, headers)
        except RequestError as exc:
            return _log(request, JSONResponse(exc.body(), status_code=exc.status))
        except ScoringError as exc:
            return _log(request, _error(
                500,
                f"run() in the scoring script raised {exc.summary}. "
                "The service log has the traceback (get_logs).",
                run_function_failed=True,
            ))
        try:
            content = json.dumps(scored.output, default=_to_json, allow_nan=False)
        except (TypeError, ValueError, RecursionError) as exc:
            non_finite = _non_finite_error(scored.output, parsed) if isinstance(exc, ValueError) else None
            if non_finite is not None:
                return _log(request, JSONResponse(non_finite.body(), status_code=non_finite.status))
            reason = "it is nested too deeply" if isinstance(exc, RecursionError) else str(exc)
            return _log(request, _error(500, f"run() returned a value that cannot be sent as JSON: {reason}."))
        return Response(
            content,
            media_type="application/json",
            headers={"x-ms-run-fn-exec-ms": f"{scored.run_ms:.3f}"},
        )

    def _unauthorized(reason: str) -> Response:
        if reason == "missing":
            message = ("This service needs a key: send the header 'Authorization: Bearer <key>' "
                       "with its primary or secondary key (get_keys() or ':keys' in the prediction prompt).")
            challenge = realm
        elif reason == "malformed":
            message = "The Authorization header must read 'Bearer <key>'."
            challenge = f'{realm}, error="invalid_request"'
        else:
            message = ("The key was refused: it is not this service's current primary or secondary key "
                       "(a regenerated key stops working at once). Fetch the current keys and try again.")
            challenge = f'{realm}, error="invalid_token"'
        return _error(401, message, headers={"WWW-Authenticate": challenge})

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404:
            message = f"There is no {request.url.path} here. This service answers {ROUTES_TEXT}."
            return _log(request, _error(404, message))
        if exc.status_code == 405:
            allow = (exc.headers or {}).get("Allow", "")
            return _log(request, _error(
                405,
                f"{request.url.path} does not take {request.method}; use {allow}.",
                headers={"Allow": allow},
            ))
        return _log(request, _error(exc.status_code, str(exc.detail)))

    async def crash(request: Request, exc: Exception) -> Response:
        logger.exception("unexpected error while answering %s %s", request.method, request.url.path)
        return _error(500, "The service hit an unexpected error; the service log has the details.")

    routes = [
        Route("/", _guarded(health), methods=["GET"]),
        Route("/score", _guarded(score), methods=["POST"]),
        Route("/swagger.json", _guarded(swagger_json), methods=["GET"]),
    ]
    return Starlette(routes=routes, exception_handlers={HTTPException: http_error, Exception: crash})


# A refused key is logged in a few words: a key-guessing client sends thousands.
_SHORT_REASONS = {"missing": "no key", "malformed": "Authorization is not 'Bearer <key>'", "invalid": "key refused"}


def _guarded(handler: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    """``handler``, answering 500 (one log entry) when it raises.

    Starlette re-raises whatever reaches its error middleware after answering, and
    uvicorn then logs the traceback a second time and closes the connection, so the
    client's next request on it fails too. Caught here, the connection stays usable.
    """

    async def guarded(request: Request) -> Response:
        try:
            return await handler(request)
        except Exception:  # noqa: BLE001 - whatever goes wrong, answer and keep serving
            logger.exception("unexpected error while answering %s %s", request.method, request.url.path)
            return _error(500, "The service hit an unexpected error; the service log has the details.")

    return guarded


def _log(request: Request, response: Response, reason: str | None = None) -> Response:
    """Log a refusal in one line: method, path, status and reason (never a header or the body)."""
    if reason is None:
        try:
            reason = str(json.loads(bytes(response.body)).get("message", ""))
        except (ValueError, AttributeError):
            reason = ""
    logger.info("%s %s -> %d: %s", request.method, request.url.path, response.status_code, reason)
    return response
