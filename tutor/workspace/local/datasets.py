"""Tabular datasets: named, versioned references to files on the datastore.

As on Azure, a dataset version points at datastore files (it does not copy them) and is
read when asked (``to_pandas_dataframe``). Its profile is computed at registration and
kept with the version. Parquet files are read as a table, without restoring a pandas
index: an index stored in the file becomes an ordinary column (``__index_level_0__``),
which is exactly what Azure ML's loader shows for the course's parquet file.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Mapping, Sequence

from tutor.errors import TutorError
from tutor.workspace.datastore_paths import FORMATS, resolve_paths
from tutor.workspace import naming
from tutor.workspace.base import ColumnProfile, DatasetProfile, DatasetRecord
from tutor.workspace.local.core import Version, WorkspaceCore, loads, missing_version, not_found, parse_version
from tutor.workspace.local.datastore import LocalDatastore
from tutor.workspace.local.layout import Layout
from tutor.workspace.local.store import Store, dumps, utcnow

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas



def read_files(datastore: LocalDatastore, files: Sequence[str], file_format: str,
               what: str = "the dataset", *, csv_options: Mapping[str, Any] | None = None,
               include_path: bool = False) -> "pandas.DataFrame":
    """Read datastore files into one frame (imports pandas).

    ``csv_options`` are passed to ``pandas.read_csv`` (the SDK's ``separator``, ``header``,
    ``encoding``...; by default a ``.tsv`` file is read with tabs); ``include_path`` adds a
    first column ``Path`` with each row's datastore path, as Azure's ``include_path=True``.
    """
    import pandas as pd

    frames = []
    for name in files:
        local = datastore.local_path(name)
        if not local.is_file():
            raise TutorError(f"{what.capitalize()} reads '{name}', which is no longer on the datastore.",
                             "Upload the file again, or register a new dataset version pointing at current files.")
        try:
            if file_format == "parquet":
                import pyarrow.parquet as pq

                frames.append(pq.read_table(local).to_pandas(ignore_metadata=True))
            else:
                options = {"sep": "\t" if name.lower().endswith(".tsv") else ",", **(csv_options or {})}
                frames.append(pd.read_csv(local, **options))
            if include_path:
                frames[-1].insert(0, "Path", f"/{name}")
        except TutorError:
            raise
        except Exception as exc:  # a file pandas cannot parse: say which one
            raise TutorError(f"Could not read '{name}' as {file_format}: {exc}",
                             "Check that the file is complete and in that format (re-save and upload it).") from exc
    if len(frames) == 1:
        return frames[0]
    return pd.concat(frames, ignore_index=True)


def _record(row: Any) -> DatasetRecord:
    return DatasetRecord(
        name=row["name"], version=int(row["version"]), file_format=row["file_format"],
        datastore_paths=json.loads(row["paths"]), description=row["description"], tags=loads(row["tags"], {}),
        row_count=int(row["row_count"]), column_count=int(row["column_count"]), created_at=row["created_at"],
    )


def _find_version(store: Store, name: str, version: Version | str) -> Any:
    wanted = parse_version("dataset", name, version)
    with store.read() as conn:
        rows = conn.execute("SELECT * FROM dataset_versions WHERE name = ? ORDER BY version", (name,)).fetchall()
        if not rows:
            names = [r[0] for r in conn.execute("SELECT DISTINCT name FROM dataset_versions")]
            raise not_found("dataset", name, names, "register it first (register_tabular_dataset)")
    if wanted is None:
        return rows[-1]
    for row in rows:
        if int(row["version"]) == wanted:
            return row
    raise missing_version("dataset", name, wanted, [int(r["version"]) for r in rows])


def load_dataset_frame(workspace_dir: str | Path, name: str, version: Version | str = "latest") -> "pandas.DataFrame":
    """Load a registered dataset in any process (a run's script uses this, given
    ``$TUTOR_WORKSPACE_DIR``): it opens only the database and the datastore."""
    layout = Layout(Path(workspace_dir).expanduser().resolve())
    if not layout.db.is_file():
        raise TutorError(f"There is no embedded workspace at {layout.root}.",
                         "Pass the workspace folder (a run gets it as $TUTOR_WORKSPACE_DIR).")
    store = Store(layout.db, check=False)
    row = _find_version(store, name, version)
    return read_files(LocalDatastore(layout.datastore), json.loads(row["paths"]), row["file_format"],
                      f"dataset '{name}' version {row['version']}")


class DatasetsMixin(WorkspaceCore):
    @property
    def default_datastore(self) -> LocalDatastore:
        return LocalDatastore(self.layout.datastore)

    def register_tabular_dataset(self, name: str, datastore_paths: str | Sequence[Any], *, description: str = "",
                                 tags: Mapping[str, Any] | None = None, create_new_version: bool = True,
                                 file_format: Literal["csv", "parquet"] = "csv") -> DatasetRecord:
        """Register files on the default datastore as a new version of dataset ``name``.

        Azure: ``Dataset.Tabular.from_delimited_files(path).register(ws, name, ...)``.
        Registering an existing name needs ``create_new_version=True`` (the course does so on
        every rerun); the profile is computed now and stored with the version.
        """
        from tutor.profile import profile_frame

        naming.check_name(naming.DATASET, name)
        if file_format not in FORMATS:
            raise TutorError(f"file_format must be 'csv' or 'parquet', not {file_format!r}.",
                             "Pass the format of the uploaded files.")
        clean_tags = naming.check_tags(tags)
        datastore = self.default_datastore
        if not create_new_version:
            self._refuse_existing(name)
        files = resolve_paths(datastore.list(), datastore_paths, file_format,
                              lambda text: datastore.local_path(text).is_file())
        frame = read_files(datastore, files, file_format, f"dataset '{name}'")
        columns = profile_frame(frame)
        with self.store.write() as conn:
            latest = conn.execute("SELECT MAX(version) FROM dataset_versions WHERE name = ?", (name,)).fetchone()[0]
            if latest is not None and not create_new_version:
                raise self._exists_error(name, int(latest))
            version = 1 if latest is None else int(latest) + 1
            conn.execute(
                "INSERT INTO dataset_versions (name, version, file_format, paths, description, tags, row_count, "
                "column_count, profile, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (name, version, file_format, json.dumps(files), description or "", dumps(clean_tags), len(frame),
                 len(frame.columns), json.dumps([dataclasses.asdict(c) for c in columns], default=str), utcnow()),
            )
        return self.get_dataset(name, version)

    def _refuse_existing(self, name: str) -> None:
        with self.store.read() as conn:
            latest = conn.execute("SELECT MAX(version) FROM dataset_versions WHERE name = ?", (name,)).fetchone()[0]
        if latest is not None:
            raise self._exists_error(name, int(latest))

    @staticmethod
    def _exists_error(name: str, latest: int) -> TutorError:
        return TutorError(
            f"A dataset named '{name}' is already registered (latest version {latest}).",
            f"Pass create_new_version=True to register version {latest + 1}, or choose another name.",
        )

    def get_dataset(self, name: str, version: Version | str = "latest") -> DatasetRecord:
        """A dataset version (Azure: ``Dataset.get_by_name(ws, name, version)``)."""
        row = _find_version(self.store, name, version)
        number = int(row["version"])
        root = self.layout.root
        return _record(row).bind_loader(lambda: load_dataset_frame(root, name, number))

    def list_dataset_versions(self, name: str) -> list[DatasetRecord]:
        _find_version(self.store, name, "latest")  # the not-found error, listing what exists
        with self.store.read() as conn:
            rows = conn.execute("SELECT * FROM dataset_versions WHERE name = ? ORDER BY version", (name,)).fetchall()
        return [self.get_dataset(name, int(row["version"])) for row in rows]

    def list_datasets(self) -> list[DatasetRecord]:
        """The latest version of every dataset, by name."""
        with self.store.read() as conn:
            rows = conn.execute(
                "SELECT name, MAX(version) AS version FROM dataset_versions GROUP BY name ORDER BY name"
            ).fetchall()
        return [self.get_dataset(row["name"], int(row["version"])) for row in rows]

    def dataset_profile(self, name: str, version: Version | str = "latest") -> DatasetProfile:
        row = _find_version(self.store, name, version)
        columns = [ColumnProfile(**column) for column in json.loads(row["profile"])]
        return DatasetProfile(name=name, version=int(row["version"]), row_count=int(row["row_count"]),
                              columns=columns)
