"""``azureml.data.dataset_factory``: ``Dataset.Tabular.from_delimited_files`` / ``from_parquet_files``.

A dataset made here is a definition, as on Azure: which datastore files, how to parse
them, and the steps applied since (``take``, ``random_split``...). It is read when asked
(``to_pandas_dataframe``). ``validate=True`` checks now that the path names data on the
datastore, and fails with azureml's ``DatasetValidationError`` when it does not. Paths
are resolved by the embedded workspace (a file, a folder's files, or a glob such as
``"folder/*.csv"``), the same way its ``register_tabular_dataset`` resolves them.

Not on the embedded workspace: URLs (it has no network), ``partition_format``, and the
``from_json_lines_files`` / ``from_sql_query`` / ``register_*_dataframe`` factories.
"""

from __future__ import annotations

import re
from typing import Any

from azureml._embedded import AZURE_HINT, Subset
from azureml.data.abstract_datastore import AbstractDatastore
from azureml.data.data_reference import DataReference
from azureml.data.datapath import DataPath
from azureml.exceptions import UserErrorException

__all__ = ["DataType", "TabularDatasetFactory"]

_ENCODINGS = {"UTF8": "utf-8", "ISO88591": "iso-8859-1", "LATIN1": "latin-1", "ASCII": "ascii", "UTF16": "utf-16",
              "UTF32": "utf-32", "UTF8BOM": "utf-8-sig", "WINDOWS1252": "cp1252"}
_HEADERS = {"ALL_FILES_HAVE_SAME_HEADERS": True, "NO_HEADERS": False,
            # Read as if every file had the header row (the embedded reader does not mix the two).
            "ONLY_FIRST_FILE_HAS_HEADERS": True, "COMBINE_ALL_FILES_HEADERS": True}


class TabularDatasetFactory(Subset):
    """Makes TabularDatasets from delimited or parquet files on a datastore."""

    @staticmethod
    def from_parquet_files(path, validate=True, include_path=False, set_column_types=None, partition_format=None):
        """A TabularDataset of the parquet files at ``path`` (a ``(datastore, "path")`` tuple,
        a DataPath, or a list of them)."""
        from azureml.data.tabular_dataset import TabularDataset, _Source

        _refuse_partition_format("from_parquet_files", partition_format)
        paths = _validate_and_normalize_path(path)
        source = _Source(paths=tuple(paths), file_format="parquet", include_path=bool(include_path),
                         column_types=_column_types(set_column_types))
        if validate:
            source.check("Failed to validate the data.If data is inaccessible, please set validate to False.")
        return TabularDataset._create(_definition(source))

    @staticmethod
    def from_delimited_files(path, validate=True, include_path=False, infer_column_types=True, set_column_types=None,
                             separator=',', header=True, partition_format=None, support_multi_line=False,
                             empty_as_string=False, encoding='utf8'):
        """A TabularDataset of the delimited (CSV, TSV) files at ``path`` (a ``(datastore, "path")``
        tuple, a DataPath, or a list of them). Quoted line breaks are always read as part of
        their field, whatever ``support_multi_line`` says."""
        from azureml.data.tabular_dataset import TabularDataset, _Source

        if header is True or header is False:
            has_header = header
        elif isinstance(header, str) and header in _HEADERS:
            has_header = _HEADERS[header]
        elif isinstance(header, str):
            raise UserErrorException("Unsupported header provided. The allowed values are NO_HEADERS"
                                     "ONLY_FIRST_FILE_HAS_HEADERS"
                                     "COMBINE_ALL_FILES_HEADERS"
                                     "ALL_FILES_HAVE_SAME_HEADERS")
        else:
            has_header = bool(header)
        python_encoding = _parse_encoding(encoding)
        if not isinstance(separator, str) or not separator:
            raise UserErrorException(f"separator must be a non-empty string, got {type(separator).__name__}: "
                                     f"{separator!r}")
        _refuse_partition_format("from_delimited_files", partition_format)
        paths = _validate_and_normalize_path(path)
        source = _Source(paths=tuple(paths), file_format="csv", separator=separator, header=has_header,
                         encoding=python_encoding, infer_column_types=bool(infer_column_types),
                         empty_as_string=bool(empty_as_string), include_path=bool(include_path),
                         column_types=_column_types(set_column_types))
        if validate:
            source.check("Failed to validate the data.If data is inaccessible, please set validate to False.")
        elif infer_column_types:
            source.check("Failed to infer column type.If data is inaccessible, please turn off inference.")
        return TabularDataset._create(_definition(source))


class DataType(Subset):
    """A column type for ``set_column_types={"column": DataType.to_float()}``."""

    @staticmethod
    def to_string():
        """Convert to text."""
        return DataType._of("string")

    @staticmethod
    def to_long():
        """Convert to a 64-bit integer (a float column when some values are missing)."""
        return DataType._of("long")

    @staticmethod
    def to_float(decimal_mark='.'):
        """Convert to a 64-bit float; ``decimal_mark`` is "." or ","."""
        if decimal_mark not in (".", ","):
            raise UserErrorException(f"decimal_mark must be '.' or ',', got {decimal_mark!r}")
        return DataType._of("float", decimal_mark)

    @staticmethod
    def to_bool():
        """Convert to True/False ("true"/"false", "1"/"0", "yes"/"no")."""
        return DataType._of("bool")

    @staticmethod
    def to_datetime(formats=None):
        """Convert to a datetime, trying each strftime format in ``formats`` (inferred if None)."""
        if formats is not None:
            if not isinstance(formats, list):
                formats = [formats]
            if len(formats) == 0:
                formats = None
        return DataType._of("datetime", tuple(formats) if formats else None)

    @staticmethod
    def _of(kind: str, argument: Any = None) -> "DataType":
        data_type = DataType()
        data_type._type_conversion = (kind, argument)
        return data_type

    def __repr__(self):
        kind, argument = getattr(self, "_type_conversion", ("?", None))
        return f"DataType({kind}{'' if argument is None else f', {argument!r}'})"


# --------------------------------------------------------------------------- helpers


def _definition(source: Any) -> Any:
    from azureml.data.tabular_dataset import _Definition

    return _Definition(source)


def _refuse_partition_format(method: str, partition_format: Any) -> None:
    if partition_format is not None:
        raise UserErrorException(
            f"TabularDatasetFactory.{method}(partition_format=...) is not part of the azureml SDK on the embedded "
            "workspace: it reads the files at the path as they are. Leave partition_format out, or add the "
            f"column with pandas after to_pandas_dataframe(). {AZURE_HINT}")


def _parse_encoding(name: Any) -> str:
    python = _ENCODINGS.get(name.upper()) if isinstance(name, str) else None
    if python is None:
        raise UserErrorException(f"Invalid encoding '{name}'. The supported encodings are 'utf8', 'iso88591', "
                                 "'latin1', 'ascii', 'utf16', 'utf32', 'utf8bom' and 'windows1252'.")
    return python


_TYPE_ERROR = ("`set_column_types` must be a dictionary where key is column name and value is "
               ":class: azureml.data.DataType")


def _column_types(set_column_types: Any) -> tuple[tuple[str, tuple[str, Any]], ...]:
    if set_column_types is None:
        return ()
    try:
        pairs = []
        for column in set_column_types.keys():
            conversion = getattr(set_column_types[column], "_type_conversion", None)
            if not isinstance(column, str) or conversion is None:
                raise TypeError(column)
            pairs.append((column, conversion))
    except Exception:
        raise UserErrorException(_TYPE_ERROR) from None
    return tuple(pairs)


_INVALID_PATH = ('Invalid argument type for `path`. It can be single value or a list of: '
                 'string starting with "http://" or "https://", '
                 '`azureml.data.datapath.DataPath` object, '
                 'or tuple of `azureml.core.Datastore` object and string for relative path in the datastore.'
                 'Url of blob can\'t contains SAS token, please use datastore instead.')
_URL = re.compile(r"^(https?|adl|wasbs?|abfss?)://", re.IGNORECASE)


def _validate_and_normalize_path(path: Any) -> list[DataPath]:
    """azureml's accepted path forms, as DataPaths; anything else gets azureml's error."""
    if path is None:
        raise UserErrorException(_INVALID_PATH)
    items = path if isinstance(path, list) else [path]
    if not items:
        raise UserErrorException(_INVALID_PATH)
    if all(isinstance(p, str) for p in items):
        if any(not _URL.match(p) for p in items):
            raise UserErrorException(_INVALID_PATH)
        raise UserErrorException(
            f"Reading {items[0]} is not part of the azureml SDK on the embedded workspace: it has no network. "
            "Download the file, upload it to the datastore (ws.get_default_datastore().upload_files([...])) and "
            f"pass (datastore, 'folder/file.csv'). {AZURE_HINT}")
    normalized = []
    for item in items:
        if isinstance(item, DataPath):
            normalized.append(item)
        elif isinstance(item, DataReference):
            normalized.append(DataPath(item.datastore, item.path_on_datastore))
        elif isinstance(item, tuple):
            if len(item) == 2 and isinstance(item[0], AbstractDatastore) and isinstance(item[1], str):
                normalized.append(DataPath(*item))
            else:
                raise UserErrorException("Invalid tuple for path. Please make sure the tuple consists of a datastore "
                                         "and a path/SQL query")
        else:
            raise UserErrorException(_INVALID_PATH)
    return normalized
