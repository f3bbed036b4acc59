"""Where things are: the course material shipped with the package, and the learner's files."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path


def course_resource(name: str) -> Path:
    """The shipped folder ``lessons``, ``train`` or ``score``.

    In a wheel they live at ``tutor/_course/<name>``; in a checkout (editable install or
    running from the source tree) they are the top-level folders of the repository.
    """
    packaged = Path(str(resources.files("tutor"))) / "_course" / name
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parent.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"the course folder {name!r} is missing from this installation")


def cache_dir() -> Path:
    """The per-user cache (dataset downloads). ``TUTOR_CACHE`` overrides it."""
    override = os.environ.get("TUTOR_CACHE")
    if override:
        return Path(override).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "aml-tutor"


class CourseDir:
    """The layout of a learner's course folder.

    ``progress/<username>.json``  checkpoints, ``data/`` prepared data,
    ``train/`` and ``score/`` the learner's editable copies of the course scripts,
    ``.tutor/workspaces/<name>/`` the embedded workspaces.
    """

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).expanduser().resolve()

    @property
    def progress(self) -> Path:
        return self.root / "progress"

    def progress_file(self, username: str) -> Path:
        return self.progress / f"{username}.json"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def train(self) -> Path:
        return self.root / "train"

    @property
    def score(self) -> Path:
        return self.root / "score"

    @property
    def workspaces(self) -> Path:
        return self.root / ".tutor" / "workspaces"

    def workspace(self, name: str) -> Path:
        return self.workspaces / name
