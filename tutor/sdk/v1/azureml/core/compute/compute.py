"""``azureml.core.compute.ComputeTarget`` on the embedded workspace.

``ComputeTarget(ws, name)`` looks the target up in the workspace and returns an object of
the subclass its type names (``AmlCompute``, ``ComputeInstance``, ``AksCompute``), as
azureml's ``__new__`` does; a name the workspace does not have raises
``ComputeTargetException`` with azureml's "ComputeTargetNotFound" message, which is what the
course's get-or-create code catches. ``ComputeTarget.create`` hands the provisioning
configuration to its compute type, which creates the target through the embedded
workspace (:mod:`tutor.workspace.local.compute`). An object is a snapshot of the target:
``refresh_state()``, ``get_status()`` and ``wait_for_completion()`` read it again.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from azureml._embedded import Subset, backend, translate
from azureml.exceptions import ComputeTargetException, UserErrorException

__all__ = ["ComputeTarget", "ComputeTargetProvisioningConfiguration"]

_RESOURCE_ID = ("/subscriptions/{}/resourceGroups/{}/providers/Microsoft.MachineLearningServices/workspaces/{}"
                "/computes/{}")
_RESERVED = ["amlcompute", "local", "containerinstance"]


def _not_found(name: Any) -> ComputeTargetException:
    return ComputeTargetException("ComputeTargetNotFound: Compute Target with name {} not found in provided "
                                  "workspace".format(name))


def _provider_error(code: int) -> str:
    """The start of azureml's message for a request the service refused (``code`` is its HTTP status)."""
    return f"Received bad response from Resource Provider:\nResponse Code: {code}\nContent: "


def _time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _refuse(what: str, values: dict[str, Any], defaults: dict[str, Any], names: dict[str, str] | None = None) -> None:
    """A non-default setting the embedded workspace cannot honour, as azureml's UserErrorException."""
    changed = sorted((names or {}).get(k, k) for k, default in defaults.items() if values.get(k) != default)
    if changed:
        raise UserErrorException(
            f"{what}: {', '.join(changed)} {'is' if len(changed) == 1 else 'are'} not supported on the embedded "
            "workspace, whose compute runs on this machine (no Azure network, identity, region or sign-in "
            "settings). Leave them out, or use an Azure ML workspace.")


class ComputeTarget(Subset):
    """A compute target of the workspace: a cluster, a compute instance or an AKS cluster."""

    _compute_type: str | None = None

    def __new__(cls, workspace, name):
        """The compute target ``name`` of ``workspace``, as an object of its own type."""
        if workspace and name:
            records = {t.name: t for t in backend(workspace).list_compute()}
            record = records.get(name) if isinstance(name, str) else None
            if record is None:
                raise _not_found(name)
            return ComputeTarget._from_record(workspace, record)
        return super(ComputeTarget, cls).__new__(cls)

    def __init__(self, workspace, name):
        """Look up the compute target ``name`` (the work is done in ``__new__``, as in azureml)."""

    @classmethod
    def _from_record(cls, workspace: Any, record: Any) -> "ComputeTarget":
        """The SDK object of a :class:`tutor.workspace.base.ComputeTarget` record."""
        import azureml.core.compute  # noqa: F401  (defines the subclasses)

        for child in ComputeTarget.__subclasses__():
            if child._compute_type == record.type:
                target = super(ComputeTarget, cls).__new__(child)
                target._initialize(workspace, record)
                return target
        raise ComputeTargetException(f"Compute target '{record.name}' has the type {record.type}, which the "
                                     "embedded azureml SDK does not know.")

    def _initialize(self, workspace: Any, record: Any) -> None:
        self._workspace = workspace
        self._record = record
        self._operation_pending = False
        self._deleting = False

    # -- what it is ----------------------------------------------------------------------

    @property
    def workspace(self):
        return self._workspace

    @property
    def name(self):
        return self._record.name

    @property
    def type(self):
        return self._record.type

    @property
    def id(self):
        ws = self._workspace
        return _RESOURCE_ID.format(ws.subscription_id, ws.resource_group, ws.name, self.name)

    @property
    def location(self):
        return self._workspace.location

    @property
    def tags(self):
        return None

    @property
    def description(self):
        return None

    @property
    def created_on(self):
        return _time(self._record.created_at)

    @property
    def modified_on(self):
        return None

    @property
    def provisioning_state(self):
        return "Deleting" if self._deleting else self._record.provisioning_state.value

    @property
    def provisioning_errors(self):
        if self.provisioning_state != "Failed":
            return None
        return [{"error": {"code": "ProvisioningFailed", "message": self._record.state_message}}]

    @property
    def cluster_resource_id(self):
        return None

    @property
    def cluster_location(self):
        return self.location

    @property
    def is_attached(self):
        return False

    def __repr__(self):
        return "{}(workspace={}, name={}, id={}, type={}, provisioning_state={}, location={}, " \
               "tags={})".format(self.__class__.__name__, self.workspace.__repr__(), self.name, self.id, self.type,
                                 self.provisioning_state, self.location, self.tags)

    # -- creating, listing -----------------------------------------------------------------

    @staticmethod
    def create(workspace, name, provisioning_configuration):
        """Create the compute target ``name`` that ``provisioning_configuration`` describes."""
        if name in _RESERVED:
            raise UserErrorException("Please specify a different target name."
                                     " {} is a reserved name.".format(name))
        compute_type = provisioning_configuration._compute_type
        return compute_type._create(workspace, name, provisioning_configuration)

    @staticmethod
    def list(workspace):
        """Every compute target of ``workspace``, each as an object of its own type."""
        return [ComputeTarget._from_record(workspace, t) for t in backend(workspace).list_compute()]

    # -- state -------------------------------------------------------------------------------

    def refresh_state(self):
        """Read the target's state from the workspace again (raises ComputeTargetNotFound if it is gone)."""
        records = {t.name: t for t in backend(self._workspace).list_compute()}
        record = records.get(self.name)
        if record is None or record.type != self._record.type:
            raise _not_found(self.name)
        self._record = record
        self._deleting = False

    def get_status(self):
        """The target's provisioning state, read again."""
        self.refresh_state()
        return self.provisioning_state

    def _provision(self, show_output: bool, timeout_seconds: float | None = None) -> tuple[str, Any]:
        """Finish provisioning through the workspace; (operation state, error) as azureml polls them."""
        from tutor.errors import TutorError

        first = "InProgress" if self.provisioning_state == "Creating" else "Succeeded"
        if show_output:
            print(first, end="", flush=True)
        kwargs = {} if timeout_seconds is None else {"timeout_seconds": timeout_seconds}

        def progress(state: str, message: str) -> None:
            if show_output and state == "Creating":
                print(".", end="", flush=True)

        try:
            backend(self._workspace).wait_for_compute(self.name, on_state=progress, **kwargs)
            state, error = "Succeeded", None
        except TutorError as failure:
            state, error = "Failed", {"code": "ProvisioningFailed", "message": failure.what}
        if show_output and state != first:
            print(f"\n{state}", end="", flush=True)
        self._operation_pending = False
        return state, error

    def wait_for_completion(self, show_output=False, is_delete_operation=False):
        """Wait for the target's provisioning (or, with ``is_delete_operation``, its deletion) to finish."""
        if self._deleting and self._operation_pending:  # the workspace deletes at once
            self._operation_pending = False
            print('Provisioning operation finished, operation "Succeeded"')
            if not is_delete_operation:
                self.refresh_state()  # ComputeTargetNotFound, as azureml's refresh after a deletion
            return
        if is_delete_operation:
            raise ComputeTargetException("Long running operation information not known, unable to poll. "
                                         "Current state is {}".format(self.provisioning_state))
        if not self._operation_pending and self.provisioning_state != "Creating":
            self.refresh_state()
            if self.provisioning_state != "Creating":
                raise ComputeTargetException("Long running operation information not known, unable to poll. "
                                             "Current state is {}".format(self.provisioning_state))
        self._finish_provisioning(show_output)

    def _finish_provisioning(self, show_output: bool, timeout_seconds: float | None = None) -> None:
        """Provision, say how it ended as azureml does, and raise azureml's error if it failed."""
        state, error = self._provision(show_output, timeout_seconds=timeout_seconds)
        print('Provisioning operation finished, operation "{}"'.format(state))
        self.refresh_state()
        if state != "Succeeded":
            raise ComputeTargetException("Compute object provisioning polling reached non-successful terminal "
                                         "state, current provisioning state: {}\nProvisioning operation error:\n"
                                         "StatusCode: 400\nMessage: {}".format(self.provisioning_state,
                                                                              error["message"]))

    def delete(self):
        """Delete the target from the workspace (its queued runs are canceled; refused while runs execute)."""
        with translate(ComputeTargetException, _provider_error(409)):
            backend(self._workspace).delete_compute(self.name)
        self._deleting = True
        self._operation_pending = True

    def serialize(self):
        """The target as a JSON-style dict, as azureml serializes it."""
        created_on = self.created_on.isoformat() if self.created_on else None
        return {"id": self.id, "name": self.name, "location": self.location, "type": self.type, "tags": self.tags,
                "description": self.description, "created_on": created_on, "modified_on": None,
                "provisioning_state": self.provisioning_state, "provisioning_errors": self.provisioning_errors}

    def _json(self) -> str:
        return json.dumps(self.serialize(), indent=2)


class ComputeTargetProvisioningConfiguration(Subset):
    """What a compute target is created with (made by ``<Type>.provisioning_configuration``)."""

    def __init__(self, type, location):
        self._compute_type = type
        self.location = location

    def validate_configuration(self):
        """Check the configuration; raises ComputeTargetException if it is invalid."""

    def _values(self) -> dict[str, Any]:
        return dict(vars(self))
