"""``azureml.data.azure_storage_datastore.AzureBlobDatastore``: the workspace's default blob store.

On the embedded workspace the blob container is the workspace's ``datastore/`` folder
(:class:`tutor.workspace.local.datastore.LocalDatastore`, the store the step actions
upload to). What azureml decides is kept: ``upload_files`` keeps each file's path below
``relative_root`` (by default the files' common folder), existing files are skipped
unless ``overwrite=True``, progress goes to stdout with azureml's lines, and both uploads
return a :class:`~azureml.data.data_reference.DataReference` to ``target_path``.
"""

from __future__ import annotations

import collections
import json
import os
import re
import uuid
from typing import Any

from azureml._embedded import backend, require, translate
from azureml.data.abstract_datastore import AbstractDatastore
from azureml.data.data_reference import DataReference
from azureml.exceptions import UserErrorException

__all__ = ["AbstractAzureStorageDatastore", "AzureBlobDatastore"]


class AbstractAzureStorageDatastore(AbstractDatastore):
    """A datastore on an Azure storage account (here: the embedded workspace's folder)."""

    _sanitize_regex = re.compile(r"^(\.*[/\\])*")

    def __init__(self, workspace, name, datastore_type, container_name, account_name,
                 sas_token=None, account_key=None, protocol=None, endpoint=None):
        super().__init__(workspace, name, datastore_type)
        self.container_name = container_name
        self.account_name = account_name
        self.sas_token = sas_token
        self.account_key = account_key
        self.credential_type = "Sas" if sas_token else "AccountKey" if account_key else "None"
        self.protocol = protocol
        self.endpoint = endpoint
        self._data_reference = DataReference(datastore=self)

    def __repr__(self):
        content = collections.OrderedDict(name=self.name, container_name=self.container_name,
                                          account_name=self.account_name, protocol=self.protocol,
                                          endpoint=self.endpoint)
        return json.dumps(content, indent=2)

    def __str__(self):
        return self.__repr__()

    def path(self, path=None, data_reference_name=None):
        """A DataReference to ``path`` on this datastore (a dataset can be made from it)."""
        return self._data_reference.path(path, data_reference_name)

    # -- the mapping azureml makes from local files to datastore paths -------------------

    @staticmethod
    def _sanitize_target_path(target_path):
        if not target_path:
            return target_path
        return AbstractAzureStorageDatastore._sanitize_regex.sub("", target_path)

    def _get_upload_from_dir(self, src_path, target_path):
        src_path = str(src_path).rstrip("/\\")
        if not os.path.isdir(src_path):
            raise UserErrorException("src_path must be a directory.")
        pairs = []
        for dirpath, _dirnames, filenames in os.walk(src_path):
            pairs += self._get_upload_from_files([os.path.join(dirpath, f) for f in sorted(filenames)],
                                                 target_path, src_path, True)
        return pairs

    def _get_upload_from_files(self, file_paths, target_path, relative_root, skip_root_check):
        pairs = []
        target_path = AbstractAzureStorageDatastore._sanitize_target_path(target_path)
        for file_path in file_paths:
            file_path = os.fspath(file_path)
            if not skip_root_check and relative_root not in file_path and relative_root != "/":
                raise UserErrorException(f"relative_root: '{relative_root}' is not part of the file_path: "
                                         f"'{file_path}'.")
            if not os.path.isfile(file_path):
                raise UserErrorException(f"'{file_path}' does not point to a file. Please upload the file to cloud "
                                         "first if running in a cloud notebook.")
            target_file_path = _to_unix_path(file_path)
            if relative_root != "/":
                target_file_path = os.path.relpath(target_file_path, _to_unix_path(relative_root) or os.curdir)
            else:
                target_file_path = target_file_path.lstrip("/")
            if target_path:
                target_file_path = os.path.join(target_path, target_file_path)
            pairs.append((file_path, target_file_path.replace(os.sep, "/")))
        return pairs

    def _get_progress_logger(self, show_progress):
        console = self._get_console_logger()

        def log(message):
            if show_progress:
                console.write(f"{message}\n")

        return log


class AzureBlobDatastore(AbstractAzureStorageDatastore):
    """The workspace's blob container (``ws.get_default_datastore()``)."""

    def __init__(self, workspace, name, container_name, account_name, sas_token=None,
                 account_key=None, protocol=None, endpoint=None, request_session=None, workspace_msi_has_access=False,
                 subscription_id=None, resource_group=None, service_data_access_auth_identity=None):
        """A blob datastore of ``workspace`` (get it with ``ws.get_default_datastore()``)."""
        super().__init__(workspace, name, "AzureBlob", container_name, account_name, sas_token, account_key,
                         protocol, endpoint)
        self.workspace_msi_has_access = workspace_msi_has_access
        self.service_data_access_auth_identity = service_data_access_auth_identity
        self.subscription_id = subscription_id
        self.resource_group = resource_group

    @classmethod
    def _from_backend(cls, workspace: Any, store: Any) -> "AzureBlobDatastore":
        """The SDK object for the embedded workspace's datastore ``store`` (a LocalDatastore)."""
        local = backend(workspace)
        key = uuid.uuid5(uuid.NAMESPACE_URL, f"tutor-embedded-workspace:{local.path}")
        account = (re.sub(r"[^a-z0-9]", "", workspace.name.lower())[:17] or "workspace") + "local"
        datastore = cls(workspace, store.name, f"azureml-blobstore-{key}", account, protocol="https",
                        endpoint="core.windows.net", subscription_id=workspace.subscription_id,
                        resource_group=workspace.resource_group)
        # The embedded store needs no key; uploads work as with an account key on Azure.
        datastore.credential_type = "AccountKey"
        return datastore

    def _local(self) -> Any:
        """The embedded workspace's store behind this datastore (its one implementation)."""
        store = backend(self.workspace).default_datastore
        if store.name != self.name:
            raise UserErrorException(f"(UserError) Could not find datastore: {self.name}. The embedded workspace "
                                     f"has one datastore, {store.name}.")
        return store

    # -- upload / download -----------------------------------------------------------------

    def upload(self, src_dir, target_path=None, overwrite=False, show_progress=True):
        """Upload every file under the folder ``src_dir`` to ``target_path`` (default: the root).

        Returns a DataReference to ``target_path``.
        """
        target_path = target_path or ""
        require(target_path, str, "target_path")
        self._upload(self._get_upload_from_dir(os.fspath(src_dir), target_path), overwrite, show_progress)
        return DataReference(datastore=self, path_on_datastore=target_path)

    def upload_files(self, files, relative_root=None, target_path=None, overwrite=False, show_progress=True):
        """Upload ``files`` (a list of paths) to ``target_path``; each keeps its path below
        ``relative_root`` (default: the folder the files have in common).

        Returns a DataReference to ``target_path``.
        """
        require(files, (list, tuple), "files")
        target_path = target_path or ""
        require(target_path, str, "target_path")
        files = [os.fspath(f) for f in files]
        relative_root = relative_root or _common_path(files)
        self._upload(self._get_upload_from_files(files, target_path, os.fspath(relative_root), False),
                     overwrite, show_progress)
        return DataReference(datastore=self, path_on_datastore=target_path)

    def _upload(self, pairs: list[tuple[str, str]], overwrite: bool, show_progress: bool) -> int:
        store = self._local()
        console = self._get_progress_logger(show_progress)
        total = len(pairs)
        console(f"Uploading an estimated of {total} files")
        existing = set(store.list()) if not overwrite else set()
        todo = []
        for source, target in pairs:
            if target.lstrip("/") in existing:
                total -= 1
                console(f"Target already exists. Skipping upload for {target}")
                continue
            todo.append((source, target))
        if todo:
            with translate(UserErrorException):
                store.upload_pairs(todo, overwrite=overwrite)
        for count, (source, _target) in enumerate(todo, 1):
            console(f"Uploading {source}")
            console(f"Uploaded {source}, {count} files out of an estimated total of {total}")
        console(f"Uploaded {len(todo)} files")
        return len(todo)

    def download(self, target_path, prefix=None, overwrite=False, show_progress=True):
        """Download the files whose path starts with ``prefix`` (default: all) into the folder
        ``target_path``, each under its datastore path. Returns how many were downloaded."""
        store = self._local()
        target_path = os.fspath(target_path)
        os.makedirs(target_path, exist_ok=True)
        names = store.list(prefix or "")
        total = len(names)
        console = self._get_progress_logger(show_progress)
        count = 0
        for name in names:
            if not overwrite and os.path.exists(os.path.join(target_path, os.path.normpath(name))):
                total -= 1
                continue
            with translate(UserErrorException):
                store.download(name, target_path, overwrite=True)
            count += 1
            console(f"Downloading {name}")
            console(f"Downloaded {name}, {count} files out of an estimated total of {total}")
        return count

    def _as_dict(self, hide_secret=True):
        output = super()._as_dict()
        output.update(container_name=self.container_name, account_name=self.account_name, protocol=self.protocol,
                      endpoint=self.endpoint)
        return output


def _split_path(path: str) -> list[str]:
    segments = []
    while True:
        path, tail = os.path.split(path)
        if tail:
            segments.append(tail)
        else:
            segments.append(path)
            break
    return segments[::-1]


def _to_unix_path(path: str) -> str:
    if not path:
        return path
    segments = [s for s in _split_path(path) if s]
    if ":" in segments[0]:
        segments = ["", segments[0].rstrip("\\/:"), *segments[1:]]
    return "/".join(segments).replace("//", "/")


def _common_path(files: list[str]) -> str:
    """The folder all ``files`` are in (azureml's rule: "/" when they share nothing)."""
    if not files:
        return ""
    if len(files) == 1:
        return os.path.split(files[0])[0]
    common = _split_path(files[0])
    for other in map(_split_path, files[1:]):
        length = 0
        for a, b in zip(common, other):
            if a != b:
                break
            length += 1
        if length == 0:
            return "/"
        common = common[:length]
    return os.path.join(*common)
