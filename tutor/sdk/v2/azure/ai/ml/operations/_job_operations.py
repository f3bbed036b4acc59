"""``ml_client.jobs``: submit a command or AutoML job, follow it, read and download what it made.

A command job becomes a run of the embedded workspace: ``command`` must be ``python <script>.py
<arguments>`` with the script in the ``code`` folder; each ``${{inputs.<name>}}`` is replaced
by the input's local path (a registered data asset's file or folder on the datastore, a local
path) or value, each ``${{outputs.<name>}}`` by a folder under the job's ``outputs/``. The job's
name is the run id, so ``mlflow.get_run(job.name)`` reads its metrics.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
from pathlib import Path

from azure.ai.ml._embedded import ListViewType, Subset, backend, done, invalid, reference, translate

__all__ = ["JobOperations"]

_BINDING = re.compile(r"\$\{\{\s*(inputs|outputs)\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_STATUS = {"Queued": "Queued", "Preparing": "Preparing", "Running": "Running", "Completed": "Completed",
           "Failed": "Failed", "Canceled": "Canceled"}


def _not_found(name):
    from azure.core.exceptions import ResourceNotFoundError

    return ResourceNotFoundError(f"(UserError) Job {name} was not found in this workspace.\nCode: UserError\n"
                                 f"Message: Job {name} was not found in this workspace.")


def _record(local, name):
    from tutor.errors import TutorError

    try:
        return local.get_run(name)
    except TutorError:
        raise _not_found(name) from None


def job_entity(record):
    """The job a run of the embedded workspace is: a Command, or an AutoML job for a search's parent."""
    common = dict(name=record.id, display_name=record.display_name or record.id, experiment_name=record.experiment,
                  tags=dict(record.tags), compute=record.compute_target, status=_STATUS.get(str(record.status)),
                  studio_url=Path(record.run_dir).resolve().as_uri() if record.run_dir else None,
                  creation_context={"created_at": record.submitted_at}, id=record.id)
    if record.tags.get("kind") == "automl":
        from azure.ai.ml.entities._automl import RegressionJob

        return RegressionJob(**common)
    from azure.ai.ml.entities._job import Command, _CommandComponent

    line = " ".join(shlex.quote(part) for part in ["python", record.script, *record.arguments])
    return Command(component=_CommandComponent(line, None), environment=record.environment, **common)


class JobOperations(Subset):
    """Submit (``create_or_update``), ``get``, ``list``, ``stream``, ``download`` and cancel jobs."""

    def __init__(self, ml_client):
        self._client = ml_client

    # -- submitting ----------------------------------------------------------------------

    def create_or_update(self, job, *, description=None, compute=None, tags=None, experiment_name=None,
                         skip_validation=False, **kwargs):
        from azure.ai.ml.entities._automl import RegressionJob
        from azure.ai.ml.entities._job import Command

        experiment = experiment_name or job.experiment_name or _default_experiment()
        if compute is not None:
            job.compute = compute
        if tags:
            job.tags.update(tags)
        if isinstance(job, RegressionJob):
            from azure.ai.ml.entities._automl import submit

            return job_entity(submit(self._client, job, experiment))
        if not isinstance(job, Command):
            raise invalid(f"create_or_update() takes a job (command(...) or automl.regression(...)), not "
                          f"{type(job).__name__}.")
        return job_entity(self._submit_command(job, experiment))

    def _submit_command(self, job, experiment):
        from tutor.workspace.base import ScriptRunConfig

        local = backend(self._client)
        if job.code is None:
            raise invalid("The job has no code=: pass the folder its script is in, e.g. code=\"train\".")
        code = Path(str(job.code)).expanduser()
        if not code.is_dir():
            raise invalid(f"code={job.code!r}: there is no folder {code.resolve()}.")
        if job.environment_variables:
            raise invalid("environment_variables= is not supported by the embedded workspace's jobs; pass the "
                          "values as arguments of the command instead.")
        line = _bind(local, job)
        try:
            words = shlex.split(line)
        except ValueError as error:
            raise invalid(f"command={job.command!r} cannot be read as a command line ({error}).") from None
        if len(words) < 2 or Path(words[0]).name not in ("python", "python3") or not words[1].endswith(".py"):
            raise invalid(f"command={job.command!r}: the embedded workspace runs 'python <script>.py <arguments>', "
                          "with the script in the code folder.")
        environment = None
        if job.environment is not None:
            name, version = reference(job.environment, "environment")
            environment = name if version == "latest" else f"{name}:{version}"
        config = ScriptRunConfig(source_directory=code, script=words[1], arguments=words[2:],
                                 environment=environment, compute_target=job.compute or "local",
                                 tags={str(k): str(v) for k, v in job.tags.items()}, display_name=job.display_name)
        with translate():
            return local.submit(experiment, config)

    # -- reading -------------------------------------------------------------------------

    def get(self, name):
        return job_entity(_record(backend(self._client), name))

    def list(self, *, parent_job_name=None, list_view_type=ListViewType.ACTIVE_ONLY, **kwargs):
        local = backend(self._client)
        if parent_job_name is not None:
            _record(local, parent_job_name)
            records = local.get_children(parent_job_name)
        else:
            records = [r for r in local.list_runs() if r.parent_id is None]
        return iter([job_entity(r) for r in records])

    def stream(self, name):
        """Print the job's log as it runs; raise JobException if it fails."""
        from azure.ai.ml.exceptions import JobException

        local = backend(self._client)
        record = _record(local, name)
        print(f"RunId: {name}")
        print(f"Web View: {job_entity(record).studio_url}")
        if record.tags.get("kind") == "automl":
            from azure.ai.ml.entities._automl import wait

            record = wait(local, name)
        else:
            print("\nStreaming logs/std_log.txt\n==========================\n", flush=True)
            with translate():
                record = local.wait_for_completion(name, on_log_line=lambda line: print(line, flush=True))
        print(f"\nExecution Summary\n=================\nRunId: {name}\nWeb View: {job_entity(record).studio_url}",
              flush=True)
        if str(record.status) == "Failed":
            message = f"Job {name} failed: {record.error or 'see its log'}"
            raise JobException(message=message, no_personal_data_message="The job failed.")

    def download(self, name, *, download_path='.', output_name=None, all=False):
        """The job's outputs and logs into ``download_path/artifacts/`` (outputs/, logs/)."""
        local = backend(self._client)
        record = _record(local, name)
        if output_name not in (None, "default"):
            raise invalid(f"output_name={output_name!r}: the embedded workspace's jobs have one output, the "
                          "default (outputs/ and logs/); leave output_name out.")
        target = Path(download_path).expanduser() / "artifacts"
        for part in ("outputs", "logs"):
            source = Path(record.run_dir) / part
            if source.is_dir():
                shutil.copytree(source, target / part, dirs_exist_ok=True)

    def begin_cancel(self, name, **kwargs):
        local = backend(self._client)
        _record(local, name)
        with translate():
            local.cancel(name)
        return done(None)


def _default_experiment():
    """azure-ai-ml's default experiment name: the current folder's name."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", Path(os.getcwd()).name) or "default"


def _bind(local, job):
    """The command line with each ``${{inputs.x}}`` / ``${{outputs.x}}`` replaced."""
    from azure.ai.ml import Input, Output

    def value(match):
        kind, key = match.group(1), match.group(2)
        table = job.inputs if kind == "inputs" else job.outputs
        if key not in table:
            raise invalid(f"The command uses ${{{{{kind}.{key}}}}} but the job has no {kind[:-1]} '{key}': add it "
                          f"to {kind}={{...}}.")
        item = table[key]
        if kind == "outputs":
            if item is not None and not isinstance(item, Output):
                raise invalid(f"outputs['{key}'] must be an Output(...), not {type(item).__name__}.")
            return f"outputs/{key}"
        if isinstance(item, Input):
            return str(_input_path(local, key, item))
        if isinstance(item, (str, int, float, bool)):
            return str(item)
        raise invalid(f"inputs['{key}'] must be an Input(...) or a value, not {type(item).__name__}.")

    return _BINDING.sub(value, str(job.command))


def _input_path(local, key, item):
    from azure.ai.ml.operations._data_operations import local_path

    if item.path is None:
        raise invalid(f"inputs['{key}'] has no path=: name a data asset (\"azureml:<name>@latest\") or a local "
                      "file or folder.")
    text = item.path
    if text.startswith("azureml:") and not text.startswith("azureml://"):
        path, entity = local_path(local, text)
        if item.type != entity.type:
            raise invalid(f"inputs['{key}']: {text} is a {entity.type} data asset, not {item.type}: pass "
                          f"Input(type=\"{entity.type}\", ...).")
        return path.resolve()
    if text.startswith("azureml://datastores/"):
        store = local.default_datastore
        prefix = f"azureml://datastores/{store.name}/paths/"
        if not text.startswith(prefix):
            raise invalid(f"inputs['{key}']: the embedded workspace has one datastore, {store.name}.")
        found = store.local_path(text[len(prefix):].rstrip("/"))
    else:
        found = Path(text).expanduser()
    if not found.exists():
        raise invalid(f"inputs['{key}']: there is no file or folder {text}.")
    return found.resolve()
