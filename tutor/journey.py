"""The course as the learner meets it: the welcome, the welcome back, the course map, the recaps.

Everything here reads the lessons (their estimates, concepts, recap figures and charts, see
lessons/README.md) and the learner's progress; nothing runs a step. The wizard calls
:func:`welcome` or :func:`welcome_back` when it starts, :func:`course_map` at each lesson's start,
:func:`lesson_recap` when a lesson is finished and :func:`day_summary` at the end of a day.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from tutor import ui


class DocProgress:
    """A progress document as read from its file (``tutor status``), with Progress's read methods."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.steps: dict[str, Any] = doc.get("steps") or {}

    def status(self, key: str) -> str | None:
        entry = self.steps.get(key)
        return entry.get("status") if isinstance(entry, dict) else None

    def is_finished(self, key: str) -> bool:
        return self.status(key) in ("done", "skipped")


def _finished(progress: Any, key: str) -> bool:
    return bool(progress.is_finished(key))


def lesson_state(progress: Any, lesson: Any) -> str:
    """"done", "started" or "new": every step finished, some, or none."""
    finished = sum(_finished(progress, s.key) for s in lesson.steps)
    if finished == len(lesson.steps):
        return "done"
    return "started" if finished or any(progress.status(s.key) for s in lesson.steps) else "new"


def minutes_left(course: Any, progress: Any) -> float:
    """The estimate for what is left: each lesson's minutes, pro rata for the steps not finished."""
    left = 0.0
    for lesson in course.lessons:
        if not lesson.steps:
            continue
        todo = sum(not _finished(progress, s.key) for s in lesson.steps)
        left += lesson.minutes * todo / len(lesson.steps)
    return left


def duration_text(minutes: float) -> str:
    minutes = max(0.0, minutes)
    if minutes < 1:
        return "under a minute"
    hours, rest = divmod(round(minutes), 60)
    return f"{hours} h {rest:02d} min" if hours else f"{rest} min"


def _marks(console: Console) -> dict[str, tuple[str, str]]:
    if ui.is_plain(console):
        return {"done": ("[done]", ""), "started": ("[here]", "bold"), "new": ("[ ]", ""), "current": ("[next]", "bold")}
    return {"done": ("✓", "green"), "started": ("▶", "bold cyan"), "new": ("·", "dim"), "current": ("▶", "bold cyan")}


def map_table(course: Any, progress: Any, console: Console, current: str | None = None) -> Table:
    """Both days' lessons, rustlings-style: a mark, the lesson, its steps done and its estimate."""
    marks = _marks(console)
    table = Table(box=None, show_header=True, pad_edge=False, header_style="bold")
    table.add_column("", no_wrap=True)
    table.add_column("lesson", overflow="fold")
    table.add_column("steps", justify="right", no_wrap=True)
    table.add_column("about", justify="right", no_wrap=True)
    for day in sorted({lesson.day for lesson in course.lessons}):
        table.add_row("", Text(f"Day {day}", style="bold"), "", "")
        for lesson in (l for l in course.lessons if l.day == day):
            state = lesson_state(progress, lesson)
            mark, style = marks["current" if lesson.id == current and state != "done" else state]
            finished = sum(_finished(progress, s.key) for s in lesson.steps)
            table.add_row(Text(mark, style=style), Text(f"{lesson.title} ({lesson.id})", style=style),
                          f"{finished}/{len(lesson.steps)}", f"{lesson.minutes:g} min")
    return table


def course_map(console: Console, course: Any, progress: Any, current: str | None = None) -> None:
    left = minutes_left(course, progress)
    console.print(Panel(Group(map_table(course, progress, console, current),
                              Text(f"\nLeft: about {duration_text(left)} (reading, typing and running the steps).",
                                   style="dim")),
                        title="The course", title_align="left", box=ui.boxes(console), border_style="blue"))


KEYS = ("At each step: Enter runs it; h shows a hint, s skips it, b goes back, q quits, v shows the code in "
        "the other SDK (v1 azureml-core or v2 azure-ai-ml). "
        "Where you write the code: hint, solution, skip, e (your $EDITOR), back, quit; "
        "Ctrl-C stops your running code.")


def welcome(console: Console, course: Any, progress: Any, settings: Any, progress_path: str) -> None:
    """The first screen: what the course is, both days with their estimates, what is needed, the keys."""
    total = sum(lesson.minutes for lesson in course.lessons)
    if settings.workspace == "local":
        where = (f"Nothing else: you work in an embedded workspace ({settings.username}-ws) on this machine that "
                 "behaves like Azure ML, so no Azure account is needed. The code you write runs unchanged on Azure.")
    else:
        where = (f"Your Azure ML workspace (from {settings.workspace}). The course creates clusters and services "
                 "that cost money while they exist; the last lesson deletes them.")
    body: list[RenderableType] = [
        Text.assemble(("Welcome, ", "bold"), (settings.username, "bold cyan"), ("!", "bold")),
        Text("In two days you will predict the fare of a New York green taxi with Azure Machine Learning: prepare "
             "the trips, run experiments on a compute cluster, register a dataset and a model, deploy a scoring "
             "service with a key and call it, then let automated ML search for a better model."),
        Text(""),
        map_table(course, progress, console),
        Text(f"\nIn all about {duration_text(total)}: the estimates are reading and typing time plus the steps' run "
             "time on this kind of machine.", style="dim"),
        Text.assemble(("\nWhat you need: ", "bold"), where),
        Text.assemble(("Keys: ", "bold"), KEYS),
        Text.assemble(("Your progress ", "bold"), f"is saved after every step in {progress_path}; "
                      "`tutor start` continues where you stopped, `tutor status` shows where you are."),
    ]
    console.print(Panel(Group(*body), title="aml-tutor", title_align="left", box=ui.boxes(console),
                        border_style="blue"))


@dataclass
class Alive:
    """Something from earlier steps that still exists: a running service or a cluster."""

    kind: str  # "service" | "cluster" | "compute instance"
    name: str
    detail: str


# What an Azure resource costs while it exists, in words (prices vary by region and size).
COSTS = {
    "service": "on Azure a container instance bills by the second while it runs",
    "cluster": "a cluster bills only for running nodes; with min_nodes=0 it costs nothing when idle",
    "compute instance": "a compute instance bills by the hour while it runs: stop it when you pause",
}


def alive(open_workspace: Callable[[], Any]) -> list[Alive]:
    """The services and compute in the workspace now; [] when it cannot be looked at."""
    try:
        ws = open_workspace()
        found = [Alive("service", s.name, f"{s.state}" + (f", {s.scoring_uri}" if s.scoring_uri else ""))
                 for s in ws.list_services()]
        for target in ws.list_compute():
            kind = "cluster" if target.type == "AmlCompute" else "compute instance"
            found.append(Alive(kind, target.name, f"{target.type}, up to {target.max_nodes} node(s)"
                               if kind == "cluster" else str(target.type)))
        return found
    except Exception:  # noqa: BLE001 - a welcome must not fail: the workspace is looked at again later
        return []


def _spent(progress: Any) -> float:
    return sum(float(entry.get("time_spent_s") or 0.0) for entry in progress.steps.values()
               if isinstance(entry, dict))


def welcome_back(console: Console, course: Any, progress: Any, settings: Any, here: Any,
                 found: list[Alive]) -> None:
    """Where the learner stopped: done and left, time spent, the step, and what is still alive."""
    steps = course.steps
    finished = sum(_finished(progress, s.key) for s in steps)
    lessons_done = sum(lesson_state(progress, lesson) == "done" for lesson in course.lessons)
    body: list[RenderableType] = [
        Text.assemble(("Welcome back, ", "bold green"), (settings.username, "bold cyan"), ("!", "bold green")),
        Text(f"{finished} of {len(steps)} steps done ({lessons_done} of {len(course.lessons)} lessons), "
             f"{duration_text(_spent(progress) / 60)} spent so far; about {duration_text(minutes_left(course, progress))} "
             "left."),
    ]
    if here is not None:
        lesson = course.lesson(here.lesson_id)
        body.append(Text.assemble("You stopped at ", (f"{here.title}", "bold"),
                                  f" ({here.key}), in '{lesson.title}' on day {lesson.day}."))
    if found:
        body.append(Text("\nStill there from earlier steps:", style="bold"))
        for item in found:
            body.append(Text(f"  {item.kind} {item.name}: {item.detail}"))
        kinds = sorted({item.kind for item in found})
        costs = "; ".join(COSTS[k] for k in kinds if k in COSTS)
        body.append(Text(f"  ({costs}.) `tutor cleanup` deletes them." if settings.workspace != "local"
                         else f"  Here they cost nothing; {costs}.", style="dim"))
    console.print(Panel(Group(*body), title="aml-tutor", title_align="left", box=ui.boxes(console),
                        border_style="green"))


def _figure(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "none"
    return str(value)


def recap_rows(lesson: Any, progress: Any) -> list[tuple[str, str]]:
    """(label, value) for each of the lesson's recap figures found in the evidence."""
    from tutor.lessons import lookup

    rows = []
    for item in lesson.recap:
        entry = progress.steps.get(f"{lesson.id}/{item.step}") or {}
        found, value = lookup(entry.get("evidence") or {}, item.key)
        if found and value not in (None, ""):
            rows.append((item.label, _figure(value)))
    return rows


def lesson_recap(console: Console, lesson: Any, progress: Any, variables: dict[str, str]) -> None:
    """What the learner made in the lesson, its concepts in a line each, and where it is in the course."""
    from tutor.lessons import render

    body: list[RenderableType] = []
    rows = recap_rows(lesson, progress)
    if rows:
        table = Table(box=None, show_header=False, pad_edge=False)
        table.add_column(style="bold")
        table.add_column(overflow="fold")
        for label, value in rows:
            table.add_row(label, value)
        body += [Text("What you made", style="bold underline"), table]
    if lesson.concepts:
        body.append(Text("\nWhat it was about", style="bold underline"))
        bullet = "-" if ui.is_plain(console) else "•"
        body += [Text(f"{bullet} {render(c, variables)}") for c in lesson.concepts]
    if lesson.original:
        body.append(Text(f"\nIn the original course: {lesson.original}.", style="dim"))
    if not body:
        return
    console.print(Panel(Group(*body), title=f"Recap · {lesson.title}", title_align="left", box=ui.boxes(console),
                        border_style="green"))


def chart_items(chart: Any, progress: Any) -> list[tuple[str, float]]:
    """The bars of one lesson chart, from the evidence (a table of numbers, or named figures)."""
    from tutor.lessons import lookup

    def evidence(step: str) -> dict[str, Any]:
        return (progress.steps.get(step) or {}).get("evidence") or {}

    items: list[tuple[str, float]] = []
    if chart.key:
        found, table = lookup(evidence(chart.step), chart.key)
        if found and isinstance(table, dict):
            for label, value in table.items():
                if chart.field and isinstance(value, dict):
                    value = value.get(chart.field)
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    items.append((str(label), float(value)))
    for bar in chart.bars:
        if bar.value is not None:
            items.append((bar.label, float(bar.value)))
            continue
        found, value = lookup(evidence(bar.step), bar.key)
        if found and isinstance(value, (int, float)) and not isinstance(value, bool):
            items.append((bar.label, float(value)))
    return items


def day_summary(console: Console, course: Any, day: int, progress: Any, found: list[Alive],
                username: str) -> None:
    """The end of a day: its charts, what is still running, and the clean-up command."""
    from tutor.display import Bars

    lessons = [lesson for lesson in course.lessons if lesson.day == day]
    body: list[RenderableType] = [Text(f"Day {day} is done: " + ", ".join(l.title for l in lessons) + ".",
                                       style="bold green")]
    for lesson in lessons:
        for chart in lesson.charts:
            items = chart_items(chart, progress)
            if len(items) >= 2:
                values = [v for _, v in items]
                low, high = min(values), max(values)
                start = low - (high - low) * 0.5 if high > low and low > 0 and (high - low) < 0.2 * high else None
                body.append(ui.render(Bars(chart.title, items, unit=chart.unit, start=start), console))
    if found:
        body.append(Text("Still running:", style="bold"))
        body += [Text(f"  {item.kind} {item.name}: {item.detail}") for item in found]
        body.append(Text(f"`tutor cleanup -u {username}` deletes what the course made.", style="dim"))
    later = [lesson for lesson in course.lessons if lesson.day > day]
    if later:
        body.append(Text(f"\nNext: day {later[0].day}, starting with '{later[0].title}'. `tutor start` goes on.",
                         style="dim"))
    console.print(Panel(Group(*body), title=f"Day {day}", title_align="left", box=ui.boxes(console),
                        border_style="blue"))
