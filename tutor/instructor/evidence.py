"""Does a learner's progress hang together? Plausibility checks on one progress file.

A progress file is the learner's own record and it is plain JSON: it can be edited by hand,
copied from a neighbour or left half-written by an old tutor. These checks look for what a
real run of the tutor cannot produce:

``no-evidence``
    a step marked done whose evidence does not satisfy the lesson's ``done_when`` (the wizard
    never marks such a step done);
``implausible``
    a metric outside its possible range (an R^2 or accuracy outside [0, 1], a negative or
    absurd RMSE, a NaN), see :data:`PLAUSIBLE`;
``time-order``
    times out of order: a step finished before it started, the file last written before a
    step finished, a step started before the file was created, a time in the future or a
    time that is not a date;
``too-fast``
    a step done faster than it can be, see :data:`MIN_DURATION`;
``inconsistent``
    counters that contradict each other (done but never attempted, more failures than
    attempts, less time spent than the successful run took).

Each problem is a :class:`Flag`. The checks only read the document; they never fail.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from fnmatch import fnmatchcase
from typing import Any, Iterator

FLAG_KINDS = {
    "no-evidence": "a step marked done without the evidence its lesson asks for",
    "implausible": "a metric outside its possible range",
    "time-order": "times out of order, in the future, or not dates",
    "too-fast": "a step done faster than it can be",
    "inconsistent": "counters that contradict each other",
}

# Metric ranges, by evidence key name: (what, pattern on the key's last part, low, high, why).
# A value is flagged when it is outside [low, high] (or NaN/infinite). The pattern is matched
# case-insensitively against the key that holds the number (for a list, the key of the list).
PLAUSIBLE: tuple[tuple[str, re.Pattern[str], float, float, str], ...] = (
    ("R^2", re.compile(r"(^|[\s_.-])(r\^?2|r_?squared|accuracy)($|[\s_.-])", re.I), 0.0, 1.0,
     "an R^2 (the course's 'accuracy') lies between 0 and 1"),
    ("RMSE", re.compile(r"rmse", re.I), 0.0, 100.0,
     "an RMSE is in dollars of fare: never negative, and a model off by more than $100 is not a real result"),
    ("MAPE", re.compile(r"mape", re.I), 0.0, 10.0, "a MAPE is a ratio of absolute errors: never negative"),
    ("Spearman", re.compile(r"spearman", re.I), -1.0, 1.0, "a correlation lies between -1 and 1"),
)

# The least time a step can take, by the name of its action (fnmatch patterns, first match
# wins): (pattern, seconds, why). Steps that only read, copy or register something can be quick
# (a few milliseconds on the embedded workspace), so only actions that must start a process
# are listed. Steps the course does not know (so whose action is unknown) are not checked.
MIN_DURATION: tuple[tuple[str, float, str], ...] = (
    ("training.submit", 0.05, "a training run starts a process, loads the data and fits a model"),
    ("automl.run", 0.05, "an AutoML run trains and compares many models"),
    ("deploy.service", 0.05, "a deployment starts a service and waits for it to answer"),
    ("deploy.scale_out", 0.05, "a scaled-out deployment starts several workers and measures them"),
)

# How far in the future a time may be (clock differences between machines).
FUTURE_SLACK = timedelta(minutes=5)


@dataclass(frozen=True)
class Flag:
    kind: str  # one of FLAG_KINDS
    step: str | None  # lesson/step, or None for the whole file
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "step": self.step, "message": self.message}

    def __str__(self) -> str:
        return f"{self.step}: {self.message}" if self.step else self.message


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 time as an aware datetime (naive times are taken as UTC); None if it is not one."""
    if not isinstance(value, str):
        return None
    try:
        stamp = datetime.fromisoformat(value)
    except ValueError:
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc)


def _numbers(value: Any, name: str, path: str) -> Iterator[tuple[str, str, float]]:
    """Every number in ``value`` as (key name that holds it, dotted path, value)."""
    if isinstance(value, bool):
        return
    if isinstance(value, (int, float)):
        yield name, path, float(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _numbers(item, str(key), f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _numbers(item, name, f"{path}[{index}]")


def implausible_metrics(evidence: dict[str, Any]) -> list[str]:
    """Messages for each metric in ``evidence`` outside its :data:`PLAUSIBLE` range."""
    problems = []
    for name, path, number in _numbers(evidence, "", ""):
        if math.isnan(number) or math.isinf(number):
            problems.append(f"{path} is {number}, not a number a finished step can record")
            continue
        for what, pattern, low, high, why in PLAUSIBLE:
            if pattern.search(name):
                if not low <= number <= high:
                    problems.append(f"{path} = {number:g} is not a plausible {what} ({why})")
                break
    return problems


def min_duration(action: str) -> tuple[float, str] | None:
    for pattern, seconds, why in MIN_DURATION:
        if fnmatchcase(action, pattern):
            return seconds, why
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def check_document(doc: dict[str, Any], course: Any, *, now: datetime | None = None) -> list[Flag]:
    """Every :class:`Flag` for one progress document (as read by ``read_document``).

    ``course`` is a :class:`tutor.lessons.Course`: it gives each step's ``done_when`` and
    action. Steps the course does not know (an older or newer course) get the checks that
    need no lesson.
    """
    now = now or datetime.now(timezone.utc)
    flags: list[Flag] = []
    by_key = {step.key: step for step in course.steps}
    steps = doc.get("steps") or {}

    def times(owner: str | None, entry: dict[str, Any], *names: str) -> dict[str, datetime]:
        found = {}
        for name in names:
            raw = entry.get(name)
            if raw is None:
                continue
            stamp = parse_time(raw)
            if stamp is None:
                flags.append(Flag("time-order", owner, f"{name} is {raw!r}, not a date and time"))
                continue
            if stamp > now + FUTURE_SLACK:
                flags.append(Flag("time-order", owner, f"{name} {raw} is in the future"))
            found[name] = stamp
        return found

    file_times = times(None, doc, "created_at", "updated_at")
    created, updated = file_times.get("created_at"), file_times.get("updated_at")
    if created and updated and updated < created:
        flags.append(Flag("time-order", None,
                          f"updated_at {doc['updated_at']} is before created_at {doc['created_at']}"))

    for key, entry in steps.items():
        if not isinstance(entry, dict):
            flags.append(Flag("inconsistent", key, "the step's entry is not a JSON object"))
            continue
        status = entry.get("status")
        step = by_key.get(key)
        stamps = times(key, entry, "started_at", "finished_at")
        started, finished = stamps.get("started_at"), stamps.get("finished_at")
        # A step run again keeps its last finish until it ends: only a step that ended is checked.
        if status != "running" and started and finished and finished < started:
            flags.append(Flag("time-order", key,
                              f"finished at {entry['finished_at']}, before it started at {entry['started_at']}"))
        if created and started and started < created:
            flags.append(Flag("time-order", key,
                              f"started at {entry['started_at']}, before the file was created ({doc['created_at']})"))
        last = max((t for t in (started, finished) if t), default=None)
        if updated and last and updated < last:
            flags.append(Flag("time-order", key, f"the file says it was last written at {doc['updated_at']}, "
                                                 f"before this step's {_iso(last)}"))

        attempts = _number(entry.get("attempts"))
        failures = _number(entry.get("failures"))
        duration = _number(entry.get("duration_s"))
        spent = _number(entry.get("time_spent_s"))
        if status == "done" and attempts is not None and attempts < 1:
            flags.append(Flag("inconsistent", key, "done, but never attempted (attempts is 0)"))
        if attempts is not None and failures is not None and failures > attempts:
            flags.append(Flag("inconsistent", key, f"{failures:g} failures in {attempts:g} attempts"))
        if duration is not None and duration < 0:
            flags.append(Flag("inconsistent", key, f"duration_s is negative ({duration:g})"))
        if status == "done" and duration is not None and spent is not None and spent + 0.01 < duration:
            flags.append(Flag("inconsistent", key, f"time_spent_s ({spent:g}) is less than the successful run's "
                                                   f"duration_s ({duration:g})"))

        if status != "done":
            continue
        if step is not None and duration is not None and duration >= 0:
            floor = min_duration(step.action)
            # After an exercise the action finds what the learner's code made: the work took the
            # exercise's time, not the action's.
            raw = entry.get("exercise")
            exercise: dict[str, Any] = raw if isinstance(raw, dict) else {}
            worked = duration
            if exercise.get("status") in ("solved", "skipped", "solved-by-reference"):
                worked += _number(exercise.get("time_spent_s")) or 0.0
            if floor and worked < floor[0]:
                flags.append(Flag("too-fast", key,
                                  f"done in {worked:g} s; it cannot take under {floor[0]:g} s ({floor[1]})"))
        evidence = entry.get("evidence")
        if not isinstance(evidence, dict):
            if step is not None and step.done_when:
                flags.append(Flag("no-evidence", key, "marked done with no evidence recorded"))
            continue
        if step is not None:
            unmet = [check.source for check in step.done_when if not check.holds(evidence)]
            if unmet:
                flags.append(Flag("no-evidence", key, "marked done, but its evidence does not show "
                                                      + "; ".join(unmet)))
        for problem in implausible_metrics(evidence):
            flags.append(Flag("implausible", key, problem))
    return flags


def _iso(stamp: datetime) -> str:
    return stamp.isoformat(timespec="seconds")
