"""The default datastore: a folder standing in for the workspace's blob container.

Paths on it are POSIX-style and relative ("alice-greentaxi/prepped.csv"), as on Azure.
Uploads refuse to replace files unless asked (Azure's ``overwrite=False``), check every
destination before copying anything (no half-done upload), and write each file under a
temporary name first so a dataset being read never sees half a file.
"""

from __future__ import annotations

import builtins  # "list" is a method name in the datastore classes
import shutil
from pathlib import Path, PurePosixPath
from typing import Sequence

from tutor.errors import TutorError
from tutor.fileio import atomic_copy, is_temporary

DEFAULT_NAME = "workspaceblobstore"


def _clean_target(target_path: str) -> PurePosixPath:
    """A relative path inside the datastore; refuses '..' and drive letters.

    A leading '/' means the datastore's root, as in a blob container.
    """
    text = (target_path or "").replace("\\", "/").strip("/")
    path = PurePosixPath(text)
    if any(part == ".." for part in path.parts) or ":" in text:
        raise TutorError(f"'{target_path}' is not a path inside the datastore.",
                         "Use a relative folder name such as 'alice-greentaxi' (no '..' and no drive letter).")
    return path


def _listing(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


class LocalDatastore:
    """The workspace's default datastore (Azure: ``ws.get_default_datastore()``)."""

    def __init__(self, root: Path, name: str = DEFAULT_NAME) -> None:
        self.root = root
        self.name = name

    def __repr__(self) -> str:
        return f"LocalDatastore(name={self.name!r}, root={str(self.root)!r})"

    def local_path(self, path: str) -> Path:
        """Where a datastore path lives on disk (the embedded workspace's own business)."""
        return self.root.joinpath(*_clean_target(path).parts)

    # -- upload ---------------------------------------------------------------------

    def upload(self, src_dir: str | Path, target_path: str = "", overwrite: bool = False) -> list[str]:
        """Upload every file under ``src_dir`` to ``target_path``; returns the datastore paths."""
        source = Path(src_dir).expanduser()
        if source.is_file():
            raise TutorError(f"{source} is a file; upload() takes a folder.",
                             "Use upload_files([...]) for single files.")
        if not source.is_dir():
            raise TutorError(f"There is no folder {source} to upload.", "Check the path (prepare the data first?).")
        target = _clean_target(target_path)
        files = sorted(p for p in source.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        if not files:
            raise TutorError(f"The folder {source} has no files to upload.", "Save the prepared data into it first.")
        return self._copy([(p, (target / p.relative_to(source).as_posix()).as_posix()) for p in files], overwrite)

    def upload_files(self, files: Sequence[str | Path], target_path: str = "", overwrite: bool = False) -> list[str]:
        """Upload single files into ``target_path`` (each keeps its file name)."""
        if isinstance(files, (str, Path)):
            files = [files]
        target = _clean_target(target_path)
        pairs = []
        for item in files:
            path = Path(item).expanduser()
            if not path.is_file():
                raise TutorError(f"There is no file {path} to upload.", "Check the path (prepare the data first?).")
            pairs.append((path, (target / path.name).as_posix()))
        if not pairs:
            raise TutorError("No files were given to upload.", "Pass a list of file paths.")
        return self._copy(pairs, overwrite)

    def upload_pairs(self, pairs: Sequence[tuple[str | Path, str]], overwrite: bool = False) -> list[str]:
        """Upload each local file to the datastore path paired with it (the SDK's own mapping of
        local paths to datastore paths, e.g. ``upload_files`` with a ``relative_root``)."""
        checked = []
        for source, dest in pairs:
            path = Path(source).expanduser()
            if not path.is_file():
                raise TutorError(f"There is no file {path} to upload.", "Check the path (prepare the data first?).")
            clean = _clean_target(dest).as_posix()
            if not clean:
                raise TutorError(f"'{dest}' is not a file path on the datastore.", "Name the file to upload to.")
            checked.append((path, clean))
        if not checked:
            raise TutorError("No files were given to upload.", "Pass a list of file paths.")
        return self._copy(checked, overwrite)

    def remove(self, paths: Sequence[str]) -> None:
        """Delete files from the datastore (and the folders they leave empty): undoes an upload
        whose dataset registration then failed."""
        root = self.root.resolve()
        for name in paths:
            local = self.local_path(name)
            if local.is_file():
                local.unlink()
            folder = local.parent
            while folder.resolve() != root and folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
                folder = folder.parent

    def _copy(self, pairs: list[tuple[Path, str]], overwrite: bool) -> list[str]:
        destinations = [dest for _, dest in pairs]
        duplicates = sorted({d for d in destinations if destinations.count(d) > 1})
        if duplicates:
            raise TutorError(f"Two files would be uploaded to the same place: {_listing(duplicates)}.",
                             "Rename one of them or upload them to different folders.")
        existing = [dest for dest in destinations if self.local_path(dest).exists()]
        if existing and not overwrite:
            raise TutorError(
                f"The datastore already has {_listing(existing)}; nothing was uploaded.",
                "Pass overwrite=True to replace them, or upload to another target_path.",
            )
        for source, dest in pairs:
            local = self.local_path(dest)
            if local.is_dir():
                raise TutorError(f"'{dest}' is a folder on the datastore, so a file cannot replace it.",
                                 "Upload to another target_path.")
            local.parent.mkdir(parents=True, exist_ok=True)
            atomic_copy(source, local)
        return destinations

    # -- list / download ---------------------------------------------------------------

    def list(self, prefix: str = "") -> list[str]:
        """Datastore paths of the files whose path starts with ``prefix`` (like a blob listing)."""
        clean = (prefix or "").replace("\\", "/").lstrip("/")
        if not self.root.is_dir():
            return []
        found = []
        for path in self.root.rglob("*"):
            if path.is_file() and not is_temporary(path.name):
                relative = path.relative_to(self.root).as_posix()
                if relative.startswith(clean):
                    found.append(relative)
        return sorted(found)

    def download(self, path: str, dest: str | Path, overwrite: bool = False) -> builtins.list[Path]:
        """Copy the file ``path`` (or every file under the folder ``path``) into ``dest``.

        Files keep their datastore path under ``dest``, as Azure's ``download`` does.
        """
        clean = _clean_target(path).as_posix()
        local = self.local_path(clean)
        if local.is_file():
            names = [clean]
        else:
            names = [name for name in self.list(clean + "/" if clean else "")] if local.is_dir() else []
        if not names:
            raise TutorError(f"There is nothing at '{path}' on the datastore {self.name}.",
                             "list() shows what is there; upload the files first.")
        target = Path(dest).expanduser()
        pairs = [(self.local_path(name), target.joinpath(*PurePosixPath(name).parts)) for name in names]
        clashes = [str(out) for _, out in pairs if out.exists()]
        if clashes and not overwrite:
            raise TutorError(f"{_listing(clashes)} already exist(s); nothing was downloaded.",
                             "Pass overwrite=True to replace them, or download into another folder.")
        for source, out in pairs:
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, out)
        return [out for _, out in pairs]
