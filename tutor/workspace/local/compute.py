"""Compute targets of the embedded workspace: this machine, as an instance, as clusters and as AKS.

A cluster is a name, an Azure VM size (checked against Azure's list, so the lesson's
values are the real ones) and a node count. Its nodes are processes on this machine:
``max_nodes`` bounds how many runs execute at once (see :mod:`.scheduler`).

Provisioning is real but short: it checks that this machine can start a run process
(the tutor's Python starts and imports the run wrapper with the environment runs get),
which is what would otherwise fail, confusingly, in the first run.

An AKS cluster (Azure's compute type ``AKS``) hosts deployed services, not runs: its
provisioning checks that this machine can start the scoring service's processes.
"""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

from tutor.errors import TutorError
from tutor.workspace import naming
from tutor.workspace.base import ComputeStatus, ComputeTarget, ProvisioningState, RunStatus, StateCallback
from tutor.workspace.local.core import WorkspaceCore, loads, not_found
from tutor.workspace.local.procs import file_lock
from tutor.workspace.local.scheduler import ACTIVE, LOCAL_TARGET, cpu_count, refresh_active, run_environment
from tutor.workspace.local.store import dumps, utcnow

# Azure VM sizes the course (and its usual variants) use: (vCPUs, memory in GiB).
VM_SIZES: dict[str, tuple[int, float]] = {
    "STANDARD_D1_V2": (1, 3.5), "STANDARD_D2_V2": (2, 7), "STANDARD_D3_V2": (4, 14), "STANDARD_D4_V2": (8, 28),
    "STANDARD_D11_V2": (2, 14), "STANDARD_D12_V2": (4, 28), "STANDARD_D13_V2": (8, 56), "STANDARD_D14_V2": (16, 112),
    "STANDARD_D11": (2, 14), "STANDARD_D12": (4, 28), "STANDARD_D13": (8, 56), "STANDARD_D14": (16, 112),
    "STANDARD_DS1_V2": (1, 3.5), "STANDARD_DS2_V2": (2, 7), "STANDARD_DS3_V2": (4, 14), "STANDARD_DS4_V2": (8, 28),
    "STANDARD_DS11_V2": (2, 14), "STANDARD_DS12_V2": (4, 28), "STANDARD_DS13_V2": (8, 56),
    "STANDARD_D2_V3": (2, 8), "STANDARD_D4_V3": (4, 16), "STANDARD_D2S_V3": (2, 8), "STANDARD_D4S_V3": (4, 16),
    "STANDARD_E4S_V3": (4, 32), "STANDARD_F4S_V2": (4, 8), "STANDARD_NC6": (6, 56),
}
DEFAULT_CLUSTER_SIZE = "STANDARD_D2_V2"
DEFAULT_INSTANCE_SIZE = "STANDARD_DS3_V2"
#: What Azure gives an AKS cluster created without a VM size or agent count.
DEFAULT_AKS_SIZE, DEFAULT_AKS_AGENTS = "STANDARD_D3_V2", 3
AKS = "AKS"
PROBE_TIMEOUT = 60.0


def _check_vm_size(vm_size: str) -> str:
    size = vm_size.strip().upper() if isinstance(vm_size, str) else ""
    if size not in VM_SIZES:
        raise TutorError(
            f"'{vm_size}' is not a VM size the workspace knows.",
            "Use an Azure VM size such as STANDARD_D2_V2 or STANDARD_D13 (known: "
            + ", ".join(sorted(VM_SIZES)) + ").",
        )
    return size


def _kind(compute_type: str) -> str:
    return {"AmlCompute": "compute cluster", "ComputeInstance": "compute instance", AKS: "AKS cluster"}.get(
        compute_type, compute_type)


def _record(row: Any) -> ComputeTarget:
    slots = cpu_count()
    if row["type"] == "AmlCompute":
        slots = max(1, min(int(row["max_nodes"]), cpu_count()))
    elif row["type"] == AKS:
        slots = int(row["max_nodes"])  # its agent nodes; it runs services, never runs
    return ComputeTarget(
        name=row["name"], type=row["type"], vm_size=row["vm_size"],
        provisioning_state=ProvisioningState(row["state"]), min_nodes=int(row["min_nodes"]),
        max_nodes=int(row["max_nodes"]), idle_seconds_before_scaledown=int(row["idle_seconds"]), slots=slots,
        created_at=row["created_at"], state_message=row["state_message"], properties=loads(row["properties"], {}),
    )


class ComputeMixin(WorkspaceCore):
    # -- reading ---------------------------------------------------------------------

    def _compute_row(self, name: str) -> Any:
        with self.store.read() as conn:
            return conn.execute("SELECT * FROM compute WHERE name = ?", (name,)).fetchone()

    def get_compute(self, name: str) -> ComputeTarget:
        """The compute target ``name`` (Azure: ``ComputeTarget(ws, name)``)."""
        row = self._compute_row(name)
        if row is None:
            raise not_found("compute target", name, (c.name for c in self.list_compute()),
                            "create it first (get_or_create_cluster / create_compute_instance)")
        return _record(row)

    def list_compute(self) -> list[ComputeTarget]:
        with self.store.read() as conn:
            rows = conn.execute("SELECT * FROM compute ORDER BY created_at").fetchall()
        return [_record(row) for row in rows]

    def get_compute_status(self, name: str) -> ComputeStatus:
        """Nodes in use now = runs executing on it; queued runs wait for a free node."""
        target = self.get_compute(name)
        refresh_active(self.store, self.layout, name)
        with self.store.read() as conn:
            rows = conn.execute(
                "SELECT id, status FROM runs WHERE compute = ? AND status IN (?, ?, ?) ORDER BY seq",
                (name, RunStatus.QUEUED.value, *ACTIVE),
            ).fetchall()
        running = [r["id"] for r in rows if r["status"] in ACTIVE]
        return ComputeStatus(name=name, provisioning_state=target.provisioning_state,
                             current_node_count=len(running), running_runs=running,
                             queued_runs=[r["id"] for r in rows if r["status"] == RunStatus.QUEUED.value])

    # -- compute instance ---------------------------------------------------------------

    def get_compute_instance(self, name: str | None = None) -> ComputeTarget | None:
        """The learner's compute instance (this machine), or None if not registered yet."""
        with self.store.read() as conn:
            if name is None:
                row = conn.execute("SELECT * FROM compute WHERE type = 'ComputeInstance'").fetchone()
            else:
                row = conn.execute("SELECT * FROM compute WHERE type = 'ComputeInstance' AND name = ?",
                                   (name,)).fetchone()
        return None if row is None else _record(row)

    def create_compute_instance(self, name: str, vm_size: str = DEFAULT_INSTANCE_SIZE,
                                on_state: StateCallback | None = None) -> ComputeTarget:
        """Register this machine as the learner's dev box, recording what it has.

        Calling it again with the same name refreshes the facts (packages change).
        """
        from tutor.workspace.local.machine import machine_facts

        naming.check_name(naming.COMPUTE_INSTANCE, name)
        size = _check_vm_size(vm_size)
        notify = on_state or (lambda state, message: None)
        with self.store.write() as conn:
            row = conn.execute("SELECT * FROM compute WHERE name = ?", (name,)).fetchone()
            if row is not None and row["type"] != "ComputeInstance":
                raise TutorError(f"The name '{name}' is taken by the {_kind(row['type'])} '{name}'.",
                                 "Choose another name for the compute instance.")
            other = conn.execute("SELECT name FROM compute WHERE type = 'ComputeInstance' AND name != ?",
                                 (name,)).fetchone()
            if other is not None:
                raise TutorError(
                    f"This machine is already registered as the compute instance '{other[0]}'.",
                    f"Use '{other[0]}', or delete it (delete_compute) before registering it as '{name}'.",
                )
            if row is None:
                conn.execute(
                    "INSERT INTO compute (name, type, vm_size, min_nodes, max_nodes, idle_seconds, state, "
                    "state_message, created_at) VALUES (?, 'ComputeInstance', ?, 1, 1, 0, ?, ?, ?)",
                    (name, size, ProvisioningState.CREATING.value, "collecting this machine's facts", utcnow()),
                )
        notify(ProvisioningState.CREATING.value, "collecting this machine's facts")
        facts = machine_facts()
        message = (f"{facts['cpu_count']} cores, {facts['memory_gb']} GB, Python {facts['python_version']} "
                   f"(stands in for an Azure {size})")
        with self.store.write() as conn:
            conn.execute("UPDATE compute SET state = ?, state_message = ?, properties = ? WHERE name = ?",
                         (ProvisioningState.SUCCEEDED.value, message, dumps(facts), name))
        notify(ProvisioningState.SUCCEEDED.value, message)
        return self.get_compute(name)

    # -- clusters ---------------------------------------------------------------------

    def get_or_create_cluster(self, name: str, vm_size: str = DEFAULT_CLUSTER_SIZE, min_nodes: int = 0,
                              max_nodes: int = 4, idle_seconds_before_scaledown: int = 1800) -> ComputeTarget:
        """The cluster ``name``; created (state Creating) if it does not exist.

        An existing cluster is returned unchanged, as Azure's ``ComputeTarget(ws, name)``
        would: call :meth:`wait_for_compute` to finish provisioning a new one.
        """
        naming.check_name(naming.CLUSTER, name)
        size = _check_vm_size(vm_size)
        for label, value in (("min_nodes", min_nodes), ("max_nodes", max_nodes),
                             ("idle_seconds_before_scaledown", idle_seconds_before_scaledown)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise TutorError(f"{label} must be a whole number of at least 0, not {value!r}.",
                                 "Fix the value in the cluster settings.")
        if max_nodes < 1 or min_nodes > max_nodes:
            raise TutorError(f"A cluster needs 1 <= max_nodes and min_nodes <= max_nodes (got {min_nodes}..{max_nodes}).",
                             "The course uses min_nodes=0, max_nodes=3.")
        with self.store.write() as conn:
            row = conn.execute("SELECT * FROM compute WHERE name = ?", (name,)).fetchone()
            if row is None:
                conn.execute(
                    "INSERT INTO compute (name, type, vm_size, min_nodes, max_nodes, idle_seconds, state, "
                    "state_message, created_at) VALUES (?, 'AmlCompute', ?, ?, ?, ?, ?, ?, ?)",
                    (name, size, min_nodes, max_nodes, idle_seconds_before_scaledown,
                     ProvisioningState.CREATING.value, "waiting to be provisioned", utcnow()),
                )
            elif row["type"] != "AmlCompute":
                raise TutorError(f"The name '{name}' is taken by the {_kind(row['type'])} '{name}'.",
                                 "Choose another name for the cluster.")
        return self.get_compute(name)

    def get_or_create_aks(self, name: str, vm_size: str = DEFAULT_AKS_SIZE,
                          agent_count: int = DEFAULT_AKS_AGENTS) -> ComputeTarget:
        """The AKS cluster ``name``; created (state Creating) if it does not exist.

        Its ``agent_count`` nodes are recorded as min_nodes = max_nodes. As for a cluster,
        :meth:`wait_for_compute` finishes provisioning it.
        """
        naming.check_name(naming.CLUSTER, name)
        size = _check_vm_size(vm_size)
        if not isinstance(agent_count, int) or isinstance(agent_count, bool) or agent_count < 1:
            raise TutorError(f"agent_count must be a whole number of at least 1, not {agent_count!r}.",
                             f"Leave it out for Azure's default of {DEFAULT_AKS_AGENTS} agent nodes.")
        with self.store.write() as conn:
            row = conn.execute("SELECT * FROM compute WHERE name = ?", (name,)).fetchone()
            if row is None:
                conn.execute(
                    "INSERT INTO compute (name, type, vm_size, min_nodes, max_nodes, idle_seconds, state, "
                    "state_message, created_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?)",
                    (name, AKS, size, agent_count, agent_count, ProvisioningState.CREATING.value,
                     "waiting to be provisioned", utcnow()),
                )
            elif row["type"] != AKS:
                raise TutorError(f"The name '{name}' is taken by the {_kind(row['type'])} '{name}'.",
                                 "Choose another name for the AKS cluster.")
        return self.get_compute(name)

    def wait_for_compute(self, name: str, on_state: StateCallback | None = None,
                         timeout_seconds: float = PROBE_TIMEOUT) -> ComputeTarget:
        """Finish provisioning ``name`` (Azure: ``wait_for_completion(show_output=True)``).

        ``on_state(state, message)`` is called as the state moves (Creating -> Succeeded).
        A target that failed to provision raises a TutorError saying why.
        """
        target = self.get_compute(name)
        notify = on_state or (lambda state, message: None)
        if target.provisioning_state == ProvisioningState.CREATING:
            notify(ProvisioningState.CREATING.value, "checking that this machine can start run processes")
            state, message = self._probe(target, timeout_seconds)
            with self.store.write() as conn:
                conn.execute("UPDATE compute SET state = ?, state_message = ? WHERE name = ? AND state = ?",
                             (state.value, message, name, ProvisioningState.CREATING.value))
            target = self.get_compute(name)
        notify(target.provisioning_state.value, target.state_message)
        if target.provisioning_state == ProvisioningState.FAILED:
            raise TutorError(f"Compute target '{name}' failed to provision: {target.state_message}",
                             "Fix the problem, delete the compute (delete_compute) and create it again.")
        return target

    def _probe(self, target: ComputeTarget, timeout: float) -> tuple[ProvisioningState, str]:
        env = run_environment(self.layout, "provisioning-probe")
        # A cluster's nodes start run wrappers; an AKS cluster's start scoring services.
        module = "tutor.serving" if target.type == AKS else "tutor.workspace.runner"
        started = time.monotonic()
        try:
            result = subprocess.run(
                [sys.executable, "-c", f"import {module}, sys; print(sys.version.split()[0])"],
                env=env, cwd=self.layout.root, capture_output=True, text=True, timeout=timeout,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return ProvisioningState.FAILED, f"could not start {sys.executable}: {exc}"
        if result.returncode != 0:
            tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
            return ProvisioningState.FAILED, "a run process could not start: " + " | ".join(tail)
        cores = VM_SIZES[target.vm_size][0]
        if target.type == AKS:
            return ProvisioningState.SUCCEEDED, (
                f"{target.max_nodes} agent node(s) of an Azure {target.vm_size} ({cores} cores each) stand in for "
                f"this machine's {cpu_count()} cores: services deployed to it run as processes here; "
                f"Python {result.stdout.strip()} started in {time.monotonic() - started:.2f} s"
            )
        return ProvisioningState.SUCCEEDED, (
            f"{target.slots} node(s) ready on this machine's {cpu_count()} cores "
            f"(an Azure {target.vm_size} node has {cores}); Python {result.stdout.strip()} "
            f"started in {time.monotonic() - started:.2f} s"
        )

    # -- deleting ---------------------------------------------------------------------

    def delete_compute(self, name: str) -> None:
        """Delete a compute target. Refused while runs execute on it; its queued runs are Canceled."""
        if name == LOCAL_TARGET:
            raise TutorError("'local' is this machine itself, not a compute target that can be deleted.",
                             "Delete the clusters you created instead (list_compute shows them).")
        self.get_compute(name)
        with file_lock(self.layout.scheduler_lock):  # no queued run may start while we decide
            refresh_active(self.store, self.layout, name)
            with self.store.write() as conn:
                active = [row[0] for row in conn.execute(
                    f"SELECT id FROM runs WHERE compute = ? AND status IN {ACTIVE} ORDER BY seq", (name,))]
                if active:
                    raise TutorError(
                        f"Compute target '{name}' still has {len(active)} run(s) executing: {', '.join(active)}.",
                        "Wait for them to finish (wait_for_completion) or cancel them, then delete the compute.",
                    )
                conn.execute(
                    "UPDATE runs SET status = ?, error = ?, ended_at = ? WHERE compute = ? AND status = ?",
                    (RunStatus.CANCELED.value,
                     f"The compute target '{name}' was deleted before the run could start. "
                     "Create the compute again and resubmit the run.",
                     utcnow(), name, RunStatus.QUEUED.value),
                )
                conn.execute("DELETE FROM compute WHERE name = ?", (name,))
