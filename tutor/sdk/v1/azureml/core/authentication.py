"""``azureml.core.authentication``: how a script signs in to Azure.

The embedded workspace needs no sign-in: these classes are accepted where azureml takes an
``auth=`` argument, so code written for Azure runs unchanged, and they hold nothing.
A secret given to them is not stored or shown.
"""

from __future__ import annotations

from azureml._embedded import Subset

__all__ = ["AzureCliAuthentication", "InteractiveLoginAuthentication", "MsiAuthentication",
           "ServicePrincipalAuthentication"]


class AbstractAuthentication(Subset):
    def get_authentication_header(self):
        return {}


class InteractiveLoginAuthentication(AbstractAuthentication):
    """A device-code or browser sign-in on Azure; nothing to do on the embedded workspace."""

    def __init__(self, force=False, tenant_id=None, cloud=None):
        self._tenant_id = tenant_id


class ServicePrincipalAuthentication(AbstractAuthentication):
    """A service principal's sign-in on Azure; the password is not kept here."""

    def __init__(self, tenant_id, service_principal_id, service_principal_password, cloud='AzureCloud',
                 _enable_caching=True):
        self._tenant_id = tenant_id
        self._service_principal_id = service_principal_id

    def __repr__(self):
        return f"ServicePrincipalAuthentication(tenant_id={self._tenant_id!r}, service_principal_id=" \
               f"{self._service_principal_id!r})"


class AzureCliAuthentication(AbstractAuthentication):
    def __init__(self, cloud=None):
        pass


class MsiAuthentication(AbstractAuthentication):
    def __init__(self, cloud=None, **kwargs):
        pass
