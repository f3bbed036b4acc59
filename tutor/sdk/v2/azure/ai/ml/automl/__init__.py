"""``azure.ai.ml.automl``: an AutoML regression job, run on the embedded workspace by its AutoML
engine (FLAML with the course's models), as a parent job with one child job per trial."""

from __future__ import annotations

__all__ = ["RegressionJob", "RegressionPrimaryMetrics", "regression"]


from enum import Enum


class RegressionPrimaryMetrics(str, Enum):
    """The metrics an AutoML regression job can optimise."""

    SPEARMAN_CORRELATION = "SpearmanCorrelation"
    NORMALIZED_ROOT_MEAN_SQUARED_ERROR = "NormalizedRootMeanSquaredError"
    R2_SCORE = "R2Score"
    NORMALIZED_MEAN_ABSOLUTE_ERROR = "NormalizedMeanAbsoluteError"


def regression(*, training_data, target_column_name, primary_metric=None, enable_model_explainability=None,
               weight_column_name=None, validation_data=None, validation_data_size=None, n_cross_validations=None,
               cv_split_column_names=None, test_data=None, test_data_size=None, **kwargs):
    """An AutoML regression job on ``training_data`` (an MLTable ``Input``), predicting ``target_column_name``."""
    from azure.ai.ml.entities._automl import RegressionJob

    job = RegressionJob(primary_metric=primary_metric, **kwargs)
    job.set_data(training_data=training_data, target_column_name=target_column_name,
                 weight_column_name=weight_column_name, validation_data=validation_data,
                 validation_data_size=validation_data_size, n_cross_validations=n_cross_validations,
                 cv_split_column_names=cv_split_column_names, test_data=test_data, test_data_size=test_data_size)
    job.training.enable_model_explainability = enable_model_explainability
    return job


def __getattr__(name):
    if name == "RegressionJob":
        from azure.ai.ml.entities._automl import RegressionJob

        return RegressionJob
    from azureml._embedded import unsupported_name

    raise unsupported_name(__name__, name, __all__)
