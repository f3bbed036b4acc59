"""Data in the workspace: upload to the datastore, register a tabular dataset, define an environment."""

from __future__ import annotations

from pathlib import Path

from tutor.display import Display, Facts, Histogram, Note, Table
from tutor.errors import StepFailed
from tutor.steps import action
from tutor.steps.base import StepContext, StepResult


@action("datastore.upload", required=("files", "target_path"), optional=("overwrite",))
def upload(ctx: StepContext) -> StepResult:
    """Upload files named by earlier steps' outputs to the default datastore."""
    files = []
    for key in ctx.param("files"):
        path = Path(ctx.output(key))
        if not path.exists():
            source = ctx.output_steps.get(key)
            again = (f"Run the step that made it again: tutor reset --step {source}, then tutor start."
                     if source else "Run the step that made it again (tutor status shows which steps are done).")
            raise StepFailed(f"{path} (from the step that produced '{key}') is not there any more.", again)
        files.append(path)
    store = ctx.workspace.default_datastore
    target = ctx.param("target_path")
    overwrite = bool(ctx.param("overwrite", True))
    uploaded = store.upload_files(files, target_path=target, overwrite=overwrite)
    listing = store.list(target)
    return StepResult(
        evidence={"datastore": store.name, "target_path": target, "uploaded": len(uploaded)},
        outputs={"datastore_paths": [f"{target}/{f.name}" for f in files]},
        display=[Table(f"Datastore {store.name}: {target}/", ["path"], [[p] for p in listing])],
        summary=f"Uploaded {len(uploaded)} file(s) to {store.name}/{target}.",
    )


@action("dataset.register", required=("name", "path"), optional=("description", "file_format", "tags", "save_as"))
def register(ctx: StepContext) -> StepResult:
    """Register a tabular dataset from datastore files (a new version each time) and show its profile."""
    ws = ctx.workspace
    paths = ctx.param("path")
    if ctx.adopt:  # the learner registered it: the newest version is theirs
        record = ws.get_dataset(ctx.param("name"), "latest")
    else:
        record = ws.register_tabular_dataset(
            ctx.param("name"), paths if isinstance(paths, list) else [paths],
            description=ctx.param("description", ""), tags=ctx.param("tags") or {},
            create_new_version=True, file_format=ctx.param("file_format", "csv"),
        )
    profile = ws.dataset_profile(record.name, record.version)
    rows = [[c.name, c.kind, _short(c.min), _short(c.max), _short(c.mean), c.missing, c.distinct,
             Histogram(tuple(c.histogram))] for c in profile.columns]
    versions = [d.version for d in ws.list_dataset_versions(record.name)]
    return StepResult(
        evidence={"name": record.name, "version": record.version, "rows": profile.row_count,
                  "columns": len(profile.columns), "versions": versions},
        outputs={ctx.param("save_as") or "dataset": record.name},
        display=[
            Facts(f"Dataset {record.name}", [("version", record.version), ("versions so far", ", ".join(map(str, versions))),
                                             ("files", ", ".join(record.datastore_paths)),
                                             ("rows x columns", f"{profile.row_count:,} x {len(profile.columns)}")]),
            Table("Its profile (the studio's Explore > Profile tab)",
                  ["column", "type", "min", "max", "mean", "missing", "distinct", "histogram"], rows,
                  numeric=["min", "max", "mean", "missing", "distinct"]),
        ],
        summary=f"Registered {record.name} version {record.version} ({profile.row_count:,} rows).",
    )


def _short(value):
    if isinstance(value, float):
        return float(f"{value:.4g}")
    return value


@action("environment.register", required=("name", "pip_packages"), optional=("conda_packages", "python_version"))
def environment(ctx: StepContext) -> StepResult:
    """Define an environment (the packages a run needs) and check this machine has them."""
    ws = ctx.workspace
    if ctx.adopt:  # the learner registered it: the newest version is theirs
        record = ws.get_environment(ctx.param("name"), "latest")
    else:
        record = ws.register_environment(ctx.param("name"), ctx.param("pip_packages"),
                                         ctx.param("conda_packages") or (), ctx.param("python_version"))
    check = ws.check_environment(record.name, record.version)
    rows = [[pkg, check.installed.get(_base(pkg), "")] for pkg in record.pip_packages]
    display: list[Display] = [Table(f"Environment {record.name} version {record.version}",
                                    ["package", "installed here"], rows)]
    if check.provided_by_workspace:
        display.append(Note("Provided by the embedded workspace: " + ", ".join(check.provided_by_workspace), "info"))
    if check.missing or check.wrong_version:
        raise StepFailed(check.shortfall,
                         f"Install them with: {check.install_command}  — then run this step again.")
    if not check.python_ok:  # noted, not enforced: runs here use this machine's Python
        display.append(Note(f"The environment names another Python than this machine's; runs here use "
                            f"{check.python_found}, and on Azure the image has the version it names.", "info"))
    return StepResult(
        evidence={"name": record.name, "version": record.version, "packages": len(record.pip_packages), "ok": True},
        outputs={"environment": record.name},
        display=display,
        summary=f"Environment {record.name} v{record.version}: every package is here.",
    )


def _base(requirement: str) -> str:
    import re

    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower()
