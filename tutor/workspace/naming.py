"""Azure ML's naming rules, checked up front.

The embedded workspace would accept almost any name, but a learner who later moves to
Azure should meet the same rules here first: a cluster named ``christopherrcluster`` is
refused by Azure (more than 16 characters), so it is refused here too, with the fix.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from tutor.errors import TutorError


@dataclass(frozen=True)
class NameRule:
    what: str
    pattern: re.Pattern[str]
    min_len: int
    max_len: int
    description: str


def _rule(what: str, pattern: str, min_len: int, max_len: int, description: str) -> NameRule:
    return NameRule(what, re.compile(pattern), min_len, max_len, description)


WORKSPACE = _rule(
    "workspace", r"[A-Za-z0-9][A-Za-z0-9_-]*", 3, 33,
    "3-33 characters: letters, digits, '-' and '_', starting with a letter or digit",
)
CLUSTER = _rule(
    "compute cluster", r"[A-Za-z][A-Za-z0-9-]*", 2, 16,
    "2-16 characters: letters, digits and '-', starting with a letter",
)
COMPUTE_INSTANCE = _rule(
    "compute instance", r"[A-Za-z][A-Za-z0-9-]*", 3, 24,
    "3-24 characters: letters, digits and '-', starting with a letter",
)
EXPERIMENT = _rule(
    "experiment", r"[A-Za-z0-9][A-Za-z0-9_-]*", 1, 256,
    "1-256 characters: letters, digits, '_' and '-', starting with a letter or digit",
)
DATASET = _rule(
    "dataset", r"[A-Za-z0-9][A-Za-z0-9_.-]*", 1, 250,
    "1-250 characters: letters, digits, '_', '.' and '-', starting with a letter or digit",
)
ENVIRONMENT = _rule(
    "environment", r"[A-Za-z0-9][A-Za-z0-9_.-]*", 1, 255,
    "1-255 characters: letters, digits, '_', '.' and '-', starting with a letter or digit",
)
MODEL = _rule(
    "model", r"[A-Za-z0-9][A-Za-z0-9_.-]*", 1, 255,
    "1-255 characters: letters, digits, '_', '.' and '-', starting with a letter or digit",
)
SERVICE = _rule(
    "service", r"[a-z][a-z0-9-]*[a-z0-9]", 3, 32,
    "3-32 characters: lowercase letters, digits and '-', starting with a letter "
    "and ending with a letter or digit",
)


def check_name(rule: NameRule, name: str) -> str:
    """Return ``name`` if Azure would accept it for ``rule``; else raise a TutorError."""
    if not isinstance(name, str) or not name:
        raise TutorError(f"A {rule.what} needs a name.", f"Use {rule.description}.")
    if not (rule.min_len <= len(name) <= rule.max_len) or not rule.pattern.fullmatch(name):
        problem = f"has {len(name)} characters" if not (rule.min_len <= len(name) <= rule.max_len) else "has a character Azure does not allow there"
        raise TutorError(
            f"'{name}' is not a valid {rule.what} name: it {problem}.",
            f"Azure ML requires {rule.description}. Choose a name like that (a shorter username helps).",
        )
    return name


def check_tags(tags: object) -> dict[str, str]:
    """Tags are string pairs on Azure; numbers are turned into text, anything else refused."""
    if tags is None:
        return {}
    if not isinstance(tags, Mapping):
        raise TutorError(f"Tags must be a mapping of names to values, not {type(tags).__name__}.",
                         'Pass them like {"model": "basic"}.')
    clean: dict[str, str] = {}
    for key, value in tags.items():
        if not isinstance(key, str) or not key:
            raise TutorError(f"Tag name {key!r} is not a non-empty string.", "Use text names for tags.")
        if isinstance(value, (str, int, float, bool)):
            clean[key] = str(value)
        elif value is None:
            clean[key] = ""
        else:
            raise TutorError(f"Tag '{key}' has a {type(value).__name__} value; Azure tags hold text.",
                             "Turn the value into a string first.")
    return clean
