"""The exercise loop: the learner writes a step's code, it runs in the kernel, checks look at what it did.

One :class:`ExerciseRunner` lives as long as the wizard and keeps one kernel (a child Python,
see :mod:`tutor.exercises.session`), so names the learner made stay bound from one exercise to
the next. Names an exercise needs (``needs`` in the lesson) are rebuilt from the workspace
when they are missing: a new session, or a kernel restarted after a crash.

Without a learner to type (``--yes``, ``tutor lessons rehearse``) the reference solution goes
through the very same path — kernel, checks, record — so every exercise's solution and its
checks run in CI.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from rich.console import Console
from rich.panel import Panel
from rich.syntax import Syntax
from rich.text import Text

from tutor import ui
from tutor.errors import StepFailed
from tutor.exercises.checks import Probe, run_check
from tutor.exercises.prompt import (HELP, command_of, edit_file, edit_in_editor, read_code_lines,
                                    read_code_terminal)
from tutor.exercises.spec import blanked, function_lines, shipped_file
from tutor.lessons import Step, render
from tutor.prompts import QuestionaryPrompter, Quit

SOLVED, SKIPPED, BACK, QUIT = "solved", "skipped", "back", "quit"
UNAVAILABLE = "not offered"  # the learner's Python lacks a module the exercise needs (wizard.NOT_OFFERED)
RUNNING_REFERENCE = "running-reference"  # recorded while the reference solution runs

# Inside a string literal, a run that looks like a key or token: 24+ base64 / hex characters
# with a digit among them (long names such as idle_seconds_before_scaledown have none).
_LITERAL = re.compile(r"""(["'])(.*?)\1""")
_TOKEN = re.compile(r"(?=[A-Za-z0-9+/=_\-]*\d)[A-Za-z0-9+/=_\-]{24,}")
_SECRET_ASSIGN = re.compile(r"""(?im)^(\s*\w*(?:key|token|password|secret)\w*\s*=\s*)(["']).*?\2""")


def scrub_code(code: str) -> str:
    """The learner's code with anything that looks like a key replaced by "***"."""
    code = _SECRET_ASSIGN.sub(lambda m: f"{m.group(1)}{m.group(2)}***{m.group(2)}", code)
    return _LITERAL.sub(lambda m: m.group(1) + _TOKEN.sub("***", m.group(2)) + m.group(1), code)


@dataclass
class Attempt:
    status: str  # SOLVED | SKIPPED | BACK | QUIT
    code: str = ""


class ExerciseRunner:
    def __init__(self, console: Console, prompter: Any, progress: Any, settings: Any,
                 variables: Callable[[], dict[str, str]], open_workspace: Callable[[], Any],
                 kernel_factory: Callable[[], Any] | None = None) -> None:
        self.console = console
        self.prompter = prompter
        self.progress = progress
        self.settings = settings
        self.variables = variables
        self.open_workspace = open_workspace
        self.kernel_factory = kernel_factory or self._default_kernel
        self._kernel: Any = None

    # -- the track ----------------------------------------------------------------------
    @property
    def sdk(self) -> str:
        """The learner's SDK track (v1 or v2): which exercise a step asks, in which SDK."""
        return str(getattr(self.progress, "sdk", "v1") or "v1")

    def exercise(self, step: Step) -> Any:
        """The step's exercise on the learner's track (see Step.exercise_for)."""
        exercise = step.exercise_for(self.sdk)
        assert exercise is not None, f"{step.key} has no exercise on the {self.sdk} track"
        return exercise

    def solution(self, step: Step) -> str:
        """The reference solution: the step's Python as the learner's track shows it."""
        from tutor.lessons import sdk_code

        return render(sdk_code(step, self.sdk).get("python", ""), self.variables()).strip("\n")

    # -- the kernel ----------------------------------------------------------------------
    def _default_kernel(self) -> Any:
        from tutor.exercises.session import Kernel
        from tutor.workspace import workspace_name
        from tutor.workspace.azure.config import embedded_folder, read_config

        course = self.settings.course_dir
        if self.settings.workspace == "local":
            return Kernel(embedded=course.workspace(workspace_name(self.settings.username)), cwd=course.root)
        config = read_config(self.settings.workspace)
        folder = embedded_folder(config)
        if folder is not None:
            return Kernel(embedded=folder, cwd=course.root)
        from pathlib import Path

        return Kernel(azure_config=Path(self.settings.workspace), cwd=course.root)

    @property
    def kernel(self) -> Any:
        if self._kernel is None:
            self.open_workspace()  # made on first use: the kernel's SDK opens the same one
            self._kernel = self.kernel_factory()
            self._kernel.start()
        elif not self._kernel.alive:
            self._kernel.restart()
        return self._kernel

    def close(self) -> None:
        if self._kernel is not None:
            self._kernel.close()
            self._kernel = None

    def _rebuild(self, step: Step) -> None:
        """Bind the names this exercise builds on, from the workspace, before the learner types.

        Always, not only when missing: `exp` of day 1 is not the `exp` day 2 means, and a new
        session or a restarted kernel has none of them.
        """
        exercise = self.exercise(step)
        if not exercise.needs:
            return
        kernel = self.kernel
        for name, code in exercise.needs.items():
            outcome = kernel.bind(render(code, self.variables()))
            if outcome.status != "ok":
                said = [line for line in (outcome.error or outcome.status).splitlines()
                        if line.strip() and not line.startswith((" ", "Traceback"))]
                reason = " ".join(said)[:300] or outcome.status
                raise StepFailed(f"`{name}`, which this exercise builds on, could not be rebuilt from the workspace: "
                                 f"{reason}",
                                 "Go back to the step that makes it (back), or run `tutor status` to see what is done.")

    # -- showing ------------------------------------------------------------------------
    def _show_task(self, step: Step) -> None:
        exercise = self.exercise(step)
        from rich.markdown import Markdown

        body: list[Any] = [Markdown(render(exercise.task, self.variables()).strip())]
        if exercise.file:
            path = self._file(step)
            source = path.read_text(encoding="utf-8") if path.is_file() else ""
            shown, start = source, 1
            span = function_lines(source, exercise.blank) if exercise.blank else None
            if span is not None:
                start = span[0] + 1
                shown = "\n".join(source.splitlines()[span[0]:span[1]])
            body.append(Text(f"\nIn {exercise.file} (save it, then press Enter here to check it; e opens it):",
                             style="bold"))
            body.append(Syntax(shown.strip("\n"), "python", theme="ansi_dark", word_wrap=True,
                               line_numbers=True, start_line=start))
        elif exercise.scaffold.strip():
            body.append(Text("\nStart from this (fill in the ____):", style="bold"))
            body.append(Syntax(render(exercise.scaffold, self.variables()).strip("\n"), "python",
                               theme="ansi_dark", word_wrap=True))
        body.append(Text("\n" + HELP, style="dim"))
        from rich.console import Group

        self.console.print(Panel(Group(*body), title="Your turn", title_align="left",
                                 border_style="magenta", box=ui.boxes(self.console)))

    def _echo_output(self, stream: str, text: str) -> None:
        self.console.print(Text(text.rstrip("\n"), style="red" if stream == "stderr" else ""), highlight=False,
                           markup=False)

    # -- one exercise -------------------------------------------------------------------
    def run(self, step: Step, outputs: dict[str, Any]) -> Attempt:
        """Ask until the learner's code passes the checks (or they skip, go back or quit)."""
        exercise = self.exercise(step)
        solution = self.solution(step)
        missing = self._missing(exercise.requires)
        if missing:
            self.console.print(Text(
                f"This step's exercise needs the module {missing[0]}, which your Python cannot import, so the "
                "step runs its own code instead (`tutor export` shows that code afterwards).", style="yellow"))
            self.progress.record_exercise(step.key, status=UNAVAILABLE)
            return Attempt(UNAVAILABLE)
        if exercise.file and self.prompter.interactive:
            self._give_file(step)
        self._show_task(step)
        self._rebuild(step)
        if not self.prompter.interactive:
            earlier = self.progress.steps.get(step.key, {}).get("exercise", {}).get("status")
            if earlier == RUNNING_REFERENCE and self.pre_checks(step, outputs) is None:
                # A tutor stopped after the reference had done its work (a kill while five runs
                # trained): its effects are there, so it is not run, and nothing is made twice.
                self.progress.record_exercise(step.key, status="solved-by-reference")
                return Attempt(SOLVED, solution)
            self.progress.record_exercise(step.key, status=RUNNING_REFERENCE)
            started = time.monotonic()
            self._run_reference(step, solution, outputs)
            self.progress.record_exercise(step.key, status="solved-by-reference", seconds=time.monotonic() - started)
            return Attempt(SOLVED, solution)
        hints = [render(h, self.variables()) for h in (*exercise.hints, *step.hints)]
        draft = render(exercise.scaffold, self.variables()).strip("\n")
        started = time.monotonic()
        while True:
            answer = self._ask(submit_empty=bool(exercise.file))
            command = command_of(answer) if answer else None
            if exercise.file and not answer.strip():
                command = "check"  # Enter on its own: check the file as it is saved
            if command == "help" or (not answer.strip() and command != "check"):
                self.console.print(Text(HELP, style="dim"))
                continue
            if command == "quit":
                self.progress.record_exercise(step.key, status="open", seconds=time.monotonic() - started)
                return Attempt(QUIT)
            if command == "back":
                self.progress.record_exercise(step.key, status="open", seconds=time.monotonic() - started)
                return Attempt(BACK)
            if command == "hint":
                self._hint(step, hints)
                continue
            if command == "solution":
                self.console.print(Syntax(solution, "python", theme="ansi_dark", word_wrap=True))
                self.progress.record_exercise(step.key, solution_shown=True)
                continue
            if command == "skip":
                self._run_reference(step, solution, outputs)
                self.progress.record_exercise(step.key, status="skipped", seconds=time.monotonic() - started)
                return Attempt(SKIPPED, solution)
            if command == "edit" and exercise.file:
                if not edit_file(self._file(step)):
                    self.console.print(Text(f"No editor: set $EDITOR (for example EDITOR=nano), or edit "
                                            f"{exercise.file} in any editor and press Enter here.", style="yellow"))
                    continue
                command, answer = "check", ""
            if command == "edit":
                edited = edit_in_editor(draft)
                if edited is None:
                    self.console.print(Text("No editor: set $EDITOR (for example EDITOR=nano), or type here.",
                                            style="yellow"))
                    continue
                answer = edited
            if command != "check":
                draft = answer
            self.progress.record_exercise(step.key, attempt=True)
            problem = self._try(step, answer, outputs)
            if problem is None:
                accepted = answer
                if exercise.file:
                    path = self._file(step)
                    accepted = path.read_text(encoding="utf-8") if path.is_file() else ""
                self.progress.record_exercise(step.key, status="solved", code=scrub_code(accepted),
                                              seconds=time.monotonic() - started, file=exercise.file or None)
                self.console.print(Text("✓ That works." if not ui.is_plain(self.console) else "done: that works.",
                                        style="bold green"))
                return Attempt(SOLVED, answer)
            if problem:
                self.console.print(Text.assemble(("Not yet: ", "bold yellow"), problem.rstrip(".") + "."))
                self._hint(step, hints)

    def _run_reference(self, step: Step, solution: str, outputs: dict[str, Any]) -> None:
        """Run the reference solution; a solution that fails its own checks is the lesson's fault.

        For a file exercise the reference is the course's copy of the file (the learner's own is
        kept beside it as ``<file>.yours``), then the step's code.
        """
        if self.exercise(step).file:
            self._restore_file(step)
        problem = self._try(step, solution, outputs)
        if problem is not None:
            raise StepFailed(f"The reference solution did not pass its checks: {problem or 'it raised'}.",
                             "This is a fault in the lesson: tell your instructor.")

    def _ask(self, submit_empty: bool = False) -> str:
        history = self.settings.course_dir.root / ".tutor" / "exercise_history"
        try:
            if isinstance(self.prompter, QuestionaryPrompter):
                return read_code_terminal(">>> ", "", history, submit_empty)  # Up recalls the last attempt
            read = getattr(self.prompter, "_read", input)
            return read_code_lines(read, lambda text: self.console.print(text, end="", highlight=False), submit_empty)
        except (EOFError, KeyboardInterrupt):
            self.console.print()
            raise Quit() from None

    def _hint(self, step: Step, hints: list[str]) -> None:
        used = int(self.progress.steps.get(step.key, {}).get("exercise", {}).get("hints_used", 0))
        if not hints:
            self.console.print(Text("No more hints here: `solution` shows the reference.", style="yellow"))
            return
        if used >= len(hints):
            self.console.print(Text("That was the last hint: `solution` shows the reference, `skip` runs it.",
                                    style="yellow"))
            return
        self.progress.record_exercise(step.key, hint=True)
        self.console.print(Text.assemble(("Hint: ", "bold yellow"), hints[used]))

    def _try(self, step: Step, code: str, outputs: dict[str, Any]) -> str | None:
        """Run ``code``; "" when it raised (the traceback is shown), else the first unmet check, or None."""
        if not code.strip():  # a file exercise checked as it is saved
            return self.pre_checks(step, outputs)
        outcome = self.kernel.run(code, self._echo_output)
        if outcome.status == "error":
            self.console.print(Text((outcome.error or "").rstrip(), style="red"), highlight=False, markup=False)
            return ""
        if outcome.status in ("interrupted", "timeout"):
            self.console.print(Text("Stopped." + (f" {outcome.error}" if outcome.error else ""), style="yellow"))
            if not self._kernel.alive:
                self._kernel.restart()
                self._rebuild(step)
            return ""
        if outcome.status == "died":
            self.console.print(Text(f"Your code ended its Python process ({outcome.error}). "
                                    "A fresh one is started; names from earlier steps are rebuilt.", style="yellow"))
            self._kernel.restart()
            self._rebuild(step)
            return ""
        return self.pre_checks(step, outputs)

    def _missing(self, modules: tuple[str, ...]) -> list[str]:
        """The modules of ``modules`` the learner's Python cannot import."""
        missing = []
        for module in modules:
            ok, found = self.kernel.evaluate(f"__import__('importlib.util').util.find_spec({module!r}) is not None")
            if not ok or not found:
                missing.append(module)
        return missing

    # -- file exercises -------------------------------------------------------------------
    def _file(self, step: Step) -> Path:
        return self.settings.course_dir.root / self.exercise(step).file

    def _give_file(self, step: Step) -> None:
        """Blank the function the learner writes, in their copy of the file, if it is the course's copy."""
        exercise = self.exercise(step)
        path, shipped = self._file(step), shipped_file(exercise.file)
        if not path.is_file() or shipped is None:
            raise StepFailed(f"{exercise.file} is not in your course folder yet.",
                             "Go back to the 'Get the course scripts' step (back), which copies it.")
        course_copy = shipped.read_text(encoding="utf-8")
        if exercise.blank and path.read_text(encoding="utf-8") == course_copy:
            path.write_text(blanked(course_copy, exercise.blank, render(exercise.scaffold, self.variables())),
                            encoding="utf-8")
            self.console.print(Text(f"{exercise.blank}() in {exercise.file} is left for you to write; "
                                    "`skip` puts the course's version back.", style="dim"))

    def _restore_file(self, step: Step) -> None:
        exercise = self.exercise(step)
        path, shipped = self._file(step), shipped_file(exercise.file)
        if shipped is None:
            return
        course_copy = shipped.read_text(encoding="utf-8")
        if path.is_file() and path.read_text(encoding="utf-8") != course_copy:
            kept = path.with_name(path.name + ".yours")
            kept.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
            self.console.print(Text(f"Your {exercise.file} is kept as {exercise.file}.yours; the course's copy "
                                    "is back in its place.", style="dim"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(course_copy, encoding="utf-8")

    def evaluate(self, expr: str) -> tuple[bool, Any]:
        """An expression over the learner's names, for an action that adopts what they made."""
        return self.kernel.evaluate(expr)

    def probe(self, outputs: dict[str, Any], evidence: dict[str, Any] | None = None) -> Probe:
        return Probe(kernel=self.kernel, open_workspace=self.open_workspace, outputs=outputs, evidence=evidence or {})

    def pre_checks(self, step: Step, outputs: dict[str, Any]) -> str | None:
        return self._checks(step, self.probe(outputs), after_action=False)

    def post_checks(self, step: Step, outputs: dict[str, Any], evidence: dict[str, Any]) -> str | None:
        return self._checks(step, self.probe(outputs, evidence), after_action=True)

    def _checks(self, step: Step, probe: Probe, *, after_action: bool) -> str | None:
        exercise = self.exercise(step)
        for entry in exercise.checks:
            if entry.after_action != after_action:
                continue
            problem = run_check(entry.name, probe, render(dict(entry.params), self.variables()))
            if problem:
                return problem
        return None
