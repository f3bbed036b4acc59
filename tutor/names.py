"""Learner usernames and the Azure resource names the course builds from them.

The course names resources after the learner (``alice-cluster``, ``alice-taxi-cost-pred``).
Azure refuses a name that breaks its rules only when the resource is created, half-way
through a lesson; checking the username against every derived name up front, with the
workspace's own rules (:mod:`tutor.workspace.naming`), turns that into one clear message at
the start.

The engine knows no lesson: the derived names are read from the lessons themselves — the
``name`` of a step whose action creates something, the parameters that name a resource
(``experiment``, ``compute``, ``dataset``...), and the creating calls in a step's code — so an
instructor who adds a lesson with a new resource gets it checked and cleaned up too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

from tutor.errors import TutorError
from tutor.workspace import naming

# What the ``name`` parameter of a creating action names.
ACTION_KINDS: dict[str, str] = {
    "compute.instance": "compute_instance",
    "compute.cluster": "cluster",
    "experiment.create": "experiment",
    "dataset.register": "dataset",
    "environment.register": "environment",
    "model.register": "model",
    "deploy.service": "service",
    "deploy.scale_out": "service",
}
# Parameters of any action that name a resource.
PARAM_KINDS: dict[str, str] = {
    "experiment": "experiment",
    "compute": "cluster",
    "environment": "environment",
    "dataset": "dataset",
    "train_name": "dataset",
    "test_name": "dataset",
}
_NAME = r"""\s*["']([^"']+)["']"""
# Creating calls in a step's code (Python and R), for resources no action parameter names.
CREATING_CALLS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("compute", re.compile(r"ComputeTarget\.create\(\s*(?:workspace\s*=\s*)?\w+\s*,\s*(?:name\s*=)?" + _NAME)),
    ("cluster", re.compile(r"create_(?:aml|aks)_compute\(\s*\w+\s*,\s*(?:cluster_name\s*=)?" + _NAME)),
    ("service", re.compile(r"Model\.deploy\(\s*(?:workspace\s*=\s*)?\w+\s*,\s*(?:name\s*=)?" + _NAME)),
    ("service", re.compile(r"deploy_model\(\s*\w+\s*,\s*(?:service_name\s*=)?" + _NAME)),
)
RULES: dict[str, naming.NameRule] = {
    "workspace": naming.WORKSPACE,
    "cluster": naming.CLUSTER,
    "compute": naming.CLUSTER,  # a compute target made in code: the stricter of the compute rules
    "compute_instance": naming.COMPUTE_INSTANCE,
    "experiment": naming.EXPERIMENT,
    "dataset": naming.DATASET,
    "environment": naming.ENVIRONMENT,
    "model": naming.MODEL,
    "service": naming.SERVICE,
}
USERNAME = "{username}"


@dataclass(frozen=True, order=True)
class CourseName:
    """A resource name the lessons build from the username, e.g. ``{username}-taxi-env``."""

    template: str
    kind: str  # a key of RULES

    @property
    def rule(self) -> naming.NameRule:
        return RULES[self.kind]

    def for_user(self, username: str) -> str:
        return self.template.replace(USERNAME, username)


def course_names(course: Any) -> list[CourseName]:
    """Every resource name the course's lessons build from the username, each with its kind.

    A name given by a creating action's ``name`` has that action's kind; a name found only in
    code keeps the kind of its creating call. Names without ``{username}`` are everyone's, not a
    learner's, and are left out.
    """
    found: dict[str, str] = {}

    def note(template: Any, kind: str, *, strong: bool) -> None:
        if isinstance(template, str) and USERNAME in template and (strong or template not in found):
            found[template] = kind

    for step in course.steps:
        kind = ACTION_KINDS.get(step.action)
        if kind:
            note(step.params.get("name"), kind, strong=True)
        for key, value in step.params.items():
            if key in PARAM_KINDS:
                note(value, PARAM_KINDS[key], strong=False)
    for step in course.steps:
        for code in step.code.values():
            for kind, pattern in CREATING_CALLS:
                for match in pattern.finditer(code):
                    note(match.group(1), kind, strong=False)
    return sorted(CourseName(template, kind) for template, kind in found.items())


def learner_names(course: Any, username: str, kinds: Iterable[str] | None = None) -> set[str]:
    """The names of ``username``'s resources of these kinds (all kinds when None)."""
    wanted = set(kinds) if kinds is not None else set(RULES)
    return {name.for_user(username) for name in course_names(course) if name.kind in wanted}


def creating_step(course: Any, username: str, name: str, kinds: Iterable[str]) -> Any:
    """The course step whose action creates the resource ``name`` of one of ``kinds``, or None."""
    wanted = set(kinds)
    for step in course.steps:
        template = step.params.get("name")
        if (ACTION_KINDS.get(step.action) in wanted and isinstance(template, str)
                and template.replace(USERNAME, username) == name):
            return step
    return None


USERNAME_RULE = "1-8 characters: lower-case letters and digits (hyphens inside), starting with a letter"
_USERNAME = re.compile(r"^[a-z]([a-z0-9-]*[a-z0-9])?$")
EXAMPLE = "e.g. 'alice' or 'bob2'"


def _derived(course: Any) -> list[CourseName]:
    from tutor.workspace import workspace_name

    names = [CourseName(workspace_name(USERNAME), "workspace")]
    if course is None:
        from tutor.lessons import load_course

        try:
            course = load_course()
        except TutorError:  # a broken lesson is reported, with its file, where the course is loaded
            return names
    return names + course_names(course)


def username_problem(username: str, course: Any = None) -> str | None:
    """Why ``username`` cannot be used, in words a learner can act on; None when it is fine.

    ``course`` (the shipped lessons when None) gives the names built from the username; each
    must pass Azure's rule for its kind.
    """
    if not username:
        return f"The username is empty. Choose one of {USERNAME_RULE}, {EXAMPLE}."
    for name in _derived(course):
        try:
            naming.check_name(name.rule, name.for_user(username))
        except TutorError as exc:
            return (f"'{username}' cannot be used: the course names resources after you, and {exc.what.rstrip('.')} "
                    f"({name.rule.description}). Choose a username of {USERNAME_RULE}, {EXAMPLE}.")
    if _USERNAME.match(username) and len(username) <= 8:
        return None
    return f"'{username}' cannot be used. Choose a username of {USERNAME_RULE}, {EXAMPLE}."
