"""The learners the engine searches, under Azure AutoML's model names.

A learner here is a model family with a search space, a way to build the estimator from
one configuration, and a way to fit it that honours a deadline. The spaces and the
config-to-parameter mappings of the big families come from FLAML (its ``lgbm``,
``xgboost``, ``rf``, ``extra_tree``, ``histgb``, ``enet``, ``lassolars``, ``sgd`` and
``kneighbor`` estimators), so FLAML's cost-frugal search (CFO) walks spaces it was built
for; DecisionTree has a small space of our own.

The engine adds dimensions of its own where they apply, because they matter on noisy
tabular regression like taxi fares (a few fares are wildly off their trip, and fares grow
with distance):

* ``target_transform``: fit on the label as is, on its square root, or on ``log1p`` of it
  (offered only when the label is never negative). A compressed target makes the fit
  robust to the few huge fares; cross-validation decides whether that pays.
* ``linear_base``: fit the trees to what is left after a linear fit on those strongly
  monotone columns (both sides on the target's scale: sqrt of the distance for a sqrt
  target). Trees predict a constant beyond their last split, so alone they underprice the
  longest trips; starting from the line, they only model the bends and the noise.
  Measured on the course's training half (5-fold CV): LightGBM's RMSE 3.79 -> 3.74,
  and the 25 trips over 20 miles went from $9 underpriced on average to $0.5.
* ``loss``: squared error, or Huber's loss for the boosted trees that have it (LightGBM,
  XGBoost's pseudo-Huber). Huber's loss is squared for small residuals and linear beyond
  ``HUBER_SCALES`` robust standard deviations (1.4826 x the median absolute deviation of
  what the trees fit), so the handful of fares that are wildly off their trip pull the
  leaves less, while the bulk is still fitted for the mean. Measured on the course's
  training half (5-fold CV, 3 repeats): LightGBM on log1p with a linear base, RMSE 3.745
  -> 3.734 (with ``min_child_samples`` 100).
* ``monotone``: constrain boosted trees to move with (or against) the columns whose rank
  correlation with the label is strong (|Spearman| >= 0.5 on the training data), e.g.
  longer trips never cost less. Again a searched choice, not an assumption.

Each learner also carries a few starting configurations ("sensible starting configs":
moderate ensembles with some regularisation) so a short budget begins near good models
instead of at FLAML's deliberately tiny low-cost corner.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

TargetTransform = Literal["none", "sqrt", "log1p"]
TARGET_TRANSFORMS: tuple[TargetTransform, ...] = ("none", "sqrt", "log1p")

Loss = Literal["squared", "huber"]
LOSSES: tuple[Loss, ...] = ("squared", "huber")

#: Huber's threshold, in robust standard deviations of what the trees fit.
HUBER_SCALES = 4.0

#: The engine's own dimensions (not passed to FLAML's estimator classes).
ENGINE_DIMENSIONS = ("target_transform", "monotone", "linear_base", "loss")

#: Azure's model names that exist in Azure AutoML for regression but not in this engine:
#: accepted in ``blocked_models`` (blocking them is a no-op), refused in ``allowed_models``.
AZURE_ONLY_MODELS = frozenset({
    "FastLinearRegressor", "OnlineGradientDescentRegressor", "TensorFlowDNN",
    "TensorFlowLinearRegressor", "TabnetRegressor",
})


class TrialTimeout(Exception):
    """An iteration ran past its deadline, or the search was asked to stop."""


class Deadline:
    """When an iteration must end: a monotonic time, plus the search's stop signals.

    Learners check it between folds and inside training (boosting callbacks, forests
    grown in chunks), so an iteration timeout or a Ctrl-C ends the work within a moment
    rather than after a 10-minute forest.
    """

    def __init__(self, at: float = math.inf, *stops: threading.Event | None) -> None:
        self.at = at
        self.stops = tuple(event for event in stops if event is not None)

    def stopped(self) -> bool:
        return any(event.is_set() for event in self.stops)

    def expired(self) -> bool:
        return time.monotonic() >= self.at or self.stopped()

    def remaining(self) -> float:
        return self.at - time.monotonic()

    def check(self) -> None:
        if self.stopped():
            raise TrialTimeout("stopped")
        if time.monotonic() >= self.at:
            raise TrialTimeout("iteration timed out")


NO_DEADLINE = Deadline()

FitMode = Literal["lightgbm", "xgboost", "forest", "histgb", "plain"]


@dataclass(frozen=True)
class Learner:
    """One model family: its Azure name, where its space comes from, how it is fitted."""

    azure_name: str
    flaml_name: str | None
    scaler: Literal["MaxAbsScaler", "StandardScalerWrapper"]
    encoding: Literal["ordinal", "onehot"]
    fit_mode: FitMode
    supports_monotone: bool = False
    #: Has a Huber objective (the ``loss`` dimension applies).
    supports_huber: bool = False
    #: Relative cost of one fit against LightGBM's, for the scheduler's first guess.
    relative_cost: float = 1.0
    starting_points: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    def pipeline_name(self, config: dict[str, Any]) -> str:
        """Azure-style pipeline name: the preprocessing actually applied, then the model."""
        name = f"{self.scaler}, {self.azure_name}"
        notes = []
        transform = config.get("target_transform", "none")
        if transform != "none":
            notes.append(f"{transform} target")
        if config.get("linear_base"):
            notes.append("linear base")
        if config.get("loss") == "huber":
            notes.append("Huber loss")
        return f"{name} ({', '.join(notes)})" if notes else name

    @property
    def is_tree(self) -> bool:
        return self.scaler == "MaxAbsScaler"


_LGBM_START = dict(n_estimators=1000, num_leaves=12, min_child_samples=30, learning_rate=0.015,
                   log_max_bin=8, colsample_bytree=0.7, reg_alpha=0.0009765625, reg_lambda=1.0)
_XGB_START = dict(n_estimators=500, max_leaves=15, min_child_weight=10.0, learning_rate=0.03, subsample=0.8,
                  colsample_bylevel=1.0, colsample_bytree=0.8, reg_alpha=0.0009765625, reg_lambda=1.0)
_HGB_START = dict(n_estimators=400, max_leaves=15, min_samples_leaf=40, learning_rate=0.05, log_max_bin=8,
                  l2_regularization=1.0)

LEARNERS: dict[str, Learner] = {
    learner.azure_name: learner
    for learner in [
        Learner("LightGBM", "lgbm", "MaxAbsScaler", "ordinal", "lightgbm", supports_monotone=True, supports_huber=True,
                relative_cost=1.0, starting_points=(
                    {**_LGBM_START, "target_transform": "log1p", "monotone": 1, "linear_base": 1, "loss": "huber",
                     "min_child_samples": 100},
                    {**_LGBM_START, "target_transform": "sqrt", "monotone": 1, "linear_base": 1, "loss": "huber"},
                    {**_LGBM_START, "target_transform": "none", "monotone": 1, "linear_base": 0},
                )),
        Learner("XGBoostRegressor", "xgboost", "MaxAbsScaler", "ordinal", "xgboost", supports_monotone=True,
                supports_huber=True,
                relative_cost=1.6, starting_points=(
                    {**_XGB_START, "target_transform": "log1p", "monotone": 1, "linear_base": 1, "loss": "huber"},
                    {**_XGB_START, "target_transform": "sqrt", "monotone": 1, "linear_base": 0},
                )),
        Learner("ExtremeRandomTrees", "extra_tree", "MaxAbsScaler", "ordinal", "forest",
                relative_cost=1.9, starting_points=(
                    {"n_estimators": 100, "max_features": 0.8, "max_leaves": 32768, "min_samples_leaf": 5,
                     "target_transform": "none", "linear_base": 1},
                    {"n_estimators": 100, "max_features": 0.8, "max_leaves": 32768, "min_samples_leaf": 5,
                     "target_transform": "none", "linear_base": 0},
                )),
        Learner("GradientBoosting", "histgb", "MaxAbsScaler", "ordinal", "histgb", supports_monotone=True,
                relative_cost=1.0, starting_points=(
                    {**_HGB_START, "target_transform": "sqrt", "monotone": 1, "linear_base": 1},
                )),
        Learner("ElasticNet", "enet", "StandardScalerWrapper", "onehot", "plain", relative_cost=0.2),
        Learner("LassoLars", "lassolars", "StandardScalerWrapper", "onehot", "plain", relative_cost=0.2),
        Learner("SGD", "sgd", "StandardScalerWrapper", "onehot", "plain", relative_cost=0.3),
        Learner("DecisionTree", None, "MaxAbsScaler", "ordinal", "plain", relative_cost=0.3,
                starting_points=({"max_leaves": 64, "min_samples_leaf": 20, "max_features": 1.0,
                                  "target_transform": "none"},)),
        Learner("RandomForest", "rf", "MaxAbsScaler", "ordinal", "forest",
                relative_cost=2.0, starting_points=(
                    {"n_estimators": 100, "max_features": 0.6, "max_leaves": 32768, "min_samples_leaf": 5,
                     "target_transform": "none"},
                )),
        Learner("KNN", "kneighbor", "StandardScalerWrapper", "onehot", "plain", relative_cost=3.0,
                starting_points=({"n_neighbors": 25, "target_transform": "none"},)),
    ]
}

#: The order of the first round (one iteration per learner before the scheduler takes
#: over): strong tabular learners first, so even a tiny budget tries them.
LEARNER_ORDER: tuple[str, ...] = tuple(LEARNERS)


def resolve_model_names(names: list[str] | tuple[str, ...] | None, *, for_allowed: bool) -> list[str]:
    """Azure model names (case-insensitive) to this engine's canonical names.

    Raises ValueError naming the unknown names and the valid ones; a name Azure knows but
    this engine lacks is fine to block and an error to allow.
    """
    if not names:
        return []
    canonical = {name.lower(): name for name in LEARNERS}
    azure_only = {name.lower(): name for name in AZURE_ONLY_MODELS}
    resolved: list[str] = []
    unknown: list[str] = []
    unavailable: list[str] = []
    for raw in names:
        key = str(raw).strip().lower()
        if key in canonical:
            resolved.append(canonical[key])
        elif key in azure_only:
            if for_allowed:
                unavailable.append(azure_only[key])
        else:
            unknown.append(str(raw))
    if unknown:
        raise ValueError(f"unknown model name(s) {', '.join(unknown)}; valid names: {', '.join(LEARNERS)}")
    if unavailable:
        raise ValueError(f"{', '.join(unavailable)} exist(s) on Azure but not in the embedded engine; "
                         f"choose from {', '.join(LEARNERS)}")
    return list(dict.fromkeys(resolved))


# -- search spaces ------------------------------------------------------------------------

@dataclass
class SpaceSpec:
    """A FLAML search space with the points CFO needs: its cheap corner and its starts."""

    space: dict[str, Any]
    low_cost: dict[str, Any]
    init: dict[str, Any]
    starting_points: list[dict[str, Any]]


def _flaml_task() -> Any:
    from flaml.automl.task.factory import task_factory

    return task_factory("regression")


def search_space(learner: Learner, n_rows: int, n_features: int, *, nonnegative_label: bool,
                 has_monotone: bool) -> SpaceSpec:
    """The space CFO searches for ``learner`` on data of this size."""
    from flaml import tune

    if learner.flaml_name is not None:
        flaml_space = _flaml_task().estimators[learner.flaml_name].search_space(
            data_size=(n_rows, n_features), task=_flaml_task())
    else:  # DecisionTree
        flaml_space = {
            "max_leaves": {"domain": tune.lograndint(4, max(5, min(32768, n_rows >> 1))), "init_value": 64,
                           "low_cost_init_value": 4},
            "min_samples_leaf": {"domain": tune.lograndint(1, 256), "init_value": 20},
            "max_features": {"domain": tune.uniform(0.3, 1.0), "init_value": 1.0},
        }
    flaml_space = dict(flaml_space)
    if learner.fit_mode == "forest":
        # FLAML bounds forests by max_leaves only; noisy targets also want a minimum leaf size.
        flaml_space["min_samples_leaf"] = {"domain": tune.lograndint(1, 64), "init_value": 1}
    if nonnegative_label:
        flaml_space["target_transform"] = {"domain": tune.choice(list(TARGET_TRANSFORMS)), "init_value": "none"}
    if learner.supports_monotone and has_monotone:
        flaml_space["monotone"] = {"domain": tune.choice([0, 1]), "init_value": 0}
    if learner.is_tree and has_monotone:
        flaml_space["linear_base"] = {"domain": tune.choice([0, 1]), "init_value": 0}
    if learner.supports_huber:
        flaml_space["loss"] = {"domain": tune.choice(list(LOSSES)), "init_value": "squared"}

    space = {name: spec["domain"] for name, spec in flaml_space.items()}
    low_cost = {name: spec["low_cost_init_value"] for name, spec in flaml_space.items()
                if "low_cost_init_value" in spec}
    init = {name: spec["init_value"] for name, spec in flaml_space.items() if "init_value" in spec}
    for name, domain in space.items():  # dimensions without an init value (SGD's loss)
        if name not in init:
            init[name] = domain.categories[0] if hasattr(domain, "categories") else domain.sample()
    starts = [_clip_to_space({**init, **point}, space) for point in learner.starting_points]
    return SpaceSpec(space=space, low_cost=low_cost, init=init, starting_points=starts)


def _clip_to_space(config: dict[str, Any], space: dict[str, Any]) -> dict[str, Any]:
    """A starting point made valid for this space: numbers clipped into range, unknown
    dimensions dropped, categorical values checked (small data shrinks the bounds)."""
    clipped: dict[str, Any] = {}
    for name, domain in space.items():
        value = config.get(name)
        if hasattr(domain, "categories"):
            clipped[name] = value if value in domain.categories else domain.categories[0]
        elif hasattr(domain, "lower"):
            lower, upper = domain.lower, domain.upper
            # FLAML's integer domains are [lower, upper) internally; stay inside.
            if type(domain).__name__ == "Integer":
                clipped[name] = int(min(max(int(value), lower), upper - 1)) if value is not None else lower
            else:
                clipped[name] = float(min(max(float(value), lower), upper)) if value is not None else lower
        else:
            clipped[name] = value if value is not None else domain
    return clipped


# -- building and fitting ------------------------------------------------------------------

def build_estimator(learner: Learner, config: dict[str, Any], *, n_jobs: int, random_state: int,
                    monotone: list[int] | None, huber_delta: float | None = None) -> Any:
    """A fresh, unfitted estimator for one configuration.

    FLAML's estimator classes translate the search config to the library's parameters
    (``log_max_bin`` -> ``max_bin``, ``max_leaves`` -> ``max_leaf_nodes``...); the engine's
    own dimensions are applied on top. ``huber_delta`` is Huber's threshold on the scale
    the estimator fits (see :func:`huber_delta`); it applies when ``loss`` is "huber".
    """
    flaml_config = {k: v for k, v in config.items() if k not in ENGINE_DIMENSIONS
                    and not (k == "min_samples_leaf" and learner.fit_mode == "forest")}
    use_monotone = bool(config.get("monotone")) and monotone is not None and any(monotone)
    # Huber's threshold when this configuration fits the Huber loss, else None.
    delta = float(huber_delta) if config.get("loss") == "huber" and learner.supports_huber \
        and huber_delta is not None else None
    if learner.flaml_name is None:
        from sklearn.tree import DecisionTreeRegressor

        return DecisionTreeRegressor(max_leaf_nodes=int(config["max_leaves"]),
                                     min_samples_leaf=int(config["min_samples_leaf"]),
                                     max_features=float(config["max_features"]), random_state=random_state)
    flaml_cls = _flaml_task().estimators[learner.flaml_name]
    wrapper = flaml_cls(task="regression", n_jobs=n_jobs, **flaml_config)
    params = dict(wrapper.params)
    # FLAML spells "no penalty" as the string "None", which scikit-learn >= 1.2 refuses.
    params = {k: (None if _plain(v) == "None" else _plain(v)) for k, v in params.items()}
    if "random_state" in params:
        params["random_state"] = random_state
    if learner.fit_mode == "forest":
        params["max_features"] = float(params.get("max_features", 1.0))
        params["min_samples_leaf"] = int(config.get("min_samples_leaf", 1))
        params["n_jobs"] = n_jobs
    if learner.fit_mode == "histgb":
        params["early_stopping"] = False  # the iteration count is the searched hyperparameter
        if use_monotone:
            params["monotonic_cst"] = list(monotone or [])
    if learner.fit_mode == "lightgbm":
        params["n_jobs"] = n_jobs
        params["random_state"] = random_state
        if use_monotone:
            params["monotone_constraints"] = list(monotone or [])
        if delta is not None:
            params["objective"] = "huber"
            params["alpha"] = delta
    if learner.fit_mode == "xgboost":
        params["n_jobs"] = n_jobs
        if use_monotone:
            params["monotone_constraints"] = tuple(monotone or [])
        if delta is not None:
            params["objective"] = "reg:pseudohubererror"
            params["huber_slope"] = delta
    return wrapper.estimator_class(**params)


def huber_delta(target: np.ndarray) -> float:
    """Huber's threshold for fitting ``target``: ``HUBER_SCALES`` robust standard
    deviations (1.4826 x the median absolute deviation, which a few wild values cannot
    inflate). Never zero, so a constant-ish target still gets a usable loss."""
    values = np.asarray(target, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return 1.0
    mad = float(np.median(np.abs(values - np.median(values))))
    scale = 1.4826 * mad or float(np.std(values)) or 1.0
    return HUBER_SCALES * scale


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def fit_estimator(learner: Learner, estimator: Any, X: np.ndarray, y: np.ndarray, deadline: Deadline) -> None:
    """Fit ``estimator`` in place, raising TrialTimeout when ``deadline`` passes first."""
    deadline.check()
    mode = learner.fit_mode
    if mode == "lightgbm":
        def check_deadline(env: Any) -> None:
            deadline.check()

        estimator.fit(X, y, callbacks=[check_deadline])
    elif mode == "xgboost":
        _fit_xgboost(estimator, X, y, deadline)
    elif mode == "forest":
        _grow_in_chunks(estimator, X, y, deadline, "n_estimators")
    elif mode == "histgb":
        _grow_in_chunks(estimator, X, y, deadline, "max_iter")
    else:
        estimator.fit(X, y)
        deadline.check()


def _fit_xgboost(estimator: Any, X: np.ndarray, y: np.ndarray, deadline: Deadline) -> None:
    import xgboost

    class StopAtDeadline(xgboost.callback.TrainingCallback):
        def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
            return deadline.expired()

    estimator.set_params(callbacks=[StopAtDeadline()])
    try:
        estimator.fit(X, y, verbose=False)
    finally:
        # The callback holds the deadline (and its threading.Event): never pickle it.
        estimator.set_params(callbacks=None)
    deadline.check()


def _grow_in_chunks(estimator: Any, X: np.ndarray, y: np.ndarray, deadline: Deadline, size_param: str) -> None:
    """Grow a forest (trees) or a histogram booster (iterations) in eighths, checking the
    deadline between chunks: sklearn has no training callback, warm starts give one."""
    total = int(estimator.get_params()[size_param])
    step = max(8, math.ceil(total / 8))
    done = 0
    estimator.set_params(warm_start=True)
    try:
        while done < total:
            done = min(total, done + step)
            estimator.set_params(**{size_param: done})
            estimator.fit(X, y)
            if done < total:
                deadline.check()
    finally:
        estimator.set_params(warm_start=False)


# -- target transforms ---------------------------------------------------------------------

def forward_feature(kind: str, x: np.ndarray) -> np.ndarray:
    """A non-negative feature on the target's scale, for the linear base (sqrt target ->
    sqrt distance, so the line in sqrt space is a line in fare space far out)."""
    if kind == "sqrt":
        return np.sqrt(np.clip(x, 0.0, None))
    if kind == "log1p":
        return np.log1p(np.clip(x, 0.0, None))
    return x


def forward_target(kind: str, y: np.ndarray) -> np.ndarray:
    if kind == "sqrt":
        return np.sqrt(np.clip(y, 0.0, None))
    if kind == "log1p":
        return np.log1p(np.clip(y, 0.0, None))
    return y


def inverse_target(kind: str, z: np.ndarray) -> np.ndarray:
    if kind == "sqrt":
        return np.square(np.clip(z, 0.0, None))
    if kind == "log1p":
        # Clip before expm1 so a wild extrapolation cannot overflow to inf.
        return np.expm1(np.clip(z, None, 50.0))
    return z


def make_scaler(name: str) -> Any:
    from sklearn.preprocessing import MaxAbsScaler, StandardScaler

    return MaxAbsScaler() if name == "MaxAbsScaler" else StandardScaler()

