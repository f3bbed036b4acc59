"""The screen: a Rich console, the step panel, display items and progress reporters.

Everything the learner sees goes through here, so colour, plain mode and the absence of a
terminal are decided in one place. Rich honours ``NO_COLOR`` and ``TERM=dumb`` itself;
``--plain``, ``NO_COLOR`` and ``TERM=dumb`` give a screen-reader transcript: no colour and no
box drawing (panels keep their titles, tables their columns); with no terminal (a pipe, a CI
log) boxes are ASCII. Either way progress is line by line instead of animated bars.
"""

from __future__ import annotations

import os
import sys
import time
import weakref
from contextlib import contextmanager
from typing import Any, Iterator

from rich import box
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.markdown import Markdown
from rich.panel import Panel
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.syntax import Syntax
from rich.table import Table as RichTable
from rich.text import Text

from tutor import display as d

KIND_STYLE = {"info": ("cyan", "i"), "success": ("green", "✓"), "warning": ("yellow", "!"), "error": ("red", "✗")}
KIND_ASCII = {"info": "i", "success": "ok", "warning": "!", "error": "x"}


# Width used when the output is not a terminal (a pipe, a CI log) and COLUMNS is unset.
PIPE_WIDTH = 100

SPARK = " ▁▂▃▄▅▆▇█"
SPARK_ASCII = " .:-=+*#%@"


# Consoles for a screen reader (--plain, NO_COLOR, TERM=dumb): no box drawing at all, headings
# as lines of text. A pipe without them keeps ASCII boxes, which read well in a CI log.
_READERS: "weakref.WeakSet[Console]" = weakref.WeakSet()

# A box of spaces: a panel keeps its title and its indentation, and draws no lines.
BLANK = box.Box("    \n    \n    \n    \n    \n    \n    \n    \n")


def make_console(*, plain: bool = False, stderr: bool = False) -> Console:
    dumb = os.environ.get("TERM") == "dumb"
    no_color = bool(os.environ.get("NO_COLOR"))
    stream = sys.stderr if stderr else sys.stdout
    try:
        terminal = stream.isatty()
    except (AttributeError, ValueError):
        terminal = False
    width = None if terminal or os.environ.get("COLUMNS") else PIPE_WIDTH
    if plain or dumb or no_color:
        console = Console(stderr=stderr, color_system=None, emoji=False, highlight=False, width=width)
        _READERS.add(console)
        return console
    return Console(stderr=stderr, width=width)


def for_reader(console: Console) -> bool:
    """A screen-reader transcript: --plain, NO_COLOR or TERM=dumb."""
    return console in _READERS


def heading_renderable(console: Console, title: str) -> RenderableType:
    """A section heading across the screen (a lesson's start): a rule, or a line of text for a reader.

    The title is text, not markup: "[day1-setup]" in it stays as it is."""
    from rich.rule import Rule

    if for_reader(console):
        return Text(f"\n{title}\n", style="bold")
    if is_plain(console):
        return Rule(Text(title), characters="-")
    return Rule(Text(title), style="blue")


def heading(console: Console, title: str) -> None:
    console.print(heading_renderable(console, title), highlight=False)


def sparkline(counts: tuple[int, ...] | list[int], ascii_only: bool = False) -> str:
    """One character per bin, its height by count."""
    levels = SPARK_ASCII if ascii_only else SPARK
    top = max(counts, default=0) or 1
    return "".join(levels[0 if c == 0 else max(1, round(c / top * (len(levels) - 1)))] for c in counts)


def is_plain(console: Console) -> bool:
    return console.color_system is None or not console.is_terminal


def boxes(console: Console) -> box.Box:
    if for_reader(console):
        return BLANK
    return box.ASCII if console.legacy_windows or console.color_system is None else box.ROUNDED


# -- display items --------------------------------------------------------------------
def render(item: d.Display, console: Console) -> RenderableType:
    b = boxes(console)
    if isinstance(item, d.Table):
        table = RichTable(title=item.title, caption=item.caption, box=b, title_justify="left")
        cells = [[_cell(v, console) for v in row] for row in item.rows]
        for index, col in enumerate(item.columns):
            longest = max((len(r[index]) for r in cells if index < len(r)), default=0)
            # Short values (numbers, names, histograms) never wrap; long text columns give way.
            table.add_column(col, justify="right" if col in item.numeric else "left", no_wrap=longest <= 24)
        for row in cells:
            table.add_row(*row)
        return table
    if isinstance(item, d.Facts):
        table = RichTable(title=item.title, box=b, show_header=False, title_justify="left")
        table.add_column(style="bold")
        table.add_column()
        for name, value in item.items:
            table.add_row(str(name), _cell(value, console))
        return table
    if isinstance(item, d.Bars):
        return _bars(item, console)
    if isinstance(item, d.Note):
        colour, icon = KIND_STYLE[item.kind]
        if console.color_system is None:
            icon = KIND_ASCII[item.kind]
        return Text.assemble((f"{icon} ", f"bold {colour}"), (item.text, colour))
    if isinstance(item, d.Code):
        return Panel(Syntax(item.code, item.language, word_wrap=True, theme="ansi_dark"),
                     title=item.title, box=b, title_align="left")
    if isinstance(item, d.LogTail):
        return Panel(Text(item.text), title=item.title, box=b, title_align="left", border_style="red")
    raise TypeError(f"cannot display {type(item).__name__}")


def _cell(value: Any, console: Console) -> str:
    if isinstance(value, d.Histogram):
        return sparkline(value.counts, ascii_only=console.color_system is None)
    if isinstance(value, float):
        return f"{value:,.4f}" if abs(value) < 1e6 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return "" if value is None else str(value)


def _bars(item: d.Bars, console: Console) -> RenderableType:
    table = RichTable(title=item.title, box=None, show_header=False, title_justify="left", pad_edge=False)
    table.add_column(justify="right")
    table.add_column()
    table.add_column(justify="right")
    start = item.start or 0.0
    top = max((abs(v - start) for _, v in item.items), default=0) or 1
    width = max(10, min(40, console.width - 30))
    fill = "#" if console.color_system is None else "█"
    for label, value in item.items:
        table.add_row(label, Text(fill * max(1, round(abs(value - start) / top * width)), style="cyan"),
                      item.fmt.format(value) + item.unit)
    if item.start:
        table.caption = f"bars start at {item.fmt.format(item.start)}{item.unit}"
    return table


def show_items(console: Console, items: list[d.Display]) -> None:
    for item in items:
        console.print(render(item, console))


# -- the step panel ---------------------------------------------------------------------
def _code_parts(console: Console, code: dict[str, str], sdk: str = "") -> list[RenderableType]:
    parts: list[RenderableType] = []
    for language, snippet in code.items():
        label = {"python": "Python", "r": "R"}.get(language, language)
        if language == "python" and sdk:
            label += f" · SDK {sdk}"
        parts.append(Text(""))
        parts.append(Panel(Syntax(snippet.strip("\n"), language, word_wrap=True, theme="ansi_dark"),
                           title=f"The code ({label})", title_align="left", box=boxes(console), border_style="dim"))
    return parts


def step_panel(console: Console, *, header: str, title: str, explanation: str, code: dict[str, str],
               ref: str = "", sdk: str = "", note: str = "") -> None:
    """A step: its explanation, then its code (Python labelled with the SDK track ``sdk`` when
    given), then ``note`` (what differs on that track)."""
    parts: list[RenderableType] = [Markdown(explanation.strip())]
    if note:
        parts.extend([Text(""), Markdown(note.strip())])
    parts.extend(_code_parts(console, code, sdk))
    subtitle = ref or None
    console.print(Panel(Group(*parts), title=f"[bold]{title}[/]", subtitle=subtitle, box=boxes(console),
                        title_align="left", subtitle_align="right", border_style="blue"))
    console.print(Text(header, style="dim"))


def code_panel(console: Console, code: str, *, title: str, note: str = "", footer: str = "") -> None:
    """Code shown beside a step (its other SDK's form): ``note`` above it, ``footer`` below."""
    parts: list[RenderableType] = []
    if note:
        parts.append(Markdown(note.strip()))
    parts.extend(_code_parts(console, {"python": code}))
    if footer:
        parts.extend([Text(""), Text(footer, style="dim")])
    console.print(Panel(Group(*parts), title=f"[bold]{title}[/]", box=boxes(console), title_align="left",
                        border_style="cyan"))


def error_panel(console: Console, what: str, fix: str | None, *, title: str = "Problem") -> None:
    body = Text(what, style="bold")
    if fix:
        body.append("\n")
        body.append(fix)
    console.print(Panel(body, title=title, box=boxes(console), border_style="red", title_align="left"))


# -- progress reporters ----------------------------------------------------------------
class _Task:
    def __init__(self, progress: Progress, task_id: Any) -> None:
        self._progress = progress
        self._id = task_id

    def advance(self, amount: float = 1) -> None:
        self._progress.advance(self._id, amount)

    def update(self, *, completed: float | None = None, total: float | None = None,
               description: str | None = None) -> None:
        kwargs: dict[str, Any] = {}
        if completed is not None:
            kwargs["completed"] = completed
        if total is not None:
            kwargs["total"] = total
        if description is not None:
            kwargs["description"] = description
        self._progress.update(self._id, **kwargs)


class _LiveTableHandle:
    def __init__(self, reporter: "LiveReporter", title: str, columns: list[str]) -> None:
        self._reporter = reporter
        self.title = title
        self.columns = columns
        self.rows: list[list[Any]] = []

    def update(self, rows: list[list[Any]]) -> None:
        self.rows = [list(r) for r in rows]
        self._reporter.refresh()

    def renderable(self, console: Console) -> RenderableType:
        return render(d.Table(self.title, self.columns, self.rows), console)


class LiveReporter:
    """Animated progress on a terminal: a spinner line, bars and live tables in one Live view."""

    def __init__(self, console: Console, title: str) -> None:
        self.console = console
        self._status = title
        self._progress = Progress(
            SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(), console=console, auto_refresh=False,
        )
        self._tables: list[_LiveTableHandle] = []
        self._live: Live | None = None
        self._started = time.monotonic()

    def __rich__(self) -> RenderableType:
        elapsed = time.monotonic() - self._started
        parts: list[RenderableType] = [Text.assemble(("⠿ ", "cyan"), (self._status, "bold"), (f"  {elapsed:4.0f}s", "dim"))]
        if self._progress.tasks:
            parts.append(self._progress.get_renderable())
        parts.extend(t.renderable(self.console) for t in self._tables)
        return Group(*parts)

    def __enter__(self) -> "LiveReporter":
        self._live = Live(self, console=self.console, refresh_per_second=8, transient=True)
        self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)
        for table in self._tables:  # leave the final state of live tables on screen
            self.console.print(table.renderable(self.console))
        self._tables.clear()

    def refresh(self) -> None:
        if self._live is not None:
            self._live.refresh()

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Stop redrawing while the learner answers a prompt, then carry on."""
        if self._live is None:
            yield
            return
        self._live.stop()
        try:
            yield
        finally:
            self._live.start()

    def status(self, message: str) -> None:
        self._status = message
        self.refresh()

    def log(self, line: str) -> None:
        self.console.print(Text(line.rstrip("\n"), style="dim"), highlight=False)

    def notice(self, title: str, text: str) -> None:
        self.console.print(Panel(Text(text), title=title, box=boxes(self.console), border_style="yellow",
                                 title_align="left"))

    @contextmanager
    def task(self, description: str, total: float | None = None) -> Iterator[_Task]:
        task_id = self._progress.add_task(description, total=total)
        try:
            yield _Task(self._progress, task_id)
        finally:
            self._progress.remove_task(task_id)
            self.refresh()

    @contextmanager
    def live_table(self, title: str, columns: list[str]) -> Iterator[_LiveTableHandle]:
        handle = _LiveTableHandle(self, title, columns)
        self._tables.append(handle)
        try:
            yield handle
        finally:
            self.refresh()


class _LineTask:
    def __init__(self, reporter: "LineReporter", description: str, total: float | None) -> None:
        self._reporter = reporter
        self.description = description
        self.total = total
        self.completed = 0.0

    def advance(self, amount: float = 1) -> None:
        self.completed += amount

    def update(self, *, completed: float | None = None, total: float | None = None,
               description: str | None = None) -> None:
        if completed is not None:
            self.completed = completed
        if total is not None:
            self.total = total
        if description is not None and description != self.description:
            self.description = description
            self._reporter.status(description)


class _LineTable:
    def __init__(self, title: str, columns: list[str]) -> None:
        self.title = title
        self.columns = columns
        self.rows: list[list[Any]] = []

    def update(self, rows: list[list[Any]]) -> None:
        self.rows = [list(r) for r in rows]


class LineReporter:
    """Progress as plain lines: for --plain, dumb terminals and runs with no terminal."""

    def __init__(self, console: Console, title: str) -> None:
        self.console = console
        self._last = ""
        self.status(title)

    def __enter__(self) -> "LineReporter":
        return self

    @contextmanager
    def paused(self) -> Iterator[None]:
        yield

    def __exit__(self, *exc: object) -> None:
        pass

    def status(self, message: str) -> None:
        if message != self._last:
            self.console.print(f"  ... {message}", highlight=False)
            self._last = message

    def log(self, line: str) -> None:
        self.console.print(f"  | {line.rstrip()}", highlight=False)

    def notice(self, title: str, text: str) -> None:
        self.console.print(f"  !! {title}: {text}", highlight=False)

    @contextmanager
    def task(self, description: str, total: float | None = None) -> Iterator[_LineTask]:
        self.status(description)
        handle = _LineTask(self, description, total)
        yield handle

    @contextmanager
    def live_table(self, title: str, columns: list[str]) -> Iterator[_LineTable]:
        handle = _LineTable(title, columns)
        try:
            yield handle
        finally:
            if handle.rows:
                self.console.print(render(d.Table(title, columns, handle.rows), self.console))


def reporter_for(console: Console, title: str) -> LiveReporter | LineReporter:
    if is_plain(console):
        return LineReporter(console, title)
    return LiveReporter(console, title)


def stdin_is_terminal() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False
