"""Workspace and compute steps: connect, write the config, compute instance, cluster, experiment."""

from __future__ import annotations

import time

from tutor.display import Display, Facts, Note, Table
from tutor.steps import action
from tutor.steps.base import StepContext, StepResult


@action("workspace.connect")
def connect(ctx: StepContext) -> StepResult:
    """Open (or create) the learner's workspace and show what it is."""
    ws = ctx.workspace
    if ws.kind == "azure":
        # The first sign-in may be a device-code login: the learner must see the address and code.
        ctx.progress.status("Signing in to Azure")
        ws.connect(on_device_code=lambda message: ctx.progress.notice("Sign in to Azure", message))
    details = ws.get_details()
    items = [(k, v) for k, v in details.items() if isinstance(v, (str, int, float)) and v not in ("", None)]
    return StepResult(
        evidence={"workspace": ws.name, "kind": ws.kind},
        outputs={"workspace_name": ws.name},
        display=[Facts(f"Workspace {ws.name}", items)],
        summary=f"Connected to the {'embedded' if ws.kind == 'local' else 'Azure ML'} workspace {ws.name}.",
    )


def _secret_fields(content: str) -> int:
    """How many entries of a config.json look like a secret (a key, password, token or credential)."""
    import json

    try:
        entries = json.loads(content)
    except ValueError:
        return 0
    words = ("key", "secret", "password", "token", "credential")
    return sum(1 for name in (entries if isinstance(entries, dict) else {}) if any(w in name.lower() for w in words))


@action("workspace.write_config", optional=("path",))
def write_config(ctx: StepContext) -> StepResult:
    """Write the workspace's config.json so scripts and later sessions can find it."""
    target = ctx.course_dir.root / (ctx.param("path") or "config.json")
    written = ctx.workspace.write_config(target)
    content = written.read_text(encoding="utf-8")
    from tutor.display import Code

    return StepResult(
        evidence={"config_path": str(written), "secret_fields": _secret_fields(content)},
        outputs={"config_path": str(written)},
        display=[Code(content, "json", title=str(written))],
        summary=f"Wrote {written}.",
    )


@action("compute.instance", required=("name",), optional=("vm_size",))
def compute_instance(ctx: StepContext) -> StepResult:
    """Create the learner's compute instance (their development machine)."""
    states: list[str] = []

    def on_state(state: str, message: str) -> None:
        states.append(state)
        ctx.progress.status(f"{state}: {message}" if message else state)

    kwargs = {"vm_size": ctx.param("vm_size")} if ctx.param("vm_size") else {}
    target = ctx.workspace.create_compute_instance(ctx.param("name"), on_state=on_state, **kwargs)
    props = [(k, v) for k, v in (target.properties or {}).items() if not isinstance(v, (dict, list))]
    packages = (target.properties or {}).get("packages") or {}
    display: list[Display] = [Facts(f"Compute instance {target.name} ({target.vm_size})", props)]
    if isinstance(packages, dict) and packages:
        display.append(Table("Packages on it", ["package", "version"], [[k, v] for k, v in sorted(packages.items())]))
    return StepResult(
        evidence={"name": target.name, "state": str(target.provisioning_state), "vm_size": target.vm_size},
        outputs={"compute_instance": target.name},
        display=display,
        summary=f"Compute instance {target.name} is {target.provisioning_state}.",
    )


@action("compute.cluster", required=("name",),
        optional=("vm_size", "min_nodes", "max_nodes", "idle_seconds_before_scaledown", "save_as"))
def compute_cluster(ctx: StepContext) -> StepResult:
    """Get or create a compute cluster and wait until it is provisioned."""
    ws = ctx.workspace
    name = ctx.param("name")
    started = time.monotonic()
    existing = {c.name for c in ws.list_compute()}
    kwargs = {k: ctx.param(k) for k in ("vm_size", "min_nodes", "max_nodes", "idle_seconds_before_scaledown")
              if ctx.param(k) is not None}
    target = ws.get_or_create_cluster(name, **kwargs)
    target = ws.wait_for_compute(name, on_state=lambda state, msg: ctx.progress.status(f"{name}: {state} {msg}".strip()))
    reused = name in existing
    evidence = {"name": target.name, "state": str(target.provisioning_state), "vm_size": target.vm_size,
                "min_nodes": target.min_nodes, "max_nodes": target.max_nodes, "slots": target.slots,
                "reused": reused}
    try:  # nodes allocated now (Azure: get_status().current_node_count)
        evidence["nodes_now"] = ws.get_compute_status(name).current_node_count
    except Exception:  # a figure for the step's question, not a reason to fail the step
        pass
    return StepResult(
        evidence=evidence,
        outputs={ctx.param("save_as") or "cluster": target.name},
        display=[
            Facts(f"Cluster {target.name}", [
                ("state", str(target.provisioning_state)), ("VM size", target.vm_size),
                ("nodes", f"{target.min_nodes} to {target.max_nodes}"),
                ("idle scale-down", f"{target.idle_seconds_before_scaledown} s"),
                ("runs at once here", target.slots),
                ("time", f"{time.monotonic() - started:.1f} s"),
            ]),
            Note("It already existed, so it was reused (get-or-create)." if reused else
                 "Remember: a cluster costs money while nodes run. The last step of the day deletes it.", "info"),
        ],
        summary=f"Cluster {target.name} is ready ({'reused' if reused else 'created'}).",
    )


@action("experiment.create", required=("name",), optional=("save_as",))
def experiment(ctx: StepContext) -> StepResult:
    """Create (or get) an experiment: the folder that groups related runs."""
    record = ctx.workspace.experiment(ctx.param("name"))
    runs = ctx.workspace.list_runs(record.name)
    return StepResult(
        evidence={"experiment": record.name, "runs_so_far": len(runs)},
        outputs={ctx.param("save_as") or "experiment": record.name},
        display=[Facts("Experiment", [("name", record.name), ("created", record.created_at),
                                      ("runs so far", len(runs))])],
        summary=f"Experiment {record.name} is ready.",
    )
