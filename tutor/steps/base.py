"""The contract between the wizard and the step actions.

A step action is a plain function ``(ctx: StepContext) -> StepResult``. ``ctx`` carries
the learner's settings, the step's parameters (already templated), the outputs of
earlier steps, the workspace and a progress reporter. The result carries JSON-safe
evidence (what the step proved: row counts, run ids, metrics), outputs for later steps,
and items to display. Actions never prompt or print: when they must ask (overwrite a
learner's edited file?) they call ``ctx.confirm``, which the wizard answers.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterator, Protocol

from tutor.display import Display
from tutor.paths import CourseDir
from tutor.settings import Settings  # noqa: F401 - steps and callers import Settings from here

if TYPE_CHECKING:  # pragma: no cover - typing only: the workspace package is imported when a step opens one
    from tutor.workspace.base import Workspace


class TaskHandle(Protocol):
    def advance(self, amount: float = 1) -> None: ...

    def update(self, *, completed: float | None = None, total: float | None = None,
               description: str | None = None) -> None: ...


class LiveTable(Protocol):
    def update(self, rows: list[list[Any]]) -> None: ...


class Reporter(Protocol):
    """How an action shows that long work is moving. The wizard provides it."""

    def status(self, message: str) -> None:
        """A one-line status ("Waiting for 3 runs...")."""

    def log(self, line: str) -> None:
        """One line of a streamed log (a run's stdout, a service log)."""

    def notice(self, title: str, text: str) -> None:
        """Something the learner must act on now (a sign-in code), shown prominently."""

    def task(self, description: str, total: float | None = None) -> Any:
        """A context manager giving a :class:`TaskHandle` with a progress bar."""

    def live_table(self, title: str, columns: list[str]) -> Any:
        """A context manager giving a :class:`LiveTable` redrawn on each update."""


class _NullTask:
    def advance(self, amount: float = 1) -> None:
        pass

    def update(self, *, completed: float | None = None, total: float | None = None,
               description: str | None = None) -> None:
        pass


class _NullLiveTable:
    def __init__(self) -> None:
        self.rows: list[list[Any]] = []

    def update(self, rows: list[list[Any]]) -> None:
        self.rows = rows


class NullReporter:
    """A reporter that shows nothing (tests, scripts)."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.statuses: list[str] = []

    def status(self, message: str) -> None:
        self.statuses.append(message)

    def log(self, line: str) -> None:
        self.lines.append(line)

    def notice(self, title: str, text: str) -> None:
        self.lines.append(f"{title}: {text}")

    @contextmanager
    def task(self, description: str, total: float | None = None) -> Iterator[_NullTask]:
        yield _NullTask()

    @contextmanager
    def live_table(self, title: str, columns: list[str]) -> Iterator[_NullLiveTable]:
        yield _NullLiveTable()


@dataclass
class StepResult:
    """What a finished action hands back to the wizard.

    ``evidence`` is saved in the progress file and checked against the lesson's
    ``done_when``; ``outputs`` are saved too and given to later steps in ``ctx.outputs``.
    Both must be JSON-safe and must never hold a key, token or password.
    """

    evidence: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    display: list[Display] = field(default_factory=list)
    summary: str = ""
    # A scoring service to open the prediction prompt on after the step (interactive runs
    # only): a tutor.predict.ReplTarget. Never saved: it carries the service's keys.
    repl: Any = None


def _default_text(question: str, default: str, validate: Callable[[str], str | None] | None = None) -> str:
    """``ask_text`` when nobody answers (tests, --yes): the default."""
    return default


@dataclass
class StepContext:
    settings: Settings
    params: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    # The step (course-wide id) that produced each of ``outputs``, for messages that send the
    # learner back to it.
    output_steps: dict[str, str] = field(default_factory=dict)
    # True when the learner's own code (an exercise) has already made what this step makes:
    # the action finds it in the workspace instead of making it again.
    adopt: bool = False
    # With ``adopt``: evaluates an expression over the learner's names (their Python, where the
    # exercise ran) -> (ok, value or the error in words). None when there is no such Python.
    learner: Callable[[str], tuple[bool, Any]] | None = None
    # The SDK the learner's code is written in ("v1" azureml-core, "v2" azure-ai-ml): what the
    # names ``learner`` reads are.
    sdk: str = "v1"
    progress: Reporter = field(default_factory=NullReporter)
    # Answers a yes/no question; the wizard wires it to a prompt (or the default with --yes).
    confirm: Callable[[str, bool], bool] = lambda question, default: default
    # Picks one of (value, label) choices; returns the value (the default with --yes).
    choose: Callable[[str, list[tuple[str, str]], str], str] = lambda question, choices, default: default
    # Asks for text; the validator returns an error message or None (the default with --yes).
    ask_text: Callable[[str, str, Callable[[str], str | None] | None], str] = _default_text
    # Opens the learner's workspace on first use (see tutor.workspace.open_workspace).
    workspace_factory: Callable[[Settings], Workspace] | None = None
    # What an interrupted earlier attempt of this step saved with save_partial (run ids it
    # submitted, say), so the step can reattach instead of starting the work again.
    resume: dict[str, Any] = field(default_factory=dict)
    # Saves such state at once in the progress file (JSON-safe, no secrets).
    save_partial: Callable[[dict[str, Any]], None] = lambda state: None
    _workspace: Workspace | None = None

    @property
    def course_dir(self) -> CourseDir:
        return self.settings.course_dir

    @property
    def username(self) -> str:
        return self.settings.username

    @property
    def workspace(self) -> Workspace:
        """The learner's workspace, opened on first use."""
        if self._workspace is None:
            factory = self.workspace_factory
            if factory is None:
                from tutor.workspace import open_workspace

                factory = open_workspace
            self._workspace = factory(self.settings)
        return self._workspace

    @workspace.setter
    def workspace(self, value: Workspace) -> None:
        """Use this (already open) workspace instead of opening one."""
        self._workspace = value

    @property
    def opened_workspace(self) -> Workspace | None:
        """The workspace if a step has opened it (or one was given), else None; never opens one."""
        return self._workspace

    def param(self, name: str, default: Any = None) -> Any:
        return self.params.get(name, default)

    def output(self, name: str) -> Any:
        """An output of an earlier step; a clear error if that step has not run."""
        from tutor.errors import StepFailed

        if name not in self.outputs:
            raise StepFailed(
                f"This step needs '{name}', which an earlier step produces, and it is not there.",
                "Go back and run the earlier steps (tutor status shows which are not done).",
            )
        return self.outputs[name]


Action = Callable[[StepContext], StepResult]
