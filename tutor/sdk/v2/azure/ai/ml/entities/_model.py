"""``azure.ai.ml.entities.Model``: a model in the workspace's registry."""

from __future__ import annotations

from azure.ai.ml._embedded import Subset

__all__ = ["Model"]


class Model(Subset):
    """A model: ``path`` is a local file or folder, or a job's output
    (``azureml://jobs/<job name>/outputs/artifacts/paths/outputs/model.pkl``)."""

    def __init__(self, *, name=None, version=None, type=None, path=None, utc_time_created=None, flavors=None,
                 description=None, tags=None, properties=None, stage=None, default_deployment_template=None,
                 allowed_deployment_templates=None, **kwargs):
        self.name = name
        self.version = None if version is None else str(version)
        self.type = type or "custom_model"
        self.path = None if path is None else str(path)
        self.utc_time_created = utc_time_created
        self.flavors = flavors
        self.description = description
        self.tags = dict(tags or {})
        self.properties = dict(properties or {})
        self.stage = stage
        self._id = kwargs.get("id")
        self._job_name = kwargs.get("job_name")

    @property
    def id(self):
        return self._id

    def __repr__(self) -> str:
        return f"Model(name={self.name!r}, version={self.version!r}, type={self.type!r})"
