"""``azureml.core.compute.AmlCompute``: compute clusters, on the embedded workspace.

A cluster is created by the workspace's ``get_or_create_cluster`` (a VM size checked
against Azure's list, min/max nodes); its nodes are processes on this machine and
``current_node_count`` is the number of runs executing on it. Creating a cluster that
exists with the same settings returns it, as Azure's create of an unchanged cluster does;
other settings for an existing name are refused with a ComputeTargetException.
"""

from __future__ import annotations

from typing import Any

from azureml._embedded import Subset, backend, translate
from azureml.core.compute.compute import (ComputeTarget, ComputeTargetProvisioningConfiguration, _provider_error,
                                          _refuse)
from azureml.exceptions import ComputeTargetException, UserErrorException

__all__ = ["AmlCompute", "AmlComputeNodeStateCounts", "AmlComputeProvisioningConfiguration", "AmlComputeStatus",
           "ScaleSettings"]


def _duration(seconds: Any) -> str:
    """ISO 8601 duration, as azureml sends ``idle_seconds_before_scaledown``."""
    if not seconds:
        return ""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "") + (f"{secs}S" if secs else "")


class AmlCompute(ComputeTarget):
    """A compute cluster: ``vm_size``, ``scale_settings`` (min/max nodes) and its ``status``."""

    _compute_type = "AmlCompute"

    # -- what it is ----------------------------------------------------------------------

    @property
    def vm_size(self):
        return self._record.vm_size

    @property
    def vm_priority(self):
        return "dedicated"

    @property
    def scale_settings(self):
        record = self._record
        return ScaleSettings(record.min_nodes, record.max_nodes, record.idle_seconds_before_scaledown)

    @property
    def status(self):
        """The cluster's AmlComputeStatus (None until it is provisioned), as of the last refresh."""
        return getattr(self, "_status", None)

    def _initialize(self, workspace: Any, record: Any) -> None:
        super()._initialize(workspace, record)
        self._status = self._read_status()

    def _read_status(self) -> "AmlComputeStatus | None":
        if self._record.provisioning_state.value != "Succeeded":
            return None
        with translate(ComputeTargetException):
            now = backend(self._workspace).get_compute_status(self.name)
        record = self._record
        running, queued = len(now.running_runs), len(now.queued_runs)
        target = min(record.max_nodes, max(record.min_nodes, running + queued))
        return AmlComputeStatus(
            allocation_state="Steady" if target == running else "Resizing", allocation_state_transition_time=None,
            creation_time=self.created_on, current_node_count=now.current_node_count, errors=None,
            modified_time=None,
            node_state_counts=AmlComputeNodeStateCounts(0, 0, 0, 0, now.current_node_count, 0),
            provisioning_state=now.provisioning_state.value, provisioning_state_transition_time=None,
            scale_settings=self.scale_settings, target_node_count=target, vm_priority="Dedicated",
            vm_size=record.vm_size)

    def __repr__(self):
        return super().__repr__()

    # -- creating ----------------------------------------------------------------------

    @staticmethod
    def provisioning_configuration(vm_size='', vm_priority="dedicated", min_nodes=0,
                                   max_nodes=None, idle_seconds_before_scaledown=1800,
                                   admin_username=None, admin_user_password=None, admin_user_ssh_key=None,
                                   vnet_resourcegroup_name=None, vnet_name=None, subnet_name=None,
                                   tags=None, description=None, remote_login_port_public_access="NotSpecified",
                                   identity_type=None, identity_id=None, location=None, enable_node_public_ip=True):
        """The settings of a new cluster; ``max_nodes`` is required, as on Azure."""
        return AmlComputeProvisioningConfiguration(vm_size, vm_priority, min_nodes, max_nodes,
                                                   idle_seconds_before_scaledown, admin_username,
                                                   admin_user_password, admin_user_ssh_key, vnet_resourcegroup_name,
                                                   vnet_name, subnet_name, tags, description,
                                                   remote_login_port_public_access, identity_type, identity_id,
                                                   location, enable_node_public_ip)

    @staticmethod
    def _create(workspace, name, provisioning_configuration):
        config = provisioning_configuration
        _refuse("AmlCompute.provisioning_configuration", config._values(), {
            "vm_priority": "dedicated", "admin_username": None, "admin_user_password": None,
            "admin_user_ssh_key": None, "vnet_resourcegroup_name": None, "vnet_name": None, "subnet_name": None,
            "identity_type": None, "identity_id": None, "compute_location": None},
            names={"compute_location": "location"})
        ws = backend(workspace)
        scale = config.scale_settings
        wanted = {"vm_size": config.vm_size, "min_nodes": scale.minimum_node_count,
                  "max_nodes": scale.maximum_node_count,
                  "idle_seconds_before_scaledown": scale.idle_seconds_before_scaledown}
        if not wanted["vm_size"]:
            del wanted["vm_size"]  # the workspace's default size, as Azure picks one
        existing = {t.name: t for t in ws.list_compute()}.get(name)
        with translate(ComputeTargetException, _provider_error(400)):
            record = ws.get_or_create_cluster(name, **wanted)
        if existing is not None:
            _check_unchanged(name, existing, wanted)
        target = ComputeTarget._from_record(workspace, record)
        target._operation_pending = True
        return target

    # -- state -------------------------------------------------------------------------

    def refresh_state(self):
        """Read the cluster's state and status from the workspace again."""
        super().refresh_state()
        self._status = self._read_status()

    def get_status(self):
        """The cluster's AmlComputeStatus (nodes in use, scale settings); None until it is provisioned."""
        self.refresh_state()
        if not self.status:
            state = self.provisioning_state.capitalize()
            if state == "Creating":
                print("AmlCompute is getting created. Consider calling wait_for_completion() first\n")
            elif state == "Failed":
                print("AmlCompute is in a failed state, try deleting and recreating\n")
            else:
                print('Current provisioning state of AmlCompute is "{}"\n'.format(state))
            return None
        return self.status

    def wait_for_completion(self, show_output=False, min_node_count=None, timeout_in_minutes=25,
                            is_delete_operation=False):
        """Finish provisioning the cluster, printing its state as azureml does with ``show_output``."""
        if min_node_count:
            raise UserErrorException(
                f"wait_for_completion(min_node_count={min_node_count!r}) is not supported on the embedded workspace: "
                "its cluster nodes are processes started for each run, so no node waits idle. Leave it out.")
        if is_delete_operation or self._deleting:
            return super().wait_for_completion(show_output=show_output, is_delete_operation=is_delete_operation)
        if self._operation_pending or self.provisioning_state == "Creating":
            self._finish_provisioning(show_output, timeout_seconds=float(timeout_in_minutes) * 60)
        else:
            self.refresh_state()
        state = self.status.provisioning_state if self.status else self.provisioning_state
        if show_output:
            print(state)
            print("AmlCompute wait for completion finished\n")
        if state.capitalize() in ("Failed", "Canceled"):
            if show_output:
                print('Terminal state of "{}" has been reached\n'.format(state.capitalize()))
                print("Provisioning errors: {}\n".format(self.provisioning_errors))
        elif show_output:
            print("Minimum number of nodes requested have been provisioned")

    def delete(self):
        """Delete the cluster (refused while runs execute on it; its queued runs are canceled)."""
        super().delete()

    def detach(self):
        raise ComputeTargetException("Detach is not supported for AmlCompute object. Try to use delete instead.")

    def serialize(self):
        """The cluster as azureml serializes it."""
        status = self.status.serialize() if self.status else None
        properties = {"vmSize": self.vm_size, "vmPriority": self.vm_priority,
                      "scaleSettings": self.scale_settings.serialize(),
                      "userAccountCredentials": {"adminUserName": None, "adminUserPassword": None,
                                                 "adminUserSshPublicKey": None},
                      "subnet": {"id": None}, "remoteLoginPortPublicAccess": "NotSpecified"}
        return {"id": self.id, "name": self.name, "location": self.location, "tags": self.tags, "identity": None,
                "properties": {"description": self.description, "resourceId": self.cluster_resource_id,
                               "computeType": self.type, "computeLocation": self.cluster_location,
                               "provisioningState": self.provisioning_state,
                               "provisioningErrors": self.provisioning_errors, "properties": properties,
                               "status": status}}


def _check_unchanged(name: str, existing: Any, wanted: dict[str, Any]) -> None:
    have = {"vm_size": existing.vm_size, "min_nodes": existing.min_nodes, "max_nodes": existing.max_nodes,
            "idle_seconds_before_scaledown": existing.idle_seconds_before_scaledown}
    if "vm_size" in wanted:
        wanted = dict(wanted, vm_size=str(wanted["vm_size"]).strip().upper())
    changed = [f"{key} {have[key]!r} (asked for {value!r})" for key, value in wanted.items() if have[key] != value]
    if changed:
        raise ComputeTargetException(
            _provider_error(409) + f"A compute cluster named '{name}' already exists with "
            + ", ".join(changed) + ". Use it as it is (ComputeTarget(workspace=ws, name=...)), or delete it "
            "and create it again, or choose another name.")


class AmlComputeProvisioningConfiguration(ComputeTargetProvisioningConfiguration):
    """The settings of a new AmlCompute cluster, checked as azureml checks them."""

    def __init__(self, vm_size='', vm_priority="dedicated", min_nodes=0,
                 max_nodes=None, idle_seconds_before_scaledown=1800,
                 admin_username=None, admin_user_password=None, admin_user_ssh_key=None,
                 vnet_resourcegroup_name=None, vnet_name=None, subnet_name=None, tags=None,
                 description=None, remote_login_port_public_access="NotSpecified",
                 identity_type=None, identity_id=None, compute_location=None, enable_node_public_ip=True):
        super().__init__(AmlCompute, None)
        self.vm_size = vm_size
        self.vm_priority = vm_priority
        min_nodes = 0 if not min_nodes else min_nodes
        self.scale_settings = ScaleSettings(min_nodes, max_nodes, idle_seconds_before_scaledown)
        self.admin_username = admin_username
        self.admin_user_password = admin_user_password
        self.admin_user_ssh_key = admin_user_ssh_key
        self.vnet_resourcegroup_name = vnet_resourcegroup_name
        self.vnet_name = vnet_name
        self.subnet_name = subnet_name
        self.tags = tags
        self.description = description
        self.remote_login_port_public_access = remote_login_port_public_access
        self.identity_type = identity_type
        self.identity_id = identity_id
        self.compute_location = compute_location
        self.enable_node_public_ip = enable_node_public_ip
        self.validate_configuration()

    def validate_configuration(self):
        """azureml's checks: credentials, virtual network, node counts and identity."""
        if any([self.admin_username, self.admin_user_password, self.admin_user_ssh_key]) and \
                not self.admin_username:
            raise ComputeTargetException("Invalid user credentials, admin username must be provided along "
                                         "with either a password or SSH key information.")
        if self.admin_username and not self.admin_user_password and not self.admin_user_ssh_key:
            raise ComputeTargetException("Invalid user credentials, no password or key information provided. "
                                         "Please provide either a password or SSH key information.")
        if any([self.vnet_name, self.vnet_resourcegroup_name, self.subnet_name]) and \
                not all([self.vnet_name, self.vnet_resourcegroup_name, self.subnet_name]):
            raise ComputeTargetException("Invalid configuration, not all virtual net information provided. "
                                         "To use a custom virtual net, please provide vnet name, vnet resource "
                                         "group and subnet name")
        if self.scale_settings.maximum_node_count is None:
            raise ComputeTargetException("Invalid provisioning configuration, max nodes count is mandatory")
        elif self.scale_settings.maximum_node_count < 0:
            raise ComputeTargetException("Invalid provisioning configuration, max nodes count must be greater "
                                         "than or equal to 0")
        elif self.scale_settings.maximum_node_count < self.scale_settings.minimum_node_count:
            raise ComputeTargetException("Invalid provisioning configuration, max nodes count must be greater than "
                                         "or equal to min nodes count")
        if self.identity_type:
            if self.identity_type not in ["UserAssigned", "SystemAssigned"]:
                raise ComputeTargetException("Invalid configuration, identity_type must be set to "
                                             "'UserAssigned' or 'SystemAssigned'.")
            if self.identity_type == "UserAssigned" and (type(self.identity_id) is not list or not self.identity_id):
                raise ComputeTargetException("Invalid configuration, please pass the identity_id of the user "
                                             "assigned identity as a list (eg. ['resource_ID1','resourceID2',...])")
            if self.identity_type != "UserAssigned" and self.identity_id:
                raise ComputeTargetException("Invalid configuration, identity_id cannot be set when "
                                             "identity type is not user assigned.")
        elif self.identity_id:
            raise ComputeTargetException("Invalid configuration, identity_id cannot be set when "
                                         "identity type is not user assigned.")


class ScaleSettings(Subset):
    """A cluster's node range and idle time before it scales down."""

    def __init__(self, minimum_node_count, maximum_node_count, idle_seconds_before_scaledown):
        self.minimum_node_count = minimum_node_count
        self.maximum_node_count = maximum_node_count
        self.idle_seconds_before_scaledown = idle_seconds_before_scaledown

    def serialize(self):
        return {"minNodeCount": self.minimum_node_count, "maxNodeCount": self.maximum_node_count,
                "nodeIdleTimeBeforeScaleDown": _duration(self.idle_seconds_before_scaledown)}


class AmlComputeStatus(Subset):
    """What a cluster is doing: ``current_node_count`` (runs executing), ``target_node_count``, states."""

    def __init__(self, allocation_state, allocation_state_transition_time, creation_time, current_node_count,
                 errors, modified_time, node_state_counts, provisioning_state, provisioning_state_transition_time,
                 scale_settings, target_node_count, vm_priority, vm_size):
        self.allocation_state = allocation_state
        self.allocation_state_transition_time = allocation_state_transition_time
        self.creation_time = creation_time
        self.current_node_count = current_node_count
        self.errors = errors
        self.modified_time = modified_time
        self.node_state_counts = node_state_counts
        self.provisioning_state = provisioning_state
        self.provisioning_state_transition_time = provisioning_state_transition_time
        self.scale_settings = scale_settings
        self.target_node_count = target_node_count
        self.vm_priority = vm_priority
        self.vm_size = vm_size

    def serialize(self):
        """The status as a dict (azureml's keys)."""
        def iso(value: Any) -> Any:
            return value.isoformat() if value else None

        return {"currentNodeCount": self.current_node_count, "targetNodeCount": self.target_node_count,
                "nodeStateCounts": self.node_state_counts.serialize() if self.node_state_counts else None,
                "allocationState": self.allocation_state,
                "allocationStateTransitionTime": iso(self.allocation_state_transition_time), "errors": self.errors,
                "creationTime": iso(self.creation_time), "modifiedTime": iso(self.modified_time),
                "provisioningState": self.provisioning_state,
                "provisioningStateTransitionTime": iso(self.provisioning_state_transition_time),
                "scaleSettings": self.scale_settings.serialize() if self.scale_settings else None,
                "vmPriority": self.vm_priority, "vmSize": self.vm_size}


class AmlComputeNodeStateCounts(Subset):
    """How many of a cluster's nodes are idle, running, preparing..."""

    def __init__(self, idle_node_count, leaving_node_count, preempted_node_count, preparing_node_count,
                 running_node_count, unusable_node_count):
        self.idle_node_count = idle_node_count
        self.leaving_node_count = leaving_node_count
        self.preempted_node_count = preempted_node_count
        self.preparing_node_count = preparing_node_count
        self.running_node_count = running_node_count
        self.unusable_node_count = unusable_node_count

    def serialize(self):
        return {"preparingNodeCount": self.preparing_node_count, "runningNodeCount": self.running_node_count,
                "idleNodeCount": self.idle_node_count, "unusableNodeCount": self.unusable_node_count,
                "leavingNodeCount": self.leaving_node_count, "preemptedNodeCount": self.preempted_node_count}
