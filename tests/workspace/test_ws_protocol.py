"""Both backends implement the whole Workspace protocol, call for call.

mypy checks the types (``open_workspace`` returns either class as a ``Workspace``); this
checks what a call site relies on at run time and mypy cannot see through ``Any``: every
declared method exists on both classes, takes each declared parameter under the same name
and in the same way (positionally or by keyword), has a default wherever the protocol has
one (the same default where the protocol names it), and needs nothing more.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from tutor.workspace.base import Workspace

POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def _backends() -> list[Any]:
    from tutor.workspace.azure.workspace import AzureWorkspace
    from tutor.workspace.local import LocalWorkspace

    return [LocalWorkspace, AzureWorkspace]


def _declared() -> dict[str, Any]:
    """The protocol's members: its methods and properties (``name`` is a plain attribute)."""
    return {name: value for name, value in vars(Workspace).items()
            if not name.startswith("_") and (inspect.isfunction(value) or isinstance(value, property))}


def signature_problems(declared: inspect.Signature, actual: inspect.Signature) -> list[str]:
    """Why a call written against ``declared`` could fail on ``actual`` (empty: it cannot)."""
    problems: list[str] = []
    wanted = [p for p in declared.parameters.values() if p.name != "self"]
    given = {p.name: p for p in actual.parameters.values() if p.name != "self"}
    positional = [p.name for p in actual.parameters.values() if p.name != "self" and p.kind in POSITIONAL]
    takes_kwargs = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in given.values())
    for index, param in enumerate(wanted):
        if param.kind is inspect.Parameter.VAR_KEYWORD:
            if not takes_kwargs:
                problems.append("takes no **keywords")
            continue
        mine = given.get(param.name)
        if mine is None:
            problems.append(f"has no parameter {param.name!r}")
            continue
        if param.kind in POSITIONAL and (mine.kind not in POSITIONAL or positional.index(mine.name) != index):
            problems.append(f"{param.name!r} is not positional argument {index + 1}")
        if param.kind is inspect.Parameter.KEYWORD_ONLY and mine.kind is inspect.Parameter.POSITIONAL_ONLY:
            problems.append(f"{param.name!r} cannot be passed by keyword")
        if param.default is not inspect.Parameter.empty:
            if mine.default is inspect.Parameter.empty:
                problems.append(f"{param.name!r} has no default")
            elif param.default is not Ellipsis and mine.default != param.default:
                problems.append(f"{param.name!r} defaults to {mine.default!r}, not {param.default!r}")
    names = {p.name for p in wanted}
    for mine in given.values():
        extra = mine.name not in names and mine.kind not in (inspect.Parameter.VAR_POSITIONAL,
                                                             inspect.Parameter.VAR_KEYWORD)
        if extra and mine.default is inspect.Parameter.empty:
            problems.append(f"needs {mine.name!r}, which the protocol does not pass")
    return problems


def test_the_protocol_declares_what_the_course_calls() -> None:
    """The methods step actions and the AutoML parent run call are all declared."""
    declared = _declared()
    for name in ("connect", "deploy_service", "wait_for_service", "service_keys", "regen_service_key",
                 "delete_service", "start_logging", "log_metrics", "complete_run", "upload_run_file",
                 "set_run_tags", "record_child_run", "kind"):
        assert name in declared, name
    assert "name" in Workspace.__annotations__


@pytest.mark.parametrize("backend", _backends(), ids=lambda c: c.__name__)
def test_each_backend_has_every_declared_method_with_a_compatible_signature(backend: type) -> None:
    problems: dict[str, list[str]] = {}
    for name, declared in _declared().items():
        actual = inspect.getattr_static(backend, name, None)
        if isinstance(declared, property):
            if actual is None:
                problems[name] = ["is missing"]
            continue
        if actual is None or not callable(actual):
            problems[name] = ["is missing"]
            continue
        found = signature_problems(inspect.signature(declared), inspect.signature(actual))
        if found:
            problems[name] = found
    assert problems == {}
    assert any("name" in vars(klass).get("__annotations__", {}) for klass in backend.__mro__)


def test_the_check_finds_an_incompatible_signature() -> None:
    """The comparison above is not vacuous: each kind of mismatch is reported."""

    def declared(self, run_id: str, status: str = "Completed", *, error: str | None = None) -> None: ...

    def renamed(self, id: str, status: str = "Completed", *, error: str | None = None) -> None: ...
    def no_default(self, run_id: str, status: str, *, error: str | None = None) -> None: ...
    def other_default(self, run_id: str, status: str = "Failed", *, error: str | None = None) -> None: ...
    def keyword_only(self, *, run_id: str, status: str = "Completed", error: str | None = None) -> None: ...
    def needs_more(self, run_id: str, status: str = "Completed", *, error: str | None = None,
                   reason: str) -> None: ...
    def wider(self, run_id: str, status: str = "Completed", error: str | None = None, **extra: Any) -> None: ...

    want = inspect.signature(declared)
    assert signature_problems(want, inspect.signature(renamed)) == ["has no parameter 'run_id'",
                                                                   "needs 'id', which the protocol does not pass"]
    assert signature_problems(want, inspect.signature(no_default)) == ["'status' has no default"]
    assert signature_problems(want, inspect.signature(other_default)) == [
        "'status' defaults to 'Failed', not 'Completed'"]
    assert signature_problems(want, inspect.signature(keyword_only)) == ["'run_id' is not positional argument 1",
                                                                        "'status' is not positional argument 2"]
    assert signature_problems(want, inspect.signature(needs_more)) == [
        "needs 'reason', which the protocol does not pass"]
    assert signature_problems(want, inspect.signature(wider)) == []
