"""``azureml.core.Dataset``: ``Dataset.Tabular`` (the factory) and ``Dataset.get_by_name``.

As in azureml-core, ``Dataset`` is the entry point: ``Dataset.Tabular.from_delimited_files``
/ ``from_parquet_files`` make a :class:`~azureml.data.TabularDataset`, and
``Dataset.get_by_name`` / ``get_by_id`` fetch a registered one. The deprecated v0 API
(``Dataset.from_pandas_dataframe``, ``Dataset.get``...) and ``Dataset.File`` are not on the
embedded workspace.
"""

from __future__ import annotations

from azureml._embedded import Subset
from azureml.data.abstract_dataset import AbstractDataset

__all__ = ["Dataset"]


class Dataset(Subset):
    """Where datasets come from: ``Dataset.Tabular`` and the registered ones by name or id."""

    Tabular = AbstractDataset.Tabular
    get_by_name = AbstractDataset.get_by_name
    get_by_id = AbstractDataset.get_by_id
