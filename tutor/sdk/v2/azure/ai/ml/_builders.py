"""``azure.ai.ml.command``: a command job, built from its parts."""

from __future__ import annotations

__all__ = ["command"]


def command(*, name=None, description=None, tags=None, properties=None, display_name=None, command=None,
            experiment_name=None, environment=None, environment_variables=None, distribution=None, compute=None,
            inputs=None, outputs=None, instance_count=None, instance_type=None, locations=None, docker_args=None,
            shm_size=None, timeout=None, code=None, identity=None, is_deterministic=True, services=None,
            job_tier=None, priority=None, parent_job_name=None, **kwargs):
    """A command job: ``command`` (e.g. ``"python train.py --data ${{inputs.data}}"``) run in the
    ``code`` folder, in ``environment``, on ``compute``; submit it with ``ml_client.jobs.create_or_update``."""
    from azure.ai.ml._embedded import invalid
    from azure.ai.ml.entities._job import Command, _CommandComponent

    if not isinstance(command, str) or not command.strip():
        raise invalid("command(...) needs command=, the command line the job runs, e.g. "
                      "command=\"python train.py --data ${{inputs.data}}\".")
    return Command(component=_CommandComponent(command, code), compute=compute, inputs=inputs, outputs=outputs,
                   identity=identity, distribution=distribution, environment=environment,
                   environment_variables=environment_variables, services=services, parent_job_name=parent_job_name,
                   name=name, description=description, tags=tags, properties=properties, display_name=display_name,
                   experiment_name=experiment_name)
