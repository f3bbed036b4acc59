"""Learner usernames and the Azure resource names the course builds from them.

The course names resources after the learner (``alice-cluster``, ``alice-taxi-cost-pred``).
Azure refuses a name that breaks its rules only when the resource is created, half-way
through a lesson; checking the username against every derived name up front, with the
workspace's own rules (:mod:`tutor.workspace.naming`), turns that into one clear message at
the start.
"""

from __future__ import annotations

import re

from tutor.errors import TutorError
from tutor.workspace import naming

# Every resource the course creates from a username, with Azure's rule for it.
DERIVED: tuple[tuple[str, naming.NameRule], ...] = (
    ("{u}rcluster", naming.CLUSTER),
    ("{u}-cluster", naming.CLUSTER),
    ("{u}-dev", naming.COMPUTE_INSTANCE),
    ("{u}-ws", naming.WORKSPACE),
    ("{u}-taxi-cost-pred", naming.SERVICE),
    ("{u}-taxi-aks", naming.SERVICE),
    ("{u}-python-service", naming.SERVICE),
    ("{u}-automl-service", naming.SERVICE),
    ("{u}-taxi-experiment-r", naming.EXPERIMENT),
    ("{u}-taxi-experiment-python", naming.EXPERIMENT),
    ("{u}-taxi-experiment-automl", naming.EXPERIMENT),
    ("{u}-green-taxi-prepped", naming.DATASET),
    ("{u}-green-taxi-auto-train", naming.DATASET),
    ("{u}-python-regression", naming.MODEL),
)

USERNAME_RULE = "1-8 characters: lower-case letters and digits (hyphens inside), starting with a letter"
_USERNAME = re.compile(r"^[a-z]([a-z0-9-]*[a-z0-9])?$")
EXAMPLE = "e.g. 'alice' or 'bob2'"


def username_problem(username: str) -> str | None:
    """Why ``username`` cannot be used, in words a learner can act on; None when it is fine."""
    if not username:
        return f"The username is empty. Choose one of {USERNAME_RULE}, {EXAMPLE}."
    if _USERNAME.match(username) and len(username) <= 8:
        return None
    for template, rule in DERIVED:
        try:
            naming.check_name(rule, template.format(u=username))
        except TutorError as exc:
            return (f"'{username}' cannot be used: the course names resources after you, and {exc.what.rstrip('.')} "
                    f"({rule.description}). Choose a username of {USERNAME_RULE}, {EXAMPLE}.")
    return f"'{username}' cannot be used. Choose a username of {USERNAME_RULE}, {EXAMPLE}."
