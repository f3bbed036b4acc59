"""What a step wants shown, as plain data.

Step actions never touch the screen: they return these items in their
:class:`~tutor.steps.base.StepResult` and the wizard renders them with Rich
(see :mod:`tutor.ui`). Keeping them as data also makes actions easy to test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Union


@dataclass(frozen=True)
class Histogram:
    """A table cell holding bin counts, drawn as a tiny bar chart (Unicode or ASCII)."""

    counts: tuple[int, ...]


@dataclass
class Table:
    """A table: column names and rows of plain values."""

    title: str
    columns: list[str]
    rows: list[list[Any]]
    caption: str | None = None
    # Column names whose values are right-aligned numbers.
    numeric: list[str] = field(default_factory=list)


@dataclass
class Bars:
    """A horizontal bar chart: one labelled bar per item."""

    title: str
    items: list[tuple[str, float]]
    unit: str = ""
    fmt: str = "{:.4g}"
    # Where the bars start. None starts them at zero; close values are easier to tell
    # apart from a higher start, which the chart then says.
    start: float | None = None


@dataclass
class Note:
    """A short message. ``kind`` picks its colour and icon."""

    text: str
    kind: Literal["info", "success", "warning", "error"] = "info"


@dataclass
class Code:
    """A code snippet (a command to try, a generated script)."""

    code: str
    language: str = "python"
    title: str | None = None


@dataclass
class Facts:
    """Name/value pairs, shown as a compact two-column table."""

    title: str
    items: list[tuple[str, Any]]


@dataclass
class LogTail:
    """The last lines of a log (a run, a service)."""

    title: str
    text: str


Display = Union[Table, Bars, Note, Code, Facts, LogTail]
