"""``ml_client.models``: the model registry. A model is registered from a local file or folder,
or from a job's output (``azureml://jobs/<job>/outputs/artifacts/paths/outputs/model.pkl``, or
MLflow's ``runs:/<job>/outputs/model.pkl``)."""

from __future__ import annotations

import re
from pathlib import Path

from azure.ai.ml._embedded import ListViewType, Subset, asked_version, backend, invalid, translate, version_arg

__all__ = ["ModelOperations"]

_JOB_OUTPUT = re.compile(r"^azureml://jobs/(?P<job>[^/]+)/outputs/artifacts/paths/(?P<path>.+)$")
_MLFLOW_RUN = re.compile(r"^runs:/(?P<job>[^/]+)/(?P<path>.+)$")
_TYPES = ("custom_model", "mlflow_model", "triton_model")


def model_entity(record):
    from azure.ai.ml.entities import Model

    path = (f"azureml://jobs/{record.run_id}/outputs/artifacts/paths/outputs/{record.file_name}" if record.run_id
            else str(record.model_file))
    return Model(name=record.name, version=str(record.version), path=path, type="custom_model",
                 description=record.description or None, tags=dict(record.tags), job_name=record.run_id,
                 id=f"azureml:{record.name}:{record.version}", utc_time_created=record.created_at)


class ModelOperations(Subset):
    """Register (``create_or_update``), ``get``, ``list`` and ``download`` models."""

    def __init__(self, ml_client):
        self._client = ml_client

    def create_or_update(self, model):
        from azure.ai.ml.entities import Model

        if not isinstance(model, Model):
            raise invalid(f"create_or_update() takes a Model, not {type(model).__name__}.")
        if not model.name or not model.path:
            raise invalid("A Model needs name= and path= (a local file or folder, or a job's output: "
                          "azureml://jobs/<job name>/outputs/artifacts/paths/outputs/model.pkl).")
        if model.type not in _TYPES:
            raise invalid(f"Model type {model.type!r}: use AssetTypes.CUSTOM_MODEL (or MLFLOW_MODEL, TRITON_MODEL).")
        if model.version is not None:
            raise invalid(f"Model {model.name!r} version={model.version!r}: the registry numbers versions itself; "
                          "leave version out and it registers the next one.")
        local = backend(self._client)
        text = str(model.path)
        found = _JOB_OUTPUT.match(text) or _MLFLOW_RUN.match(text)
        with translate():
            if found:
                run = _run_of(local, found["job"])
                record = local.register_model(model.name, found["path"], run_id=run.id, tags=model.tags,
                                              description=model.description or "")
            elif text.startswith(("azureml:", "runs:")):
                raise invalid(f"{text}: name a job's output as azureml://jobs/<job name>/outputs/artifacts/paths/"
                              "<path in the job>, or give a local file or folder.")
            else:
                source = Path(text).expanduser()
                if not source.exists():
                    raise invalid(f"Model {model.name!r}: there is no file or folder {source}.")
                record = local.register_model(model.name, source, tags=model.tags,
                                              description=model.description or "")
        return model_entity(record)

    def get(self, name, version=None, label=None):
        wanted = asked_version(version, label)
        with translate():
            record = backend(self._client).get_model(name, wanted)
        return model_entity(record)

    def list(self, name=None, stage=None, *, list_view_type=ListViewType.ACTIVE_ONLY):
        with translate():
            records = backend(self._client).list_models(name)
        return iter([model_entity(r) for r in records])

    def download(self, name, version, download_path='.'):
        """Copy the model's files into ``download_path/<name>/``."""
        target = Path(download_path).expanduser() / name
        with translate():
            backend(self._client).download_model(name, version_arg(version), target, exist_ok=True)


def _run_of(local, job):
    from tutor.errors import TutorError

    try:
        return local.get_run(job)
    except TutorError as error:
        from azure.core.exceptions import ResourceNotFoundError

        raise ResourceNotFoundError(f"Job {job} was not found: {error.what} {error.fix or ''}".strip()) from None
