"""``azureml.data.abstract_dataset.AbstractDataset``: what a dataset shares, registered or not.

``Dataset.get_by_name`` / ``get_by_id`` and ``register`` live here, as in azureml-core.
A registered version is a record of the embedded workspace
(:class:`tutor.workspace.base.DatasetRecord`, written by its ``register_tabular_dataset``,
the call the course's register step makes too); its ``id`` is a stable UUID of the
workspace, name and version.
"""

from __future__ import annotations

import collections
import json
import uuid
from typing import Any

from azureml._embedded import Subset, backend
from azureml.data.dataset_factory import TabularDatasetFactory
from azureml.exceptions import UserErrorException

__all__ = ["AbstractDataset"]


class _DatasetRegistration:
    """Who a dataset is in a workspace: name, version, description, tags and its id."""

    def __init__(self, workspace, saved_id, registered_id=None, name=None, version=None, description=None,
                 tags=None):
        self.workspace = workspace
        self.saved_id = saved_id
        self.registered_id = registered_id
        self.name = name
        self.version = version
        self.description = description
        self.tags = tags

    def __repr__(self):
        return (f"DatasetRegistration(id='{self.saved_id}', name='{self.name}', version={self.version}, "
                f"description='{self.description or ''}', tags={self.tags or {}})")


def _dataset_id(local: Any, name: str, version: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"tutor-embedded-dataset:{local.path}:{name}:{version}"))


class AbstractDataset(Subset):
    """The base of TabularDataset."""

    Tabular = TabularDatasetFactory

    def __init__(self):
        if self.__class__ == AbstractDataset:
            raise UserErrorException("Cannot create instance of abstract class AbstractDataset")
        self._definition = None
        self._properties = None
        self._registration = None
        self._telemetry_info = None

    @classmethod
    def _create(cls, definition, properties=None, registration=None, telemetry_info=None, dataflow_json=None):
        dataset = cls()
        dataset._definition = definition
        dataset._properties = dict(properties or {})
        dataset._registration = registration
        dataset._telemetry_info = telemetry_info
        return dataset

    # -- getting a registered one -------------------------------------------------------

    @staticmethod
    def get_by_name(workspace, name, version='latest', **kwargs):
        """The registered dataset ``name`` (its latest version, or ``version``)."""
        from azureml.data.tabular_dataset import TabularDataset
        from tutor.errors import TutorError

        if version != "latest" and version is not None:
            try:
                version = int(version)
            except Exception:
                raise UserErrorException(f'Invalid value {version} for version. Version value must be number or '
                                         '"latest".') from None
        else:
            version = None
        local = backend(workspace)
        try:
            record = local.get_dataset(name, "latest" if version is None else version)
        except TutorError:
            # azureml's text, including its " (version: None)" for the latest version.
            raise UserErrorException(f'Cannot find dataset registered with name "{name}" (version: {version}) in '
                                     'the workspace.') from None
        return TabularDataset._from_record(workspace, record)

    @staticmethod
    def get_by_id(workspace, id, **kwargs):
        """The registered dataset version whose ``id`` this is."""
        from azureml.data.tabular_dataset import TabularDataset

        local = backend(workspace)
        for latest in local.list_datasets():
            for record in local.list_dataset_versions(latest.name):
                if _dataset_id(local, record.name, record.version) == id:
                    return TabularDataset._from_record(workspace, record)
        raise UserErrorException(f'Cannot find dataset with id "{id}" in the workspace.')

    # -- who it is ------------------------------------------------------------------------

    @property
    def id(self):
        """The registered version's id (None until registered)."""
        return None if self._registration is None else self._registration.saved_id

    @property
    def name(self):
        """The registered name (None until registered)."""
        return None if self._registration is None else self._registration.name

    @property
    def version(self):
        """The registered version (None until registered)."""
        return None if self._registration is None else self._registration.version

    @property
    def description(self):
        """The registered description."""
        return None if self._registration is None else self._registration.description

    @property
    def tags(self):
        """The registered tags."""
        return None if self._registration is None else self._registration.tags

    # -- registering ------------------------------------------------------------------------

    def register(self, workspace, name, description=None, tags=None, create_new_version=False):
        """Register this dataset as ``name`` in ``workspace``; returns the registered dataset.

        An existing name needs ``create_new_version=True`` (then the next version is made).
        """
        return self._register(workspace, name, description, tags, create_new_version)

    def _register(self, workspace, name, description=None, tags=None, create_new_version=False):
        raise NotImplementedError  # pragma: no cover - TabularDataset registers

    def __str__(self):
        return f"{type(self).__name__}\n{self.__repr__()}"

    def __repr__(self):
        content: dict[str, Any] = collections.OrderedDict()
        definition = self._definition
        if definition is not None:
            content["source"] = definition.source.describe()
            content["definition"] = definition.steps_names()
        if self._registration is not None:
            registration = collections.OrderedDict(id=self.id, name=self.name, version=self.version)
            if self.description:
                registration["description"] = self.description
            if self.tags:
                registration["tags"] = self.tags
            registration["workspace"] = repr(self._registration.workspace)
            content["registration"] = registration
        return json.dumps(content, indent=2)
