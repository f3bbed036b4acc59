"""Who is learning, where their files go and which workspace they use.

Its own module so that both the steps (tutor.steps.base) and the workspace package
(tutor.workspace) can import it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tutor.paths import CourseDir


@dataclass
class Settings:
    """Who is learning, where their files go and which workspace they use."""

    username: str
    course_dir: CourseDir
    # "local" for the embedded workspace, or a path to a workspace config.json.
    workspace: str = "local"
    # An explicit dataset path (--data / TUTOR_DATA); None means "cache or download".
    data: Path | None = None
    # Answer every prompt with its default (no terminal needed).
    assume_yes: bool = False

    @property
    def workspace_kind(self) -> str:
        return "local" if self.workspace == "local" else "config"
