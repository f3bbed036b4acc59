"""Remote AutoML on Azure, when azureml-train-automl-client is installed.

The tutor's AutoML lessons run on its own local engine (``tutor.automl``) everywhere;
on an Azure workspace the learner may instead submit the course's ``AutoMLConfig`` to
a cluster, as the original course does, if the (large) client package is installed.
:func:`automl_available` says whether it is; :func:`submit_automl` submits or explains.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from tutor.errors import TutorError

AUTOML_PACKAGE = "azureml-train-automl-client"

# The course's settings (day 2, step 7).
COURSE_SETTINGS: dict[str, Any] = {
    "task": "regression",
    "primary_metric": "spearman_correlation",
    "featurization": "auto",
    "n_cross_validations": 5,
    "iteration_timeout_minutes": 2,
    "experiment_timeout_hours": 0.3,
    "enable_early_stopping": True,
}


def automl_available() -> bool:
    """Whether ``azureml.train.automl`` (from azureml-train-automl-client) can be imported."""
    try:
        return importlib.util.find_spec("azureml.train.automl") is not None
    except (ImportError, ValueError):
        return False


def unavailable_error() -> TutorError:
    return TutorError(
        f"Remote AutoML on Azure needs the package {AUTOML_PACKAGE}, which is not installed.",
        f"The tutor runs AutoML with its own local engine instead (same settings, on this machine). "
        f"To submit to your Azure cluster as the original course does, `pip install {AUTOML_PACKAGE}` "
        "(Python 3.8-3.11; it pins older pandas/scikit-learn, so prefer a separate environment).",
    )


def submit_automl(workspace: Any, experiment: str, training_dataset: str, label_column: str,
                  compute_target: str, **settings: Any) -> Any:
    """Submit ``AutoMLConfig(task="regression", ...)`` to ``compute_target``; returns the run record.

    ``training_dataset`` is a registered dataset name (``name`` or ``name:version``);
    ``settings`` override the course's :data:`COURSE_SETTINGS`.
    """
    if not automl_available():
        raise unavailable_error()
    from azureml.train.automl import AutoMLConfig  # type: ignore[import-not-found]

    name, _, version = training_dataset.partition(":")
    dataset = workspace._find_dataset(name, version or "latest")
    config = AutoMLConfig(training_data=dataset, label_column_name=label_column,
                          compute_target=compute_target, **{**COURSE_SETTINGS, **settings})
    handle = workspace._experiment_handle(experiment)
    run = workspace._call(f"submitting AutoML to '{compute_target}'", workspace.service.submit, handle, config, {})
    workspace._runs[str(run.id)] = run
    return workspace._record(run)
