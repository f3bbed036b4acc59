"""``azureml.core.model`` on the embedded workspace: ``Model`` and ``InferenceConfig``.

A Model is one registered version of the workspace's model registry (a stored copy of the
file or folder, see :mod:`tutor.workspace.local.models`). ``Model.deploy`` starts the
local scoring service (:mod:`tutor.serving`) through the workspace's ``deploy_service``,
the same call the tutor's deployment steps make, and returns an ``AciWebservice`` or an
``AksWebservice`` whose ``wait_for_deployment()`` follows it to Healthy.
"""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from azureml._embedded import Subset, backend, tags_match, translate
from azureml.exceptions import (ModelNotFoundException, UserErrorException,
                                WebserviceException)

__all__ = ["InferenceConfig", "Model"]

#: Where ``Model.get_model_path`` keeps downloaded models (azureml's cache folder).
MODELS_DIR = os.path.join(os.environ.get("AML_APP_ROOT", ""), "azureml-models")
_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9\-\._]{0,254}$")
_SERVICE_NAME = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")


def _refuse(what: str) -> UserErrorException:
    from azureml._embedded import AZURE_HINT

    return UserErrorException(f"{what} is not supported by the embedded workspace. {AZURE_HINT}")


def _not_found(**kwargs: Any) -> str:
    """azureml's message for a model that does not exist (``populate_model_not_found_details``)."""
    return ("ModelNotFound: Model with " + ", ".join(f"{k} {v}" for k, v in kwargs.items() if v)
            + " not found in provided workspace")


def _check_model_name(name: Any) -> None:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise WebserviceException('Error, provided model name is invalid. It must only consist of letters, '
                                  'numbers, dashes, periods, or underscores, start with a letter or number, and be '
                                  'between 1 and 255 characters long.')


class Model(Subset):
    """A registered model version: its name, version, tags, files and the services made from it."""

    class Framework:
        CUSTOM = "Custom"
        SCIKITLEARN = "ScikitLearn"
        ONNX = "Onnx"
        TENSORFLOW = "TensorFlow"
        PYTORCH = "PyTorch"

    def __init__(self, workspace, name=None, id=None, tags=None, properties=None, version=None,
                 run_id=None, model_framework=None, expand=True, **kwargs):
        """The model ``name`` (its latest version, or ``version``), or the model ``id`` ("name:version")."""
        record = kwargs.pop("_record", None)
        if kwargs:
            raise TypeError(f"Model.__init__() got an unexpected keyword argument {next(iter(kwargs))!r}")
        self._workspace = workspace
        self._expand = expand
        if record is None and workspace is not None:
            record = self._get(workspace, name, id, tags, properties, version, model_framework, run_id)
            if record is None:
                raise WebserviceException(_not_found(name=name, id=id, tags=tags, properties=properties,
                                                     version=version, run_id=run_id,
                                                     model_framework=model_framework))
        self._record = record

    @classmethod
    def _from_record(cls, workspace: Any, record: Any) -> "Model":
        return cls(workspace, _record=record)

    @staticmethod
    def _get(workspace, name, id, tags, properties, version, model_framework, run_id) -> Any:
        from tutor.errors import TutorError

        if not id and not name:
            raise WebserviceException("Error, one of id or name must be provided.")
        store = backend(workspace)
        if id or version:
            model_id = id or f"{name}:{version}"
            model_name, _, number = str(model_id).rpartition(":")
            if not model_name or not number.isdigit():
                raise WebserviceException(_not_found(id=model_id))
            try:
                return store.get_model(model_name, int(number))
            except TutorError:
                raise WebserviceException(_not_found(id=model_id)) from None
        found = [r for r in store.list_models(name) if _matches(r, tags, properties, run_id, model_framework)]
        return max(found, key=lambda r: (r.created_at, r.version)) if found else None

    # -- what it is ---------------------------------------------------------------------

    @property
    def workspace(self):
        return self._workspace

    @property
    def name(self):
        return self._record.name

    @property
    def version(self):
        return self._record.version

    @property
    def id(self):
        return self._record.id

    @property
    def tags(self):
        return dict(self._record.tags)

    @property
    def properties(self):
        return {}

    @property
    def description(self):
        return self._record.description or None

    @property
    def created_time(self):
        created = self._record.created_at
        return datetime.fromisoformat(created) if created else None

    @property
    def created_by(self):
        return None

    @property
    def run_id(self):
        return self._record.run_id

    @property
    def experiment_name(self):
        return self._record.experiment

    @property
    def run(self):
        """The run that made the model (None for a model registered from a local file)."""
        if not (self._expand and self._record.run_id):
            return None
        from azureml.core.run import Run

        with translate(WebserviceException):
            return Run._wrap(self._workspace, backend(self._workspace).get_run(self._record.run_id))

    @property
    def url(self):
        return Path(self._record.model_file).as_uri()

    @property
    def mime_type(self):
        return "application/octet-stream"

    @property
    def model_framework(self):
        return Model.Framework.CUSTOM

    @property
    def model_framework_version(self):
        return None

    @property
    def unpack(self):
        return False

    @property
    def datasets(self):
        return {}

    @property
    def sample_input_dataset(self):
        return None

    @property
    def sample_output_dataset(self):
        return None

    @property
    def resource_configuration(self):
        return None

    @property
    def parent_id(self):
        return None

    @property
    def derived_model_ids(self):
        return []

    def serialize(self):
        """The model as azureml's JSON dictionary."""
        created = self.created_time
        return {"createdTime": created.isoformat() if created else None, "createdBy": None,
                "description": self.description, "id": self.id, "mimeType": self.mime_type, "name": self.name,
                "framework": self.model_framework, "frameworkVersion": None, "tags": self.tags,
                "properties": self.properties, "unpack": False, "url": self.url, "version": self.version,
                "experimentName": self.experiment_name, "runId": self.run_id,
                "runDetails": str(self.run) if self.run_id else "None", "datasets": [],
                "resourceConfiguration": None, "sampleInputDatasetId": None, "sampleOutputDatasetId": None}

    def __eq__(self, other):
        return isinstance(other, Model) and other.id == self.id and other._workspace == self._workspace

    def __hash__(self):
        return hash(self.id)

    def __repr__(self):
        return (f"Model(workspace={self._workspace!r}, name={self.name}, id={self.id}, version={self.version}, "
                f"tags={self.tags}, properties={self.properties})")

    # -- registering, listing, downloading -------------------------------------------------

    @staticmethod
    def register(workspace, model_path, model_name, tags=None, properties=None, description=None,
                 datasets=None, model_framework=None, model_framework_version=None, child_paths=None,
                 sample_input_dataset=None, sample_output_dataset=None, resource_configuration=None):
        """Register a local file or folder (inside the current folder) as the next version of ``model_name``."""
        _check_model_name(model_name)
        if model_framework is None and model_framework_version is not None:
            raise WebserviceException("Model framework version cannot be provided without a valid framework")
        for value, what in ((properties, "Model properties"), (datasets, "Model datasets"),
                            (child_paths, "child_paths"), (sample_input_dataset, "sample_input_dataset"),
                            (sample_output_dataset, "sample_output_dataset"),
                            (resource_configuration, "resource_configuration")):
            if value:
                raise _refuse(what)
        if model_framework not in (None, Model.Framework.CUSTOM):
            raise _refuse(f"model_framework={model_framework!r} (no-code deployment)")
        cwd = os.getcwd()
        path = os.path.normpath(os.path.join(cwd, os.fspath(model_path)))
        if not os.path.exists(path):
            raise FileNotFoundError("Path does not exist")
        if not os.path.abspath(path).startswith(os.path.abspath(cwd)):
            raise PermissionError("Unauthorized access: Path outside current working directory")
        print(f"Registering model {model_name}")
        with translate(WebserviceException):
            record = backend(workspace).register_model(model_name, path, tags=tags, description=description or "")
        return Model._from_record(workspace, record)

    @staticmethod
    def list(workspace, name=None, tags=None, properties=None, run_id=None, latest=False,
             dataset_id=None, expand=True, page_count=255, model_framework=None):
        """The registered model versions, filtered as azureml filters them."""
        if page_count and (page_count < 20 or page_count > 255):
            raise UserErrorException(f"Expected page_count value is between 20 and 255. Provided: {page_count}")
        if tags is not None and type(tags) is not list:
            raise UserErrorException('Expected tags must be list type. Ex. ["key", ["key2", "key2 value"]]: '
                                     f"provided {type(tags)}")
        records = backend(workspace).list_models(name, latest=latest)
        return [Model(workspace, _record=r, expand=expand) for r in records
                if _matches(r, tags, properties, run_id, model_framework) and not dataset_id]

    def download(self, target_dir=".", exist_ok=False, exists_ok=None):
        """Copy the model's file (or folder) into ``target_dir``; returns its path there."""
        if exists_ok is not None:
            if exist_ok is not None:
                raise WebserviceException("Both exists_ok and exist_ok are set. Please use exist_ok only.")
            exist_ok = exists_ok
        target = Path(os.path.normpath(target_dir)) / self._record.file_name
        if target.exists() and not exist_ok:
            raise WebserviceException(f"File already exists. To overwrite, set exist_ok to True. {target}")
        with translate(WebserviceException):
            backend(self._workspace).download_model(self.name, self.version, target_dir, exist_ok=bool(exist_ok))
        return str(target)

    @staticmethod
    def get_model_path(model_name, version=None, _workspace=None):
        """The local path of a model: in a run, or with ``_workspace``, downloaded into ./azureml-models/."""
        if version is not None and not isinstance(version, int):
            raise WebserviceException("version should be an int")
        workspace = _workspace
        from azureml.core.run import Run
        from azureml.exceptions import RunEnvironmentException

        try:
            workspace = Run.get_context(allow_offline=False).experiment.workspace
        except RunEnvironmentException:
            pass
        if version is not None:
            try:
                return Model._get_model_path_local(model_name, version)
            except ModelNotFoundException as error:
                if workspace is None:
                    raise WebserviceException(error.message) from None
        if workspace is None:
            return Model._get_model_path_local(model_name, version)
        try:
            model = Model(workspace, name=model_name, version=version)
        except WebserviceException as error:
            if "ModelNotFound" not in error.message:
                raise
            listing = sorted(f"{m.name}/{m.version}" for m in Model.list(workspace))
            raise ModelNotFoundException(f"Model/Version {model_name}/{version} not found in workspace. "
                                         f"{listing}") from None
        return model.download(os.path.join(MODELS_DIR, model_name, str(model.version)), exist_ok=True)

    @staticmethod
    def _get_model_path_local(model_name, version=None):
        folder = os.path.join(MODELS_DIR, model_name)
        if os.path.isdir(folder):
            versions = [v for v in os.listdir(folder) if v.isdigit()]
            chosen = str(version) if version is not None else (max(versions, key=int) if versions else None)
            candidate = os.path.join(folder, chosen) if chosen else None
            if candidate and os.path.isdir(candidate):
                entries = os.listdir(candidate)
                if len(entries) != 1:
                    raise WebserviceException(f"Dir {candidate} can contain only 1 file or folder. Found {entries}")
                return os.path.join(candidate, entries[0])
        if os.path.exists(model_name):
            return model_name
        raise ModelNotFoundException(f"Model {model_name} not found in cache at {MODELS_DIR} or in current "
                                     f"working directory {os.getcwd()}. For more info, set logging level to DEBUG.")

    # -- deploying --------------------------------------------------------------------------

    @staticmethod
    def deploy(workspace, name, models, inference_config=None, deployment_config=None, deployment_target=None,
               overwrite=False, show_output=False):
        """Deploy ``models`` behind ``inference_config``'s entry script as a web service (ACI, or AKS with a
        ``deployment_target``); returns the service, Transitioning until ``wait_for_deployment()``."""
        from azureml.core.webservice import AciWebservice, AksWebservice
        from azureml.core.webservice.aci import AciServiceDeploymentConfiguration
        from azureml.core.webservice.aks import AksServiceDeploymentConfiguration

        if not isinstance(name, str) or not _SERVICE_NAME.fullmatch(name) or not 3 <= len(name) <= 32:
            raise WebserviceException("Error, provided service name is invalid. It must only consist of lowercase "
                                      "letters, numbers, or dashes, start with a letter, end with a letter or number, "
                                      "and be between 3 and 32 characters long.")
        models = list(models or [])
        for model in models:
            if not isinstance(model, Model):
                raise WebserviceException(f"Error, models must be a list of azureml.core.Model objects, "
                                          f"got {type(model).__name__}: {model!r}")
        if show_output:
            Model.print_configuration(models, inference_config, deployment_config, deployment_target)
        if inference_config is None:
            raise _refuse("Deploying without an InferenceConfig (no-code deployment)")
        if not isinstance(inference_config, InferenceConfig):
            raise WebserviceException(f"Error, inference_config must be an InferenceConfig, "
                                      f"got {type(inference_config).__name__}")
        if deployment_config is None:
            if deployment_target is None:
                deployment_config = AciWebservice.deploy_configuration()
            elif _compute_type(deployment_target) in ("AKS", "AksCompute"):
                deployment_config = AksWebservice.deploy_configuration()
            else:
                raise WebserviceException("Must provide deployment configuration when not deploying to AKS or ACI")
        target_name = None
        if isinstance(deployment_config, AksServiceDeploymentConfiguration):
            target_name = deployment_config.compute_target_name or getattr(deployment_target, "name", None)
            if not target_name:
                raise WebserviceException("Must have a deployment target for an AKS web service.")
            _check_aks_target(workspace, target_name)
            service_class: Any = AksWebservice
        elif isinstance(deployment_config, AciServiceDeploymentConfiguration):
            service_class = AciWebservice
        else:
            raise WebserviceException(f"Error, deployment_config must be the deploy_configuration() of "
                                      f"AciWebservice or AksWebservice, got {type(deployment_config).__name__}")
        settings = deployment_config._settings()
        environment = inference_config.environment
        env_ref = environment._registered_ref(workspace) if environment is not None else None
        with translate(WebserviceException):
            record = backend(workspace).deploy_service(
                name, [m.id for m in models], inference_config._entry_path(), environment=env_ref,
                overwrite=bool(overwrite), description=deployment_config.description or inference_config.description
                or "", tags=deployment_config.tags, **settings)
            if target_name:
                record = backend(workspace).update_service(
                    name, properties={**record.properties, "compute_name": target_name})
        return service_class._from_record(workspace, record)

    @staticmethod
    def print_configuration(models, inference_config, deployment_config, deployment_target):
        """Print what a deployment is asked to do, as azureml does with ``show_output=True``."""
        if len(models) > 0:
            print("Models: {}".format([model.id for model in models]))
        if deployment_target:
            print(f"Compute target: {deployment_target.name}")
        if inference_config:
            print(f"Entry script: {inference_config.entry_script}")
        if deployment_config:
            deployment_config.print_deploy_configuration()


def _matches(record: Any, tags: Any, properties: Any, run_id: Any, model_framework: Any) -> bool:
    if run_id and record.run_id != run_id:
        return False
    if properties:  # registered models carry no properties here
        return False
    if model_framework and model_framework != Model.Framework.CUSTOM:
        return False
    return tags_match(record.tags, tags)


def _compute_type(target: Any) -> str | None:
    kind = getattr(target, "type", None)
    return kind if isinstance(kind, str) else None


def _aks_type_known() -> bool:
    """Whether the workspace has AKS compute targets (Azure's compute type "AKS")."""
    from tutor.workspace.base import ComputeTarget

    return "'AKS'" in str(ComputeTarget.__dataclass_fields__["type"].type).replace('"', "'")


def _check_aks_target(workspace: Any, name: str) -> None:
    from tutor.errors import TutorError

    try:
        target = backend(workspace).get_compute(name)
    except TutorError as error:
        raise WebserviceException(f"ComputeTargetNotFound: Compute target {name} not found in provided workspace. "
                                  f"{error.what}") from None
    if _aks_type_known() and target.type != "AKS":
        raise WebserviceException(f"Error, the deployment target {name} is a {target.type}, not an AKS cluster "
                                  "(AksCompute): an AKS web service is deployed to an AksCompute target.")


class InferenceConfig(Subset):
    """What a deployed service runs: the entry script (score.py) and the environment it needs."""

    def __init__(self, entry_script, runtime=None, conda_file=None, extra_docker_file_steps=None,
                 source_directory=None, enable_gpu=None, description=None,
                 base_image=None, base_image_registry=None, cuda_version=None, environment=None):
        from azureml.core.environment import Environment

        self.entry_script = entry_script
        self.runtime = runtime
        self.conda_file = conda_file
        self.extra_docker_file_steps = extra_docker_file_steps
        self.source_directory = source_directory
        self.enable_gpu = enable_gpu
        self.cuda_version = cuda_version
        self.description = description
        self.base_image = base_image
        self.base_image_registry = base_image_registry
        self.environment = environment
        if environment is not None and not isinstance(environment, Environment):
            raise WebserviceException(f"Error, environment must be an azureml.core.Environment, "
                                      f"got {type(environment).__name__}")
        self.validate_configuration()

    def validate_configuration(self):
        """azureml's checks: an existing, importable .py entry script (relative to source_directory)."""
        if not self.entry_script:
            raise WebserviceException("Error, need to specify entry_script.")
        if self.environment is not None and (self.runtime or self.conda_file or self.extra_docker_file_steps
                                             or self.enable_gpu or self.cuda_version or self.base_image):
            raise WebserviceException("Error, unable to provide runtime, conda_file, extra_docker_file_steps, "
                                      "enable_gpu, cuda_version, or base_image along with an environment object.")
        for value, what in ((self.runtime, "runtime"), (self.conda_file, "conda_file"),
                            (self.extra_docker_file_steps, "extra_docker_file_steps"), (self.enable_gpu, "enable_gpu"),
                            (self.cuda_version, "cuda_version"), (self.base_image, "base_image"),
                            (self.base_image_registry, "base_image_registry")):
            if value:
                raise _refuse(f"InferenceConfig({what}=...) (an image built without an Environment)")
        if self.source_directory:
            self.source_directory = os.path.realpath(self.source_directory)
            if not os.path.exists(self.source_directory):
                raise WebserviceException(f"source directory {os.path.normpath(self.source_directory)} doesn't "
                                          "exist. ")
        script = self._entry_path()
        if not script.exists():
            raise WebserviceException(f"entry_script {os.path.normpath(str(script))} doesn't exist. entry_script "
                                      "should be path relative to current working directory")
        if script.suffix != ".py":
            raise WebserviceException("Invalid driver type. Currently only Python drivers are supported.")
        import keyword

        if not script.stem.isidentifier() or keyword.iskeyword(script.stem):
            raise WebserviceException(f'Error, invalid name "{script.stem}" for provided entry script. The script '
                                      "must be importable as a valid python module, and must adhere to standard "
                                      "module naming. This means it must be a valid python identifier and not a "
                                      "part of the set of python standard keywords.")

    def _entry_path(self) -> Path:
        if self.source_directory:
            return Path(self.source_directory) / self.entry_script
        return Path(os.path.abspath(self.entry_script))

    def __repr__(self):
        return (f"InferenceConfig(entry_script={self.entry_script}, runtime={self.runtime}, "
                f"conda_file={self.conda_file}, extra_docker_file_steps={self.extra_docker_file_steps}, "
                f"source_directory={self.source_directory}, enable_gpu={self.enable_gpu}, "
                f"base_image={self.base_image}, base_image_registry={self.base_image_registry})")


def __getattr__(name: str) -> Any:
    from azureml._embedded import unsupported_name

    raise unsupported_name(__name__, name, __all__)
