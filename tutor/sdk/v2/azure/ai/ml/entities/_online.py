"""``azure.ai.ml.entities``' managed online endpoints and deployments.

An endpoint is the stable scoring URI with its two keys; a deployment behind it (``blue``)
runs a registered model with a scoring script in an environment. On the embedded workspace
the endpoint is one of the workspace's services (a real HTTP server on 127.0.0.1 once a
deployment is up), so these entities describe what ``ml_client.online_endpoints`` and
``ml_client.online_deployments`` record and run.
"""

from __future__ import annotations

import os

from azure.ai.ml._embedded import Subset

__all__ = ["CodeConfiguration", "EndpointAuthKeys", "ManagedOnlineDeployment", "ManagedOnlineEndpoint",
           "OnlineRequestSettings"]


class ManagedOnlineEndpoint(Subset):
    """An online endpoint: its name, authentication mode ("key") and the traffic of its deployments."""

    def __init__(self, *, name=None, tags=None, properties=None, auth_mode='key', description=None, location=None,
                 traffic=None, mirror_traffic=None, identity=None, kind=None, public_network_access=None, **kwargs):
        self.name = name
        self.tags = dict(tags or {})
        self.properties = dict(properties or {})
        self.auth_mode = auth_mode
        self.description = description
        self.location = location
        self.traffic = dict(traffic or {})
        self.mirror_traffic = dict(mirror_traffic or {})
        self.identity = identity
        self.kind = kind
        self.public_network_access = public_network_access
        self._provisioning_state = kwargs.get("provisioning_state")
        self._scoring_uri = kwargs.get("scoring_uri")
        self._openapi_uri = kwargs.get("openapi_uri")
        self._id = kwargs.get("id")

    @property
    def provisioning_state(self):
        """"Succeeded" once the endpoint is created (None for an endpoint not sent to the workspace)."""
        return self._provisioning_state

    @property
    def scoring_uri(self):
        """Where clients POST their JSON, once a deployment is up."""
        return self._scoring_uri

    @property
    def openapi_uri(self):
        """The swagger document of the running deployment."""
        return self._openapi_uri

    @property
    def id(self):
        return self._id

    def __repr__(self) -> str:
        return (f"ManagedOnlineEndpoint(name={self.name!r}, auth_mode={self.auth_mode!r}, traffic={self.traffic!r}, "
                f"provisioning_state={self.provisioning_state!r}, scoring_uri={self.scoring_uri!r})")


class CodeConfiguration(Subset):
    """The scoring script a deployment runs: ``code`` is its folder, ``scoring_script`` the file in it."""

    def __init__(self, code=None, scoring_script=None):
        self.code = None if code is None else os.fspath(code)
        self._scoring_script = None if scoring_script is None else os.fspath(scoring_script)

    @property
    def scoring_script(self):
        return self._scoring_script

    @scoring_script.setter
    def scoring_script(self, value):
        self._scoring_script = None if value is None else os.fspath(value)

    def __repr__(self) -> str:
        return f"CodeConfiguration(code={self.code!r}, scoring_script={self.scoring_script!r})"


class OnlineRequestSettings(Subset):
    """How requests are queued and timed out (recorded; the local server keeps its own limits)."""

    def __init__(self, max_concurrent_requests_per_instance=None, request_timeout_ms=None, max_queue_wait_ms=None):
        self.max_concurrent_requests_per_instance = max_concurrent_requests_per_instance
        self.request_timeout_ms = request_timeout_ms
        self.max_queue_wait_ms = max_queue_wait_ms

    def __repr__(self) -> str:
        return (f"OnlineRequestSettings(max_concurrent_requests_per_instance="
                f"{self.max_concurrent_requests_per_instance!r}, request_timeout_ms={self.request_timeout_ms!r}, "
                f"max_queue_wait_ms={self.max_queue_wait_ms!r})")


class EndpointAuthKeys(Subset):
    """An endpoint's two keys: either one goes in ``Authorization: Bearer <key>``."""

    def __init__(self, **kwargs):
        self.primary_key = kwargs.get("primary_key")
        self.secondary_key = kwargs.get("secondary_key")

    def __repr__(self) -> str:
        return "EndpointAuthKeys(primary_key='***', secondary_key='***')"


class ManagedOnlineDeployment(Subset):
    """A deployment of an endpoint: a model, its scoring script and environment, on ``instance_count`` instances."""

    def __init__(self, *, name, endpoint_name=None, tags=None, properties=None, description=None, model=None,
                 code_configuration=None, environment=None, app_insights_enabled=False, scale_settings=None,
                 request_settings=None, liveness_probe=None, readiness_probe=None, environment_variables=None,
                 instance_type=None, instance_count=None, egress_public_network_access=None, code_path=None,
                 scoring_script=None, data_collector=None, **kwargs):
        self.name = name
        self.endpoint_name = endpoint_name
        self.tags = dict(tags or {})
        self.properties = dict(properties or {})
        self.description = description
        self.model = model
        if code_configuration is None and (code_path is not None or scoring_script is not None):
            code_configuration = CodeConfiguration(code=code_path, scoring_script=scoring_script)
        self.code_configuration = code_configuration
        self.environment = environment
        self.app_insights_enabled = app_insights_enabled
        self.scale_settings = scale_settings
        self.request_settings = request_settings
        self.liveness_probe = liveness_probe
        self.readiness_probe = readiness_probe
        self.environment_variables = dict(environment_variables or {})
        self.instance_type = instance_type
        self.instance_count = instance_count
        self.egress_public_network_access = egress_public_network_access
        self.data_collector = data_collector
        self._provisioning_state = kwargs.get("provisioning_state")
        self._id = kwargs.get("id")

    @property
    def provisioning_state(self):
        """"Succeeded" once the deployment serves requests, "Failed" when its scoring script did not start."""
        return self._provisioning_state

    @property
    def type(self):
        return "Managed"

    @property
    def code_path(self):
        return self.code_configuration.code if self.code_configuration is not None else None

    @property
    def scoring_script(self):
        return self.code_configuration.scoring_script if self.code_configuration is not None else None

    @property
    def id(self):
        return self._id

    def __repr__(self) -> str:
        return (f"ManagedOnlineDeployment(name={self.name!r}, endpoint_name={self.endpoint_name!r}, "
                f"model={self.model!r}, instance_type={self.instance_type!r}, instance_count={self.instance_count!r}, "
                f"provisioning_state={self.provisioning_state!r})")
