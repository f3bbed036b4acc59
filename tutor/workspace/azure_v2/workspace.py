"""AzureMLWorkspace: the Workspace protocol on an Azure ML workspace through azure-ai-ml's MLClient.

Each method maps to one ``MLClient`` call where it can, and the records it returns are the
protocol's dataclasses filled from azure-ai-ml's entities. Every call runs inside
:func:`~tutor.workspace.azure.quiet.quiet` (nothing the SDK prints or logs reaches the screen)
and an error becomes :func:`~tutor.workspace.azure.errors.explain`'s TutorError: an expired
sign-in (401), a missing permission (403), throttling that outlasted azure-core's retries (429),
a region without the VM size. azure-core's own policies do the retrying (429 and 5xx, honouring
``Retry-After``) and the long-running-operation polling; this module adds none of its own.

Signing in follows the SDK v1 backend's order (:mod:`tutor.workspace.azure.auth`) with
azure-identity's credentials: a service principal from AZURE_TENANT_ID / AZURE_CLIENT_ID /
AZURE_CLIENT_SECRET, else the Azure CLI's login when ``az`` is on the PATH, else a device-code
login whose message goes to ``on_device_code``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Callable, Literal, Mapping, NoReturn, Sequence, TypeVar

from tutor.errors import TutorError
from tutor.workspace import naming
from tutor.workspace.azure.config import check_azure_config
from tutor.workspace.azure.quiet import quiet
from tutor.workspace.base import (ComputeStatus, ComputeTarget, EnvironmentCheck, EnvironmentRecord, ModelRecord,
                                  ProvisioningState, ServiceRecord, StateCallback)
from tutor.workspace.local.compute import VM_SIZES
from tutor.workspace.local.core import missing_version, not_found, parse_version

T = TypeVar("T")

DEFAULT_CLUSTER_SIZE = "STANDARD_D2_V2"
DEFAULT_INSTANCE_SIZE = "STANDARD_DS3_V2"
#: The image an environment defined by its packages runs on (Azure ML's curated base image).
BASE_IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest"
PROVISION_TIMEOUT = 1800.0
NOT_YET_FIX = ("Use the SDK v1 backend for this (Python 3.11 with pip install 'aml-tutor[azure]'), or "
               "--workspace local to learn on the embedded workspace.")

_STATES = {"creating": ProvisioningState.CREATING, "updating": ProvisioningState.CREATING,
           "succeeded": ProvisioningState.SUCCEEDED, "failed": ProvisioningState.FAILED,
           "canceled": ProvisioningState.FAILED, "deleting": ProvisioningState.FAILED}
_TYPES: dict[str, Literal["AmlCompute", "ComputeInstance", "AKS"]] = {
    "amlcompute": "AmlCompute", "computeinstance": "ComputeInstance", "aks": "AKS", "kubernetes": "AKS"}
#: A managed online endpoint's provisioning state as a service state.
_SERVICE_STATES = {"succeeded": "Healthy", "failed": "Failed", "canceled": "Failed", "deleting": "Deleting"}


def _text(value: Any) -> str:
    """An azure-ai-ml enum (``ProvisioningState.SUCCEEDED``) or string, as its plain value."""
    return str(getattr(value, "value", value) or "")


def _iso(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value or "")


def compute_record(compute: Any) -> ComputeTarget:
    """A ComputeTarget record from azure-ai-ml's ``AmlCompute`` / ``ComputeInstance`` / AKS entity."""
    kind = _TYPES.get(_text(compute.type).lower(), "AmlCompute")
    size = str(getattr(compute, "size", "") or "").upper()
    if kind == "AmlCompute":
        low, high = int(compute.min_instances or 0), int(compute.max_instances or 1)
        idle = int(float(compute.idle_time_before_scale_down or 0))
    else:
        low, high, idle = 1, 1, 0
    properties: dict[str, Any] = {}
    if size in VM_SIZES:
        properties["vcpus"], properties["memory_gb"] = VM_SIZES[size]
    if kind == "ComputeInstance" and getattr(compute, "state", None):
        properties["state"] = _text(compute.state)
    return ComputeTarget(
        name=str(compute.name), type=kind, vm_size=size,
        provisioning_state=_STATES.get(_text(compute.provisioning_state).lower(), ProvisioningState.CREATING),
        min_nodes=low, max_nodes=high, idle_seconds_before_scaledown=idle,
        slots=high if kind == "AmlCompute" else 1,  # on Azure each node is a VM: max_nodes runs at once
        created_at=_iso(getattr(compute, "created_on", None)),
        state_message="; ".join(str(e) for e in (getattr(compute, "provisioning_errors", None) or [])),
        properties=properties)


def _conda(env: Any) -> dict[str, Any]:
    conda = env.conda_file
    if isinstance(conda, str):
        import yaml

        conda = yaml.safe_load(conda)
    return conda if isinstance(conda, dict) else {}


def environment_definition(env: Any) -> tuple[list[str], list[str], str | None]:
    """(pip requirements, conda packages, Python version) of azure-ai-ml's ``Environment``."""
    pip: list[str] = []
    conda: list[str] = []
    python = None
    for dependency in _conda(env).get("dependencies") or []:
        if isinstance(dependency, dict):
            pip.extend(str(p) for p in dependency.get("pip") or [])
        elif str(dependency).startswith("python="):
            python = str(dependency).split("=", 1)[1]
        elif str(dependency) != "pip":
            conda.append(str(dependency))
    return pip, conda, python


def environment_record(env: Any) -> EnvironmentRecord:
    pip, conda, python = environment_definition(env)
    created = getattr(getattr(env, "creation_context", None), "created_at", None)
    return EnvironmentRecord(name=str(env.name), version=int(env.version), pip_packages=pip, conda_packages=conda,
                             python_version=python, created_at=_iso(created))


def model_record(model: Any) -> ModelRecord:
    path = str(model.path or "")
    created = getattr(getattr(model, "creation_context", None), "created_at", None)
    return ModelRecord(name=str(model.name), version=int(model.version), file_name=path.rstrip("/").rsplit("/", 1)[-1],
                       path=path, description=str(model.description or ""),
                       tags={str(k): str(v) for k, v in (model.tags or {}).items()},
                       run_id=getattr(model, "job_name", None) or None, created_at=_iso(created))


def service_record(endpoint: Any) -> ServiceRecord:
    """A managed online endpoint as a service record (kind "MIR", as Azure names them)."""
    state = _SERVICE_STATES.get(_text(endpoint.provisioning_state).lower(), "Transitioning")
    traffic = dict(endpoint.traffic or {})
    return ServiceRecord(
        name=str(endpoint.name), kind="MIR", state=state, scoring_uri=endpoint.scoring_uri,
        properties={"auth_enabled": _text(endpoint.auth_mode).lower() == "key", "swagger_uri": endpoint.openapi_uri,
                    "description": str(endpoint.description or ""),
                    "tags": {str(k): str(v) for k, v in (endpoint.tags or {}).items()},
                    "endpoint": {"auth_mode": _text(endpoint.auth_mode), "traffic": traffic}})


class AzureMLWorkspace:
    """The Azure ML workspace a config.json names, through azure-ai-ml.

    Nothing reaches Azure before the first call that needs it. ``credential`` replaces the
    sign-in (an azure-identity credential); ``transport`` is azure-core's HTTP transport
    (the tests answer it with Azure ML's REST API in memory).
    """

    kind: Literal["azure"] = "azure"

    def __init__(self, config: Mapping[str, Any], *, config_path: Path | str | None = None,
                 cache_root: Path | str | None = None, credential: Any = None, transport: Any = None,
                 on_device_code: Callable[[str], None] | None = None, poll_seconds: float = 5.0) -> None:
        self.config = dict(config)
        self.names = check_azure_config(self.config, config_path or "config.json")
        self.name = self.names["workspace_name"]
        root = Path(cache_root) if cache_root else Path.cwd() / ".tutor" / "azure"
        self.cache = (root / self.name).expanduser().resolve()
        self.on_device_code = on_device_code
        self.poll_seconds = poll_seconds
        self.auth_method = "given credential" if credential is not None else ""
        self._credential = credential
        self._transport = transport
        self._client: Any = None
        self._workspace: Any = None
        self._vm_sizes: dict[str, tuple[int, float]] | None = None
        self._pollers: dict[str, Any] = {}

    def __repr__(self) -> str:
        return (f"AzureMLWorkspace(name={self.name!r}, subscription_id={self.names['subscription_id']!r}, "
                f"resource_group={self.names['resource_group']!r})")

    # -- the client and its errors ----------------------------------------------------------

    @property
    def _context(self) -> dict[str, str]:
        return {"workspace": self.name, "subscription": self.names["subscription_id"],
                "resource_group": self.names["resource_group"]}

    def _call(self, doing: str, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``function(*args, **kwargs)`` off the screen; any error as what it means for the learner."""
        from tutor.workspace.azure.errors import explain

        try:
            with quiet(self.on_device_code):
                return function(*args, **kwargs)
        except TutorError:
            raise
        except Exception as error:  # noqa: BLE001 - the SDK's and azure-core's errors, explained
            raise explain(error, doing, self._context) from None

    def _find(self, doing: str, function: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        """As :meth:`_call`, but None where Azure answers 404 (or azure-ai-ml says the asset does not exist)."""
        from azure.core.exceptions import ResourceNotFoundError

        from tutor.workspace.azure.errors import explain, is_not_found

        try:
            with quiet(self.on_device_code):
                return function(*args, **kwargs)
        except ResourceNotFoundError:
            return None
        except Exception as error:  # noqa: BLE001 - the SDK's and azure-core's errors, explained
            if is_not_found(error) and getattr(error, "status_code", 404) == 404:
                return None
            raise explain(error, doing, self._context) from None

    def _sign_in(self) -> Any:
        from tutor.workspace.azure.auth import choose_method

        method = choose_method()
        self.auth_method = method
        import os

        from azure import identity

        tenant = self.config.get("tenant_id")
        if method == "service-principal":
            return identity.ClientSecretCredential(os.environ["AZURE_TENANT_ID"], os.environ["AZURE_CLIENT_ID"],
                                                   os.environ["AZURE_CLIENT_SECRET"])
        if method == "cli":
            return identity.AzureCliCredential(tenant_id=tenant) if tenant else identity.AzureCliCredential()
        notify = self.on_device_code or _print_device_code
        return identity.DeviceCodeCredential(tenant_id=tenant, prompt_callback=lambda uri, code, expires: notify(
            f"To sign in, use a web browser to open the page {uri} and enter the code {code} to authenticate."))

    def connect(self, on_device_code: Callable[[str], None] | None = None) -> Any:
        """Sign in and open the workspace now (azure-ai-ml's ``MLClient`` plus ``workspaces.get``)."""
        if on_device_code is not None:
            self.on_device_code = on_device_code
        if self._client is None:
            credential = self._credential or self._call("signing in to Azure", self._sign_in)

            def make() -> Any:
                from azure.ai.ml import MLClient

                options = {"transport": self._transport} if self._transport is not None else {}
                return MLClient(credential, self.names["subscription_id"], self.names["resource_group"], self.name,
                                **options)

            client = self._call("opening the workspace", make)
            self._workspace = self._call(f"opening the workspace '{self.name}'", client.workspaces.get, self.name)
            self._client = client
        return self._client

    @property
    def client(self) -> Any:
        return self.connect()

    def write_config(self, path: str | Path) -> Path:
        """config.json of this workspace, as ``MLClient.from_config`` and the tutor read it."""
        target = Path(path).expanduser()
        if target.suffix.lower() != ".json":
            target = target / "config.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        config = {key: self.names[key] for key in ("subscription_id", "resource_group", "workspace_name")}
        if self.config.get("tenant_id"):
            config["tenant_id"] = self.config["tenant_id"]
        target.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
        return target

    def get_details(self) -> dict[str, Any]:
        self.connect()
        ws = self._workspace
        return {"name": self.name, "kind": self.kind, "location": str(ws.location or ""),
                "subscription_id": self.names["subscription_id"], "resource_group": self.names["resource_group"],
                "workspace_id": str(getattr(ws, "id", "") or ""), "mlflow_tracking_uri": ws.mlflow_tracking_uri,
                "signed_in_with": self.auth_method, "sdk": "azure-ai-ml (SDK v2)", "cache_dir": str(self.cache)}

    # -- compute ---------------------------------------------------------------------------

    def _compute(self, name: str | ComputeTarget) -> Any:
        name = name.name if isinstance(name, ComputeTarget) else name
        found = self._find(f"looking up the compute target '{name}'", self.client.compute.get, name)
        if found is None:
            raise not_found("compute target", name, (c.name for c in self.list_compute()),
                            "create it first (get_or_create_cluster / create_compute_instance)")
        return found

    def get_compute(self, name: str | ComputeTarget) -> ComputeTarget:
        return compute_record(self._compute(name))

    def list_compute(self) -> list[ComputeTarget]:
        """``ml_client.compute.list()``, oldest first."""
        found = self._call("listing the workspace's compute", lambda: list(self.client.compute.list()))
        return sorted((compute_record(c) for c in found), key=lambda r: (r.created_at, r.name))

    def _check_vm_size(self, vm_size: str) -> str:
        size = vm_size.strip().upper() if isinstance(vm_size, str) else ""
        if self._vm_sizes is None:
            sizes = self._call("listing the VM sizes of the workspace's region",
                               lambda: list(self.client.compute.list_sizes()))
            self._vm_sizes = {str(s.name).upper(): (int(s.v_cp_us or 0), float(s.memory_gb or 0))
                              for s in sizes} or dict(VM_SIZES)
        if size not in self._vm_sizes:
            examples = ", ".join(sorted(s for s in self._vm_sizes if s in VM_SIZES)[:8])
            raise TutorError(f"'{vm_size}' is not a VM size the workspace knows (in its region).",
                             f"Use an Azure VM size such as STANDARD_D2_V2 or STANDARD_D13 (available here: "
                             f"{examples} ...).")
        return size

    def get_or_create_cluster(self, name: str, vm_size: str = DEFAULT_CLUSTER_SIZE, min_nodes: int = 0,
                              max_nodes: int = 4, idle_seconds_before_scaledown: int = 1800) -> ComputeTarget:
        """The cluster ``name``; ``compute.begin_create_or_update(AmlCompute(...))`` if missing.

        An existing cluster is returned unchanged; :meth:`wait_for_compute` follows a new one."""
        naming.check_name(naming.CLUSTER, name)
        for label, value in (("min_nodes", min_nodes), ("max_nodes", max_nodes),
                             ("idle_seconds_before_scaledown", idle_seconds_before_scaledown)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise TutorError(f"{label} must be a whole number of at least 0, not {value!r}.",
                                 "Fix the value in the cluster settings.")
        if max_nodes < 1 or min_nodes > max_nodes:
            raise TutorError(f"A cluster needs 1 <= max_nodes and min_nodes <= max_nodes (got {min_nodes}..{max_nodes}).",
                             "The course uses min_nodes=0, max_nodes=3.")
        size = self._check_vm_size(vm_size)
        existing = self._find(f"looking up the compute target '{name}'", self.client.compute.get, name)
        if existing is not None:
            record = compute_record(existing)
            if record.type != "AmlCompute":
                raise TutorError(f"The name '{name}' is taken by the compute instance '{name}'.",
                                 "Choose another name for the cluster.")
            return record
        from azure.ai.ml.entities import AmlCompute

        cluster = AmlCompute(name=name, size=size, min_instances=min_nodes, max_instances=max_nodes,
                             idle_time_before_scale_down=idle_seconds_before_scaledown)
        self._pollers[name] = self._call(f"creating the cluster '{name}'", self.client.compute.begin_create_or_update,
                                         cluster)
        return self.get_compute(name)

    def get_compute_instance(self, name: str | None = None) -> ComputeTarget | None:
        instances = [c for c in self.list_compute() if c.type == "ComputeInstance"]
        if name is not None:
            instances = [c for c in instances if c.name == name]
        return instances[0] if instances else None

    def create_compute_instance(self, name: str, vm_size: str = DEFAULT_INSTANCE_SIZE,
                                on_state: StateCallback | None = None) -> ComputeTarget:
        """``compute.begin_create_or_update(ComputeInstance(...))`` and wait; an instance of that name is reused."""
        naming.check_name(naming.COMPUTE_INSTANCE, name)
        size = self._check_vm_size(vm_size)
        existing = self._find(f"looking up the compute target '{name}'", self.client.compute.get, name)
        if existing is not None and compute_record(existing).type != "ComputeInstance":
            raise TutorError(f"The name '{name}' is taken by the compute cluster '{name}'.",
                             "Choose another name for the compute instance.")
        if existing is None:
            from azure.ai.ml.entities import ComputeInstance

            self._pollers[name] = self._call(f"creating the compute instance '{name}'",
                                             self.client.compute.begin_create_or_update,
                                             ComputeInstance(name=name, size=size))
        return self.wait_for_compute(name, on_state=on_state)

    def wait_for_compute(self, name: str | ComputeTarget, on_state: StateCallback | None = None,
                         timeout_seconds: float = PROVISION_TIMEOUT) -> ComputeTarget:
        """Follow provisioning to Succeeded (the create's poller, else the target's state), with ``on_state``."""
        name = name.name if isinstance(name, ComputeTarget) else name
        notify = on_state or (lambda state, message: None)
        deadline = time.monotonic() + timeout_seconds
        record = self.get_compute(name)
        notify(record.provisioning_state.value, record.state_message or record.provisioning_state.value)
        poller = self._pollers.pop(name, None)
        while record.provisioning_state == ProvisioningState.CREATING:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TutorError(f"Compute target '{name}' is still {record.provisioning_state.value} after "
                                 f"{timeout_seconds:g} s.", "Azure is slow or stuck: look at the compute in the studio "
                                 "(ml.azure.com), then run the step again to keep waiting.")
            if poller is not None:
                self._call(f"provisioning '{name}'", poller.wait, min(left, 60.0))
                if poller.done():
                    self._call(f"provisioning '{name}'", poller.result)
                    poller = None
            else:
                time.sleep(min(self.poll_seconds, max(left, 0.0)))
            record = self.get_compute(name)
        notify(record.provisioning_state.value, record.state_message or record.provisioning_state.value)
        if record.provisioning_state == ProvisioningState.FAILED:
            raise TutorError(f"Compute target '{name}' failed to provision: {record.state_message or 'see the studio'}",
                             "Fix the problem, delete the compute (delete_compute) and create it again.")
        return record

    def _busy_nodes(self, name: str) -> list[str]:
        nodes = self._call(f"listing the nodes of '{name}'", lambda: list(self.client.compute.list_nodes(name)))
        return sorted({str(n.run_id) for n in nodes if getattr(n, "run_id", None)})

    def get_compute_status(self, name: str | ComputeTarget) -> ComputeStatus:
        """The nodes in use (``compute.list_nodes``) and the runs on them."""
        record = self.get_compute(name)
        nodes = self._call(f"listing the nodes of '{record.name}'",
                           lambda: list(self.client.compute.list_nodes(record.name))) if record.type == "AmlCompute" else []
        running = sorted({str(n.run_id) for n in nodes if getattr(n, "run_id", None)})
        return ComputeStatus(name=record.name, provisioning_state=record.provisioning_state,
                             current_node_count=len(nodes), running_runs=running, queued_runs=[])

    def delete_compute(self, name: str | ComputeTarget) -> None:
        """``compute.begin_delete(name).result()``; refused while runs execute on it."""
        name = name.name if isinstance(name, ComputeTarget) else name
        if name == "local":
            raise TutorError("'local' is this machine itself, not a compute target that can be deleted.",
                             "Delete the clusters you created instead (list_compute shows them).")
        record = compute_record(self._compute(name))
        busy = self._busy_nodes(name) if record.type == "AmlCompute" else []
        if busy:
            raise TutorError(f"Compute target '{name}' still has {len(busy)} run(s) executing: {', '.join(busy)}.",
                             "Wait for them to finish (wait_for_completion) or cancel them, then delete the compute.")
        self._call(f"deleting the compute target '{name}'", lambda: self.client.compute.begin_delete(name).result())

    # -- environments ------------------------------------------------------------------------

    def register_environment(self, name: str, pip_packages: Sequence[str], conda_packages: Sequence[str] = (),
                             python_version: str | None = None) -> EnvironmentRecord:
        """``environments.create_or_update(Environment(image, conda_file))``; the latest version again when
        the definition is the same (Azure keeps versions immutable)."""
        from tutor.workspace.local.envcheck import validate_environment

        pip, conda = validate_environment(name, pip_packages, conda_packages, python_version)
        latest = self._find(f"looking up the environment '{name}'", self.client.environments.get, name,
                            label="latest")
        if latest is not None:
            old_pip, old_conda, old_python = environment_definition(latest)
            if (old_pip, old_conda) == (pip, conda) and (python_version is None or old_python == python_version):
                return environment_record(latest)
        from azure.ai.ml.entities import Environment

        dependencies: list[Any] = [f"python={python_version}"] if python_version else []
        dependencies += [*conda, "pip", {"pip": pip}]
        env = Environment(name=name, image=BASE_IMAGE,
                          conda_file={"name": name, "channels": ["conda-forge"], "dependencies": dependencies})
        return environment_record(self._call(f"registering the environment '{name}'",
                                             self.client.environments.create_or_update, env))

    def get_environment(self, name: str, version: int | Literal["latest"] = "latest") -> EnvironmentRecord:
        wanted = parse_version("environment", name, version)
        if wanted is None:
            found = self._find(f"looking up the environment '{name}'", self.client.environments.get, name,
                               label="latest")
        else:
            found = self._find(f"looking up the environment '{name}'", self.client.environments.get, name,
                               version=str(wanted))
        if found is not None:
            return environment_record(found)
        versions = self._call(f"listing the versions of '{name}'",
                              lambda: sorted(int(e.version) for e in self.client.environments.list(name=name)))
        if not versions:
            raise not_found("environment", name, (e.name for e in self.list_environments()),
                            "register it first (register_environment)")
        raise missing_version("environment", name, int(wanted or 0), versions)

    def list_environments(self) -> list[EnvironmentRecord]:
        """The workspace's own environments (not Azure's curated ones), each at its latest version."""
        names = self._call("listing the environments", lambda: [e.name for e in self.client.environments.list()])
        return [self.get_environment(n) for n in names if not str(n).startswith(("AzureML-", "azureml-"))]

    def check_environment(self, name: str, version: int | Literal["latest"] = "latest") -> EnvironmentCheck:
        """Azure builds the environment's image itself: what it declares is what runs (ok)."""
        record = self.get_environment(name, version)
        return EnvironmentCheck(name=record.name, version=record.version)

    # -- models --------------------------------------------------------------------------------

    def get_model(self, name: str, version: int | Literal["latest"] = "latest") -> ModelRecord:
        wanted = parse_version("model", name, version)
        if wanted is None:
            found = self._find(f"looking up the model '{name}'", self.client.models.get, name, label="latest")
        else:
            found = self._find(f"looking up the model '{name}'", self.client.models.get, name, version=str(wanted))
        if found is not None:
            return model_record(found)
        versions = [m.version for m in self.list_models(name)]
        if not versions:
            raise not_found("model", name, (m.name for m in self.list_models()), "register it first (register_model)")
        raise missing_version("model", name, int(wanted or 0), versions)

    def list_models(self, name: str | None = None, latest: bool = False) -> list[ModelRecord]:
        if name is None:
            names = self._call("listing the models", lambda: [m.name for m in self.client.models.list()])
            return [self.get_model(n) for n in names] if latest or names else []
        found = self._find(f"listing the versions of the model '{name}'",
                           lambda: [model_record(m) for m in self.client.models.list(name=name)]) or []
        found.sort(key=lambda m: m.version)
        return found[-1:] if latest else found

    # -- services: managed online endpoints ------------------------------------------------------

    def get_service(self, name: str) -> ServiceRecord:
        found = self._find(f"looking up the endpoint '{name}'", self.client.online_endpoints.get, name)
        if found is None:
            raise not_found("service", name, (s.name for s in self.list_services()),
                            "deploy it first (a managed online endpoint with its deployment)")
        return service_record(found)

    def list_services(self) -> list[ServiceRecord]:
        return self._call("listing the online endpoints",
                          lambda: [service_record(e) for e in self.client.online_endpoints.list()])

    def service_keys(self, name: str) -> tuple[str, str]:
        self.get_service(name)
        keys = self._call(f"reading the keys of '{name}'", self.client.online_endpoints.get_keys, name)
        return str(keys.primary_key), str(keys.secondary_key)

    def regen_service_key(self, name: str, which: str) -> tuple[str, str]:
        """``online_endpoints.begin_regenerate_keys(name, key_type=...)``; the old key stops working."""
        key_type = str(which).lower()
        if key_type not in ("primary", "secondary"):
            raise TutorError(f"'{which}' is not a key of a service.", "Regenerate the 'Primary' or 'Secondary' key.")
        self.get_service(name)
        self._call(f"regenerating the {key_type} key of '{name}'",
                   lambda: self.client.online_endpoints.begin_regenerate_keys(name, key_type=key_type).result())
        return self.service_keys(name)

    def delete_service(self, name: str) -> None:
        """``online_endpoints.begin_delete(name).result()``: the endpoint with its deployments."""
        self.get_service(name)
        self._call(f"deleting the endpoint '{name}'",
                   lambda: self.client.online_endpoints.begin_delete(name=name).result())

    # -- what this backend does not do yet ----------------------------------------------------------

    def _not_yet(self, what: str) -> NoReturn:
        raise TutorError(f"The Azure backend on azure-ai-ml (SDK v2) does not do {what} yet.", NOT_YET_FIX)

    @property
    def default_datastore(self) -> Any:
        self._not_yet("uploads to the default datastore")

    def register_tabular_dataset(self, *args: Any, **kwargs: Any) -> Any:
        self._not_yet("tabular datasets (register them as data assets with the v2 code instead)")

    def get_dataset(self, *args: Any, **kwargs: Any) -> Any:
        self._not_yet("tabular datasets")

    def list_dataset_versions(self, *args: Any, **kwargs: Any) -> Any:
        self._not_yet("tabular datasets")

    def list_datasets(self) -> Any:
        self._not_yet("tabular datasets")

    def dataset_profile(self, *args: Any, **kwargs: Any) -> Any:
        self._not_yet("dataset profiles")

    def experiment(self, name: str) -> Any:
        self._not_yet("experiments and runs")

    def list_experiments(self) -> Any:
        self._not_yet("experiments and runs")

    def submit(self, *args: Any, **kwargs: Any) -> Any:
        self._not_yet("submitting runs")

    def get_run(self, run_id: str) -> Any:
        self._not_yet("reading runs")

    def list_runs(self, experiment: str | None = None) -> Any:
        self._not_yet("reading runs")

    def get_metrics(self, run_id: str) -> Any:
        self._not_yet("reading a run's metrics (MLflow against Azure)")

    def wait_for_completion(self, *args: Any, **kwargs: Any) -> Any:
        self._not_yet("following runs")

    def wait_for_runs(self, *args: Any, **kwargs: Any) -> Any:
        self._not_yet("following runs")

    def cancel(self, run_id: str) -> Any:
        self._not_yet("canceling runs")

    def get_log_tail(self, *args: Any, **kwargs: Any) -> Any:
        self._not_yet("reading a run's log")

    def start_logging(self, *args: Any, **kwargs: Any) -> Any:
        self._not_yet("runs logged from this machine (the AutoML lesson)")

    def record_child_run(self, *args: Any, **kwargs: Any) -> Any:
        self._not_yet("runs logged from this machine (the AutoML lesson)")

    def get_children(self, run_id: str) -> Any:
        self._not_yet("reading runs")

    def log_metrics(self, *args: Any, **kwargs: Any) -> Any:
        self._not_yet("runs logged from this machine (the AutoML lesson)")

    def set_run_tags(self, *args: Any, **kwargs: Any) -> Any:
        self._not_yet("runs logged from this machine (the AutoML lesson)")

    def upload_run_file(self, *args: Any, **kwargs: Any) -> Any:
        self._not_yet("runs logged from this machine (the AutoML lesson)")

    def complete_run(self, *args: Any, **kwargs: Any) -> Any:
        self._not_yet("runs logged from this machine (the AutoML lesson)")

    def register_model(self, *args: Any, **kwargs: Any) -> Any:
        self._not_yet("registering models")

    def download_model(self, *args: Any, **kwargs: Any) -> Any:
        self._not_yet("downloading models")

    def deploy_service(self, *args: Any, **kwargs: Any) -> Any:
        self._not_yet("deploying (online endpoints and their deployments)")

    def wait_for_service(self, *args: Any, **kwargs: Any) -> Any:
        self._not_yet("following deployments")

    def service_logs(self, *args: Any, **kwargs: Any) -> Any:
        self._not_yet("reading a deployment's log")

    def record_service(self, *args: Any, **kwargs: Any) -> Any:
        self._not_yet("recording services")

    def update_service(self, *args: Any, **kwargs: Any) -> Any:
        self._not_yet("recording services")

    def delete_service_record(self, *args: Any, **kwargs: Any) -> Any:
        self._not_yet("recording services")

    # Iterating the protocol's names in one place keeps this list honest (see the tests).
    NOT_YET: tuple[str, ...] = (
        "default_datastore", "register_tabular_dataset", "get_dataset", "list_dataset_versions", "list_datasets",
        "dataset_profile", "experiment", "list_experiments", "submit", "get_run", "list_runs", "get_metrics",
        "wait_for_completion", "wait_for_runs", "cancel", "get_log_tail", "start_logging", "record_child_run",
        "get_children", "log_metrics", "set_run_tags", "upload_run_file", "complete_run", "register_model",
        "download_model", "deploy_service", "wait_for_service", "service_logs", "record_service", "update_service",
        "delete_service_record")


def _print_device_code(message: str) -> None:
    from tutor.workspace.azure.auth import default_device_code_handler

    default_device_code_handler(message)
