"""The registry of step actions, by name.

Lessons name their action (``action = "data.prepare"``); this module maps the name to
the function and knows which parameters it takes, so a lesson naming an unknown
action or parameter fails when it is loaded, not half-way through a class.

Action modules import only light modules at import time (pandas, scikit-learn and the
Azure SDK are imported inside the functions), so loading the registry stays fast.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Callable

from tutor.steps.base import Action

# One module per topic. Each registers its actions with @action when imported.
ACTION_MODULES = [
    "tutor.steps.data",
    "tutor.steps.scripts",
    "tutor.steps.workspace",
    "tutor.steps.datasets",
    "tutor.steps.training",
    "tutor.steps.deployment",
    "tutor.steps.automl",
]


@dataclass
class ActionSpec:
    name: str
    func: Action
    required: frozenset[str] = field(default_factory=frozenset)
    optional: frozenset[str] = field(default_factory=frozenset)
    doc: str = ""

    @property
    def params(self) -> frozenset[str]:
        return self.required | self.optional


_REGISTRY: dict[str, ActionSpec] = {}
_loaded = False


def action(name: str, *, required: tuple[str, ...] = (), optional: tuple[str, ...] = ()) -> Callable[[Action], Action]:
    """Register ``func`` as the action ``name`` taking these lesson parameters."""

    def register(func: Action) -> Action:
        _REGISTRY[name] = ActionSpec(
            name=name,
            func=func,
            required=frozenset(required),
            optional=frozenset(optional),
            doc=(func.__doc__ or "").strip().splitlines()[0] if func.__doc__ else "",
        )
        return func

    return register


def registry() -> dict[str, ActionSpec]:
    """All registered actions (imports the action modules on first call)."""
    global _loaded
    if not _loaded:
        for module in ACTION_MODULES:
            importlib.import_module(module)
        _loaded = True
    return _REGISTRY


def get_action(name: str) -> ActionSpec:
    return registry()[name]
