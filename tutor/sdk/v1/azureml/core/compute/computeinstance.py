"""``azureml.core.compute.ComputeInstance``: the learner's dev box, on the embedded workspace.

The compute instance is this machine: creating it records what the machine has (cores,
memory, Python, packages; the workspace's ``create_compute_instance``), and its state is
``Running`` once that is done. As on Azure, a name that is taken is refused, and the
workspace holds one compute instance per machine.
"""

from __future__ import annotations

import json
from collections import OrderedDict

from azureml._embedded import Subset, backend, translate
from azureml.core.compute.compute import ComputeTarget, ComputeTargetProvisioningConfiguration, _refuse
from azureml.exceptions import ComputeTargetException

__all__ = ["ComputeInstance", "ComputeInstanceProvisioningConfiguration", "ComputeInstanceStatus"]

_STATES = {"Creating": "Creating", "Succeeded": "Running", "Failed": "CreateFailed"}


class ComputeInstance(ComputeTarget):
    """A compute instance: ``vm_size``, ``status.state`` (Running once created)."""

    _compute_type = "ComputeInstance"

    @property
    def vm_size(self):
        return self._record.vm_size

    @property
    def status(self):
        record = self._record
        errors = None
        if record.provisioning_state.value == "Failed":
            errors = [{"code": "ProvisioningFailed", "message": record.state_message}]
        return ComputeInstanceStatus(self.created_on, None, None, None, errors, None,
                                     _STATES.get(record.provisioning_state.value, record.provisioning_state.value),
                                     record.vm_size)

    @property
    def ssh_public_access(self):
        return False

    @property
    def applications(self):
        return None

    def _get_state(self) -> str:
        return self.status.state

    def __repr__(self):
        return json.dumps(self.serialize(), indent=2)

    def __str__(self):
        info = OrderedDict([("Name", self.name), ("Id", self.id), ("Workspace", self.workspace.name),
                            ("Location", self.location), ("VmSize", self.vm_size), ("State", self._get_state()),
                            ("Tags", self.tags)])
        return json.dumps(info, indent=2)

    # -- creating ----------------------------------------------------------------------

    @staticmethod
    def provisioning_configuration(vm_size='', ssh_public_access=False, admin_user_ssh_public_key=None,
                                   vnet_resourcegroup_name=None, vnet_name=None, subnet_name=None, tags=None,
                                   description=None, assigned_user_object_id=None, assigned_user_tenant_id=None):
        """The settings of a new compute instance (default size Standard_DS3_V2, as on Azure)."""
        return ComputeInstanceProvisioningConfiguration(vm_size, ssh_public_access, admin_user_ssh_public_key,
                                                        vnet_resourcegroup_name, vnet_name, subnet_name, tags,
                                                        description, assigned_user_object_id,
                                                        assigned_user_tenant_id)

    @staticmethod
    def _create(workspace, name, provisioning_configuration):
        from tutor.workspace.local.compute import VM_SIZES

        config = provisioning_configuration
        _refuse("ComputeInstance.provisioning_configuration", config._values(), {
            "ssh_public_access": False, "admin_user_ssh_public_key": None, "vnet_resourcegroup_name": None,
            "vnet_name": None, "subnet_name": None, "assigned_user_object_id": None,
            "assigned_user_tenant_id": None})
        vm_size = config.vm_size
        if str(vm_size).strip().upper() not in VM_SIZES:
            raise ComputeTargetException("VmSize '{vm_size}' is not available in the specified region. "
                                         "More details can be found here: https://aka.ms/azureml-vm-details."
                                         .format(vm_size=vm_size))
        ws = backend(workspace)
        if any(t.name == name for t in ws.list_compute()):
            raise ComputeTargetException(
                f"Compute name '{name}' is not available. Reason: AlreadyExists. Message: The workspace already "
                f"has a compute target named '{name}': use it (ComputeTarget(workspace=ws, name='{name}')).")
        with translate(ComputeTargetException):
            record = ws.create_compute_instance(name, vm_size)
        return ComputeTarget._from_record(workspace, record)

    # -- state -------------------------------------------------------------------------

    def get_status(self):
        """The instance's ComputeInstanceStatus (``state`` is Running once it is created)."""
        self.refresh_state()
        return self.status

    def wait_for_completion(self, show_output=False, is_delete_operation=False):
        """Wait until the instance is Running (or failed), printing its state with ``show_output``."""
        if is_delete_operation or self._deleting:
            return super().wait_for_completion(show_output=show_output, is_delete_operation=is_delete_operation)
        self.refresh_state()
        if self.provisioning_state == "Creating":
            self._provision(False)
            self.refresh_state()
        if show_output:
            print(self._get_state())
        if self.provisioning_state == "Failed" and show_output:
            print("Provisioning errors: {}".format(self.provisioning_errors))

    def delete(self, wait_for_completion=False, show_output=False):
        """Delete the instance (this machine is then no longer registered as one)."""
        super().delete()
        if wait_for_completion:
            self._operation_pending = False
            if show_output:
                print("Deleted")

    def detach(self):
        raise ComputeTargetException("Detach is not supported for ComputeInstance object. Try to use delete "
                                     "instead.")

    def serialize(self):
        """The instance as azureml serializes it."""
        properties = {"vmSize": self.vm_size, "applications": None,
                      "connectivityEndpoints": {"publicIpAddress": None, "privateIpAddress": None},
                      "sshSettings": {"sshPublicAccess": "Disabled", "adminUserName": None, "adminPublicKey": None,
                                      "sshPort": None},
                      "personalComputeInstanceSettings": None, "subnet": {"id": None},
                      "errors": self.status.errors}
        return {"id": self.id, "name": self.name, "location": self.location, "tags": self.tags,
                "properties": {"description": self.description, "computeType": self.type,
                               "computeLocation": self.location, "resourceId": self.cluster_resource_id,
                               "provisioningErrors": self.provisioning_errors,
                               "provisioningState": self.provisioning_state, "properties": properties,
                               "status": self.status.serialize()}}


class ComputeInstanceProvisioningConfiguration(ComputeTargetProvisioningConfiguration):
    """The settings of a new compute instance, checked as azureml checks them."""

    def __init__(self, vm_size='', ssh_public_access=False, admin_user_ssh_public_key=None,
                 vnet_resourcegroup_name=None, vnet_name=None, subnet_name=None, tags=None, description=None,
                 assigned_user_object_id=None, assigned_user_tenant_id=None):
        if not vm_size:
            vm_size = "Standard_DS3_V2"
        super().__init__(ComputeInstance, None)
        self.vm_size = vm_size
        self.ssh_public_access = ssh_public_access
        self.admin_user_ssh_public_key = admin_user_ssh_public_key
        self.vnet_resourcegroup_name = vnet_resourcegroup_name
        self.vnet_name = vnet_name
        self.subnet_name = subnet_name
        self.tags = tags
        self.description = description
        self.assigned_user_object_id = assigned_user_object_id
        self.assigned_user_tenant_id = assigned_user_tenant_id
        self.validate_configuration()

    def validate_configuration(self):
        """azureml's check: all of the virtual network settings, or none."""
        if any([self.vnet_name, self.vnet_resourcegroup_name, self.subnet_name]) and \
                not all([self.vnet_name, self.vnet_resourcegroup_name, self.subnet_name]):
            raise ComputeTargetException("Invalid configuration, not all virtual net information provided. "
                                         "To use a custom virtual net, please provide vnet name, vnet resource "
                                         "group and subnet name")


class ComputeInstanceStatus(Subset):
    """A compute instance's state (``Running``), size, creator and errors."""

    def __init__(self, creation_time, created_by_user_name, created_by_user_id, created_by_user_org,
                 errors, modified_time, state, vm_size):
        self.creation_time = creation_time
        self.created_by_user_name = created_by_user_name
        self.created_by_user_id = created_by_user_id
        self.created_by_user_org = created_by_user_org
        self.errors = errors
        self.modified_time = modified_time
        self.state = state
        self.vm_size = vm_size

    def __repr__(self):
        return json.dumps(self.serialize(), indent=2)

    def serialize(self):
        creation_time = self.creation_time.isoformat() if self.creation_time else None
        modified_time = self.modified_time.isoformat() if self.modified_time else None
        return {"errors": self.errors, "creationTime": creation_time,
                "createdBy": {"userObjectId": self.created_by_user_id, "userTenantId": self.created_by_user_org,
                              "userName": self.created_by_user_name},
                "modifiedTime": modified_time, "state": self.state, "vmSize": self.vm_size}
