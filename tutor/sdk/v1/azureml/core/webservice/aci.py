"""``azureml.core.webservice.AciWebservice``: a service as Azure Container Instances runs it.

On the embedded workspace it is one worker process behind a port on 127.0.0.1; ``cpu_cores``
sets its BLAS threads, ``memory_gb`` is recorded.
"""

from __future__ import annotations

from typing import Any

from azureml._embedded import Subset
from azureml.core.webservice.webservice import (_print_requirements, Webservice, WebserviceDeploymentConfiguration,
                                                 _initialize_service, _refuse)
from azureml.exceptions import WebserviceException

__all__ = ["AciServiceDeploymentConfiguration", "AciWebservice", "ContainerResourceRequirements"]

#: Azure's defaults when deploy_configuration() leaves them out.
_DEFAULT_CPU_CORES = 0.1
_DEFAULT_MEMORY_GB = 0.5


class ContainerResourceRequirements(Subset):
    """The CPU and memory a container asks for."""

    def __init__(self, cpu, memory_in_gb):
        self.cpu = cpu
        self.memory_in_gb = memory_in_gb

    def serialize(self):
        return {"cpu": self.cpu, "memoryInGB": self.memory_in_gb}

    def __repr__(self):
        return f"ContainerResourceRequirements(cpu={self.cpu}, memory_in_gb={self.memory_in_gb})"


class AciWebservice(Webservice):
    """A web service deployed as on Azure Container Instances."""

    _webservice_type = "ACI"
    scoring_uri = None
    swagger_uri = None
    models = None
    environment = None
    location = None
    container_resource_requirements = None
    enable_app_insights = None
    ssl_enabled = None

    def _initialize(self, workspace: Any, record: Any) -> None:
        super()._initialize(workspace, record)
        _initialize_service(self, record)
        props = record.properties
        self.location = "local"
        self.container_resource_requirements = ContainerResourceRequirements(props.get("cpu_cores"),
                                                                             props.get("memory_gb"))
        self.enable_app_insights = False
        self.ssl_enabled = False

    @staticmethod
    def deploy_configuration(cpu_cores=None, memory_gb=None, tags=None, properties=None, description=None,
                             location=None, auth_enabled=None, ssl_enabled=None, enable_app_insights=None,
                             ssl_cert_pem_file=None, ssl_key_pem_file=None, ssl_cname=None, dns_name_label=None,
                             primary_key=None, secondary_key=None, collect_model_data=None,
                             cmk_vault_base_url=None, cmk_key_name=None, cmk_key_version=None,
                             vnet_name=None, subnet_name=None):
        """How an ACI service runs: cores, memory, key authentication (off unless ``auth_enabled``), tags."""
        return AciServiceDeploymentConfiguration(
            cpu_cores=cpu_cores, memory_gb=memory_gb, tags=tags, properties=properties, description=description,
            location=location, auth_enabled=auth_enabled, ssl_enabled=ssl_enabled,
            enable_app_insights=enable_app_insights, ssl_cert_pem_file=ssl_cert_pem_file,
            ssl_key_pem_file=ssl_key_pem_file, ssl_cname=ssl_cname, dns_name_label=dns_name_label,
            primary_key=primary_key, secondary_key=secondary_key, collect_model_data=collect_model_data,
            cmk_vault_base_url=cmk_vault_base_url, cmk_key_name=cmk_key_name, cmk_key_version=cmk_key_version,
            vnet_name=vnet_name, subnet_name=subnet_name)

    def run(self, input_data):
        """POST ``input_data`` (a JSON string) to the service; the parsed JSON answer."""
        return self._run(input_data)

    def update(self, image=None, tags=None, properties=None, description=None, auth_enabled=None, ssl_enabled=None,
               ssl_cert_pem_file=None, ssl_key_pem_file=None, ssl_cname=None, enable_app_insights=None, models=None,
               inference_config=None):
        """Change the service: new models/entry script/auth redeploy it (keys kept); tags and description do not."""
        if not image and tags is None and properties is None and not description and auth_enabled is None \
                and ssl_enabled is None and not ssl_cert_pem_file and not ssl_key_pem_file and not ssl_cname \
                and enable_app_insights is None and models is None and inference_config is None:
            raise WebserviceException("No parameters provided to update.")
        if inference_config is None and models:
            raise WebserviceException('Error, both "models" and "inference_config" inputs must be provided in order '
                                      "to update the models.\n")
        if image:
            raise _refuse("update(image=...) (container images)")
        if ssl_enabled or ssl_cert_pem_file or ssl_key_pem_file or ssl_cname:
            raise _refuse("SSL for a service")
        if properties:
            raise _refuse("Service properties (update(properties=...))")
        if models is not None or inference_config is not None or \
                (auth_enabled is not None and bool(auth_enabled) != self.auth_enabled):
            self._redeploy(models=models, inference_config=inference_config, auth_enabled=auth_enabled,
                           tags=tags, description=description)
        else:
            self._update_record(tags=tags, description=description)

    def get_token(self):
        """ACI services have no token authentication (as on Azure)."""
        raise NotImplementedError("ACI webservices do not support Token Authentication.")

    def serialize(self):
        """The service as azureml's JSON dictionary."""
        properties = super().serialize()
        properties.update({
            "containerResourceRequirements": self.container_resource_requirements.serialize(), "imageId": None,
            "scoringUri": self.scoring_uri, "location": self.location, "authEnabled": self.auth_enabled,
            "sslEnabled": False, "appInsightsEnabled": False, "sslCertificate": None, "sslKey": None, "cname": None,
            "publicIp": "127.0.0.1", "publicFqdn": "127.0.0.1", "environmentDetails": None,
            "modelDetails": [m.serialize() for m in self.models] or None, "encryptionProperties": None,
            "vnetConfiguration": None})
        return properties


class AciServiceDeploymentConfiguration(WebserviceDeploymentConfiguration):
    """An ACI deployment's configuration (``AciWebservice.deploy_configuration()``)."""

    _webservice_type = AciWebservice

    def __init__(self, cpu_cores=None, memory_gb=None, tags=None, properties=None, description=None, location=None,
                 auth_enabled=None, ssl_enabled=None, enable_app_insights=None, ssl_cert_pem_file=None,
                 ssl_key_pem_file=None, ssl_cname=None, dns_name_label=None,
                 primary_key=None, secondary_key=None, collect_model_data=None,
                 cmk_vault_base_url=None, cmk_key_name=None, cmk_key_version=None,
                 vnet_name=None, subnet_name=None):
        super().__init__(AciWebservice, description, tags, properties, primary_key, secondary_key, location)
        self.cpu_cores = cpu_cores
        self.memory_gb = memory_gb
        self.auth_enabled = auth_enabled
        self.ssl_enabled = ssl_enabled
        self.enable_app_insights = enable_app_insights
        self.ssl_cert_pem_file = ssl_cert_pem_file
        self.ssl_key_pem_file = ssl_key_pem_file
        self.ssl_cname = ssl_cname
        self.dns_name_label = dns_name_label
        self.collect_model_data = collect_model_data
        self.cmk_vault_base_url = cmk_vault_base_url
        self.cmk_key_name = cmk_key_name
        self.cmk_key_version = cmk_key_version
        self.vnet_name = vnet_name
        self.subnet_name = subnet_name
        self.validate_configuration()

    def validate_configuration(self):
        """azureml's checks, then what the embedded workspace cannot do."""
        if self.cpu_cores is not None and self.cpu_cores <= 0:
            raise WebserviceException("Invalid configuration, cpu_cores must be positive.")
        if self.memory_gb is not None and self.memory_gb <= 0:
            raise WebserviceException("Invalid configuration, memory_gb must be positive.")
        if self.ssl_enabled and (not self.ssl_cert_pem_file or not self.ssl_key_pem_file or not self.ssl_cname):
            raise WebserviceException("SSL is enabled, you must provide a SSL certificate, key, and cname.")
        if not ((self.cmk_vault_base_url and self.cmk_key_name and self.cmk_key_version)
                or (not self.cmk_vault_base_url and not self.cmk_key_name and not self.cmk_key_version)):
            raise WebserviceException("customer managed key vault_base_url, key_name and key_version must all have "
                                      "values or all are empty/null")
        if (self.vnet_name and not self.subnet_name) or (not self.vnet_name and self.subnet_name):
            raise WebserviceException("vnet_name and subnet_name must all have values or both are empty/null")
        for value, what in ((self.ssl_enabled, "SSL for a service"), (self.dns_name_label, "dns_name_label"),
                            (self.collect_model_data, "collect_model_data"),
                            (self.cmk_vault_base_url, "Customer managed keys"), (self.vnet_name, "A virtual network")):
            if value:
                raise _refuse(what)

    def print_deploy_configuration(self):
        """Print the cores and memory asked for."""
        _print_requirements(self.cpu_cores, self.memory_gb)

    def _settings(self) -> dict[str, Any]:
        """The workspace's ``deploy_service`` arguments."""
        auth = bool(self.auth_enabled)  # ACI: off unless asked for
        return {"kind": "ACI", "cpu_cores": float(self.cpu_cores or _DEFAULT_CPU_CORES),
                "memory_gb": float(self.memory_gb or _DEFAULT_MEMORY_GB), "replicas": 1, "auth_enabled": auth,
                "keys": self._keys(auth)}
