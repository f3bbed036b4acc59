"""An exercise as lesson data: the task, the scaffold, the checks, the hints, the names it binds.

A step with ``[steps.exercise]`` asks the learner to write the step's code. The reference
solution is the step's own ``code.python`` (the code shown elsewhere is the code that runs).
Checks look at effects — what is in the workspace, what the learner's names hold — never at
the text, so any correct code passes. This module only parses and validates; the checks are
registered in :mod:`tutor.exercises.checks` and the loop that asks lives in
:mod:`tutor.exercises.runner`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

EXERCISE_FIELDS = {"task", "scaffold", "checks", "hints", "needs", "file", "blank", "requires"}
BLANK = "____"
_NAME_RE = re.compile(r"^[A-Za-z_]\w*$")


@dataclass(frozen=True)
class ExerciseCheck:
    """One check: a registered check name and its parameters (templated like step params)."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)
    # Checks that compare with the step's evidence run after the step's action has gathered it.
    after_action: bool = False


@dataclass(frozen=True)
class Exercise:
    task: str
    checks: tuple[ExerciseCheck, ...]
    scaffold: str = ""
    hints: tuple[str, ...] = ()
    # Names the code builds on (``ws``, ``exp``, ``runs``...), each with the code that makes it
    # from the workspace; run in order before the exercise, so they are the ones this step
    # means (day 2's ``exp`` is not day 1's) in a new session and after a kernel restart too.
    needs: dict[str, str] = field(default_factory=dict)
    # A file exercise (rustlings' way): the learner writes part of a course file, ``file``
    # (relative to the course folder). ``blank`` names the function whose body the learner
    # writes: the course's copy is given with that body replaced by ``scaffold``. The
    # reference is the course's own copy of the file, then the step's code.
    file: str = ""
    blank: str = ""
    # Modules the code needs beyond azureml-core (``azureml.train.automl``): where the learner's
    # Python lacks one, the exercise is not offered and the step runs its own code.
    requires: tuple[str, ...] = ()


def parse_exercise(raw: Any, fail: Callable[[str], Exception], has_solution: bool) -> Exercise:
    """Validate ``[steps.exercise]``; ``fail(reason)`` builds the lesson error to raise."""
    from tutor.exercises.checks import registry

    if not isinstance(raw, dict):
        raise fail("'exercise' must be a table.")
    extra = sorted(set(raw) - EXERCISE_FIELDS)
    if extra:
        raise fail(f"the exercise has an unknown field '{extra[0]}' (known: {', '.join(sorted(EXERCISE_FIELDS))}).")
    task = raw.get("task")
    if not isinstance(task, str) or not task.strip():
        raise fail("an exercise needs a 'task': what the learner is to write, in a sentence or two.")
    if not has_solution:
        raise fail("an exercise needs the step's code.python: it is the reference solution.")
    scaffold = raw.get("scaffold", "")
    if not isinstance(scaffold, str):
        raise fail("the exercise's 'scaffold' must be a string (the code to start from, ____ for blanks).")
    hints = raw.get("hints", [])
    if not isinstance(hints, list) or not all(isinstance(h, str) for h in hints):
        raise fail("the exercise's 'hints' must be a list of strings.")
    needs = raw.get("needs", {})
    if not isinstance(needs, dict) or not all(isinstance(v, str) and v.strip() for v in needs.values()):
        raise fail("the exercise's 'needs' must be a table of name = \"code that makes it from the workspace\".")
    for name in needs:
        if not _NAME_RE.match(name):
            raise fail(f"'{name}' in the exercise's 'needs' is not a Python name.")
    file, blank = raw.get("file", ""), raw.get("blank", "")
    if not isinstance(file, str) or not isinstance(blank, str):
        raise fail("the exercise's 'file' and 'blank' must be strings (a course file, and a function in it).")
    if blank and not file:
        raise fail("the exercise's 'blank' names a function of its 'file': give the file too.")
    if file:
        problem = file_problem(file, blank)
        if problem:
            raise fail(problem)
    requires = raw.get("requires", [])
    if not isinstance(requires, list) or not all(isinstance(m, str) and re.match(r"^[A-Za-z_][\w.]*$", m)
                                                 for m in requires):
        raise fail("the exercise's 'requires' must be a list of module names, like [\"azureml.train.automl\"].")
    raw_checks = raw.get("checks")
    if not isinstance(raw_checks, list) or not raw_checks:
        raise fail("an exercise needs 'checks': a list of { check = \"name\", ... } tables.")
    known = registry()
    checks = []
    for entry in raw_checks:
        if not isinstance(entry, dict) or not isinstance(entry.get("check"), str):
            raise fail("each exercise check must be a table with a 'check' name, like { check = \"bound\", name = \"ws\" }.")
        name = entry["check"]
        spec = known.get(name)
        if spec is None:
            raise fail(f"unknown exercise check '{name}' (known checks: {', '.join(sorted(known))}).")
        params = {k: v for k, v in entry.items() if k != "check"}
        unknown = sorted(set(params) - spec.params)
        if unknown:
            raise fail(f"the exercise check '{name}' has no parameter '{unknown[0]}' "
                       f"(it takes: {', '.join(sorted(spec.params)) or 'none'}).")
        missing = sorted(spec.required - set(params))
        if missing:
            raise fail(f"the exercise check '{name}' needs the parameter '{missing[0]}'.")
        checks.append(ExerciseCheck(name, params, spec.after_action))
    return Exercise(task=task, checks=tuple(checks), scaffold=scaffold, hints=tuple(hints), needs=dict(needs),
                    file=file, blank=blank, requires=tuple(requires))


def shipped_file(file: str) -> Path | None:
    """The course's own copy of ``file`` (``score/score.py``), or None when the course has none."""
    from tutor.paths import course_resource

    parts = Path(file).parts
    if not parts or Path(file).is_absolute() or ".." in parts:
        return None
    try:
        path = course_resource(parts[0]).joinpath(*parts[1:])
    except (KeyError, ValueError, OSError):
        return None
    return path if path.is_file() else None


def _function(source: str, name: str) -> Any:
    """The module-level ``def name`` of ``source`` (an ast node), or None."""
    import ast

    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    return next((node for node in tree.body
                 if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name), None)


def function_body(source: str, name: str) -> tuple[int, int] | None:
    """The lines (0-based, end exclusive) of module-level ``def name``'s body after its docstring."""
    import ast

    node = _function(source, name)
    if node is None:
        return None
    body = node.body
    if (len(body) > 1 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)):
        body = body[1:]
    end = node.end_lineno or body[-1].end_lineno or body[-1].lineno
    return body[0].lineno - 1, end


def function_lines(source: str, name: str) -> tuple[int, int] | None:
    """The lines (0-based, end exclusive) of module-level ``def name``, its decorators included."""
    node = _function(source, name)
    if node is None:
        return None
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    return first - 1, node.end_lineno or node.lineno


def file_problem(file: str, blank: str) -> str | None:
    """Why ``file``/``blank`` cannot make a file exercise, or None."""
    shipped = shipped_file(file)
    if shipped is None:
        return f"the exercise's file '{file}' is not one of the course's files (train/... or score/...)."
    if blank and function_body(shipped.read_text(encoding="utf-8"), blank) is None:
        return f"the exercise's file '{file}' has no module-level function '{blank}' to leave blank."
    return None


def blanked(source: str, name: str, scaffold: str) -> str:
    """``source`` with the body of ``def name`` replaced by ``scaffold`` (indented as the body)."""
    lines = source.splitlines(keepends=True)
    span = function_body(source, name)
    if span is None:
        return source
    start, end = span
    indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())] or "    "
    body = [indent + line.rstrip() + "\n" if line.strip() else "\n"
            for line in _dedented(scaffold).splitlines()] or [indent + "pass\n"]
    return "".join(lines[:start] + body + lines[end:])


def _dedented(text: str) -> str:
    import textwrap

    return textwrap.dedent(text.strip("\n"))
