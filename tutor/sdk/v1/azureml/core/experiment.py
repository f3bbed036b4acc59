"""``azureml.core.Experiment``: a named group of runs, and how runs are submitted to it."""

from __future__ import annotations

from typing import Any

from azureml._embedded import Subset, backend, translate
from azureml.exceptions import UserErrorException

__all__ = ["Experiment"]


class Experiment(Subset):
    """An experiment of a workspace (created when first named, as on Azure)."""

    def __init__(self, workspace, name, _skip_name_validation=False, _id=None, _archived_time=None,
                 _create_in_cloud=True, _experiment_dto=None, **kwargs):
        self._workspace = workspace
        self._backend = backend(workspace)
        if not isinstance(name, str):
            raise UserErrorException(f"Experiment name must be a string, got {type(name).__name__}.")
        with translate(UserErrorException):
            self._backend.experiment(name)
        self._name = name
        self._tags: dict[str, str] = {}

    @property
    def name(self):
        return self._name

    @property
    def workspace(self):
        return self._workspace

    @property
    def id(self):
        return self._name

    @property
    def tags(self):
        return dict(self._tags)

    def submit(self, config, tags=None, **kwargs):
        """Submit a ScriptRunConfig (a run) or an AutoMLConfig (an AutoML run); returns the run."""
        from azureml.core.run import Run
        from azureml.core.script_run_config import ScriptRunConfig

        submit_automl = getattr(config, "_submit", None)
        if submit_automl is not None and not isinstance(config, ScriptRunConfig):
            return submit_automl(self, tags=tags, **kwargs)
        if not isinstance(config, ScriptRunConfig):
            raise UserErrorException(f"Experiment.submit takes a ScriptRunConfig or an AutoMLConfig, got "
                                     f"{type(config).__name__}.")
        from tutor.workspace.base import ScriptRunConfig as Submission

        environment = config.run_config.environment
        env_ref = environment._registered_ref(self._workspace) if environment is not None else None
        target = config.run_config.target
        target_name = target if isinstance(target, str) else getattr(target, "name", None)
        if target_name is None:
            raise UserErrorException(f"compute_target must be a compute target or its name, got "
                                     f"{type(target).__name__}.")
        submission = Submission(source_directory=config.source_directory, script=config.script,
                                arguments=config.arguments, environment=env_ref, compute_target=target_name,
                                tags={str(k): str(v) for k, v in (tags or {}).items()})
        with translate(UserErrorException):
            record = self._backend.submit(self._name, submission)
        return Run._wrap(self._workspace, record)

    def start_logging(self, *args, **kwargs):
        """A run this process logs to (``run.log(...)`` then ``run.complete()``)."""
        from azureml.core.run import Run

        with translate(UserErrorException):
            record = self._backend.start_logging(self._name, display_name=kwargs.get("display_name"),
                                                 tags=kwargs.get("tags"))
        return Run._wrap(self._workspace, record)

    def get_runs(self, type=None, tags=None, properties=None, include_children=False):
        """The experiment's runs, newest first (child runs only with ``include_children``)."""
        from azureml.core.run import _matches, _rehydrate

        with translate(UserErrorException):
            records = self._backend.list_runs(self._name)
        for record in sorted(records, key=lambda r: r.submitted_at, reverse=True):
            if record.parent_id is not None and not include_children:
                continue
            run = _rehydrate(self, record)
            if _matches(run, tags, None) and (type is None or run.type == type):
                yield run

    @staticmethod
    def list(workspace, experiment_name=None, view_type='ActiveOnly', tags=None):
        """The workspace's experiments (or the one called ``experiment_name``)."""
        return [Experiment(workspace, e.name) for e in backend(workspace).list_experiments()
                if experiment_name is None or e.name == experiment_name]

    def tag(self, key, value=None):
        self._tags[str(key)] = "" if value is None else str(value)

    def set_tags(self, tags):
        for key, value in dict(tags).items():
            self.tag(key, value)

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, Experiment) and (other.name, other.workspace) == (self.name, self.workspace)

    def __hash__(self) -> int:
        return hash(self._name)

    def __repr__(self):
        return f"Experiment(Name: {self._name},\nWorkspace: {self._workspace.name})"
