"""Experiments and runs of the embedded workspace.

``submit`` snapshots the source folder into ``runs/<id>/`` (so later edits do not change a
queued run), records the run as Queued and asks the scheduler to start what fits. Each
run executes as a detached process (see :mod:`tutor.workspace.runner`); every read here
first brings the stored status up to date with that process (see :mod:`.scheduler`),
so the answers are right even after the tutor was closed and reopened.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Sequence

from tutor.errors import StepFailed, TutorError
from tutor.fileio import is_temporary
from tutor.workspace import naming
from tutor.workspace.base import (
    ComputeTarget,
    EnvironmentRecord,
    ExperimentRecord,
    LogCallback,
    MetricPoint,
    RunMetrics,
    RunRecord,
    RunStatus,
    ScriptRunConfig,
)
from tutor.workspace.local.core import WorkspaceCore, loads, not_found
from tutor.workspace.local.environments import split_environment_ref
from tutor.workspace.local.procs import file_lock, terminate
from tutor.workspace.local.scheduler import ACTIVE, LOCAL_TARGET, promote, refresh, refresh_active
from tutor.workspace.local.store import dumps, utcnow

# Azure refuses snapshots over 300 MB; so do we, before copying anything.
SNAPSHOT_LIMIT_BYTES = 300 * 2**20
# Never copied, at any depth: caches and other tools' state.
IGNORED_ANYWHERE = {"__pycache__", ".git", ".ipynb_checkpoints", ".tutor", ".venv"}
# Not copied from the top of the source folder: the run writes its own.
IGNORED_AT_TOP = {"outputs", "logs", "metrics.jsonl", "exit_code", "exit_code.tmp"}


def _record(row: Any, run_dir: Path) -> RunRecord:
    environment = None
    if row["environment"]:
        environment = f"{row['environment']}:{row['environment_version']}"
    return RunRecord(
        id=row["id"], experiment=row["experiment"], status=RunStatus(row["status"]), compute_target=row["compute"],
        script=row["script"], arguments=json.loads(row["arguments"]), environment=environment,
        tags=loads(row["tags"], {}), display_name=row["display_name"], submitted_at=row["submitted_at"],
        started_at=row["started_at"], ended_at=row["ended_at"], exit_code=row["exit_code"], error=row["error"],
        warnings=loads(row["warnings"], []), run_dir=str(run_dir), parent_id=row["parent_id"],
    )


def _name_of(target: str | ComputeTarget | None) -> str | None:
    return target.name if isinstance(target, ComputeTarget) else target


def _snapshot_ignore(source: Path, workspace_root: Path) -> Callable[[str, list[str]], set[str]]:
    def ignore(directory: str, names: list[str]) -> set[str]:
        here = Path(directory)
        skipped = {n for n in names if n in IGNORED_ANYWHERE}
        if here == source:
            skipped |= {n for n in names if n in IGNORED_AT_TOP or is_temporary(n)}
        for n in names:  # a source folder that holds the workspace must not copy it into itself
            full = (here / n).resolve()
            if full == workspace_root or workspace_root.is_relative_to(full):
                skipped.add(n)
        return skipped

    return ignore


def _snapshot_size(source: Path, ignore: Callable[[str, list[str]], set[str]]) -> int:
    total = 0
    for directory, dirs, files in os.walk(source):
        skipped = ignore(directory, dirs + files)
        dirs[:] = [d for d in dirs if d not in skipped]
        for name in files:
            if name not in skipped:
                try:
                    total += (Path(directory) / name).stat().st_size
                except OSError:
                    pass
    return total


def _read_tail(path: Path, lines: int) -> str:
    """The last ``lines`` lines of a file without reading all of a long log."""
    if lines <= 0 or not path.is_file():
        return ""
    with open(path, "rb") as handle:
        handle.seek(0, os.SEEK_END)
        end = handle.tell()
        block, data = 8192, b""
        while end > 0 and data.count(b"\n") <= lines:
            start = max(0, end - block)
            handle.seek(start)
            data = handle.read(end - start) + data
            end = start
    text = data.decode("utf-8", "replace")
    return "\n".join(text.splitlines()[-lines:])


class LogFollower:
    """Emits the complete lines appended to a log since the last call."""

    def __init__(self, path: Path, callback: LogCallback | None) -> None:
        self.path = path
        self.callback = callback
        self.offset = 0
        self.partial = b""

    def poll(self, final: bool = False) -> None:
        if self.callback is None:
            return
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self.offset)
                data = handle.read()
        except FileNotFoundError:
            return
        self.offset += len(data)
        data = self.partial + data
        lines = data.split(b"\n")
        self.partial = lines.pop()
        if final and self.partial:
            lines.append(self.partial)
            self.partial = b""
        for line in lines:
            self.callback(line.decode("utf-8", "replace").rstrip("\r"))


class RunsMixin(WorkspaceCore):
    # these come from the other mixins of LocalWorkspace
    get_compute: Callable[..., Any]
    wait_for_compute: Callable[..., Any]
    get_environment: Callable[..., Any]

    # -- experiments ------------------------------------------------------------------

    def experiment(self, name: str) -> ExperimentRecord:
        """Get or create the experiment ``name`` (Azure: ``Experiment(ws, name)``)."""
        naming.check_name(naming.EXPERIMENT, name)
        with self.store.write() as conn:
            conn.execute("INSERT OR IGNORE INTO experiments (name, created_at) VALUES (?, ?)", (name, utcnow()))
            row = conn.execute("SELECT * FROM experiments WHERE name = ?", (name,)).fetchone()
        return ExperimentRecord(name=row["name"], created_at=row["created_at"])

    def list_experiments(self) -> list[ExperimentRecord]:
        with self.store.read() as conn:
            rows = conn.execute("SELECT * FROM experiments ORDER BY created_at").fetchall()
        return [ExperimentRecord(name=r["name"], created_at=r["created_at"]) for r in rows]

    # -- submitting ---------------------------------------------------------------------

    def submit(self, experiment: str | ExperimentRecord, config: ScriptRunConfig) -> RunRecord:
        """Snapshot ``config.source_directory`` and queue the run (Azure: ``exp.submit(config)``)."""
        exp_name = experiment.name if isinstance(experiment, ExperimentRecord) else experiment
        naming.check_name(naming.EXPERIMENT, exp_name)
        if not isinstance(config, ScriptRunConfig):
            raise TutorError(f"submit() takes a ScriptRunConfig, not {type(config).__name__}.",
                             "Build one: ScriptRunConfig(source_directory=..., script=..., compute_target=...).")
        source = Path(config.source_directory).expanduser().resolve()
        if not source.is_dir():
            raise TutorError(f"The source folder {source} does not exist.", "Point source_directory at the training folder.")
        script = PurePosixPath(str(config.script).replace("\\", "/"))
        if script.is_absolute() or ".." in script.parts or not script.parts:
            raise TutorError(f"The script '{config.script}' must be a path inside the source folder.",
                             f"Give it relative to {source}, like 'train.py'.")
        if not (source / script).is_file():
            here = sorted(p.name for p in source.glob("*.py"))[:10]
            raise TutorError(f"There is no script {source / script}.",
                             "Scripts in the source folder: " + (", ".join(here) or "none") + ".")
        if script.suffix != ".py":
            raise TutorError(f"The script '{script}' is not a Python file.", "Runs execute .py scripts.")
        if isinstance(config.arguments, (str, bytes)):
            raise TutorError("arguments must be a list, not one string.", 'Write arguments=["--data_user", "alice"].')
        arguments = [str(a) for a in config.arguments]
        tags = naming.check_tags(config.tags)
        compute = _name_of(config.compute_target) or LOCAL_TARGET
        if compute != LOCAL_TARGET:
            target = self.wait_for_compute(compute)  # finishes provisioning a new cluster; raises if it failed
            if target.type == "AKS":
                raise TutorError(f"'{compute}' is an AKS cluster: it hosts deployed services, not runs.",
                                 "Submit the run to a compute cluster (AmlCompute) or 'local'.")
        env_name, env_version = None, None
        if isinstance(config.environment, EnvironmentRecord):
            env = self.get_environment(config.environment.name, config.environment.version)
            env_name, env_version = env.name, env.version
        elif config.environment:
            name, version = split_environment_ref(config.environment)
            env = self.get_environment(name, version)
            env_name, env_version = env.name, env.version
        self.experiment(exp_name)

        run_id = f"{exp_name}_{int(time.time())}_{os.urandom(4).hex()}"
        run_dir = self.layout.run_dir(run_id)
        ignore = _snapshot_ignore(source, self.layout.root)
        size = _snapshot_size(source, ignore)
        if size > SNAPSHOT_LIMIT_BYTES:
            raise TutorError(
                f"The source folder {source} holds {size / 2**20:.0f} MB; a run snapshot may hold 300 MB.",
                "Keep data on the datastore (register it as a dataset) instead of in the training folder.",
            )
        shutil.copytree(source, run_dir, ignore=ignore)
        try:
            (run_dir / "outputs").mkdir(exist_ok=True)
            (run_dir / "logs").mkdir(exist_ok=True)
            with self.store.write() as conn:
                seq = conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM runs").fetchone()[0]
                conn.execute(
                    "INSERT INTO runs (id, experiment, seq, status, compute, script, arguments, environment, "
                    "environment_version, tags, display_name, source_directory, submitted_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (run_id, exp_name, seq, RunStatus.QUEUED.value, compute, script.as_posix(),
                     json.dumps(arguments), env_name, env_version, dumps(tags), config.display_name,
                     str(source), utcnow()),
                )
        except BaseException:
            shutil.rmtree(run_dir, ignore_errors=True)
            raise
        promote(self.store, self.layout, compute)
        return self.get_run(run_id)

    # -- reading ---------------------------------------------------------------------

    def _run_row(self, run_id: str) -> Any:
        with self.store.read() as conn:
            row = conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None:
                recent = [r[0] for r in conn.execute("SELECT id FROM runs ORDER BY seq DESC LIMIT 5")]
                raise TutorError(
                    f"There is no run '{run_id}' in workspace '{self.name}'.",
                    ("Recent runs: " + ", ".join(recent) + "." if recent else "No run was submitted yet.")
                    + " Copy the id from list_runs().",
                )
        return row

    def get_run(self, run_id: str) -> RunRecord:
        """A run's current state, derived from its process if it is executing."""
        row = self._run_row(run_id)
        if row["status"] in ACTIVE:
            refresh(self.store, self.layout, row)
            row = self._run_row(run_id)
        if row["status"] == RunStatus.QUEUED.value:  # (again, when its claimant died before starting it)
            promote(self.store, self.layout, row["compute"])
        elif row["status"] not in ACTIVE:
            return _record(row, self.layout.run_dir(run_id))
        return _record(self._run_row(run_id), self.layout.run_dir(run_id))

    def list_runs(self, experiment: str | ExperimentRecord | None = None) -> list[RunRecord]:
        """Top-level runs, newest first (of one experiment if given); children via get_children."""
        name = experiment.name if isinstance(experiment, ExperimentRecord) else experiment
        if name is not None and name not in {e.name for e in self.list_experiments()}:
            raise not_found("experiment", name, (e.name for e in self.list_experiments()),
                            "submit a run to it first")
        refresh_active(self.store, self.layout)
        promote(self.store, self.layout)
        with self.store.read() as conn:
            if name is None:
                rows = conn.execute("SELECT * FROM runs WHERE parent_id IS NULL ORDER BY seq DESC").fetchall()
            else:
                rows = conn.execute("SELECT * FROM runs WHERE experiment = ? AND parent_id IS NULL "
                                    "ORDER BY seq DESC", (name,)).fetchall()
        return [_record(row, self.layout.run_dir(row["id"])) for row in rows]

    def get_metrics(self, run_id: str) -> RunMetrics:
        """Last value per metric name (``metrics["R^2"]``), and every value in ``.history``."""
        self.get_run(run_id)  # ingests what a running run has logged so far
        with self.store.read() as conn:
            rows = conn.execute(
                "SELECT name, value, time, step FROM metrics WHERE run_id = ? ORDER BY name, step", (run_id,)
            ).fetchall()
        history: dict[str, list[MetricPoint]] = {}
        for row in rows:
            history.setdefault(row["name"], []).append(
                MetricPoint(value=json.loads(row["value"]), time=row["time"], step=int(row["step"]))
            )
        return RunMetrics(history)

    def get_log_tail(self, run_id: str, lines: int = 40) -> str:
        """The last lines of the run's ``logs/std_log.txt`` ("" before it starts)."""
        self._run_row(run_id)
        return _read_tail(self.layout.run_log(run_id), lines)

    # -- waiting ---------------------------------------------------------------------

    def wait_for_completion(self, run_id: str, on_log_line: LogCallback | None = None,
                            timeout: float | None = None, raise_on_error: bool = False,
                            poll_interval: float = 0.25) -> RunRecord:
        """Wait for the run to end, calling ``on_log_line`` for each new log line.

        A timeout raises a TutorError but leaves the run going (wait again or cancel it).
        With ``raise_on_error`` a Failed/Canceled run raises StepFailed with the log tail.
        """
        follower = LogFollower(self.layout.run_log(run_id), on_log_line)
        deadline = None if timeout is None else time.monotonic() + timeout
        interval = min(0.05, poll_interval)
        while True:
            run = self.get_run(run_id)
            follower.poll()
            if run.status.is_terminal:
                follower.poll(final=True)
                break
            if deadline is not None and time.monotonic() > deadline:
                raise TutorError(
                    f"Run {run_id} is still {run.status.value} after {timeout:g} s.",
                    "It keeps going in the background: wait for it again, or cancel it.",
                )
            time.sleep(interval)
            interval = min(poll_interval, interval * 1.5)
        if raise_on_error and run.status != RunStatus.COMPLETED:
            raise StepFailed(
                f"Run {run_id} {run.status.value.lower()}: {run.error or 'no reason was recorded'}",
                "Read the end of its log below, fix the script or its data, and submit again.",
                log_tail=self.get_log_tail(run_id),
            )
        return run

    def wait_for_runs(self, run_ids: Sequence[str], on_status: Callable[[list[RunRecord]], None] | None = None,
                      timeout: float | None = None, poll_interval: float = 0.5) -> list[RunRecord]:
        """Wait for several runs; ``on_status(runs)`` is called whenever a status changes."""
        deadline = None if timeout is None else time.monotonic() + timeout
        seen: list[str] = []
        while True:
            runs = [self.get_run(run_id) for run_id in run_ids]
            statuses = [run.status.value for run in runs]
            if statuses != seen:
                seen = statuses
                if on_status is not None:
                    on_status(runs)
            if all(run.status.is_terminal for run in runs):
                return runs
            if deadline is not None and time.monotonic() > deadline:
                waiting = [run.id for run in runs if not run.status.is_terminal]
                raise TutorError(f"{len(waiting)} run(s) still going after {timeout:g} s: {', '.join(waiting)}.",
                                 "They keep going in the background: wait again, or cancel them.")
            time.sleep(poll_interval)

    # -- canceling ---------------------------------------------------------------------

    def cancel(self, run_id: str) -> RunRecord:
        """Cancel a queued or executing run; a finished run is returned unchanged."""
        self._run_row(run_id)
        with file_lock(self.layout.scheduler_lock):  # no promotion starts it while we cancel
            with self.store.write() as conn:
                row = conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
                if RunStatus(row["status"]).is_terminal:
                    return _record(row, self.layout.run_dir(run_id))
                conn.execute(
                    "UPDATE runs SET status = ?, error = ?, ended_at = ? WHERE id = ?",
                    (RunStatus.CANCELED.value, "The run was canceled.", utcnow(), run_id),
                )
        if row["status"] in ACTIVE and row["pid"]:
            # Outside the lock: the run's wrapper takes it on its way out.
            terminate(int(row["pid"]), row["pid_token"])
        promote(self.store, self.layout, row["compute"])
        return self.get_run(run_id)
