"""``azure.ai.ml.entities.Environment``: a Docker image plus a conda specification."""

from __future__ import annotations

from azure.ai.ml._embedded import Subset

__all__ = ["Environment"]


class Environment(Subset):
    """An environment: ``image`` and ``conda_file`` (a path to a conda YAML, or the same as a dict)."""

    def __init__(self, *, name=None, version=None, description=None, image=None, build=None, conda_file=None,
                 tags=None, properties=None, datastore=None, **kwargs):
        self.name = name
        self.version = None if version is None else str(version)
        self.description = description
        self.image = image
        self.build = build
        self.conda_file = conda_file
        self.tags = dict(tags or {})
        self.properties = dict(properties or {})
        self._id = kwargs.get("id")

    @property
    def id(self):
        return self._id

    def __repr__(self) -> str:
        return f"Environment(name={self.name!r}, version={self.version!r}, image={self.image!r})"
