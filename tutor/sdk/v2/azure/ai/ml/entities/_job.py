"""``azure.ai.ml.entities``' jobs: ``Job`` and the command job ``command(...)`` builds."""

from __future__ import annotations

from azure.ai.ml._embedded import Subset

__all__ = ["Command", "Job"]


class Job(Subset):
    """A job of the workspace: its name (the run id), experiment, status and where to see it."""

    def __init__(self, name=None, display_name=None, description=None, tags=None, properties=None,
                 experiment_name=None, compute=None, services=None, **kwargs):
        self.type = kwargs.get("type", "")
        self.name = name
        self.display_name = display_name
        self.description = description
        self.tags = dict(tags or {})
        self.properties = dict(properties or {})
        self.experiment_name = experiment_name
        self.compute = compute
        self.services = services
        self._status = kwargs.get("status")
        self._studio_url = kwargs.get("studio_url")
        self._creation_context = kwargs.get("creation_context")
        self._id = kwargs.get("id")

    @property
    def status(self):
        """"Queued", "Running", "Completed", "Failed" or "Canceled" (None before submission)."""
        return self._status

    @property
    def studio_url(self):
        """Where the job is shown: on the embedded workspace, its run folder."""
        return self._studio_url

    @property
    def creation_context(self):
        return self._creation_context

    @property
    def id(self):
        return self._id

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, experiment_name={self.experiment_name!r}, status={self.status!r})"


class Command(Job):
    """A command job: ``command`` run in the ``code`` folder with ``environment`` on ``compute``."""

    def __init__(self, *, component, compute=None, inputs=None, outputs=None, limits=None, identity=None,
                 distribution=None, environment=None, environment_variables=None, resources=None, services=None,
                 queue_settings=None, parent_job_name=None, **kwargs):
        super().__init__(compute=compute, services=services, **kwargs)
        self.type = "command"
        self.component = component
        self.command = getattr(component, "command", None)
        self.code = getattr(component, "code", None)
        self.inputs = dict(inputs or {})
        self.outputs = dict(outputs or {})
        self.environment = environment
        self.environment_variables = dict(environment_variables or {})
        self.distribution = distribution
        self.resources = resources
        self.identity = identity
        self.limits = limits
        self.queue_settings = queue_settings
        self.parent_job_name = parent_job_name


class _CommandComponent:
    """What a command job runs: its command line and code folder (azure-ai-ml's CommandComponent)."""

    def __init__(self, command, code):
        self.command = command
        self.code = code
