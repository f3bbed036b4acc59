"""Deciding run status from processes, and starting queued runs, without a daemon.

Nothing runs in the background to watch runs. Instead every reader derives the truth:

* a run that is Preparing/Running has a recorded (pid, start token). If its wrapper wrote
  ``exit_code``, the run is finished (Completed or Failed by the code); if the process is
  still alive, it is running; if it vanished without an exit code (killed, machine
  rebooted), it is Failed with that reason. So a run is never "Running" forever.
* queued runs are started by :func:`promote`, which every submit, poll and wait calls,
  and which each run's wrapper calls as it exits, so the queue drains even when the
  tutor is closed. ``promote`` holds a file lock, so two processes never start the same
  run or overfill a cluster.
* starting a run is three steps: claim it (Queued -> Preparing), start its wrapper, record
  the wrapper's (pid, start token). The claim names its claimant: ``claimed_at`` holds the
  claim's time, the claimant's pid and its start token (``"<time> <pid> <token>"``), which
  together are unique, so they also identify the claim. The wrapper gets the claim and
  records its own pid under it (:func:`take_claim`), so a claimant killed after starting
  it loses nothing. A claim with no recorded pid whose claimant is gone goes back to
  Queued at once (:func:`release_orphan_claim`) and is started again; a wrapper whose
  claim was released meanwhile finds its claim gone and exits without touching the run.
  So a kill -9 at any moment of a start costs no wait, and never runs a script twice.

A cluster with ``max_nodes`` N runs at most min(N, CPU count) runs at once: each node is a
process on this machine, and more processes than cores only makes every run slower.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Mapping

from tutor.fileio import atomic_write
from tutor.workspace.base import ProvisioningState, RunStatus
from tutor.workspace.local.layout import Layout
from tutor.workspace.local.metrics import ingest_metrics, pending_bytes
from tutor.workspace.local.procs import file_lock, launch_detached, process_is_running, process_start_token
from tutor.workspace.local.store import Store, utcnow

LOCAL_TARGET = "local"
ACTIVE = (RunStatus.PREPARING.value, RunStatus.RUNNING.value)
# How long a claimed run whose claimant is alive (or unknown) may go without a recorded pid
# before it counts as never started. A claimant known to be dead is not waited for.
LAUNCH_GRACE = timedelta(seconds=30)

VANISHED = (
    "The run's process ended unexpectedly before it wrote an exit code (it was killed, ran "
    "out of memory, or the machine restarted). The end of its log may say more; submit it again."
)


def cpu_count() -> int:
    """Cores this process may use (respects CPU affinity in containers)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def slots_for(conn: sqlite3.Connection, compute: str) -> int | None:
    """How many runs ``compute`` executes at once; None if it does not exist."""
    if compute == LOCAL_TARGET:
        return cpu_count()
    row = conn.execute("SELECT type, max_nodes FROM compute WHERE name = ?", (compute,)).fetchone()
    if row is None:
        return None
    if row["type"] == "AmlCompute":
        return max(1, min(int(row["max_nodes"]), cpu_count()))
    return cpu_count()


# --------------------------------------------------------------------------- exit codes


def write_exit_file(path: Path, code: int, reason: str | None) -> None:
    """Written atomically (rename), so a reader never sees half a file."""
    atomic_write(path, json.dumps({"code": code, "reason": reason, "ended_at": utcnow()}))


def read_exit_file(path: Path) -> tuple[int, str | None, str] | None:
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    try:
        data = json.loads(text)
        return int(data["code"]), data.get("reason"), str(data.get("ended_at") or utcnow())
    except (ValueError, KeyError, TypeError):
        return 1, f"The run's exit file {path} is unreadable.", utcnow()


def finalize(store: Store, layout: Layout, run_id: str, code: int, reason: str | None, ended_at: str) -> None:
    """Record the end of a run from its exit code (idempotent; a Canceled run stays Canceled)."""
    ingest_metrics(store, run_id, layout.run_dir(run_id), final=True)
    status = RunStatus.COMPLETED if code == 0 else RunStatus.FAILED
    if code != 0 and not reason:
        reason = f"The script exited with code {code}; the end of its log says why."
    with store.write() as conn:
        conn.execute(
            f"UPDATE runs SET status = ?, exit_code = ?, error = ?, ended_at = ? "
            f"WHERE id = ? AND status IN {ACTIVE}",
            (status.value, code, reason if code != 0 else None, ended_at, run_id),
        )
        conn.execute("UPDATE runs SET exit_code = ? WHERE id = ? AND exit_code IS NULL", (code, run_id))


def fail_run(store: Store, run_id: str, reason: str, *, from_statuses: tuple[str, ...] = ACTIVE) -> bool:
    with store.write() as conn:
        cursor = conn.execute(
            f"UPDATE runs SET status = ?, error = ?, ended_at = ? "
            f"WHERE id = ? AND status IN ({','.join('?' * len(from_statuses))})",
            (RunStatus.FAILED.value, reason, utcnow(), run_id, *from_statuses),
        )
        return cursor.rowcount > 0


# --------------------------------------------------------------------------- claims


def new_claim() -> str:
    """This process's claim on a run: the time, its pid and its start token (see module doc)."""
    me = os.getpid()
    return f"{utcnow()} {me} {process_start_token(me) or '-'}"


def parse_claim(value: str | None) -> tuple[datetime | None, int | None, str | None]:
    """(claimed at, claimant pid, claimant start token); the pid is None for a claim written
    before claims named their claimant (just a time)."""
    if not value:
        return None, None, None
    parts = value.split()
    try:
        claimed = datetime.fromisoformat(parts[0])
    except ValueError:
        return None, None, None
    if len(parts) != 3 or not parts[1].isdigit():
        return claimed, None, None
    return claimed, int(parts[1]), None if parts[2] == "-" else parts[2]


def release_orphan_claim(store: Store, run_id: str, claim: str) -> bool:
    """Put a run claimed by a process that died before recording its wrapper back in the
    queue (only if nothing recorded a pid or claimed it again meanwhile)."""
    with store.write() as conn:
        return conn.execute(
            "UPDATE runs SET status = ?, claimed_at = NULL WHERE id = ? AND status = ? AND pid IS NULL "
            "AND claimed_at = ?",
            (RunStatus.QUEUED.value, run_id, RunStatus.PREPARING.value, claim),
        ).rowcount > 0


def take_claim(store: Store, run_id: str, claim: str, pid: int, token: str | None) -> bool:
    """The wrapper started under ``claim`` records itself as the run's process.

    False when the claim is no longer the run's (it was released because its claimant died,
    and maybe claimed again): this wrapper must then leave the run alone.
    """
    with store.write() as conn:
        row = conn.execute("SELECT claimed_at, pid FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None or row["claimed_at"] != claim:
            return False
        if row["pid"] is None:
            conn.execute("UPDATE runs SET pid = ?, pid_token = ? WHERE id = ?", (pid, token, run_id))
        return row["pid"] is None or int(row["pid"]) == pid


# --------------------------------------------------------------------------- refreshing


def refresh(store: Store, layout: Layout, row: sqlite3.Row) -> None:
    """Bring one run's stored status up to date with its process (see module doc)."""
    if row["status"] not in ACTIVE:
        return
    run_id = row["id"]
    exit_file = layout.exit_file(run_id)
    finished = read_exit_file(exit_file)
    if finished is None:
        if row["pid"] is None:
            claimed, claimant, claimant_token = parse_claim(row["claimed_at"])
            if claimant is not None and not process_is_running(claimant, claimant_token):
                # Killed between claiming and recording: if the wrapper did start, it records
                # itself under the claim; otherwise no one will, and the run goes back in the queue.
                release_orphan_claim(store, run_id, row["claimed_at"])
                return
            if claimed is None or datetime.now(timezone.utc) - claimed > LAUNCH_GRACE:
                fail_run(store, run_id, "The run's process never started. Submit the run again.")
            return
        if process_is_running(row["pid"], row["pid_token"]):
            if pending_bytes(layout.run_dir(run_id), int(row["metrics_offset"])):
                ingest_metrics(store, run_id, layout.run_dir(run_id))
            return
        finished = read_exit_file(exit_file)  # it may have been written just before exiting
    if finished is None:
        ingest_metrics(store, run_id, layout.run_dir(run_id), final=True)
        fail_run(store, run_id, VANISHED)
    else:
        finalize(store, layout, run_id, *finished)


def refresh_active(store: Store, layout: Layout, compute: str | None = None) -> None:
    """Refresh every Preparing/Running run (of one compute target, if given)."""
    query = f"SELECT * FROM runs WHERE status IN {ACTIVE}"
    args: tuple[str, ...] = ()
    if compute is not None:
        query += " AND compute = ?"
        args = (compute,)
    with store.read() as conn:
        rows = conn.execute(query, args).fetchall()
    for row in rows:
        refresh(store, layout, row)


# --------------------------------------------------------------------------- starting


def run_environment(layout: Layout, run_id: str, base_env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a run's process: the caller's plus the run's own variables."""
    env = dict(os.environ if base_env is None else base_env)
    env["TUTOR_RUN_ID"] = run_id
    env["TUTOR_RUN_DIR"] = str(layout.run_dir(run_id))
    env["TUTOR_WORKSPACE_DIR"] = str(layout.root)
    env["PYTHONUNBUFFERED"] = "1"  # the log is streamed while the run writes it
    # The wrapper (and a script using tutor.workspace.local) must import this package even
    # when the tutor runs from a checkout that is not installed; and the script's
    # `from azureml.core import Run` must find the embedded SDK first, even beside an
    # installed azureml-core: a run of the embedded workspace logs to the embedded workspace.
    from tutor.sdk import pythonpath

    env["PYTHONPATH"] = pythonpath(env.get("PYTHONPATH", ""))
    return env


def _start(store: Store, layout: Layout, run_id: str, base_env: Mapping[str, str] | None) -> bool:
    claim = new_claim()
    with store.write() as conn:
        claimed = conn.execute(
            "UPDATE runs SET status = ?, claimed_at = ? WHERE id = ? AND status = ?",
            (RunStatus.PREPARING.value, claim, run_id, RunStatus.QUEUED.value),
        ).rowcount
    if not claimed:
        return False
    argv = [sys.executable, "-m", "tutor.workspace.runner", str(layout.root), run_id, claim]
    try:
        pid, token = launch_detached(
            argv, cwd=layout.run_dir(run_id), env=run_environment(layout, run_id, base_env), log=layout.run_log(run_id)
        )
    except OSError as exc:
        fail_run(store, run_id, f"Could not start the run's Python ({sys.executable}): {exc}.")
        return False
    take_claim(store, run_id, claim, pid, token)  # the wrapper records itself too, whichever is first
    return True


def promote(store: Store, layout: Layout, compute: str | None = None,
            base_env: Mapping[str, str] | None = None) -> list[str]:
    """Start queued runs while their compute target has free slots; return the started ids."""
    started: list[str] = []
    with store.read() as conn:
        query = "SELECT DISTINCT compute FROM runs WHERE status = ?"
        args: tuple[str, ...] = (RunStatus.QUEUED.value,)
        if compute is not None:
            query += " AND compute = ?"
            args += (compute,)
        targets = [row[0] for row in conn.execute(query, args).fetchall()]
    if not targets:
        return started
    with file_lock(layout.scheduler_lock):
        for target in targets:
            refresh_active(store, layout, target)
            with store.read() as conn:
                slots = slots_for(conn, target)
                state = conn.execute("SELECT state FROM compute WHERE name = ?", (target,)).fetchone()
                active = conn.execute(
                    f"SELECT COUNT(*) FROM runs WHERE compute = ? AND status IN {ACTIVE}", (target,)
                ).fetchone()[0]
                queued = [
                    row[0] for row in conn.execute(
                        "SELECT id FROM runs WHERE compute = ? AND status = ? ORDER BY seq",
                        (target, RunStatus.QUEUED.value),
                    ).fetchall()
                ]
            if slots is None:
                for run_id in queued:
                    fail_run(store, run_id, f"The compute target '{target}' no longer exists, so the run "
                             "could not start. Create the compute again and resubmit.",
                             from_statuses=(RunStatus.QUEUED.value,))
                continue
            if target != LOCAL_TARGET and (state is None or state[0] != ProvisioningState.SUCCEEDED.value):
                continue  # started once the compute finishes provisioning
            for run_id in queued[: max(0, slots - int(active))]:
                if _start(store, layout, run_id, base_env):
                    started.append(run_id)
    return started
