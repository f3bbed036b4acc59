"""``azure.ai.ml.Input`` and ``Output``: what a job reads and writes."""

from __future__ import annotations

from azure.ai.ml._embedded import Subset

__all__ = ["Input", "Output"]


class Input(Subset):
    """A job input: a data asset (``path="azureml:<name>@latest"``), a local file or folder, or a value."""

    def __init__(self, *, type='uri_folder', path=None, mode=None, path_on_compute=None, default=None,
                 optional=None, min=None, max=None, enum=None, description=None, datastore=None, **kwargs):
        self.type = type
        self.path = None if path is None else str(path)
        self.mode = mode
        self.path_on_compute = path_on_compute
        self.default = default
        self.optional = optional
        self.min, self.max, self.enum = min, max, enum
        self.description = description
        self.datastore = datastore

    def __repr__(self) -> str:
        return f"Input(type={self.type!r}, path={self.path!r})"


class Output(Subset):
    """A job output: a folder the job writes (``${{outputs.<name>}}`` in the command)."""

    def __init__(self, *, type='uri_folder', path=None, mode=None, description=None, **kwargs):
        self.type = type
        self.path = None if path is None else str(path)
        self.mode = mode
        self.description = description

    def __repr__(self) -> str:
        return f"Output(type={self.type!r}, path={self.path!r})"
