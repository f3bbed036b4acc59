"""``azureml.train.automl.automlconfig.AutoMLConfig`` on the embedded workspace.

``AutoMLConfig(...)`` takes azureml-train-automl-client 1.61's parameters and checks what
the real one checks when it is built (the task, featurization, blocked models);
``experiment.submit(automl_config, show_output=True)`` checks what Azure checks at
submission (the training data and its label column, the compute target, the primary metric
for the task, the cross-validation folds, the time budget: at least 0.25 hours), with the
same exception types and messages, then runs the embedded AutoML engine as a parent run with
one child run per iteration (:func:`tutor.automl.parent_run.run_automl_parent`, the same
function the lesson's step runs).

Time: Azure's shortest experiment is 15 minutes; on this machine the search is capped at
``TUTOR_AUTOML_MINUTES`` (2 minutes unless set), and the output says so.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

from azureml._embedded import Subset, backend
from azureml.exceptions import UserErrorException
from azureml.train.automl.exceptions import ConfigException, _config_error, _data_error, _embedded_refusal

__all__ = ["AutoMLConfig"]

logger = logging.getLogger(__name__)

#: azureml-train-automl-client's ``constants.Tasks.ALL``.
_TASKS = ["classification", "regression", "forecasting", "image-classification", "image-classification-multilabel",
         "image-multi-labeling", "image-object-detection", "image-instance-segmentation", "text-classification",
         "text-classification-multilabel", "text-ner"]
#: ``constants.Metric.REGRESSION_PRIMARY_SET`` (Azure lists it as a set, in no fixed order).
_REGRESSION_PRIMARY_METRICS = ("spearman_correlation", "normalized_root_mean_squared_error", "r2_score",
                              "normalized_mean_absolute_error")
#: AutoMLBaseSettings' limits.
_MIN_EXPTIMEOUT_MINUTES = 15
_MAXIMUM_EXPERIMENT_TIMEOUT_MINUTES = 525600
_MAXIMUM_ITERATION_TIMEOUT_MINUTES = 43200
_MAX_N_CROSS_VALIDATIONS = 1000
#: With neither a timeout nor iterations, Azure runs 1000 iterations for up to 6 days.
_DEFAULT_EXPERIMENT_TIMEOUT_MINUTES = 6 * 24 * 60
_TABULAR_DATASET = "azureml.data.tabular_dataset.TabularDataset"
_LABEL_MISSING_REFERENCE = "06328553-815b-486d-98dd-98e4c8952a7c"
_TRAINING_DATA_MISSING_REFERENCE = "155bb416-e503-4af6-87d5-0dadfa83db85"
#: The regression TensorFlow models Azure blocks unless enable_tf.
_TF_REGRESSORS = ["TensorFlowDNN", "TensorFlowLinearRegressor"]

#: Settings Azure knows besides the named parameters (AutoMLBaseSettings / AzureAutoMLSettings):
#: no "unrecognized parameter" warning for them. Those the engine uses are passed on.
_KNOWN_SETTINGS = frozenset({
    "experiment_timeout_minutes", "early_stopping_n_iters", "ensemble_iterations", "enable_feature_sweeping",
    "enable_subsampling", "subsample_seed", "enable_nimbusml", "enable_streaming", "force_streaming",
    "track_child_runs", "n_best_runs", "allowed_private_models", "scenario", "environment_label", "save_mlflow",
    "test_include_predictions_only", "run_source", "partition_column_names", "vm_type", "cost_mode",
    "show_deprecate_warnings", "enable_code_generation", "enable_batch_run", "enable_parallel_run", "num_procs",
    "enable_run_restructure", "many_models", "pipeline_fetch_max_batch_size", "force_curated_environment",
    "enable_metric_confidence", "use_distributed", "max_nodes", "node_count", "run_configuration",
    "enable_split_onnx_featurizer_estimator_models", "force_text_dnn", "auto_blacklist", "task_type",
    "enable_categorical_indicators", "start_auxiliary_runs_before_parent_complete",
})
#: Deprecated spellings the real __init__ maps, with what they become.
_DEPRECATED = {"concurrent_iterations": "max_concurrent_iterations", "max_time_sec": "iteration_timeout_minutes",
               "exit_time_sec": "experiment_timeout_minutes", "exit_score": "experiment_exit_score"}


class AutoMLConfig(Subset):
    """The settings of an automated ML experiment (submitted with ``experiment.submit``)."""

    def __init__(self, task, path=None, iterations=None, primary_metric=None, positive_label=None,
                 compute_target=None, spark_context=None, X=None, y=None, sample_weight=None, X_valid=None,
                 y_valid=None, sample_weight_valid=None, cv_splits_indices=None, validation_size=None,
                 n_cross_validations=None, y_min=None, y_max=None, num_classes=None, featurization='auto',
                 max_cores_per_iteration=1, max_concurrent_iterations=1, iteration_timeout_minutes=None,
                 mem_in_mb=None, enforce_time_on_windows=os.name == 'nt', experiment_timeout_hours=None,
                 experiment_exit_score=None, enable_early_stopping=True, blocked_models=None,
                 blacklist_models=None, exclude_nan_labels=True, verbosity=logging.INFO, enable_tf=False,
                 model_explainability=True, allowed_models=None, whitelist_models=None,
                 enable_onnx_compatible_models=False, enable_voting_ensemble=True, enable_stack_ensemble=None,
                 debug_log='automl.log', training_data=None, validation_data=None, test_data=None, test_size=None,
                 label_column_name=None, weight_column_name=None, cv_split_column_names=None,
                 enable_local_managed=False, enable_dnn=None, forecasting_parameters=None, **kwargs):
        settings: dict[str, Any] = {}
        self.user_settings = settings
        if task not in _TASKS:
            raise _config_error("InvalidArgumentWithSupportedValues", target="task_type", arguments=task,
                               supported_values=_TASKS)
        if task != "regression":
            raise _embedded_refusal(f"AutoMLConfig(task={task!r}): the embedded workspace's AutoML runs regression "
                                   "only.", "Use task='regression' (the course predicts a fare, a number).")
        if primary_metric is None:
            primary_metric = "normalized_root_mean_squared_error"
        if num_classes is not None:
            logger.warning("Parameter `num_classes` is being deprecated. Number of classes will be automatically "
                           "computed from the data.")
        if y_min is not None or y_max is not None:
            logger.warning("Parameters `y_min`, `y_max` are being deprecated. They will be automatically computed "
                           "from the data.")
        if isinstance(featurization, str) and featurization.lower() in ("off", "auto"):
            settings["featurization"] = featurization.lower()
        else:
            raise _config_error("InvalidArgumentWithSupportedValues", target="featurization",
                               arguments=featurization.lower() if isinstance(featurization, str) else featurization,
                               supported_values="off, auto")
        if "preprocess" in kwargs:
            preprocess = kwargs.pop("preprocess")
            logging.warning("Parameter `preprocess` will be deprecated. Use `featurization`")
            if settings["featurization"] == "auto" and preprocess is False:
                settings["featurization"] = "off"
        if enable_tf:
            logging.warning("Tensorflow support within AutoML is being deprecated.")
            logging.warning("tensorflow module is not installed")
        for old, new, value, current in (("blacklist_models", "blocked_models", blacklist_models, blocked_models),
                                         ("whitelist_models", "allowed_models", whitelist_models, allowed_models)):
            if value is not None:
                if current is not None and current != value:
                    raise _config_error("ConflictingValueForArguments", target=None, arguments=f"{old}/{new}")
                logging.warning(f"Parameter '{old}' will be deprecated. Use '{new}'")
        blocked_models = blocked_models if blacklist_models is None else blacklist_models
        allowed_models = allowed_models if whitelist_models is None else whitelist_models
        blocked_all = list(_TF_REGRESSORS) + list(blocked_models or [])
        if allowed_models is None:
            from tutor.automl import MODEL_NAMES

            if set(MODEL_NAMES).issubset(blocked_all):
                raise _config_error("AllowedModelsSubsetOfBlockedModels", target="allowed_models/blocked_models")
        elif set(allowed_models).issubset(blocked_all):
            raise _config_error("AllowedModelsSubsetOfBlockedModels", target="allowed_models/blocked_models")

        # What the embedded engine cannot do (Azure would): refused now rather than ignored.
        unsupported = {"spark_context": spark_context, "X": X, "y": y, "sample_weight": sample_weight,
                       "X_valid": X_valid, "y_valid": y_valid, "sample_weight_valid": sample_weight_valid,
                       "cv_splits_indices": cv_splits_indices, "validation_size": validation_size,
                       "iterations": iterations, "experiment_exit_score": experiment_exit_score,
                       "test_data": test_data, "test_size": test_size, "weight_column_name": weight_column_name,
                       "cv_split_column_names": cv_split_column_names, "forecasting_parameters": forecasting_parameters,
                       "positive_label": positive_label}
        for name, value in unsupported.items():
            if value is not None:
                raise _embedded_refusal(f"AutoMLConfig({name}=...) is not supported by the embedded workspace's AutoML.",
                                       "Pass training_data (a registered TabularDataset) with label_column_name, "
                                       "and n_cross_validations or validation_data.")
        for name, value, default in (("enable_onnx_compatible_models", enable_onnx_compatible_models, False),
                                     ("exclude_nan_labels", exclude_nan_labels, True)):
            if value != default:
                raise _embedded_refusal(f"AutoMLConfig({name}={value!r}) is not supported by the embedded workspace's "
                                       "AutoML.", f"Leave {name} at its default ({default!r}).")
        if enable_dnn:
            raise _embedded_refusal("AutoMLConfig(enable_dnn=True) is not supported by the embedded workspace's "
                                   "AutoML.", "Leave enable_dnn unset.")
        if enable_local_managed:
            logging.warning("enable_local_managed is an experimental flag to enable runs to be submitted to a "
                            "separateconda or docker environment on the local machine. Disable this flag or use a "
                            "remotecompute if you face any issues.")

        for key, value in kwargs.items():
            settings[key] = value
        for old, new in _DEPRECATED.items():
            if old in settings:
                value = settings.pop(old)
                if old in ("max_time_sec", "exit_time_sec"):
                    import math

                    value = math.ceil(value / 60)
                settings[new] = value
        settings.update(
            task_type=task, primary_metric=primary_metric, compute_target=compute_target, training_data=training_data,
            validation_data=validation_data, label_column_name=label_column_name, path=path,
            n_cross_validations=n_cross_validations, max_cores_per_iteration=max_cores_per_iteration,
            max_concurrent_iterations=settings.get("max_concurrent_iterations", max_concurrent_iterations),
            iteration_timeout_minutes=settings.get("iteration_timeout_minutes", iteration_timeout_minutes),
            mem_in_mb=mem_in_mb, enforce_time_on_windows=enforce_time_on_windows,
            enable_early_stopping=enable_early_stopping, blocked_models=blocked_models,
            allowed_models=allowed_models, verbosity=verbosity, enable_tf=False,
            model_explainability=model_explainability, enable_voting_ensemble=enable_voting_ensemble,
            enable_stack_ensemble=enable_stack_ensemble, debug_log=debug_log)
        # Azure keeps whole minutes: 0.25 h is 15 minutes, 0.249 h is 14 (too short).
        if "experiment_timeout_minutes" not in kwargs and "exit_time_sec" not in kwargs:
            settings["experiment_timeout_minutes"] = (int(experiment_timeout_hours * 60)
                                                      if experiment_timeout_hours is not None else None)
        self._unrecognized = [k for k in kwargs if k not in _KNOWN_SETTINGS and k not in _DEPRECATED]

    # -- what experiment.submit() does ------------------------------------------------------

    def _submit(self, experiment, tags=None, **kwargs):
        """Check the settings as Azure does at submission, then run the search (a parent run)."""
        from azureml.train.automl.run import AutoMLRun, _start

        show_output = bool(kwargs.get("show_output", False))
        workspace = experiment.workspace
        local = backend(workspace)
        settings = self.user_settings
        compute = self._checked_compute(workspace, local)
        minutes = self._checked_settings()
        for key in self._unrecognized:
            logging.warning(f"Received unrecognized parameter {key}")
        frame, dataset_name = self._training_frame()
        if compute != "local":
            print("Submitting remote run.", flush=True)
        engine_config = self._engine_config(frame, minutes)
        record = _start(workspace, experiment.name, engine_config, settings["primary_metric"], show_output,
                        tags={"dataset": dataset_name, "compute_target": compute,
                              **{str(k): str(v) for k, v in (tags or {}).items()}})
        return AutoMLRun._from_start(experiment, record)

    def _checked_compute(self, workspace: Any, local: Any) -> str:
        settings = self.user_settings
        training_data = settings.get("training_data")
        label = settings.get("label_column_name")
        if training_data is not None and label is None:
            raise _config_error("ArgumentBlankOrEmpty", target="label_column_name", argument_name="label_column_name")
        target = settings.get("compute_target")
        name = "local" if target is None else (target if isinstance(target, str) else getattr(target, "name", None))
        if name is None:
            raise UserErrorException(f"compute_target must be a compute target or its name, got "
                                     f"{type(target).__name__}.")
        if name != "local":
            if not _is_tabular_dataset(training_data):
                raise _config_error("InvalidInputDatatype", target="training_data",
                                   input_type=str(training_data.__class__), supported_types=_TABULAR_DATASET)
            targets = {t.name: t for t in local.list_compute()}
            if name not in targets:
                raise _config_error("ComputeNotFound", target=name, compute_name=name, workspace_name=workspace.name)
            if str(targets[name].provisioning_state) != "Succeeded":
                raise _config_error("ComputeNotReady", target=name)
        if training_data is None:
            reference = _TRAINING_DATA_MISSING_REFERENCE
            raise _config_error("ArgumentBlankOrEmpty", target="training_data", argument_name="training_data",
                               reference_code=reference)
        if not (isinstance(label, str) or (isinstance(label, int) and not _is_tabular_dataset(training_data))):
            raise _config_error("InvalidArgumentType", target="label_column_name", argument="label_column_name",
                               actual_type=type(label), expected_types="int, str")
        return name

    def _checked_settings(self) -> float:
        """AzureAutoMLSettings' checks; returns the experiment timeout in minutes."""
        settings = self.user_settings
        metric = settings["primary_metric"]
        if metric not in _REGRESSION_PRIMARY_METRICS:
            raise _config_error("InvalidArgumentWithSupportedValues", target="primary_metric",
                               arguments="primary_metric", supported_values=", ".join(_REGRESSION_PRIMARY_METRICS))
        folds = settings.get("n_cross_validations")
        if folds is not None:
            if not isinstance(folds, int) and folds != "auto":
                raise _config_error("InvalidArgumentType", target="n_cross_validations", argument="n_cross_validations",
                                   actual_type=type(folds), expected_types="int, auto")
            if isinstance(folds, int) and not 2 <= folds <= _MAX_N_CROSS_VALIDATIONS:
                raise _config_error("ArgumentOutOfRange", target="n_cross_validations",
                                   argument_name="n_cross_validations", min=2, max=_MAX_N_CROSS_VALIDATIONS)
            if folds == "auto":
                raise _embedded_refusal("n_cross_validations='auto' is for forecasting, which the embedded "
                                       "workspace does not run.", "Give a number of folds, e.g. 5.")
        concurrency = settings.get("max_concurrent_iterations")
        if concurrency is not None and concurrency < 1:
            raise _config_error("ArgumentOutOfRange", target="max_concurrent_iterations",
                               argument_name="max_concurrent_iterations", min=1, max="inf")
        iteration = settings.get("iteration_timeout_minutes")
        if iteration is not None and not 1 <= iteration <= _MAXIMUM_ITERATION_TIMEOUT_MINUTES:
            raise _config_error("ArgumentOutOfRange", target="iteration_timeout_minutes",
                               argument_name="iteration_timeout_minutes", min=1, max=_MAXIMUM_ITERATION_TIMEOUT_MINUTES)
        minutes = settings.get("experiment_timeout_minutes")
        if minutes is not None and not _MIN_EXPTIMEOUT_MINUTES <= minutes <= _MAXIMUM_EXPERIMENT_TIMEOUT_MINUTES:
            # Azure's message speaks of hours, the setting users give.
            raise _config_error("ArgumentOutOfRange", target="experiment_timeout_hours",
                               argument_name="experiment_timeout_hours", min=_MIN_EXPTIMEOUT_MINUTES / 60,
                               max=_MAXIMUM_EXPERIMENT_TIMEOUT_MINUTES / 60)
        stop_after = settings.get("early_stopping_n_iters")
        if stop_after is not None and stop_after < 0:
            raise _config_error("ArgumentOutOfRange", target="early_stopping_n_iters",
                               argument_name="early_stopping_n_iters", min=0, max="inf")
        return float(minutes) if minutes is not None else float(_DEFAULT_EXPERIMENT_TIMEOUT_MINUTES)

    def _training_frame(self) -> tuple[Any, str]:
        """The training data as a DataFrame, with the label column checked as Azure's setup does."""
        settings = self.user_settings
        data, label = settings["training_data"], settings["label_column_name"]
        if _is_tabular_dataset(data):
            frame = data.to_pandas_dataframe()
            if label not in frame.columns:
                raise _data_error("MissingColumnsInData", target="label_column_name",
                                 columns=f"{label} (label_column_name)", data_object_name="X",
                                 reference_code=_LABEL_MISSING_REFERENCE)
            return frame, str(data.name or data.id or "")
        import pandas as pd

        if not isinstance(data, pd.DataFrame):
            raise _config_error("InvalidInputDatatype", target="training_data", input_type=str(data.__class__),
                               supported_types=", ".join(["pandas.DataFrame", _TABULAR_DATASET]))
        if label not in data.columns:
            raise _data_error("MissingColumnsInData", target="X", columns=label, data_object_name="X")
        return data, "pandas.DataFrame"

    def _engine_config(self, frame: Any, minutes: float) -> Any:
        """The embedded engine's config, its budget capped for this machine (said once)."""
        from tutor.automl import AutoMLConfig as EngineConfig, AutoMLConfigError
        from tutor.automl.parent_run import BUDGET_ENV, EMBEDDED_DEFAULT_MINUTES, capped_minutes
        from tutor.errors import TutorError

        settings = self.user_settings
        try:
            budget, note = capped_minutes(minutes, EMBEDDED_DEFAULT_MINUTES)
        except TutorError as error:
            raise UserErrorException(f"{error.what} {error.fix}") from None
        if note:
            print(note, flush=True)
        validation = settings.get("validation_data")
        if _is_tabular_dataset(validation):
            validation = validation.to_pandas_dataframe()
        stack = settings.get("enable_stack_ensemble")
        options = {key: settings[key] for key in ("early_stopping_n_iters", "ensemble_iterations")
                   if settings.get(key) is not None}
        config = EngineConfig(
            task="regression", primary_metric=settings["primary_metric"], training_data=frame,
            label_column_name=settings["label_column_name"], n_cross_validations=settings.get("n_cross_validations"),
            validation_data=validation, featurization=settings["featurization"],
            blocked_models=settings.get("blocked_models"), allowed_models=settings.get("allowed_models"),
            iteration_timeout_minutes=settings.get("iteration_timeout_minutes"),
            experiment_timeout_minutes=budget, enable_early_stopping=bool(settings["enable_early_stopping"]),
            max_concurrent_iterations=int(settings.get("max_concurrent_iterations") or 1),
            model_explainability=bool(settings["model_explainability"]),
            enable_voting_ensemble=bool(settings["enable_voting_ensemble"]),
            enable_stack_ensemble=True if stack is None else bool(stack), **options)
        try:
            config.validate()
        except AutoMLConfigError as error:
            where = (f" (The embedded workspace caps the search at {budget:g} min: set {BUDGET_ENV} to give it "
                     "more.)" if note and "timeout" in error.what else "")
            raise ConfigException(f"{error.what} {error.fix}".strip() + where) from None
        return config

    def __repr__(self):
        shown = {k: v for k, v in self.user_settings.items() if k not in ("training_data", "validation_data")}
        return f"AutoMLConfig({shown})"


def _is_tabular_dataset(value: Any) -> bool:
    module = sys.modules.get("azureml.data.tabular_dataset")
    return module is not None and isinstance(value, module.TabularDataset)
