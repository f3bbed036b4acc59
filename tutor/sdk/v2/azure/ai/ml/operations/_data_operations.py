"""``ml_client.data``: data assets. ``create_or_update`` uploads a local file or folder to the
default datastore (``LocalUpload/<content hash>/``, as azure-ai-ml does) and registers the next
version; a job's ``Input(path="azureml:<name>@latest")`` reads it back.

The three kinds the course uses: ``uri_file`` (one CSV or Parquet file), ``uri_folder`` (a folder
of them, all one format) and ``mltable`` (a folder with an ``MLTable`` file naming its files, what
AutoML reads).
"""

from __future__ import annotations

import hashlib
from pathlib import Path, PurePosixPath

from azure.ai.ml._embedded import ListViewType, Subset, asked_version, backend, invalid, reference, translate, version_arg

__all__ = ["DataOperations"]

_DATASTORE_PATH = "azureml://datastores/{store}/paths/{path}"
_FORMATS = {".csv": "csv", ".parquet": "parquet"}


def _format_of(paths, what):
    formats = {_FORMATS.get(PurePosixPath(p).suffix.lower()) for p in paths}
    if None in formats or len(formats) != 1:
        raise invalid(f"{what}: the embedded workspace registers CSV or Parquet files (all one format); "
                      f"found {', '.join(sorted({PurePosixPath(p).suffix or p for p in paths}))}.")
    return formats.pop()


def _mltable_files(folder: Path) -> list[str]:
    """The files an MLTable file names (``paths: - file: ./x.csv``), relative to its folder."""
    import yaml

    spec_file = folder / "MLTable"
    try:
        spec = yaml.safe_load(spec_file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise invalid(f"{spec_file}: cannot read it as an MLTable file ({error}).") from None
    entries = spec.get("paths") if isinstance(spec, dict) else None
    if not isinstance(entries, list) or not entries:
        raise invalid(f"{spec_file} names no files: write 'paths:' with '- file: ./your.csv' under it.")
    files = []
    for entry in entries:
        target = entry.get("file") if isinstance(entry, dict) else None
        if not isinstance(target, str):
            raise invalid(f"{spec_file}: each entry of 'paths' must be '- file: <a file in this folder>' on the "
                          f"embedded workspace, not {entry!r}.")
        clean = PurePosixPath(target.removeprefix("./"))
        if clean.is_absolute() or ".." in clean.parts or not (folder / clean).is_file():
            raise invalid(f"{spec_file}: '{target}' is not a file in {folder}.")
        files.append(clean.as_posix())
    return files


def _digest(files: list[Path]) -> str:
    sha = hashlib.sha256()
    for file in sorted(files):
        sha.update(file.name.encode())
        sha.update(file.read_bytes())
    return sha.hexdigest()[:32]


def data_entity(local, record):
    from azure.ai.ml.entities import Data

    store = local.default_datastore
    paths = list(record.datastore_paths)
    first = PurePosixPath(paths[0])
    if store.local_path((first.parent / "MLTable").as_posix()).is_file():
        kind, where = "mltable", first.parent.as_posix() + "/"
    elif len(paths) == 1:
        kind, where = "uri_file", paths[0]
    else:
        kind, where = "uri_folder", first.parent.as_posix() + "/"
    return Data(name=record.name, version=str(record.version), description=record.description or None,
                tags=dict(record.tags), type=kind, path=_DATASTORE_PATH.format(store=store.name, path=where),
                id=f"azureml:{record.name}:{record.version}", creation_context={"created_at": record.created_at})


def local_path(local, value, what="data asset"):
    """The local file (uri_file) or folder (uri_folder, mltable) of a registered data asset."""
    name, version = reference(value, what)
    with translate():
        record = local.get_dataset(name, version_arg(version))
    entity = data_entity(local, record)
    relative = entity.path.split("/paths/", 1)[1]
    return local.default_datastore.local_path(relative.rstrip("/")), entity


class DataOperations(Subset):
    """Register (``create_or_update``), ``get`` and ``list`` data assets."""

    def __init__(self, ml_client):
        self._client = ml_client

    def create_or_update(self, data):
        from azure.ai.ml.entities import Data

        if not isinstance(data, Data):
            raise invalid(f"create_or_update() takes a Data, not {type(data).__name__}.")
        if not data.name or not data.path:
            raise invalid("A Data asset needs name= and path= (a local file or folder, or an "
                          "azureml://datastores/<name>/paths/<path> on the datastore).")
        if data.version is not None:
            raise invalid(f"Data {data.name!r} version={data.version!r}: the embedded workspace numbers versions "
                          "itself; leave version out and it registers the next one.")
        local = backend(self._client)
        kind = str(data.type or "uri_folder")
        if kind not in ("uri_file", "uri_folder", "mltable"):
            raise invalid(f"Data type {kind!r} is not one the embedded workspace registers: use "
                          "AssetTypes.URI_FILE, AssetTypes.URI_FOLDER or AssetTypes.MLTABLE.")
        paths = self._stored_paths(local, data, kind)
        with translate():
            record = local.register_tabular_dataset(data.name, paths, description=data.description or "",
                                                    tags=data.tags, file_format=_format_of(paths, data.path))
        return data_entity(local, record)

    def _stored_paths(self, local, data, kind) -> list[str]:
        """The asset's files on the datastore: uploaded now from a local path, or already there."""
        store = local.default_datastore
        text = str(data.path)
        prefix = f"azureml://datastores/{store.name}/paths/"
        if text.startswith("azureml://"):
            if not text.startswith(prefix):
                raise invalid(f"{text}: the embedded workspace has one datastore; write "
                              f"{prefix}<path>, or give a local file or folder.")
            source, on_store = store.local_path(text[len(prefix):].rstrip("/")), True
        else:
            source, on_store = Path(text).expanduser(), False
        if kind == "uri_file":
            if not source.is_file():
                raise invalid(f"Data {data.name!r}: {text} is not a file (type uri_file names one file).")
            files, root = [source], source.parent
        else:
            if not source.is_dir():
                raise invalid(f"Data {data.name!r}: {text} is not a folder (type {kind} names a folder).")
            root = source
            if kind == "mltable":
                files = [source / f for f in _mltable_files(source)] + [source / "MLTable"]
            else:
                files = sorted(p for p in source.rglob("*") if p.is_file())
                if not files:
                    raise invalid(f"Data {data.name!r}: the folder {text} is empty.")
        data_files = [f for f in files if f.name != "MLTable"]
        if on_store:
            base = store.root.resolve()
            return [f.resolve().relative_to(base).as_posix() for f in data_files]
        target = PurePosixPath("LocalUpload", _digest(files), root.name if kind != "uri_file" else "")
        pairs = [(f, (target / f.relative_to(root).as_posix()).as_posix()) for f in files]
        with translate():
            store.upload_pairs(pairs, overwrite=True)
        return [(target / f.relative_to(root).as_posix()).as_posix() for f in data_files]

    def get(self, name, version=None, label=None):
        if version is not None and label is not None:
            raise invalid("Cannot specify both version and label.")
        wanted = asked_version(version, label)
        local = backend(self._client)
        with translate():
            record = local.get_dataset(name, wanted)
        return data_entity(local, record)

    def list(self, name=None, *, list_view_type=ListViewType.ACTIVE_ONLY):
        local = backend(self._client)
        with translate():
            records = local.list_dataset_versions(name) if name else local.list_datasets()
        return iter([data_entity(local, r) for r in records])
