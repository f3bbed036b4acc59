"""The AutoML engine: search learners and hyperparameters within a time budget.

How one experiment runs (what Azure does on a cluster, on this machine):

1. :meth:`AutoMLConfig.validate` resolves the settings; nothing is trained before it passes.
2. Each learner gets a FLAML CFO searcher over its space (FLAML's cost-frugal local search:
   it walks from cheap or known-good configurations towards better ones, moving to costlier
   regions only when they pay). The first round gives every learner one iteration, strong
   tabular learners first; afterwards the next learner is drawn by FLAML's "estimated cost
   for improvement" rule, so time flows to the learners that are improving fastest.
3. An iteration = one child run: the pipeline is cross-validated on the training data
   only; its out-of-fold predictions give Azure's metrics and are kept for the ensembles.
   A crash marks the child Failed and the search goes on; an iteration that outlives its
   timeout (or a Ctrl-C / stop request) is Canceled.
4. The search stops at the budget (minus the time the end needs), on early stopping, when
   every learner has converged, or on request; then a VotingEnsemble child (greedy
   ensemble selection) and a StackEnsemble child are built from the kept predictions and
   scored by nested cross-validation; the final model (whichever of the best single
   iteration and the two ensembles scores best on that same nested footing) is refitted on all
   training rows and, when asked, explained with permutation importance on one fold's
   held-out rows.

Iterations run in a thread pool of ``max_concurrent_iterations`` workers (the learners'
native code releases the GIL), each with ``cores // workers`` threads; callbacks always
run on the calling thread.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
import traceback
import warnings
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.exceptions import ConvergenceWarning

from tutor.automl.config import AutoMLConfig, ValidatedSettings, min_iteration_seconds
from tutor.automl.ensemble import column_losses, greedy_ensemble_selection, primary_score, stack_blend
from tutor.automl.explain import permutation_importance
from tutor.automl.featurize import auto_purpose, normalize_purpose
from tutor.automl.learners import LEARNERS, Deadline, Learner, SpaceSpec, TrialTimeout, search_space
from tutor.automl.metrics import is_better, metric_goal, regression_metrics, to_loss
from tutor.automl.pipeline import AutoMLPipeline, StackEnsembleRegressor, VotingEnsembleRegressor
from tutor.automl.records import ChildRun, FeatureImportance, json_safe
from tutor.errors import TutorError

logger = logging.getLogger(__name__)

OnChild = Callable[[ChildRun], None]
OnStatus = Callable[[str], None]

#: Azure starts counting towards early stopping after this many iterations.
EARLY_STOPPING_WARMUP = 20
#: ... and, on top of Azure's iteration count, this share of the budget without a new best.
EARLY_STOPPING_STALE_SHARE = 0.25
#: Relative gain of the candidates' stack that counts as an improvement for early stopping.
EARLY_STOPPING_BLEND_GAIN = 1e-4
#: The scheduler favours the learners with the best scores so far: the top ones get full
#: weight, the others this share of it (they still get tried: the ensembles like variety).
TOP_LEARNERS = 4
OTHER_LEARNER_WEIGHT = 0.25
#: |Spearman| with the label from which a numeric column may get a monotone constraint.
MONOTONE_MIN_CORRELATION = 0.5
#: An iteration may use at most this share of the budget (plus a few seconds), so one
#: unlucky huge configuration cannot eat a whole short experiment.
MAX_ITERATION_SHARE = 0.15
#: The ensembles choose among at most this many of the best iterations...
ENSEMBLE_CANDIDATES = 15
#: ...and only those within this share of the best iteration's error (1 - score for r2 and
#: Spearman). Ensemble selection overfits when the library holds weak models: on the
#: course's training half, an XGBoost without the linear base (1.3% behind the best) was
#: picked on the folds where it happened to sit near a few wild fares and cost RMSE 3.733
#: -> 3.742 on the held-out folds. Caruana et al. (2004) prune the library for the same reason.
ENSEMBLE_TOLERANCE = 0.01
#: The final phase (ensembles, refit, explanation) may reserve at most this share of the budget.
MAX_RESERVE_SHARE = 0.3
#: Permutation importance: rows of the held-out split used, and shuffles per column.
EXPLAIN_MAX_ROWS = 2000
EXPLAIN_REPEATS = 3
#: Consecutive empty suggestions after which a learner's searcher counts as converged.
MAX_EMPTY_SUGGESTIONS = 3


class AutoMLError(TutorError):
    """The experiment ran but produced no usable model (every iteration failed, or none finished)."""


@dataclass
class AutoMLResult:
    """What an experiment leaves: its child runs, the best one, and its fitted model."""

    primary_metric: str
    children: list[ChildRun]
    best_child: ChildRun
    model: Any
    explanation: list[FeatureImportance] | None
    stop_reason: str
    budget_s: float
    search_s: float
    total_s: float
    validation: str
    notes: list[str] = field(default_factory=list)
    #: The nested cross-validation scores the final choice was made on (see
    #: ``AutoML._selection_order``): "best single iteration", "VotingEnsemble", "StackEnsemble".
    selection_scores: dict[str, float] = field(default_factory=dict)

    def get_output(self) -> tuple[ChildRun, Any]:
        """(best child run, fitted model): Azure's ``AutoMLRun.get_output()``."""
        return self.best_child, self.model

    def leaderboard(self) -> list[ChildRun]:
        """Completed children, best first by the primary metric."""
        done = [c for c in self.children if c.status == "Completed" and c.score is not None]
        return sorted(done, key=lambda c: to_loss(self.primary_metric, _score(c)))

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary (everything but the model) for a run record or progress file."""
        return json_safe({
            "primary_metric": self.primary_metric,
            "best_iteration": self.best_child.iteration,
            "best_pipeline": self.best_child.pipeline,
            "best_score": self.best_child.score,
            "stop_reason": self.stop_reason,
            "budget_s": self.budget_s,
            "search_s": self.search_s,
            "total_s": self.total_s,
            "validation": self.validation,
            "notes": self.notes,
            "selection_scores": self.selection_scores,
            "children": [c.to_dict() for c in self.children],
            "explanation": [f.to_dict() for f in self.explanation] if self.explanation is not None else None,
        })


@dataclass
class _LearnerState:
    """Per-learner bookkeeping for the scheduler (FLAML's SearchState, trimmed)."""

    learner: Learner
    spec: SpaceSpec
    searcher: Any
    trials: int = 0
    busy: bool = False
    exhausted: bool = False
    empty_suggestions: int = 0
    best_loss: float = math.inf
    best_loss_old: float = math.inf
    total_time: float = 0.0
    time_best_found: float = 0.0
    time_best_found_old: float = 0.0
    time2eval_best: float = 0.0
    last_time: float = 0.0


@dataclass
class _Trial:
    iteration: int
    trial_id: str
    state: _LearnerState
    config: dict[str, Any]
    started: float


@dataclass
class _Outcome:
    oof: np.ndarray
    metrics: dict[str, float]
    fit_s: float
    predict_s: float
    fold0: AutoMLPipeline | None


@dataclass
class _Kept:
    """A completed iteration's out-of-fold predictions and how to rebuild its pipeline."""

    child: ChildRun
    learner: str
    config: dict[str, Any]
    oof: np.ndarray
    fit_s: float
    predict_s: float
    loss: float
    #: The model fitted on the first split's training rows, kept while this iteration is an
    #: ensemble candidate: the explanation scores it on that split's held-out rows without
    #: refitting anything.
    fold0: AutoMLPipeline | None = None


class AutoML:
    """Runs one AutoML experiment. Use :func:`run_automl` or ``AutoML(config).fit()``.

    ``on_child`` is called with each :class:`ChildRun` as soon as it finishes (the live
    view); ``on_status`` with short phase messages ("fitting the best model"); setting
    ``stop_event`` ends the search early and keeps the best so far, as Ctrl-C does.
    """

    def __init__(self, config: AutoMLConfig, *, on_child: OnChild | None = None,
                 on_status: OnStatus | None = None, stop_event: threading.Event | None = None) -> None:
        self.config = config
        self.on_child = on_child
        self.on_status = on_status
        self.stop_event = stop_event
        self._stop = threading.Event()
        self._children: list[ChildRun] = []
        self._kept: list[_Kept] = []
        self._best: ChildRun | None = None
        self._iteration = 0
        self._last_improvement = 0
        self._blend_loss = math.inf
        self._finished = 0

    # -- public ------------------------------------------------------------------------------
    def fit(self) -> AutoMLResult:
        """Validate, search, ensemble, refit, explain.

        Raises :class:`AutoMLConfigError` (a TutorError) on bad settings before any work,
        and :class:`AutoMLError` when no iteration completed. Ctrl-C during the search
        ends it and keeps the best so far; a second Ctrl-C during the final fit aborts.
        """
        settings = self.config.validate()
        self.settings = settings
        self._start = time.monotonic()
        self._last_improvement_at = self._start
        self._budget_end = self._start + settings.budget_s
        self._metric = settings.primary_metric
        self._y_range = settings.y_range
        self._scored = settings.scored_rows
        self._cpus = os.cpu_count() or 1
        fold_workers = max(1, self._cpus // settings.concurrency)
        self._monotone = self._monotone_features(settings)
        self._states = self._make_states(settings)
        _quiet_flaml()

        # Learners' convergence chatter (an SGD that ran out of epochs) would scroll through
        # the live view; the child's metrics already say how well it did.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            with ThreadPoolExecutor(max_workers=fold_workers, thread_name_prefix="automl-fold") as self._fold_pool:
                reason = self._search()
            search_s = time.monotonic() - self._start
            if not self._kept:
                failed = [c for c in self._children if c.status == "Failed"]
                if failed:
                    raise AutoMLError(f"All {len(failed)} iteration(s) failed; the last error: {failed[-1].error}",
                                      "Check the data (the error names the problem), or allow other models.")
                raise AutoMLError(
                    "No iteration finished " + ("before the search was stopped."
                                               if reason in ("stopped", "interrupted")
                                               else "within the experiment timeout."),
                    "Give the experiment more time (experiment_timeout_minutes) and let it run.")
            self._status("building ensembles")
            self._ensembles()
            best, model = self._refit_best()
            explanation = self._explain(best) if settings.explain else None
        total_s = time.monotonic() - self._start
        return AutoMLResult(primary_metric=self._metric, children=list(self._children), best_child=best,
                            model=model, explanation=explanation, stop_reason=reason,
                            budget_s=settings.budget_s, search_s=search_s, total_s=total_s,
                            validation=settings.validation, notes=list(settings.notes),
                            selection_scores=dict(getattr(self, "selection_scores", {})))

    # -- setup ------------------------------------------------------------------------------
    def _monotone_features(self, settings: ValidatedSettings) -> dict[str, int]:
        """Numeric columns strongly rank-correlated with the label, with the direction."""
        rows = settings.refit_rows
        y = settings.y[rows]
        found: dict[str, int] = {}
        overrides = settings.featurization if isinstance(settings.featurization, dict) else {}
        for column in settings.X.columns:
            series = settings.X[column].iloc[rows]
            purpose = (normalize_purpose(overrides[str(column)]) if str(column) in overrides
                       else "Numeric" if settings.featurization == "off" else auto_purpose(series))
            if purpose != "Numeric":
                continue
            values = pd.to_numeric(series.astype("string") if not pd.api.types.is_numeric_dtype(series.dtype)
                                   else series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            ok = np.isfinite(values)
            if ok.sum() < 10 or np.ptp(values[ok]) == 0:
                continue
            rho = spearmanr(values[ok], y[ok]).statistic
            if math.isfinite(rho) and abs(rho) >= MONOTONE_MIN_CORRELATION:
                found[str(column)] = 1 if rho > 0 else -1
        return found

    def _make_states(self, settings: ValidatedSettings) -> list[_LearnerState]:
        from flaml.tune.searcher.blendsearch import CFO

        fold_rows = int(np.mean([len(train) for train, _ in settings.splits]))
        nonnegative = bool(np.min(settings.y[settings.refit_rows]) >= 0)
        states = []
        for index, name in enumerate(settings.learners):
            learner = LEARNERS[name]
            spec = search_space(learner, fold_rows, settings.X.shape[1], nonnegative_label=nonnegative,
                                has_monotone=bool(self._monotone))
            cheapest = {**spec.init, **spec.low_cost}
            points = spec.starting_points if settings.use_starting_points and spec.starting_points else [cheapest]
            searcher = CFO(space=spec.space, metric="loss", mode="min", low_cost_partial_config=spec.low_cost,
                           points_to_evaluate=[dict(p) for p in points], seed=settings.random_state + 7 * index)
            states.append(_LearnerState(learner=learner, spec=spec, searcher=searcher))
        return states

    # -- the search loop ----------------------------------------------------------------------
    def _search(self) -> str:
        settings = self.settings
        running: dict[Future[_Outcome], _Trial] = {}
        reason = "budget"
        with ThreadPoolExecutor(max_workers=settings.concurrency, thread_name_prefix="automl") as pool:
            while True:
                try:
                    if reason == "budget" and not self._stop.is_set():
                        reason = self._launch(pool, running) or reason
                    if not running:
                        break
                    done, _ = wait(list(running), timeout=0.2, return_when=FIRST_COMPLETED)
                    for future in sorted(done, key=lambda f: running[f].iteration):
                        trial = running.pop(future)
                        self._finish(trial, future)
                    if self._stop.is_set() and reason == "budget":
                        reason = "stopped"
                except KeyboardInterrupt:
                    # Ctrl-C: stop launching, let running iterations abort at their next
                    # check, keep everything that finished.
                    self._stop.set()
                    reason = "interrupted"
        return reason

    def _launch(self, pool: ThreadPoolExecutor, running: dict[Future[_Outcome], _Trial]) -> str | None:
        """Start iterations while there is capacity; return a stop reason when the search is over."""
        settings = self.settings
        while len(running) < settings.concurrency:
            if self.stop_event is not None and self.stop_event.is_set():
                self._stop.set()
                return "stopped"
            if settings.early_stopping and self._should_stop_early():
                return "early_stopping"
            search_end = self._search_end()
            now = time.monotonic()
            floor = min_iteration_seconds(len(self._scored), 1)
            if search_end - now < floor:
                return "budget" if not running else None
            state = self._choose_learner(search_end - now)
            if state is None:
                if running:
                    return None
                return "exhausted" if all(s.exhausted for s in self._states) else "budget"
            config = self._suggest(state)
            if config is None:
                continue
            trial = _Trial(iteration=self._iteration, trial_id=f"{state.learner.azure_name}-{self._iteration}",
                           state=state, config=config, started=now)
            self._iteration += 1
            state.busy = True
            state.trials += 1
            cap = MAX_ITERATION_SHARE * settings.budget_s + 2.0
            deadline = Deadline(min(search_end, now + settings.iteration_timeout_s, now + cap),
                                self._stop, self.stop_event)
            running[pool.submit(self._evaluate, trial, deadline)] = trial
        return None

    def _suggest(self, state: _LearnerState) -> dict[str, Any] | None:
        config = state.searcher.suggest(f"{state.learner.azure_name}-{self._iteration}")
        if config is None:
            state.empty_suggestions += 1
            if state.empty_suggestions >= MAX_EMPTY_SUGGESTIONS:
                state.exhausted = True
            return None
        state.empty_suggestions = 0
        return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in config.items()}

    def _choose_learner(self, time_left: float) -> _LearnerState | None:
        """FLAML's learner selection: untried learners first, then at random with
        probability inversely proportional to the estimated cost for improvement (which
        spreads time evenly when learners improve alike), tilted towards the learners
        with the best scores so far."""
        free = [s for s in self._states if not s.busy and not s.exhausted]
        if not free:
            return None
        for state in free:
            if state.trials == 0:
                return state
        global_best = min(s.best_loss for s in self._states)
        ranked = sorted(self._states, key=lambda s: s.best_loss)
        top = {id(s) for s in ranked[:TOP_LEARNERS]}
        weights = []
        for state in free:
            expected = max(state.time2eval_best, state.last_time)
            if expected > time_left:
                weights.append(0.0)
                continue
            eci = max(state.time_best_found - state.time_best_found_old, state.total_time - state.time_best_found)
            gap = state.best_loss - global_best
            if gap > 0 and math.isfinite(gap):
                delta_loss = (state.best_loss_old - state.best_loss) if math.isfinite(state.best_loss_old) \
                    else abs(state.best_loss)
                delta_time = (state.total_time - state.time_best_found_old) or 1e-10
                speed = delta_loss / delta_time
                if speed > 0:
                    eci = max(2 * gap / speed, eci)
            if not math.isfinite(state.best_loss):
                eci = max(eci, state.total_time)  # only failures so far: try it less often
            weights.append((1.0 if id(state) in top else OTHER_LEARNER_WEIGHT) / max(eci, 1e-9))
        total = sum(weights)
        if total <= 0:
            return None
        rng = np.random.default_rng(self.settings.random_state * 1000 + self._iteration)
        return free[int(rng.choice(len(free), p=np.asarray(weights) / total))]

    def _search_end(self) -> float:
        """The budget's end minus what the final phase is expected to need."""
        return self._budget_end - self._reserve_s()

    def _reserve_s(self) -> float:
        """Time kept for the end: refitting the likely members on all training rows (in
        parallel), the explanation's predictions, and a moment for ensemble selection."""
        settings = self.settings
        top = sorted(self._kept, key=lambda k: k.loss)[:6]
        ratio = len(settings.refit_rows) / max(1, len(settings.splits[0][0]))
        refit = sum(k.fit_s for k in top) * ratio / max(1, min(self._cpus, len(top)))
        explain = 0.0
        if settings.explain:
            rows = min(EXPLAIN_MAX_ROWS, len(settings.splits[0][1]))
            explain = (EXPLAIN_REPEATS * settings.X.shape[1] + 1) * rows * sum(k.predict_s for k in top)
        return min(MAX_RESERVE_SHARE * settings.budget_s, 0.5 + 1.2 * (refit + explain))

    def _should_stop_early(self) -> bool:
        """Azure's rule (no new best for ``early_stopping_n_iters`` iterations, counted after
        the first 20), plus a time condition: no new best for a quarter of the budget either.
        Iterations here range from milliseconds (a lasso) to seconds (a forest), so a streak
        of cheap iterations alone says little about whether the search has stalled."""
        if self._finished < EARLY_STOPPING_WARMUP:
            return False
        stale_iterations = self._finished - self._last_improvement
        stale_seconds = time.monotonic() - self._last_improvement_at
        return (stale_iterations >= self.settings.early_stopping_n_iters
                and stale_seconds >= EARLY_STOPPING_STALE_SHARE * self.settings.budget_s)

    # -- one iteration ---------------------------------------------------------------------------
    def _pipeline(self, learner: str, config: dict[str, Any]) -> AutoMLPipeline:
        """One pipeline, single-threaded: parallelism comes from folds and ensemble members,
        which scales on a busy machine where multi-threaded boosting collapses (measured
        here: LightGBM with 2 threads ran 20x slower than with 1 while other jobs ran)."""
        return AutoMLPipeline(learner=learner, hyperparameters=dict(config),
                              featurization=self.settings.featurization,
                              monotone_features=dict(self._monotone), n_jobs=1,
                              random_state=self.settings.random_state,
                              mean_correction=self._metric != "normalized_mean_absolute_error")

    def _evaluate(self, trial: _Trial, deadline: Deadline) -> _Outcome:
        """Cross-validate one configuration (on a worker thread; folds in parallel)."""
        settings = self.settings
        X, y = settings.X, settings.y
        oof = np.full(len(y), np.nan)

        def one_fold(numbered: tuple[int, tuple[np.ndarray, np.ndarray]]) -> tuple[float, float, AutoMLPipeline]:
            index, (train, valid) = numbered
            deadline.check()
            pipeline = self._pipeline(trial.state.learner.azure_name, trial.config)
            started = time.monotonic()
            pipeline.fit_within(X.iloc[train], y[train], deadline)
            fitted = time.monotonic()
            oof[valid] = pipeline.predict(X.iloc[valid])
            return fitted - started, (time.monotonic() - fitted) / max(1, len(valid)), pipeline

        folds = list(self._fold_pool.map(one_fold, enumerate(settings.splits)))
        scored = oof[self._scored]
        if not np.isfinite(scored).all():
            raise ValueError("the model predicted non-finite values (diverged)")
        metrics = regression_metrics(y[self._scored], scored, self._y_range)
        return _Outcome(oof=oof, metrics=metrics, fit_s=float(np.mean([f[0] for f in folds])),
                        predict_s=float(np.mean([f[1] for f in folds])), fold0=folds[0][2])

    def _finish(self, trial: _Trial, future: Future[_Outcome]) -> None:
        """Record a finished iteration (main thread): child run, searcher, scheduler, callback."""
        state = trial.state
        state.busy = False
        duration = time.monotonic() - trial.started
        state.total_time += duration
        state.last_time = duration
        self._finished += 1
        child = ChildRun(iteration=trial.iteration, pipeline=state.learner.pipeline_name(trial.config),
                         learner=state.learner.azure_name, status="Completed", duration_s=duration,
                         primary_metric=self._metric, hyperparameters=json_safe(trial.config),
                         started_s=trial.started - self._start)
        try:
            outcome = future.result()
        except TrialTimeout as exc:
            child.status, child.error = "Canceled", str(exc)
            state.searcher.on_trial_complete(trial.trial_id, None, error=True)
        except Exception as exc:  # a crashing learner must not end the experiment
            child.status = "Failed"
            child.error = f"{type(exc).__name__}: {exc}"
            logger.debug("iteration %s failed:\n%s", trial.iteration, "".join(traceback.format_exception(exc)))
            state.searcher.on_trial_complete(trial.trial_id, None, error=True)
        else:
            score = outcome.metrics.get(self._metric, math.nan)
            loss = _searcher_loss(self._metric, score)
            child.metrics = outcome.metrics
            child.score = score if math.isfinite(score) else None
            result = {"loss": loss, "time_total_s": duration, "config": dict(trial.config)}
            result.update({f"config/{k}": v for k, v in trial.config.items()})
            state.searcher.on_trial_complete(trial.trial_id, result)
            if math.isfinite(loss):
                self._kept.append(_Kept(child=child, learner=state.learner.azure_name, config=dict(trial.config),
                                        oof=outcome.oof, fit_s=outcome.fit_s, predict_s=outcome.predict_s,
                                        loss=loss, fold0=outcome.fold0))
                self._release_fold_models()
                self._track_blend()
                if loss < state.best_loss:
                    state.best_loss_old = state.best_loss
                    state.best_loss = loss
                    state.time_best_found_old = state.time_best_found
                    state.time_best_found = state.total_time
                    state.time2eval_best = duration
        self._record(child)

    def _track_blend(self) -> None:
        """Early stopping watches the ensemble too: the final model is usually a blend,
        and an iteration that is not the best alone can still improve the blend. The
        stack of the current candidates is the cheap proxy (one non-negative least
        squares, milliseconds); it must gain EARLY_STOPPING_BLEND_GAIN to count."""
        if not self.settings.early_stopping or len(self._kept) < 2:
            return
        candidates = self._candidates()
        rows = self._scored
        y = self.settings.y[rows]
        blend = stack_blend(np.column_stack([k.oof[rows] for k in candidates]), y)
        loss = _searcher_loss(self._metric, primary_score(self._metric, y, blend.prediction, self._y_range))
        if not math.isfinite(self._blend_loss):
            self._blend_loss = loss  # the first blend: a baseline, not an improvement
        elif loss < self._blend_loss - EARLY_STOPPING_BLEND_GAIN * abs(self._blend_loss):
            self._last_improvement = self._finished
            self._last_improvement_at = time.monotonic()
            self._blend_loss = loss

    def _release_fold_models(self) -> None:
        """Drop the fold-0 models of iterations that can no longer join an ensemble
        (memory: a deep forest is tens of MB)."""
        keep = {k.child.iteration for k in self._candidates()}
        for kept in self._kept:
            if kept.child.iteration not in keep:
                kept.fold0 = None

    def _record(self, child: ChildRun) -> None:
        if child.status == "Completed" and is_better(self._metric, child.score,
                                                     self._best.score if self._best else None):
            self._best = child
            child.is_best = True
            self._last_improvement = self._finished
            self._last_improvement_at = time.monotonic()
        child.best_so_far = self._best.score if self._best else None
        self._children.append(child)
        if self.on_child is not None:
            self.on_child(child)

    # -- the end: ensembles, refit, explanation ----------------------------------------------------
    def _candidates(self) -> list[_Kept]:
        """The iterations the ensembles choose from: the best ones within
        ``ENSEMBLE_TOLERANCE`` of the best (at least two), with the best of each (learner,
        target transform) family inside that tolerance, so the ensembles see different kinds
        of model, not fifteen neighbours of one config."""
        ranked = sorted(self._kept, key=lambda k: k.loss)
        if not ranked:
            return []
        best = ranked[0].loss  # the searcher's loss: the distance from a perfect score
        limit = best + ENSEMBLE_TOLERANCE * abs(best)
        close = [k for k in ranked if k.loss <= limit]
        chosen = (close if len(close) >= 2 else ranked[:2])[:ENSEMBLE_CANDIDATES]
        families: set[tuple[str, str]] = {(k.learner, str(k.config.get("target_transform", "none"))) for k in chosen}
        for kept in close[len(chosen):]:
            family = (kept.learner, str(kept.config.get("target_transform", "none")))
            if family not in families:
                families.add(family)
                chosen.append(kept)
        return chosen

    def _ensembles(self) -> None:
        """VotingEnsemble and StackEnsemble children over the best iterations' out-of-fold
        predictions. Their weights are fitted on all those rows; their metrics come from
        nested cross-validation (weights fitted on the other folds' rows, scored on this
        fold's), because a blend scored on the rows it was fitted to always looks at least
        as good as its members, and the stack (free intercept, unnormalised weights) always
        looks at least as good as the vote: the choice of the best model must not be rigged."""
        settings = self.settings
        candidates = self._candidates()
        if len(candidates) < 2 or not (settings.voting_ensemble or settings.stack_ensemble):
            return
        rows = self._scored
        matrix = np.column_stack([k.oof[rows] for k in candidates])
        y = settings.y[rows]
        folds = self._ensemble_folds(rows)
        if settings.voting_ensemble:
            started = time.monotonic()

            def vote(train: np.ndarray) -> tuple[np.ndarray, float]:
                choice = greedy_ensemble_selection(matrix[train], y[train], self._metric, self._y_range,
                                                   settings.ensemble_iterations)
                return choice.weights, 0.0

            weights, _, honest = self._nested(vote, matrix, folds)
            self._ensemble_child("VotingEnsemble", candidates, weights, honest, y, started,
                                 {"ensemble_iterations": settings.ensemble_iterations,
                                  "score_estimate": "nested cross-validation"})
        if settings.stack_ensemble:
            started = time.monotonic()

            def stack(train: np.ndarray) -> tuple[np.ndarray, float]:
                choice = stack_blend(matrix[train], y[train])
                return choice.weights, choice.intercept

            weights, intercept, honest = self._nested(stack, matrix, folds)
            self._ensemble_child("StackEnsemble", candidates, weights, honest, y, started,
                                 {"meta_learner": "LinearRegression(positive=True)", "intercept": intercept,
                                  "score_estimate": "nested cross-validation"})

    def _ensemble_folds(self, rows: np.ndarray) -> np.ndarray:
        """Fold number of each scored row: the search's own folds, or five random ones when
        a single validation split was scored."""
        settings = self.settings
        if len(settings.splits) > 1:
            fold_of = np.zeros(len(settings.y), dtype=int)
            for index, (_, valid) in enumerate(settings.splits):
                fold_of[valid] = index
            return fold_of[rows]
        return np.random.default_rng(settings.random_state).integers(0, 5, len(rows))

    @staticmethod
    def _nested(fit: Callable[[np.ndarray], tuple[np.ndarray, float]], matrix: np.ndarray,
                folds: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
        """(weights, intercept) fitted on all rows, and the honest out-of-fold blend."""
        honest = np.empty(len(matrix))
        for fold in np.unique(folds):
            held = folds == fold
            weights, intercept = fit(np.flatnonzero(~held))
            honest[held] = intercept + matrix[held] @ weights
        weights, intercept = fit(np.arange(len(matrix)))
        return weights, intercept, honest

    def _ensemble_child(self, name: str, candidates: list[_Kept], weights: np.ndarray, prediction: np.ndarray,
                        y: np.ndarray, started: float, params: dict[str, Any]) -> None:
        members = {candidates[i].child.iteration: float(w) for i, w in enumerate(weights) if w > 0}
        if not members or not np.isfinite(prediction).all():
            return
        metrics = regression_metrics(y, prediction, self._y_range)
        child = ChildRun(iteration=self._iteration, pipeline=name, learner=name, status="Completed",
                         duration_s=time.monotonic() - started, primary_metric=self._metric,
                         hyperparameters=json_safe(params), metrics=metrics, score=metrics.get(self._metric),
                         started_s=started - self._start, ensemble_weights=members)
        self._iteration += 1
        self._finished += 1
        self._record(child)

    def _model_for(self, child: ChildRun) -> Any:
        """An unfitted model that reproduces ``child`` (a pipeline or an ensemble of them)."""
        by_iteration = {k.child.iteration: k for k in self._kept}
        if child.ensemble_weights is None:
            kept = by_iteration[child.iteration]
            return self._pipeline(kept.learner, kept.config)
        members = [self._pipeline(by_iteration[i].learner, by_iteration[i].config)
                   for i in child.ensemble_weights]
        weights = list(child.ensemble_weights.values())
        if child.learner == "StackEnsemble":
            return StackEnsembleRegressor(estimators=members, coef=weights,
                                          intercept=float(child.hyperparameters.get("intercept", 0.0)),
                                          n_jobs=self._cpus)
        return VotingEnsembleRegressor(estimators=members, weights=weights, n_jobs=self._cpus)

    def _selection_order(self) -> list[ChildRun]:
        """Completed children in the order the final model is chosen from.

        The choice compares like with like. An ensemble's score is a nested estimate; the
        best single iteration's own CV score is not, because it won a contest among dozens
        of noisy scores (the winner's curse). So "take the best single iteration" is scored
        the same nested way: on each fold, the iteration that is best on the other folds,
        scored on this one. The best of those honest estimates comes first; the rest follow
        as fallbacks. (Measured on the course's training half: with mean-corrected Huber
        members, the best single iteration scored RMSE 3.733 nested, the blends 3.742: a
        blend's weights, fitted to rows a few wild fares dominate, can cost more than the
        averaging gains, and only the nested estimate shows which way it went.)
        """
        done = [c for c in self._children if c.status == "Completed" and c.score is not None]
        singles = sorted((c for c in done if not c.is_ensemble), key=lambda c: to_loss(self._metric, _score(c)))
        ensembles = [c for c in done if c.is_ensemble]
        self.selection_scores = {}
        if not singles or not ensembles:
            return sorted(done, key=lambda c: to_loss(self._metric, _score(c)))
        rows = self._scored
        y = self.settings.y[rows]
        matrix = np.column_stack([k.oof[rows] for k in self._kept])
        folds = self._ensemble_folds(rows)
        honest = np.empty(len(rows))
        for fold in np.unique(folds):
            held = folds == fold
            losses = column_losses(self._metric, y[~held], matrix[~held], self._y_range)
            honest[held] = matrix[held, int(np.argmin(losses))]
        single_score = primary_score(self._metric, y, honest, self._y_range)
        self.selection_scores = {"best single iteration": single_score,
                                 **{c.pipeline: _score(c) for c in ensembles}}
        contenders = sorted([(to_loss(self._metric, single_score), 0, singles[0]),
                             *((to_loss(self._metric, _score(c)), 1, c) for c in ensembles)],
                            key=lambda entry: (entry[0], entry[1]))
        first = [child for _, _, child in contenders]
        return first + singles[1:]

    def _refit_best(self) -> tuple[ChildRun, Any]:
        """Refit the chosen child on every training row; fall back down the order if a refit
        fails (a model that scored in CV but cannot fit all rows is no use)."""
        settings = self.settings
        rows = settings.refit_rows
        X, y = settings.X.iloc[rows], settings.y[rows]
        errors = []
        for child in self._selection_order()[:5]:
            self._status(f"fitting the best model ({child.pipeline}) on all {len(rows):,} training rows")
            try:
                return child, self._model_for(child).fit(X, y)
            except Exception as exc:  # noqa: BLE001 - try the runner-up instead
                errors.append(f"{child.pipeline}: {type(exc).__name__}: {exc}")
        raise AutoMLError("The best models could not be refitted on all training rows: " + "; ".join(errors))

    def _explain(self, best: ChildRun) -> list[FeatureImportance] | None:
        """Permutation importance of the best model on the first split's held-out rows,
        using the models the search fitted on that split's training rows: the rows
        explained were never fitted, and nothing is refitted."""
        settings = self.settings
        self._status("explaining the best model")
        train, valid = settings.splits[0]
        try:
            model = self._fold0_model(best)
            if model is None:  # not kept (should not happen): fit one
                model = self._model_for(best).fit(settings.X.iloc[train], settings.y[train])
            if len(valid) > EXPLAIN_MAX_ROWS:  # plenty for a stable ranking, and bounded time
                rng = np.random.default_rng(settings.random_state)
                valid = np.sort(rng.choice(valid, EXPLAIN_MAX_ROWS, replace=False))
            return permutation_importance(model, settings.X.iloc[valid], settings.y[valid],
                                          n_repeats=EXPLAIN_REPEATS, random_state=settings.random_state)
        except Exception as exc:  # noqa: BLE001 - an explanation is a bonus, not the result
            logger.warning("could not explain the best model: %s", exc)
            return None

    def _fold0_model(self, child: ChildRun) -> Any:
        by_iteration = {k.child.iteration: k for k in self._kept}
        if child.ensemble_weights is None:
            kept = by_iteration.get(child.iteration)
            return kept.fold0 if kept else None
        members: list[AutoMLPipeline] = []
        for i in child.ensemble_weights:
            fold0 = by_iteration[i].fold0 if i in by_iteration else None
            if fold0 is None:  # a member was not kept: the ensemble cannot be rebuilt
                return None
            members.append(fold0)
        weights = list(child.ensemble_weights.values())
        if child.learner == "StackEnsemble":
            return StackEnsembleRegressor.from_fitted(members, weights,
                                                      float(child.hyperparameters.get("intercept", 0.0)))
        return VotingEnsembleRegressor.from_fitted(members, weights)

    def _status(self, message: str) -> None:
        if self.on_status is not None:
            self.on_status(message)


def _score(child: ChildRun) -> float:
    """The score of a child the caller kept because it is Completed with a score."""
    if child.score is None:
        raise ValueError(f"iteration {child.iteration} has no score")
    return float(child.score)


def _searcher_loss(metric: str, score: float) -> float:
    """A non-negative loss for CFO: 1 - score for metrics to maximize (like FLAML's 1 - r2)."""
    if score is None or not math.isfinite(score):
        return math.inf
    return 1.0 - score if metric_goal(metric) == "maximize" else score


def _quiet_flaml() -> None:
    for name in ("flaml", "flaml.tune", "flaml.automl"):
        logging.getLogger(name).setLevel(logging.WARNING)


def run_automl(config: AutoMLConfig, *, on_child: OnChild | None = None, on_status: OnStatus | None = None,
               stop_event: threading.Event | None = None) -> AutoMLResult:
    """Run one AutoML experiment and return its result (see :class:`AutoML`)."""
    return AutoML(config, on_child=on_child, on_status=on_status, stop_event=stop_event).fit()
