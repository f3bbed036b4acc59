"""Errors a learner can act on.

Every error the tutor shows says what was wrong and what to do about it. Code that
detects a problem raises :class:`TutorError` (or a subclass) with both parts; the CLI
prints them and exits with ``exit_code`` instead of showing a traceback.
"""

from __future__ import annotations


class TutorError(Exception):
    """A problem the learner (or instructor) can fix.

    ``what`` says what went wrong, ``fix`` says what to do next.
    """

    exit_code = 1

    def __init__(self, what: str, fix: str | None = None, *, detail: str | None = None) -> None:
        super().__init__(what)
        self.what = what
        self.fix = fix
        self.detail = detail

    def __str__(self) -> str:
        text = self.what
        if self.fix:
            text += f"\n{self.fix}"
        return text


class UsageError(TutorError):
    """A bad command-line value."""

    exit_code = 2


class LessonError(TutorError):
    """A lesson file that cannot be used: names the file, the step and the reason."""

    exit_code = 3


class ProgressError(TutorError):
    """A progress file that cannot be read, written or locked."""

    exit_code = 4


class DataError(TutorError):
    """The course dataset is missing, damaged or cannot be downloaded."""

    exit_code = 5


class StepFailed(TutorError):
    """A step's action failed in a way the learner can retry.

    ``log_tail`` carries the last lines of a log (a failed run, a failed deployment)
    so the wizard can show them.
    """

    def __init__(
        self, what: str, fix: str | None = None, *, log_tail: str | None = None, detail: str | None = None
    ) -> None:
        super().__init__(what, fix, detail=detail)
        self.log_tail = log_tail
