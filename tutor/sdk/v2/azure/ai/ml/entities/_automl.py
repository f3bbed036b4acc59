"""The AutoML regression job, and how the embedded workspace runs it.

Submitting it checks the settings as Azure does (the training data an MLTable with the target
column, a primary metric for regression, limits within range), then starts the search as a
parent run in this process, in the background; ``jobs.stream`` waits for it. The best trial's
fitted pipeline is saved as ``outputs/model.pkl`` on the parent and the best child, whose id the
parent's tag ``automl_best_child_run_id`` names (read it with ``mlflow.get_run``).
"""

from __future__ import annotations

from azure.ai.ml._embedded import backend, invalid
from azure.ai.ml.entities._job import Job  # type: ignore[attr-defined]  # ours, not the installed package

__all__ = ["RegressionJob"]

_METRICS = ("spearman_correlation", "normalized_root_mean_squared_error", "r2_score", "normalized_mean_absolute_error")
_MIN_TIMEOUT_MINUTES = 15


class _Settings:
    """A settings object of an AutoML job: its fields as attributes, as azure-ai-ml's are."""

    _FIELDS: tuple[str, ...] = ()

    def __init__(self, **values):
        for field in self._FIELDS:
            setattr(self, field, values.get(field))

    def __repr__(self) -> str:
        shown = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._FIELDS if getattr(self, f) is not None)
        return f"{type(self).__name__}({shown})"


class TabularLimitSettings(_Settings):
    """``job.limits``: the search's time and trial limits (set_limits)."""

    _FIELDS = ("enable_early_termination", "exit_score", "max_concurrent_trials", "max_cores_per_trial", "max_nodes",
               "max_trials", "timeout_minutes", "trial_timeout_minutes")


class TabularFeaturizationSettings(_Settings):
    """``job.featurization``: how columns are turned into features (set_featurization)."""

    _FIELDS = ("mode",)


class RegressionTrainingSettings(_Settings):
    """``job.training``: which models and ensembles the search tries (set_training)."""

    _FIELDS = ("enable_model_explainability", "enable_stack_ensemble", "enable_vote_ensemble",
               "allowed_training_algorithms", "blocked_training_algorithms")


class RegressionJob(Job):
    """An AutoML regression job: its data, limits, featurization and training settings."""

    def __init__(self, *, primary_metric=None, **kwargs):
        fields = {k: kwargs.pop(k) for k in ("name", "display_name", "description", "tags", "properties",
                                             "experiment_name", "compute", "services") if k in kwargs}
        super().__init__(**fields, **kwargs)
        self.type, self.task_type = "automl", "regression"
        self.primary_metric = primary_metric or "normalized_root_mean_squared_error"
        self.training_data = None
        self.target_column_name = None
        self.validation_data = None
        self.test_data = None
        self.n_cross_validations = None
        self.limits = TabularLimitSettings()
        self.featurization = TabularFeaturizationSettings()
        self.training = RegressionTrainingSettings()

    def set_data(self, *, training_data, target_column_name, weight_column_name=None, validation_data=None,
                 validation_data_size=None, n_cross_validations=None, cv_split_column_names=None, test_data=None,
                 test_data_size=None):
        self.training_data = training_data
        self.target_column_name = target_column_name
        self.validation_data = validation_data
        self.test_data = test_data
        self.n_cross_validations = n_cross_validations
        for name, value in (("weight_column_name", weight_column_name), ("validation_data_size", validation_data_size),
                            ("cv_split_column_names", cv_split_column_names), ("test_data", test_data),
                            ("test_data_size", test_data_size)):
            if value is not None:
                raise invalid(f"{name}= is not supported by the embedded workspace's AutoML; leave it out.")

    def set_limits(self, *, enable_early_termination=None, exit_score=None, max_concurrent_trials=None,
                   max_cores_per_trial=None, max_nodes=None, max_trials=None, timeout_minutes=None,
                   trial_timeout_minutes=None):
        self.limits = TabularLimitSettings(
            enable_early_termination=enable_early_termination, exit_score=exit_score,
            max_concurrent_trials=max_concurrent_trials, max_cores_per_trial=max_cores_per_trial, max_nodes=max_nodes,
            max_trials=max_trials, timeout_minutes=timeout_minutes, trial_timeout_minutes=trial_timeout_minutes)

    def set_featurization(self, *, blocked_transformers=None, column_name_and_types=None, dataset_language=None,
                          transformer_params=None, mode=None, enable_dnn_featurization=None):
        if any(v is not None for v in (blocked_transformers, column_name_and_types, dataset_language,
                                       transformer_params, enable_dnn_featurization)):
            raise invalid("The embedded workspace's AutoML takes set_featurization(mode=\"auto\"|\"off\") only.")
        if mode not in (None, "auto", "off"):
            raise invalid(f"set_featurization(mode={mode!r}): pass \"auto\" or \"off\".")
        self.featurization = TabularFeaturizationSettings(mode=mode or "auto")

    def set_training(self, *, enable_onnx_compatible_models=None, enable_dnn_training=None,
                     enable_model_explainability=None, enable_stack_ensemble=None, enable_vote_ensemble=None,
                     stack_ensemble_settings=None, ensemble_model_download_timeout=None,
                     allowed_training_algorithms=None, blocked_training_algorithms=None, training_mode=None):
        if enable_model_explainability is None:  # regression(enable_model_explainability=...) still holds
            enable_model_explainability = self.training.enable_model_explainability
        self.training = RegressionTrainingSettings(
            enable_model_explainability=enable_model_explainability, enable_stack_ensemble=enable_stack_ensemble,
            enable_vote_ensemble=enable_vote_ensemble, allowed_training_algorithms=allowed_training_algorithms,
            blocked_training_algorithms=blocked_training_algorithms)


def _frame(local, job):
    from azure.ai.ml import Input
    from azure.ai.ml.operations._data_operations import local_path

    data = job.training_data
    if not isinstance(data, Input) or data.type != "mltable" or not data.path:
        raise invalid("training_data must be Input(type=AssetTypes.MLTABLE, path=\"azureml:<data asset>@latest\"): "
                      "AutoML reads an MLTable data asset.")
    _, entity = local_path(local, data.path)
    if entity.type != "mltable":
        raise invalid(f"training_data {data.path} is a {entity.type} data asset; AutoML needs an MLTable one "
                      "(register the folder with its MLTable file as AssetTypes.MLTABLE).")
    from azure.ai.ml._embedded import reference, translate, version_arg

    name, version = reference(data.path, "data asset")
    with translate():
        frame = local.get_dataset(name, version_arg(version)).to_pandas_dataframe()
    if job.target_column_name not in frame.columns:
        raise invalid(f"target_column_name {job.target_column_name!r} is not a column of {data.path} (its columns: "
                      f"{', '.join(map(str, frame.columns))}).")
    return frame, f"{name}:{version}"


def _snake(metric):
    """A metric as "normalized_root_mean_squared_error", given so or as its enum / "NormalizedRootMeanSquaredError"."""
    import re

    text = str(getattr(metric, "value", metric))
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", text).lower()


def submit(ml_client, job, experiment):
    """Check the job's settings, then start its search; the parent run's record."""
    from azureml.train.automl import AutoMLConfig
    from azureml.train.automl.run import _start

    local = backend(ml_client)
    job.primary_metric = _snake(job.primary_metric)
    if job.primary_metric not in _METRICS:
        raise invalid(f"primary_metric={job.primary_metric!r} is not a regression metric: use one of "
                      f"{', '.join(_METRICS)}.")
    limits, training = job.limits, job.training
    minutes = limits.timeout_minutes
    if minutes is not None and minutes < _MIN_TIMEOUT_MINUTES:
        raise invalid(f"set_limits(timeout_minutes={minutes}): AutoML needs at least {_MIN_TIMEOUT_MINUTES} "
                      "minutes (the embedded workspace then shortens the search to fit this machine).")
    if job.compute:
        targets = {t.name: t for t in local.list_compute()}
        if job.compute not in targets:
            from azure.core.exceptions import ResourceNotFoundError

            raise ResourceNotFoundError(f"Compute {job.compute} was not found in this workspace.")
    frame, dataset = _frame(local, job)
    folds = job.n_cross_validations
    early = limits.enable_early_termination
    settings = dict(task="regression", training_data=frame, label_column_name=job.target_column_name,
                    primary_metric=job.primary_metric, n_cross_validations=folds,
                    featurization=job.featurization.mode or "auto",
                    model_explainability=bool(training.enable_model_explainability),
                    enable_early_stopping=True if early is None else bool(early))
    if minutes is not None:
        settings["experiment_timeout_hours"] = minutes / 60
    if limits.trial_timeout_minutes is not None:
        settings["iteration_timeout_minutes"] = limits.trial_timeout_minutes
    if limits.max_concurrent_trials is not None:
        settings["max_concurrent_iterations"] = limits.max_concurrent_trials
    for key in ("allowed_training_algorithms", "blocked_training_algorithms"):
        if getattr(training, key) is not None:
            settings[key.replace("training_algorithms", "models")] = getattr(training, key)
    config = AutoMLConfig(**settings)
    engine = config._engine_config(frame, config._checked_settings())
    tags = {"dataset": dataset, "compute_target": job.compute or "serverless",
            **{str(k): str(v) for k, v in job.tags.items()}}
    return _start(ml_client, experiment, engine, job.primary_metric, False, tags)


def wait(local, name):
    """Wait for a search started in this process; its parent run's record when it ends."""
    import time

    from azureml.train.automl.run import _SEARCHES

    search = _SEARCHES.get(name)
    if search is not None:
        search.done.wait()
    record = local.get_run(name)
    while not record.status.is_terminal:  # a search of another process: poll its parent run
        time.sleep(0.5)
        record = local.get_run(name)
    for child in local.get_children(name):
        metric = child.tags.get("learner", "")
        print(f"{child.display_name or child.id}  {child.status}  {metric}", flush=True)
    return record
