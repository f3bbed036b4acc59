"""The records the AutoML engine hands back: child runs and feature importances.

They are plain dataclasses with a ``to_dict`` that is JSON-safe, because the workspace
glue stores them as run metrics/tags and the progress file keeps them as evidence: no
numpy scalars, no NaN (undefined metrics are simply absent).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

#: Azure's run states for a child run, the three an iteration can end in.
ChildStatus = Literal["Completed", "Failed", "Canceled"]


def json_safe(value: Any) -> Any:
    """``value`` with numpy scalars turned into Python ones and NaN/inf into None.

    Hyperparameters come out of FLAML's samplers as ``np.float64``; metrics can be NaN when
    a fold predicted a constant. Both must survive ``json.dumps`` unchanged in meaning.
    """
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and callable(value.item) and not isinstance(value, (str, bytes)):
        try:
            value = value.item()
        except (TypeError, ValueError):
            return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


@dataclass
class ChildRun:
    """One iteration of the search, as Azure shows a child run of an AutoML parent.

    ``score`` is the primary metric of this iteration (None unless Completed);
    ``best_so_far`` is the best primary metric among iterations finished so far, this one
    included, which is what Azure's live output prints in its BEST column.
    ``metrics`` are computed on out-of-fold predictions (or on the validation data when the
    config names one), never on rows the model was trained on.
    """

    iteration: int
    pipeline: str
    learner: str
    status: ChildStatus
    duration_s: float
    primary_metric: str
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    score: float | None = None
    best_so_far: float | None = None
    is_best: bool = False
    started_s: float = 0.0
    error: str | None = None
    #: For VotingEnsemble/StackEnsemble: member iteration -> weight (stack: coefficient).
    ensemble_weights: dict[int, float] | None = None

    @property
    def is_ensemble(self) -> bool:
        return self.ensemble_weights is not None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict (what a workspace stores as the child run's record)."""
        data = asdict(self)
        if self.ensemble_weights is not None:
            data["ensemble_weights"] = {str(k): v for k, v in self.ensemble_weights.items()}
        return json_safe(data)


@dataclass(frozen=True)
class FeatureImportance:
    """Global importance of one raw input column: the mean increase of the error when the
    column is shuffled (permutation importance), with its spread over repeats."""

    feature: str
    importance: float
    std: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return json_safe(asdict(self))
