"""``tutor review``: re-read a lesson you worked through, without running anything.

For each step of the lesson, in order: its title and place in the course day ("Day 1, step 4"),
the explanation (with the learner's name filled in), the code — the learner's own accepted code
where they solved the step's exercise, else the lesson's Python code — and what happened, as the
progress file recorded it: the status, the summary, the evidence (a compact table; long values
are left out), the question with the learner's last answer, and the hints used. Steps not
finished yet are named, not shown. Nothing here writes to the progress file or opens the
workspace: the progress file is only read.

Without a lesson id, the lessons are listed with a mark: done, in progress or not started.
Output longer than the screen goes through a pager (``console.pager()``) when stdout is a terminal.
"""

from __future__ import annotations

import os
import re
import shlex
import sys
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.markdown import Markdown
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from tutor import ui
from tutor.errors import LessonError
from tutor.lessons import Course, Lesson, Step, render, sdk_code

FINISHED = ("done", "skipped")

# A value in the evidence table is shown when its text is at most this long; longer ones are named only.
VALUE_LIMIT = 120
# A nested table of evidence (e.g. one value per model) is spread into rows when it has at most this many values.
NESTED_LIMIT = 10
# At most this many evidence rows per step.
ROW_LIMIT = 24

# (at a colour terminal, plain or piped, style)
_LESSON_MARKS = {"done": ("✓ done", "done", "green"), "in progress": ("… in progress", "in progress", "yellow"),
                 "not started": ("· not started", "not started", "dim")}
_STEP_MARKS = {"done": ("✓ done", "done", "green"), "skipped": ("» skipped", "skipped", "yellow"),
               "failed": ("✗ failed", "failed", "red"), "running": ("… interrupted", "interrupted", "yellow")}


# -- what the progress file says ---------------------------------------------------------------
def _entry(doc: dict[str, Any], key: str) -> dict[str, Any]:
    entry = (doc.get("steps") or {}).get(key)
    return entry if isinstance(entry, dict) else {}


def _status(doc: dict[str, Any], key: str) -> str | None:
    status = _entry(doc, key).get("status")
    return status if isinstance(status, str) else None


def lesson_state(lesson: Lesson, doc: dict[str, Any]) -> tuple[str, int]:
    """("done" | "in progress" | "not started", how many of its steps are finished)."""
    finished = sum(_status(doc, s.key) in FINISHED for s in lesson.steps)
    if finished == len(lesson.steps):
        return "done", finished
    touched = finished or any(_status(doc, s.key) is not None for s in lesson.steps)
    return ("in progress" if touched else "not started"), finished


def find_lesson(course: Course, lesson_id: str) -> Lesson:
    """The lesson ``lesson_id``; a bad id is a lesson error listing the ids (exit 3, as `tutor start --lesson`)."""
    for lesson in course.lessons:
        if lesson.id == lesson_id:
            return lesson
    known = ", ".join(lesson.id for lesson in course.lessons)
    raise LessonError(f"There is no lesson '{lesson_id}' to review.",
                     f"The lessons are: {known}. `tutor review` alone lists them with how far you got.")


def own_code(entry: dict[str, Any]) -> tuple[str, str] | None:
    """(the learner's accepted code, the course file it is, or "") where they solved the exercise
    themselves; None when it was skipped, solved by the reference, left open, or no code was kept."""
    record = entry.get("exercise")
    if not isinstance(record, dict) or record.get("status") != "solved":
        return None
    code = record.get("code")
    if not isinstance(code, str) or not code.strip():
        return None
    file = record.get("file")
    return code.strip("\n"), file if isinstance(file, str) else ""


def function_source(code: str, name: str) -> str | None:
    """The top-level function ``name`` of ``code`` (with its decorators), or None."""
    from tutor.exercises.spec import function_lines

    span = function_lines(code, name)
    return "\n".join(code.splitlines()[span[0]:span[1]]) if span is not None else None


def _int(value: Any) -> int:
    """A count as the progress file keeps it; 0 for anything else (a hand-edited file)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _count(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


# -- the evidence table ------------------------------------------------------------------------
def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _format(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.6g}"
    if value is None:
        return "(none)"
    return str(value)


def evidence_rows(evidence: dict[str, Any]) -> tuple[list[tuple[str, str]], list[str]]:
    """(rows of key and value to show, names of the values too long to show)."""
    rows: list[tuple[str, str]] = []
    left_out: list[str] = []

    def add(key: str, value: Any) -> None:
        if _scalar(value):
            text = _format(value)
            if len(text) <= VALUE_LIMIT:
                rows.append((key, text))
            else:
                left_out.append(f"{key} ({len(text)} characters)")
            return
        if isinstance(value, (list, tuple)):
            if not value:
                rows.append((key, "(none)"))
            elif all(_scalar(v) for v in value) and len(text := ", ".join(_format(v) for v in value)) <= VALUE_LIMIT:
                rows.append((key, text))
            else:
                left_out.append(f"{key} ({_count(len(value), 'item')})")
            return
        if isinstance(value, dict):
            if not value:
                rows.append((key, "(none)"))
            elif len(value) <= NESTED_LIMIT and all(_scalar(v) for v in value.values()):
                for name, inner in value.items():
                    add(f"{key}.{name}", inner)
            else:
                left_out.append(f"{key} ({_count(len(value), 'entry', 'entries')})")
            return
        left_out.append(key)

    for key, value in evidence.items():
        add(str(key), value)
    if len(rows) > ROW_LIMIT:
        left_out.append(f"{len(rows) - ROW_LIMIT} more values")
        rows = rows[:ROW_LIMIT]
    return rows, left_out


# -- one step ------------------------------------------------------------------------------------
def _place(step: Step, lesson: Lesson, index: int) -> str:
    return step.ref or f"Day {lesson.day}, step {index} of this lesson"


def _code_panel(console: Console, code: str, title: str, style: str) -> Panel:
    return Panel(Syntax(code, "python", word_wrap=True, theme="ansi_dark"), title=Text(title), title_align="left",
                 box=ui.boxes(console), border_style=style)


def _exercise_line(step: Step, entry: dict[str, Any], mine: tuple[str, str] | None) -> str | None:
    if step.exercise is None:
        return None
    record = entry.get("exercise")
    if not isinstance(record, dict):
        if entry.get("status") == "skipped":
            return "Exercise: not tried (the step was skipped)."
        return "Exercise: not tried (the lesson's code ran for you)."
    status = str(record.get("status") or "open")
    tries, hints = _int(record.get("attempts")), _int(record.get("hints_used"))
    told = {"solved": "solved by you" + (", your code above" if mine else ""),
            "solved-by-reference": "the lesson's code ran for you",
            "skipped": "skipped (the lesson's code ran for you)",
            "open": "not finished"}.get(status, status)
    parts = [told] + ([_count(tries, "try", "tries")] if tries else []) + ([_count(hints, "hint")] if hints else [])
    if record.get("solution_shown"):
        parts.append("the solution was shown")
    return "Exercise: " + ", ".join(parts) + "."


def _question_part(step: Step, entry: dict[str, Any], variables: dict[str, str]) -> list[RenderableType]:
    question = step.question
    if question is None:
        return []
    lines = Text()
    lines.append("Question: ", style="bold")
    lines.append(render(question.prompt, variables))
    if question.kind == "select" and question.choices:
        lines.append(f"  (choices: {', '.join(question.choices)})", style="dim")
    record = entry.get("question")
    record = record if isinstance(record, dict) else {}
    evidence = entry.get("evidence") if isinstance(entry.get("evidence"), dict) else {}
    lines.append("\n")
    if "last_answer" in record:
        right = bool(record.get("correct"))
        tries = _int(record.get("attempts"))
        lines.append("Your prediction: " if question.when == "before" else "Your answer: ",
                     style="bold")
        lines.append(str(record["last_answer"]))
        lines.append(" — right" if right else " — not right", style="green" if right else "red")
        lines.append(f" ({_count(tries, 'try', 'tries')})" if tries else "")
        if not right:
            expected = question.expected(evidence or {})
            if expected is not None:
                lines.append(f"; the answer is {_format(expected)}")
        lines.append(".")
        if question.explanation:
            lines.append("\n" + render(question.explanation, variables), style="italic")
    elif record.get("not_asked"):
        reason = str(record["not_asked"])
        lines.append(reason[:1].upper() + reason[1:] + ".", style="dim")
    else:
        lines.append("Not answered.", style="dim")
    return [Text(""), lines]


def _happened(console: Console, step: Step, entry: dict[str, Any]) -> list[RenderableType]:
    status = str(entry.get("status") or "done")
    shown, plain_shown, style = _STEP_MARKS.get(status, (status, status, ""))
    line = Text()
    line.append("What happened: ", style="bold")
    line.append(plain_shown if ui.is_plain(console) else shown, style=style)
    summary = entry.get("summary")
    if status == "skipped":
        line.append(" — you skipped this step; it did not run.")
    elif isinstance(summary, str) and summary:
        line.append(f" — {summary}")
    facts: list[str] = []
    attempts = _int(entry.get("attempts"))
    if attempts:
        facts.append(_count(attempts, "attempt"))
    hints = _int(entry.get("hints_used"))
    facts.append(f"hints used: {hints}" if hints else "no hints used")
    duration = entry.get("duration_s")
    if isinstance(duration, (int, float)) and status == "done":
        facts.append(f"took {duration:.1f}s" if duration >= 0.1 else "took under 0.1s")
    finished = entry.get("finished_at")
    if isinstance(finished, str) and finished:
        facts.append("finished " + finished.replace("T", " ").replace("+00:00", " UTC"))
    parts: list[RenderableType] = [Text(""), line, Text(" · ".join(facts), style="dim")]
    evidence = entry.get("evidence")
    if status == "done" and isinstance(evidence, dict) and evidence:
        rows, left_out = evidence_rows(evidence)
        if rows:
            table = Table(title="What the step measured", box=ui.boxes(console), show_header=False,
                          title_justify="left", title_style="bold")
            table.add_column(style="cyan", no_wrap=True)
            table.add_column(overflow="fold")
            for key, value in rows:
                table.add_row(key, value)
            parts.append(table)
        if left_out:
            parts.append(Text(f"Not shown (too long here; `tutor status --json` has them): {', '.join(left_out)}.",
                              style="dim"))
    return parts


def step_view(console: Console, lesson: Lesson, step: Step, index: int, entry: dict[str, Any],
              variables: dict[str, str], sdk: str = "v1") -> RenderableType:
    """One finished step, as a panel."""
    parts: list[RenderableType] = [Markdown(render(step.explanation, variables).strip())]
    mine = own_code(entry)
    if mine is not None:
        code, file = mine
        title = f"Your code ({file}, as the tutor accepted it)" if file else "Your code (as the tutor accepted it)"
        own_exercise = step.exercise_for(sdk)
        blank = own_exercise.blank if own_exercise is not None else ""
        part = function_source(code, blank) if file and blank else None
        if part is not None:  # a file exercise: the function the learner wrote, not the whole file
            code, title = part, f"Your code ({blank}() in {file}, as the tutor accepted it)"
        parts += [Text(""), _code_panel(console, code, title, "green")]
    lesson_code = render(sdk_code(step, sdk).get("python", ""), variables).strip("\n")
    if lesson_code.strip() and (mine is None or mine[1]):
        # A file exercise's step code is not the learner's: it is what tests their file.
        title = (f"The lesson's code (Python · SDK {sdk})" if sdk == "v2" else "The lesson's code (Python)") if mine is None else "The lesson's code that uses your file (Python)"
        parts += [Text(""), _code_panel(console, lesson_code, title, "dim")]
    exercise = _exercise_line(step, entry, mine)
    parts += _happened(console, step, entry)
    if exercise:
        parts.append(Text(exercise))
    parts += _question_part(step, entry, variables)
    return Panel(Group(*parts), title=Text(f"{index}. {step.title}", style="bold"),
                 subtitle=Text(_place(step, lesson, index)),
                 title_align="left", subtitle_align="right", box=ui.boxes(console), border_style="blue")


def _not_done_line(console: Console, lesson: Lesson, step: Step, index: int, entry: dict[str, Any]) -> Text:
    status = entry.get("status") if isinstance(entry.get("status"), str) else None
    why = {None: "not done yet", "failed": "not done yet (it failed", "running": "not done yet (it was interrupted"}
    said = why.get(status, f"not done yet ({status}")
    if status == "failed" and isinstance(entry.get("error"), str) and entry["error"]:
        said += f": {entry['error'].splitlines()[0][:120]}"
    if status is not None:
        said += ")"
    text = Text()
    text.append(f"{index}. {step.title}", style="bold")
    text.append(f" ({_place(step, lesson, index)}, {step.key}): ", style="dim")
    text.append(said, style="yellow")
    return text


def review_lesson(console: Console, lesson: Lesson, doc: dict[str, Any], variables: dict[str, str],
                  continue_hint: str) -> list[RenderableType]:
    """Everything ``tutor review LESSON`` shows, in order."""
    state, finished = lesson_state(lesson, doc)
    out: list[RenderableType] = [
        ui.heading_renderable(console, f"Day {lesson.day} · {lesson.title} [{lesson.id}]"),
        Text(f"{doc.get('learner')}'s review: {finished} of {_count(len(lesson.steps), 'step')} finished"
             + ("." if state == "done" else f" (lesson {state}).")),
    ]
    if lesson.summary:
        out.append(Text(lesson.summary, style="italic"))
    pending = [(i, s) for i, s in enumerate(lesson.steps, start=1) if _status(doc, s.key) not in FINISHED]
    if not finished:
        out.append(Text(f"No step of this lesson is finished yet, so there is nothing to re-read. "
                        f"{continue_hint} works through it.", style="yellow"))
        return out
    for index, step in enumerate(lesson.steps, start=1):
        entry = _entry(doc, step.key)
        out.append(Text(""))
        if _status(doc, step.key) in FINISHED:
            out.append(step_view(console, lesson, step, index, entry, variables, doc.get("sdk") or "v1"))
        else:
            out.append(_not_done_line(console, lesson, step, index, entry))
    if pending:
        names = ", ".join(f"{i}. {s.title} ({s.key})" for i, s in pending)
        out += [Text(""), Text(f"Not done yet: {names}. {continue_hint} continues the lesson.", style="yellow")]
    return out


def lesson_list(console: Console, course: Course, doc: dict[str, Any]) -> list[RenderableType]:
    """The lessons with how far the learner got, and how to read one."""
    table = Table(title=f"Lessons of {doc.get('learner')}", box=ui.boxes(console), title_justify="left")
    for col in ("lesson", "day", "title", "steps", "state"):
        table.add_column(col, justify="right" if col in ("day", "steps") else "left", no_wrap=col != "title")
    example = None
    for lesson in course.lessons:
        state, finished = lesson_state(lesson, doc)
        mark, plain_mark, style = _LESSON_MARKS[state]
        if example is None and state != "not started":
            example = lesson.id
        table.add_row(lesson.id, str(lesson.day), lesson.title, f"{finished}/{len(lesson.steps)}",
                      Text(plain_mark if ui.is_plain(console) else mark, style=style))
    example = example or course.lessons[0].id
    return [table, Text(f"`tutor review LESSON` re-reads one, for example `tutor review {example}`. "
                        "A lesson in progress shows its finished steps.")]


# -- output: paged at a terminal ------------------------------------------------------------------
def stdout_is_terminal() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def pager_styles(console: Console) -> bool:
    """Whether to send colours to the pager: yes unless plain, or ``less`` without -R. For ``less``
    with no LESS setting, LESS=FRX is set (as git does): colours, and no paging of a short text."""
    if console.color_system is None:
        return False
    command = os.environ.get("MANPAGER") or os.environ.get("PAGER") or "less"
    try:
        words = shlex.split(command)
    except ValueError:
        return False
    if not words or os.path.basename(words[0]) != "less":
        return True
    if "LESS" not in os.environ:
        os.environ["LESS"] = "FRX"
    flags = os.environ.get("LESS", "") + " " + " ".join(words[1:])
    return bool(re.search(r"R|(^|[\s-])r", flags))


def _height(console: Console, parts: list[RenderableType]) -> int:
    return sum(len(console.render_lines(part, pad=False, new_lines=False)) for part in parts)


def show(console: Console, parts: list[RenderableType], *, page: bool) -> None:
    """Print ``parts``; through the pager when ``page`` and they do not fit on the screen."""
    if page and _height(console, parts) > console.height:
        with console.pager(styles=pager_styles(console)):
            for part in parts:
                console.print(part)
        return
    for part in parts:
        console.print(part)

