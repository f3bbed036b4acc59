"""What every module of the embedded azure-ai-ml shares.

* :func:`backend`: the :class:`~tutor.workspace.base.Workspace` (protocol) behind an
  ``MLClient``, the one implementation the step actions and the v1 SDK use too;
* :func:`translate`: the embedded workspace's :class:`~tutor.errors.TutorError` raised as the
  exception azure-ai-ml raises for the same mistake (``ResourceNotFoundError`` for a missing
  resource, :class:`~azure.ai.ml.exceptions.ValidationException` for a bad argument...);
* :func:`not_found`: azure-core's ``ResourceNotFoundError`` with the service's message shape;
* :func:`done`: the real ``azure.core.polling.LROPoller`` for an operation the embedded
  workspace finished before returning (``begin_*``: ``.result()``, ``.wait()``, ``.done()``,
  ``.status()`` all work, as on Azure);
* :class:`Subset` (azureml's, reused): unknown public members explain themselves, naming
  azure-ai-ml and what the class supports.
"""

from __future__ import annotations

import contextlib
import re
from enum import Enum
from typing import Any, Callable, Iterator

from azureml._embedded import Subset, lazy_names, require, unsupported_name  # noqa: F401 (re-exported)

__all__ = ["ListViewType", "Subset", "asked_version", "backend", "done", "invalid", "lazy_names", "not_found", "reference", "translate", "unsupported_name"]


def backend(ml_client: Any) -> Any:
    """The embedded workspace (Workspace protocol) behind an ``MLClient``."""
    found = getattr(ml_client, "_backend", None)
    if found is None:
        from azure.ai.ml.exceptions import ValidationException

        raise ValidationException(
            message=f"Expected an azure.ai.ml.MLClient, got {type(ml_client).__name__}: {ml_client!r}. "
                    "Create one with ml_client = MLClient.from_config(DefaultAzureCredential()).",
            no_personal_data_message="Expected an MLClient.")
    return found


def not_found(kind: str, name: str, version: Any = None) -> Exception:
    """``ResourceNotFoundError`` as the service words it for a missing resource."""
    from azure.core.exceptions import ResourceNotFoundError

    what = f"{name}:{version}" if version not in (None, "") else name
    return ResourceNotFoundError(
        f"(UserError) {kind} {what} was not found in this workspace.\n"
        f"Code: UserError\nMessage: {kind} {what} was not found in this workspace.")


class ListViewType(str, Enum):
    """Which assets ``list()`` returns (the embedded workspace archives none: all are active)."""

    ACTIVE_ONLY = "ActiveOnly"
    ARCHIVED_ONLY = "ArchivedOnly"
    ALL = "All"


_MISSING = re.compile(r"there is no (dataset|run|model|environment|compute|cluster|service|experiment|version)\b")


@contextlib.contextmanager
def translate(exception: Callable[..., Exception] | None = None) -> Iterator[None]:
    """Raise the embedded workspace's TutorErrors as azure-ai-ml's exceptions.

    A TutorError whose text says something "was not found" / "does not exist" becomes
    ``ResourceNotFoundError``; any other becomes ``exception`` (default
    :class:`~azure.ai.ml.exceptions.ValidationException`), the message with its fix.
    """
    from tutor.errors import TutorError

    try:
        yield
    except TutorError as error:
        text = error.what + (f" {error.fix}" if error.fix else "")
        lowered = error.what.lower()
        if ("not found" in lowered or "does not exist" in lowered or "no such" in lowered
                or _MISSING.match(lowered)):
            from azure.core.exceptions import ResourceNotFoundError

            raise ResourceNotFoundError(text) from None
        if exception is None:
            from azure.ai.ml.exceptions import ValidationException

            raise ValidationException(message=text, no_personal_data_message=error.what) from None
        raise exception(text) from None


class _Finished:
    """A PollingMethod for an operation already finished: LROPoller starts no thread for it."""

    def __init__(self, value: Any, status: str = "Succeeded") -> None:
        self._value, self._status = value, status

    def initialize(self, client: Any, initial_response: Any, deserialization_callback: Any) -> None:
        pass

    def run(self) -> None:
        pass

    def status(self) -> str:
        return self._status

    def finished(self) -> bool:
        return True

    def resource(self) -> Any:
        return self._value

    def get_continuation_token(self) -> str:
        return "embedded-workspace"


def done(value: Any = None, status: str = "Succeeded") -> Any:
    """The real azure-core ``LROPoller`` of a finished operation whose result is ``value``."""
    from azure.core.polling import LROPoller

    return LROPoller(None, None, lambda _response: value, _Finished(value, status))  # type: ignore[arg-type]


def invalid(message: str) -> Exception:
    """azure-ai-ml's ``ValidationException`` for a bad argument: what was wrong and what to do."""
    from azure.ai.ml.exceptions import ValidationException

    return ValidationException(message=message, no_personal_data_message=message.split(":")[0])


def reference(value: Any, what: str) -> tuple[str, str]:
    """``(name, version)`` of an asset named as azure-ai-ml names one: an entity with ``name`` and
    ``version``, ``"azureml:name:version"``, ``"azureml:name@latest"``, ``"name:version"`` or
    ``"name@latest"`` (version "latest"); a bare name means its latest version."""
    if hasattr(value, "name") and not isinstance(value, str):
        name, version = getattr(value, "name", None), getattr(value, "version", None)
        if not name:
            raise invalid(f"The {what} has no name: register it first (create_or_update), or give its name.")
        return str(name), str(version) if version not in (None, "") else "latest"
    if not isinstance(value, str) or not value.strip():
        raise invalid(f"Expected a {what} or its name ('azureml:<name>:<version>' or '<name>@latest'), "
                      f"got {value!r}.")
    text = value.strip()
    if text.startswith("azureml://"):
        raise invalid(f"{text}: this is a datastore or job path, not a registered {what}. Name the {what} as "
                      f"'azureml:<name>:<version>' or '<name>@latest'.")
    text = text[len("azureml:"):] if text.startswith("azureml:") else text
    if "@" in text:
        name, label = text.split("@", 1)
        if label != "latest":
            raise invalid(f"{value}: the only label is 'latest' ('{name}@latest'); or give a version, '{name}:1'.")
        return name, "latest"
    if ":" in text:
        name, version = text.rsplit(":", 1)
        return name, version
    return text, "latest"


def asked_version(version: Any, label: Any) -> Any:
    """The version a ``get(name, version=None, label=None)`` asks for, as :func:`version_arg` gives it."""
    if version is None and label is None:
        raise invalid("Must provide either version or label: get(name, version=\"1\") or "
                      "get(name, label=\"latest\").")
    if label is not None and label != "latest":
        raise invalid(f"label={label!r}: the only label is 'latest'.")
    return version_arg(version)


def version_arg(version: Any) -> Any:
    """A version as the embedded workspace takes it: a number, or "latest"."""
    if version in (None, "", "latest"):
        return "latest"
    text = str(version).strip()
    if not text.isdigit():
        raise invalid(f"Version {version!r} is not a version of the embedded workspace: versions are whole "
                      "numbers ('1', '2'...), or leave it out (label='latest').")
    return int(text)
