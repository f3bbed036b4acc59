"""Shared fixtures: the real dataset and a scratch course folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutor_testing import find_dataset


@pytest.fixture(scope="session")
def data_path() -> Path:
    """The course dataset (TUTOR_DATA, or the tutor's download cache)."""
    found = find_dataset()
    if found is None:
        pytest.skip("the course dataset is not available: set TUTOR_DATA or run `tutor data` once")
    return found


@pytest.fixture
def course_dir(tmp_path: Path):
    """A scratch course folder; services deployed in it are stopped afterwards."""
    folder = tmp_path / "course"
    folder.mkdir()
    yield folder
    from tutor.serving import stop_all

    stop_all(folder)  # services are detached processes
