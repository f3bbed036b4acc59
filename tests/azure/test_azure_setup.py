"""Choosing the Azure backend: config discovery, the install checks, sign-in and its errors.

The install checks run without azureml-core; the rest is skipped without it.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from tutor.errors import TutorError
from tutor.paths import CourseDir
from tutor.steps.base import Settings
from tutor.workspace import open_workspace
from tutor.workspace.azure import find_config, require_azure
from tutor.workspace.azure.auth import choose_method
from tutor.workspace.azure.config import azure_problem

AZURE_PROBLEM = azure_problem()
HAVE_AZUREML = AZURE_PROBLEM is None
needs_azureml = pytest.mark.skipif(not HAVE_AZUREML, reason=AZURE_PROBLEM or "")

CONFIG = {"subscription_id": "00000000-0000-0000-0000-000000000000", "resource_group": "taxi-course-rg",
          "workspace_name": "taxi-course-ws"}


def _write(path: Path, config: dict[str, Any] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config or CONFIG))
    return path


# --------------------------------------------------------------------------- discovery


def test_find_config_searches_like_from_config(tmp_path: Path) -> None:
    project = tmp_path / "course" / "day1" / "notebooks"
    project.mkdir(parents=True)
    assert find_config(project) is None
    plain_parent = _write(tmp_path / "course" / "config.json")
    assert find_config(project) == plain_parent
    # .azureml/config.json anywhere up the chain wins over a plain config.json (SDK's order)
    hidden_top = _write(tmp_path / ".azureml" / "config.json")
    assert find_config(project) == hidden_top
    hidden_near = _write(tmp_path / "course" / "day1" / ".azureml" / "config.json")
    assert find_config(project) == hidden_near
    own = _write(project / "config.json")
    assert find_config(project) == hidden_near  # .azureml/ still comes first
    assert find_config(own) == own  # a file is taken as it is


def test_aml_config_comes_after_azureml_and_before_plain(tmp_path: Path) -> None:
    start = tmp_path / "project"
    plain = _write(start / "config.json")
    assert find_config(start) == plain
    aml_config = _write(tmp_path / "aml_config" / "config.json")
    assert find_config(start) == aml_config
    hidden = _write(tmp_path / ".azureml" / "config.json")
    assert find_config(start) == hidden


def test_find_config_of_a_missing_folder_is_none(tmp_path: Path) -> None:
    assert find_config(tmp_path / "does" / "not" / "exist") is None


# --------------------------------------------------------------------------- install checks


def test_python_312_explains_what_to_install() -> None:
    with pytest.raises(TutorError) as caught:
        require_azure((3, 12, 1))
    text = str(caught.value)
    assert "Python 3.12" in text and "3.11" in text
    assert "aml-tutor[azure]" in text and "--workspace local" in text
    assert azure_problem((3, 13)) is not None


def _hide_azureml(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if the extra were not installed: any import of azureml raises ImportError."""
    for name in ("azureml", "azureml.core"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ImportError):
        import azureml.core  # noqa: F401


def test_missing_extra_explains_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    _hide_azureml(monkeypatch)
    with pytest.raises(TutorError) as caught:
        require_azure((3, 11, 7))
    text = str(caught.value)
    assert "azureml-core" in text and "not installed" in text
    assert "pip install '.[azure]'" in text and "--workspace local" in text


def test_choosing_azure_without_the_extra_is_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = _write(tmp_path / "config.json")
    _hide_azureml(monkeypatch)
    settings = Settings(username="alice", course_dir=CourseDir(tmp_path), workspace=str(config))
    with pytest.raises(TutorError, match="Azure backend is not available") as caught:
        open_workspace(settings)
    assert "pip install" in str(caught.value)


@needs_azureml
def test_open_workspace_opens_azure_lazily(tmp_path: Path) -> None:
    from tutor.workspace.azure.workspace import AzureWorkspace

    config = _write(tmp_path / ".azureml" / "config.json")
    settings = Settings(username="alice", course_dir=CourseDir(tmp_path), workspace=str(config))
    ws = open_workspace(settings)
    assert isinstance(ws, AzureWorkspace) and ws.kind == "azure" and ws.name == "taxi-course-ws"
    assert ws._ws is None  # nothing reached Azure yet: the wizard can pass the device-code callback first
    assert ws.cache == (tmp_path / ".tutor" / "azure" / "taxi-course-ws").resolve()
    written = ws.write_config(tmp_path / "copy")
    assert json.loads(written.read_text()) == CONFIG


@needs_azureml
def test_a_config_without_the_three_names_is_explained(tmp_path: Path) -> None:
    config = _write(tmp_path / "config.json", {"subscription_id": "x", "workspace_name": "w"})
    settings = Settings(username="alice", course_dir=CourseDir(tmp_path), workspace=str(config))
    with pytest.raises(TutorError, match="has no resource_group") as caught:
        open_workspace(settings)
    assert "Download config.json" in str(caught.value)


# --------------------------------------------------------------------------- choosing the sign-in


def test_sign_in_order() -> None:
    sp = {"AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c", "AZURE_CLIENT_SECRET": "s"}
    assert choose_method(sp, cli_installed=True) == "service-principal"
    assert choose_method({}, cli_installed=True) == "cli"
    assert choose_method({}, cli_installed=False) == "device-code"
    assert choose_method({**sp, "TUTOR_AZURE_AUTH": "device-code"}, cli_installed=True) == "device-code"


def test_half_a_service_principal_names_the_missing_variables() -> None:
    with pytest.raises(TutorError, match="AZURE_CLIENT_SECRET is not set") as caught:
        choose_method({"AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c"}, cli_installed=False)
    assert "device-code" in str(caught.value)
    with pytest.raises(TutorError, match="not a sign-in method"):
        choose_method({"TUTOR_AZURE_AUTH": "password"})


# --------------------------------------------------------------------------- what SDK errors become


def _sdk(kind: str, message: str) -> Exception:
    import builtins

    import azureml.exceptions as sdk

    return getattr(sdk, kind, getattr(builtins, kind, None))(message)


ERRORS = [
    ("AuthenticationException",
     "AADSTS700082: The refresh token has expired due to inactivity. The token was issued on 2026-01-01",
     "login has expired", "device-code login"),
    ("AuthenticationException", "Could not retrieve user refresh token. Please run 'az login'.",
     "login has expired", "az login"),
    ("AuthenticationException", "AADSTS7000215: Invalid client secret provided.",
     "secret was refused", "AZURE_CLIENT_SECRET"),
    ("UserErrorException",
     "You are currently logged-in to 72f988bf tenant. You don't have access to 00000000-0000 subscription, please "
     "check if it is in this tenant.", "cannot see subscription 00000000-0000-0000-0000-000000000000",
     "tenant_id"),
    ("UserErrorException", "It looks like you have specified subscription name, Pay-As-You-Go, instead of "
     "subscription id.", "by its name", "subscription ID"),
    ("ProjectSystemException",
     "The client 'alice@contoso.com' with object id '1234' does not have authorization to perform action "
     "'Microsoft.MachineLearningServices/workspaces/read' over scope '/subscriptions/0000'. (AuthorizationFailed)",
     "not allowed", "AzureML Data Scientist"),
    ("ProjectSystemException", "Workspace not found.", "no workspace taxi-course-ws", "workspace_name"),
    ("ProjectSystemException", "Resource group 'taxi-course-rg' could not be found. (ResourceGroupNotFound)",
     "resource group taxi-course-rg does not exist", "resource_group"),
    ("ComputeTargetException", "Received bad response from Resource Provider: QuotaExceeded: Operation could not "
     "be completed as it results in exceeding approved standardDv2Family Cores quota.", "quota", "Quotas"),
    ("ImportError", 'Missing required package "azureml-dataset-runtime", which can be installed by running: '
     '"python" -m pip install azureml-dataset-runtime --upgrade', "need the package azureml-dataset-runtime",
     "pip install azureml-dataset-runtime"),
    ("WebserviceException", "The subscription is not registered to use namespace 'Microsoft.ContainerInstance'. "
     "(MissingSubscriptionRegistration)", "has not enabled", "Microsoft.ContainerInstance"),
]


@needs_azureml
@pytest.mark.parametrize(("kind", "message", "what", "fix"), ERRORS)
def test_sdk_errors_name_the_fix(kind: str, message: str, what: str, fix: str) -> None:
    from tutor.workspace.azure.errors import explain

    error = explain(_sdk(kind, message), "opening the workspace", dict(
        workspace=CONFIG["workspace_name"], subscription=CONFIG["subscription_id"],
        resource_group=CONFIG["resource_group"]))
    assert what in error.what, error.what
    assert fix in (error.fix or ""), error.fix
    assert message in (error.detail or "")  # Azure's own text is kept for the log, not shown


@needs_azureml
def test_an_unknown_error_still_says_what_was_being_done() -> None:
    from tutor.workspace.azure.errors import explain

    error = explain(_sdk("UserErrorException", "Something odd happened"), "registering the model 'm'")
    assert error.what == "Azure ML failed while registering the model 'm': Something odd happened"
    assert "tutor.log" in (error.fix or "")


@needs_azureml
@pytest.mark.parametrize(("kind", "message", "missing"), [
    ("ComputeTargetException", "ComputeTargetNotFound: Compute Target with name c1 not found in provided workspace",
     True),
    ("UserErrorException", 'Cannot find dataset registered with name "taxi" (version: 7) in the workspace.', True),
    ("WebserviceException", "WebserviceNotFound: Webservice with name alice-svc not found in provided workspace",
     True),
    ("ModelNotFoundException", "ModelNotFound: Model with name m not found in provided workspace", True),
    ("ProjectSystemException", "AuthorizationFailed: does not have authorization", False),
])
def test_lookups_of_missing_things_return_none(kind: str, message: str, missing: bool) -> None:
    from tutor.workspace.azure.service import _none_if_missing

    @_none_if_missing
    def lookup() -> str:
        raise _sdk(kind, message)

    if missing:
        assert lookup() is None
    else:
        with pytest.raises(Exception, match="AuthorizationFailed"):
            lookup()


# --------------------------------------------------------------------------- sign-in through the workspace


@needs_azureml
@pytest.mark.parametrize(("kind", "message", "what"), [ERRORS[0][:3], ERRORS[3][:3], ERRORS[5][:3]])
def test_connect_failures_end_with_the_fix(fake_azure: Any, make_workspace: Any, kind: str, message: str,
                                           what: str) -> None:
    ws = make_workspace()
    fake_azure.fail["connect"] = _sdk(kind, message)
    with pytest.raises(TutorError, match=what):
        ws.get_details()


@needs_azureml
def test_service_principal_from_the_environment_is_used(fake_azure: Any, make_workspace: Any) -> None:
    from azureml.core.authentication import ServicePrincipalAuthentication

    ws = make_workspace()
    details = ws.get_details()
    (names, auth), = fake_azure.calls["connect"]
    assert isinstance(auth, ServicePrincipalAuthentication)
    assert names["workspace_name"] == "taxi-course-ws"
    assert details["signed_in_with"] == "service-principal" and details["location"] == "westeurope"
    assert details["default_datastore"] == "workspaceblobstore"


DEVICE_MESSAGE = ("To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the "
                  "code FAKE1234 to authenticate.")


@needs_azureml
def test_device_code_login_goes_to_the_callback_and_nothing_is_printed(
        monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]) -> None:
    """The SDK logs the device-code message and prints around it; only the callback sees it."""
    from azureml.core.authentication import InteractiveLoginAuthentication

    from tutor.workspace.azure import auth as auth_mod

    def no_cached_login(self: Any, *args: Any, **kwargs: Any) -> str:
        raise RuntimeError("no cached token")

    logins: list[Any] = []

    def sdk_login(tenant_id: str | None, cloud_type: Any) -> None:
        # what azureml's perform_interactive_login(use_device_code=True) does on the screen
        print("Performing interactive authentication. Please follow the instructions on the terminal.")
        logging.getLogger("azureml._vendor.azure_cli_core.auth.identity").warning(DEVICE_MESSAGE)
        logging.getLogger().warning("Warning: Falling back to use azure cli login credentials.")
        print("Interactive authentication successfully completed.", file=sys.stderr)
        logins.append(tenant_id)

    monkeypatch.setattr(InteractiveLoginAuthentication, "_get_arm_token_using_interactive_auth", no_cached_login)
    monkeypatch.setattr(InteractiveLoginAuthentication, "_fallback_to_azure_cli_credential", no_cached_login)
    monkeypatch.setattr(auth_mod, "_perform_device_code_login", sdk_login)
    shown: list[str] = []
    auth = auth_mod.make_auth({**CONFIG, "tenant_id": "my-tenant"}, on_device_code=shown.append,
                              env={}, method="device-code")
    assert shown == [DEVICE_MESSAGE]
    assert logins == ["my-tenant"] and auth.signed_in_now
    assert isinstance(auth, InteractiveLoginAuthentication)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


@needs_azureml
def test_a_cached_login_asks_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    from azureml.core.authentication import InteractiveLoginAuthentication

    from tutor.workspace.azure import auth as auth_mod

    monkeypatch.setattr(InteractiveLoginAuthentication, "_get_arm_token_using_interactive_auth",
                        lambda self, *a, **k: "cached-token")
    monkeypatch.setattr(auth_mod, "_perform_device_code_login",
                        lambda *a: pytest.fail("must not sign in again"))
    shown: list[str] = []
    auth = auth_mod.make_auth(CONFIG, on_device_code=shown.append, env={}, method="device-code")
    assert shown == [] and not auth.signed_in_now


# --------------------------------------------------------------------------- nothing on the screen


def test_quiet_captures_prints_logs_and_warnings_but_not_rich_refreshes(capfd: pytest.CaptureFixture[str]) -> None:
    import warnings

    from tutor.workspace.azure.quiet import quiet

    lines: list[str] = []

    class _RefreshThread(threading.Thread):  # the name of Rich's live-refresh thread class
        def run(self) -> None:
            sys.stdout.write("spinner frame\n")

    with quiet(lines.append) as sink:
        print("SDK says hello")
        logging.getLogger("azureml.core.run").warning("SDK warns")
        warnings.warn("deprecated thing", DeprecationWarning)
        worker = threading.Thread(target=lambda: print("from an SDK worker thread"))
        worker.start()
        worker.join()
        refresher = _RefreshThread()
        refresher.start()
        refresher.join()
    out, err = capfd.readouterr()
    assert out == "spinner frame\n" and err == ""
    assert lines == ["SDK says hello", "SDK warns", "from an SDK worker thread"]
    assert "SDK says hello" in sink.value
    assert not isinstance(sys.stdout, type(sink))  # streams are back
