"""What the ``tutor`` commands and the instructors' commands share.

Both tutor.cli and tutor.instructor.cli import from here, so neither imports the other's
internals. Light imports only (typer, rich): ``tutor --help`` must stay fast.
"""

from __future__ import annotations

import getpass
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import typer
from rich.console import Console

from tutor import ui
from tutor.errors import ProgressError, TutorError, UsageError
from tutor.names import username_problem
from tutor.paths import CourseDir


@contextmanager
def handled(console: Console) -> Iterator[None]:
    """Turn a :class:`TutorError` into a clear message and an exit code, never a traceback."""
    try:
        yield
    except TutorError as exc:
        ui.error_panel(console, exc.what, exc.fix)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        console.print("Stopped. Nothing already saved was lost.")
        raise typer.Exit(130) from None


def _existing_learners(course_dir: CourseDir) -> list[str]:
    if not course_dir.progress.is_dir():
        return []
    return sorted(p.stem for p in course_dir.progress.glob("*.json") if not p.name.startswith("."))


def _default_username(course_dir: CourseDir) -> str:
    learners = _existing_learners(course_dir)
    if len(learners) == 1:
        return learners[0]
    try:
        user = getpass.getuser().lower()
    except Exception:  # noqa: BLE001 - no user name on this system
        return ""
    return user if username_problem(user) is None else ""


def resolve_username(username: str | None, course_dir: CourseDir, prompter: Any | None) -> str:
    if username is not None:
        problem = username_problem(username)
        if problem:
            raise UsageError(problem, "Pass a valid --username.")
        return username
    default = _default_username(course_dir)
    if prompter is not None and prompter.interactive:
        return prompter.text("Your username (names your Azure resources)", default, validate=username_problem)
    if not default:
        learners = _existing_learners(course_dir)
        hint = f" Learners in {course_dir.progress}: {', '.join(learners)}." if learners else ""
        raise UsageError("No username was given and none could be chosen.", f"Pass --username NAME.{hint}")
    return default


def learner_document(username: str | None, course_dir: Path) -> tuple[str, CourseDir, dict[str, Any]]:
    """(username, course folder, progress document) of a learner who has started; clear errors otherwise."""
    from tutor.progress import read_document

    cdir = CourseDir(course_dir)
    name = resolve_username(username, cdir, None)
    try:
        return name, cdir, read_document(cdir.progress_file(name))
    except FileNotFoundError:
        raise ProgressError(f"There is no progress for '{name}' in {cdir.progress}.",
                            f"Check --username and --course-dir, or start the course with "
                            f"`tutor start --username {name} --course-dir {cdir.root}`.") from None
