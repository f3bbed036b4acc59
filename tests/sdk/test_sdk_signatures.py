"""Every public name of the embedded azureml SDK has azureml's path, kind and signature.

The embedded SDK's public surface is dumped in a process where it is active: every module
(those named by ``azureml._embedded.MODULES`` and every public module file of the package),
every public name each exports, and for each class defined in the package every public
method, property, classmethod, staticmethod and attribute it has (its own and its embedded
bases'), plus ``__init__`` and ``__new__`` where the package defines them. A second process,
without the embedded SDK, looks the same names up in the real azureml-core installed in
site-packages and describes them the same way. ``azureml.train.*`` is not part of
azureml-core: it is compared with the source of the azureml-train-automl-client wheel
(``TUTOR_AUTOML_CLIENT_WHEEL``: the wheel or its unpacked folder; by default
``/tmp/automlclient/*.whl``), parsed with :mod:`ast`, as its modules do not import without
their dependencies.

A signature is compared as ``str(inspect.signature(...))`` without annotations: parameter
names, order, kinds and defaults. Every mismatch is reported in one assertion message.

Importing any embedded module imports neither pandas nor scikit-learn, and importing
``azureml.core`` does not import numpy either (its import time is checked in test_sdk_data).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
V1_ROOT = REPO / "tutor" / "sdk" / "v1"
HEAVY = ("pandas", "sklearn")

#: Modules compared with the azureml-train-automl-client wheel instead of azureml-core.
WHEEL_PREFIX = "azureml.train"
WHEEL_ENV = "TUTOR_AUTOML_CLIENT_WHEEL"
WHEEL_DEFAULT_GLOB = ("/tmp/automlclient", "*.whl")

#: Public names of the embedded SDK that azureml-core does not have, each with why it may differ.
#: Keys are qualified names as reported (``module.Class.member``); a value is the reason.
JUSTIFIED: dict[str, str] = {}


# --------------------------------------------------------------------------- describing (both processes)


class _Source:
    """A default value given as source text (a name, an attribute, a call), shown as written."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _plain_signature(signature: Any) -> str:
    """``str(signature)`` without annotations, with memory addresses in defaults blanked."""
    import inspect
    import re

    params = [p.replace(annotation=inspect.Parameter.empty) for p in signature.parameters.values()]
    text = str(signature.replace(parameters=params, return_annotation=inspect.Signature.empty))
    return re.sub(r" at 0x[0-9a-fA-F]+", "", text)


def _signature_of(function: Any) -> str:
    import inspect

    try:
        return _plain_signature(inspect.signature(function))
    except (TypeError, ValueError) as error:
        return f"<no signature: {error}>"


def _value(value: Any) -> str:
    """A constant's value as compared: scalars by value, anything else by type."""
    if value is None or isinstance(value, (bool, int, float, str, bytes)):
        return repr(value)
    return type(value).__name__


def _describe_member(cls: type, name: str) -> dict[str, Any] | None:
    """How ``cls`` has ``name``: its kind and signature, from the class that defines it (MRO order)."""
    import inspect

    for klass in inspect.getmro(cls):
        if name in vars(klass):
            raw, owner = vars(klass)[name], klass
            break
    else:
        return None
    if owner is object:
        return {"kind": "inherited from object"}
    if isinstance(raw, staticmethod):
        return {"kind": "staticmethod", "signature": _signature_of(raw.__func__)}
    if isinstance(raw, classmethod):
        return {"kind": "classmethod", "signature": _signature_of(getattr(cls, name))}
    if isinstance(raw, property):
        return {"kind": "property", "settable": raw.fset is not None}
    if isinstance(raw, type):
        return {"kind": "class", "name": raw.__name__}
    if inspect.isfunction(raw) or inspect.ismethoddescriptor(raw) or callable(raw):
        return {"kind": "method", "signature": _signature_of(raw)}
    if hasattr(raw, "__get__") and not isinstance(raw, (str, int, float, bool, tuple, list, dict)):
        return {"kind": "property", "settable": hasattr(raw, "__set__")}
    return {"kind": "attribute", "value": _value(raw)}


def _instance_attributes(cls: type, only: Any = None) -> set[str]:
    """Public names the methods of ``cls`` (and its bases, those ``only`` accepts) assign on ``self``."""
    import ast
    import inspect
    import textwrap

    names: set[str] = set()
    for klass in inspect.getmro(cls):
        if klass is object or (only is not None and not only(klass)):
            continue
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
        except (OSError, TypeError, SyntaxError, IndentationError):
            continue
        names |= _self_assignments(tree)
    return names


def _self_assignments(tree: Any) -> set[str]:
    """Public attribute names the functions in ``tree`` assign on their first argument (``self.x = ...``)."""
    import ast

    names: set[str] = set()
    for function in ast.walk(tree):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)) or not function.args.args:
            continue
        me = function.args.args[0].arg
        for node in ast.walk(function):
            targets = node.targets if isinstance(node, ast.Assign) else \
                [node.target] if isinstance(node, (ast.AnnAssign, ast.AugAssign)) else []
            for target in targets:
                for leaf in ast.walk(target):
                    if isinstance(leaf, ast.Attribute) and isinstance(leaf.value, ast.Name) and \
                            leaf.value.id == me and not leaf.attr.startswith("_"):
                        names.add(leaf.attr)
    return names


def _describe_object(value: Any) -> dict[str, Any]:
    import inspect

    if inspect.isclass(value):
        return {"kind": "class"}
    if inspect.isfunction(value) or inspect.isbuiltin(value):
        return {"kind": "function", "signature": _signature_of(value)}
    if inspect.ismodule(value):
        return {"kind": "module"}
    if callable(value):
        return {"kind": "function", "signature": _signature_of(value)}
    return {"kind": "attribute", "value": _value(value)}


# --------------------------------------------------------------------------- the embedded SDK (its process)


def _embedded_modules() -> list[str]:
    """MODULES and every public module file of the embedded package."""
    from azureml._embedded import MODULES

    names = set(MODULES)
    package = V1_ROOT / "azureml"
    for path in package.rglob("*.py"):
        parts = list(path.relative_to(V1_ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        if any(part.startswith("_") for part in parts) or "__pycache__" in path.parts:
            continue
        names.add(".".join(parts))
    return sorted(names)


def _is_embedded(value: Any) -> bool:
    import inspect

    try:
        source = inspect.getsourcefile(value)
    except TypeError:
        return False
    return bool(source) and str(Path(source).resolve()).startswith(str(V1_ROOT))


def _private_module(module: str) -> bool:
    return any(part.startswith("_") for part in module.split("."))


def _assigned_names(module: Any) -> set[str]:
    """Names a module's source assigns at its top level (not those it imports)."""
    import ast

    try:
        tree = ast.parse(Path(module.__file__).read_text())
    except (OSError, TypeError, SyntaxError):
        return set()
    names: set[str] = set()
    for node in _top_level(tree.body):
        targets = node.targets if isinstance(node, ast.Assign) else \
            [node.target] if isinstance(node, ast.AnnAssign) else []
        for target in targets:
            for leaf in ast.walk(target):
                if isinstance(leaf, ast.Name):
                    names.add(leaf.id)
    return names


def _exports(module: Any) -> list[str]:
    """Public names a module exports: its ``__all__``, the classes and functions it defines, the
    other values it assigns (constants)."""
    import inspect

    names = set(getattr(module, "__all__", []))
    assigned = _assigned_names(module)
    for name, value in vars(module).items():
        if name.startswith("_") or inspect.ismodule(value):
            continue
        if inspect.isclass(value) or inspect.isfunction(value):
            if getattr(value, "__module__", None) == module.__name__:
                names.add(name)
        elif name in assigned:
            names.add(name)
    return sorted(names)


def _embedded_class(klass: type) -> bool:
    """A class of the embedded SDK's modules (not its shared base ``Subset``)."""
    return _is_embedded(klass) and klass.__module__ != "azureml._embedded"


def _class_members(cls: type) -> list[str]:
    """Public names of ``cls`` and its embedded bases, and ``__init__``/``__new__`` where they define them."""
    import inspect

    names: set[str] = set()
    for klass in inspect.getmro(cls):
        if not _embedded_class(klass):
            continue
        for name in vars(klass):
            if not name.startswith("_") or name in ("__init__", "__new__"):
                names.add(name)
    return sorted(names)


def _embedded_surface() -> dict[str, Any]:
    """``{"modules": {module: error or None}, "names": {qualified name: description}}`` of the embedded SDK."""
    import importlib
    import inspect
    import traceback

    modules: dict[str, str | None] = {}
    names: dict[str, dict[str, Any]] = {}
    for module_name in _embedded_modules():
        try:
            module = importlib.import_module(module_name)
        except Exception as error:
            modules[module_name] = f"{type(error).__name__}: {error}".splitlines()[0][:200]
            continue
        modules[module_name] = None
        for name in _exports(module):
            qualified = f"{module_name}.{name}"
            try:
                value = getattr(module, name)
            except Exception as error:
                names[qualified] = {"kind": "error",
                                    "error": traceback.format_exception_only(error)[-1].strip()[:200]}
                continue
            entry = _describe_object(value)
            entry["module"], entry["name"] = module_name, name
            names[qualified] = entry
            if not inspect.isclass(value) or not _is_embedded(value):
                continue
            home = value.__module__
            if home != module_name and not _private_module(home):
                entry["same_as"] = f"{home}.{value.__qualname__}"
                continue
            entry["members"] = {}
            for member in _class_members(value):
                entry["members"][member] = _describe_member(value, member)
            for member in sorted(_instance_attributes(value, _embedded_class) - set(entry["members"])):
                entry["members"][member] = {"kind": "instance attribute"}
    return {"modules": modules, "names": names}


# --------------------------------------------------------------------------- the real SDK (its process)


def _resolve(dotted: str) -> Any:
    """The object ``package.module.Class`` names (the longest importable module, then attributes)."""
    import importlib

    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            value = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for part in parts[cut:]:
            value = getattr(value, part)
        return value
    raise ImportError(dotted)


def _real_runtime(embedded: dict[str, Any]) -> dict[str, Any]:
    """The same names looked up in the importable azureml packages (azureml-core)."""
    import importlib
    import inspect

    modules: dict[str, str | None] = {}
    names: dict[str, dict[str, Any]] = {}
    for module_name in embedded["modules"]:
        if module_name.startswith(WHEEL_PREFIX):
            continue
        try:
            module = importlib.import_module(module_name)
            modules[module_name] = None
        except Exception as error:
            modules[module_name] = f"{type(error).__name__}: {error}".splitlines()[0]
    for qualified, entry in embedded["names"].items():
        module_name, name = entry.get("module"), entry.get("name")
        if module_name is None or module_name.startswith(WHEEL_PREFIX) or modules.get(module_name):
            continue
        module = importlib.import_module(module_name)
        try:
            value = getattr(module, name)
        except Exception:
            names[qualified] = {"kind": "missing"}
            continue
        found = _describe_object(value)
        names[qualified] = found
        if "same_as" in entry:
            try:
                found["same_as"] = entry["same_as"] if _resolve(entry["same_as"]) is value else \
                    f"{getattr(value, '__module__', '?')}.{getattr(value, '__qualname__', '?')}"
            except Exception as error:
                found["same_as"] = f"<{entry['same_as']} not found: {error}>"
        if "members" in entry and inspect.isclass(value):
            found["members"] = {member: _describe_member(value, member) for member in entry["members"]}
            if any(d is None or d["kind"] == "inherited from object" for d in found["members"].values()):
                attributes = _instance_attributes(value)
                for member, described in found["members"].items():
                    if described is None and member in attributes:
                        found["members"][member] = {"kind": "instance attribute"}
    return {"modules": modules, "names": names}


def _check_real_is_site_packages() -> str:
    import azureml.core

    return str(Path(azureml.core.__file__).resolve())


# --------------------------------------------------------------------------- the automl client wheel (ast)


def _wheel_location() -> Path | None:
    configured = os.environ.get(WHEEL_ENV)
    if configured:
        return Path(configured) if Path(configured).exists() else None
    folder, pattern = WHEEL_DEFAULT_GLOB
    found = sorted(Path(folder).glob(pattern)) if Path(folder).is_dir() else []
    return found[-1] if found else None


class _Wheel:
    """The Python sources of a wheel file or of its unpacked folder, parsed on demand."""

    def __init__(self, location: Path) -> None:
        import zipfile

        self.location = location
        if location.is_dir():
            self._files = {p.relative_to(location).as_posix(): p for p in location.rglob("*.py")}
            self._zip = None
        else:
            self._zip = zipfile.ZipFile(location)
            self._files = {n: n for n in self._zip.namelist() if n.endswith(".py")}
        self._parsed: dict[str, Any] = {}

    def _path(self, module: str) -> str | None:
        base = module.replace(".", "/")
        for candidate in (f"{base}.py", f"{base}/__init__.py"):
            if candidate in self._files:
                return candidate
        return None

    def has(self, module: str) -> bool:
        return self._path(module) is not None

    def is_package(self, module: str) -> bool:
        return (self._path(module) or "").endswith("/__init__.py")

    def tree(self, module: str) -> Any:
        import ast

        if module not in self._parsed:
            path = self._path(module)
            if path is None:
                self._parsed[module] = None
            else:
                text = self._files[path].read_text() if self._zip is None else self._zip.read(path).decode()
                self._parsed[module] = ast.parse(text)
        return self._parsed[module]


def _top_level(body: list[Any]) -> Any:
    """Statements of a module body, including those inside if/try/with blocks."""
    for node, _ in _top_level_flagged(body):
        yield node


def _top_level_flagged(body: list[Any], fallback: bool = False) -> Any:
    """``(statement, fallback)``: fallback for those of an ``except`` block (used if the ``try`` fails)."""
    import ast

    for node in body:
        yield node, fallback
        if isinstance(node, (ast.If, ast.With)):
            yield from _top_level_flagged(node.body, fallback)
            yield from _top_level_flagged(getattr(node, "orelse", []), fallback)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody):
                yield from _top_level_flagged(block, fallback)
            for handler in node.handlers:
                yield from _top_level_flagged(handler.body, True)


#: A default the wheel's source gives as an expression that cannot be evaluated here: any value matches.
_WILD_OPEN, _WILD_CLOSE = "\u00ab", "\u00bb"


def _ast_default(node: Any) -> Any:
    import ast

    try:
        return ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError):
        return _Source(f"{_WILD_OPEN}{ast.unparse(node)}{_WILD_CLOSE}")


def _ast_signature(function: Any, drop_first: bool = False, resolve: Any = None) -> str:
    import inspect

    args = function.args
    P = inspect.Parameter
    value = resolve or _ast_default
    params: list[Any] = []
    positional = [(a, P.POSITIONAL_ONLY) for a in args.posonlyargs] + [(a, P.POSITIONAL_OR_KEYWORD) for a in args.args]
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    for (arg, kind), default in zip(positional, defaults):
        params.append(P(arg.arg, kind, default=P.empty if default is None else value(default)))
    if args.vararg is not None:
        params.append(P(args.vararg.arg, P.VAR_POSITIONAL))
    for arg, default in zip(args.kwonlyargs, args.kw_defaults):
        params.append(P(arg.arg, P.KEYWORD_ONLY, default=P.empty if default is None else value(default)))
    if args.kwarg is not None:
        params.append(P(args.kwarg.arg, P.VAR_KEYWORD))
    if drop_first and params and params[0].kind in (P.POSITIONAL_ONLY, P.POSITIONAL_OR_KEYWORD):
        params = params[1:]
    return _plain_signature(inspect.Signature(params))


def _decorators(node: Any) -> list[str]:
    import ast

    return [ast.unparse(d) for d in node.decorator_list]


class _WheelLookup:
    """Names of the wheel's modules resolved through their imports, as Python would bind them."""

    def __init__(self, wheel: _Wheel) -> None:
        self.wheel = wheel

    def binding(self, module: str, name: str, depth: int = 0) -> tuple[str, Any]:
        """``(defining module, node)`` of ``module.name``; node is an ast node, "module", or "external"."""
        import ast

        tree = self.wheel.tree(module)
        if tree is None or depth > 20:
            return module, "external"
        found: Any = None
        for node, fallback in _top_level_flagged(tree.body):
            bound: Any = None
            if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
                bound = (module, node)
            elif isinstance(node, ast.ImportFrom):
                source = self._absolute(module, node)
                for alias in node.names:
                    if (alias.asname or alias.name) == name:
                        bound = ("import", source, alias.name)
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name) and target.id == name:
                        bound = (module, node)
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == name:
                bound = (module, node)
            if bound is not None and (found is None or not fallback):
                found = bound  # an except block's binding only counts when nothing else binds the name
        if found is None:
            if self.wheel.has(f"{module}.{name}"):
                return f"{module}.{name}", "module"
            return module, None
        if found[0] == "import":
            _, source, original = found
            if self.wheel.has(f"{source}.{original}"):
                return f"{source}.{original}", "module"
            if self.wheel.has(source):
                return self.binding(source, original, depth + 1)
            return f"{source}.{original}", "external"
        return found

    def _absolute(self, module: str, node: Any) -> str:
        if not node.level:
            return node.module or ""
        parts = module.split(".")
        package = parts if self.wheel.is_package(module) else parts[:-1]
        base = package[: len(package) - node.level + 1]
        return ".".join(base + ([node.module] if node.module else []))

    def resolve_base(self, module: str, expression: Any) -> tuple[str, Any]:
        """The class a base expression names: ``(module, ClassDef)`` in the wheel or ``(dotted, "external")``."""
        import ast

        if isinstance(expression, ast.Name):
            home, node = self.binding(module, expression.id)
            if node in ("external", "module"):
                return home, node
            if isinstance(node, ast.ClassDef):
                return home, node
            return f"{module}.{expression.id}", None
        if isinstance(expression, ast.Attribute):
            home, node = self.resolve_base(module, expression.value)
            if node == "module":
                found_home, found = self.binding(home, expression.attr)
                return (found_home, found) if isinstance(found, ast.ClassDef) or found == "external" else \
                    (f"{home}.{expression.attr}", None)
            if node == "external":
                return f"{home}.{expression.attr}", "external"
            return ast.unparse(expression), None
        return ast.unparse(expression), None

    _STDLIB = ("os", "sys", "logging", "math")
    _UNRESOLVED = object()

    def evaluate(self, module: str, node: Any, depth: int = 0) -> Any:
        """The value of a default written as an expression (constants of the wheel, ``logging.INFO``,
        ``os.name == 'nt'``), or ``_UNRESOLVED``. Nothing is executed: names are looked up in the source."""
        import ast
        import importlib
        import operator

        if depth > 20:
            return self._UNRESOLVED
        try:
            return ("value", ast.literal_eval(node))
        except (ValueError, SyntaxError, TypeError):
            pass
        if isinstance(node, ast.Name):
            if node.id in self._STDLIB:
                return ("value", importlib.import_module(node.id))
            home, bound = self.binding(module, node.id)
            if bound == "module":
                return ("module", home)
            if isinstance(bound, ast.ClassDef):
                return ("class", home, bound)
            if isinstance(bound, (ast.Assign, ast.AnnAssign)) and bound.value is not None:
                return self.evaluate(home, bound.value, depth + 1)
            return self._UNRESOLVED
        if isinstance(node, ast.Attribute):
            base = self.evaluate(module, node.value, depth + 1)
            if base is self._UNRESOLVED:
                return base
            if base[0] == "value":
                found = getattr(base[1], node.attr, self._UNRESOLVED)
                return found if found is self._UNRESOLVED else ("value", found)
            if base[0] == "module":
                return self.evaluate(base[1], ast.Name(id=node.attr, ctx=ast.Load()), depth + 1)
            home, cls = base[1], base[2]
            for statement in cls.body:
                if isinstance(statement, ast.Assign) and any(isinstance(t, ast.Name) and t.id == node.attr
                                                             for t in statement.targets):
                    return self.evaluate(home, statement.value, depth + 1)
                if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name) and \
                        statement.target.id == node.attr and statement.value is not None:
                    return self.evaluate(home, statement.value, depth + 1)
            return self._UNRESOLVED
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in (ast.Eq, ast.NotEq):
            left, right = self.evaluate(module, node.left, depth + 1), self.evaluate(module, node.comparators[0],
                                                                                    depth + 1)
            if left is self._UNRESOLVED or right is self._UNRESOLVED or left[0] != "value" or right[0] != "value":
                return self._UNRESOLVED
            compare = operator.eq if isinstance(node.ops[0], ast.Eq) else operator.ne
            return ("value", compare(left[1], right[1]))
        return self._UNRESOLVED

    def default(self, module: str) -> Any:
        """For :func:`_ast_signature`: a default's value when it evaluates to a plain one, else a wildcard."""
        import ast

        def value(node: Any) -> Any:
            found = self.evaluate(module, node)
            if found is not self._UNRESOLVED and found[0] == "value" and (
                    found[1] is None or isinstance(found[1], (bool, int, float, str, bytes, tuple, list, dict))):
                return found[1]
            return _Source(f"{_WILD_OPEN}{ast.unparse(node)}{_WILD_CLOSE}")

        return value

    def instance_attributes(self, module: str, cls: Any, depth: int = 0) -> set[str]:
        """Public names the methods of the wheel's class ``cls`` (and its bases) assign on ``self``."""
        import ast

        names = _self_assignments(cls)
        if depth > 20:
            return names
        for base in cls.bases:
            home, node = self.resolve_base(module, base)
            if isinstance(node, ast.ClassDef):
                names |= self.instance_attributes(home, node, depth + 1)
            elif node == "external":
                try:
                    names |= _instance_attributes(_resolve(home))
                except Exception:
                    pass
        return names

    def member(self, module: str, cls: Any, name: str, depth: int = 0) -> dict[str, Any] | None:
        """How the wheel's class ``cls`` has ``name``: its own, its bases' or set on instances."""
        found = self._member(module, cls, name, depth)
        if found is None and depth == 0 and name in self.instance_attributes(module, cls):
            return {"kind": "instance attribute"}
        return found

    def _member(self, module: str, cls: Any, name: str, depth: int = 0) -> dict[str, Any] | None:
        """How the wheel's class ``cls`` (a ClassDef of ``module``) has ``name``, its bases included."""
        import ast

        described: dict[str, Any] | None = None
        for node in cls.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
                decorators = _decorators(node)
                if any(d.endswith(".setter") for d in decorators) and described is not None:
                    described["settable"] = True
                    continue
                if "property" in decorators or any(d.endswith("cached_property") for d in decorators):
                    described = {"kind": "property", "settable": False}
                elif "staticmethod" in decorators or name == "__new__":
                    described = {"kind": "staticmethod",
                                 "signature": _ast_signature(node, resolve=self.default(module))}
                elif "classmethod" in decorators:
                    described = {"kind": "classmethod",
                                 "signature": _ast_signature(node, drop_first=True, resolve=self.default(module))}
                else:
                    described = {"kind": "method", "signature": _ast_signature(node, resolve=self.default(module))}
            elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
                described = self._assigned(module, node.value)
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == name:
                described = {"kind": "attribute", "value": "?" if node.value is None else
                             _value(_ast_default(node.value))}
        if described is not None or depth > 20:
            return described
        for base in cls.bases:
            home, node = self.resolve_base(module, base)
            if isinstance(node, ast.ClassDef):
                found = self._member(home, node, name, depth + 1)
            elif node == "external":
                found = _external_member(home, name)
            else:
                found = None
            if found is not None:
                return found
        return None

    def _assigned(self, module: str, value: Any) -> dict[str, Any]:
        import ast

        literal = _ast_default(value)
        if not isinstance(literal, _Source):
            return {"kind": "attribute", "value": _value(literal)}
        if isinstance(value, ast.Name):
            home, node = self.binding(module, value.id)
            if isinstance(node, ast.ClassDef):
                return {"kind": "class", "name": node.name}
        return {"kind": "attribute", "value": f"<{ast.unparse(value)}>"}


def _external_member(dotted_class: str, name: str) -> dict[str, Any] | None:
    """A member of a class outside the wheel: looked up at run time if its package imports (azureml-core)."""
    try:
        cls = _resolve(dotted_class)
    except Exception:
        return {"kind": "unverifiable", "why": f"inherited from {dotted_class}, which is not in azureml-core "
                                               "or the wheel"}
    return _describe_member(cls, name)


def _real_wheel(embedded: dict[str, Any], location: str) -> dict[str, Any]:
    """The embedded ``azureml.train.*`` names looked up in the wheel's source."""
    import ast

    lookup = _WheelLookup(_Wheel(Path(location)))
    modules: dict[str, str | None] = {}
    names: dict[str, dict[str, Any]] = {}
    for module_name in embedded["modules"]:
        if module_name.startswith(WHEEL_PREFIX):
            modules[module_name] = None if lookup.wheel.has(module_name) else f"not in the wheel {location}"
    for qualified, entry in embedded["names"].items():
        module_name, name = entry.get("module"), entry.get("name")
        if module_name is None or not module_name.startswith(WHEEL_PREFIX) or modules.get(module_name):
            continue
        home, node = lookup.binding(module_name, name)
        if node is None:
            names[qualified] = {"kind": "missing"}
            continue
        if node == "external":
            names[qualified] = {"kind": "unverifiable", "why": f"imported from {home}, outside the wheel"}
            continue
        if node == "module":
            names[qualified] = {"kind": "module"}
            continue
        if isinstance(node, ast.ClassDef):
            found: dict[str, Any] = {"kind": "class"}
            if "same_as" in entry:
                found["same_as"] = f"{home}.{node.name}"
            if "members" in entry:
                found["members"] = {m: lookup.member(home, node, m) for m in entry["members"]}
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found = {"kind": "function", "signature": _ast_signature(node, resolve=lookup.default(home))}
        else:
            value = lookup.default(home)(node.value) if node.value is not None else _Source("?")
            found = {"kind": "attribute", "value": _value(value) if not isinstance(value, _Source) else value.text}
        names[qualified] = found
    return {"modules": modules, "names": names}


# --------------------------------------------------------------------------- comparing


def _run(code: str, *args: str, embedded: bool, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    prelude = f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); sys.path.insert(0, {str(REPO)!r})\n"
    if embedded:
        prelude += "import tutor.sdk; tutor.sdk.activate(environ=False)\n"
    return subprocess.run([sys.executable, "-c", prelude + code, *args], capture_output=True, text=True, env=env,
                          cwd=str(REPO), input=stdin, timeout=300)


@pytest.fixture(scope="module")
def embedded_surface() -> dict[str, Any]:
    result = _run("import json; from test_sdk_signatures import _embedded_surface; "
                  "print(json.dumps(_embedded_surface()))", embedded=True)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def _real(embedded: dict[str, Any], function: str, *args: str) -> dict[str, Any]:
    result = _run(f"import json; from test_sdk_signatures import {function}; "
                  f"print(json.dumps({function}(json.load(sys.stdin), *sys.argv[1:])))", *args,
                  embedded=False, stdin=json.dumps(embedded))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def _show(entry: dict[str, Any] | None) -> str:
    if entry is None:
        return "missing"
    kind = entry["kind"]
    if kind in ("method", "staticmethod", "classmethod", "function"):
        return f"{kind} {entry['signature']}"
    if kind == "property":
        return "property (settable)" if entry.get("settable") else "property (read-only)"
    if kind == "attribute":
        return f"attribute {entry['value']}"
    if kind == "class" and "name" in entry:
        return f"class {entry['name']}"
    if kind in ("unverifiable",):
        return f"unverifiable: {entry['why']}"
    if kind == "error":
        return f"error: {entry['error']}"
    return kind


#: Kinds a name may have in the real SDK when the embedded SDK has it as an instance attribute or a
#: property: reading it works the same (azureml often sets in ``__init__`` what the embedded SDK
#: reads from the workspace when asked).
_DATA_KINDS = ("instance attribute", "attribute", "property")


def _compatible(mine: dict[str, Any], theirs: dict[str, Any]) -> bool:
    import re

    if _show(mine) == _show(theirs):
        return True
    if _WILD_OPEN in _show(theirs):  # a default the wheel computes: any value of the embedded SDK matches
        pattern = re.escape(_show(theirs))
        pattern = re.sub(re.escape(_WILD_OPEN) + ".*?" + re.escape(_WILD_CLOSE), "[^,()]+?", pattern)
        return re.fullmatch(pattern, _show(mine)) is not None
    if mine["kind"] == theirs["kind"] and mine["kind"] in ("attribute", "property"):
        return False  # a constant's value, a property's setter: shown differently, so they differ
    return mine["kind"] in _DATA_KINDS and theirs["kind"] in _DATA_KINDS


def _compare(embedded: dict[str, Any], real: dict[str, Any], prefix: str | None, reference: str,
             unverifiable: list[str] | None = None) -> list[str]:
    """Every difference between the embedded names (those of modules under ``prefix`` or, for None, the
    others) and the real ones, one line each. Names the reference cannot describe (inherited from a
    package that is not here) go to ``unverifiable``."""
    problems: list[str] = []
    unverifiable = [] if unverifiable is None else unverifiable

    def mine(module: str) -> bool:
        return module.startswith(WHEEL_PREFIX) if prefix else not module.startswith(WHEEL_PREFIX)

    for module, error in sorted(embedded["modules"].items()):
        if not mine(module):
            continue
        if error:
            problems.append(f"{module}: the embedded module does not import: {error}")
        elif real["modules"].get(module):
            if module not in JUSTIFIED:
                problems.append(f"{module}: no such module in {reference} ({real['modules'][module]})")
    for qualified, entry in sorted(embedded["names"].items()):
        module = entry.get("module", "")
        if not mine(module) or embedded["modules"].get(module) or real["modules"].get(module):
            continue
        if qualified in JUSTIFIED:
            continue
        theirs = real["names"].get(qualified, {"kind": "missing"})
        if entry["kind"] == "error":
            problems.append(f"{qualified}: {_show(entry)}")
            continue
        if theirs["kind"] == "unverifiable":
            unverifiable.append(f"{qualified}: {theirs['why']}")
            continue
        if theirs["kind"] == "missing":
            problems.append(f"{qualified}: not in {reference} (an embedded-only name must be private)")
            continue
        if not _compatible(entry, theirs) and not (entry["kind"] == theirs["kind"] == "class"):
            problems.append(f"{qualified}: embedded {_show(entry)}, real {_show(theirs)}")
            continue
        if entry["kind"] != theirs["kind"]:
            problems.append(f"{qualified}: embedded {_show(entry)}, real {_show(theirs)}")
            continue
        if "same_as" in entry and theirs.get("same_as") != entry["same_as"]:
            problems.append(f"{qualified}: embedded is {entry['same_as']}, real is {theirs.get('same_as')}")
        for member, description in sorted((entry.get("members") or {}).items()):
            name = f"{qualified}.{member}"
            if name in JUSTIFIED:
                continue
            other = (theirs.get("members") or {}).get(member)
            if other is not None and other["kind"] == "unverifiable":
                unverifiable.append(f"{name}: {other['why']}")
            elif other is None or other["kind"] == "inherited from object":
                if member in ("__init__", "__new__") and other is not None:
                    problems.append(f"{name}: embedded {_show(description)}, real class does not define it")
                else:
                    problems.append(f"{name}: not in {reference} (an embedded-only name must be private)")
            elif not _compatible(description, other):
                problems.append(f"{name}: embedded {_show(description)}, real {_show(other)}")
    return problems


def _report(problems: list[str], reference: str) -> str:
    return f"{len(problems)} differences from {reference}:\n" + "\n".join(problems)


@pytest.fixture(scope="module")
def real_surface(embedded_surface: dict[str, Any]) -> dict[str, Any]:
    """The embedded names looked up in the real azureml-core (skips when it is not installed)."""
    probe = _run("from test_sdk_signatures import _check_real_is_site_packages as f; print(f())", embedded=False)
    if probe.returncode != 0 and "No module named 'azureml" in probe.stderr:
        pytest.skip("azureml-core is not installed (the azure extra)")
    assert probe.returncode == 0, probe.stderr
    assert not probe.stdout.strip().startswith(str(V1_ROOT)), probe.stdout
    return _real(embedded_surface, "_real_runtime")


@pytest.fixture(scope="module")
def wheel() -> Path:
    """The azureml-train-automl-client wheel (or its unpacked folder); skips when there is none."""
    location = _wheel_location()
    if location is None:
        pytest.skip(f"no azureml-train-automl-client wheel: set {WHEEL_ENV} to the wheel or its unpacked folder, "
                    "or run pip download azureml-train-automl-client==1.61.0 --no-deps -d /tmp/automlclient")
    installed = _run("import importlib.util\ntry:\n"
                     "    print(importlib.util.find_spec('azureml.train.automl') is not None)\n"
                     "except ImportError:\n    print(False)", embedded=False)
    assert installed.returncode == 0, installed.stderr
    assert installed.stdout.strip() != "True", "azureml-train-automl-client must not be installed in site-packages"
    return location


def test_signatures_match_azureml_core(embedded_surface: dict[str, Any], real_surface: dict[str, Any]) -> None:
    """Every embedded name outside azureml.train: the real azureml-core's path, kind and signature."""
    modules = [m for m in embedded_surface["modules"] if not m.startswith(WHEEL_PREFIX)]
    assert "azureml.core.workspace" in modules and "azureml.data.tabular_dataset" in modules
    problems = _compare(embedded_surface, real_surface, None, "azureml-core")
    assert not problems, _report(problems, "azureml-core 1.61")


def test_automl_signatures_match_the_client_wheel(embedded_surface: dict[str, Any], real_surface: dict[str, Any],
                                                  wheel: Path) -> None:
    """Every embedded azureml.train name: the azureml-train-automl-client wheel's path, kind and signature."""
    if not any(m.startswith(WHEEL_PREFIX) for m in embedded_surface["modules"]):
        pytest.skip("the embedded SDK has no azureml.train modules")
    import warnings

    real = _real(embedded_surface, "_real_wheel", str(wheel))
    unverifiable: list[str] = []
    problems = _compare(embedded_surface, real, WHEEL_PREFIX, f"the wheel {wheel.name}", unverifiable)
    if unverifiable:
        warnings.warn(f"{len(unverifiable)} names of azureml.train are defined in packages that are neither "
                      "azureml-core nor the wheel, so they are not compared:\n" + "\n".join(unverifiable))
    assert not problems, _report(problems, f"azureml-train-automl-client ({wheel})")


def test_differences_are_reported(embedded_surface: dict[str, Any], real_surface: dict[str, Any]) -> None:
    """The comparison fails on a changed signature, a changed kind, an embedded-only public name and a
    missing module, each named."""
    import copy

    changed = copy.deepcopy(embedded_surface)
    workspace = changed["names"]["azureml.core.workspace.Workspace"]["members"]
    workspace["get"]["signature"] = workspace["get"]["signature"].replace("auth=None, ", "")
    workspace["name"] = {"kind": "method", "signature": "(self)"}
    workspace["helper"] = {"kind": "method", "signature": "(self)"}
    changed["names"]["azureml.data.datapath.PathHelper"] = {"kind": "class", "module": "azureml.data.datapath",
                                                            "name": "PathHelper", "members": {}}
    changed["modules"]["azureml.core.nothing"] = None
    changed["names"]["azureml.core.nothing.Thing"] = {"kind": "class", "module": "azureml.core.nothing",
                                                      "name": "Thing", "members": {}}
    real = copy.deepcopy(real_surface)
    real["modules"]["azureml.core.nothing"] = "ModuleNotFoundError: No module named 'azureml.core.nothing'"
    before = set(_compare(embedded_surface, real_surface, None, "azureml-core"))
    problems = set(_compare(changed, real, None, "azureml-core")) - before
    assert {p.split(":")[0] for p in problems} == {
        "azureml.core.workspace.Workspace.get", "azureml.core.workspace.Workspace.name",
        "azureml.core.workspace.Workspace.helper", "azureml.data.datapath.PathHelper", "azureml.core.nothing"}
    assert any("real staticmethod (name, auth=None, subscription_id=None" in p for p in problems)
    assert any(p.startswith("azureml.core.workspace.Workspace.name: embedded method (self), real property")
               for p in problems)


def test_the_wheel_comparison_reads_automl_config(real_surface: dict[str, Any], wheel: Path) -> None:
    """The wheel's AutoMLConfig and AutoMLRun are read from source: a default computed from the package's
    constants matches any value, an inherited azureml-core method is found, a wrong parameter is reported."""
    real_init = ("(self, task, path=None, iterations=None, primary_metric=None, positive_label=None, "
                 "compute_target=None, spark_context=None, X=None, y=None, sample_weight=None, X_valid=None, "
                 "y_valid=None, sample_weight_valid=None, cv_splits_indices=None, validation_size=None, "
                 "n_cross_validations=None, y_min=None, y_max=None, num_classes=None, featurization='auto', "
                 "max_cores_per_iteration=1, max_concurrent_iterations=1, iteration_timeout_minutes=None, "
                 "mem_in_mb=None, enforce_time_on_windows=False, experiment_timeout_hours=None, "
                 "experiment_exit_score=None, enable_early_stopping=True, blocked_models=None, "
                 "blacklist_models=None, exclude_nan_labels=True, verbosity=20, enable_tf=False, "
                 "model_explainability=True, allowed_models=None, whitelist_models=None, "
                 "enable_onnx_compatible_models=False, enable_voting_ensemble=True, enable_stack_ensemble=None, "
                 "debug_log='automl.log', training_data=None, validation_data=None, test_data=None, test_size=None, "
                 "label_column_name=None, weight_column_name=None, cv_split_column_names=None, "
                 "enable_local_managed=False, enable_dnn=None, forecasting_parameters=None, **kwargs)")
    method = lambda signature: {"kind": "method", "signature": signature}  # noqa: E731
    config, run = "azureml.train.automl.automlconfig", "azureml.train.automl.run"
    fake = {"modules": {"azureml.train.automl": None, config: None, run: None},
            "names": {
                "azureml.train.automl.AutoMLConfig": {"kind": "class", "module": "azureml.train.automl",
                                                      "name": "AutoMLConfig", "same_as": f"{config}.AutoMLConfig"},
                f"{config}.AutoMLConfig": {"kind": "class", "module": config, "name": "AutoMLConfig", "members": {
                    "__init__": method(real_init), "user_settings": {"kind": "instance attribute"}}},
                f"{run}.AutoMLRun": {"kind": "class", "module": run, "name": "AutoMLRun", "members": {
                    "get_output": method("(self, iteration=None, metric=None, return_onnx_model=False, "
                                         "return_split_onnx_model=None, **kwargs)"),
                    "get_metrics": method("(self, name=None, recursive=False, run_type=None, populate=False)"),
                    "run_id": {"kind": "property", "settable": False},
                    "get_best_child": method("(self, metric=None, **kwargs)")}}}}
    real = _real(fake, "_real_wheel", str(wheel))
    problems = _compare(fake, real, WHEEL_PREFIX, "the wheel")
    assert problems == [f"{run}.AutoMLRun.get_best_child: embedded method (self, metric=None, **kwargs), real "
                        "method (self, metric=None, onnx_compatible=False, **kwargs)"]


def test_the_surface_walk_finds_the_embedded_classes(embedded_surface: dict[str, Any]) -> None:
    """The walk sees what it compares: modules of the package, classes, their methods, properties and kinds."""
    names = embedded_surface["names"]
    workspace = names["azureml.core.workspace.Workspace"]["members"]
    assert workspace["from_config"]["kind"] == "staticmethod"
    assert workspace["name"] == {"kind": "property", "settable": False}
    assert workspace["__init__"]["signature"].startswith("(self, subscription_id, resource_group, workspace_name")
    assert names["azureml.core.Workspace"]["same_as"] == "azureml.core.workspace.Workspace"
    assert names["azureml.core.run.Run"]["members"]["get_context"]["kind"] == "classmethod"
    assert "log" in names["azureml.core.run.Run"]["members"]
    # inherited from an embedded base: compared on the subclass too
    assert "name" in names["azureml.data.azure_storage_datastore.AzureBlobDatastore"]["members"]
    assert set(embedded_surface["modules"]) >= {"azureml.core", "azureml.data", "azureml.exceptions",
                                                "azureml.data.dataset_factory"}


# --------------------------------------------------------------------------- import cost


def test_no_embedded_module_imports_pandas_or_sklearn(embedded_surface: dict[str, Any]) -> None:
    """Importing every embedded module, one after another, imports neither pandas nor scikit-learn."""
    code = (
        "import importlib, json\n"
        "from test_sdk_signatures import HEAVY, _embedded_modules\n"
        "import azureml.core\n"
        "light = [m for m in ('pandas', 'sklearn', 'numpy') if m in sys.modules]\n"
        "blamed = {}\n"
        "for name in _embedded_modules():\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception:\n"
        "        continue\n"
        "    for heavy in HEAVY:\n"
        "        if heavy in sys.modules and heavy not in blamed:\n"
        "            blamed[heavy] = name\n"
        "print(json.dumps({'core': light, 'blamed': blamed}))\n"
    )
    result = _run(code, embedded=True)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.splitlines()[-1])
    assert found["core"] == [], f"import azureml.core imported {found['core']}"
    assert found["blamed"] == {}, f"importing these embedded modules imported pandas/sklearn: {found['blamed']}"
    importable = [m for m, error in embedded_surface["modules"].items() if error is None]
    assert len(importable) >= 10


# --------------------------------------------------------------------------- what the comparison made exact


def test_run_display_name_is_settable_as_on_azure(ws: Any, backend: Any) -> None:
    """``run.display_name = ...`` renames the run in the workspace (azureml's property has a setter)."""
    from azureml.core import Experiment, Run
    from azureml.exceptions import UserErrorException

    run = Experiment(ws, "alice-rename").start_logging()
    run.display_name = "baseline"
    assert run.display_name == "baseline" == backend.get_run(run.id).display_name
    assert Run(run.experiment, run.id).display_name == "baseline"
    with pytest.raises(UserErrorException, match="display name is text"):
        run.display_name = 5
    assert backend.get_run(run.id).display_name == "baseline"
    run.complete()
