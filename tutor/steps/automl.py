"""Day 2 AutoML steps: split and register the data, the studio's form, the search with its live
view and child runs, and the evaluation on the held-out half against Azure's published figures."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from tutor.display import Bars, Facts, Note, Table
from tutor.errors import StepFailed
from tutor.steps import action
from tutor.steps.base import StepContext, StepResult

#: The form's training job time, in minutes on this machine (TUTOR_AUTOML_MINUTES caps it).
DEFAULT_FORM_MINUTES = 2
METRICS = ("normalized_root_mean_squared_error", "spearman_correlation", "r2_score",
           "normalized_mean_absolute_error")
LIVE_ROWS = 12


@action("automl.split", required=("dataset", "train_name", "test_name"),
        optional=("test_size", "random_state", "target_path"))
def split(ctx: StepContext) -> StepResult:
    """Split a registered dataset 80/20 and register both halves as datasets."""
    from sklearn.model_selection import train_test_split

    ws = ctx.workspace
    seed = int(ctx.param("random_state", 223))
    names = {"train": ctx.param("train_name"), "test": ctx.param("test_name")}
    if ctx.adopt:  # the learner split and registered them: their newest versions are the halves
        records = {half: ws.get_dataset(names[half], "latest") for half in ("train", "test")}
        train, test = (records[half].to_pandas_dataframe() for half in ("train", "test"))
    else:
        frame = ws.get_dataset(ctx.param("dataset")).to_pandas_dataframe()
        train, test = train_test_split(frame, test_size=float(ctx.param("test_size", 0.2)), random_state=seed)
        folder = ctx.course_dir.data
        folder.mkdir(parents=True, exist_ok=True)
        target = ctx.param("target_path", "data/automl")
        paths = {}
        for half, part in (("train", train), ("test", test)):
            path = folder / f"{names[half]}.csv"
            part.to_csv(path, index=False)
            paths[half] = path
        ws.default_datastore.upload_files(list(paths.values()), target_path=target, overwrite=True)
        records = {half: ws.register_tabular_dataset(names[half], [f"{target}/{paths[half].name}"],
                                                     description=f"{half} half of the 80/20 split "
                                                                 f"(random_state={seed})",
                                                     create_new_version=True)
                   for half in ("train", "test")}
    return StepResult(
        evidence={"train_rows": len(train), "test_rows": len(test), "random_state": seed,
                  "train_dataset": records["train"].name, "test_dataset": records["test"].name},
        outputs={"automl_train": records["train"].name, "automl_test": records["test"].name},
        display=[Table("The two halves", ["dataset", "version", "rows", "used for"],
                       [[records["train"].name, records["train"].version, len(train), "the AutoML search (with cross-validation)"],
                        [records["test"].name, records["test"].version, len(test), "the final test, once"]],
                       numeric=["rows"])],
        summary=f"{len(train):,} training and {len(test):,} test trips registered.",
    )


def _model_names() -> list[str]:
    from tutor.automl import MODEL_NAMES

    return list(MODEL_NAMES)


# What the form asks, as AutoMLConfig keeps it in ``user_settings`` (the SDK's own names).
_FORM_SETTINGS = ("task_type", "training_data", "label_column_name", "primary_metric", "blocked_models",
                  "n_cross_validations", "featurization", "model_explainability", "experiment_timeout_minutes",
                  "enable_early_stopping")


def _form_result(settings: dict[str, Any], note: str | None = None) -> StepResult:
    display: list[Any] = [Facts("Your automated ML job", list(settings.items()))]
    if note:
        display.append(Note(note, "info"))
    return StepResult(
        evidence={"settings": settings},
        outputs={"automl_settings": settings},
        display=display,
        summary=f"{settings['task']} of {settings['label_column_name']} on {settings['training_data']}, "
                f"{settings['primary_metric']}, {settings['experiment_timeout_minutes']:g} min.",
    )


#: What the form's settings are in an SDK v2 ``automl.regression(...)`` job (the learner's
#: ``automl_job``), read the same from the embedded and the real azure-ai-ml.
_V2_SETTINGS = (
    "{{'training_data': getattr({job}.training_data, 'path', None), "
    "'task_type': str(getattr({job}.task_type, 'value', {job}.task_type)), "
    "'label_column_name': {job}.target_column_name, "
    "'primary_metric': __import__('re').sub(r'(?<=[a-z0-9])(?=[A-Z])', '_', "
    "str(getattr({job}.primary_metric, 'value', {job}.primary_metric))).lower(), "
    "'n_cross_validations': {job}.n_cross_validations, "
    "'featurization': getattr({job}.featurization, 'mode', None) or 'auto', "
    "'model_explainability': getattr({job}.training, 'enable_model_explainability', None), "
    "'experiment_timeout_minutes': getattr({job}.limits, 'timeout_minutes', None), "
    "'enable_early_stopping': getattr({job}.limits, 'enable_early_termination', None), "
    "'blocked_models': getattr({job}.training, 'blocked_training_algorithms', None)}}")


def _learners_form(ctx: StepContext) -> StepResult:
    """The settings of the AutoMLConfig the learner wrote (the exercise), as the form would have them.

    On the SDK v2 track: those of their ``automl.regression(...)`` job (``job``, ``automl_job``
    by default)."""
    assert ctx.learner is not None
    if ctx.sdk == "v2":
        name = ctx.param("job", "automl_job")
        ok, found = ctx.learner(_V2_SETTINGS.format(job=name))
        remake = f"Make {name} with automl.regression(...) again."
        if ok and isinstance(found, dict):
            found = {k: v for k, v in found.items() if v is not None}
            if found.get("training_data"):  # "azureml:<name>@latest" or "azureml:<name>:<version>": the name
                found["training_data"] = str(found["training_data"]).removeprefix("azureml:").split("@")[0].split(":")[0]
    else:
        name = ctx.param("config", "automl_config")
        ok, found = ctx.learner(
            f"{{k: (getattr(v, 'name', None) if k == 'training_data' else v) for k, v in {name}.user_settings.items() "
            f"if k in {_FORM_SETTINGS!r}}}")
        remake = f"Make {name} with AutoMLConfig(...) again."
    if not ok or not isinstance(found, dict):
        raise StepFailed(f"Your `{name}` could not be read: {found}.", remake)
    if not found.get("training_data"):
        raise StepFailed(f"Your `{name}` names no registered training dataset.",
                         "Pass training_data=Input(type=AssetTypes.MLTABLE, path=\"azureml:<the training half>@latest\")."
                         if ctx.sdk == "v2" else "Pass training_data=train_ds (the registered training half).")
    minutes = found.get("experiment_timeout_minutes")
    settings = {"training_data": found["training_data"], "task": found.get("task_type", "regression"),
                "label_column_name": found.get("label_column_name"),
                "primary_metric": found.get("primary_metric") or "normalized_root_mean_squared_error",
                "blocked_models": list(found.get("blocked_models") or []),
                "n_cross_validations": found.get("n_cross_validations"),
                "featurization": found.get("featurization", "auto"),
                "model_explainability": bool(found.get("model_explainability", True)),
                "experiment_timeout_minutes": float(minutes if minutes is not None else DEFAULT_FORM_MINUTES),
                "enable_early_stopping": bool(found.get("enable_early_stopping", True))}
    what = "automl.regression job" if ctx.sdk == "v2" else "AutoMLConfig"
    return _form_result(settings, f"These are the settings of your {what}: the form is not asked.")


@action("automl.form", optional=("dataset", "label", "primary_metric", "blocked_models", "n_cross_validations",
                                 "featurization", "model_explainability", "experiment_timeout_minutes", "config",
                                 "job"))
def form(ctx: StepContext) -> StepResult:
    """The studio's "New automated ML job" form: dataset, task, target, metric, blocked models,
    validation, featurization, explanation and budget. Its answers are the AutoML settings.

    After an exercise (``adopt``) the settings are those of the learner's own AutoMLConfig
    (the name ``config``, ``automl_config`` by default), read where their code ran."""
    if ctx.adopt and ctx.learner is not None:
        return _learners_form(ctx)
    ws = ctx.workspace
    default_dataset = ctx.param("dataset")
    if default_dataset in ctx.outputs:
        default_dataset = ctx.outputs[default_dataset]
    datasets = sorted({d.name for d in ws.list_datasets()})
    if not datasets:
        raise StepFailed("There is no registered dataset to train on.", "Run the split-and-register step first.")
    dataset = ctx.choose("Dataset (a registered dataset, not a file)", [(d, d) for d in datasets],
                         default_dataset if default_dataset in datasets else datasets[0])
    while True:
        task = ctx.choose("Task type", [("regression", "Regression (predict a number)"),
                                        ("classification", "Classification (predict a category)"),
                                        ("forecasting", "Time series forecasting")], "regression")
        if task == "regression":
            break
        if not ctx.confirm(f"The fare is a number, so this is regression; the tutor's AutoML runs regression "
                           f"only, not {task}. Choose again?", True):
            raise StepFailed(f"AutoML here supports regression only, not {task}.",
                             "Run the step again and choose Regression.")
    columns = list(ws.dataset_profile(dataset).columns)
    column_names = [c.name for c in columns]
    label_default = ctx.param("label", "totalAmount")
    label = ctx.choose("Target column (what to predict)", [(c, c) for c in column_names],
                       label_default if label_default in column_names else column_names[-1])
    metric = ctx.choose("Primary metric", [(m, m) for m in METRICS],
                        ctx.param("primary_metric", "normalized_root_mean_squared_error"))
    names = _model_names()

    def check_models(text: str) -> str | None:
        unknown = [m for m in _split_list(text) if m.lower() not in {n.lower() for n in names}]
        return f"Unknown model(s): {', '.join(unknown)}. Known: {', '.join(names)}." if unknown else None

    blocked = _split_list(ctx.ask_text("Blocked models (comma-separated, empty for none)",
                                       ", ".join(ctx.param("blocked_models") or []), check_models))
    folds_text = ctx.ask_text("Validation: number of cross-validation folds",
                              str(ctx.param("n_cross_validations", 5)),
                              lambda t: None if t.isdigit() and 2 <= int(t) <= 20 else "A whole number from 2 to 20.")
    featurization = ctx.choose("Featurization", [("auto", "auto (types, missing values, encodings)"),
                                                 ("off", "off (use the columns as they are)")],
                               ctx.param("featurization", "auto"))
    explain = ctx.confirm("Explain the best model?", bool(ctx.param("model_explainability", True)))
    minutes_text = ctx.ask_text("Training job time (minutes)", str(ctx.param("experiment_timeout_minutes", DEFAULT_FORM_MINUTES)),
                                lambda t: None if _positive_number(t) else "A positive number of minutes.")
    settings = {"training_data": dataset, "task": task, "label_column_name": label, "primary_metric": metric,
                "blocked_models": blocked, "n_cross_validations": int(folds_text), "featurization": featurization,
                "model_explainability": explain, "experiment_timeout_minutes": float(minutes_text),
                "enable_early_stopping": True}
    return _form_result(settings)


def _split_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _positive_number(text: str) -> bool:
    try:
        return float(text) > 0
    except ValueError:
        return False


@action("automl.run", required=("experiment",),
        optional=("settings_from", "training_data", "label_column_name", "primary_metric", "n_cross_validations",
                  "experiment_timeout_minutes", "blocked_models", "allowed_models", "enable_early_stopping",
                  "featurization", "model_explainability", "iteration_timeout_minutes", "save_as"))
def run(ctx: StepContext) -> StepResult:
    """Run an AutoML experiment: each iteration is a child run; the best model is kept with the parent run."""
    from tutor.automl import AutoMLConfig
    from tutor.automl.config import DEFAULT_BUDGET_MINUTES
    from tutor.automl.parent_run import capped_minutes, run_automl_parent

    if ctx.adopt:  # the learner submitted the search: their newest finished AutoML run
        return _learners_search(ctx)
    ws = ctx.workspace
    settings: dict[str, Any] = {}
    if ctx.param("settings_from"):
        settings.update(ctx.output(ctx.param("settings_from")))
    for key in ("training_data", "label_column_name", "primary_metric", "n_cross_validations",
                "experiment_timeout_minutes", "blocked_models", "allowed_models", "enable_early_stopping",
                "featurization", "model_explainability", "iteration_timeout_minutes"):
        if ctx.param(key) is not None and key not in settings:
            settings[key] = ctx.param(key)
    # The form asks for minutes on this machine; TUTOR_AUTOML_MINUTES caps them (as it caps
    # the SDK's experiment.submit(AutoMLConfig(...))).
    asked = float(settings.get("experiment_timeout_minutes") or DEFAULT_BUDGET_MINUTES)
    settings["experiment_timeout_minutes"], cap_note = capped_minutes(asked, None)
    if cap_note:
        ctx.progress.status(cap_note)
    dataset_ref = settings.pop("training_data", None)
    if dataset_ref in ctx.outputs:
        dataset_ref = ctx.outputs[dataset_ref]
    if not dataset_ref:
        raise StepFailed("The AutoML settings name no training dataset.", "Fill in the form step again.")
    settings.pop("task", None)
    frame = ws.get_dataset(dataset_ref).to_pandas_dataframe()
    config = AutoMLConfig(task="regression", training_data=frame, **settings)
    config.validate()  # every bad setting is explained before any work starts

    experiment = ctx.param("experiment")
    budget_s = float(settings["experiment_timeout_minutes"]) * 60  # set above, capped
    started = time.monotonic()
    rows: list[list[Any]] = []
    stop = threading.Event()
    failures = 0
    with ctx.progress.task(f"AutoML search ({budget_s:.0f} s budget)", total=budget_s) as bar, \
            ctx.progress.live_table(f"{experiment}: iterations (best by {config.primary_metric})",
                                    ["ITER", "PIPELINE", "DURATION", "METRIC", "BEST"]) as table:
        def on_child(child: Any, child_id: str | None) -> None:
            nonlocal failures
            bar.update(completed=min(budget_s, time.monotonic() - started))
            metric = f"{child.score:.5f}" if child.score is not None else child.status
            best = f"{child.best_so_far:.5f}" if child.best_so_far is not None else ""
            rows.append([child.iteration, child.pipeline[:60], f"{child.duration_s:.1f}s", metric, best])
            table.update(rows[-LIVE_ROWS:])
            if child.status != "Completed":
                failures += 1

        def on_status(message: str) -> None:
            bar.update(completed=min(budget_s, time.monotonic() - started))
            ctx.progress.status(message)

        def keep_stopped(result: Any) -> bool:
            best = result.best_child
            return ctx.confirm(f"The search was stopped after {len(result.children)} iterations. Keep the best "
                               f"model so far ({best.pipeline}, {config.primary_metric} {best.score:.4f})?", True)

        outcome = run_automl_parent(ws, experiment, config, tags={"dataset": str(dataset_ref)},
                                    on_child=on_child, on_status=on_status, stop_event=stop,
                                    keep_stopped=keep_stopped)
    result, model, run_id = outcome.result, outcome.model, outcome.run_id
    best = result.best_child
    summary = result.to_dict()
    explanation = [{"feature": f.feature, "importance": f.importance} for f in (result.explanation or [])]
    if run_id is None:  # a workspace without logged runs (Azure): keep the model in the course folder
        import joblib

        local = _local_model_file(ctx)
        local.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump(model, local)

    board = result.leaderboard()[:8]
    save_as = ctx.param("save_as") or "automl"
    display: list[Any] = [
        Table("Leaderboard (cross-validated on the training half)", ["iteration", "pipeline", config.primary_metric],
              [[c.iteration, c.pipeline[:70], f"{c.score:.5f}"] for c in board]),
        Facts("Best model", [("pipeline", best.pipeline), ("iteration", best.iteration),
                             (config.primary_metric, f"{best.score:.5f}" if best.score is not None else ""),
                             ("iterations", len(result.children)), ("failed iterations", failures),
                             ("stopped because", result.stop_reason),
                             ("search time", f"{result.search_s:.0f} s of {result.budget_s:.0f} s")]),
    ]
    if run_id is None:
        display.append(Note(f"The search ran on this machine with the tutor's AutoML engine, not as a run of the "
                            f"workspace; the best model is kept in {_local_model_file(ctx)}. (Remote AutoML on "
                            "an Azure cluster is the SDK's experiment.submit(AutoMLConfig(...)), which needs "
                            "azureml-train-automl-client.)", "info"))
    if explanation:
        display.append(Bars("What the best model relies on (permutation importance)",
                            [(e["feature"], e["importance"]) for e in explanation]))
    return StepResult(
        evidence={"experiment": experiment, "parent_run_id": run_id, "iterations": len(result.children),
                  "failed_iterations": failures, "best_pipeline": best.pipeline, "best_iteration": best.iteration,
                  "primary_metric": config.primary_metric, "best_score": best.score,
                  "stop_reason": result.stop_reason, "budget_s": result.budget_s,
                  "search_s": round(result.search_s, 1), "explained": bool(explanation)},
        outputs={f"{save_as}_run_id": run_id, f"{save_as}_summary": {k: summary[k] for k in
                                                                    ("best_pipeline", "best_score", "stop_reason")}},
        display=display,
        summary=f"{len(result.children)} iterations; best: {best.pipeline} ({config.primary_metric} "
                f"{best.score:.5f}).",
    )


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _learners_search(ctx: StepContext) -> StepResult:
    """The step's result from the AutoML run the learner's code submitted (the exercise), read back
    from the workspace: the parent run, its child runs (the iterations) and what it kept."""
    from tutor.automl.parent_run import EXPLANATION_FILE

    ws = ctx.workspace
    experiment = ctx.param("experiment")
    records = ws.list_runs(experiment)
    searches = [r for r in records if r.parent_id is None and r.tags.get("kind") == "automl"
                and str(r.status) == "Completed" and r.tags.get("best_pipeline")]
    if not searches:
        raise StepFailed(f"The experiment {experiment} has no finished AutoML run.",
                         "Submit your AutoMLConfig with experiment.submit(...) and wait for it (the exercise).")
    parent = max(searches, key=lambda r: str(r.submitted_at))
    metric = parent.tags.get("primary_metric", "normalized_root_mean_squared_error")
    children = ws.get_children(parent.id)
    board: list[tuple[Any, float]] = []
    for child in children:
        score = _number(ws.get_metrics(child.id).get(metric)) if str(child.status) == "Completed" else None
        if score is not None:
            board.append((child, score))
    higher_is_better = metric in ("spearman_correlation", "r2_score")
    board.sort(key=lambda c: -c[1] if higher_is_better else c[1])
    failures = sum(1 for child in children if str(child.status) != "Completed")
    best_score = _number(ws.get_metrics(parent.id).get(metric))
    best_pipeline = parent.tags["best_pipeline"]
    best_iteration = next((str(c.tags.get("iteration", "")) for c, _ in board if c.display_name == best_pipeline), "")
    explanation: list[dict[str, Any]] = []
    explained = Path(parent.run_dir) / EXPLANATION_FILE if parent.run_dir else None
    if explained is not None and explained.is_file():
        try:
            explanation = list(json.loads(explained.read_text(encoding="utf-8")).get("global_importance") or [])
        except (OSError, ValueError):
            explanation = []
    search_s = parent.duration_seconds or 0.0
    display: list[Any] = [
        Table("Leaderboard of your AutoML run (cross-validated on the training half)",
              ["iteration", "pipeline", metric],
              [[c.tags.get("iteration", ""), (c.display_name or "")[:70], f"{score:.5f}"] for c, score in board[:8]]),
        Facts("Best model", [("run", parent.id), ("pipeline", best_pipeline), ("iteration", best_iteration),
                             (metric, f"{best_score:.5f}" if best_score is not None else ""),
                             ("iterations", len(children)), ("failed iterations", failures),
                             ("stopped because", parent.tags.get("stop_reason", "")),
                             ("search time", f"{search_s:.0f} s")]),
    ]
    if explanation:
        display.append(Bars("What the best model relies on (permutation importance)",
                            [(e["feature"], e["importance"]) for e in explanation]))
    save_as = ctx.param("save_as") or "automl"
    return StepResult(
        evidence={"experiment": experiment, "parent_run_id": parent.id, "iterations": len(children),
                  "failed_iterations": failures, "best_pipeline": best_pipeline,
                  "best_iteration": int(best_iteration) if best_iteration.isdigit() else None,
                  "primary_metric": metric, "best_score": best_score,
                  "stop_reason": parent.tags.get("stop_reason"), "search_s": round(search_s, 1),
                  "explained": bool(explanation), "yours": True},
        outputs={f"{save_as}_run_id": parent.id,
                 f"{save_as}_summary": {"best_pipeline": best_pipeline, "best_score": best_score,
                                        "stop_reason": parent.tags.get("stop_reason")}},
        display=display,
        summary=f"your AutoML run: {len(children)} iterations; best: {best_pipeline}"
                + (f" ({metric} {best_score:.5f})." if best_score is not None else "."),
    )


def _local_model_file(ctx: StepContext) -> Path:
    """Where the AutoML step keeps its model when the workspace records no AutoML run (Azure: the
    search runs on this machine with the tutor's engine, as the README says)."""
    return ctx.course_dir.root / "models" / "automl" / "model.pkl"


@action("automl.evaluate", required=("run_from", "test_dataset"), optional=("label", "train_dataset"))
def evaluate(ctx: StepContext) -> StepResult:
    """Predict the held-out half with the best model: RMSE, MAPE and accuracy with their margins,
    next to the course's linear regression (fitted now on the training half) and Azure's figures."""
    import joblib
    import numpy as np

    from tutor.automl import evaluate_regression
    from tutor.automl.metrics import AZURE_BEST_ACCURACY, AZURE_BEST_MAPE, AZURE_BEST_RMSE, AZURE_OTHER_RMSE, \
        bootstrap_rmse, paired_rmse_difference

    ws = ctx.workspace
    run_id = ctx.output(ctx.param("run_from"))
    if run_id is None:  # the search ran on this machine for an Azure workspace: its model is in the course folder
        model_path = _local_model_file(ctx)
        if not model_path.exists():
            raise StepFailed(f"There is no AutoML model in {model_path}.", "Run the AutoML step again.")
    else:
        model_path = Path(ws.get_run(run_id).run_dir) / "outputs" / "model.pkl"
        if not model_path.exists():
            raise StepFailed(f"The AutoML run {run_id} kept no model.", "Run the AutoML step again.")
    model = joblib.load(model_path)
    label = ctx.param("label", "totalAmount")
    test_name = ctx.param("test_dataset")
    test_name = ctx.outputs.get(test_name, test_name)
    test = _labelled_dataset(ws, test_name, label)
    if len(test) < 2:
        raise StepFailed(f"The test dataset {test_name} has {len(test)} row(s); the evaluation needs at least two.",
                         "Register the test half again with the split step.")
    actual = test[label].to_numpy(dtype=float)
    features = test.drop(columns=[label])
    predicted = np.asarray(model.predict(features), dtype=float)
    if not np.isfinite(predicted).all():
        bad = int((~np.isfinite(predicted)).sum())
        raise StepFailed(f"The model gave {bad:,} prediction(s) that are not numbers for the test half {test_name}.",
                         "Check that the test half has the same columns as the training half, or run AutoML again.")
    scores = evaluate_regression(actual, predicted)
    train_name = ctx.param("train_dataset", None)
    gain = None
    if train_name:
        train_name = ctx.outputs.get(train_name, train_name)
        linear_pred = _linear_baseline(ws, train_name, label, features)
        linear_scores = evaluate_regression(actual, linear_pred)
        # One set of resamples gives both models' intervals and their paired difference.
        gain = paired_rmse_difference(actual, linear_pred, predicted)
        interval = gain.b
    else:
        interval = bootstrap_rmse(actual, predicted)

    rows: list[list[Any]] = [["this AutoML", round(scores.rmse, 4), _span(interval.low, interval.high),
                              round(scores.mape, 4), round(scores.accuracy, 4)]]
    evidence: dict[str, Any] = {"rmse": round(float(scores.rmse), 4), "rmse_low": round(interval.low, 4),
                                "rmse_high": round(interval.high, 4), "mape": round(float(scores.mape), 4),
                                "accuracy": round(float(scores.accuracy), 4), "test_rows": int(len(test))}
    notes: list[Note] = []
    if gain is not None:
        rows.append(["linear regression (course, fitted now)", round(linear_scores.rmse, 4),
                     _span(gain.a.low, gain.a.high), round(linear_scores.mape, 4), round(linear_scores.accuracy, 4)])
        evidence.update(linear_rmse=round(linear_scores.rmse, 4), linear_mape=round(linear_scores.mape, 4),
                        linear_gain=round(gain.difference.estimate, 4), linear_gain_low=round(gain.difference.low, 4),
                        linear_gain_high=round(gain.difference.high, 4))
        notes.append(_gain_note(gain.difference.estimate, gain.difference.low, gain.difference.high, len(test)))
    else:
        rows.append(["linear regression (course)", 3.685, "-", 0.139, 0.861])
    rows.append(["Azure AutoML (published best)", AZURE_BEST_RMSE, "-", AZURE_BEST_MAPE, AZURE_BEST_ACCURACY])
    notes.append(_azure_note(scores.rmse, scores.mape))

    display: list[Any] = [
        Table("On the test half (never seen by the search)", ["", "RMSE", "RMSE, 95% interval", "MAPE", "accuracy"],
              rows, numeric=["RMSE", "MAPE", "accuracy"],
              caption="MAPE: sum of absolute errors / sum of actual fares; accuracy = 1 - MAPE. "
                      "Interval: where the RMSE of another sample of as many trips could land (bootstrap)."),
    ]
    explanation_path = model_path.parent / "explanation.json"
    top_feature = None
    if explanation_path.exists():
        ranked = json.loads(explanation_path.read_text()).get("global_importance", [])
        if ranked:
            display.append(Bars("Global feature importance", [(e["feature"], e["importance"]) for e in ranked]))
            top_feature = max(ranked, key=lambda e: e["importance"])["feature"]
    display.extend(notes)
    evidence.update(beats_azure_rmse=bool(scores.rmse < AZURE_BEST_RMSE),
                    beats_azure_mape=bool(scores.mape < AZURE_BEST_MAPE),
                    within_azure_runs=bool(scores.rmse <= AZURE_OTHER_RMSE),
                    top_feature=top_feature)
    return StepResult(
        evidence=evidence,
        display=display,
        summary=f"Test RMSE {scores.rmse:.3f} (95% interval {interval.low:.2f}-{interval.high:.2f}), "
                f"MAPE {scores.mape:.4f}, accuracy {scores.accuracy:.4f}.",
    )


def _labelled_dataset(ws: Any, name: str, label: str) -> Any:
    frame = ws.get_dataset(name).to_pandas_dataframe()
    if label not in frame.columns:
        raise StepFailed(f"The dataset {name} has no column {label}.",
                         "Check the label column, or register the halves again with the split step.")
    return frame


def _linear_baseline(ws: Any, train_name: str, label: str, features: Any) -> Any:
    """The course's plain LinearRegression, fitted on the training half: its predictions for the
    same test rows as the AutoML model (so the two can be compared pair by pair)."""
    from sklearn.linear_model import LinearRegression

    train = _labelled_dataset(ws, train_name, label)
    columns = list(features.columns)
    missing = [c for c in columns if c not in train.columns]
    if missing:
        raise StepFailed(f"The training half {train_name} lacks the test half's column(s) {', '.join(missing)}.",
                         "Register both halves from the same data with the split step.")
    try:
        linear = LinearRegression().fit(train[columns].astype(float), train[label].astype(float))
        predicted = linear.predict(features.astype(float))
    except (TypeError, ValueError) as exc:
        raise StepFailed(f"The course's linear regression needs numeric columns: {exc}",
                         "Register the prepared data (all seven features are numbers) with the split step.") from exc
    return predicted


def _span(low: float, high: float) -> str:
    return f"{low:.2f} - {high:.2f}"


def _gain_note(gain: float, low: float, high: float, rows: int) -> Note:
    if low > 0:
        return Note(f"On the same {rows:,} trips AutoML's RMSE is {gain:.3f} lower than the linear regression's "
                    f"(95% interval {low:.3f} to {high:.3f}, paired bootstrap): a real gain, not luck of the sample.",
                    "success")
    if high < 0:
        return Note(f"On the same {rows:,} trips AutoML's RMSE is {-gain:.3f} higher than the linear regression's "
                    f"(95% interval {-high:.3f} to {-low:.3f}): give the search more time and run it again.", "warning")
    return Note(f"On the same {rows:,} trips AutoML and the linear regression differ by {gain:+.3f} RMSE "
                f"(95% interval {low:+.3f} to {high:+.3f}): too little to call. A longer search usually helps.",
                "info")


def _azure_note(rmse: float, mape: float) -> Note:
    """Where the model stands against Azure's two published runs, scored on these same trips."""
    from tutor.automl.metrics import AZURE_BEST_MAPE, AZURE_BEST_RMSE, AZURE_OTHER_RMSE

    if rmse < AZURE_BEST_RMSE and mape < AZURE_BEST_MAPE:
        return Note(f"RMSE and MAPE are both below Azure's published best ({AZURE_BEST_RMSE}, {AZURE_BEST_MAPE}).",
                    "success")
    mape_part = f"Its MAPE beats Azure's ({AZURE_BEST_MAPE}). " if mape < AZURE_BEST_MAPE else ""
    if rmse < AZURE_BEST_RMSE:
        return Note(f"Its RMSE is below Azure's published best ({AZURE_BEST_RMSE}); its MAPE is not "
                    f"({mape:.4f} against {AZURE_BEST_MAPE}).", "success")
    if rmse <= AZURE_OTHER_RMSE:
        return Note(f"{mape_part}Its RMSE is {rmse - AZURE_BEST_RMSE:.3f} above Azure's better run ({AZURE_BEST_RMSE}) "
                    f"and {AZURE_OTHER_RMSE - rmse:.3f} below its other run ({AZURE_OTHER_RMSE}), all on these same "
                    "trips: within the spread of Azure's own two searches.",
                    "success" if mape < AZURE_BEST_MAPE else "info")
    return Note(f"{mape_part}Its RMSE is behind both of Azure's published runs ({AZURE_BEST_RMSE} and "
                f"{AZURE_OTHER_RMSE}): give the search more time (experiment_timeout_minutes) and run it again.",
                "info")
