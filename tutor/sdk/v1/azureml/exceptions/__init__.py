"""azureml's exception types, with the same names, bases and constructors as azureml-core 1.61.

Code that catches ``ComputeTargetException``, ``WebserviceException`` or
``UserErrorException`` behaves the same on the embedded workspace as on Azure.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = [
    "AuthenticationException", "AzureMLException", "ComputeTargetException", "ExperimentExecutionException",
    "ModelNotFoundException", "ModelPathNotFoundException", "RunConfigurationException", "SnapshotException",
    "TrainingException", "UserErrorException", "WebserviceException", "WorkspaceException",
]


class AzureMLException(Exception):
    """The base of azureml's errors; ``message`` is the text, as on Azure."""

    _error_code = "SystemError"

    def __init__(self, exception_message, inner_exception=None, target=None, details=None, message_format=None,
                 message_parameters=None, reference_code=None, **kwargs):
        super().__init__(exception_message)
        self._message = exception_message
        self.inner_exception = inner_exception
        self._target = target
        self._details = details

    @property
    def message(self) -> str:
        return self._message

    @message.setter
    def message(self, value: str) -> None:
        self._message = value

    def __str__(self) -> str:
        body = json.dumps({"error": {"code": self._error_code, "message": self._message}}, indent=4)
        return (f"{type(self).__name__}:\n\tMessage: {self._message}\n\tInnerException {self.inner_exception}"
                f"\n\tErrorResponse \n{body}")


class UserErrorException(AzureMLException):
    _error_code = "UserError"

    def __init__(self, exception_message, **kwargs):
        super().__init__(exception_message, **kwargs)


class AuthenticationException(UserErrorException):
    def __init__(self, exception_message, **kwargs):
        super().__init__(exception_message, **kwargs)


class ComputeTargetException(AzureMLException):
    def __init__(self, exception_message, **kwargs):
        super().__init__(exception_message, **kwargs)


class ExperimentExecutionException(AzureMLException):
    def __init__(self, exception_message, **kwargs):
        super().__init__(exception_message, **kwargs)


class ModelNotFoundException(AzureMLException):
    def __init__(self, exception_message, logger=None, **kwargs):
        super().__init__(exception_message, **kwargs)


class ModelPathNotFoundException(AzureMLException):
    def __init__(self, exception_message, logger=None, **kwargs):
        super().__init__(exception_message, **kwargs)


class RunConfigurationException(AzureMLException):
    def __init__(self, exception_message, **kwargs):
        super().__init__(exception_message, **kwargs)


class SnapshotException(AzureMLException):
    def __init__(self, exception_message, **kwargs):
        super().__init__(exception_message, **kwargs)


class TrainingException(AzureMLException):
    def __init__(self, exception_message, **kwargs):
        super().__init__(exception_message, **kwargs)


class WebserviceException(AzureMLException):
    def __init__(self, exception_message, status_code=None, logger=None, **kwargs):
        super().__init__(exception_message, **kwargs)
        self.status_code = status_code


class WorkspaceException(AzureMLException):
    def __init__(self, exception_message, found_multiple=False, **kwargs):
        super().__init__(exception_message, **kwargs)
        self.found_multiple = found_multiple


class ActivityFailedException(AzureMLException):
    """A run that ended Failed, raised by ``run.wait_for_completion(raise_on_error=True)``."""

    def __init__(self, error_details, **kwargs):
        super().__init__(f"Activity Failed:\n{error_details}", **kwargs)


__all__.append("ActivityFailedException")


class RunEnvironmentException(AzureMLException):
    """No submitted run in this process (``Run.get_context(allow_offline=False)``)."""

    def __init__(self, **kwargs):
        super().__init__(kwargs.pop("exception_message", "Could not load a submitted run, if outside of an "
                                    "execution context, use experiment.start_logging to initialize an "
                                    "azureml.core.Run."), **kwargs)


__all__.append("RunEnvironmentException")


def __getattr__(name: str) -> Any:
    from azureml._embedded import unsupported_name

    raise unsupported_name(__name__, name, __all__)
