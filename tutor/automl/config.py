"""AutoMLConfig: what the learner asks AutoML to do, with Azure's names.

Day 2 step 7 of the course builds ``AutoMLConfig(task="regression", primary_metric=...,
n_cross_validations=5, ...)`` in a notebook, and day 2 step 1 fills the same settings in
the studio's form. Keeping Azure's parameter names means the code a learner writes for
the tutor is the code they would write for Azure.

:meth:`AutoMLConfig.validate` checks everything that can be checked before any model is
trained and raises :class:`AutoMLConfigError` (a :class:`~tutor.errors.TutorError`) that
says what is wrong and how to fix it: on Azure these mistakes cost a cluster start-up and
a failed run twenty minutes later; here they cost nothing.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from tutor.automl.featurize import auto_purpose, is_numeric_column, normalize_purpose
from tutor.automl.learners import LEARNERS, resolve_model_names
from tutor.automl.metrics import DEFAULT_PRIMARY_METRIC, PRIMARY_METRICS
from tutor.errors import TutorError

#: Each cross-validation fold must hold out at least this many rows to score a model on.
MIN_ROWS_PER_FOLD = 10
#: Below this many labelled rows there is nothing to search over.
MIN_TRAINING_ROWS = 20
#: Budget when neither experiment_timeout_minutes nor _hours is given (Azure's default is
#: days; a tutor session is not).
DEFAULT_BUDGET_MINUTES = 15.0
#: Budgets from this size up start the search at the learners' sensible starting configs;
#: smaller ones start at FLAML's cheapest corner so that something finishes in time.
STARTING_POINTS_MIN_BUDGET_S = 15.0


class AutoMLConfigError(TutorError):
    """An AutoML setting that cannot work, found before any training starts."""


def min_iteration_seconds(n_rows: int, n_folds: int) -> float:
    """A floor for one iteration on this data: the cheapest learner's smallest config.

    Measured on this project's 2-core machine: a 4-tree LightGBM on 15k rows fits in a few
    milliseconds, featurizing and scoring a fold in a few more, so the per-row term is tiny
    and the constant (process warm-up, first imports of a learner's library) dominates.
    """
    return 0.5 + 2e-6 * n_rows * max(1, n_folds)


@dataclass
class ValidatedSettings:
    """The config resolved into what the engine runs: frames, splits, budget, learners.

    ``X``/``y`` hold every row the search may use. ``splits`` are (train rows, scored rows)
    pairs: the CV folds, or a single pair when validation data (given or split off) is
    used. ``refit_rows`` are the rows the final model is refitted on.
    """

    primary_metric: str
    X: pd.DataFrame
    y: np.ndarray
    splits: list[tuple[np.ndarray, np.ndarray]]
    refit_rows: np.ndarray
    validation: str
    budget_s: float
    iteration_timeout_s: float
    learners: list[str]
    featurization: str | dict[str, str]
    early_stopping: bool
    early_stopping_n_iters: int
    concurrency: int
    explain: bool
    voting_ensemble: bool
    stack_ensemble: bool
    ensemble_iterations: int
    random_state: int
    use_starting_points: bool
    notes: list[str] = field(default_factory=list)

    @property
    def scored_rows(self) -> np.ndarray:
        """Rows that get an out-of-fold prediction (all rows under CV)."""
        return np.unique(np.concatenate([valid for _, valid in self.splits]))

    @property
    def y_range(self) -> tuple[float, float]:
        """Label range of the training rows: Azure normalizes errors by its width."""
        y = self.y[self.refit_rows]
        return float(np.min(y)), float(np.max(y))


@dataclass
class AutoMLConfig:
    """Azure AutoML's settings for a regression experiment (v1 SDK names).

    ``training_data`` is a DataFrame holding the features and the label column (or any
    object with ``to_pandas_dataframe()``, like a registered tabular dataset).
    ``featurization`` is ``"auto"``, ``"off"`` or ``{column: purpose}`` with purposes
    Numeric, Categorical, DateTime or Ignore. ``n_cross_validations`` and
    ``validation_data`` are alternatives; with neither, Azure's rule applies (10 folds under
    1,000 rows, 3 folds up to 20,000, a 10% validation split above).
    """

    task: str = "regression"
    primary_metric: str = DEFAULT_PRIMARY_METRIC
    training_data: Any = None
    label_column_name: str | None = None
    n_cross_validations: int | None = None
    validation_data: Any = None
    featurization: str | Mapping[str, str] = "auto"
    blocked_models: Sequence[str] | None = None
    allowed_models: Sequence[str] | None = None
    iteration_timeout_minutes: float | None = None
    experiment_timeout_minutes: float | None = None
    experiment_timeout_hours: float | None = None
    enable_early_stopping: bool = True
    #: Stop after this many iterations without a new best (counted after 20 iterations,
    #: as Azure does). Azure's default of 10 suits its minutes-long iterations; ours take
    #: about a second, so the default window is wider.
    early_stopping_n_iters: int = 20
    max_concurrent_iterations: int = 1
    model_explainability: bool = True
    enable_voting_ensemble: bool = True
    enable_stack_ensemble: bool = True
    ensemble_iterations: int = 15
    random_state: int = 0

    # -- validation ------------------------------------------------------------------------
    def validate(self) -> ValidatedSettings:
        """Check every setting against the data; raise AutoMLConfigError before any work."""
        if str(self.task).lower() != "regression":
            raise AutoMLConfigError(
                f"AutoML task {self.task!r} is not supported here: this course predicts a fare, a number.",
                "Use task='regression' (classification and forecasting need Azure itself).")
        if self.primary_metric not in PRIMARY_METRICS:
            raise AutoMLConfigError(
                f"{self.primary_metric!r} is not a primary metric for regression.",
                f"Choose one of: {', '.join(PRIMARY_METRICS)}.")
        frame = _as_dataframe(self.training_data, "training_data")
        label = self.label_column_name
        if not label:
            raise AutoMLConfigError("No label column given.",
                                    "Set label_column_name to the column to predict, e.g. 'totalAmount'.")
        if label not in frame.columns:
            raise AutoMLConfigError(
                f"The label column {label!r} is not in the training data.",
                f"Pick one of its columns: {', '.join(map(str, frame.columns))}.")
        notes: list[str] = []
        frame = _checked_label(frame, label, "training data", notes)
        features = [c for c in frame.columns if c != label]
        if not features:
            raise AutoMLConfigError("The training data has no feature column besides the label.",
                                    "Register a dataset with at least one input column.")
        featurization = self._checked_featurization(frame[features])

        learners = self._checked_learners()
        budget_s = self._budget_seconds()

        # Validation scheme.
        n_rows = len(frame)
        if self.n_cross_validations is not None and self.validation_data is not None:
            raise AutoMLConfigError("Both n_cross_validations and validation_data are set.",
                                    "Use one: cross-validation folds, or a separate validation dataset.")
        rng = np.random.default_rng(self.random_state)
        if self.validation_data is not None:
            valid = _as_dataframe(self.validation_data, "validation_data")
            missing = [c for c in [*features, label] if c not in valid.columns]
            if missing:
                raise AutoMLConfigError(
                    f"The validation data lacks the column(s) {', '.join(map(str, missing))}.",
                    "Split the validation data from the same prepared table as the training data.")
            valid = _checked_label(valid[[*features, label]], label, "validation data", notes)
            if len(valid) < MIN_ROWS_PER_FOLD:
                raise AutoMLConfigError(
                    f"The validation data has {len(valid)} rows; at least {MIN_ROWS_PER_FOLD} are needed.",
                    "Use a larger validation split, or n_cross_validations instead.")
            if n_rows < MIN_TRAINING_ROWS:
                raise AutoMLConfigError(
                    f"The training data has {n_rows} labelled rows; at least {MIN_TRAINING_ROWS} are needed.",
                    "Use more data.")
            combined = pd.concat([frame[[*features, label]], valid], ignore_index=True)
            train_rows = np.arange(n_rows)
            splits = [(train_rows, np.arange(n_rows, len(combined)))]
            refit_rows = train_rows
            validation = "validation data"
            n_folds_for_cost = 1
        else:
            folds = self.n_cross_validations
            if folds is None:
                if n_rows > 20_000:
                    folds = 0
                else:
                    folds = 10 if n_rows < 1_000 else 3
                    notes.append(f"no validation given: {folds}-fold cross-validation (Azure's rule for "
                                 f"{n_rows:,} rows)")
            if folds != 0 and (not isinstance(folds, (int, np.integer)) or isinstance(folds, bool) or folds < 2):
                raise AutoMLConfigError(f"n_cross_validations must be a whole number of at least 2, not {folds!r}.",
                                        "Use e.g. n_cross_validations=5.")
            needed = max(MIN_TRAINING_ROWS, MIN_ROWS_PER_FOLD * max(int(folds), 2))
            if n_rows < needed:
                raise AutoMLConfigError(
                    f"The training data has {n_rows} labelled rows: too few for "
                    f"{folds or 'a validation split'}" + (" folds" if folds else "")
                    + f" (each fold must hold out at least {MIN_ROWS_PER_FOLD} rows; {needed} rows needed).",
                    "Use fewer folds or more data.")
            combined = frame[[*features, label]].reset_index(drop=True)
            order = rng.permutation(n_rows)
            if folds == 0:
                cut = int(round(n_rows * 0.1))
                splits = [(np.sort(order[cut:]), np.sort(order[:cut]))]
                validation = "10% validation split"
                notes.append(f"no validation given: a 10% validation split (Azure's rule for {n_rows:,} rows)")
                n_folds_for_cost = 1
            else:
                parts = np.array_split(order, int(folds))
                splits = [(np.sort(np.concatenate(parts[:i] + parts[i + 1:])), np.sort(parts[i]))
                          for i in range(int(folds))]
                validation = f"{int(folds)}-fold cross-validation"
                n_folds_for_cost = int(folds)
            refit_rows = np.arange(n_rows)

        floor = min_iteration_seconds(len(refit_rows), n_folds_for_cost)
        if budget_s < 2 * floor:
            raise AutoMLConfigError(
                f"An experiment timeout of {budget_s:.1f} s is too short for even one iteration on "
                f"{len(refit_rows):,} rows with {validation} (it needs about {2 * floor:.1f} s: one "
                "iteration and the final fit).",
                f"Give experiment_timeout_minutes at least {math.ceil(2 * floor) / 60:.2f}.")
        iteration_timeout_s = budget_s
        if self.iteration_timeout_minutes is not None:
            iteration_timeout_s = _positive_minutes(self.iteration_timeout_minutes, "iteration_timeout_minutes") * 60
            if iteration_timeout_s < floor:
                raise AutoMLConfigError(
                    f"An iteration timeout of {iteration_timeout_s:.1f} s is shorter than one iteration "
                    f"needs here (about {floor:.1f} s).",
                    f"Give iteration_timeout_minutes at least {math.ceil(floor) / 60:.2f}.")
        concurrency = self.max_concurrent_iterations
        if not isinstance(concurrency, (int, np.integer)) or isinstance(concurrency, bool) or concurrency < 1:
            raise AutoMLConfigError(f"max_concurrent_iterations must be a whole number >= 1, not {concurrency!r}.",
                                    "Use 1 (one iteration at a time) up to the number of cores.")
        cpus = os.cpu_count() or 1
        if concurrency > cpus:
            notes.append(f"max_concurrent_iterations {concurrency} capped at this machine's {cpus} cores")
            concurrency = cpus
        if self.early_stopping_n_iters < 1:
            raise AutoMLConfigError("early_stopping_n_iters must be at least 1.",
                                    "Use e.g. 20, or enable_early_stopping=False.")
        if self.ensemble_iterations < 1:
            raise AutoMLConfigError("ensemble_iterations must be at least 1.", "Azure's default is 15.")

        return ValidatedSettings(
            primary_metric=self.primary_metric,
            X=combined[features],
            y=combined[label].to_numpy(dtype=float),
            splits=splits,
            refit_rows=refit_rows,
            validation=validation,
            budget_s=budget_s,
            iteration_timeout_s=min(iteration_timeout_s, budget_s),
            learners=learners,
            featurization=featurization,
            early_stopping=bool(self.enable_early_stopping),
            early_stopping_n_iters=int(self.early_stopping_n_iters),
            concurrency=int(concurrency),
            explain=bool(self.model_explainability),
            voting_ensemble=bool(self.enable_voting_ensemble),
            stack_ensemble=bool(self.enable_stack_ensemble),
            ensemble_iterations=int(self.ensemble_iterations),
            random_state=int(self.random_state),
            use_starting_points=budget_s >= STARTING_POINTS_MIN_BUDGET_S,
            notes=notes,
        )

    def _budget_seconds(self) -> float:
        minutes = self.experiment_timeout_minutes
        hours = self.experiment_timeout_hours
        if minutes is not None and hours is not None:
            m = _positive_minutes(minutes, "experiment_timeout_minutes")
            h = _positive_minutes(hours, "experiment_timeout_hours")
            if not math.isclose(m, h * 60, rel_tol=1e-6):
                raise AutoMLConfigError(
                    f"experiment_timeout_minutes={minutes} and experiment_timeout_hours={hours} disagree.",
                    "Give only one of them.")
        if minutes is not None:
            return _positive_minutes(minutes, "experiment_timeout_minutes") * 60
        if hours is not None:
            return _positive_minutes(hours, "experiment_timeout_hours") * 3600
        return DEFAULT_BUDGET_MINUTES * 60

    def _checked_learners(self) -> list[str]:
        try:
            allowed = resolve_model_names(list(self.allowed_models or []), for_allowed=True)
            blocked = resolve_model_names(list(self.blocked_models or []), for_allowed=False)
        except ValueError as exc:
            raise AutoMLConfigError(f"Bad model name: {exc}.", "Use Azure's model names as listed.") from exc
        pool = allowed or list(LEARNERS)
        learners = [name for name in LEARNERS if name in pool and name not in blocked]
        if not learners:
            raise AutoMLConfigError(
                "Every model is blocked: " + (f"allowed_models {allowed} are all in blocked_models."
                                              if allowed else "blocked_models lists them all."),
                f"Unblock at least one of: {', '.join(LEARNERS)}.")
        return learners

    def _checked_featurization(self, features: pd.DataFrame) -> str | dict[str, str]:
        spec = self.featurization
        if isinstance(spec, str):
            if spec not in ("auto", "off"):
                raise AutoMLConfigError(f"featurization must be 'auto', 'off' or a dict of column purposes, not {spec!r}.",
                                        "Use featurization='auto' unless you need to override a column's type.")
            if spec == "off":
                text = [str(c) for c in features.columns if not is_numeric_column(features[c])]
                if text:
                    raise AutoMLConfigError(
                        f"featurization='off' needs numeric columns, but {', '.join(text)} "
                        f"{'is' if len(text) == 1 else 'are'} not numeric.",
                        "Use featurization='auto', or convert those columns to numbers first.")
            purposes: dict[str, str] = {str(c): ("Numeric" if spec == "off" else auto_purpose(features[c]))
                                        for c in features.columns}
        elif isinstance(spec, Mapping):
            unknown = [str(c) for c in spec if c not in features.columns]
            if unknown:
                raise AutoMLConfigError(
                    f"featurization names column(s) that are not features: {', '.join(unknown)}.",
                    f"Feature columns are: {', '.join(map(str, features.columns))} (the label cannot be featurized).")
            try:
                overrides: dict[str, str] = {str(c): normalize_purpose(p) for c, p in spec.items()}
            except ValueError as exc:
                raise AutoMLConfigError(f"Bad featurization: {exc}.",
                                        "Give each column one of those purposes, or use featurization='auto'.") from exc
            purposes = {str(c): overrides.get(str(c)) or auto_purpose(features[c]) for c in features.columns}
            spec = overrides
        else:
            raise AutoMLConfigError("featurization must be 'auto', 'off' or a dict {column: purpose}.",
                                    "For example featurization={'vendorID': 'Categorical'}.")
        if all(p == "Ignore" for p in purposes.values()):
            raise AutoMLConfigError("Featurization leaves no usable column (all are empty, constant or ignored).",
                                    "Check the dataset, or set column purposes explicitly.")
        return spec


def _as_dataframe(data: Any, name: str) -> pd.DataFrame:
    if data is None:
        raise AutoMLConfigError(f"No {name} given.", f"Pass the registered dataset (or a DataFrame) as {name}.")
    if hasattr(data, "to_pandas_dataframe") and not isinstance(data, pd.DataFrame):
        data = data.to_pandas_dataframe()
    if not isinstance(data, pd.DataFrame):
        raise AutoMLConfigError(f"{name} must be a tabular dataset or a pandas DataFrame, not {type(data).__name__}.",
                                "Pass the registered dataset, or its to_pandas_dataframe().")
    if data.empty:
        raise AutoMLConfigError(f"The {name} is empty.", "Check that the dataset was registered with its rows.")
    return data


def _checked_label(frame: pd.DataFrame, label: str, what: str, notes: list[str]) -> pd.DataFrame:
    column = frame[label]
    if pd.api.types.is_bool_dtype(column.dtype) or not pd.api.types.is_numeric_dtype(column.dtype):
        sample = ", ".join(repr(v) for v in column.dropna().head(3).tolist())
        parses = column.dropna().size > 0 and pd.to_numeric(column.dropna().astype(str), errors="coerce").notna().all()
        fix = (f"Its values look numeric: convert it with pd.to_numeric(df[{label!r}]) before registering."
               if parses else "Regression predicts numbers: choose a numeric label column.")
        raise AutoMLConfigError(
            f"The label column {label!r} in the {what} is not numeric (dtype {column.dtype}, e.g. {sample}).", fix)
    missing = int(column.isna().sum())
    if missing == len(frame):
        raise AutoMLConfigError(f"The label column {label!r} in the {what} has no values.",
                                "Check the label column name and that the dataset was prepared.")
    if missing:
        notes.append(f"{missing} row(s) of the {what} have no label and are left out")
        frame = frame[column.notna()]
    if not np.isfinite(frame[label].to_numpy(dtype=float)).all():
        raise AutoMLConfigError(f"The label column {label!r} in the {what} has infinite values.",
                                "Remove or fix those rows.")
    if frame[label].nunique() < 2:
        raise AutoMLConfigError(f"The label column {label!r} in the {what} is constant: there is nothing to learn.",
                                "Choose a label that varies from row to row.")
    return frame


def _positive_minutes(value: Any, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise AutoMLConfigError(f"{name} must be a number, not {value!r}.", f"For example {name}=2.") from None
    if not math.isfinite(number) or number <= 0:
        raise AutoMLConfigError(f"{name} must be positive, not {value!r}.", f"For example {name}=2.")
    return number
