"""The default datastore and tabular datasets on Azure.

The datastore is ``ws.get_default_datastore()`` (the workspace's blob container). The
SDK's ``upload_files`` silently skips files that already exist when ``overwrite=False``;
the embedded workspace refuses instead and says so, so this backend lists the blobs first
and refuses the same way.

A dataset is ``Dataset.Tabular.from_delimited_files`` / ``from_parquet_files`` on
(datastore, path) pairs, registered with ``register(create_new_version=...)`` and read
back with ``Dataset.get_by_name``. Its profile is computed from ``to_pandas_dataframe()``
with the same profiler the embedded workspace uses (``tutor.profile``), so both backends
show the same ColumnProfile; it is cached per version.
"""

from __future__ import annotations

import builtins  # "list" is a method name in the datastore classes
import dataclasses
from pathlib import Path, PurePosixPath
from typing import Any, Literal, Mapping, Sequence

from tutor.errors import TutorError
from tutor.workspace import naming
from tutor.workspace.azure.core import AzureCore, iso, read_json, write_json
from tutor.workspace.base import ColumnProfile, DatasetProfile, DatasetRecord
from tutor.workspace.local.core import missing_version, not_found, parse_version
from tutor.workspace.datastore_paths import FORMATS, resolve_paths
from tutor.workspace.local.datastore import _clean_target, _listing


class AzureDatastore:
    """The workspace's default blob datastore, with the embedded datastore's checks."""

    def __init__(self, owner: AzureCore, datastore: Any) -> None:
        self._owner = owner
        self._datastore = datastore
        self.name = str(getattr(datastore, "name", "workspaceblobstore"))

    def __repr__(self) -> str:
        return f"AzureDatastore(name={self.name!r})"

    @property
    def sdk_object(self) -> Any:
        return self._datastore

    def _call(self, doing: str, function: Any, *args: Any, **kwargs: Any) -> Any:
        return self._owner._call(doing, function, *args, **kwargs)

    # -- upload ---------------------------------------------------------------------

    def upload(self, src_dir: str | Path, target_path: str = "", overwrite: bool = False) -> list[str]:
        """Upload every file under ``src_dir`` to ``target_path`` (``upload_files`` with relative_root)."""
        source = Path(src_dir).expanduser()
        if source.is_file():
            raise TutorError(f"{source} is a file; upload() takes a folder.",
                             "Use upload_files([...]) for single files.")
        if not source.is_dir():
            raise TutorError(f"There is no folder {source} to upload.", "Check the path (prepare the data first?).")
        target = _clean_target(target_path)
        files = sorted(p for p in source.rglob("*") if p.is_file())
        if not files:
            raise TutorError(f"The folder {source} has no files to upload.", "Save the prepared data into it first.")
        pairs = [(p, (target / p.relative_to(source).as_posix()).as_posix()) for p in files]
        return self._upload({source: pairs}, target, overwrite)

    def upload_files(self, files: Sequence[str | Path], target_path: str = "", overwrite: bool = False) -> list[str]:
        """Upload single files into ``target_path`` (each keeps its file name)."""
        if isinstance(files, (str, Path)):
            files = [files]
        target = _clean_target(target_path)
        groups: dict[Path, list[tuple[Path, str]]] = {}
        for item in files:
            path = Path(item).expanduser()
            if not path.is_file():
                raise TutorError(f"There is no file {path} to upload.", "Check the path (prepare the data first?).")
            groups.setdefault(path.parent, []).append((path, (target / path.name).as_posix()))
        if not groups:
            raise TutorError("No files were given to upload.", "Pass a list of file paths.")
        return self._upload(groups, target, overwrite)

    def _upload(self, groups: dict[Path, list[tuple[Path, str]]], target: PurePosixPath, overwrite: bool) -> list[str]:
        destinations = [dest for pairs in groups.values() for _, dest in pairs]
        duplicates = sorted({d for d in destinations if destinations.count(d) > 1})
        if duplicates:
            raise TutorError(f"Two files would be uploaded to the same place: {_listing(duplicates)}.",
                             "Rename one of them or upload them to different folders.")
        if not overwrite:
            present = set(self.list(target.as_posix() if str(target) != "." else ""))
            existing = sorted(d for d in destinations if d in present)
            if existing:
                raise TutorError(
                    f"The datastore already has {_listing(existing)}; nothing was uploaded.",
                    "Pass overwrite=True to replace them, or upload to another target_path.",
                )
        target_text = "" if str(target) == "." else target.as_posix()
        for root, pairs in groups.items():
            self._call(f"uploading {len(pairs)} file(s) to {self.name}/{target_text}", self._owner.service.upload_files,
                       self._datastore, [str(p) for p, _ in pairs], str(root), target_text, overwrite)
        return sorted(destinations)

    # -- list / download ---------------------------------------------------------------

    def list(self, prefix: str = "") -> list[str]:
        """Blob names starting with ``prefix`` (the container's listing)."""
        clean = (prefix or "").replace("\\", "/").lstrip("/")
        if clean in (".", "./"):
            clean = ""
        names = self._call(f"listing the datastore {self.name}", self._owner.service.list_blobs, self._datastore, clean)
        return sorted(n for n in names if n.startswith(clean))

    def download(self, path: str, dest: str | Path, overwrite: bool = False) -> builtins.list[Path]:
        """Download the blob ``path`` or every blob under the folder ``path`` into ``dest``."""
        clean = _clean_target(path).as_posix()
        clean = "" if clean == "." else clean
        listing = self.list(clean)
        if clean in listing:
            names, prefix = [clean], clean
        else:
            prefix = clean + "/" if clean else ""
            names = [n for n in listing if n.startswith(prefix)]
        if not names:
            raise TutorError(f"There is nothing at '{path}' on the datastore {self.name}.",
                             "list() shows what is there; upload the files first.")
        target = Path(dest).expanduser()
        outs = [target.joinpath(*PurePosixPath(name).parts) for name in names]
        clashes = [str(out) for out in outs if out.exists()]
        if clashes and not overwrite:
            raise TutorError(f"{_listing(clashes)} already exist(s); nothing was downloaded.",
                             "Pass overwrite=True to replace them, or download into another folder.")
        target.mkdir(parents=True, exist_ok=True)
        self._call(f"downloading '{path}' from {self.name}", self._owner.service.download, self._datastore,
                   str(target), prefix, overwrite)
        return outs


class DataMixin(AzureCore):
    _datastore: AzureDatastore | None = None

    @property
    def default_datastore(self) -> AzureDatastore:
        """``ws.get_default_datastore()``."""
        if self._datastore is None:
            store = self._call("opening the default datastore", self.service.default_datastore, self.ws)
            self._datastore = AzureDatastore(self, store)
        return self._datastore

    # -- resolving datastore paths -----------------------------------------------------

    def _resolve_paths(self, paths: str | Sequence[Any], file_format: str) -> list[str]:
        """The blobs behind ``paths``: each a file, a folder (its files) or a glob (as Azure reads them)."""
        everything = self.default_datastore.list()
        return resolve_paths(everything, paths, file_format, lambda text: text in everything)

    # -- registering ------------------------------------------------------------------

    def register_tabular_dataset(self, name: str, datastore_paths: str | Sequence[Any], *, description: str = "",
                                 tags: Mapping[str, Any] | None = None, create_new_version: bool = True,
                                 file_format: Literal["csv", "parquet"] = "csv") -> DatasetRecord:
        """``Dataset.Tabular.from_delimited_files(path).register(ws, name, create_new_version=...)``."""
        from tutor.profile import profile_frame

        naming.check_name(naming.DATASET, name)
        if file_format not in FORMATS:
            raise TutorError(f"file_format must be 'csv' or 'parquet', not {file_format!r}.",
                             "Pass the format of the uploaded files.")
        clean_tags = naming.check_tags(tags)
        if not create_new_version:
            latest = self._call(f"looking up the dataset '{name}'", self.service.get_dataset, self.ws, name, "latest")
            if latest is not None:
                raise TutorError(
                    f"A dataset named '{name}' is already registered (latest version {latest.version}).",
                    f"Pass create_new_version=True to register version {int(latest.version) + 1}, or choose another name.",
                )
        files = self._resolve_paths(datastore_paths, file_format)
        store = self.default_datastore
        dataset = self._call(f"reading {', '.join(files)} as a {file_format} dataset", self.service.tabular_dataset,
                             store.sdk_object, files, file_format)
        frame = self._call(f"loading the dataset '{name}'", self.service.dataset_frame, dataset)
        registered = self._call(f"registering the dataset '{name}'", self.service.register_dataset, self.ws, dataset,
                                name, description or "", clean_tags, create_new_version)
        version = int(registered.version)
        columns = profile_frame(frame)
        write_json(self._dataset_cache(name, version), {
            "file_format": file_format, "datastore_paths": files, "row_count": len(frame),
            "column_count": len(frame.columns), "profile": [dataclasses.asdict(c) for c in columns],
        })
        return self._dataset_record(registered)

    # -- reading ---------------------------------------------------------------------

    def _dataset_cache(self, name: str, version: int) -> Path:
        return self._cache_dir("datasets", name) / f"{version}.json"

    def _dataset_facts(self, dataset: Any) -> dict[str, Any]:
        """Counts and profile of a version: cached, or computed once from its data."""
        from tutor.profile import profile_frame

        path = self._dataset_cache(str(dataset.name), int(dataset.version))
        facts = read_json(path)
        if facts is None:
            frame = self._call(f"loading the dataset '{dataset.name}'", self.service.dataset_frame, dataset)
            columns = profile_frame(frame)
            facts = {"file_format": "csv", "datastore_paths": [], "row_count": len(frame),
                     "column_count": len(frame.columns), "profile": [dataclasses.asdict(c) for c in columns]}
            write_json(path, facts)
        return facts

    def _dataset_record(self, dataset: Any) -> DatasetRecord:
        facts = self._dataset_facts(dataset)
        record = DatasetRecord(
            name=str(dataset.name), version=int(dataset.version), file_format=facts.get("file_format", "csv"),
            datastore_paths=list(facts.get("datastore_paths", [])), description=str(dataset.description or ""),
            tags={str(k): str(v) for k, v in (dataset.tags or {}).items()},
            row_count=int(facts.get("row_count", 0)), column_count=int(facts.get("column_count", 0)),
            created_at=iso(getattr(dataset, "_registration", None) and getattr(dataset._registration, "created_time", None)),
        )
        service = self.service
        return record.bind_loader(lambda: service.dataset_frame(dataset))

    def _find_dataset(self, name: str, version: int | str = "latest") -> Any:
        wanted = parse_version("dataset", name, version)
        found = self._call(f"looking up the dataset '{name}'", self.service.get_dataset, self.ws, name,
                           "latest" if wanted is None else wanted)
        if found is not None:
            return found
        latest = None if wanted is None else self._call(f"looking up the dataset '{name}'", self.service.get_dataset,
                                                         self.ws, name, "latest")
        if latest is None:
            names = self._call("listing the datasets", self.service.list_datasets, self.ws)
            raise not_found("dataset", name, names, "register it first (register_tabular_dataset)")
        raise missing_version("dataset", name, int(wanted or 0), list(range(1, int(latest.version) + 1)))

    def get_dataset(self, name: str, version: int | Literal["latest"] = "latest") -> DatasetRecord:
        """``Dataset.get_by_name(ws, name, version)``."""
        return self._dataset_record(self._find_dataset(name, version))

    def list_dataset_versions(self, name: str) -> list[DatasetRecord]:
        latest = self._find_dataset(name, "latest")
        records = []
        for number in range(1, int(latest.version) + 1):
            found = latest if number == int(latest.version) else self._call(
                f"looking up the dataset '{name}'", self.service.get_dataset, self.ws, name, number)
            if found is not None:
                records.append(self._dataset_record(found))
        return records

    def list_datasets(self) -> list[DatasetRecord]:
        """The latest version of every dataset (``Dataset.get_all``), by name."""
        found = self._call("listing the datasets", self.service.list_datasets, self.ws)
        return [self._dataset_record(found[name]) for name in sorted(found)]

    def dataset_profile(self, name: str, version: int | Literal["latest"] = "latest") -> DatasetProfile:
        dataset = self._find_dataset(name, version)
        facts = self._dataset_facts(dataset)
        return DatasetProfile(name=str(dataset.name), version=int(dataset.version),
                              row_count=int(facts["row_count"]),
                              columns=[ColumnProfile(**column) for column in facts["profile"]])
