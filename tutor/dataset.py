"""The course dataset: find it, download it once, and prove it is the right file.

The tutor never ships the data. It looks, in order, at ``--data PATH``, the ``TUTOR_DATA``
environment variable, and the per-user cache; failing those it downloads the file from
the course's public address with a progress callback, checks its sha256 and caches it.
An offline machine gets a message saying how to point the tutor at a local copy.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from tutor.errors import DataError
from tutor.paths import cache_dir

URL = (
    "https://automlsamplenotebookdata.blob.core.windows.net/"
    "automl-sample-notebook-data/green_taxi_data.parquet"
)
SHA256 = "1e277101a55e2a2143bd131cadaa046e30b88024818e5acc4bf581330d5e98a9"
SIZE = 1_231_324
FILENAME = "green_taxi_data.parquet"
ENV_VAR = "TUTOR_DATA"

# (bytes done, bytes total or None)
ProgressCallback = Callable[[int, int | None], None]


@dataclass(frozen=True)
class DatasetFile:
    path: Path
    source: str  # "--data", "TUTOR_DATA", "cache" or "download"
    sha256: str
    size: int


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cached_path() -> Path:
    return cache_dir() / FILENAME


def _checked(path: Path, source: str, how_to_fix: str) -> DatasetFile:
    if not path.exists():
        raise DataError(f"The dataset file {path} (from {source}) does not exist.", how_to_fix)
    if path.is_dir():
        raise DataError(f"{path} (from {source}) is a folder, not the dataset file.", how_to_fix)
    try:
        digest = sha256_of(path)
    except OSError as exc:
        raise DataError(f"The dataset file {path} cannot be read ({exc.strerror or exc}).", how_to_fix) from None
    if digest != SHA256:
        raise DataError(
            f"{path} (from {source}) is not the course's dataset: its sha256 is {digest[:16]}..., "
            f"expected {SHA256[:16]}...",
            how_to_fix,
        )
    return DatasetFile(path=path, source=source, sha256=digest, size=path.stat().st_size)


def locate(explicit: Path | None = None, *, download: bool = True,
           on_progress: ProgressCallback | None = None) -> DatasetFile:
    """The verified dataset file, downloading it into the cache if needed."""
    if explicit is not None:
        return _checked(Path(explicit).expanduser(), "--data",
                        f"Pass --data the path of {FILENAME} (sha256 {SHA256[:12]}...), or leave it out to download it.")
    env = os.environ.get(ENV_VAR)
    if env:
        return _checked(Path(env).expanduser(), ENV_VAR,
                        f"Set {ENV_VAR} to the path of {FILENAME}, or unset it to use the download cache.")
    cached = cached_path()
    if cached.exists():
        if sha256_of(cached) == SHA256:
            return DatasetFile(path=cached, source="cache", sha256=SHA256, size=cached.stat().st_size)
        cached.unlink()  # a damaged or partial copy: fetch it again
    if not download:
        raise DataError(
            "The course dataset is not on this machine yet.",
            f"Run `tutor data` on a machine with internet, or point --data / {ENV_VAR} at a copy of {FILENAME}.",
        )
    return fetch(on_progress=on_progress)


def fetch(*, on_progress: ProgressCallback | None = None, url: str = URL, timeout: float = 30.0) -> DatasetFile:
    """Download the dataset into the cache, verifying its sha256 before keeping it."""
    import requests

    target = cached_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    offline_fix = (
        f"This machine may be offline. Download {url} elsewhere and point the tutor at it with "
        f"--data PATH or {ENV_VAR}=PATH (or copy it to {target})."
    )
    try:
        with requests.get(url, stream=True, timeout=timeout) as response:
            response.raise_for_status()
            total = int(response.headers.get("Content-Length") or 0) or None
            done = 0
            with open(partial, "wb") as handle:
                for chunk in response.iter_content(chunk_size=64 * 1024):
                    handle.write(chunk)
                    done += len(chunk)
                    if on_progress:
                        on_progress(done, total)
    except requests.RequestException as exc:
        partial.unlink(missing_ok=True)
        host = url.split("/")[2]
        if isinstance(exc, requests.ConnectionError):
            reason = f"could not reach {host}: no network connection, or the name does not resolve"
        elif isinstance(exc, requests.Timeout):
            reason = f"{host} did not answer within {timeout:g} s"
        elif isinstance(exc, requests.HTTPError) and exc.response is not None:
            reason = f"{host} answered HTTP {exc.response.status_code}"
        else:
            reason = f"{type(exc).__name__}: {str(exc)[:200]}"
        raise DataError(f"Could not download the course dataset ({reason}).", offline_fix) from None
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise DataError(f"Could not save the dataset to {partial} ({exc.strerror or exc}).",
                        "Check that the cache folder is writable (TUTOR_CACHE picks another one).") from None
    digest = sha256_of(partial)
    if digest != SHA256:
        partial.unlink(missing_ok=True)
        raise DataError(
            f"The downloaded file's sha256 is {digest[:16]}..., not the course dataset's {SHA256[:16]}...",
            "Try again; if it keeps happening, something between you and the server changes the file: "
            "download it another way and use --data PATH.",
        )
    os.replace(partial, target)
    return DatasetFile(path=target, source="download", sha256=digest, size=target.stat().st_size)
