"""The model registry: integer versions per name, each a stored copy of the model files.

A copy (not a reference to the run's outputs) because a registered model must stay
what it was when registered, whatever happens to the run folder later. The copy is
made under a temporary name first and renamed into ``models/<name>/<version>/`` inside
the transaction that assigns the version, so two registrations never share a folder.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Mapping

from tutor.errors import TutorError
from tutor.workspace import naming
from tutor.workspace.base import ModelRecord, RunStatus
from tutor.workspace.local.core import Version, WorkspaceCore, loads, missing_version, not_found, parse_version
from tutor.workspace.local.store import dumps, utcnow


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


class ModelsMixin(WorkspaceCore):
    get_run: Callable[..., Any]

    def _model_record(self, row: Any) -> ModelRecord:
        return ModelRecord(
            name=row["name"], version=int(row["version"]), file_name=row["file_name"],
            path=str(self.layout.model_dir(row["name"], int(row["version"]))), description=row["description"],
            tags=loads(row["tags"], {}), run_id=row["run_id"], experiment=row["experiment"],
            size_bytes=int(row["size_bytes"]), created_at=row["created_at"],
        )

    def _model_source(self, model_path: str | Path, run_id: str | None) -> tuple[Path, str | None]:
        if run_id is None:
            source = Path(model_path).expanduser()
            if not source.exists():
                raise TutorError(f"There is no model file or folder {source}.",
                                 "Check the path (download the model from its run first?).")
            return source, None
        run = self.get_run(run_id)
        if run.status != RunStatus.COMPLETED:
            raise TutorError(f"Run {run_id} is {run.status.value}, so its model is not trustworthy.",
                             "Register the model of a Completed run (compare the runs' metrics to pick one).")
        relative = PurePosixPath(str(model_path).replace("\\", "/"))
        if relative.is_absolute() or ".." in relative.parts:
            raise TutorError(f"'{model_path}' must be a path inside the run's folder.", "Use e.g. 'outputs/model.pkl'.")
        base = Path(run.run_dir)
        for candidate in (base.joinpath(*relative.parts), base.joinpath("outputs", *relative.parts)):
            if candidate.exists():
                return candidate, run.experiment
        outputs = sorted(p.relative_to(base).as_posix() for p in (base / "outputs").rglob("*") if p.is_file())
        raise TutorError(
            f"Run {run_id} has no '{model_path}'.",
            "Its outputs are: " + (", ".join(outputs[:10]) or "none (did the script save its model under outputs/?)") + ".",
        )

    def register_model(self, name: str, model_path: str | Path, *, run_id: str | None = None,
                       tags: Mapping[str, Any] | None = None, description: str = "") -> ModelRecord:
        """Register a model file or folder as the next version of ``name``.

        With ``run_id``, ``model_path`` is inside that run's folder ("outputs/model.pkl";
        Azure: ``run.register_model``); without, it is a local path (``Model.register``).
        """
        naming.check_name(naming.MODEL, name)
        clean_tags = naming.check_tags(tags)
        source, experiment = self._model_source(model_path, run_id)
        folder = self.layout.models / name
        folder.mkdir(parents=True, exist_ok=True)
        incoming = folder / f".incoming-{os.urandom(4).hex()}"
        incoming.mkdir()
        try:
            if source.is_dir():
                shutil.copytree(source, incoming / source.name)
            else:
                shutil.copy2(source, incoming / source.name)
            with self.store.write() as conn:
                latest = conn.execute("SELECT MAX(version) FROM models WHERE name = ?", (name,)).fetchone()[0]
                version = 1 if latest is None else int(latest) + 1
                final = self.layout.model_dir(name, version)
                if final.exists():  # left by a registration that crashed before committing
                    shutil.rmtree(final)
                incoming.rename(final)
                conn.execute(
                    "INSERT INTO models (name, version, file_name, description, tags, run_id, experiment, size_bytes, "
                    "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (name, version, source.name, description or "", dumps(clean_tags), run_id, experiment,
                     _size(source), utcnow()),
                )
        except BaseException:
            shutil.rmtree(incoming, ignore_errors=True)
            raise
        return self.get_model(name, version)

    def get_model(self, name: str, version: Version | str = "latest") -> ModelRecord:
        """A model version (Azure: ``Model(ws, name, version)``)."""
        wanted = parse_version("model", name, version)
        with self.store.read() as conn:
            rows = conn.execute("SELECT * FROM models WHERE name = ? ORDER BY version", (name,)).fetchall()
            if not rows:
                names = [r[0] for r in conn.execute("SELECT DISTINCT name FROM models")]
                raise not_found("model", name, names, "register it first (register_model)")
        if wanted is None:
            return self._model_record(rows[-1])
        for row in rows:
            if int(row["version"]) == wanted:
                return self._model_record(row)
        raise missing_version("model", name, wanted, [int(r["version"]) for r in rows])

    def list_models(self, name: str | None = None, latest: bool = False) -> list[ModelRecord]:
        """Model versions, by name then version (only the newest of each name with ``latest``)."""
        with self.store.read() as conn:
            rows = conn.execute("SELECT * FROM models ORDER BY name, version").fetchall()
        records = [self._model_record(r) for r in rows if name is None or r["name"] == name]
        if latest:
            newest: dict[str, ModelRecord] = {}
            for record in records:
                newest[record.name] = record
            records = list(newest.values())
        return records

    def download_model(self, name: str, version: Version | str, dest: str | Path, exist_ok: bool = False) -> Path:
        """Copy a model version's file (or folder) into ``dest``; returns its path there."""
        model = self.get_model(name, version)
        source = model.model_file
        if not source.exists():
            raise TutorError(f"The stored copy of model {model.id} is missing ({source}).",
                             "Register the model again from its run.")
        target = Path(dest).expanduser() / model.file_name
        if target.exists() and not exist_ok:
            raise TutorError(f"{target} already exists; nothing was downloaded.",
                             "Pass exist_ok=True to replace it, or download into another folder.")
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(source, target)
        else:
            shutil.copy2(source, target)
        return target
