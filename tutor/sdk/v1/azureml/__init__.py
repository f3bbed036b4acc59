"""The embedded workspace's azureml SDK (the course's part of azureml-core 1.61).

Imported as ``azureml`` only where the tutor activates it (see :mod:`tutor.sdk`).
"""

#: Marks this package as the embedded SDK, not Microsoft's.
__embedded__ = True

from azureml._embedded import install_finder as _install_finder

_install_finder()
