"""The wizard: shows a step, runs its action, checks it, saves the checkpoint, moves on.

It owns the screen and the prompts; step actions only compute (see
:mod:`tutor.steps.base`). Every state change is written to the progress file as it
happens, so quitting, Ctrl-C or a killed process loses no finished step, and the step
that was interrupted simply runs again next time.
"""

from __future__ import annotations

import logging
import time
import traceback
from dataclasses import dataclass
from typing import Any, Callable

from rich.console import Console
from rich.text import Text

from tutor import ui
from tutor.display import LogTail, Note
from tutor.errors import StepFailed, TutorError
from tutor.lessons import Course, Step, render, sdk_code
from tutor.progress import SDK_NAMES, Progress
from tutor.prompts import Choice, Prompter, Quit
from tutor.steps import get_action
from tutor.steps.base import Settings, StepContext, StepResult

log = logging.getLogger("tutor")

RUN, NEXT, HINT, SKIP, BACK, QUIT, OTHER_SDK = "run", "next", "hint", "skip", "back", "quit", "other-sdk"
NOT_OFFERED = "not offered"  # an exercise's outcome when a module it needs is missing (runner.UNAVAILABLE)


class Interrupted(Quit):
    """Ctrl-C while a step was running."""


@dataclass
class Outcome:
    finished: bool  # every step in scope is done or skipped
    quit: bool = False
    interrupted: bool = False
    failed_step: str | None = None

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return 130
        if self.failed_step:
            return 1
        return 0


class Wizard:
    def __init__(self, course: Course, settings: Settings, progress: Progress, console: Console,
                 prompter: Prompter, *, workspace_factory: Callable[[Settings], Any] | None = None,
                 exercises: bool | None = None, kernel_factory: Callable[[], Any] | None = None) -> None:
        self.course = course
        self.settings = settings
        self.progress = progress
        self.console = console
        self.prompter = prompter
        self.workspace_factory = workspace_factory
        self._workspace: Any = None
        self._reporter: Any = None  # the running step's reporter, paused while a prompt asks
        self._order = [s.key for s in course.steps]
        # Exercise steps: the learner writes the code. On by default at a terminal; elsewhere
        # (--yes, a pipe) only when asked, and then the reference solutions run without one.
        if exercises is None:
            from tutor.prompts import QuestionaryPrompter

            exercises = isinstance(prompter, QuestionaryPrompter)
        self.exercises = exercises
        self._kernel_factory = kernel_factory
        self._runner: Any = None
        # Predictions made before a step ran, kept until the step is done (a failed try keeps them).
        self._predictions: dict[str, str] = {}

    # -- helpers ---------------------------------------------------------------------
    def variables(self) -> dict[str, str]:
        return {
            "username": self.settings.username,
            "workspace": self.progress.doc.get("workspace", {}).get("name", ""),
            "course_dir": str(self.settings.course_dir.root),
        }

    def _scope(self, lesson_id: str | None) -> list[Step]:
        if lesson_id is None:
            return self.course.steps
        return list(self.course.lesson(lesson_id).steps)

    def first_unfinished(self, steps: list[Step]) -> int:
        for index, step in enumerate(steps):
            if not self.progress.is_finished(step.key):
                return index
        return len(steps)

    # -- the loop --------------------------------------------------------------------
    def run(self, lesson_id: str | None = None) -> Outcome:
        steps = self._scope(lesson_id)
        index = self.first_unfinished(steps)
        if index == len(steps):
            self._all_done(steps, already=True)
            return Outcome(finished=True)
        from tutor import journey

        fresh = not any(self.progress.status(s.key) for s in self.course.steps)
        if fresh:
            journey.welcome(self.console, self.course, self.progress, self.settings, str(self.progress.path))
        else:
            # Resumed (a new session, or after a kill): done and left, where, and what still runs.
            journey.welcome_back(self.console, self.course, self.progress, self.settings, steps[index],
                                 journey.alive(self._open_workspace))
        shown_lesson = None
        while index < len(steps):
            step = steps[index]
            lesson = self.course.lesson(step.lesson_id)
            if lesson.id != shown_lesson:
                if shown_lesson is not None or not fresh:
                    journey.course_map(self.console, self.course, self.progress, lesson.id)
                ui.heading(self.console, f"Day {lesson.day} · {lesson.title}")
                shown_lesson = lesson.id
            choice = self._ask_what_to_do(step, index, len(steps))
            adopt = False
            if choice == RUN and self._is_exercise(step):
                attempt = self._exercise(step)
                if attempt is None:  # the exercise could not start or its solution failed
                    if not self.prompter.interactive:
                        return Outcome(finished=False, failed_step=step.key)
                    continue
                if attempt in (QUIT, BACK):
                    choice = attempt  # handled below, as the same choice from the menu
                elif attempt != NOT_OFFERED:  # (then the action runs alone)
                    adopt = True  # solved or skipped: the action finds what the code made
            if choice == QUIT:
                self._saved_message(step)
                return Outcome(finished=False, quit=True)
            if choice == BACK:
                index = max(0, index - 1)
                continue
            if choice == NEXT:
                index += 1
                continue
            if choice == HINT:
                self._hint(step)
                continue
            if choice == OTHER_SDK:
                self._other_sdk(step)
                continue
            if choice == SKIP:
                self.progress.mark_skipped(step.key)
                self.console.print(Text(f"Skipped '{step.title}'. `tutor status` lists skipped steps; "
                                        f"`tutor start --lesson {step.lesson_id}` comes back to them.", style="yellow"))
                index += 1
                continue
            try:
                ok = self._run_step(step, adopt=adopt)
            except Quit as stop:
                self._saved_message(step)
                return Outcome(finished=False, quit=True, interrupted=isinstance(stop, Interrupted))
            if ok:
                index += 1
                self._lesson_end(step)
            elif not self.prompter.interactive:
                return Outcome(finished=False, failed_step=step.key)
        self._all_done(steps)
        return Outcome(finished=True)

    def _lesson_end(self, step: Step) -> None:
        """After a lesson's last step: its recap; after a day's last lesson: the day's summary."""
        from tutor import journey

        lesson = self.course.lesson(step.lesson_id)
        if step.key != lesson.steps[-1].key or journey.lesson_state(self.progress, lesson) != "done":
            return
        journey.lesson_recap(self.console, lesson, self.progress, self.variables())
        day = [other for other in self.course.lessons if other.day == lesson.day]
        if lesson.id == day[-1].id and all(journey.lesson_state(self.progress, other) == "done" for other in day):
            journey.day_summary(self.console, self.course, lesson.day, self.progress,
                                journey.alive(self._open_workspace), self.settings.username)

    # -- exercises -----------------------------------------------------------------------
    def _exercise_runner(self) -> Any:
        if self._runner is None:
            from tutor.exercises.runner import ExerciseRunner

            self._runner = ExerciseRunner(self.console, self.prompter, self.progress, self.settings,
                                          self.variables, self._open_workspace, self._kernel_factory)
        return self._runner

    def _is_exercise(self, step: Step) -> bool:
        """Whether the learner writes this step's code: exercises are on, and the step has one on the
        learner's track (SDK v1's, or v2's, checked against the step's python_v2 code)."""
        return self.exercises and step.exercise_for(self.progress.sdk) is not None

    # -- the two SDKs --------------------------------------------------------------------
    def _code(self, step: Step, sdk: str) -> dict[str, str]:
        """The step's code as shown on the ``sdk`` track: Python in that SDK's form, then R."""
        return {lang: render(code, self.variables()) for lang, code in sdk_code(step, sdk).items()}

    def _other_sdk(self, step: Step) -> None:
        """The step's code in the other SDK's form, with what differs; the track stays as chosen."""
        other = "v1" if self.progress.sdk == "v2" else "v2"
        code = self._code(step, other)
        ui.code_panel(self.console, code.get("python", ""), title=f"The same step in SDK {other} ({SDK_NAMES[other]})",
                      note=render(step.v2_note, self.variables()) if step.v2_note else "",
                      footer=f"Your track stays SDK {self.progress.sdk}; `tutor start --sdk {other}` switches it.")

    def _open_workspace(self) -> Any:
        if self._workspace is None:
            self._workspace = StepContext(settings=self.settings, workspace_factory=self.workspace_factory).workspace
        return self._workspace

    def _exercise(self, step: Step) -> str | None:
        """The learner writes the step's code: "solved", "skipped", BACK, QUIT, or None when it failed."""
        try:
            return self._exercise_runner().run(step, self.progress.outputs(self._order)).status
        except Quit:  # Ctrl-D or Ctrl-C at the code prompt
            return QUIT
        except (StepFailed, TutorError) as exc:
            self._failed(step, exc.what, exc.fix, time.monotonic())
            return None

    def close(self) -> None:
        """Stop the exercise kernel, if one was started."""
        if self._runner is not None:
            self._runner.close()
            self._runner = None

    def _ask_what_to_do(self, step: Step, index: int, total: int) -> str:
        status = self.progress.status(step.key)
        header = f"Step {index + 1} of {total} · {step.key}"
        if status:
            header += f" · {status}"
        sdk = self.progress.sdk
        ui.step_panel(self.console, header=header, title=step.title,
                      explanation=render(step.explanation, self.variables()),
                      code={} if self._is_exercise(step) and self.prompter.interactive
                      else self._code(step, sdk), ref=step.ref, sdk=sdk if "python" in step.code else "",
                      note=render(step.v2_note, self.variables()) if sdk == "v2" and step.v2_note else "")
        if not self.prompter.interactive:
            return RUN
        done = status == "done"
        choices = [Choice(NEXT, "Next step", "n")] if done else []
        choices += [
            Choice(RUN, "Run it again" if done else ("Try again" if status == "failed" else "Run this step"), "r"),
            Choice(HINT, "Show a hint", "h"),
            Choice(SKIP, "Skip this step", "s"),
        ]
        if "python" in step.code and "python_v2" in step.code:
            other = "v1" if self.progress.sdk == "v2" else "v2"
            choices.append(Choice(OTHER_SDK, f"Show the SDK {other} code ({SDK_NAMES[other]})", "v"))
        if index > 0:
            choices.append(Choice(BACK, "Back to the previous step", "b"))
        choices.append(Choice(QUIT, "Quit (your progress is saved)", "q"))
        try:
            return self.prompter.choose("What next?", choices, NEXT if done else RUN)
        except Quit:
            return QUIT

    def _hint(self, step: Step) -> None:
        used = int(self.progress.steps.get(step.key, {}).get("hints_used", 0))
        if not step.hints:
            self.console.print(Text("This step has no hints: run it and read what it shows.", style="yellow"))
            return
        hint = step.hints[min(used, len(step.hints) - 1)]
        self.progress.record_hint(step.key)
        self.console.print(Text.assemble(("Hint: ", "bold yellow"), render(hint, self.variables())))

    def _context(self, step: Step, reporter: Any) -> StepContext:
        ctx = StepContext(
            settings=self.settings,
            params=render(dict(step.params), self.variables()),
            outputs=self.progress.outputs(self._order),
            output_steps=self.progress.output_sources(self._order),
            progress=reporter,
            confirm=self._confirm,
            choose=self._choose,
            ask_text=self._ask_text,
            workspace_factory=self.workspace_factory,
            resume=self.progress.partial(step.key),
            save_partial=lambda state: self.progress.save_partial(step.key, state),
            sdk=self.progress.sdk,
        )
        if self._workspace is not None:
            ctx.workspace = self._workspace
        return ctx

    def _paused(self) -> Any:
        from contextlib import nullcontext

        reporter = self._reporter
        return reporter.paused() if reporter is not None else nullcontext()

    def _confirm(self, question: str, default: bool) -> bool:
        with self._paused():
            return self.prompter.confirm(question, default)

    def _choose(self, question: str, choices: list[tuple[str, str]], default: str) -> str:
        with self._paused():
            return self.prompter.choose(question, [Choice(value, label) for value, label in choices], default)

    def _ask_text(self, question: str, default: str, validate: Any = None) -> str:
        with self._paused():
            return self.prompter.text(question, default, validate)

    def _run_step(self, step: Step, adopt: bool = False) -> bool:
        spec = get_action(step.action)
        if step.question is not None and step.question.is_prediction:
            self._predict(step)  # before the action (and after the exercise, when there is one)
        started = time.monotonic()
        result: StepResult | None = None
        try:
            self.progress.mark_running(step.key)
            with ui.reporter_for(self.console, step.title) as reporter:
                self._reporter = reporter
                try:
                    ctx = self._context(step, reporter)
                    ctx.adopt = adopt
                    if adopt and self._runner is not None:
                        ctx.learner = self._runner.evaluate
                    result = spec.func(ctx)
                finally:
                    self._reporter = None
                if ctx.opened_workspace is not None:
                    self._workspace = ctx.opened_workspace
        except (KeyboardInterrupt, Quit):  # Ctrl-C, or the learner quit at a prompt the step asked
            self.progress.mark_failed(step.key, error="interrupted", duration_s=time.monotonic() - started)
            self.console.print(Text("Interrupted. This step will run again next time.", style="yellow"))
            raise Interrupted() from None
        except StepFailed as exc:
            self._failed(step, exc.what, exc.fix, started, log_tail=exc.log_tail)
            return False
        except TutorError as exc:
            self._failed(step, exc.what, exc.fix, started)
            return False
        except Exception as exc:  # a bug: keep the learner's progress, log the traceback
            where = self._log_crash(step, exc)
            self._failed(step, f"The step '{step.title}' crashed: {type(exc).__name__}: {exc}",
                         f"The details are in {where}. Try again, or skip the step and tell your instructor.",
                         started)
            return False
        duration = time.monotonic() - started
        ui.show_items(self.console, result.display)
        if adopt and self._runner is not None:
            problem = self._runner.post_checks(step, self.progress.outputs(self._order), result.evidence)
            if problem:
                self._failed(step, f"Not yet: {problem}.", "Look at your code's result and try the exercise again.",
                             started, evidence=result.evidence, unmet=[problem])
                return False
        failed = [c for c in step.done_when if not c.holds(result.evidence)]
        if failed:
            shown = "; ".join(c.source for c in failed)
            self._failed(step, f"The step ran but did not reach what counts as done: {shown}.",
                         "Look at the output above; if you changed a script, check your change and run the step again.",
                         started, evidence=result.evidence, unmet=[c.source for c in failed])
            return False
        if result.summary:
            self.console.print(Text.assemble(("✓ " if not ui.is_plain(self.console) else "done: ", "bold green"),
                                             (result.summary, "green")))
        if step.question is not None and step.question.is_prediction:
            self._verdict(step, result.evidence)
        if result.repl is not None and self.prompter.interactive:
            result.evidence["repl_calls"] = self._open_repl(result.repl)
        self.progress.mark_done(step.key, evidence=result.evidence, outputs=result.outputs, duration_s=duration,
                                summary=result.summary)
        if step.question is not None and not step.question.is_prediction:
            self._question(step, result.evidence)
        return True

    def _open_repl(self, target: Any) -> int:
        """The prediction prompt on a deployed service, with the wizard's console and input."""
        import sys

        from tutor import predict
        from tutor.prompts import QuestionaryPrompter

        if isinstance(self.prompter, QuestionaryPrompter):
            prompter: Any = predict.QuestionaryPrompter()
        else:
            prompter = predict.StreamPrompter(sys.stdin, self.console)
        history = predict.PredictionRepl(target, self.console, prompter).run()
        return len(history)

    def _failed(self, step: Step, what: str, fix: str | None, started: float, *, log_tail: str | None = None,
                evidence: dict[str, Any] | None = None, unmet: list[str] | None = None) -> None:
        """Show the failure and record it; a step that ran but is not done keeps what it produced."""
        if log_tail:
            ui.show_items(self.console, [LogTail("The end of the log", log_tail)])
        ui.error_panel(self.console, what, fix, title=f"{step.title}: not done")
        if evidence is not None:
            self.progress.keep_unmet(step.key, evidence=evidence, unmet=unmet or [])
        self.progress.mark_failed(step.key, error=what, duration_s=time.monotonic() - started)

    def _log_crash(self, step: Step, exc: BaseException) -> str:
        folder = self.settings.course_dir.root / ".tutor" / "logs"
        path = folder / "tutor.log"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with open(path, "a", encoding="utf-8") as handle:
                handle.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} step {step.key}\n")
                handle.write("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
        except OSError as problem:
            return f"the tutor's log, which could not be written ({path}: {problem.strerror or problem})"
        return str(path)

    def _answer(self, step: Step) -> str:
        """One answer to the step's question. A typed answer that is empty, or not a number for a
        number question, is refused with a message and asked again: it is not an attempt."""
        question = step.question
        assert question is not None
        if question.kind == "select":
            choices = [Choice(c, c) for c in question.choices]
            return self.prompter.choose(question.prompt, choices, question.choices[0])
        while True:
            answer = self.prompter.text(question.prompt, "")
            problem = question.answer_problem(answer)
            if problem is None:
                return answer.strip()
            ui.show_items(self.console, [Note(problem, "warning")])  # then the question again

    def _predict(self, step: Step) -> None:
        """A question asked before the step runs: the learner's prediction, kept until the verdict."""
        question = step.question
        assert question is not None
        if not self.prompter.interactive:
            return  # recorded as not asked with the verdict
        kept = self._predictions.get(step.key)
        if kept is not None:  # an earlier try of this step failed before the verdict
            ui.show_items(self.console, [Note(f"Your prediction still stands: {kept}. Now the step runs.", "info")])
            return
        ui.show_items(self.console, [Note("Before this step runs: make a prediction. "
                                          "The step's result will say whether you were right.", "info")])
        answer = self._answer(step)
        self._predictions[step.key] = answer
        ui.show_items(self.console, [Note(f"Your prediction: {answer}. We'll see.", "info")])

    def _verdict(self, step: Step, evidence: dict[str, Any]) -> None:
        """After the step ran: the prediction checked against its evidence, with the explanation."""
        question = step.question
        assert question is not None
        if not self.prompter.interactive:
            self.progress.record_question_skipped(step.key, "not asked: running without prompts (--yes)")
            return
        given = self._predictions.pop(step.key, None)
        if given is None:
            return
        expected = question.expected(evidence)
        if expected is None:
            self.progress.record_question_skipped(step.key, f"not checked: the step recorded no "
                                                            f"'{question.answer_from}'")
            ui.show_items(self.console, [Note(f"Your prediction was {given}, but this run did not record what "
                                              "it is checked against.", "warning")])
            return
        right = question.is_right(given, evidence)
        self.progress.record_answer(step.key, given=given, correct=right)
        if right:
            text = f"Your prediction was right: {expected}."
        else:
            text = f"Your prediction was {given}; the answer is {expected}."
        if question.explanation:
            text += f" {question.explanation}"
        ui.show_items(self.console, [Note(text, "success" if right else "info")])

    def _question(self, step: Step, evidence: dict[str, Any]) -> None:
        question = step.question
        assert question is not None
        expected = question.expected(evidence)
        if not self.prompter.interactive:
            self.progress.record_question_skipped(step.key, "not asked: running without prompts (--yes)")
            return
        hints = list(question.hints) + list(step.hints)
        given_hints = 0
        while True:
            answer = self._answer(step)
            right = question.is_right(answer, evidence)
            self.progress.record_answer(step.key, given=answer, correct=right)
            if right:
                text = "Right!" + (f" {question.explanation}" if question.explanation else "")
                ui.show_items(self.console, [Note(text, "success")])
                return
            if given_hints < len(hints):
                ui.show_items(self.console, [Note(f"Not quite. Hint: {render(hints[given_hints], self.variables())}",
                                                  "warning")])
                given_hints += 1
                self.progress.record_hint(step.key)
                continue
            reveal = f"Not quite. The answer is {expected}."
            if question.explanation:
                reveal += f" {question.explanation}"
            ui.show_items(self.console, [Note(reveal, "info")])
            return

    def _saved_message(self, step: Step) -> None:
        self.console.print(Text(
            f"Progress saved in {self.progress.path}. Continue with: tutor start --username {self.settings.username}"
            + (f" --course-dir {self.settings.course_dir.root}" if self.settings.course_dir.root else ""),
            style="bold"))

    def _all_done(self, steps: list[Step], already: bool = False) -> None:
        skipped = [s for s in steps if self.progress.status(s.key) == "skipped"]
        if already:
            msg = f"Every step here is already finished, {self.settings.username}."
        else:
            msg = f"Well done, {self.settings.username}: every step here is finished."
        if skipped:
            msg += f" {len(skipped)} skipped: " + ", ".join(s.key for s in skipped) + "."
        self.console.print(Text(msg, style="bold green"))
        self.console.print("`tutor status` shows what you did; `tutor reset --step ID` runs a step again.",
                           highlight=False)
