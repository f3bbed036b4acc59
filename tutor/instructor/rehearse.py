"""Rehearse lessons before a class: run them for real, non-interactively, step by step.

Validating a lesson file (``tutor lessons check``) proves it loads; rehearsing it proves it
*works*: every step's action runs on a scratch course folder (a temporary directory with its
own embedded workspace), its evidence must satisfy ``done_when``, and a question that reads
its answer from the evidence must find one. Like rustlings' ``dev check``, each step gets a
result line (pass or fail, how long it took, and why it failed).

The rehearsal drives the real machinery, the same as ``tutor start --yes``: a
:class:`~tutor.wizard.Wizard` with an :class:`~tutor.prompts.AutoPrompter` writing a real
:class:`~tutor.progress.Progress` file. It watches that progress file to see each step end. A
failed step is then marked skipped and the rehearsal goes on, so one broken step does not hide
the state of the others (a later step that needs the failed step's outputs fails in turn, and
says which output it missed).

Lesson files given explicitly are rehearsed *in the course*: they replace the shipped lesson
with the same id (or are added to the course), and the shipped lessons before them run first
as setup, so a day-2 lesson finds the prepared data a day-1 lesson makes. ``alone=True``
rehearses only the given files.
"""

from __future__ import annotations

import io
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from rich.console import Console
from rich.text import Text

from tutor.progress import Progress

# How much of a failed step's screen output to keep (the last lines: the error panel).
DETAIL_LINES = 25


@dataclass
class StepOutcome:
    key: str  # lesson/step
    lesson: str
    title: str
    status: str  # "pass", "fail" or "not-run"
    seconds: float = 0.0
    reason: str = ""  # why it failed
    detail: str = ""  # the end of what the wizard showed for a failed step (its error panel)
    setup: bool = False  # a step of a lesson not under test, run so the lessons under test have what they need
    # How the step's exercise ended ("solved-by-reference": its reference solution ran in the
    # learner's kernel and passed its checks), "" for a step without one or with exercises off.
    exercise: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "pass"

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "lesson": self.lesson, "title": self.title, "status": self.status,
                "seconds": round(self.seconds, 3), "reason": self.reason, "setup": self.setup,
                "exercise": self.exercise}


def question_problem(step: Any, evidence: dict[str, Any]) -> str | None:
    """Why the step's question could not be answered from this evidence, or None."""
    question = step.question
    if question is None or question.answer_from is None:
        return None
    expected = question.expected(evidence)
    if expected is None:
        keys = ", ".join(sorted(evidence)) or "none"
        return (f"its question takes the answer from the evidence key '{question.answer_from}', "
                f"which the action did not record (evidence keys: {keys})")
    if question.kind == "select" and str(expected) not in question.choices:
        return (f"its question's answer '{expected}' (from '{question.answer_from}') is not one of the choices "
                f"({', '.join(question.choices)})")
    if question.kind == "number":
        try:
            float(expected)
        except (TypeError, ValueError):
            return f"its number question's answer from '{question.answer_from}' is {expected!r}, not a number"
    return None


class _WatchedProgress(Progress):
    """A progress file that tells the rehearsal when each step ends."""

    # (step key, "done" or "failed", seconds, error, evidence or None)
    listener: Callable[..., None] | None = None
    started: Callable[[str], None] | None = None

    def mark_running(self, key: str) -> None:
        super().mark_running(key)
        if self.started:
            self.started(key)

    def mark_done(self, key: str, *, evidence: dict[str, Any], outputs: dict[str, Any], duration_s: float,
                  summary: str = "") -> None:
        super().mark_done(key, evidence=evidence, outputs=outputs, duration_s=duration_s, summary=summary)
        if self.listener:
            self.listener(key, "done", duration_s, "", evidence)

    def mark_failed(self, key: str, *, error: str, duration_s: float) -> None:
        super().mark_failed(key, error=error, duration_s=duration_s)
        if self.listener:
            self.listener(key, "failed", duration_s, error, None)


def rehearsal_course(paths: list[Path] | None, *, alone: bool = False) -> tuple[Any, set[str]]:
    """The course to rehearse and the ids of the lessons under test.

    Raises :class:`~tutor.errors.LessonError` for a file that does not load (the same
    validation as ``tutor lessons check``).
    """
    from tutor.lessons import load_course, load_lesson
    from tutor.paths import course_resource

    if not paths:
        course = load_course()
        return course, {lesson.id for lesson in course.lessons}
    given = [load_lesson(p) for p in paths]
    ids = {lesson.id for lesson in given}
    if alone:
        return load_course(list(paths)), ids
    mine = {p.resolve() for p in paths}
    shipped = [p for p in sorted(course_resource("lessons").glob("*.toml")) if p.resolve() not in mine]
    others = [p for p in shipped if load_lesson(p).id not in ids]
    return load_course(others + list(paths)), ids


def rehearse(paths: list[Path] | None, data_path: Path | None, console: Console, *, alone: bool = False,
             scratch: Path | None = None, username: str = "rehearse", exercises: bool = True,
             sdk: str = "v1") -> list[StepOutcome]:
    """Run the lessons in ``paths`` (default: the shipped course) step by step; one outcome per step.

    With ``exercises`` each exercise's reference solution runs as a learner's answer would (in
    the kernel, then its checks, then the step's action adopting what it made), so a rehearsal
    proves every solution passes its own checks.

    Each outcome is printed on ``console`` as soon as the step ends. The course folder is
    ``scratch`` (kept afterwards, with the progress file, the workspace and the logs) or a new
    temporary directory, removed afterwards. ``data_path`` is the course dataset (None: the
    tutor's usual search: TUTOR_DATA, the cache or a download). ``sdk`` is the track rehearsed:
    "v2" runs each step's python_v2 code's exercises (and the steps' v2 behaviour).
    """
    from tutor.errors import UsageError
    from tutor.instructor.evidence import implausible_metrics
    from tutor.paths import CourseDir
    from tutor.prompts import AutoPrompter
    from tutor.steps.base import Settings
    from tutor.wizard import Wizard

    course, under_test = rehearsal_course(paths, alone=alone)
    last = max(i for i, lesson in enumerate(course.lessons) if lesson.id in under_test)
    lessons = course.lessons[: last + 1]
    steps = {step.key: step for lesson in lessons for step in lesson.steps}

    if scratch is not None and scratch.exists() and (not scratch.is_dir() or any(scratch.iterdir())):
        raise UsageError(f"{scratch} is not an empty folder, and a rehearsal starts from nothing.",
                         "Give a new or empty folder to keep the rehearsal in.")
    root = scratch or Path(tempfile.mkdtemp(prefix="tutor-rehearse-"))
    root.mkdir(parents=True, exist_ok=True)
    screen = io.StringIO()
    quiet = Console(file=screen, width=100, color_system=None, emoji=False, highlight=False, force_terminal=False)
    outcomes: dict[str, StepOutcome] = {}
    marks: dict[str, int] = {}

    def started(key: str) -> None:
        marks[key] = screen.tell()

    def ended(key: str, status: str, seconds: float, error: str, evidence: dict[str, Any] | None) -> None:
        step = steps[key]
        problems: list[str] = []
        if evidence is not None:  # the action ran and done_when held: can a learner answer, is it plausible?
            problems += filter(None, [question_problem(step, evidence)])
            problems += [f"implausible evidence: {p}" for p in implausible_metrics(evidence)]
        failed = status == "failed" or bool(problems)
        record = progress.steps.get(key, {}).get("exercise") or {}
        outcome = StepOutcome(key=key, lesson=step.lesson_id, title=step.title, status="fail" if failed else "pass",
                              seconds=seconds, reason=error or "; ".join(problems),
                              setup=step.lesson_id not in under_test, exercise=str(record.get("status", "")))
        if status == "failed":
            outcome.detail = "\n".join(screen.getvalue()[marks.get(key, 0):].rstrip().splitlines()[-DETAIL_LINES:])
        outcomes[key] = outcome
        print_outcome(console, outcome)

    settings = Settings(username=username, course_dir=CourseDir(root), workspace="local", data=data_path,
                        assume_yes=True)
    try:
        progress = _WatchedProgress.open(settings.course_dir.progress_file(username), username,
                                         workspace_kind="local", workspace_name=f"{username}-ws")
        with progress:
            progress.set_sdk(sdk)
            progress.listener, progress.started = ended, started
            wizard = Wizard(course, settings, progress, quiet, AutoPrompter(quiet), exercises=exercises)
            try:
                for lesson in lessons:
                    while True:
                        result = wizard.run(lesson.id)
                        if result.interrupted:
                            raise KeyboardInterrupt
                        if result.failed_step is None:
                            break
                        # Go on as a learner who skips the step would; its outcome is already recorded.
                        progress.mark_skipped(result.failed_step)
            finally:
                wizard.close()
    finally:
        if scratch is None:
            from tutor.serving import stop_all

            stop_all(root)  # services are detached processes: they would outlive the folder
            shutil.rmtree(root, ignore_errors=True)
    return [outcomes.get(key) or StepOutcome(key=key, lesson=step.lesson_id, title=step.title, status="not-run",
                                             setup=step.lesson_id not in under_test)
            for key, step in steps.items()]


def print_outcome(console: Console, outcome: StepOutcome) -> None:
    marks = {"pass": ("ok  ", "green"), "fail": ("FAIL", "bold red"), "not-run": ("--  ", "dim")}
    mark, style = marks[outcome.status]
    line = Text.assemble((mark, style), "  ", (f"{outcome.key:<34}", "cyan"), f" {outcome.seconds:6.2f}s",
                         (" (setup)" if outcome.setup else "", "dim"),
                         (" exercise: reference solution passed its checks"
                          if outcome.exercise == "solved-by-reference" and outcome.ok else "", "dim"))
    if outcome.status == "fail":
        line.append(f"  {outcome.reason}", style="red")
    console.print(line, highlight=False, soft_wrap=True)


def print_summary(console: Console, outcomes: list[StepOutcome]) -> None:
    """The failed steps' details, then one line: how many passed."""
    from rich.panel import Panel

    from tutor import ui

    failed = [o for o in outcomes if o.status == "fail"]
    for outcome in failed:
        if outcome.detail:
            console.print(Panel(Text(outcome.detail), title=f"{outcome.key}: what the step showed",
                                box=ui.boxes(console), border_style="red", title_align="left"))
    tested = [o for o in outcomes if not o.setup]
    passed = sum(o.ok for o in tested)
    not_run = sum(o.status == "not-run" for o in outcomes)
    text = f"{passed} of {len(tested)} step(s) passed"
    if failed:
        text += f", {len(failed)} failed" + (f" ({sum(o.setup for o in failed)} in setup lessons)"
                                             if any(o.setup for o in failed) else "")
    if not_run:
        text += f", {not_run} not run"
    console.print(Text(text + ".", style="bold red" if failed or not_run else "bold green"))
