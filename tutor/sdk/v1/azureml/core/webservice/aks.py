"""``azureml.core.webservice.AksWebservice``: a service as Azure Kubernetes Service runs it.

On the embedded workspace ``num_replicas`` worker processes serve one port on 127.0.0.1
(day 1's scale-out), deployed to an ``AksCompute`` target of the workspace.
"""

from __future__ import annotations

from typing import Any

from azureml.core.webservice.aci import ContainerResourceRequirements
from azureml.core.webservice.webservice import (_print_requirements, Webservice, WebserviceDeploymentConfiguration,
                                                 _initialize_service, _refuse)
from azureml.exceptions import WebserviceException

__all__ = ["AksServiceDeploymentConfiguration", "AksWebservice"]

_DEFAULT_CPU_CORES = 0.1
_DEFAULT_MEMORY_GB = 0.5


class AksWebservice(Webservice):
    """A web service deployed as on an AKS cluster: replicas behind one scoring URI."""

    _webservice_type = "AKS"
    scoring_uri = None
    swagger_uri = None
    models = None
    environment = None
    num_replicas = None
    autoscaler = None
    compute_name = None
    container_resource_requirements = None
    namespace = None

    def _initialize(self, workspace: Any, record: Any) -> None:
        super()._initialize(workspace, record)
        _initialize_service(self, record)
        props = record.properties
        self.num_replicas = props.get("replicas", 1)
        self.autoscaler = None
        self.compute_name = props.get("compute_name")
        self.container_resource_requirements = ContainerResourceRequirements(props.get("cpu_cores"),
                                                                             props.get("memory_gb"))
        self.namespace = "default"
        self.token_auth_enabled = False

    @staticmethod
    def deploy_configuration(autoscale_enabled=None, autoscale_min_replicas=None, autoscale_max_replicas=None,
                             autoscale_refresh_seconds=None, autoscale_target_utilization=None,
                             collect_model_data=None, auth_enabled=None, cpu_cores=None, memory_gb=None,
                             enable_app_insights=None, scoring_timeout_ms=None, replica_max_concurrent_requests=None,
                             max_request_wait_time=None, num_replicas=None, primary_key=None, secondary_key=None,
                             tags=None, properties=None, description=None, gpu_cores=None, period_seconds=None,
                             initial_delay_seconds=None, timeout_seconds=None, success_threshold=None,
                             failure_threshold=None, namespace=None, token_auth_enabled=None,
                             compute_target_name=None, cpu_cores_limit=None, memory_gb_limit=None,
                             blobfuse_enabled=None):
        """How an AKS service runs: replicas, cores, memory, key authentication (on unless turned off)."""
        return AksServiceDeploymentConfiguration(
            autoscale_enabled, autoscale_min_replicas, autoscale_max_replicas, autoscale_refresh_seconds,
            autoscale_target_utilization, collect_model_data, auth_enabled, cpu_cores, memory_gb,
            enable_app_insights, scoring_timeout_ms, replica_max_concurrent_requests, max_request_wait_time,
            num_replicas, primary_key, secondary_key, tags, properties, description, gpu_cores, period_seconds,
            initial_delay_seconds, timeout_seconds, success_threshold, failure_threshold, namespace,
            token_auth_enabled, compute_target_name, cpu_cores_limit, memory_gb_limit, blobfuse_enabled)

    def run(self, input_data):
        """POST ``input_data`` (a JSON string) to the service; the parsed JSON answer."""
        return self._run(input_data)

    def update(self, image=None, autoscale_enabled=None, autoscale_min_replicas=None, autoscale_max_replicas=None,
               autoscale_refresh_seconds=None, autoscale_target_utilization=None, collect_model_data=None,
               auth_enabled=None, cpu_cores=None, memory_gb=None,
               enable_app_insights=None, scoring_timeout_ms=None, replica_max_concurrent_requests=None,
               max_request_wait_time=None, num_replicas=None, tags=None,
               properties=None, description=None, models=None, inference_config=None, gpu_cores=None,
               period_seconds=None, initial_delay_seconds=None, timeout_seconds=None, success_threshold=None,
               failure_threshold=None, namespace=None, token_auth_enabled=None, cpu_cores_limit=None,
               memory_gb_limit=None, **kwargs):
        """Change the service: replicas, cores, memory, models, entry script or auth redeploy it (keys kept)."""
        if kwargs:
            raise TypeError(f"AksWebservice.update() got an unexpected keyword argument {next(iter(kwargs))!r}")
        tuning = (autoscale_refresh_seconds, autoscale_target_utilization, enable_app_insights, scoring_timeout_ms,
                  replica_max_concurrent_requests, max_request_wait_time, period_seconds, initial_delay_seconds,
                  timeout_seconds, success_threshold, failure_threshold, namespace, cpu_cores_limit, memory_gb_limit)
        redeploying = (models, inference_config, num_replicas, cpu_cores, memory_gb)
        if image is None and tags is None and properties is None and not description and auth_enabled is None \
                and autoscale_enabled is None and autoscale_min_replicas is None and autoscale_max_replicas is None \
                and collect_model_data is None and gpu_cores is None and token_auth_enabled is None \
                and all(v is None for v in tuning + redeploying):
            raise WebserviceException("No parameters provided to update.")
        if inference_config is None and models:
            raise WebserviceException('Error, both "models" and "inference_config" inputs must be provided in order '
                                      "to update the models.\n")
        if num_replicas is not None and num_replicas <= 0:
            raise WebserviceException("Invalid configuration, num_replicas must be greater than zero.\n")
        for value, what in ((image, "update(image=...) (container images)"),
                            (autoscale_enabled, "Autoscaling"), (autoscale_min_replicas, "Autoscaling"),
                            (autoscale_max_replicas, "Autoscaling"), (collect_model_data, "collect_model_data"),
                            (gpu_cores, "GPU cores"), (token_auth_enabled, "Token authentication"),
                            (properties, "Service properties (update(properties=...))")):
            if value:
                raise _refuse(what)
        if any(v is not None for v in redeploying) or \
                (auth_enabled is not None and bool(auth_enabled) != self.auth_enabled):
            self._redeploy(models=models, inference_config=inference_config, auth_enabled=auth_enabled, tags=tags,
                           description=description, replicas=num_replicas,
                           cpu_cores=None if cpu_cores is None else float(cpu_cores),
                           memory_gb=None if memory_gb is None else float(memory_gb))
        else:
            self._update_record(tags=tags, description=description)

    def get_token(self):
        """Azure AD token authentication: not on the embedded workspace (use get_keys())."""
        raise _refuse("Token authentication (get_token); the service uses keys: get_keys()")

    def serialize(self):
        """The service as azureml's JSON dictionary."""
        properties = super().serialize()
        properties.update({
            "imageId": None, "scoringUri": self.scoring_uri, "numReplicas": self.num_replicas,
            "containerResourceRequirements": self.container_resource_requirements.serialize(),
            "computeName": self.compute_name, "authEnabled": self.auth_enabled, "aadAuthEnabled": False,
            "autoScaler": None, "namespace": self.namespace, "swaggerUri": self.swagger_uri,
            "modelDetails": [m.serialize() for m in self.models] or None})
        return properties


class AksServiceDeploymentConfiguration(WebserviceDeploymentConfiguration):
    """An AKS deployment's configuration (``AksWebservice.deploy_configuration()``)."""

    _webservice_type = AksWebservice

    def __init__(self, autoscale_enabled, autoscale_min_replicas, autoscale_max_replicas, autoscale_refresh_seconds,
                 autoscale_target_utilization, collect_model_data, auth_enabled, cpu_cores, memory_gb,
                 enable_app_insights, scoring_timeout_ms, replica_max_concurrent_requests, max_request_wait_time,
                 num_replicas, primary_key, secondary_key, tags, properties, description, gpu_cores, period_seconds,
                 initial_delay_seconds, timeout_seconds, success_threshold, failure_threshold, namespace,
                 token_auth_enabled, compute_target_name, cpu_cores_limit, memory_gb_limit, blobfuse_enabled=None):
        super().__init__(AksWebservice, description, tags, properties, primary_key, secondary_key)
        self.autoscale_enabled = autoscale_enabled
        self.autoscale_min_replicas = autoscale_min_replicas
        self.autoscale_max_replicas = autoscale_max_replicas
        self.autoscale_refresh_seconds = autoscale_refresh_seconds
        self.autoscale_target_utilization = autoscale_target_utilization
        self.collect_model_data = collect_model_data
        self.auth_enabled = auth_enabled
        self.cpu_cores = cpu_cores
        self.memory_gb = memory_gb
        self.gpu_cores = gpu_cores
        self.enable_app_insights = enable_app_insights
        self.scoring_timeout_ms = scoring_timeout_ms
        self.replica_max_concurrent_requests = replica_max_concurrent_requests
        self.max_request_wait_time = max_request_wait_time
        self.num_replicas = num_replicas
        self.period_seconds = period_seconds
        self.initial_delay_seconds = initial_delay_seconds
        self.timeout_seconds = timeout_seconds
        self.success_threshold = success_threshold
        self.failure_threshold = failure_threshold
        self.namespace = namespace
        self.token_auth_enabled = token_auth_enabled
        self.compute_target_name = compute_target_name
        self.cpu_cores_limit = cpu_cores_limit
        self.memory_gb_limit = memory_gb_limit
        self.blobfuse_enabled = blobfuse_enabled
        self.validate_configuration()

    def validate_configuration(self):
        """azureml's checks, then what the embedded workspace cannot do."""
        error = ""
        positive = (("cpu_cores", self.cpu_cores), ("memory_gb", self.memory_gb),
                    ("period_seconds", self.period_seconds), ("initial_delay_seconds", self.initial_delay_seconds),
                    ("timeout_seconds", self.timeout_seconds), ("success_threshold", self.success_threshold),
                    ("failure_threshold", self.failure_threshold), ("scoring_timeout_ms", self.scoring_timeout_ms),
                    ("replica_max_concurrent_requests", self.replica_max_concurrent_requests),
                    ("max_request_wait_time", self.max_request_wait_time), ("num_replicas", self.num_replicas))
        for what, value in positive:
            if value is not None and value <= 0:
                error += f"Invalid configuration, {what} must be greater than zero.\n"
        if self.cpu_cores is not None and self.cpu_cores_limit is not None and self.cpu_cores_limit < self.cpu_cores:
            error += "Invalid configuration, cpu_cores_limit must be greater than or equal to cpu_cores.\n"
        if self.memory_gb is not None and self.memory_gb_limit is not None and self.memory_gb_limit < self.memory_gb:
            error += "Invalid configuration, memory_gb_limit must be greater than or equal to memory_gb.\n"
        if self.gpu_cores is not None and self.gpu_cores < 0:
            error += "Invalid configuration, gpu_cores must be greater than or equal to zero.\n"
        if self.autoscale_enabled:
            if self.num_replicas:
                error += "Invalid configuration, autoscale enabled and num_replicas provided.\n"
        else:
            if self.autoscale_enabled is False and not self.num_replicas:
                error += "Invalid configuration, autoscale disabled but num_replicas not provided.\n"
            if self.autoscale_min_replicas:
                error += "Invalid configuration, autoscale_min_replicas provided without enabling autoscaling.\n"
            if self.autoscale_max_replicas:
                error += "Invalid configuration, autoscale_max_replicas provided without enabling autoscaling.\n"
        if self.token_auth_enabled and self.auth_enabled:
            error += "Invalid configuration, auth_enabled and token_auth_enabled cannot both be true.\n"
        if error:
            raise WebserviceException(error)
        for value, what in ((self.autoscale_enabled, "Autoscaling (give num_replicas instead)"),
                            (self.collect_model_data, "collect_model_data"), (self.gpu_cores, "GPU cores"),
                            (self.token_auth_enabled, "Token authentication")):
            if value:
                raise _refuse(what)

    def print_deploy_configuration(self):
        """Print the cores, memory and replicas asked for."""
        _print_requirements(self.cpu_cores, self.memory_gb, self.num_replicas)

    def _settings(self) -> dict[str, Any]:
        """The workspace's ``deploy_service`` arguments."""
        auth = self.auth_enabled is not False  # AKS: on unless turned off
        return {"kind": "AKS", "cpu_cores": float(self.cpu_cores or _DEFAULT_CPU_CORES),
                "memory_gb": float(self.memory_gb or _DEFAULT_MEMORY_GB), "replicas": int(self.num_replicas or 1),
                "auth_enabled": auth, "keys": self._keys(auth)}
