"""``azureml.train.automl.exceptions``: the exception types automated ML raises.

Their text is azureml-automl-core's: ``ConfigException:\\n\\tMessage: ...`` followed by the
error response, with the same error codes, so a mistake reads as it does on Azure.
"""

from __future__ import annotations

import json
from typing import Any

from azureml.exceptions import AzureMLException, UserErrorException

__all__ = ["ClientException", "ConfigException", "DataException", "NotFoundException",
           "OnnxConvertException", "ValidationException"]

_DETAILS_URI = "https://aka.ms/AutoMLConfig"

#: azureml's error definitions the embedded workspace raises: message format, the codes
#: below UserError (outermost first), and whether the error links to AutoMLConfig's page.
_ERRORS: dict[str, tuple[str, tuple[str, ...], bool]] = {
    "ArgumentOutOfRange": ("Value for argument [{argument_name}] is out of range (Range: [{min} - {max}]).",
                           ("BadArgument", "ArgumentOutOfRange"), False),
    "ArgumentBlankOrEmpty": ("An empty value for argument [{argument_name}] is provided.",
                             ("BadArgument", "ArgumentBlankOrEmpty"), False),
    "InvalidArgumentWithSupportedValues": (
        "Invalid argument(s) '{arguments}' specified. Supported value(s): '{supported_values}'.",
        ("BadArgument", "ArgumentInvalid"), True),
    "InvalidArgumentType": (
        "Argument [{argument}] is of unsupported type: [{actual_type}]. Supported type(s): [{expected_types}]",
        ("BadArgument", "ArgumentInvalid"), True),
    "InvalidInputDatatype": (
        "Input of type '{input_type}' is not supported. Supported types: [{supported_types}]Please refer to "
        "documentation for converting to Supported types: https://docs.microsoft.com/en-us/python/api/"
        "azureml-core/azureml.core.dataset.dataset?view=azure-ml-py",
        ("BadArgument", "ArgumentInvalid", "InvalidInputDatatype"), True),
    "AllowedModelsSubsetOfBlockedModels": (
        "All allowed models are within blocked models list. Please remove models from the exclude list or add "
        "models to the allow list.", ("BadArgument", "ArgumentMismatch"), True),
    "ConflictingValueForArguments": ("Conflicting or duplicate values are provided for arguments: [{arguments}]",
                                     ("BadArgument", "ArgumentMismatch", "ConflictingValueForArguments"), True),
    "MissingColumnsInData": ("Expected column(s) {columns} not found in {data_object_name}.",
                             ("BadArgument", "MissingColumnsInData"), False),
    "ComputeNotFound": ("Compute [{compute_name}] was not found in workspace [{workspace_name}].",
                        ("NotFound", "ComputeNotFound"), False),
    "ComputeNotReady": ("Compute not in 'Succeeded' state. Please choose another compute or wait till it is ready.",
                        ("NotReady", "ComputeNotReady"), False),
    "OnnxNotEnabled": ("Requested an ONNX compatible model but the run has ONNX compatibility disabled.",
                       ("BadArgument", "ArgumentInvalid"), False),
    "InvalidIteration": ("Invalid iteration. Run {run_id} has {num_iterations} iterations.", ("NotFound",), False),
    "ModelMissing": ("Could not find a model with valid score for metric '{metric}'. Please ensure that at least one "
                     "run was successfully completed with a valid score for the given metric.",
                     ("NotFound", "ModelMissing"), False),
    "CancelUnsupportedForLocalRuns": (
        "Cancel operation is not supported for local runs. Local runs may be canceled by raising a keyboard "
        "interrupt (e.g. via. `Ctrl + C`)", ("NotSupported",), False),
}


class _AutoMLException(AzureMLException):
    """The base of automated ML's errors (azureml-automl-core's _AutoMLException)."""

    _error_code = "SystemError"

    def __init__(self, exception_message="", target=None, details=None, message_format=None,
                 message_parameters=None, reference_code=None, has_pii=True, azureml_error=None,
                 inner_exception=None):
        super().__init__(exception_message, inner_exception=inner_exception, target=target, details=details)
        self._target = target
        self._reference_code = reference_code
        self._response: dict[str, Any] | None = azureml_error

    @classmethod
    def _with_error(cls, azureml_error, inner_exception=None):
        """The exception for one of azureml's error definitions (``_error(name, ...)`` builds it)."""
        error = cls(azureml_error["message"], target=azureml_error.get("target"),
                    reference_code=azureml_error.get("reference_code"), azureml_error=azureml_error,
                    inner_exception=inner_exception)
        return error

    def _error_response(self) -> dict[str, Any]:
        if self._response is not None:
            return self._response["response"]
        error: dict[str, Any] = {"code": self._error_code, "message": self._message}
        if self._target is not None:
            error["target"] = self._target
        return {"error": error}

    def __str__(self) -> str:
        inner = None if self.inner_exception is None else \
            f"{type(self.inner_exception).__name__}: {self.inner_exception}"
        return (f"{type(self).__name__}:\n\tMessage: {self._message}\n\tInnerException: {inner}"
                f"\n\tErrorResponse \n{json.dumps(self._error_response(), indent=4)}")


class ValidationException(_AutoMLException):
    """An error found when validating the inputs."""

    def __init__(self, exception_message="", target=None, **kwargs):
        super().__init__(exception_message=exception_message, target=target, **kwargs)


class ConfigException(ValidationException):
    """An invalid setting of the AutoML configuration."""


class DataException(ValidationException):
    """A problem with the training data."""

    _error_code = "UserError"


class NotFoundException(ValidationException):
    """Something the call needs does not exist."""


class ClientException(_AutoMLException):
    """An error of the client library itself."""


class OnnxConvertException(ClientException):
    """An ONNX model was asked for and cannot be given."""


def _error(name: str, target: str | None = None, reference_code: str | None = None, **parameters: Any) -> dict:
    """azureml's error ``name`` with its parameters: the message and the error response."""
    template, codes, linked = _ERRORS[name]
    message = template.format(**parameters)
    error: dict[str, Any] = {"code": "UserError", "message": message}
    if linked:
        error["details_uri"] = _DETAILS_URI
    if target is not None:
        error["target"] = target
    inner: dict[str, Any] = {}
    for depth, code in enumerate(codes):
        level: dict[str, Any] = {"code": code}
        if depth == 0:
            error["inner_error"] = level
        else:
            inner["inner_error"] = level
        inner = level
    if reference_code is not None:
        error["reference_code"] = reference_code
    return {"message": message, "target": target, "reference_code": reference_code, "response": {"error": error}}


def _config_error(name: str, target: str | None = None, **parameters: Any) -> ConfigException:
    return ConfigException._with_error(_error(name, target, **parameters))


def _not_found_error(name: str, target: str | None = None, **parameters: Any) -> NotFoundException:
    return NotFoundException._with_error(_error(name, target, **parameters))


def _automl_error(name: str, target: str | None = None, **parameters: Any) -> _AutoMLException:
    return _AutoMLException._with_error(_error(name, target, **parameters))


def _data_error(name: str, target: str | None = None, **parameters: Any) -> DataException:
    return DataException._with_error(_error(name, target, **parameters))


def _embedded_refusal(what: str, fix: str = "") -> UserErrorException:
    """A setting Azure accepts that the embedded workspace cannot honour."""
    from azureml._embedded import AZURE_HINT

    return UserErrorException(f"{what} {fix} {AZURE_HINT}".replace("  ", " ").strip())
