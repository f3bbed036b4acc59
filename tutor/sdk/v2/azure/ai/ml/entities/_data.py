"""``azure.ai.ml.entities.Data``: a data asset (a file, a folder or an MLTable) and its versions."""

from __future__ import annotations

from azure.ai.ml._embedded import Subset

__all__ = ["Data"]


class Data(Subset):
    """A data asset: ``path`` is a local file or folder to upload, or where the registered copy is."""

    def __init__(self, *, name=None, version=None, description=None, tags=None, properties=None, path=None,
                 type='uri_folder', **kwargs):
        self.name = name
        self.version = None if version is None else str(version)
        self.description = description
        self.tags = dict(tags or {})
        self.properties = dict(properties or {})
        self.path = None if path is None else str(path)
        self.type = type
        self._id = kwargs.get("id")
        self._creation_context = kwargs.get("creation_context")

    @property
    def id(self):
        return self._id

    @property
    def creation_context(self):
        return self._creation_context

    def __repr__(self) -> str:
        return f"Data(name={self.name!r}, version={self.version!r}, type={self.type!r}, path={self.path!r})"
