"""``azureml.data.TabularDataset``: a lazy table over datastore files, registered or not.

A TabularDataset is a definition (its source files and how to parse them, then the steps
``skip``, ``take``, ``keep_columns``, ``drop_columns``, ``random_split`` applied in order);
nothing is read until ``to_pandas_dataframe()``, and pandas is imported only then. The
files are read by the embedded workspace's reader
(:func:`tutor.workspace.local.datasets.read_files`, a registered version's own loader),
the one the step actions use.

Registering (``register``) calls the workspace's ``register_tabular_dataset``:

* a dataset that is just its files (a ``from_*_files`` dataset with the default parsing,
  or a registered version) registers those files, as on Azure;
* any other (a ``random_split`` half, ``take``, ``keep_columns``, a non-default separator,
  header, encoding or column types...) is *materialised*: its rows are written to
  ``managed-dataset/<name>/<content hash>/<name>.csv`` on the default datastore (``.parquet``
  when the source is parquet, so column types survive), and that file is registered. Azure
  stores the steps instead; reading the registered version gives the same rows either way.

If the registration fails, a file written for it is removed again: nothing is left behind.

``random_split(percentage, seed)`` puts ``round(percentage * rows)`` rows, chosen by a
seeded permutation, in the first dataset and the rest in the second (both in their
original order): the same seed gives the same halves. (Azure's split is per row, so its
sizes are only near ``percentage``.)
"""

from __future__ import annotations

import hashlib
import os
import random
import tempfile
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from azureml._embedded import backend, require, translate
from azureml.data.abstract_dataset import AbstractDataset, _dataset_id, _DatasetRegistration
from azureml.data.dataset_error_handling import DatasetValidationError
from azureml.exceptions import UserErrorException

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas

__all__ = ["TabularDataset"]

#: Where materialised datasets go on the default datastore (azureml's folder for data it writes).
_MANAGED_FOLDER = "managed-dataset"


# --------------------------------------------------------------------------- the definition


@dataclass(frozen=True)
class _Source:
    """The files of a dataset and how to parse them, or a registered version (``record``)."""

    paths: tuple[Any, ...] = ()  # DataPaths
    file_format: str = "csv"
    separator: str = ","
    header: bool = True
    encoding: str = "utf-8"
    infer_column_types: bool = True
    empty_as_string: bool = False
    include_path: bool = False
    column_types: tuple[tuple[str, tuple[str, Any]], ...] = ()
    record: Any = None  # tutor.workspace.base.DatasetRecord

    # -- the files ------------------------------------------------------------------------

    def _groups(self) -> list[tuple[Any, list[str]]]:
        """(embedded store, [path text]) per datastore, in the order the paths were given."""
        from azureml.data.azure_storage_datastore import AzureBlobDatastore

        groups: list[tuple[Any, list[str]]] = []
        for data_path in self.paths:
            datastore = data_path._datastore
            if not isinstance(datastore, AzureBlobDatastore):
                raise ValueError(f"The target type is not supported, target: {datastore}")
            store = datastore._local()
            text = data_path.path_on_datastore
            text = "" if text is None else str(text)
            if groups and groups[-1][0].root == store.root:
                groups[-1][1].append(text)
            else:
                groups.append((store, [text]))
        return groups

    def resolve(self) -> list[tuple[Any, list[str]]]:
        """(store, [datastore file]) per datastore; a TutorError when a path names nothing."""
        from tutor.workspace.datastore_paths import resolve_paths

        resolved = []
        for store, texts in self._groups():
            def exists(text: str, store: Any = store) -> bool:
                return bool(store.local_path(text).is_file())

            files = resolve_paths(store.list(), texts, self.file_format, exists)
            resolved.append((store, files))
        return resolved

    def check(self, message: str) -> None:
        """azureml's validation: the path names files with data in them."""
        from tutor.errors import TutorError

        try:
            resolved = self.resolve()
        except TutorError as error:
            raise DatasetValidationError(f"{message}\n{_text(error)}", exception=error) from None
        for store, files in resolved:
            empty = [name for name in files if store.local_path(name).stat().st_size == 0]
            if empty:
                raise DatasetValidationError(f"{message}\nThe file '{empty[0]}' on the datastore is empty: there is "
                                             "no data to load. Upload the data again.")

    def plain_files(self, local: Any) -> list[str] | None:
        """The datastore files of ``local`` that register this source as it is, or None if the
        source needs materialising (parsing options the workspace does not record)."""
        if self.record is not None:
            return list(self.record.datastore_paths) if _same(self.record_workspace, local) else None
        if self.include_path or self.column_types:
            return None
        if self.file_format == "csv" and (self.separator != "," or not self.header or self.encoding != "utf-8"
                                          or not self.infer_column_types or self.empty_as_string):
            return None
        files: list[str] = []
        for store, names in self.resolve():
            if store.root != local.default_datastore.root:
                return None
            if self.file_format == "csv" and any(n.lower().endswith(".tsv") for n in names):
                return None
            files.extend(n for n in names if n not in files)
        return files

    @property
    def record_workspace(self) -> Any:
        return getattr(self.record, "_sdk_backend", None)

    # -- reading ------------------------------------------------------------------------------

    def read(self) -> "pandas.DataFrame":
        if self.record is not None:
            return self.record.to_pandas_dataframe()
        import pandas as pd

        from tutor.workspace.local.datasets import read_files

        options: dict[str, Any] = {"sep": self.separator, "encoding": self.encoding}
        if not self.header:
            options["header"] = None
        if not self.infer_column_types:
            options["dtype"] = str
        frames = [read_files(store, files, self.file_format, "the dataset",
                             csv_options=options if self.file_format == "csv" else None,
                             include_path=self.include_path)
                  for store, files in self.resolve()]
        frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
        if not self.header and self.file_format == "csv":
            first = 1 if self.include_path else 0
            names = list(frame.columns[:first]) + [f"Column{i}" for i in range(1, len(frame.columns) - first + 1)]
            frame.columns = names
        if self.empty_as_string:
            for column in frame.columns:
                if _is_text(frame[column]):
                    frame[column] = frame[column].fillna("")
        for column, conversion in self.column_types:
            if column in frame.columns:
                frame[column] = _convert(frame[column], conversion)
        return frame

    def describe(self) -> list[str]:
        if self.record is not None:
            return [f"('workspaceblobstore', '{p}')" for p in self.record.datastore_paths]
        return [f"('{p.datastore_name}', '{p.path_on_datastore}')" for p in self.paths]


@dataclass(frozen=True)
class _Definition:
    """A source and the steps applied to it since."""

    source: _Source
    steps: tuple[tuple[Any, ...], ...] = field(default=())

    def then(self, *step: Any) -> "_Definition":
        return replace(self, steps=(*self.steps, step))

    def steps_names(self) -> list[str]:
        if self.source.record is not None:
            first = ["GetDatastoreFiles", "ReadParquetFile" if self.source.record.file_format == "parquet"
                     else "ParseDelimited", "DropColumns"]
        elif self.source.file_format == "parquet":
            first = ["GetDatastoreFiles", "ReadParquetFile", "DropColumns"]
        else:
            first = ["GetDatastoreFiles", "ParseDelimited", "DropColumns", "SetColumnTypes"]
        names = {"skip": "Skip", "take": "Take", "keep": "KeepColumns", "drop": "DropColumns",
                 "split": "RandomSplit"}
        return first + [names[step[0]] for step in self.steps]

    def frame(self) -> "pandas.DataFrame":
        frame = self.source.read()
        for step in self.steps:
            frame = _apply(frame, step)
        return frame


def _apply(frame: "pandas.DataFrame", step: tuple[Any, ...]) -> "pandas.DataFrame":
    kind = step[0]
    if kind == "skip":
        return frame.iloc[step[1]:].reset_index(drop=True)
    if kind == "take":
        return frame.iloc[:step[1]].reset_index(drop=True)
    if kind == "keep":
        return frame[[c for c in frame.columns if c in step[1]]]
    if kind == "drop":
        return frame.drop(columns=[c for c in step[1] if c in frame.columns])
    if kind == "split":
        _, percentage, seed, first = step
        import numpy as np

        order = np.random.RandomState(seed).permutation(len(frame))
        cut = int(round(percentage * len(frame)))
        chosen = np.sort(order[:cut] if first else order[cut:])
        return frame.iloc[chosen].reset_index(drop=True)
    raise AssertionError(kind)  # pragma: no cover


def _convert(series: "pandas.Series", conversion: tuple[str, Any]) -> "pandas.Series":
    import pandas as pd

    kind, argument = conversion
    if kind == "string":
        return series.astype(object).where(series.isna(), series.astype(str))
    if kind == "long":
        numbers = pd.to_numeric(series, errors="coerce")
        return numbers.astype("int64") if not numbers.isna().any() else numbers.astype("float64")
    if kind == "float":
        if argument == "," and _is_text(series):
            series = series.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
        return pd.to_numeric(series, errors="coerce").astype("float64")
    if kind == "bool":
        truth = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
        return series.map(lambda v: truth.get(str(v).strip().lower()) if not pd.isna(v) else None)
    if kind == "datetime":
        if not argument:
            return pd.to_datetime(series, errors="coerce")
        result = pd.to_datetime(series, format=argument[0], errors="coerce")
        for fmt in argument[1:]:
            result = result.fillna(pd.to_datetime(series, format=fmt, errors="coerce"))
        return result
    raise AssertionError(kind)  # pragma: no cover


def _is_text(series: "pandas.Series") -> bool:
    import pandas as pd

    return series.dtype == object or pd.api.types.is_string_dtype(series.dtype)


def _same(a: Any, b: Any) -> bool:
    return a is not None and b is not None and str(a.path) == str(b.path)


def _text(error: Any) -> str:
    return error.what + (f" {error.fix}" if getattr(error, "fix", None) else "")


# --------------------------------------------------------------------------- the dataset


class TabularDataset(AbstractDataset):
    """A table defined over datastore files: read with ``to_pandas_dataframe()``."""

    def __init__(self):
        super().__init__()

    @classmethod
    def _from_record(cls, workspace: Any, record: Any) -> "TabularDataset":
        """A registered version (a DatasetRecord of the embedded workspace)."""
        local = backend(workspace)
        record._sdk_backend = local
        registration = _DatasetRegistration(
            workspace, _dataset_id(local, record.name, record.version), name=record.name, version=record.version,
            description=record.description or None, tags=dict(record.tags or {}))
        return cls._create(_Definition(_Source(file_format=record.file_format, record=record)),
                           registration=registration)

    def _derived(self, *step: Any) -> "TabularDataset":
        return TabularDataset._create(self._definition.then(*step), self._properties,
                                      telemetry_info=self._telemetry_info)

    # -- reading ------------------------------------------------------------------------------

    def to_pandas_dataframe(self, on_error='null', out_of_range_datetime='null'):
        """Read the data now, into a pandas DataFrame."""
        from tutor.errors import TutorError

        for value, what in ((on_error, "on_error"), (out_of_range_datetime, "out_of_range_datetime")):
            if value not in ("null", "fail"):
                raise UserErrorException(f"{what} must be 'null' or 'fail', got {value!r}")
        try:
            return self._definition.frame()
        except TutorError as error:
            if self.id is None:
                message = f"Execution failed with error message: {_text(error)}"
            else:
                message = (f"Execution failed in operation 'to_pandas_dataframe' for Dataset(id='{self.id}', "
                           f"name='{self.name}', version={self.version}, error_code=ScriptExecution.StreamAccess."
                           f"NotFound,error_message={_text(error)})")
            raise UserErrorException(f"{message} ErrorCode: ScriptExecution.StreamAccess.NotFound") from None

    # -- new datasets from this one ----------------------------------------------------------------

    def skip(self, count):
        """The rows after the first ``count``."""
        return self._derived("skip", _count(count))

    def take(self, count):
        """The first ``count`` rows."""
        return self._derived("take", _count(count))

    def random_split(self, percentage, seed=None):
        """Two datasets: ``percentage`` (between 0 and 1) of the rows, chosen at random, and the rest.

        The same ``seed`` gives the same split; without one a seed is drawn now, so the two
        halves always complement each other.
        """
        if isinstance(percentage, bool) or not isinstance(percentage, (int, float)) or not 0 < percentage < 1:
            raise ValueError(f"percentage must be a number between 0.0 and 1.0 (exclusive), got {percentage!r}")
        if seed is None:
            seed = random.randrange(2 ** 31)
        elif isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2 ** 32:
            raise ValueError(f"seed must be an integer between 0 and 2**32 - 1, got {seed!r}")
        return self._derived("split", float(percentage), seed, True), self._derived("split", float(percentage), seed,
                                                                                    False)

    def keep_columns(self, columns, validate=False):
        """Only ``columns`` (a name or a list of names); ``validate`` checks now that they exist."""
        names = _columns(columns)
        dataset = self._derived("keep", names)
        if validate:
            present = set(self.take(1).to_pandas_dataframe().columns)
            if not set(names) & present:
                raise DatasetValidationError(f"Cannot load any data from the dataset with only columns {names} kept. "
                                             "Make sure the specified columns exist in the current dataset.")
        return dataset

    def drop_columns(self, columns):
        """Without ``columns`` (a name or a list of names)."""
        return self._derived("drop", _columns(columns))

    # -- registering ------------------------------------------------------------------------------

    def _register(self, workspace, name, description=None, tags=None, create_new_version=False):
        from tutor.errors import TutorError

        local = backend(workspace)
        require(name, str, "name")
        if not create_new_version and name in {r.name for r in local.list_datasets()}:
            raise UserErrorException(
                f'There is already a dataset registered under name "{name}". Specify `create_new_version=True` to '
                "register the dataset as a new version. Use `update`, `add_tags`, or `remove_tags` to change only "
                "the description or tags.")
        source = self._definition.source
        file_format = source.file_format
        files = None
        if not self._definition.steps:
            try:
                files = source.plain_files(local)
            except TutorError as error:
                raise UserErrorException(f"Cannot register the dataset: {_text(error)}") from None
        written: list[str] = []
        if files is None:
            files, written = self._materialise(local, name, file_format)
        try:
            with translate(UserErrorException):
                record = local.register_tabular_dataset(name, files, description=description or "", tags=tags,
                                                        create_new_version=bool(create_new_version),
                                                        file_format=file_format)
        except BaseException:
            if written:
                local.default_datastore.remove(written)
            raise
        return TabularDataset._from_record(workspace, record)

    def _materialise(self, local: Any, name: str, file_format: str) -> tuple[list[str], list[str]]:
        """Write this dataset's rows to the default datastore; (files to register, files written now)."""
        frame = self.to_pandas_dataframe()
        store = local.default_datastore
        with tempfile.TemporaryDirectory(prefix="tutor-dataset-") as folder:
            suffix = "parquet" if file_format == "parquet" else "csv"
            path = os.path.join(folder, f"data.{suffix}")
            if suffix == "parquet":
                frame.to_parquet(path, index=False)
            else:
                frame.to_csv(path, index=False)
            with open(path, "rb") as handle:
                digest = hashlib.sha256(handle.read()).hexdigest()[:16]
            target = f"{_MANAGED_FOLDER}/{name}/{digest}/{name}.{suffix}"
            with translate(UserErrorException):
                if store.local_path(target).is_file():  # the same rows, written before
                    return [target], []
                store.upload_pairs([(path, target)], overwrite=False)
        return [target], [target]


def _count(count: Any) -> int:
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise UserErrorException(f"count must be a non-negative integer, got {type(count).__name__}: {count!r}")
    return count


def _columns(columns: Any) -> tuple[str, ...]:
    if isinstance(columns, str):
        return (columns,)
    if isinstance(columns, (list, tuple)) and all(isinstance(c, str) for c in columns):
        return tuple(columns)
    raise UserErrorException(f"columns must be a column name or a list of column names, got {columns!r}")
