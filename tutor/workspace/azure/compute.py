"""Compute on Azure: the learner's compute instance and AmlCompute clusters.

Creating is ``ComputeTarget.create(ws, name, <X>.provisioning_configuration(...))``;
waiting polls ``refresh_state()`` and reports each new ``provisioning_state`` through
``on_state`` instead of the SDK's printed progress.
"""

from __future__ import annotations

import time
from typing import Any, Literal

from tutor.errors import TutorError
from tutor.workspace import naming
from tutor.workspace.azure.core import AzureCore, iso
from tutor.workspace.azure.quiet import quiet
from tutor.workspace.base import ComputeStatus, ComputeTarget, ProvisioningState, RunStatus, StateCallback
from tutor.workspace.local.compute import VM_SIZES
from tutor.workspace.local.core import not_found

DEFAULT_CLUSTER_SIZE = "STANDARD_D2_V2"
DEFAULT_INSTANCE_SIZE = "STANDARD_DS3_V2"
PROVISION_TIMEOUT = 1800.0
LOCAL_TARGET = "local"

_STATES = {"creating": ProvisioningState.CREATING, "updating": ProvisioningState.CREATING,
           "succeeded": ProvisioningState.SUCCEEDED, "failed": ProvisioningState.FAILED,
           "canceled": ProvisioningState.FAILED, "deleting": ProvisioningState.FAILED}


def _state(target: Any) -> ProvisioningState:
    return _STATES.get(str(getattr(target, "provisioning_state", "") or "creating").lower(),
                       ProvisioningState.CREATING)


def _errors(target: Any) -> str:
    errors = getattr(target, "provisioning_errors", None) or []
    texts = []
    for error in errors if isinstance(errors, list) else [errors]:
        if isinstance(error, dict):
            inner = error.get("error", error)
            texts.append(str(inner.get("message") or inner.get("code") or inner))
        else:
            texts.append(str(error))
    return "; ".join(texts)


def compute_record(target: Any) -> ComputeTarget:
    """A ComputeTarget record from an ``AmlCompute`` or ``ComputeInstance``."""
    kind: Literal["ComputeInstance", "AmlCompute"] = (
        "ComputeInstance" if str(getattr(target, "type", "")) == "ComputeInstance" else "AmlCompute")
    scale = getattr(target, "scale_settings", None)
    if kind == "AmlCompute" and scale is not None:
        min_nodes = int(getattr(scale, "minimum_node_count", 0) or 0)
        max_nodes = int(getattr(scale, "maximum_node_count", 1) or 1)
        idle = int(getattr(scale, "idle_seconds_before_scaledown", 0) or 0)
    else:
        min_nodes, max_nodes, idle = 1, 1, 0
    properties: dict[str, Any] = {}
    applications = getattr(target, "applications", None)
    if kind == "ComputeInstance" and applications:
        properties["applications"] = {str(app.get("displayName")): str(app.get("endpointUri"))
                                      for app in applications if isinstance(app, dict)}
    vm_size = str(getattr(target, "vm_size", "") or "").upper()
    if vm_size in VM_SIZES:
        properties["vcpus"], properties["memory_gb"] = VM_SIZES[vm_size]
    return ComputeTarget(
        name=str(target.name), type=kind, vm_size=vm_size, provisioning_state=_state(target),
        min_nodes=min_nodes, max_nodes=max_nodes, idle_seconds_before_scaledown=idle,
        # On Azure every node is a VM: a cluster runs max_nodes runs at once.
        slots=max_nodes if kind == "AmlCompute" else 1,
        created_at=iso(getattr(target, "created_on", None)), state_message=_errors(target),
        properties=properties,
    )


class ComputeMixin(AzureCore):
    _vm_sizes: dict[str, tuple[int, float]] | None

    # -- reading ---------------------------------------------------------------------

    def _target(self, name: str | ComputeTarget) -> Any:
        name = name.name if isinstance(name, ComputeTarget) else name
        target = self._call(f"looking up the compute target '{name}'", self.service.get_compute, self.ws, name)
        if target is None:
            raise not_found("compute target", name, (c.name for c in self.list_compute()),
                            "create it first (get_or_create_cluster / create_compute_instance)")
        return target

    def get_compute(self, name: str | ComputeTarget) -> ComputeTarget:
        """``ComputeTarget(workspace=ws, name=name)``."""
        return compute_record(self._target(name))

    def list_compute(self) -> list[ComputeTarget]:
        """``ComputeTarget.list(ws)``, oldest first."""
        targets = self._call("listing the workspace's compute", self.service.list_compute, self.ws)
        records = [compute_record(t) for t in targets]
        return sorted(records, key=lambda r: (r.created_at, r.name))

    def get_compute_status(self, name: str | ComputeTarget) -> ComputeStatus:
        """Nodes in use (``get_status().current_node_count``) and the runs on it (``get_active_runs``)."""
        target = self._target(name)
        record = compute_record(target)
        status = self._call(f"reading the status of '{record.name}'", self.service.compute_status, target)
        runs = self._call(f"listing the runs on '{record.name}'", self.service.active_runs, target)
        running: list[str] = []
        queued: list[str] = []
        for run in runs:
            state = self._status_of(run)
            (queued if state == RunStatus.QUEUED else running).append(str(run.id))
        nodes = getattr(status, "current_node_count", None)
        return ComputeStatus(name=record.name, provisioning_state=record.provisioning_state,
                             current_node_count=int(nodes if nodes is not None else len(running)),
                             running_runs=running, queued_runs=queued)

    # -- VM sizes ---------------------------------------------------------------------

    def _check_vm_size(self, vm_size: str) -> str:
        size = vm_size.strip().upper() if isinstance(vm_size, str) else ""
        if self._vm_sizes is None:
            found = self._call("listing the VM sizes of the workspace's region", self.service.supported_vm_sizes,
                               self.ws)
            self._vm_sizes = {str(s["name"]).upper(): (int(s.get("vCPUs", 0)), float(s.get("memoryGB", 0)))
                              for s in found} or dict(VM_SIZES)
        if size not in self._vm_sizes:
            examples = ", ".join(sorted(s for s in self._vm_sizes if s in VM_SIZES)[:8])
            raise TutorError(
                f"'{vm_size}' is not a VM size the workspace knows (in its region).",
                f"Use an Azure VM size such as STANDARD_D2_V2 or STANDARD_D13 (available here: {examples} ...).",
            )
        return size

    # -- compute instance ---------------------------------------------------------------

    def get_compute_instance(self, name: str | None = None) -> ComputeTarget | None:
        """The compute instance ``name`` (or the workspace's first one), or None."""
        instances = [c for c in self.list_compute() if c.type == "ComputeInstance"]
        if name is not None:
            instances = [c for c in instances if c.name == name]
        return instances[0] if instances else None

    def create_compute_instance(self, name: str, vm_size: str = DEFAULT_INSTANCE_SIZE,
                                on_state: StateCallback | None = None) -> ComputeTarget:
        """``ComputeTarget.create(ws, name, ComputeInstance.provisioning_configuration(vm_size))`` and wait.

        An instance of that name is reused. Azure takes about five minutes.
        """
        naming.check_name(naming.COMPUTE_INSTANCE, name)
        size = self._check_vm_size(vm_size)
        existing = self._call(f"looking up the compute target '{name}'", self.service.get_compute, self.ws, name)
        if existing is not None and compute_record(existing).type != "ComputeInstance":
            raise TutorError(f"The name '{name}' is taken by the compute cluster '{name}'.",
                             "Choose another name for the compute instance.")
        if existing is None:
            with quiet():
                from azureml.core.compute import ComputeInstance

                config = ComputeInstance.provisioning_configuration(
                    vm_size=size, ssh_public_access=False, description="aml-tutor: the learner's dev machine")
            self._call(f"creating the compute instance '{name}'", self.service.create_compute, self.ws, name, config)
        return self.wait_for_compute(name, on_state=on_state)

    # -- clusters ---------------------------------------------------------------------

    def get_or_create_cluster(self, name: str, vm_size: str = DEFAULT_CLUSTER_SIZE, min_nodes: int = 0,
                              max_nodes: int = 4, idle_seconds_before_scaledown: int = 1800) -> ComputeTarget:
        """The cluster ``name``; created with ``AmlCompute.provisioning_configuration`` if missing.

        An existing cluster is returned unchanged (the course's "create if it does not
        exist"); call :meth:`wait_for_compute` to follow a new one to Succeeded.
        """
        naming.check_name(naming.CLUSTER, name)
        for label, value in (("min_nodes", min_nodes), ("max_nodes", max_nodes),
                             ("idle_seconds_before_scaledown", idle_seconds_before_scaledown)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise TutorError(f"{label} must be a whole number of at least 0, not {value!r}.",
                                 "Fix the value in the cluster settings.")
        if max_nodes < 1 or min_nodes > max_nodes:
            raise TutorError(f"A cluster needs 1 <= max_nodes and min_nodes <= max_nodes (got {min_nodes}..{max_nodes}).",
                             "The course uses min_nodes=0, max_nodes=3.")
        size = self._check_vm_size(vm_size)
        existing = self._call(f"looking up the compute target '{name}'", self.service.get_compute, self.ws, name)
        if existing is not None:
            record = compute_record(existing)
            if record.type != "AmlCompute":
                raise TutorError(f"The name '{name}' is taken by the compute instance '{name}'.",
                                 "Choose another name for the cluster.")
            return record
        with quiet():
            from azureml.core.compute import AmlCompute

            config = AmlCompute.provisioning_configuration(
                vm_size=size, min_nodes=min_nodes, max_nodes=max_nodes,
                idle_seconds_before_scaledown=idle_seconds_before_scaledown)
        created = self._call(f"creating the cluster '{name}'", self.service.create_compute, self.ws, name, config)
        return compute_record(created)

    def wait_for_compute(self, name: str | ComputeTarget, on_state: StateCallback | None = None,
                         timeout_seconds: float = PROVISION_TIMEOUT) -> ComputeTarget:
        """Follow provisioning (``refresh_state()``), calling ``on_state(state, message)`` on each change."""
        target = self._target(name)
        notify = on_state or (lambda state, message: None)
        deadline = time.monotonic() + timeout_seconds
        last: str | None = None
        while True:
            record = compute_record(target)
            raw = str(getattr(target, "provisioning_state", "") or "Creating")
            if raw != last:
                notify(record.provisioning_state.value, record.state_message or raw)
                last = raw
            if record.provisioning_state != ProvisioningState.CREATING:
                break
            if time.monotonic() > deadline:
                raise TutorError(f"Compute target '{record.name}' is still {raw} after {timeout_seconds:g} s.",
                                 "Azure is slow or stuck: look at the compute in the studio (ml.azure.com), "
                                 "then run the step again to keep waiting.")
            self._sleep()
            self._call(f"reading the state of '{record.name}'", self.service.refresh_compute, target)
        if record.provisioning_state == ProvisioningState.FAILED:
            reason = record.state_message or f"its state is {raw}"
            problem = self._explain_text(reason, f"provisioning '{record.name}'")
            raise TutorError(f"Compute target '{record.name}' failed to provision: {reason}",
                             problem or "Fix the problem, delete the compute (delete_compute) and create it again.")
        return record

    def _explain_text(self, text: str, doing: str) -> str | None:
        """The fix for an Azure error text (quota, VM size...), if one of the rules knows it."""
        from tutor.workspace.azure.errors import explain

        error = explain(RuntimeError(text), doing, self._context)
        return None if error.what.startswith("Azure ML failed") else error.fix

    # -- deleting ---------------------------------------------------------------------

    def delete_compute(self, name: str | ComputeTarget) -> None:
        """``target.delete()``. Refused while runs execute on it; its queued runs are canceled first."""
        name = name.name if isinstance(name, ComputeTarget) else name
        if name == LOCAL_TARGET:
            raise TutorError("'local' is this machine itself, not a compute target that can be deleted.",
                             "Delete the clusters you created instead (list_compute shows them).")
        target = self._target(name)
        runs = self._call(f"listing the runs on '{name}'", self.service.active_runs, target)
        active = [str(r.id) for r in runs if self._status_of(r) != RunStatus.QUEUED]
        if active:
            raise TutorError(
                f"Compute target '{name}' still has {len(active)} run(s) executing: {', '.join(active)}.",
                "Wait for them to finish (wait_for_completion) or cancel them, then delete the compute.",
            )
        for run in runs:
            self._call(f"canceling the queued run {run.id}", self.service.cancel_run, run)
        self._call(f"deleting the compute target '{name}'", self.service.delete_compute, target)
