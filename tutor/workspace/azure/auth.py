"""Signing in to Azure: a service principal, an Azure CLI login, or a device-code login.

The choice, in order (``TUTOR_AZURE_AUTH`` = ``service-principal``, ``cli`` or
``device-code`` forces one):

1. a service principal when AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET
   are set (``ServicePrincipalAuthentication``): classrooms with a shared subscription,
   CI, rehearsals;
2. an existing Azure CLI login (``AzureCliAuthentication``) when the ``azure-cli``
   package is importable in this Python;
3. otherwise the SDK's interactive login, forced to the device-code flow: a token cached
   by an earlier login (or by ``az login`` in ``~/.azure``) is reused silently; if there
   is none, the SDK's message "To sign in, use a web browser to open the page
   https://microsoft.com/devicelogin and enter the code ..." is captured and handed to
   ``on_device_code`` (the wizard shows it in a panel), and the call blocks until the
   learner has signed in.
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Callable, Mapping
from typing import Any

from tutor.errors import TutorError
from tutor.workspace.azure.quiet import original_stderr, quiet

DeviceCodeCallback = Callable[[str], None]

SP_VARS = ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET")
METHOD_VAR = "TUTOR_AZURE_AUTH"
METHODS = ("service-principal", "cli", "device-code")
DEVICE_CODE_PATTERN = re.compile(r"devicelogin|enter the code|device ?code", re.IGNORECASE)


def default_device_code_handler(message: str) -> None:
    """Without a callback the message still has to reach the learner: the real stderr."""
    stream = original_stderr()
    stream.write(message.rstrip() + "\n")
    stream.flush()


def choose_method(env: Mapping[str, str] | None = None, cli_installed: bool | None = None) -> str:
    """Which sign-in to use (see the module doc); a TutorError for a half-set service principal."""
    env = os.environ if env is None else env
    forced = (env.get(METHOD_VAR) or "").strip().lower()
    if forced and forced not in METHODS:
        raise TutorError(f"{METHOD_VAR}={forced!r} is not a sign-in method.",
                         f"Use one of {', '.join(METHODS)}, or unset {METHOD_VAR}.")
    present = [name for name in SP_VARS if env.get(name)]
    if forced == "service-principal" or (not forced and present):
        missing = [name for name in SP_VARS if not env.get(name)]
        if missing:
            raise TutorError(
                f"A service principal sign-in needs {', '.join(SP_VARS)}; {', '.join(missing)} "
                f"{'is' if len(missing) == 1 else 'are'} not set.",
                "Set the missing variable(s) from the app registration (tenant ID, client ID, a client secret), "
                "or unset them all to sign in with the device-code login.",
            )
        return "service-principal"
    if forced:
        return forced
    if cli_installed is None:
        try:
            cli_installed = importlib.util.find_spec("azure.cli.core") is not None
        except (ImportError, ValueError):
            cli_installed = False
    return "cli" if cli_installed else "device-code"


def _perform_device_code_login(tenant_id: str | None, cloud_type: Any) -> None:
    """The SDK's login with the device-code flow (the message is logged by the SDK)."""
    from azureml._base_sdk_common.common import perform_interactive_login

    perform_interactive_login(tenant=tenant_id, use_device_code=True, cloud_type=cloud_type)


def _device_code_auth_class() -> type:
    from azureml.core.authentication import AbstractAuthentication, InteractiveLoginAuthentication

    class DeviceCodeAuthentication(InteractiveLoginAuthentication):
        """``InteractiveLoginAuthentication`` that signs in with a device code, never a browser.

        It is a subclass, so the SDK's "log in again on failure" retry (which would print
        and open a browser) does not apply to it: an expired login surfaces as an error the
        tutor explains instead.
        """

        def __init__(self, tenant_id: str | None = None, cloud: str | None = None,
                     on_device_code: DeviceCodeCallback | None = None) -> None:
            handler = on_device_code or default_device_code_handler
            shown: list[str] = []

            def on_line(line: str) -> None:
                if DEVICE_CODE_PATTERN.search(line) and line not in shown:
                    shown.append(line)
                    handler(line)

            self.signed_in_now = False
            with quiet(on_line):
                AbstractAuthentication.__init__(self, cloud)
                self._tenant_id = tenant_id
                self._ambient_auth = None
                try:
                    self._get_arm_token_using_interactive_auth()
                    return
                except Exception:  # noqa: BLE001 - no cached login: try the Azure CLI's, then sign in
                    pass
                try:
                    self._fallback_to_azure_cli_credential()
                    return
                except Exception:  # noqa: BLE001
                    pass
                _perform_device_code_login(tenant_id, self._cloud_type)
                self.signed_in_now = True

    return DeviceCodeAuthentication


def make_auth(config: Mapping[str, Any], on_device_code: DeviceCodeCallback | None = None,
              env: Mapping[str, str] | None = None, method: str | None = None) -> Any:
    """The azureml authentication object for ``config`` (see the module doc)."""
    env = os.environ if env is None else env
    method = method or choose_method(env)
    tenant = config.get("tenant_id") or None
    with quiet():
        if method == "service-principal":
            from azureml.core.authentication import ServicePrincipalAuthentication

            return ServicePrincipalAuthentication(tenant_id=env["AZURE_TENANT_ID"],
                                                  service_principal_id=env["AZURE_CLIENT_ID"],
                                                  service_principal_password=env["AZURE_CLIENT_SECRET"])
        if method == "cli":
            from azureml.core.authentication import AzureCliAuthentication

            return AzureCliAuthentication()
    return _device_code_auth_class()(tenant_id=tenant, on_device_code=on_device_code)


def describe_method(method: str) -> str:
    return {
        "service-principal": "a service principal (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET)",
        "cli": "your Azure CLI login (az login)",
        "device-code": "your Azure account (device-code login)",
    }.get(method, method)
