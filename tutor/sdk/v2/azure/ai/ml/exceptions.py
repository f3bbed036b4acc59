"""``azure.ai.ml.exceptions`` on the embedded workspace: the exceptions the course meets.

As in azure-ai-ml, they derive from azure-core's ``AzureError``; a missing resource raises
azure-core's own ``ResourceNotFoundError``.
"""

from __future__ import annotations

from enum import Enum

from azure.core.exceptions import AzureError

__all__ = ["ErrorCategory", "ErrorTarget", "JobException", "MlException", "UserErrorException", "ValidationErrorType",
           "ValidationException"]


class ErrorCategory:
    USER_ERROR = "UserError"
    SYSTEM_ERROR = "SystemError"
    UNKNOWN = "Unknown"


class ErrorTarget:
    UNKNOWN = "Unknown"
    COMPUTE = "Compute"
    DATA = "Data"
    ENVIRONMENT = "Environment"
    JOB = "Job"
    MODEL = "Model"
    ONLINE_ENDPOINT = "OnlineEndpoint"
    ONLINE_DEPLOYMENT = "OnlineDeployment"
    AUTOML = "AutoML"
    PIPELINE = "Pipeline"


class ValidationErrorType(Enum):
    INVALID_VALUE = "INVALID VALUE"
    UNKNOWN_FIELD = "UNKNOWN FIELD"
    MISSING_FIELD = "MISSING FIELD"
    FILE_OR_FOLDER_NOT_FOUND = "FILE OR FOLDER NOT FOUND"
    CANNOT_SERIALIZE = "CANNOT DUMP"
    CANNOT_PARSE = "CANNOT PARSE"
    RESOURCE_NOT_FOUND = "RESOURCE NOT FOUND"
    GENERIC = "GENERIC"


class MlException(AzureError):
    """The base of azure-ai-ml's own exceptions."""

    def __init__(self, message: str, no_personal_data_message: str, *args, target=ErrorTarget.UNKNOWN,
                 error_category=ErrorCategory.UNKNOWN, **kwargs):
        self._error_category = error_category
        self._target = target
        self._no_personal_data_message = no_personal_data_message
        super().__init__(message, *args, **kwargs)

    @property
    def target(self):
        return self._target

    @property
    def error_category(self):
        return self._error_category

    @property
    def no_personal_data_message(self):
        return self._no_personal_data_message


class UserErrorException(MlException):
    def __init__(self, message, no_personal_data_message=None, error_category=ErrorCategory.USER_ERROR,
                 target: str = ErrorTarget.PIPELINE):
        super().__init__(message, no_personal_data_message or message, error_category=error_category, target=target)


class ValidationException(MlException):
    def __init__(self, message: str, no_personal_data_message: str, *args,
                 error_type: ValidationErrorType = ValidationErrorType.GENERIC, target=ErrorTarget.UNKNOWN,
                 error_category=ErrorCategory.USER_ERROR, **kwargs):
        self._error_type = error_type
        super().__init__(message, no_personal_data_message, *args, target=target, error_category=error_category, **kwargs)

    @property
    def error_type(self):
        return self._error_type


class JobException(MlException):
    """A job that failed, as ``jobs.stream`` raises it."""

    def __init__(self, message: str, no_personal_data_message: str, *args, target=ErrorTarget.UNKNOWN,
                 error_category=ErrorCategory.UNKNOWN, **kwargs):
        super().__init__(message, no_personal_data_message, *args, target=target, error_category=error_category,
                         **kwargs)
