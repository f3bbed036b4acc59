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
from typing import Any, Callable

EXERCISE_FIELDS = {"task", "scaffold", "checks", "hints", "needs"}
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
    return Exercise(task=task, checks=tuple(checks), scaffold=scaffold, hints=tuple(hints), needs=dict(needs))
