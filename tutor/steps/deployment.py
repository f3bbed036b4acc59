"""Deployment steps: test the scoring script, deploy a model as a web service, call it, rotate its keys,
scale it out, and clean up what the course created."""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from pathlib import Path
from typing import Any

from tutor.display import Code, Facts, Note, Table
from tutor.errors import StepFailed, TutorError
from tutor.steps import action
from tutor.steps.base import StepContext, StepResult
from tutor.serving.keys import mask
from tutor.steps.training import sample_trips


def _model_id(ctx: StepContext) -> str:
    ref = ctx.param("model")
    return ctx.output(ref) if ref in ctx.outputs else ref


def _entry_script(ctx: StepContext) -> Path:
    path = ctx.course_dir.root / ctx.param("entry_script", "score/score.py")
    if not path.is_file():
        raise StepFailed(f"The scoring script {path} does not exist.", "Run the 'Get the course scripts' step first.")
    return path


@action("deploy.test_script", required=("model", "trips"), optional=("entry_script",))
def test_script(ctx: StepContext) -> StepResult:
    """Load the learner's score.py, call init() with the registered model and run() with the sample trip."""
    import pandas as pd

    ws = ctx.workspace
    model_id = _model_id(ctx)
    name, _, version = model_id.partition(":")
    model = ws.get_model(name, int(version) if version else "latest")
    script = _entry_script(ctx)
    module_name = f"_tutor_score_{os.getpid()}_{int(time.monotonic() * 1000)}"
    spec = importlib.util.spec_from_file_location(module_name, script)
    if spec is None or spec.loader is None:
        raise StepFailed(f"{script} cannot be loaded as a Python module.", "Check the file name and its contents.")
    module = importlib.util.module_from_spec(spec)
    previous = os.environ.get("AZUREML_MODEL_DIR")
    os.environ["AZUREML_MODEL_DIR"] = str(model.path)
    try:
        spec.loader.exec_module(module)
        for needed in ("init", "run"):
            if not callable(getattr(module, needed, None)):
                raise StepFailed(f"{script} has no {needed}() function.",
                                 "A scoring script defines init() (load the model) and run(data) (predict).")
        module.init()
        answer = module.run(pd.DataFrame(sample_trips(ctx)[:1]))
    except StepFailed:
        raise
    except Exception as exc:  # noqa: BLE001 - the learner's script: show what it raised
        raise StepFailed(f"Your scoring script failed: {type(exc).__name__}: {exc}",
                         f"Fix {script} and try again; the deployment would fail the same way.") from None
    finally:
        if previous is None:
            os.environ.pop("AZUREML_MODEL_DIR", None)
        else:
            os.environ["AZUREML_MODEL_DIR"] = previous
        sys.modules.pop(module_name, None)
    try:
        prediction = float(list(answer)[0])
    except (TypeError, ValueError, IndexError):
        raise StepFailed(f"run() returned {answer!r}, not a list of fares.",
                         "Return one number per row, e.g. model.predict(data).tolist().") from None
    has_schema = hasattr(module.run, "__wrapped__") or "input_schema" in script.read_text(encoding="utf-8")
    return StepResult(
        evidence={"model": model.id, "prediction": round(prediction, 4), "schema": bool(has_schema)},
        display=[Code(script.read_text(encoding="utf-8"), "python", title=str(script)),
                 Note(f"init() loaded {model.id}; run() on the sample trip returned ${prediction:.2f}.", "success")],
        summary=f"score.py works: ${prediction:.2f} for the sample trip.",
    )


@action("deploy.service", required=("name", "model"),
        optional=("entry_script", "environment", "kind", "cpu_cores", "memory_gb", "replicas", "auth_enabled",
                  "tags", "description", "save_as", "timeout_s"))
def deploy_service(ctx: StepContext) -> StepResult:
    """Deploy a registered model as a web service and wait until it is Healthy."""
    ws = ctx.workspace
    name = ctx.param("name")
    started = time.monotonic()
    if ctx.adopt:  # the learner deployed it: wait for their deployment
        record = ws.get_service(name)
    else:
        record = ws.deploy_service(
            name, [_model_id(ctx)], _entry_script(ctx), environment=ctx.param("environment"),
            kind=ctx.param("kind", "ACI"), cpu_cores=float(ctx.param("cpu_cores", 1.0)),
            memory_gb=float(ctx.param("memory_gb", 0.5)), replicas=int(ctx.param("replicas", 1)),
            auth_enabled=bool(ctx.param("auth_enabled", True)), tags=ctx.param("tags") or {},
            description=ctx.param("description", ""), overwrite=True,
        )
    ctx.progress.status(f"{name}: {record.state}")
    record = ws.wait_for_service(name, on_log_line=ctx.progress.log, timeout=float(ctx.param("timeout_s", 120)))
    if _as_endpoints(ctx):
        record = _record_as_endpoint(ws, name)
    seconds = time.monotonic() - started
    props = record.properties
    save_as = ctx.param("save_as") or "service"
    return StepResult(
        evidence={"service_name": record.name, "state": record.state, "kind": record.kind,
                  "scoring_uri": record.scoring_uri, "swagger_uri": props.get("swagger_uri"),
                  "auth_enabled": props.get("auth_enabled"), "models": record.models,
                  "replicas": props.get("replicas"), "seconds_to_healthy": round(seconds, 2)},
        outputs={save_as: record.name, f"{save_as}_scoring_uri": record.scoring_uri},
        display=[Facts(f"Service {record.name}", [
            ("state", record.state), ("kind", record.kind), ("model", ", ".join(record.models)),
            ("scoring URI", record.scoring_uri), ("swagger", props.get("swagger_uri")),
            ("authentication", "key (Bearer)" if props.get("auth_enabled") else "none"),
            ("resources", f"{props.get('cpu_cores')} CPU, {props.get('memory_gb')} GB"
                          + (f", {props.get('replicas')} replicas" if props.get("replicas", 1) > 1 else "")),
            ("healthy after", f"{seconds:.1f} s"),
        ])],
        summary=f"{record.name} is {record.state} at {record.scoring_uri}.",
    )


def _as_endpoints(ctx: StepContext) -> bool:
    """On the SDK v2 track, on the embedded workspace, a deployed service is a managed online
    endpoint (with its deployment ``blue``), so the learner's v2 code finds it as one."""
    return ctx.sdk == "v2" and hasattr(ctx.workspace, "update_service")


def _record_as_endpoint(ws: Any, name: str, instance_count: int | None = None) -> Any:
    from tutor.workspace.local.endpoints import record_as_endpoint

    return record_as_endpoint(ws, name, instance_count=instance_count)


def _service(ctx: StepContext) -> Any:
    ref = ctx.param("service")
    name = ctx.output(ref) if ref in ctx.outputs else ref
    record = ctx.workspace.get_service(name)
    if record.state != "Healthy":
        reason = record.properties.get("reason", "")
        raise StepFailed(f"The service {name} is {record.state}" + (f": {reason}" if reason else "."),
                         "Go back to the deployment step and run it again.")
    return record


@action("deploy.call", required=("service", "trips"))
def call(ctx: StepContext) -> StepResult:
    """Call the service with the sample trip (and a second one) the way the course's client code does."""
    from tutor.serving.client import call_score

    record = _service(ctx)
    rows = sample_trips(ctx)
    auth = record.properties.get("auth_enabled", True)
    key = ctx.workspace.service_keys(record.name)[0] if auth else None
    result = call_score(record.scoring_uri, key, {"data": rows})
    if not result.ok:
        raise StepFailed(f"The service answered {result.status}: {result.message}",
                         "Read the service log (tutor predict, then :logs) and redeploy if needed.")
    predictions = [float(p) for p in result.predictions]
    # The same request without the key: what a client that forgot it gets.
    no_key_status = call_score(record.scoring_uri, None, {"data": rows}).status if auth else result.status
    import json as _json

    body = _json.dumps({"data": rows})
    shown_key = mask(key) if key else ""
    client = (
        "import json, requests\n"
        f"scoring_uri = \"{record.scoring_uri}\"\n"
        f"key = \"{shown_key}\"   # service.get_keys()[0]\n"
        f"data = {{\"data\": {_json.dumps(rows, indent=None)}}}\n"
        "headers = {\"Content-Type\": \"application/json\", \"Authorization\": f\"Bearer {key}\"}\n"
        "response = requests.post(scoring_uri, json.dumps(data), headers=headers)\n"
        "print(response.json())"
    )
    return StepResult(
        evidence={"service_name": record.name, "status": result.status, "rows": len(rows),
                  "predictions": [round(p, 4) for p in predictions], "first_prediction": round(predictions[0], 4),
                  "latency_ms": round(result.latency_ms, 2), "no_key_status": no_key_status},
        display=[Code(client, "python", title="The client (key masked)"),
                 Table("The answer", ["trip", "tripDistance", "passengers", "hour", "predicted fare"],
                       [[i + 1, r["tripDistance"], r["passengerCount"], r["hour_of_day"], f"${p:.2f}"]
                        for i, (r, p) in enumerate(zip(rows, predictions))]),
                 Note(f"HTTP {result.status} in {result.latency_ms:.1f} ms; {len(body)} bytes sent.", "success")],
        summary=f"The service predicts ${predictions[0]:.2f} for the sample trip.",
    )


@action("deploy.predict", required=("service", "trips"))
def predict(ctx: StepContext) -> StepResult:
    """Call the service once with the sample trip, then (interactively) open the prediction prompt."""
    from tutor.predict import ReplTarget
    from tutor.serving.client import call_score, fetch_swagger

    record = _service(ctx)
    keys = ctx.workspace.service_keys(record.name) if record.properties.get("auth_enabled", True) else None
    result = call_score(record.scoring_uri, keys[0] if keys else None, {"data": sample_trips(ctx)[:1]})
    if not result.ok:
        raise StepFailed(f"The service answered {result.status}: {result.message}",
                         "Redeploy the service (go back one or two steps) and try again.")
    fare = float(result.predictions[0])
    command = f"tutor predict --username {ctx.username} --course-dir {ctx.course_dir.root} --service {record.name}"
    return StepResult(
        evidence={"service_name": record.name, "status": result.status, "prediction": round(fare, 4)},
        display=[Note(f"The sample trip: ${fare:.2f}. Open the prompt again later with: {command}", "info")],
        summary=f"The service answers (${fare:.2f} for the sample trip).",
        repl=ReplTarget(scoring_uri=record.scoring_uri, key=keys[0] if keys else None,
                        swagger=fetch_swagger(record.scoring_uri), keys=keys, name=record.name),
    )


@action("deploy.swagger", required=("service",))
def swagger(ctx: StepContext) -> StepResult:
    """Fetch the service's swagger document and show what it takes and returns."""
    from tutor.serving.client import fetch_swagger, input_spec

    record = _service(ctx)
    document = fetch_swagger(record.scoring_uri)
    if not document:
        raise StepFailed(f"The service {record.name} published no swagger document.",
                         "Decorate run() with @input_schema and @output_schema in score.py, then redeploy.")
    spec = input_spec(document)
    fields = spec.fields if spec else []
    paths = sorted(document.get("paths", {}))
    schemes = list((document.get("components", {}) or {}).get("securitySchemes", {}) or
                   document.get("securityDefinitions", {}) or {})
    return StepResult(
        evidence={"service_name": record.name, "paths": paths, "fields": [f.name for f in fields],
                  "bearer": bool(schemes)},
        display=[Table("What a row must contain", ["field", "type", "example"],
                       [[f.name, f.type, f.example] for f in fields]),
                 Facts("The document", [("paths", ", ".join(paths)), ("security", ", ".join(schemes) or "none"),
                                        ("address", record.properties.get("swagger_uri"))])],
        summary=f"The swagger document lists {len(fields)} input fields and {len(paths)} paths.",
    )


@action("deploy.rotate_key", required=("service", "trips"), optional=("which",))
def rotate_key(ctx: StepContext) -> StepResult:
    """Regenerate a key and show that the old one stops working at once while the other keeps working."""
    from tutor.serving.client import call_score

    record = _service(ctx)
    which = ctx.param("which", "Secondary")
    if which not in ("Primary", "Secondary"):
        raise TutorError(f"Key '{which}' is neither 'Primary' nor 'Secondary'.", "Fix the lesson's parameter.")
    ws = ctx.workspace
    before = ws.service_keys(record.name)
    old = before[0] if which == "Primary" else before[1]
    after = ws.regen_service_key(record.name, which)
    new = after[0] if which == "Primary" else after[1]
    other = after[1] if which == "Primary" else after[0]
    payload = {"data": sample_trips(ctx)[:1]}
    old_call = call_score(record.scoring_uri, old, payload)
    new_call = call_score(record.scoring_uri, new, payload)
    other_call = call_score(record.scoring_uri, other, payload)
    rows = [[f"old {which.lower()} key", mask(old), old_call.status],
            [f"new {which.lower()} key", mask(new), new_call.status],
            ["the other key", mask(other), other_call.status]]
    ok = old_call.status == 401 and new_call.ok and other_call.ok
    if not ok:
        raise StepFailed("The key rotation did not behave as expected: " + "; ".join(f"{r[0]} -> {r[2]}" for r in rows),
                         "Read the service log; redeploy the service and try again.")
    return StepResult(
        evidence={"service_name": record.name, "rotated": which, "old_key_status": old_call.status,
                  "new_key_status": new_call.status, "other_key_status": other_call.status},
        display=[Table("Calls after regenerating the key", ["key", "shown as", "HTTP status"], rows),
                 Note("Rotate keys one at a time: clients move to the other key, you regenerate this one, "
                      "they move back. Nobody is locked out.", "info")],
        summary=f"The old {which.lower()} key was refused at once; the new one and the other key work.",
    )


@action("deploy.scale_out", required=("name", "model", "trips"),
        optional=("replicas", "entry_script", "requests", "save_as", "endpoint"))
def scale_out(ctx: StepContext) -> StepResult:
    """Extra credit: a Kubernetes-style deployment with replicas, and its throughput against one worker."""
    import concurrent.futures

    import requests

    ws = ctx.workspace
    name = ctx.param("name")
    replicas = int(ctx.param("replicas", 2))
    total = int(ctx.param("requests", 400))
    if _as_endpoints(ctx) and ctx.param("endpoint"):
        # SDK v2: no Kubernetes cluster; the endpoint's deployment gets more instances.
        name = ctx.output(ctx.param("endpoint")) if ctx.param("endpoint") in ctx.outputs else ctx.param("endpoint")
        record = _scaled_endpoint(ctx, ws, name, replicas)
    else:
        ws.deploy_service(name, [_model_id(ctx)], _entry_script(ctx), kind="AKS", replicas=replicas,
                          cpu_cores=1.0, memory_gb=0.5, auth_enabled=True, overwrite=True,
                          description="extra credit: replicas behind one port")
        record = ws.wait_for_service(name, on_log_line=ctx.progress.log)
    if not record.scoring_uri:
        raise StepFailed(f"The service {name} has no scoring URI.", "Read its log (tutor predict, then :logs).")
    uri: str = record.scoring_uri
    key = ws.service_keys(name)[0]
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    body = {"data": sample_trips(ctx)[:1]}

    def load(concurrency: int) -> float:
        sessions = [requests.Session() for _ in range(concurrency)]

        def worker(index: int) -> int:
            session = sessions[index]
            done = 0
            for _ in range(total // concurrency):
                if session.post(uri, json=body, headers=headers, timeout=30).ok:
                    done += 1
            return done

        started = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
            done = sum(pool.map(worker, range(concurrency)))
        return done / (time.perf_counter() - started)

    with ctx.progress.task(f"Sending {total} requests at a time of 1, then {replicas * 2}", total=2) as bar:
        single = load(1)
        bar.advance()
        parallel = load(replicas * 2)
        bar.advance()
    save_as = ctx.param("save_as") or "aks_service"
    return StepResult(
        evidence={"service_name": name, "kind": record.kind, "replicas": replicas,
                  "requests_per_s_one_client": round(single, 1), "requests_per_s_parallel": round(parallel, 1),
                  "cpus": os.cpu_count()},
        outputs={save_as: name},
        display=[Table(f"Throughput of {name} ({replicas} replicas)", ["clients", "requests per second"],
                       [[1, round(single, 1)], [replicas * 2, round(parallel, 1)]], numeric=["requests per second"]),
                 Note(f"This machine has {os.cpu_count()} processor(s): replicas help until they run out.", "info")],
        summary=f"{replicas} replicas served {parallel:.0f} requests/s with parallel clients ({single:.0f} with one).",
    )


def _scaled_endpoint(ctx: StepContext, ws: Any, name: str, instances: int) -> Any:
    """The endpoint ``name``'s deployment again with ``instances`` instances (its keys, port and
    traffic kept), as ``online_deployments.begin_create_or_update`` with a new instance_count."""
    from tutor.workspace.local.endpoints import ENDPOINT

    before = ws.get_service(name)
    if ENDPOINT not in before.properties:
        raise StepFailed(f"{name} is not an online endpoint.", "Run the deployment step of this lesson again.")
    props = before.properties
    keys = ws.service_keys(name)
    ws.deploy_service(name, list(before.models), props["entry_script"], environment=props.get("environment"),
                      cpu_cores=float(props.get("cpu_cores", 1.0)), memory_gb=float(props.get("memory_gb", 0.5)),
                      replicas=instances, auth_enabled=True, tags=props.get("tags") or {},
                      description=str(props.get("description") or ""), overwrite=True, keys=keys)
    ws.update_service(name, properties={**ws.get_service(name).properties, ENDPOINT: props[ENDPOINT]})
    ws.wait_for_service(name, on_log_line=ctx.progress.log)
    return _record_as_endpoint(ws, name, instance_count=instances)


# What the course creates, read from its lessons: the step actions that create a resource
# named by their ``name`` parameter, and the creating calls in the lessons' Python and R code
# (the code a learner may run as shown, e.g. the AKS cluster of day 1's extra credit).
# Compute targets cleanup removes; a compute instance is the learner's own machine (stop it instead).
CLEANED_COMPUTE = ("AmlCompute", "AKS")


def course_resource_names(course: Any, username: str) -> tuple[set[str], set[str]]:
    """(service names, compute target names) the course's lessons create for ``username``."""
    from tutor.names import learner_names

    return (learner_names(course, username, ["service"]),
            learner_names(course, username, ["cluster", "compute", "compute_instance"]))


def course_resources(ws: Any, username: str, course: Any = None) -> tuple[list[Any], list[Any]]:
    """The services and clusters the course created for ``username``: exactly the names its
    lessons give them (``bob`` never matches ``bob2-taxi-cost-pred``)."""
    if course is None:
        from tutor.lessons import load_course

        course = load_course()
    service_names, compute_names = course_resource_names(course, username)
    services = [s for s in ws.list_services() if s.name in service_names]
    clusters = [c for c in ws.list_compute() if c.type in CLEANED_COMPUTE and c.name in compute_names]
    return services, clusters


def remove_resources(ws: Any, services: list[Any], clusters: list[Any]) -> tuple[list[str], list[str]]:
    """Delete services, then clusters; returns (what was removed, what could not be and why)."""
    removed: list[str] = []
    problems: list[str] = []
    for kind, items, delete in (("service", services, ws.delete_service), ("cluster", clusters, ws.delete_compute)):
        for item in items:
            try:
                delete(item.name)
                removed.append(f"{kind} {item.name}")
            except TutorError as exc:
                problems.append(exc.what)
    return removed, problems


@action("cleanup.resources", optional=("remove",))
def cleanup(ctx: StepContext) -> StepResult:
    """List the services and clusters the course created; remove them if the learner says so."""
    ws = ctx.workspace
    services, clusters = course_resources(ws, ctx.username)
    listing = [["service", s.name, s.state] for s in services] + \
              [["cluster", c.name, str(c.provisioning_state)] for c in clusters]
    # Compute instances are not the course's to delete: the learner stops theirs.
    instances = sum(1 for c in ws.list_compute() if c.type == "ComputeInstance")
    if not listing:
        return StepResult(evidence={"removed": [], "kept": [], "instances_left": instances},
                          display=[Note("Nothing to clean up.", "info")], summary="Nothing to clean up.")
    remove = ctx.param("remove")
    if remove is None:
        remove = ctx.confirm(
            f"Delete these {len(listing)} resources now? (On Azure they cost money while they exist; "
            "keep them if you still want to call your service.)", False)
    removed: list[str] = []
    problems: list[str] = []
    kept: list[str] = []
    if remove:
        removed, problems = remove_resources(ws, services, clusters)
    else:
        kept = [f"{kind} {name}" for kind, name, _ in listing]
    display: list[Any] = [Table("What the course created", ["kind", "name", "state"], listing)]
    if removed:
        display.append(Note("Removed: " + ", ".join(removed), "success"))
    if kept:
        display.append(Note("Kept (run `tutor cleanup` to remove them later): " + ", ".join(kept), "info"))
    for problem in problems:
        display.append(Note(problem, "warning"))
    return StepResult(
        evidence={"removed": removed, "kept": kept, "problems": problems, "instances_left": instances},
        display=display,
        summary=f"Removed {len(removed)}, kept {len(kept)}.",
    )
