"""Turning a request body into ``run()``'s arguments, or into a 4xx answer with a reason.

Azure's server hands the posted JSON to inference-schema, which raises deep inside
``run()`` when a row is wrong, and the client gets a bare 500. Here the body is checked
first against the input schema the decorators published (the same schema the swagger
shows), so a learner gets a 400 or 422 naming the row and the field.

What is accepted is what the decorator would accept without losing information:
numbers for number fields, whole numbers for integer fields (``4`` or ``4.0``), and
numeric strings such as ``"1"`` (the decorator casts them; the original course sent
its sample trip that way). A fractional value for an integer field is refused (the
decorator would silently truncate it), and so are null, booleans for numbers,
missing fields and fields the schema does not name (pandas would refuse the frame).

For the usual case, a pandas DataFrame in "records" orientation with plain numeric,
boolean or text columns, the checked rows are turned straight into a DataFrame with
the decorator's own sample dtypes (the decorator passes a DataFrame through untouched).
That skips inference-schema's JSON round trip (``json.dumps`` + ``pandas.read_json``),
about 1 ms per request, and gives the model its columns in training order.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from tutor.serving.entry import EntryScript

MAX_REPORTED_PROBLEMS = 20
_INT_RANGES = {
    "int8": (-(2**7), 2**7 - 1),
    "int16": (-(2**15), 2**15 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "uint8": (0, 2**8 - 1),
    "uint16": (0, 2**16 - 1),
    "uint32": (0, 2**32 - 1),
    "uint64": (0, 2**64 - 1),
}
_TYPE_WORDS = {
    "integer": "a whole number",
    "number": "a number",
    "string": "a text value",
    "boolean": "true or false",
    "array": "a list",
    "object": "an object",
}


class RequestError(Exception):
    """A request the service refuses, with the HTTP status and a JSON-ready body."""

    def __init__(self, status: int, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details

    def body(self) -> dict[str, Any]:
        return {"message": self.message, **self.details}


@dataclass
class Problem:
    """One thing wrong with the posted data, located by row and field where it applies."""

    path: tuple[Any, ...]
    message: str

    @property
    def row(self) -> int | None:
        return next((p for p in self.path if isinstance(p, int)), None)

    @property
    def field(self) -> str | None:
        names = [p for p in self.path[1:] if isinstance(p, str)]
        return names[-1] if names else None

    def describe(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.field is not None:
            where.append(f"field '{self.field}'")
        if not where:
            where.append(f"'{self.path[0]}'" if self.path else "the body")
        return f"{', '.join(where)}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "problem": self.message}


def _shown(value: Any) -> str:
    try:
        text = json.dumps(value)
    except (RecursionError, ValueError):  # nested too deeply to print
        return f"a deeply nested {_json_kind(value)}"
    return text if len(text) <= 40 else text[:37] + "..."


class _Checker:
    """Checks one value against the (small) JSON-schema subset inference-schema emits.

    Returns the value converted the way the decorator would convert it.
    """

    def __init__(self, records: bool) -> None:
        # True for a pandas records frame: text columns accept numbers (pandas casts them).
        self.records = records
        self.problems: list[Problem] = []

    def problem(self, path: tuple[Any, ...], message: str) -> None:
        self.problems.append(Problem(path, message))

    def check(self, value: Any, schema: dict[str, Any], path: tuple[Any, ...], nested: bool) -> Any:
        kind = schema.get("type")
        if value is None:
            if kind is None or schema.get("nullable"):
                return value
            self.problem(path, f"has no value (null); send {_TYPE_WORDS.get(kind, kind)}")
            return value
        if kind == "object":
            return self._object(value, schema, path, nested)
        if kind == "array":
            return self._array(value, schema, path)
        if kind == "integer":
            return self._integer(value, schema, path)
        if kind == "number":
            return self._number(value, path)
        if kind == "string":
            return self._string(value, path)
        if kind == "boolean":
            if not isinstance(value, bool):
                self.problem(path, f"must be true or false, got {_shown(value)}")
            return value
        return value  # no type to check against

    def _object(self, value: Any, schema: dict[str, Any], path: tuple[Any, ...], nested: bool) -> Any:
        if not isinstance(value, dict):
            self.problem(path, f"must be an object with named fields, got {_shown(value)}")
            return value
        properties: dict[str, Any] = schema.get("properties") or {}
        if not properties:
            return value
        out = dict(value)
        for name in schema.get("required", []):
            if name not in value:
                self.problem((*path, name), "is missing")
        if nested:
            for name in value:
                if name not in properties:
                    expected = ", ".join(properties)
                    self.problem((*path, name), f"is not a field this model takes (it takes: {expected})")
        for name, sub in properties.items():
            if name in value:
                out[name] = self.check(value[name], sub, (*path, name), nested=True)
        return out

    def _array(self, value: Any, schema: dict[str, Any], path: tuple[Any, ...]) -> Any:
        if not isinstance(value, list):
            self.problem(path, f"must be a list (one entry per row), got {_shown(value)}")
            return value
        if not value and str(schema.get("format", "")).startswith("pandas.DataFrame"):
            self.problem(path, "has no rows; send at least one")
            return value
        items = schema.get("items")
        if not isinstance(items, dict):
            return value
        out = []
        for index, item in enumerate(value):
            out.append(self.check(item, items, (*path, index), nested=True))
            if len(self.problems) >= MAX_REPORTED_PROBLEMS:
                break
        return out

    def _integer(self, value: Any, schema: dict[str, Any], path: tuple[Any, ...]) -> Any:
        number: Any = value
        if isinstance(value, str):
            try:
                number = int(value.strip())
            except ValueError:
                try:
                    number = float(value.strip())
                except ValueError:
                    self.problem(path, f"must be a whole number, got the text {_shown(value)}")
                    return value
        if isinstance(number, bool) or not isinstance(number, (int, float)):
            self.problem(path, f"must be a whole number, got {_shown(value)}")
            return value
        if isinstance(number, float):
            if not math.isfinite(number) or not number.is_integer():
                self.problem(path, f"must be a whole number, got {_shown(value)}")
                return value
            number = int(number)
        low, high = _INT_RANGES.get(str(schema.get("format", "int64")), _INT_RANGES["int64"])
        if not low <= number <= high:
            self.problem(path, f"is out of range ({low} to {high}), got {number}")
            return value
        return number

    def _number(self, value: Any, path: tuple[Any, ...]) -> Any:
        number: Any = value
        if isinstance(value, str):
            try:
                number = float(value.strip())
            except ValueError:
                self.problem(path, f"must be a number, got the text {_shown(value)}")
                return value
        if isinstance(number, bool) or not isinstance(number, (int, float)):
            self.problem(path, f"must be a number, got {_shown(value)}")
            return value
        try:
            number = float(number)
        except OverflowError:  # a whole number with hundreds of digits
            self.problem(path, "is too large for a number (the largest is about 1.8e308)")
            return value
        if not math.isfinite(number):
            self.problem(path, f"must be a finite number, got {_shown(value)}")
            return value
        return number

    def _string(self, value: Any, path: tuple[Any, ...]) -> Any:
        if isinstance(value, str):
            return value
        if self.records and isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        self.problem(path, f"must be text, got {_shown(value)}")
        return value


class FrameBuilder:
    """Builds the DataFrame an inference-schema pandas parameter would build, directly.

    Only made for "records" frames whose sample columns are numbers, booleans or text and
    whose schema names exactly those columns; anything else returns ``None`` from
    :meth:`for_parameter` and the decorator does the conversion itself.
    """

    def __init__(self, columns: list[str], dtypes: dict[str, Any]) -> None:
        self.columns = columns
        self.dtypes = dtypes

    @classmethod
    def for_parameter(cls, param_type: Any, schema: dict[str, Any]) -> FrameBuilder | None:
        try:
            import pandas as pd
            from inference_schema.parameter_types.pandas_parameter_type import PandasParameterType
        except ImportError:
            return None
        if not isinstance(param_type, PandasParameterType):
            return None
        if param_type.orient != "records" or param_type.apply_column_names or not param_type.enforce_column_type:
            return None
        sample = param_type.sample_input
        columns = [str(c) for c in sample.columns]
        if list(sample.columns) != columns or len(set(columns)) != len(columns):
            return None  # non-text or duplicated column names: leave it to the decorator
        properties = (schema.get("items") or {}).get("properties") or {}
        if set(properties) != set(columns):
            return None
        dtypes: dict[str, Any] = {}
        for column in columns:
            dtype = sample.dtypes[column]
            if getattr(dtype, "kind", None) in ("b", "i", "u", "f"):
                dtypes[column] = dtype
            elif pd.api.types.is_string_dtype(dtype) and properties[column].get("type") == "string":
                dtypes[column] = dtype
            else:
                return None  # dates, categories, mixed objects: the decorator knows best
        return cls(columns, dtypes)

    def build(self, rows: list[dict[str, Any]]) -> Any:
        """A DataFrame of ``rows`` (already checked) with the sample's columns and dtypes."""
        import numpy as np
        import pandas as pd

        data: dict[str, Any] = {}
        for column in self.columns:
            dtype = self.dtypes[column]
            values = [row[column] for row in rows]
            if isinstance(dtype, np.dtype):
                data[column] = np.asarray(values, dtype=dtype)
            else:
                data[column] = pd.array(values, dtype=dtype)
        # Copying consolidates the columns into one block per dtype, which the model reads
        # about twice as fast as one block per column.
        return pd.DataFrame(data)


def documented_schema(schema: dict[str, Any], nested: bool = False) -> dict[str, Any]:
    """``schema`` (a parameter's, from inference-schema) saying what :class:`_Checker` enforces.

    inference-schema's schema is looser than the check: it does not say that a frame
    needs a row, that a row takes no other fields, or how large an integer may be. The
    swagger publishes this stricter copy, so what it calls valid is what is accepted.
    """
    out = dict(schema)
    kind = schema.get("type")
    if kind == "object" and isinstance(schema.get("properties"), dict) and schema["properties"]:
        out["properties"] = {
            name: documented_schema(sub, nested=True) if isinstance(sub, dict) else sub
            for name, sub in schema["properties"].items()
        }
        if nested:
            out["additionalProperties"] = False
    elif kind == "array":
        if isinstance(schema.get("items"), dict):
            out["items"] = documented_schema(schema["items"], nested=True)
        if str(schema.get("format", "")).startswith("pandas.DataFrame"):
            out["minItems"] = max(1, int(schema.get("minItems", 1)))
    elif kind == "integer":
        low, high = _INT_RANGES.get(str(schema.get("format", "int64")), _INT_RANGES["int64"])
        out.setdefault("minimum", low)
        out.setdefault("maximum", high)
    return out


@dataclass
class ParsedRequest:
    """``run()``'s keyword arguments for one request.

    ``rows`` is set when the data parameter can be batched: the checked rows, to be
    turned into a frame (alone or together with other requests' rows).
    """

    kwargs: dict[str, Any]
    rows: list[dict[str, Any]] | None = None


class InputPlan:
    """How this entry script's requests are checked and turned into ``run()`` arguments."""

    def __init__(self, entry: EntryScript) -> None:
        self.entry = entry
        properties = (entry.input_schema or {}).get("properties") or {}
        self.schemas: dict[str, dict[str, Any]] = {
            p.name: properties.get(p.name) or {} for p in entry.params
        }
        self.frames: dict[str, FrameBuilder] = {}
        for param in entry.params:
            builder = FrameBuilder.for_parameter(entry.param_types.get(param.name), self.schemas[param.name])
            if builder is not None:
                self.frames[param.name] = builder
        # One data parameter, built by us, no per-request headers: requests can share a run() call.
        only = entry.params[0].name if len(entry.params) == 1 else None
        self.batch_param = only if only in self.frames and not entry.wants_headers else None

    def published_schema(self) -> dict[str, Any]:
        """The input schema as the swagger publishes it: exactly what :meth:`parse` accepts.

        Every parameter without a default is required, and each one's schema is made as
        strict as the check (see :func:`documented_schema`).
        """
        schema = dict(self.entry.input_schema or {})
        if not self.entry.decorated or not schema:
            return schema
        properties = dict(schema.get("properties") or {})
        for name, sub in self.schemas.items():
            if name in properties:
                properties[name] = documented_schema(sub)
        schema["properties"] = properties
        required = [p.name for p in self.entry.params if p.default is p.empty]
        if required:
            schema["required"] = required
        return schema

    def parse(self, body: bytes) -> ParsedRequest:
        """Check ``body``; raise :class:`RequestError` (400/422) saying what is wrong."""
        if not self.entry.decorated:
            # Azure hands an undecorated run() the raw body text and lets it parse it.
            try:
                return ParsedRequest({self.entry.params[0].name: body.decode("utf-8")})
            except UnicodeDecodeError as exc:
                raise RequestError(400, f"The request body is not UTF-8 text ({exc}).") from None
        document = parse_json(body)
        if not isinstance(document, dict):
            raise RequestError(
                400,
                "The request body must be a JSON object such as "
                '{"data": [{...one object per row...}]}, '
                f"not a JSON {_json_kind(document)}.",
            )
        kwargs: dict[str, Any] = {}
        problems: list[Problem] = []
        batch_rows: list[dict[str, Any]] | None = None
        for param in self.entry.params:
            if param.name in document:
                value = document[param.name]
            elif param.default is not param.empty:
                kwargs[param.name] = param.default
                continue
            else:
                example = (self.entry.input_schema.get("example") or {}).get(param.name)
                hint = f' For example: {{"{param.name}": {json.dumps(example)}}}' if example is not None else ""
                raise RequestError(
                    400,
                    f"The request body has no '{param.name}' field; run() needs it.{hint}",
                    missing=param.name,
                )
            checker = _Checker(records=param.name in self.frames)
            value = checker.check(value, self.schemas[param.name], (param.name,), nested=False)
            problems.extend(checker.problems)
            kwargs[param.name] = value
            if param.name == self.batch_param:
                batch_rows = value
        if problems:
            shown = problems[:MAX_REPORTED_PROBLEMS]
            first = shown[0].describe()
            more = f" (and {len(problems) - 1} more problem(s), listed in 'errors')" if len(problems) > 1 else ""
            raise RequestError(422, f"The data does not match the model's input: {first}{more}.",
                               errors=[p.to_json() for p in shown])
        if batch_rows is not None:
            return ParsedRequest(kwargs, rows=batch_rows)
        for name in self.frames:
            if name in document:  # a default value stays as run() declared it
                kwargs[name] = self.build_frame(name, kwargs[name])
        return ParsedRequest(kwargs)

    def build_frame(self, name: str, rows: list[dict[str, Any]]) -> Any:
        try:
            return self.frames[name].build(rows)
        except (OverflowError, ValueError, TypeError) as exc:
            raise RequestError(422, f"The data does not fit the model's column types: {exc}.") from None


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return "null" if value is None else type(value).__name__


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def parse_json(body: bytes) -> Any:
    """Parse ``body`` as JSON; a 400 naming the line and column of the first error."""
    if not body.strip():
        raise RequestError(400, 'The request body is empty; send a JSON object such as {"data": [...]}.')
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RequestError(400, f"The request body is not UTF-8 text ({exc}).") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise RequestError(
            400,
            f"The request body is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.",
            line=exc.lineno,
            column=exc.colno,
        ) from None
    except ValueError as exc:  # NaN / Infinity
        raise RequestError(400, f"The request body is not valid JSON: {exc}.") from None
    except RecursionError:
        # The parser gives up at about a thousand levels; no model input is nested like that.
        raise RequestError(
            400,
            "The request body has lists or objects nested inside each other too deeply to be read "
            '(about a thousand levels or more). Send the rows as {"data": [{...one object per row...}]}, '
            "each field a plain value.",
        ) from None
