"""``ml_client.compute``: compute instances and clusters."""

from __future__ import annotations

from azure.ai.ml._embedded import Subset, backend, done, invalid, not_found, translate

__all__ = ["ComputeOperations"]


def compute_entity(target):
    from azure.ai.ml.entities import AmlCompute, ComputeInstance

    state = str(target.provisioning_state)
    common = dict(name=target.name, size=target.vm_size, provisioning_state=state, created_on=target.created_at)
    if target.type == "ComputeInstance":
        return ComputeInstance(**common, state="Running" if state == "Succeeded" else state)
    if target.type == "AmlCompute":
        return AmlCompute(**common, min_instances=target.min_nodes, max_instances=target.max_nodes,
                          idle_time_before_scale_down=target.idle_seconds_before_scaledown)
    from azure.ai.ml.entities import Compute

    return Compute(target.name, provisioning_state=state, type="kubernetes")


class ComputeOperations(Subset):
    """Create, get, list and delete the workspace's compute."""

    def __init__(self, ml_client):
        self._client = ml_client

    def get(self, name):
        for target in backend(self._client).list_compute():
            if target.name == name:
                return compute_entity(target)
        raise not_found("Compute", name)

    def list(self, *, compute_type=None):
        found = [compute_entity(t) for t in backend(self._client).list_compute()]
        if compute_type is not None:
            found = [c for c in found if c.type == str(compute_type).lower()]
        return iter(found)

    def begin_create_or_update(self, compute):
        from azure.ai.ml.entities import AmlCompute, ComputeInstance

        local = backend(self._client)
        if not isinstance(compute, (AmlCompute, ComputeInstance)):
            raise invalid(f"begin_create_or_update() takes an AmlCompute or a ComputeInstance, not "
                          f"{type(compute).__name__}.")
        if not compute.size:
            raise invalid(f"{type(compute).__name__} {compute.name!r} needs size=, the VM size, e.g. "
                          f"size=\"STANDARD_DS3_V2\".")
        with translate():
            if isinstance(compute, ComputeInstance):
                target = local.create_compute_instance(compute.name, vm_size=str(compute.size).upper())
            else:
                if not (0 <= int(compute.min_instances or 0) <= int(compute.max_instances or 0)):
                    raise invalid(f"AmlCompute {compute.name!r}: min_instances ({compute.min_instances}) must be "
                                  f"between 0 and max_instances ({compute.max_instances}).")
                local.get_or_create_cluster(compute.name, vm_size=str(compute.size).upper(),
                                            min_nodes=int(compute.min_instances or 0),
                                            max_nodes=int(compute.max_instances or 0),
                                            idle_seconds_before_scaledown=int(compute.idle_time_before_scale_down
                                                                              or 0))
                target = local.wait_for_compute(compute.name)
        return done(compute_entity(target))

    def begin_delete(self, name, *, action='Delete'):
        if action not in ("Delete", "Detach"):
            raise invalid(f"action={action!r}: pass 'Delete' or 'Detach'.")
        local = backend(self._client)
        self.get(name)  # ResourceNotFoundError for an unknown name
        with translate():
            local.delete_compute(name)
        return done(None)

    def begin_start(self, name):
        self.get(name)
        return done(None)

    def begin_stop(self, name):
        self.get(name)
        return done(None)
