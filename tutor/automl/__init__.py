"""AutoML for the day 2 lessons: Azure AutoML's behaviour, run on this machine.

The engine is independent of the workspace: it takes an :class:`AutoMLConfig` whose
``training_data`` is a DataFrame, searches learners and hyperparameters (FLAML's CFO over
LightGBM, XGBoost and scikit-learn models) within the time budget, reports each iteration
as a :class:`ChildRun`, ends with VotingEnsemble/StackEnsemble children, and hands back the
best child with a fitted, picklable model that takes raw columns.

Typical use (what the workspace glue and the bench do)::

    from tutor.automl import AutoMLConfig, run_automl, evaluate_regression

    config = AutoMLConfig(task="regression", primary_metric="spearman_correlation",
                          training_data=train_df, label_column_name="totalAmount",
                          n_cross_validations=5, experiment_timeout_minutes=2)
    result = run_automl(config, on_child=print)
    best_run, model = result.get_output()
    print(evaluate_regression(test_df["totalAmount"], model.predict(test_df)))
"""

from tutor.automl.config import AutoMLConfig, AutoMLConfigError, ValidatedSettings
from tutor.automl.learners import LEARNERS
from tutor.automl.metrics import (
    AZURE_BEST_MAPE,
    AZURE_BEST_RMSE,
    PRIMARY_METRICS,
    RegressionEvaluation,
    evaluate_regression,
    regression_metrics,
)
from tutor.automl.pipeline import AutoMLPipeline, StackEnsembleRegressor, VotingEnsembleRegressor
from tutor.automl.records import ChildRun, FeatureImportance
from tutor.automl.search import AutoML, AutoMLError, AutoMLResult, run_automl

#: Azure's names of the models this engine can search (for forms and error messages).
MODEL_NAMES: tuple[str, ...] = tuple(LEARNERS)

__all__ = [
    "AZURE_BEST_MAPE",
    "AZURE_BEST_RMSE",
    "MODEL_NAMES",
    "PRIMARY_METRICS",
    "AutoML",
    "AutoMLConfig",
    "AutoMLConfigError",
    "AutoMLError",
    "AutoMLPipeline",
    "AutoMLResult",
    "ChildRun",
    "FeatureImportance",
    "RegressionEvaluation",
    "StackEnsembleRegressor",
    "ValidatedSettings",
    "VotingEnsembleRegressor",
    "evaluate_regression",
    "regression_metrics",
    "run_automl",
]
