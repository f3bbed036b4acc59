"""Loading an entry script (``score.py``) the way Azure's inference server does.

An entry script is any Python file with ``init()`` and ``run(...)``. How ``run`` is
called depends on its decorators, exactly as in ``azureml-inference-server-http``:

- decorated with inference-schema's ``@input_schema``: the JSON body is an object and
  each of ``run``'s parameters is taken from the field of the same name;
- not decorated: ``run`` gets the raw request body as a string and parses it itself.

A ``request_headers`` parameter, when present, receives the request's headers (without
``Authorization``: the key is the server's business, and user code may log its input).
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

REQUEST_HEADERS = "request_headers"


class EntryScriptError(Exception):
    """The entry script cannot be used as it is (missing init/run, bad signature)."""


@dataclass
class EntryScript:
    """A loaded entry script: its functions and what ``run`` expects."""

    path: Path
    module: ModuleType
    init: Callable[[], Any]
    run: Callable[..., Any]
    # run's data parameters in order (request_headers excluded), with their defaults.
    params: list[inspect.Parameter]
    wants_headers: bool
    decorated: bool
    input_schema: dict[str, Any] = field(default_factory=dict)
    output_schema: dict[str, Any] = field(default_factory=dict)
    # inference-schema parameter types by parameter name (found on the decorators).
    param_types: dict[str, Any] = field(default_factory=dict)
    supported_swagger_versions: list[str] = field(default_factory=list)


MODULE_NAME = "entry_module"


def _forget_schemas(module_name: str) -> None:
    """Drop inference-schema's registrations for functions of ``module_name``.

    inference-schema keeps every decorated function's schema in a process-wide table
    keyed by ``module.function`` and refuses to register an output schema twice, so a
    second load of an entry script in one process (tests, a reload) would fail or mix
    two scripts' schemas. A fresh load starts from a clean slate instead.
    """
    try:
        from inference_schema import schema_util
    except ImportError:
        return
    for table in (schema_util.__functions_schema__, schema_util.__versions__):
        for key in [k for k in table if k.startswith(module_name + ".")]:
            del table[key]


def _import(path: Path) -> ModuleType:
    # Same module name as Azure's server uses, so scripts that look at __name__ behave alike.
    _forget_schemas(MODULE_NAME)
    spec = importlib.util.spec_from_file_location(MODULE_NAME, path)
    if spec is None or spec.loader is None:
        raise EntryScriptError(f"{path} cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _parameter_types(run: Callable[..., Any]) -> dict[str, Any]:
    """The inference-schema parameter type objects behind ``@input_schema`` decorators.

    inference-schema keeps them only inside its decorator closures (a wrapt
    FunctionWrapper whose wrapper closes over the parameter name and type). They are
    looked for defensively: anything unexpected simply yields no types, and the server
    then lets the decorator convert the input itself, as Azure does.
    """
    try:
        import wrapt
        from inference_schema.parameter_types.abstract_parameter_type import AbstractParameterType
    except ImportError:
        return {}
    found: dict[str, Any] = {}
    current: Any = run
    for _ in range(16):  # decorators stack shallowly; never loop forever on a cycle
        if not isinstance(current, wrapt.ObjectProxy):
            break
        wrapper = getattr(current, "_self_wrapper", None)
        cells = [cell.cell_contents for cell in (getattr(wrapper, "__closure__", None) or ())]
        types = [c for c in cells if isinstance(c, AbstractParameterType)]
        names = [c for c in cells if isinstance(c, str)]
        if len(types) == 1 and len(names) == 1:
            found.setdefault(names[0], types[0])
        current = getattr(current, "__wrapped__", None)
    return found


def load(path: Path) -> EntryScript:
    """Import the entry script and work out how to call its ``run``.

    Import errors propagate unchanged (the worker logs them with their traceback); a
    script without ``init``/``run`` or with an unusable ``run`` signature raises
    :class:`EntryScriptError` saying what to change.
    """
    path = Path(path).resolve()
    folder = str(path.parent)
    if folder not in sys.path:
        # Like Azure's AML_APP_ROOT: modules next to score.py can be imported.
        sys.path.insert(0, folder)
    module = _import(path)
    for name in ("init", "run"):
        if not callable(getattr(module, name, None)):
            raise EntryScriptError(
                f"{path} does not define a {name}() function; an entry script needs init() and run()"
            )
    run = module.run
    signature = inspect.signature(run)
    params = list(signature.parameters.values())
    for param in params:
        if param.kind not in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY):
            raise EntryScriptError(
                f"run() in {path} takes *args, **kwargs or positional-only parameters; "
                "give it named parameters such as run(data)"
            )
    wants_headers = any(p.name == REQUEST_HEADERS for p in params)
    data_params = [p for p in params if p.name != REQUEST_HEADERS]
    if not data_params:
        raise EntryScriptError(f"run() in {path} takes no input; give it a parameter such as run(data)")

    decorated = False
    input_schema: dict[str, Any] = {}
    output_schema: dict[str, Any] = {}
    versions: list[str] = ["2.0", "3.0", "3.1"]
    try:
        from inference_schema.schema_util import (
            get_input_schema,
            get_output_schema,
            get_supported_versions,
            is_schema_decorated,
        )

        decorated = bool(is_schema_decorated(run))
        if decorated:
            input_schema = get_input_schema(run)
            output_schema = get_output_schema(run)
            versions = [str(v) for v in get_supported_versions(run)]
    except ImportError:
        decorated = False
    return EntryScript(
        path=path,
        module=module,
        init=module.init,
        run=run,
        params=data_params,
        wants_headers=wants_headers,
        decorated=decorated,
        input_schema=input_schema,
        output_schema=output_schema,
        param_types=_parameter_types(run) if decorated else {},
        supported_swagger_versions=versions,
    )
