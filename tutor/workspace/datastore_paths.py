"""Datastore paths as datasets name them: a file, a folder (its files) or a glob."""

from __future__ import annotations

import fnmatch
from pathlib import PurePosixPath
from typing import Any, Callable, Sequence

from tutor.errors import TutorError

FORMATS: dict[str, tuple[str, ...]] = {"csv": (".csv", ".tsv", ".txt"), "parquet": (".parquet", ".pq")}


def _path_text(item: Any) -> str:
    """A datastore path given as text or as Azure's ``(datastore, "path")`` pair."""
    if isinstance(item, tuple) and len(item) == 2:
        item = item[1]
    if isinstance(item, PurePosixPath):
        item = item.as_posix()
    if not isinstance(item, str) or not item.strip():
        raise TutorError(f"{item!r} is not a datastore path.", 'Pass paths like "alice-greentaxi/prepped.csv".')
    return item.strip().lstrip("/")


def resolve_paths(everything: list[str], paths: str | Sequence[Any], file_format: str,
                  is_file: Callable[[str], bool]) -> list[str]:
    """The datastore files behind ``paths``: each a file, a folder (all its files) or a glob.

    ``everything`` lists the datastore's files; ``is_file`` says whether a path is one.
    Both backends resolve paths this way, so a path means the same on either.
    """
    items = [paths] if isinstance(paths, (str, tuple, PurePosixPath)) else list(paths)
    if not items:
        raise TutorError("A dataset needs at least one datastore path.", "Pass the path you uploaded the data to.")
    files: list[str] = []
    for item in items:
        text = _path_text(item)
        if any(ch in text for ch in "*?["):
            matched = [name for name in everything if fnmatch.fnmatchcase(name, text)]
        elif is_file(text):
            matched = [text]
        else:
            folder = text.rstrip("/") + "/"
            inside = [name for name in everything if name.startswith(folder)]
            matched = [name for name in inside if name.lower().endswith(FORMATS[file_format])]
            if inside and not matched:
                raise TutorError(f"The datastore folder '{text}' has no {file_format} files "
                                 f"(it has {', '.join(inside[:5])}).",
                                 "Pass the file_format of those files, or upload the right files.")
        if not matched:
            nearby = [n for n in everything if n.split("/")[0] == text.split("/")[0]][:5]
            hint = f" Files near it: {', '.join(nearby)}." if nearby else ""
            raise TutorError(f"There is nothing at '{text}' on the datastore.{hint}",
                             "Upload the data first (default_datastore.upload) and check the path.")
        for name in matched:
            if not name.lower().endswith(FORMATS[file_format]):
                other = next((fmt for fmt, ext in FORMATS.items() if name.lower().endswith(ext)), None)
                fix = f"Pass file_format='{other}'." if other else f"Point at {file_format} files."
                raise TutorError(f"'{name}' is not a {file_format} file.", fix)
            if name not in files:
                files.append(name)
    return files
