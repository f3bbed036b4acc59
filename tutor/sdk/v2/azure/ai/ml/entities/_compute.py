"""``azure.ai.ml.entities``' compute: a cluster (``AmlCompute``) and a compute instance."""

from __future__ import annotations

from azure.ai.ml._embedded import Subset

__all__ = ["AmlCompute", "Compute", "ComputeInstance"]


class Compute(Subset):
    """A compute target of the workspace (the base of the two kinds the course creates)."""

    def __init__(self, name, location=None, description=None, resource_id=None, tags=None, **kwargs):
        self.type = kwargs.get("type", "")
        self.name = name
        self.location = location
        self.description = description
        self.resource_id = resource_id
        self.tags = dict(tags or {})
        self._provisioning_state = kwargs.get("provisioning_state")
        self._provisioning_errors = kwargs.get("provisioning_errors")
        self._created_on = kwargs.get("created_on")

    @property
    def provisioning_state(self):
        """"Succeeded" once created (on Azure also "Creating", "Failed"...)."""
        return self._provisioning_state

    @property
    def provisioning_errors(self):
        return self._provisioning_errors

    @property
    def created_on(self):
        return self._created_on

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, size={getattr(self, 'size', None)!r})"


class AmlCompute(Compute):
    """A cluster that scales between ``min_instances`` and ``max_instances`` nodes."""

    def __init__(self, *, name, description=None, size=None, tags=None, ssh_public_access_enabled=None,
                 ssh_settings=None, min_instances=0, max_instances=4, network_settings=None,
                 idle_time_before_scale_down=120, identity=None, tier=None, enable_node_public_ip=True, **kwargs):
        super().__init__(name, description=description, tags=tags, **kwargs)
        self.type = "amlcompute"
        self.size = size
        self.min_instances = min_instances
        self.max_instances = max_instances
        self.idle_time_before_scale_down = idle_time_before_scale_down
        self.tier = tier


class ComputeInstance(Compute):
    """One learner's development VM."""

    def __init__(self, *, name, description=None, size=None, tags=None, ssh_public_access_enabled=None,
                 create_on_behalf_of=None, network_settings=None, ssh_settings=None, schedules=None, identity=None,
                 idle_time_before_shutdown=None, idle_time_before_shutdown_minutes=None, setup_scripts=None,
                 enable_node_public_ip=True, custom_applications=None, enable_sso=True, enable_root_access=True,
                 release_quota_on_stop=False, enable_os_patching=False, **kwargs):
        super().__init__(name, description=description, tags=tags, **kwargs)
        self.type = "computeinstance"
        self.size = size
        self.idle_time_before_shutdown_minutes = idle_time_before_shutdown_minutes
        self._state = kwargs.get("state")

    @property
    def state(self):
        """"Running" once created."""
        return self._state
