"""``azureml.core.compute.AksCompute``: an AKS cluster to deploy services to, on the embedded workspace.

The workspace records the cluster (``get_or_create_aks``: agent VM size and count, Azure's
defaults Standard_D3_v2 x 3) and provisions it briefly: it checks that this machine can start
the scoring service's processes, which is where services deployed to it run. Its ``type``
is Azure's ``AKS``. Creating a cluster that exists with the same settings returns it.
"""

from __future__ import annotations


from azureml._embedded import backend, translate
from azureml.core.compute.compute import (ComputeTarget, ComputeTargetProvisioningConfiguration, _provider_error,
                                          _refuse)
from azureml.exceptions import ComputeTargetException

__all__ = ["AksCompute", "AksProvisioningConfiguration"]


class AksCompute(ComputeTarget):
    """An AKS cluster: ``agent_vm_size``, ``agent_count``; services are deployed to it."""

    _compute_type = "AKS"

    class ClusterPurpose(object):
        """What the cluster is for: production (at least 12 cores on Azure) or dev/test."""

        FAST_PROD = "FastProd"
        DEV_TEST = "DevTest"

    @property
    def agent_vm_size(self):
        return self._record.vm_size

    @property
    def agent_count(self):
        return self._record.max_nodes

    @property
    def cluster_purpose(self):
        return self._record.properties.get("cluster_purpose", AksCompute.ClusterPurpose.FAST_PROD)

    @property
    def cluster_fqdn(self):
        return None

    def __repr__(self):
        return super().__repr__()

    @staticmethod
    def provisioning_configuration(agent_count=None, vm_size=None, ssl_cname=None, ssl_cert_pem_file=None,
                                   ssl_key_pem_file=None, location=None, vnet_resourcegroup_name=None,
                                   vnet_name=None, subnet_name=None, service_cidr=None,
                                   dns_service_ip=None, docker_bridge_cidr=None, cluster_purpose=None,
                                   load_balancer_type=None, load_balancer_subnet=None):
        """The settings of a new AKS cluster (Azure's defaults: 3 agents of Standard_D3_v2)."""
        return AksProvisioningConfiguration(agent_count, vm_size, ssl_cname, ssl_cert_pem_file, ssl_key_pem_file,
                                            location, vnet_resourcegroup_name, vnet_name, subnet_name, service_cidr,
                                            dns_service_ip, docker_bridge_cidr, cluster_purpose, load_balancer_type,
                                            load_balancer_subnet)

    @staticmethod
    def _create(workspace, name, provisioning_configuration):
        from tutor.workspace.local.compute import DEFAULT_AKS_AGENTS, DEFAULT_AKS_SIZE

        config = provisioning_configuration
        _refuse("AksCompute.provisioning_configuration", config._values(), {
            "ssl_cname": None, "ssl_cert_pem_file": None, "ssl_key_pem_file": None, "location": None,
            "vnet_resourcegroup_name": None, "vnet_name": None, "subnet_name": None, "service_cidr": None,
            "dns_service_ip": None, "docker_bridge_cidr": None, "load_balancer_type": None,
            "load_balancer_subnet": None, "leaf_domain_label": None})
        if config.cluster_purpose not in (None, AksCompute.ClusterPurpose.FAST_PROD, AksCompute.ClusterPurpose.DEV_TEST):
            raise ComputeTargetException(_provider_error(400) + f"cluster_purpose {config.cluster_purpose!r} is not "
                                         "one of 'FastProd' and 'DevTest' (AksCompute.ClusterPurpose).")
        wanted = {"vm_size": config.vm_size or DEFAULT_AKS_SIZE, "agent_count": config.agent_count or DEFAULT_AKS_AGENTS}
        ws = backend(workspace)
        existing = {t.name: t for t in ws.list_compute()}.get(name)
        with translate(ComputeTargetException, _provider_error(400)):
            record = ws.get_or_create_aks(name, **wanted)
        if existing is not None:
            have = {"vm_size": existing.vm_size, "agent_count": existing.max_nodes}
            asked = dict(wanted, vm_size=str(wanted["vm_size"]).strip().upper())
            changed = [f"{key} {have[key]!r} (asked for {value!r})" for key, value in asked.items()
                       if have[key] != value]
            if changed:
                raise ComputeTargetException(
                    _provider_error(409) + f"An AKS cluster named '{name}' already exists with " + ", ".join(changed)
                    + ". Use it as it is (ComputeTarget(workspace=ws, name=...)), or delete it and create it "
                    "again, or choose another name.")
        target = ComputeTarget._from_record(workspace, record)
        target._operation_pending = True
        return target

    def delete(self):
        """Delete the AKS cluster."""
        super().delete()

    def serialize(self):
        """The cluster as azureml serializes it."""
        properties = {"agentVmSize": self.agent_vm_size, "agentCount": self.agent_count,
                      "clusterPurpose": self.cluster_purpose, "clusterFqdn": self.cluster_fqdn,
                      "systemServices": None, "sslConfiguration": None, "loadBalancerType": None,
                      "loadBalancerSubnet": None}
        return {"id": self.id, "name": self.name, "tags": self.tags, "location": self.location,
                "properties": {"computeType": self.type, "computeLocation": self.cluster_location,
                               "description": self.description, "resourceId": self.cluster_resource_id,
                               "isAttachedCompute": self.is_attached, "provisioningState": self.provisioning_state,
                               "provisioningErrors": self.provisioning_errors, "properties": properties}}


class AksProvisioningConfiguration(ComputeTargetProvisioningConfiguration):
    """The settings of a new AKS cluster, checked as azureml checks them."""

    def __init__(self, agent_count, vm_size, ssl_cname, ssl_cert_pem_file, ssl_key_pem_file, location,
                 vnet_resourcegroup_name, vnet_name, subnet_name, service_cidr, dns_service_ip,
                 docker_bridge_cidr, cluster_purpose, load_balancer_type, load_balancer_subnet):
        super().__init__(AksCompute, location)
        self.agent_count = agent_count
        self.vm_size = vm_size
        self.ssl_cname = ssl_cname
        self.ssl_cert_pem_file = ssl_cert_pem_file
        self.ssl_key_pem_file = ssl_key_pem_file
        self.vnet_resourcegroup_name = vnet_resourcegroup_name
        self.vnet_name = vnet_name
        self.subnet_name = subnet_name
        self.leaf_domain_label = None
        self.overwrite_existing_domain = False
        self.service_cidr = service_cidr
        self.dns_service_ip = dns_service_ip
        self.docker_bridge_cidr = docker_bridge_cidr
        self.cluster_purpose = cluster_purpose
        self.load_balancer_type = load_balancer_type
        self.load_balancer_subnet = load_balancer_subnet
        self.validate_configuration()

    def validate_configuration(self):
        """azureml's checks: a positive agent count, complete SSL and virtual network settings."""
        if self.agent_count and self.agent_count <= 0:
            raise ComputeTargetException("Invalid configuration, agent count must be a positive integer.")
        if self.ssl_cname or self.ssl_cert_pem_file or self.ssl_key_pem_file:
            if not self.ssl_cname or not self.ssl_cert_pem_file or not self.ssl_key_pem_file:
                raise ComputeTargetException("Invalid configuration, not all ssl information provided. To enable "
                                             "SSL validation please provide the cname, cert pem file, and key pem "
                                             "file.")
        if self.vnet_name or self.vnet_resourcegroup_name or self.subnet_name or self.service_cidr or \
                self.dns_service_ip or self.docker_bridge_cidr:
            if not self.vnet_name or not self.vnet_resourcegroup_name or not self.subnet_name or \
                    not self.service_cidr or not self.dns_service_ip or not self.docker_bridge_cidr:
                raise ComputeTargetException("Invalid configuration, not all virtual net information provided. To "
                                             "use a custom virtual net with aks, please provide vnet name, vnet "
                                             "resource group, subnet name, service cidr, dns service ip and docker "
                                             "bridge cidr")
