"""The class at a glance: one row per learner from a folder of progress files.

Instructors collect the learners' ``progress/<username>.json`` files (a shared folder, a
drive, an upload) and point ``tutor class report`` at the folders. Each file is read with
:func:`tutor.progress.read_document`, so a damaged, foreign or future-version file is
refused exactly as the tutor itself would refuse it; here it is listed as skipped and the
other learners are still reported.

Everything is computed from the JSON alone (no pandas), so hundreds of files report in a
fraction of a second. The formats (table, JSON, CSV, HTML) all render the same
:class:`ClassReport`.
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from fnmatch import fnmatchcase
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from tutor.errors import TutorError, UsageError
from tutor.instructor.evidence import FLAG_KINDS, Flag, check_document, parse_time
from tutor.lessons import split_key

if TYPE_CHECKING:  # pragma: no cover - typing only: rich is imported when a table is drawn
    from rich.console import JustifyMethod


class NoProgressFiles(TutorError):
    """No readable progress file in the folders given."""

    exit_code = 3


class CourseUnavailable(TutorError):
    """The course's lessons cannot be loaded, so there is nothing to count progress against."""

    exit_code = 4


# -- key evidence -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class KeyEvidence:
    """One key figure of the report, read defensively from the learners' evidence.

    ``steps`` is an fnmatch pattern on the step key (``lesson/step``); ``keys`` are evidence
    paths tried in order in each done step that matches (dotted for nested values as in
    ``done_when``, with `backquotes` around a part holding a dot, and ``*`` for every entry of a
    dict or list: ``runs.*.Test accuracy``); every number found is a candidate,
    and ``pick`` chooses: ``max``, ``min``, ``last`` (the latest step in course order) or
    ``any`` (present at all: the first value found, e.g. a service name).
    """

    column: str  # name in JSON and CSV
    label: str  # HTML header
    short: str  # in the screen table's evidence column
    steps: str
    keys: tuple[str, ...]
    pick: str


# To add a figure, or to follow a lesson whose evidence names change, edit this table.
KEY_EVIDENCE: tuple[KeyEvidence, ...] = (
    KeyEvidence("best_r2_day1", "best R² (day 1)", "R²", "day1-*",
                ("best_r2", "R^2", "r2", "metrics.R^2", "runs.*.R^2", "runs.*.metrics.R^2", "best.R^2",
                 "best_run.R^2", "best_run.metrics.R^2"), "max"),
    KeyEvidence("test_accuracy_day2", "Test accuracy (day 2)", "acc", "day2-*",
                ("Test accuracy", "test_accuracy", "metrics.Test accuracy", "runs.*.Test accuracy",
                 "runs.*.metrics.Test accuracy"), "last"),
    KeyEvidence("automl_rmse", "AutoML RMSE", "AutoML RMSE", "*automl*",
                ("rmse", "RMSE", "test_rmse", "metrics.rmse", "metrics.RMSE", "best.rmse"), "min"),
    KeyEvidence("service", "service", "service", "*",
                ("service_name", "service", "scoring_uri", "scoring_url"), "any"),
)


def _values(data: Any, parts: list[str]) -> Iterable[Any]:
    if not parts:
        yield data
        return
    head, rest = parts[0], parts[1:]
    if head == "*":
        items = data.values() if isinstance(data, dict) else data if isinstance(data, list) else ()
        for item in items:
            yield from _values(item, rest)
    elif isinstance(data, dict) and head in data:
        yield from _values(data[head], rest)


def key_evidence(entries: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """The :data:`KEY_EVIDENCE` figures from ``(step key, entry)`` pairs in course order."""
    out: dict[str, Any] = {}
    for spec in KEY_EVIDENCE:
        candidates: list[Any] = []
        for key, entry in entries:
            if entry.get("status") != "done" or not fnmatchcase(key, spec.steps):
                continue
            evidence = entry.get("evidence")
            if not isinstance(evidence, dict):
                continue
            for path in spec.keys:
                candidates.extend(_values(evidence, split_key(path)))
        if spec.pick == "any":
            present = [v for v in candidates if v not in (None, "", False, [], {})]
            out[spec.column] = present[0] if present else None
            continue
        numbers = [float(v) for v in candidates
                   if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)]
        if not numbers:
            out[spec.column] = None
        elif spec.pick == "max":
            out[spec.column] = max(numbers)
        elif spec.pick == "min":
            out[spec.column] = min(numbers)
        else:
            out[spec.column] = numbers[-1]
    return out


# -- exercises ---------------------------------------------------------------------------------------
# An open exercise counts as stuck (with --stuck) after --max-failures attempts, when every hint
# has been shown, or after this much time at it.
EXERCISE_STUCK_MINUTES = 10.0


@dataclass
class ExerciseTally:
    """The learner's exercises: how each ended (``exercise.status`` in the progress file), attempts."""

    total: int = 0  # exercises in the course
    solved: int = 0  # the learner's own code passed the checks
    skipped: int = 0  # skipped: the reference solution ran instead
    by_reference: int = 0  # the tutor ran the reference without a learner (--yes)
    open: int = 0  # started, not ended
    attempts: int = 0
    hints_used: int = 0
    time_spent_s: float = 0.0

    def brief(self) -> str:
        """"6 solved, 1 skipped, 14 attempts"; "" when no exercise was started."""
        if not (self.solved or self.skipped or self.by_reference or self.open or self.attempts):
            return ""
        parts = [f"{self.solved} solved"]
        if self.skipped:
            parts.append(f"{self.skipped} skipped")
        if self.by_reference:
            parts.append(f"{self.by_reference} by reference")
        parts.append(_count(self.attempts, "attempt"))
        return ", ".join(parts)

    def short(self) -> str:
        """The screen table's cell: "6/14, 1 skip, 14 tries" (solved of all, skipped, attempts)."""
        if not self.brief():
            return ""
        parts = [f"{self.solved}/{self.total}"]
        if self.skipped:
            parts.append(f"{self.skipped} skip")
        if self.by_reference:
            parts.append(f"{self.by_reference} ref")
        parts.append(f"{self.attempts} {'try' if self.attempts == 1 else 'tries'}")
        return ", ".join(parts)


@dataclass(frozen=True)
class OpenExercise:
    """The exercise at the learner's current step, still open."""

    step: str
    attempts: int
    hints_used: int
    hints_total: int  # hints the tutor can show there (the exercise's, then the step's)
    time_spent_s: float
    solution_shown: bool


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def exercise_tally(steps: dict[str, Any], course: Any) -> ExerciseTally:
    tally = ExerciseTally()
    for step in course.steps:
        if step.exercise is None:
            continue
        tally.total += 1
        record = (steps.get(step.key) or {}).get("exercise")
        if not isinstance(record, dict):
            continue
        status = record.get("status")
        if status == "solved":
            tally.solved += 1
        elif status == "skipped":
            tally.skipped += 1
        elif status in ("solved-by-reference", "running-reference"):
            tally.by_reference += 1
        else:
            tally.open += 1
        tally.attempts += _int(record.get("attempts"))
        tally.hints_used += _int(record.get("hints_used"))
        tally.time_spent_s += _float(record.get("time_spent_s"))
    return tally


def open_exercise(steps: dict[str, Any], course: Any, current: str | None, sdk: str = "v1") -> OpenExercise | None:
    """The current step's exercise (on the learner's SDK track) when they have started it and not ended it."""
    step = next((s for s in course.steps if s.key == current), None) if current else None
    exercise = step.exercise_for(sdk) if step is not None else None
    if step is None or exercise is None:
        return None
    record = (steps.get(step.key) or {}).get("exercise")
    if not isinstance(record, dict) or record.get("status", "open") != "open":
        return None
    return OpenExercise(step=step.key, attempts=_int(record.get("attempts")),
                        hints_used=_int(record.get("hints_used")),
                        hints_total=len(exercise.hints) + len(step.hints),
                        time_spent_s=_float(record.get("time_spent_s")),
                        solution_shown=record.get("solution_shown") is True)


# -- one learner ------------------------------------------------------------------------------------
@dataclass
class LearnerRow:
    file: str
    learner: str
    workspace: str
    state: str  # "not-started", "in-progress" or "finished"
    steps_done: int
    steps_total: int
    lessons_done: int
    lessons_total: int
    current_step: str | None
    skipped: list[str]
    failures: int
    worst_step: str | None  # the unfinished step with the most failures
    worst_failures: int
    hints: int
    time_spent_s: float
    last_activity: datetime | None
    idle_minutes: float | None
    evidence: dict[str, Any]
    flags: list[Flag]
    stuck: list[str] = field(default_factory=list)
    exercises: ExerciseTally = field(default_factory=ExerciseTally)
    open_exercise: OpenExercise | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "learner": self.learner,
            "file": self.file,
            "workspace": self.workspace,
            "state": self.state,
            "steps_done": self.steps_done,
            "steps_total": self.steps_total,
            "lessons_done": self.lessons_done,
            "lessons_total": self.lessons_total,
            "current_step": self.current_step,
            "skipped_steps": self.skipped,
            "failures": self.failures,
            "most_failures_step": self.worst_step,
            "most_failures": self.worst_failures,
            "hints_used": self.hints,
            "time_spent_s": round(self.time_spent_s, 3),
            "exercises_total": self.exercises.total,
            "exercises_solved": self.exercises.solved,
            "exercises_skipped": self.exercises.skipped,
            "exercises_by_reference": self.exercises.by_reference,
            "exercises_open": self.exercises.open,
            "exercise_attempts": self.exercises.attempts,
            "exercise_hints_used": self.exercises.hints_used,
            "exercise_time_spent_s": round(self.exercises.time_spent_s, 1),
            "last_activity": self.last_activity.isoformat(timespec="seconds") if self.last_activity else None,
            "idle_minutes": round(self.idle_minutes, 1) if self.idle_minutes is not None else None,
            "evidence": self.evidence,
            "flags": [f.as_dict() for f in self.flags],
            "stuck": self.stuck,
        }


def _int(value: Any) -> int:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0


def _float(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def learner_row(path: Path, doc: dict[str, Any], course: Any, now: datetime) -> LearnerRow:
    steps: dict[str, Any] = {k: v for k, v in doc["steps"].items() if isinstance(v, dict)}
    order = [s.key for s in course.steps]
    known = set(order)
    # Course order first, then steps this course does not know, in file order.
    entries = [(k, steps[k]) for k in order if k in steps] + [(k, v) for k, v in steps.items() if k not in known]

    def status(key: str) -> str | None:
        return (steps.get(key) or {}).get("status")

    done = sum(1 for k in order if status(k) == "done")
    finished = {k for k in order if status(k) in ("done", "skipped")}
    lessons_done = sum(1 for lesson in course.lessons if all(s.key in finished for s in lesson.steps))
    current = next((k for k in order if k not in finished), None)
    started_any = any(status(k) for k in order)
    state = "finished" if current is None else "in-progress" if started_any else "not-started"

    worst_step, worst = None, 0
    for key, entry in entries:
        count = _int(entry.get("failures"))
        if entry.get("status") != "done" and count > worst:
            worst_step, worst = key, count

    stamps = [parse_time(doc.get("updated_at"))]
    for _, entry in entries:
        stamps += [parse_time(entry.get("started_at")), parse_time(entry.get("finished_at"))]
    # A time in the future (a wrong clock, an edited file) is not "activity"; the checks flag it.
    seen = [s for s in stamps if s is not None and s <= now]
    last = max(seen, default=None)
    ws = doc.get("workspace") if isinstance(doc.get("workspace"), dict) else {}
    return LearnerRow(
        file=str(path),
        learner=doc["learner"],
        workspace=f"{ws.get('name', '?')} ({ws.get('kind', '?')})" if ws else "",
        state=state,
        steps_done=done,
        steps_total=len(order),
        lessons_done=lessons_done,
        lessons_total=len(course.lessons),
        current_step=current,
        skipped=[k for k, e in entries if e.get("status") == "skipped"],
        failures=sum(_int(e.get("failures")) for _, e in entries),
        worst_step=worst_step,
        worst_failures=worst,
        hints=sum(_int(e.get("hints_used")) for _, e in entries),
        time_spent_s=sum(_float(e.get("time_spent_s")) for _, e in entries),
        last_activity=last,
        idle_minutes=(now - last).total_seconds() / 60 if last else None,
        evidence=key_evidence(entries),
        flags=check_document(doc, course, now=now),
        exercises=exercise_tally(steps, course),
        open_exercise=open_exercise(steps, course, current, str(doc.get("sdk") or "v1")),
    )


def stuck_reasons(row: LearnerRow, *, idle_minutes: float | None, max_failures: int,
                  exercise_minutes: float = EXERCISE_STUCK_MINUTES) -> list[str]:
    """Why a learner looks stuck: idle that long without finishing, many failures at one step, or
    an open exercise at the current step with ``max_failures`` attempts, every hint shown, or
    ``exercise_minutes`` spent on it.

    Only asked for with ``--stuck MINUTES`` (``idle_minutes``); a finished learner is never stuck.
    """
    reasons: list[str] = []
    if row.state == "finished" or idle_minutes is None:
        return reasons
    if row.idle_minutes is None or row.idle_minutes >= idle_minutes:
        where = f" at {row.current_step}" if row.current_step else ""
        reasons.append(f"no activity for {_minutes(row.idle_minutes)}{where}" if row.idle_minutes is not None
                       else f"no recorded activity{where}")
    if row.worst_step and row.worst_failures >= max_failures:
        reasons.append(f"{row.worst_failures} failed attempts at {row.worst_step}")
    ex = row.open_exercise
    if ex is not None and (ex.attempts >= max_failures or 0 < ex.hints_total <= ex.hints_used
                           or ex.time_spent_s >= exercise_minutes * 60):
        said = [_count(ex.attempts, "attempt"), _count(ex.hints_used, "hint")
                + (" (all)" if 0 < ex.hints_total <= ex.hints_used else "")]
        if ex.time_spent_s:
            said.append(_minutes(ex.time_spent_s / 60))
        if ex.solution_shown:
            said.append("solution shown")
        reasons.append(f"stuck on the exercise {ex.step}: " + ", ".join(said))
    return reasons


# -- the class ------------------------------------------------------------------------------------
@dataclass
class SkippedFile:
    file: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"file": self.file, "reason": self.reason}


@dataclass
class ClassReport:
    generated_at: datetime
    folders: list[str]
    steps_total: int
    lessons_total: int
    rows: list[LearnerRow]
    skipped_files: list[SkippedFile]
    stuck_after_minutes: float | None = None
    max_failures: int = 3
    exercise_minutes: float = EXERCISE_STUCK_MINUTES

    exercises_total: int = 0

    @property
    def stuck(self) -> list[LearnerRow]:
        return [r for r in self.rows if r.stuck]

    @property
    def flagged(self) -> list[LearnerRow]:
        return [r for r in self.rows if r.flags]

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": "aml-tutor-class-report",
            "version": 1,
            "generated_at": self.generated_at.isoformat(timespec="seconds"),
            "folders": self.folders,
            "course": {"steps": self.steps_total, "lessons": self.lessons_total},
            "stuck_after_minutes": self.stuck_after_minutes,
            "max_failures": self.max_failures,
            "exercise_stuck_minutes": self.exercise_minutes,
            "course_exercises": self.exercises_total,
            "learners": [r.as_dict() for r in self.rows],
            "stuck": [{"learner": r.learner, "file": r.file, "reasons": r.stuck} for r in self.stuck],
            "skipped_files": [s.as_dict() for s in self.skipped_files],
        }


def find_progress_files(places: list[Path]) -> list[Path]:
    """The ``*.json`` files in each folder and in its ``progress/`` (a file is taken as it is).

    ``.bak`` backups, ``.lock`` files and hidden temporary files are not progress files, nor is
    the workspace's ``config.json`` at the top of a course folder (one with a ``progress/``).
    """
    found: dict[Path, None] = {}
    for place in places:
        if place.is_file():
            found[place.resolve()] = None
            continue
        if not place.is_dir():
            raise UsageError(f"{place} is not a folder or a file.",
                             "Pass the folder holding the progress files (or a course folder: its progress/ "
                             "folder is read too).")
        course_folder = (place / "progress").is_dir()
        for folder in (place, place / "progress"):
            if folder.is_dir():
                for path in sorted(folder.glob("*.json")):
                    if path.name.startswith(".") or not path.is_file():
                        continue
                    if course_folder and folder == place and path.name == "config.json":
                        continue
                    found[path.resolve()] = None
    return list(found)


def load_course_for_report() -> Any:
    from tutor.errors import LessonError
    from tutor.lessons import load_course

    try:
        return load_course()
    except LessonError as exc:
        raise CourseUnavailable(f"The course's lessons cannot be loaded, so progress cannot be counted: {exc.what}",
                                exc.fix) from None


def build_report(places: list[Path], *, course: Any = None, now: datetime | None = None,
                 stuck_minutes: float | None = None, max_failures: int = 3,
                 exercise_minutes: float = EXERCISE_STUCK_MINUTES) -> ClassReport:
    """Read every progress file under ``places`` into a :class:`ClassReport` (no filtering)."""
    from tutor.errors import ProgressError
    from tutor.progress import read_document

    now = now or datetime.now(timezone.utc)
    course = course if course is not None else load_course_for_report()
    rows: list[LearnerRow] = []
    skipped: list[SkippedFile] = []
    for path in find_progress_files(places):
        try:
            doc = read_document(path)
        except ProgressError as exc:
            skipped.append(SkippedFile(str(path), exc.what))
            continue
        except FileNotFoundError:
            skipped.append(SkippedFile(str(path), f"{path} disappeared while it was being read."))
            continue
        row = learner_row(path, doc, course, now)
        row.stuck = stuck_reasons(row, idle_minutes=stuck_minutes, max_failures=max_failures,
                                  exercise_minutes=exercise_minutes)
        rows.append(row)
    return ClassReport(generated_at=now, folders=[str(p) for p in places], steps_total=len(course.steps),
                       lessons_total=len(course.lessons), rows=rows, skipped_files=skipped,
                       stuck_after_minutes=stuck_minutes, max_failures=max_failures,
                       exercise_minutes=exercise_minutes,
                       exercises_total=sum(1 for s in course.steps if s.exercise is not None))


# -- sorting and filters ------------------------------------------------------------------------
_FAR_PAST = datetime.min.replace(tzinfo=timezone.utc)

# Each order puts the learners who need attention first; --reverse flips it.
SORTS: dict[str, Any] = {
    "learner": lambda r: (r.learner, r.file),
    "progress": lambda r: (r.steps_done, r.learner),
    "activity": lambda r: (r.last_activity or _FAR_PAST, r.learner),
    "failures": lambda r: (-r.failures, r.learner),
    "hints": lambda r: (-r.hints, r.learner),
    "time": lambda r: (-r.time_spent_s, r.learner),
    "flags": lambda r: (-len(r.flags), r.learner),
}


def select(report: ClassReport, *, learners: list[str] | None = None, states: list[str] | None = None,
           at: str | None = None, flagged: bool = False, stuck_only: bool = False,
           sort: str = "learner", reverse: bool = False) -> ClassReport:
    """The report restricted to matching learners, in the given order."""
    if sort not in SORTS:
        raise UsageError(f"--sort {sort}: not a known order.", f"Use one of: {', '.join(SORTS)}.")
    rows = report.rows
    if learners:
        rows = [r for r in rows if any(fnmatchcase(r.learner, g) for g in learners)]
    if states:
        rows = [r for r in rows if r.state in states]
    if at:
        rows = [r for r in rows if r.current_step and (r.current_step == at or r.current_step.startswith(at + "/"))]
    if flagged:
        rows = [r for r in rows if r.flags]
    if stuck_only:
        rows = [r for r in rows if r.stuck]
    return replace(report, rows=sorted(rows, key=SORTS[sort], reverse=reverse))


# -- formatting helpers ---------------------------------------------------------------------------
def _minutes(minutes: float | None) -> str:
    if minutes is None:
        return ""
    if minutes < 1:
        return "< 1 min"
    if minutes < 120:
        return f"{minutes:.0f} min"
    if minutes < 48 * 60:
        return f"{minutes / 60:.1f} h"
    return f"{minutes / 1440:.1f} days"


def duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def _figure(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def evidence_brief(row: LearnerRow) -> str:
    parts = []
    for spec in KEY_EVIDENCE:
        value = row.evidence.get(spec.column)
        if value is not None:
            parts.append(f"{spec.short} ✓" if spec.pick == "any" else f"{spec.short} {_figure(value)}")
    return " · ".join(parts)


def _activity(row: LearnerRow) -> str:
    if row.last_activity is None:
        return "never"
    return f"{row.last_activity.strftime('%Y-%m-%d %H:%M')} ({_minutes(row.idle_minutes)} ago)"


def _presence(value: Any) -> str:
    """An ``any`` figure in the HTML: its name (a service name), or yes/no."""
    if value is None:
        return "no"
    return value if isinstance(value, str) and not value.startswith("http") else "yes"


# -- formats ----------------------------------------------------------------------------------------
def to_json(report: ClassReport) -> str:
    return json.dumps(report.as_dict(), indent=2, ensure_ascii=False) + "\n"


CSV_COLUMNS = ["learner", "file", "workspace", "state", "steps_done", "steps_total", "lessons_done", "lessons_total",
               "current_step", "skipped_count", "skipped_steps", "failures", "most_failures_step", "most_failures",
               "hints_used", "time_spent_s", "exercises_total", "exercises_solved", "exercises_skipped",
               "exercises_by_reference", "exercises_open", "exercise_attempts", "exercise_hints_used",
               "exercise_time_spent_s", "last_activity", "idle_minutes",
               *[k.column for k in KEY_EVIDENCE], "flag_count", "flags", "stuck"]


def to_csv(report: ClassReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in report.rows:
        d = row.as_dict()
        d.update(row.evidence)
        d["skipped_count"] = len(row.skipped)
        d["skipped_steps"] = ";".join(row.skipped)
        d["flag_count"] = len(row.flags)
        d["flags"] = " | ".join(f"[{f.kind}] {f}" for f in row.flags)
        d["stuck"] = " | ".join(row.stuck)
        writer.writerow(["" if d.get(c) is None else d.get(c) for c in CSV_COLUMNS])
    return out.getvalue()


def to_table(report: ClassReport, console: Any) -> None:
    """Print the report as Rich tables (the learners, then who is stuck, then the checks)."""
    from rich.table import Table
    from rich.text import Text

    from tutor import ui

    table = Table(title=f"Class report · {len(report.rows)} learner(s) · {report.steps_total} steps in "
                        f"{report.lessons_total} lessons", box=ui.boxes(console), title_justify="left", show_edge=False)
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("learner", "left"), ("steps", "right"), ("lessons", "right"), ("current step", "left"),
        ("skip", "right"), ("fail", "right"), ("hint", "right"), ("exercises", "left"), ("time", "right"),
        ("idle", "right"), ("evidence", "left"), ("attention", "left"))
    for name, justify in columns:
        # Only the evidence, the exercises and the current step wrap on a narrow screen (a step's key
        # folds onto a second line rather than losing its end).
        table.add_column(name, justify=justify, no_wrap=name not in ("evidence", "current step", "exercises"),
                         overflow="fold" if name == "current step" else "ellipsis")
    styles = {"finished": "green", "in-progress": "", "not-started": "dim"}
    for row in report.rows:
        attention = Text()
        if row.stuck:
            attention.append("stuck", style="bold yellow")
        if row.flags:
            attention.append((" · " if row.stuck else "") + f"{len(row.flags)} flag(s)", style="bold red")
        table.add_row(Text(row.learner, style=styles[row.state]), f"{row.steps_done}/{row.steps_total}",
                      f"{row.lessons_done}/{row.lessons_total}", row.current_step or Text("finished", style="green"),
                      str(len(row.skipped) or ""), str(row.failures or ""), str(row.hints or ""),
                      row.exercises.short(), duration(row.time_spent_s),
                      _minutes(row.idle_minutes) if row.last_activity else "never",
                      evidence_brief(row), attention)
    console.print(table)
    if report.stuck_after_minutes is not None:
        stuck = report.stuck
        if stuck:
            console.print(Text(f"{len(stuck)} learner(s) look stuck (no activity for {report.stuck_after_minutes:g} "
                               f"min, {report.max_failures}+ failures at one step, or at an exercise with "
                               f"{report.max_failures}+ attempts, every hint shown or {report.exercise_minutes:g}+ "
                               "min):", style="bold yellow"))
            console.print("\n".join(f"  {row.learner}: " + "; ".join(row.stuck) for row in stuck), highlight=False)
        else:
            console.print(Text("Nobody looks stuck.", style="green"))
    flagged = report.flagged
    if flagged:
        console.print(Text(f"{len(flagged)} learner(s) have progress that does not hang together "
                           "(`tutor class check` lists every flag).", style="bold red"))


def flags_table(report: ClassReport, console: Any) -> None:
    """Every evidence flag, one line each (``tutor class check``)."""
    from rich.table import Table

    from tutor import ui

    if not report.flagged:
        console.print(f"All {len(report.rows)} learner(s) pass the evidence checks.", highlight=False)
        return
    table = Table(title="Progress that does not hang together", box=ui.boxes(console), title_justify="left")
    for name in ("learner", "step", "check", "what"):
        table.add_column(name)
    for row in report.flagged:
        for flag in row.flags:
            table.add_row(row.learner, flag.step or "(file)", flag.kind, flag.message)
    console.print(table)
    kinds = sorted({f.kind for row in report.flagged for f in row.flags})
    console.print("\n".join(f"{kind}: {FLAG_KINDS[kind]}" for kind in kinds), highlight=False, style="dim")


def flags_json(report: ClassReport) -> str:
    return json.dumps({
        "format": "aml-tutor-evidence-check",
        "version": 1,
        "generated_at": report.generated_at.isoformat(timespec="seconds"),
        "learners_checked": len(report.rows),
        "flags": [{"learner": r.learner, "file": r.file, **f.as_dict()} for r in report.rows for f in r.flags],
        "skipped_files": [s.as_dict() for s in report.skipped_files],
    }, indent=2, ensure_ascii=False) + "\n"


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#1f2328;background:#fff}
h1{font-size:1.4rem;margin-bottom:.2rem} h2{font-size:1.1rem;margin-top:2rem}
p.meta{color:#59636e;margin-top:0}
table{border-collapse:collapse;font-size:.9rem}
th,td{border:1px solid #d1d9e0;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa;position:sticky;top:0}
td.n{text-align:right;font-variant-numeric:tabular-nums}
tr.finished td:first-child{border-left:4px solid #1a7f37}
tr.in-progress td:first-child{border-left:4px solid #0969da}
tr.not-started td:first-child{border-left:4px solid #d1d9e0}
.stuck{color:#9a6700;font-weight:600} .flag{color:#cf222e} .ok{color:#1a7f37}
ul{padding-left:1.2rem} code{font-size:.85rem}
"""


def _exercises_html(row: LearnerRow, total: int) -> str:
    """The exercises cell: the brief, with the open ones, hints and time in its tooltip."""
    ex = row.exercises
    brief = ex.brief()
    if not brief:
        return ""
    more = [f"{ex.solved} of {total} solved with their own code", _count(ex.open, "open"),
            _count(ex.hints_used, "hint") + " used", f"{duration(ex.time_spent_s)} in exercises"]
    return f'<span title="{html.escape("; ".join(more))}">{html.escape(brief)}</span>'


def to_html(report: ClassReport) -> str:
    e = html.escape
    heads = ["learner", "state", "steps", "lessons", "current step", "skipped", "failures", "hints", "exercises",
             "time", "last activity", *[k.label for k in KEY_EVIDENCE], "checks"]
    lines = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
             f"<title>aml-tutor class report {e(report.generated_at.strftime('%Y-%m-%d %H:%M'))}</title>",
             f"<style>{_CSS}</style>", "</head>", "<body>", "<h1>aml-tutor class report</h1>",
             f'<p class="meta">{len(report.rows)} learner(s) · {report.steps_total} steps in {report.lessons_total} '
             f"lessons · generated {e(report.generated_at.isoformat(timespec='seconds'))} from "
             f"{e(', '.join(report.folders))}</p>",
             '<table id="learners">', "<thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in heads) + "</tr></thead>",
             "<tbody>"]
    numeric = {2, 3, 5, 6, 7, 9}  # the cells right-aligned
    for row in report.rows:
        name = e(row.learner) + (' <span class="stuck">(stuck)</span>' if row.stuck else "")
        checks = (f'<span class="flag" title="{e("; ".join(str(f) for f in row.flags))}">{len(row.flags)} flag(s)</span>'
                  if row.flags else '<span class="ok">ok</span>')
        evidence = []
        for spec in KEY_EVIDENCE:
            value = row.evidence.get(spec.column)
            evidence.append(e(_presence(value)) if spec.pick == "any" else e(_figure(value)))
        skipped = f'<span title="{e(", ".join(row.skipped))}">{len(row.skipped)}</span>' if row.skipped else ""
        cells = [name, e(row.state), f"{row.steps_done}/{row.steps_total}", f"{row.lessons_done}/{row.lessons_total}",
                 f"<code>{e(row.current_step)}</code>" if row.current_step else "finished", skipped,
                 str(row.failures or ""), str(row.hints or ""), _exercises_html(row, report.exercises_total),
                 e(duration(row.time_spent_s)), e(_activity(row)),
                 *evidence, checks]
        lines.append(f'<tr class="{e(row.state)}">' + "".join(
            f'<td class="n">{c}</td>' if i in numeric else f"<td>{c}</td>" for i, c in enumerate(cells)) + "</tr>")
    lines += ["</tbody>", "</table>"]
    if report.stuck_after_minutes is not None:
        lines.append(f"<h2>Stuck (no activity for {report.stuck_after_minutes:g} min, {report.max_failures}+ "
                     f"failures at one step, or at an exercise with {report.max_failures}+ attempts, every hint "
                     f"shown or {report.exercise_minutes:g}+ min)</h2>")
        lines.append("<ul>" + "".join(f"<li><b>{e(r.learner)}</b>: {e('; '.join(r.stuck))}</li>" for r in report.stuck)
                     + "</ul>" if report.stuck else "<p>Nobody looks stuck.</p>")
    if report.flagged:
        lines.append("<h2>Progress that does not hang together</h2><ul>")
        for row in report.flagged:
            lines.append(f"<li><b>{e(row.learner)}</b><ul>" + "".join(
                f"<li>[{e(f.kind)}] {e(str(f))}</li>" for f in row.flags) + "</ul></li>")
        lines.append("</ul>")
    if report.skipped_files:
        lines.append("<h2>Files skipped</h2><ul>" + "".join(
            f"<li><code>{e(s.file)}</code>: {e(s.reason)}</li>" for s in report.skipped_files) + "</ul>")
    lines += ["</body>", "</html>"]
    return "\n".join(lines) + "\n"
