"""Fixtures for the instructor tools: generated progress files in many states, a rehearsed course."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from rich.console import Console

sys.path.append(str(Path(__file__).resolve().parent))  # instructor_fixtures.py, next to this file

from instructor_fixtures import AUTOML_STEP, NOW, iso, make_doc, run_instructor, write  # noqa: E402
from tutor.lessons import Course, load_course  # noqa: E402


@pytest.fixture(scope="session")
def course() -> Course:
    return load_course()


@pytest.fixture
def doc_factory(course: Course) -> Callable[..., dict[str, Any]]:
    return lambda learner, **kw: make_doc(course, learner, **kw)


@pytest.fixture
def class_dir(tmp_path: Path, course: Course) -> Path:
    """A collection of progress files in many states, as an instructor would gather them."""
    folder = tmp_path / "collected"
    total = len(course.steps)
    half = total // 2
    write(folder, "fresh.json", make_doc(course, "fresh", done=0, last_active=NOW - timedelta(minutes=1)))
    write(folder, "half.json", make_doc(course, "half", done=half, skipped=(1,), failed_at={half: 4},
                                        hints={0: 2, 2: 1}, last_active=NOW - timedelta(minutes=5)))
    write(folder, "idle.json", make_doc(course, "idle", done=2, last_active=NOW - timedelta(hours=3)))
    write(folder, "done.json", make_doc(course, "done", key_evidence=True, last_active=NOW - timedelta(hours=5)))
    odd = make_doc(course, "odd", key_evidence=True)
    first = course.steps[0].key
    odd["steps"][first]["evidence"] = {}  # done without its evidence
    odd["steps"][AUTOML_STEP]["evidence"]["rmse"] = -2.0  # implausible
    last_day1 = [s for s in course.steps if s.lesson_id.startswith("day1-")][-1].key
    odd["steps"][last_day1]["evidence"]["runs"]["4 full"]["R^2"] = 1.7  # implausible
    second = odd["steps"][course.steps[1].key]
    second["finished_at"] = iso(datetime.fromisoformat(second["started_at"]) - timedelta(minutes=1))  # time order
    write(folder, "odd.json", odd)
    # As in a course folder: progress/ is read too, and the workspace's config.json is not a progress file.
    write(folder / "progress", "carol.json", make_doc(course, "carol", done=3))
    write(folder, "config.json", {"subscription_id": "local", "workspace_name": "carol-ws"})
    # Files that are not (readable) progress files.
    write(folder, "corrupt.json", '{"format": "aml-tutor-progress", "schema_version": 1, "learner": "cut')
    future = make_doc(course, "future", done=1)
    future["schema_version"] = 99
    write(folder, "future.json", future)
    write(folder, "foreign.json", {"name": "not a progress file"})
    write(folder, "list.json", [1, 2, 3])
    # Backups, locks and notes are not read at all.
    write(folder, "half.json.bak", "{}")
    write(folder, "half.json.lock", "")
    write(folder, "notes.txt", "hello")
    return folder


@pytest.fixture
def instructor() -> Callable[..., subprocess.CompletedProcess[str]]:
    return run_instructor


@pytest.fixture(scope="session")
def rehearsed(tmp_path_factory: pytest.TempPathFactory, data_path: Path) -> Iterator[tuple[list[Any], Path, str]]:
    """The shipped course rehearsed once; its scratch folder is kept: a real learner who finished."""
    from tutor.instructor.rehearse import rehearse

    from tutor.serving import stop_all

    scratch = tmp_path_factory.mktemp("rehearsal")
    screen = io.StringIO()
    # A short AutoML search, as in every test (tutor_testing.tutor_env does the same for subprocesses).
    saved = os.environ.get("TUTOR_AUTOML_MINUTES")
    os.environ["TUTOR_AUTOML_MINUTES"] = "0.12"
    try:
        outcomes = rehearse(None, data_path, Console(file=screen, width=120, color_system=None), scratch=scratch)
    finally:
        if saved is None:
            os.environ.pop("TUTOR_AUTOML_MINUTES", None)
        else:
            os.environ["TUTOR_AUTOML_MINUTES"] = saved
    yield outcomes, scratch, screen.getvalue()
    stop_all(scratch)  # the kept folder's services are detached processes
