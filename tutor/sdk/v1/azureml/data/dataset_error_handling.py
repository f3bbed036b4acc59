"""``azureml.data.dataset_error_handling``: the errors a dataset raises when its data cannot be read."""

from __future__ import annotations

from azureml.exceptions import UserErrorException

__all__ = ["DatasetExecutionError", "DatasetValidationError"]


class DatasetValidationError(UserErrorException):
    """The data behind a dataset is not there or cannot be read (``validate=True``)."""

    def __init__(self, message, exception=None):
        self.inner_exception = exception
        if exception is not None:
            self.error_code = getattr(exception, "error_code", None)
            self.validation_error_code = getattr(exception, "validation_error_code", None)
            self.compliant_message = getattr(exception, "compliant_message", None)
        super().__init__(message)
        self.inner_exception = exception


class DatasetExecutionError(UserErrorException):
    """Reading a dataset's data failed."""

    def __init__(self, message, exception):
        self.inner_exception = exception
        self.error_code = getattr(exception, "error_code", None)
        self.validation_error_code = getattr(exception, "validation_error_code", None)
        self.compliant_message = getattr(exception, "compliant_message", None)
        super().__init__(message)
        self.inner_exception = exception
