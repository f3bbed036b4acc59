"""``azureml.core.ScriptRunConfig``: which script runs, with which arguments, where and in what."""

from __future__ import annotations

from azureml._embedded import Subset
from azureml.exceptions import RunConfigurationException

__all__ = ["ScriptRunConfig"]


class RunConfiguration(Subset):
    """The part of azureml's RunConfiguration a ScriptRunConfig carries: the target and environment."""

    def __init__(self, script=None, arguments=None, framework=None, communicator=None, conda_dependencies=None,
                 _history_enabled=None, _path=None, _name=None, command=None):
        self.script = script
        self.arguments = list(arguments or [])
        self.target = "local"
        self.environment = None
        self.node_count = 1
        self.max_run_duration_seconds = 2592000


class ScriptRunConfig(Subset):
    """A script in a source folder, its arguments, a compute target and an environment."""

    def __init__(self, source_directory, script=None, arguments=None, run_config=None, _telemetry_values=None,
                 compute_target=None, environment=None, distributed_job_config=None, resume_from=None,
                 max_run_duration_seconds=2592000, command=None, docker_runtime_config=None):
        if command is not None:
            raise RunConfigurationException("The embedded workspace runs Python scripts: give script= and "
                                            "arguments= instead of command=.")
        if distributed_job_config is not None or resume_from is not None or docker_runtime_config is not None:
            raise RunConfigurationException("distributed_job_config, resume_from and docker_runtime_config are "
                                            "not part of the azureml SDK on the embedded workspace.")
        if script is None:
            raise RunConfigurationException("Either script or command must be specified.")
        if isinstance(arguments, (str, bytes)):
            raise RunConfigurationException("arguments must be a list, e.g. ['--variant', '1'], not one string.")
        self.source_directory = source_directory
        self.script = script
        self.arguments = list(arguments or [])
        self.run_config = run_config if run_config is not None else RunConfiguration()
        self.run_config.script = script
        self.run_config.arguments = self.arguments
        self.run_config.max_run_duration_seconds = max_run_duration_seconds
        if compute_target is not None:
            self.run_config.target = compute_target
        if environment is not None:
            self.run_config.environment = environment
