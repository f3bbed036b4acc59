"""Training steps: submit runs and watch them, compare their metrics, use and register the best model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tutor.display import Bars, Facts, LogTail, Note, Table
from tutor.errors import StepFailed, TutorError
from tutor.steps import action
from tutor.steps.base import StepContext, StepResult



def sample_trips(ctx: StepContext) -> list[dict[str, Any]]:
    """The step's ``trips`` parameter: the rows a lesson predicts or posts (lesson data).

    The lesson gives them, in the same form its code shows them, so the engine holds no
    trip of its own. Checked here because a row must be a table of column values.
    """
    from tutor.errors import TutorError

    trips = ctx.param("trips")
    if (not isinstance(trips, list) or not trips
            or not all(isinstance(t, dict) and t and all(isinstance(k, str) for k in t) for t in trips)):
        raise TutorError(f"The step's 'trips' parameter must be a list of rows (tables of column = value); "
                         f"it is {trips!r}.",
                         'Fix the lesson: trips = [{ vendorID = 1, passengerCount = 1, tripDistance = 4.2, ... }].')
    return [dict(t) for t in trips]


def _fmt(value: Any) -> Any:
    return round(value, 4) if isinstance(value, float) else value


@action("training.submit", required=("experiment", "compute", "runs"),
        optional=("environment", "script", "metrics", "save_as", "stream_log", "timeout_s"))
def submit(ctx: StepContext) -> StepResult:
    """Submit one run per entry of ``runs`` to a compute target and watch them to the end.

    Each entry is ``{name, arguments, tags}``. The learner's own ``train/`` folder is the
    source directory, so an edited train.py is what runs.
    """
    from tutor.workspace import ScriptRunConfig

    ws = ctx.workspace
    source = ctx.course_dir.train
    script = ctx.param("script", "train.py")
    if not (source / script).exists():
        raise StepFailed(f"{source / script} does not exist.", "Run the 'Get the course scripts' step first.")
    env = ctx.param("environment")
    if env:
        check = ws.check_environment(env)
        if check.missing or check.wrong_version:  # another Python is noted by the environment step, not enforced
            raise StepFailed(check.shortfall, f"Install them ({check.install_command}) and run this step again.")
    metric_names: list[str] = list(ctx.param("metrics") or [])
    experiment = ctx.param("experiment")
    compute = ctx.param("compute")
    specs = ctx.param("runs")
    # An interrupted earlier attempt may have left runs going: reattach to those still alive
    # or completed, and submit only the missing, failed or canceled ones.
    previous: dict[str, str] = dict(ctx.resume.get("runs") or {})
    previous.update(_submitted_unsaved(ws, experiment, ctx.resume.get("submitting"), previous))
    if ctx.adopt:  # the learner submitted them: the newest run with each entry's arguments
        previous.update(_learners_runs(ws, experiment, specs, ctx.sdk))
    runs = []
    reattached = 0
    for index, spec in enumerate(specs):
        name = spec.get("name") or f"run {index + 1}"
        earlier = _still_useful(ws, previous.get(name))
        if earlier is not None:
            runs.append(earlier)
            reattached += 1
            continue
        if len(runs) == reattached:  # the first run to submit: the cluster must be there
            _require_compute(ctx, ws, compute)
        config = ScriptRunConfig(
            source_directory=source, script=script, arguments=[str(a) for a in spec.get("arguments", [])],
            environment=env, compute_target=compute,
            tags={k: str(v) for k, v in (spec.get("tags") or {}).items()},
            display_name=name,
        )
        # Said before submitting: a tutor killed between the submit and the next save leaves a
        # run the next attempt finds by this (name, arguments, time) instead of submitting twice.
        ctx.save_partial({"runs": previous, "submitting": {"name": name, "arguments": list(config.arguments),
                                                           "since": _utc_now()}})
        runs.append(ws.submit(experiment, config))
        previous[name] = runs[-1].id
        ctx.save_partial({"runs": previous})
    if reattached:
        ctx.progress.status(f"Reattached to {reattached} run(s) submitted before the interruption")
    names = {r.id: spec.get("name") or f"run {i + 1}" for i, (r, spec) in enumerate(zip(runs, specs))}
    ids = [r.id for r in runs]
    timeout = float(ctx.param("timeout_s", 900))

    if len(ids) == 1 and ctx.param("stream_log", False):
        ctx.progress.status(f"Run {ids[0]} on {compute}: streaming its log")
        final = [ws.wait_for_completion(ids[0], on_log_line=ctx.progress.log, timeout=timeout)]
    else:
        columns = ["run", "name", "status", "seconds"] + metric_names
        with ctx.progress.live_table(f"Runs of {experiment} on {compute}", columns) as table:
            def show(records: list[Any]) -> None:
                rows = []
                for record in records:
                    metrics = ws.get_metrics(record.id) if metric_names else {}
                    duration = record.duration_seconds
                    rows.append([record.id[-14:], names.get(record.id, ""), str(record.status),
                                 f"{duration:.1f}" if duration is not None else ""]
                                + [_fmt(metrics.get(m)) if m in metrics else "" for m in metric_names])
                table.update(rows)
                active = sum(1 for r in records if not r.status.is_terminal)
                ctx.progress.status(f"{len(records) - active} of {len(records)} runs finished")

            final = ws.wait_for_runs(ids, on_status=show, timeout=timeout)
            show(final)

    failed = [r for r in final if str(r.status) != "Completed"]
    results: dict[str, dict[str, Any]] = {}
    for record in final:
        metrics = ws.get_metrics(record.id)
        results[names[record.id]] = {"run_id": record.id, "status": str(record.status),
                                     "duration_s": round(record.duration_seconds or 0.0, 2),
                                     **{k: v for k, v in metrics.items() if isinstance(v, (int, float))}}
    if failed:
        first = failed[0]
        raise StepFailed(
            f"{len(failed)} of {len(final)} runs did not complete: run {first.id} ({names[first.id]}) "
            f"ended {first.status}" + (f": {first.error}" if first.error else "") + ".",
            "Read the log above; if you edited train/train.py, fix it and choose 'Try again'.",
            log_tail=ws.get_log_tail(first.id, 25),
        )
    rows = [[name, r["status"], f"{r['duration_s']:.1f}"] + [_fmt(r.get(m, "")) for m in metric_names]
            for name, r in results.items()]
    display: list[Any] = [Table(f"Runs of {experiment}", ["name", "status", "seconds"] + metric_names, rows,
                                numeric=["seconds"] + metric_names)]
    if len(ids) == 1:
        display.append(LogTail("The end of the run's log", ws.get_log_tail(ids[0], 12)))
    save_as = ctx.param("save_as") or "runs"
    outputs: dict[str, Any] = {save_as: {name: r["run_id"] for name, r in results.items()},
                               f"{save_as}_experiment": experiment}
    if len(ids) == 1:
        outputs[f"{save_as}_run_id"] = ids[0]
    return StepResult(
        evidence={"experiment": experiment, "compute": compute, "completed": len(final) - len(failed),
                  "reattached": reattached, "runs": results, "test_vs_train": _test_vs_train(results)},
        outputs=outputs,
        display=display,
        summary=f"{len(final)} run(s) of {experiment} completed on {compute}.",
    )


def _test_vs_train(results: dict[str, dict[str, Any]]) -> dict[str, str]:
    """For each metric logged on both halves ("RMSE Test" and "RMSE Train", "Test accuracy" and
    "Train accuracy"): whether the test figure is "lower", "higher" or "equal" in every run, or "mixed"."""
    pairs: dict[str, str] = {}
    for name, record in results.items():
        for metric in record:
            if "Test" in metric.split() and metric.replace("Test", "Train", 1) in record:
                pairs[" ".join(w for w in metric.split() if w != "Test")] = metric
    found: dict[str, str] = {}
    for base, test in pairs.items():
        train = test.replace("Test", "Train", 1)
        ways = {("lower" if r[test] < r[train] else "higher" if r[test] > r[train] else "equal")
                for r in results.values() if test in r and train in r}
        found[base] = ways.pop() if len(ways) == 1 else "mixed"
    return found


def _utc_now() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).isoformat()


def _submitted_unsaved(ws: Any, experiment: str, submitting: Any, known: dict[str, str]) -> dict[str, str]:
    """{name: run id} of the run an interrupted attempt was submitting when it stopped, if it got in:
    a run of ``experiment`` with that display name and arguments, submitted since then."""
    from datetime import datetime, timedelta

    if not isinstance(submitting, dict) or submitting.get("name") in known:
        return {}
    try:
        since = datetime.fromisoformat(str(submitting["since"])) - timedelta(seconds=1)
        records = ws.list_runs(experiment)
    except (KeyError, ValueError, TutorError):
        return {}
    wanted = [str(a) for a in submitting.get("arguments") or []]
    for record in sorted(records, key=lambda r: r.submitted_at, reverse=True):
        try:
            when = datetime.fromisoformat(str(record.submitted_at))
        except ValueError:
            continue
        if (record.display_name == submitting.get("name") and [str(a) for a in record.arguments] == wanted
                and when.tzinfo is not None and when >= since):
            return {str(submitting["name"]): record.id}
    return {}


def _learners_runs(ws: Any, experiment: str, specs: list[dict[str, Any]], sdk: str = "v1") -> dict[str, str]:
    """{entry name: id of the newest run of ``experiment`` with that entry's arguments}.

    An SDK v2 job passes its data as a path (``--data ${{inputs.data}}`` becomes the asset's
    file), where v1 code passes the dataset's name: on the v2 track the arguments before the
    first data option (``--variant 3``) are what identify the entry's job."""
    found: dict[str, str] = {}
    records = sorted(ws.list_runs(experiment), key=lambda r: r.submitted_at)
    for index, spec in enumerate(specs):
        wanted = [str(a) for a in spec.get("arguments", [])]
        matching = [r for r in records if [str(a) for a in r.arguments] == wanted]
        if not matching and sdk == "v2":
            matching = [r for r in records if r.parent_id is None
                        and before_data([str(a) for a in r.arguments]) == before_data(wanted)]
        if matching:
            found[spec.get("name") or f"run {index + 1}"] = matching[-1].id
    return found


def before_data(arguments: list[str]) -> list[str]:
    """The arguments before the first data option (``--data``, ``--dataset``, ``--data_user``...)."""
    for index, argument in enumerate(arguments):
        if argument.startswith("--data"):
            return arguments[:index]
    return arguments


def _require_compute(ctx: StepContext, ws: Any, compute: str) -> None:
    """A clear way out when the compute target is gone (deleted by a cleanup, or by hand)."""
    if compute == "local" or compute in {c.name for c in ws.list_compute()}:
        return
    from tutor.lessons import load_course
    from tutor.names import creating_step

    step = creating_step(load_course(), ctx.username, compute, ["cluster"])
    learner = f"--username {ctx.username} --course-dir {ctx.course_dir.root}"
    if step is not None:
        fix = (f"Make it again: run `tutor reset --step {step.key} {learner} --yes`, then `tutor start {learner}`. "
               f"The step '{step.title}' then runs first and creates the cluster as before, and this step runs "
               "after it.")
    else:
        fix = f"Create a compute cluster named {compute} (ComputeTarget.create), then run this step again."
    raise StepFailed(f"The compute cluster {compute} does not exist (any more): `tutor cleanup`, a cleanup step "
                     "or someone else deleted it.", fix)


def _still_useful(ws: Any, run_id: str | None) -> Any:
    """The run ``run_id`` if it is queued, running or completed; None if it must be submitted again."""
    if not run_id:
        return None
    try:
        run = ws.get_run(run_id)
    except Exception:  # noqa: BLE001 - gone from the workspace: submit a new one
        return None
    return None if str(run.status) in ("Failed", "Canceled") else run


@action("training.compare", required=("runs_from", "metric"), optional=("goal", "also", "save_as"))
def compare(ctx: StepContext) -> StepResult:
    """Compare the runs an earlier step submitted and pick the best by one metric."""
    ws = ctx.workspace
    runs: dict[str, str] = ctx.output(ctx.param("runs_from"))
    metric = ctx.param("metric")
    also: list[str] = list(ctx.param("also") or [])
    higher = ctx.param("goal", "max") == "max"
    table_rows = []
    scored: list[tuple[str, str, float]] = []
    logged = {name: ws.get_metrics(run_id) for name, run_id in runs.items()}
    for name, run_id in runs.items():
        metrics = logged[name]
        if metric not in metrics:
            raise StepFailed(f"Run {run_id} ({name}) logged no '{metric}'.",
                             "Did an edit to train.py remove the logging? Fix it and run the training step again.")
        value = float(metrics[metric])
        scored.append((name, run_id, value))
        table_rows.append([name, run_id[-14:], _fmt(value)] + [_fmt(metrics.get(m)) if m in metrics else "" for m in also])
    best_name, best_id, best_value = (max if higher else min)(scored, key=lambda item: item[2])
    save_as = ctx.param("save_as") or "best"
    bars = [Bars(f"{metric} by model", [(name, value) for name, _, value in scored],
                 start=_zoom([value for _, _, value in scored]))]
    for extra in also:
        values = [(name, float(metrics[extra])) for name, metrics in logged.items() if extra in metrics]
        if values:
            bars.append(Bars(f"{extra} by model", values, start=_zoom([v for _, v in values])))
    return StepResult(
        evidence={"metric": metric, "best_model": best_name, "best_run_id": best_id, "best_value": best_value,
                  "values": {name: value for name, _, value in scored}},
        outputs={f"{save_as}_run_id": best_id, f"{save_as}_model": best_name},
        display=[Table(f"The runs by {metric}", ["model", "run", metric] + also, table_rows,
                       numeric=[metric] + also), *bars,
                 Note(f"Best by {metric}: {best_name} ({best_value:.4f}).", "success")],
        summary=f"The best run by {metric} is {best_name} ({best_value:.4f}).",
    )


def _zoom(values: list[float]) -> float | None:
    """A start for bars whose values are close together, so the differences show."""
    low, high = min(values), max(values)
    if low <= 0 or high - low > 0.25 * high:
        return None
    return float(f"{low - (high - low):.3g}") if high > low else None


def _load_model(path: Path) -> Any:
    import joblib

    try:
        return joblib.load(path)
    except Exception as exc:  # noqa: BLE001 - any unpickling problem is the learner's to see
        raise StepFailed(f"The model file {path} cannot be loaded ({type(exc).__name__}: {exc}).",
                         "Run the training step again to produce a fresh model.") from None


@action("model.predict_local", required=("run_from", "trips"), optional=("model_path",))
def predict_local(ctx: StepContext) -> StepResult:
    """Download a run's model and predict the course's sample trip on this machine."""
    import pandas as pd

    ws = ctx.workspace
    run_id = ctx.output(ctx.param("run_from"))
    run = ws.get_run(run_id)
    rel = ctx.param("model_path", "outputs/model.pkl")
    source = Path(run.run_dir) / rel
    if not source.exists():
        raise StepFailed(f"Run {run_id} has no {rel}.", "Check that train.py saves its model under outputs/.")
    dest = ctx.course_dir.root / "models" / run_id
    dest.mkdir(parents=True, exist_ok=True)
    local = dest / source.name
    local.write_bytes(source.read_bytes())
    model = _load_model(local)
    trip = sample_trips(ctx)[0]
    frame = pd.DataFrame([trip])
    prediction = float(model.predict(frame)[0])
    return StepResult(
        evidence={"run_id": run_id, "prediction": round(prediction, 4)},
        outputs={"local_model": str(local)},
        display=[Facts("The sample trip", list(trip.items())),
                 Note(f"Predicted total fare: ${prediction:.2f}", "success")],
        summary=f"The model predicts ${prediction:.2f} for the sample trip.",
    )


@action("model.register", required=("name", "run_from"), optional=("model_path", "tags", "description", "save_as"))
def register_model(ctx: StepContext) -> StepResult:
    """Register a run's model in the workspace's model registry (a new version each time)."""
    ws = ctx.workspace
    run_id = ctx.output(ctx.param("run_from"))
    run = ws.get_run(run_id)
    rel = ctx.param("model_path", "outputs/model.pkl")
    if not (Path(run.run_dir) / rel).exists():
        raise StepFailed(f"Run {run_id} has no {rel}.", "Run the training step again.")
    tags = {k: str(v) for k, v in (ctx.param("tags") or {}).items()}
    metrics = ws.get_metrics(run_id)
    for name, value in metrics.items():
        if isinstance(value, (int, float)):
            tags.setdefault(name, f"{value:.4f}" if isinstance(value, float) else str(value))
    if ctx.adopt:  # the learner registered it: the newest version is theirs
        model = ws.get_model(ctx.param("name"), "latest")
        run_id = model.run_id or run_id
    else:
        model = ws.register_model(ctx.param("name"), rel, run_id=run_id, tags=tags,
                                  description=ctx.param("description", ""))
    versions = [m.version for m in ws.list_models(model.name)]
    save_as = ctx.param("save_as") or "model"
    return StepResult(
        evidence={"name": model.name, "version": model.version, "run_id": run_id, "versions": sorted(versions)},
        outputs={save_as: model.id, f"{save_as}_name": model.name},
        display=[Facts(f"Model {model.id}", [("from run", run_id), ("file", model.file_name),
                                              ("size", f"{model.size_bytes:,} bytes"),
                                              ("tags", ", ".join(f"{k}={v}" for k, v in model.tags.items()))])],
        summary=f"Registered {model.id}.",
    )
