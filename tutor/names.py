"""Learner usernames and the Azure resource names the course builds from them.

The course names resources after the learner (``alice-cluster``, ``alice-taxi-cost-pred``).
Azure refuses a name that breaks its rules only when the resource is created, half-way
through a lesson; checking the username against every derived name up front turns that
into one clear message at the start.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class NameRule:
    kind: str
    pattern: re.Pattern[str]
    min_len: int
    max_len: int
    explanation: str


COMPUTE = NameRule("compute name", re.compile(r"^[A-Za-z][A-Za-z0-9-]*$"), 2, 16,
                   "2-16 characters: letters, digits and hyphens, starting with a letter")
SERVICE = NameRule("service name", re.compile(r"^[a-z]([a-z0-9-]*[a-z0-9])?$"), 3, 32,
                   "3-32 characters: lower-case letters, digits and hyphens, starting with a letter "
                   "and ending with a letter or digit")
EXPERIMENT = NameRule("experiment name", re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$"), 1, 255,
                      "up to 255 characters: letters, digits, underscores and hyphens, starting with a letter or digit")
ASSET = NameRule("dataset or model name", re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"), 1, 255,
                 "up to 255 characters: letters, digits, underscores, dots and hyphens")

# Every resource the course creates from a username, with its rule.
DERIVED: tuple[tuple[str, NameRule], ...] = (
    ("{u}rcluster", COMPUTE),
    ("{u}-cluster", COMPUTE),
    ("{u}-dev", COMPUTE),
    ("{u}-taxi-cost-pred", SERVICE),
    ("{u}-taxi-aks", SERVICE),
    ("{u}-python-service", SERVICE),
    ("{u}-automl-service", SERVICE),
    ("{u}-taxi-experiment-r", EXPERIMENT),
    ("{u}-taxi-experiment-python", EXPERIMENT),
    ("{u}-taxi-experiment-automl", EXPERIMENT),
    ("{u}-green-taxi-prepped", ASSET),
    ("{u}-green-taxi-auto-train", ASSET),
    ("{u}-python-regression", ASSET),
)

USERNAME_RULE = "1-8 characters: lower-case letters and digits (hyphens inside), starting with a letter"
_USERNAME = re.compile(r"^[a-z]([a-z0-9-]*[a-z0-9])?$")


def check_name(name: str, rule: NameRule) -> str | None:
    """The reason ``name`` breaks ``rule``, or None."""
    if not (rule.min_len <= len(name) <= rule.max_len) or not rule.pattern.match(name):
        return f"'{name}' is not a valid Azure {rule.kind} ({rule.explanation})"
    return None


def username_problem(username: str) -> str | None:
    """Why ``username`` cannot be used, in words a learner can act on; None when it is fine."""
    if not username:
        return "The username is empty. " + USERNAME_RULE.capitalize() + ", e.g. 'alice'."
    if not _USERNAME.match(username) or len(username) > 8:
        for template, rule in DERIVED:
            problem = check_name(template.format(u=username), rule)
            if problem:
                return (f"'{username}' cannot be used: the course names resources after you and {problem}. "
                        f"Choose a username of {USERNAME_RULE}, e.g. 'alice' or 'bob2'.")
        return f"'{username}' cannot be used. Choose a username of {USERNAME_RULE}, e.g. 'alice' or 'bob2'."
    return None
