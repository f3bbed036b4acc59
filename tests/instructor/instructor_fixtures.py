"""Generated progress files for the instructor tools' tests.

Progress files are generated from the shipped course itself: a done step gets evidence that
satisfies its lesson's ``done_when`` (and its question), so the generators keep working as
lessons are added. Key evidence (R^2, test accuracy, AutoML RMSE, a service) is added on steps
whose keys match the report's patterns, including two steps the course does not have yet.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from tutor.lessons import Course, Step, split_key
from tutor.progress import new_document
from tutor_testing import tutor_env

NOW = datetime(2026, 5, 4, 17, 0, tzinfo=timezone.utc)

# The shipped steps whose evidence the class report's key columns read.
AUTOML_STEP = "day2-automl/evaluate"
SERVICE_STEP = "day1-deploy/deploy"


def iso(stamp: datetime) -> str:
    return stamp.isoformat(timespec="seconds")


def _set(target: dict[str, Any], dotted: str, value: Any) -> None:
    parts = split_key(dotted)
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    target.setdefault(parts[-1], value)


def good_evidence(step: Step) -> dict[str, Any]:
    """Evidence that satisfies the step's done_when and answers its question."""
    evidence: dict[str, Any] = {}
    for check in step.done_when:
        value = check.value
        if check.op == "exists":
            value = "x"
        elif check.op in (">", "!=") and isinstance(value, bool):
            value = not value
        elif check.op in (">", "!=") and isinstance(value, float) and 0 < value < 1:
            value = (value + 1) / 2  # a share or a score: stay below 1
        elif check.op in (">", "!=") and isinstance(value, (int, float)):
            value = value + 1
        elif check.op == "!=":
            value = f"{value}-other"
        elif check.op == "<":
            value = value - 1
        _set(evidence, check.key, value)
    question = step.question
    if question is not None and question.answer_from:
        _set(evidence, question.answer_from, question.choices[0] if question.kind == "select" else 1)
    return evidence


def make_doc(course: Course, learner: str, *, done: int | None = None, skipped: tuple[int, ...] = (),
             failed_at: dict[int, int] | None = None, hints: dict[int, int] | None = None,
             last_active: datetime = NOW - timedelta(minutes=2), key_evidence: bool = False,
             step_seconds: float = 60.0) -> dict[str, Any]:
    """A progress document: the first ``done`` steps finished (indexes in ``skipped`` skipped),
    ``failed_at`` {index: failures} failing, the last entry ending at ``last_active``."""
    steps = course.steps
    done = len(steps) if done is None else done
    failed_at = failed_at or {}
    hints = hints or {}
    touched = sorted(set(range(done)) | set(failed_at))
    doc = new_document(learner, "local", f"{learner}-ws")
    start = last_active - timedelta(seconds=step_seconds * (len(touched) + 1))
    doc["created_at"] = iso(start - timedelta(seconds=5))
    for n, index in enumerate(touched):
        step = steps[index]
        began = start + timedelta(seconds=step_seconds * n)
        entry: dict[str, Any] = {"status": None, "attempts": 1, "hints_used": hints.get(index, 0),
                                 "time_spent_s": 1.5, "started_at": iso(began),
                                 "finished_at": iso(began + timedelta(seconds=1.5))}
        if index in failed_at:
            entry.update(status="failed", attempts=failed_at[index], failures=failed_at[index],
                         time_spent_s=1.5 * failed_at[index], error="The step ran but did not reach what counts as done")
        elif index in skipped:
            entry.update(status="skipped")
            del entry["started_at"]
        else:
            entry.update(status="done", duration_s=1.5, evidence=good_evidence(step), outputs={},
                         summary=f"{step.title}: done.")
        doc["steps"][step.key] = entry
        doc["current_step"] = step.key
    if key_evidence and done == len(steps):
        day1 = [s for s in steps if s.lesson_id.startswith("day1-")]
        day2 = [s for s in steps if s.lesson_id.startswith("day2-")]
        if day1:
            doc["steps"][day1[-1].key]["evidence"]["runs"] = {"1 basic": {"R^2": 0.8894, "RMSE Test": 3.31},
                                                              "4 full": {"R^2": 0.8931, "RMSE Test": 3.28}}
        if day2:
            doc["steps"][day2[-1].key]["evidence"]["Test accuracy"] = 0.8906
        doc["steps"][AUTOML_STEP]["evidence"]["rmse"] = 3.534
        doc["steps"][SERVICE_STEP]["evidence"]["service_name"] = f"{learner}-taxi-cost-pred"
    doc["updated_at"] = iso(last_active)
    return doc


def write(folder: Path, name: str, content: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(content if isinstance(content, str) else json.dumps(content, indent=2), encoding="utf-8")
    return path


def record_exercises(path: Path, learner: str, exercises: dict[str, dict[str, Any]]) -> None:
    """Record exercises in the progress file at ``path`` as the exercise loop does, through
    :meth:`tutor.progress.Progress.record_exercise`: per step key ``attempts`` and ``hints`` (how
    many), ``seconds``, ``solution_shown``, then the ending ``status`` (and ``code`` when solved)."""
    from tutor.progress import Progress

    with Progress.open(path, learner, create=False) as progress:
        for key, spec in exercises.items():
            progress.record_exercise(key, status="open")
            for _ in range(spec.get("attempts", 0)):
                progress.record_exercise(key, attempt=True)
            for _ in range(spec.get("hints", 0)):
                progress.record_exercise(key, hint=True)
            if spec.get("solution_shown"):
                progress.record_exercise(key, solution_shown=True)
            progress.record_exercise(key, status=spec.get("status", "open"), code=spec.get("code"),
                                     seconds=spec.get("seconds", 0.0), file=spec.get("file"))


def run_instructor(args: list[str], *, data: Path | None = None, cwd: Path | None = None,
                   timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The instructor commands as a real process (``python -m tutor``), no terminal."""
    if args and args[0] == "rehearse":
        args = ["lessons", *args]
    return subprocess.run([sys.executable, "-m", "tutor", *args], capture_output=True, text=True,
                          timeout=timeout, env=tutor_env(data), cwd=cwd, stdin=subprocess.DEVNULL)
