"""The service's two API keys: made, stored, rotated and checked.

Azure gives every key-authenticated service a primary and a secondary key so a client
can move to one while the other is being regenerated. Here the keys live in
``services/<name>/keys.json`` (mode 0600, never in ``service.json`` or a log). The
running server reads the file on every checked request (a read of a 0.1 KB file costs
about as much as a ``stat``), so a regenerated key stops working on the very next
request, in every worker, without a restart or a signal.
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from tutor.errors import TutorError
from tutor.fileio import atomic_write

KEYS_FILE = "keys.json"
KEY_NAMES = ("Primary", "Secondary")
# 32 random bytes, URL-safe base64: the same strength as Azure's keys.
KEY_BYTES = 32


@dataclass(frozen=True)
class ServiceKeys:
    """The primary and secondary key of a service."""

    primary: str
    secondary: str

    def as_tuple(self) -> tuple[str, str]:
        """``(primary, secondary)``, the shape of azureml's ``Webservice.get_keys()``."""
        return (self.primary, self.secondary)


def new_key() -> str:
    """A fresh random key."""
    return secrets.token_urlsafe(KEY_BYTES)


def keys_path(service_dir: Path) -> Path:
    return Path(service_dir) / KEYS_FILE


def write_keys(service_dir: Path, keys: ServiceKeys) -> None:
    """Write the keys atomically with mode 0600.

    The file is created 0600 before any secret is written to it (not chmod-ed after),
    then renamed over the old one, so a reader sees either the old or the new keys,
    never a half-written file, and nobody else can read it at any point.
    """
    path = keys_path(service_dir)
    payload = json.dumps({"primaryKey": keys.primary, "secondaryKey": keys.secondary})
    atomic_write(path, payload, mode=0o600)


def read_keys(service_dir: Path) -> ServiceKeys:
    """The keys of the service in ``service_dir``."""
    path = keys_path(service_dir)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return ServiceKeys(primary=data["primaryKey"], secondary=data["secondaryKey"])
    except FileNotFoundError:
        raise TutorError(
            f"The service in {service_dir} has no keys.",
            "Keys exist only when the service was deployed with auth_enabled=True; "
            "redeploy it with authentication on to get keys.",
        ) from None
    except (ValueError, KeyError, TypeError) as exc:
        raise TutorError(
            f"The keys file {path} is damaged ({exc}).",
            "Regenerate both keys (regen_key 'Primary' then 'Secondary') or redeploy the service.",
        ) from None


def create_keys(service_dir: Path) -> ServiceKeys:
    """Make and store a new key pair for a new service."""
    keys = ServiceKeys(primary=new_key(), secondary=new_key())
    write_keys(service_dir, keys)
    return keys


def regenerate(service_dir: Path, which: str) -> ServiceKeys:
    """Replace the ``'Primary'`` or ``'Secondary'`` key; the other one keeps working."""
    name = which.strip().capitalize()
    if name not in KEY_NAMES:
        raise TutorError(
            f"There is no key called {which!r}.",
            "Name the key to regenerate: 'Primary' or 'Secondary'.",
        )
    current = read_keys(service_dir)
    if name == "Primary":
        updated = ServiceKeys(primary=new_key(), secondary=current.secondary)
    else:
        updated = ServiceKeys(primary=current.primary, secondary=new_key())
    write_keys(service_dir, updated)
    return updated


def mask(key: str, shown: int = 4) -> str:
    """A key with all but its first ``shown`` characters hidden, safe to print."""
    if len(key) <= shown:
        return "*" * len(key)
    return key[:shown] + "*" * (len(key) - shown)


class KeyChecker:
    """Checks ``Authorization: Bearer <key>`` against the current keys file.

    The server calls :meth:`check` on every scored request, and every call reads the
    file's bytes; they are parsed again only when they differ from the last ones read.
    A stamp such as (inode, size, mtime) is not enough: a rotation writes a file of the
    same size, the inode of the file replaced two rotations ago comes back, and on a
    file system with coarse timestamps two rotations in one tick leave the stamp as it
    was, so an old key could stay accepted. New keys are new bytes, so no rotation is
    missed.
    """

    def __init__(self, service_dir: Path) -> None:
        self._path = keys_path(service_dir)
        self._raw: bytes | None = None
        self._keys: tuple[bytes, ...] = ()

    def _read(self) -> bytes | None:
        try:
            fd = os.open(self._path, os.O_RDONLY)
        except OSError:
            return None
        try:
            chunks = []
            while chunk := os.read(fd, 65536):
                chunks.append(chunk)
            return b"".join(chunks)
        except OSError:
            return None
        finally:
            os.close(fd)

    def _current(self) -> tuple[bytes, ...]:
        raw = self._read()
        if raw is None:
            # No readable keys file means no key can match: fail closed.
            self._raw, self._keys = None, ()
            return self._keys
        if raw != self._raw:
            try:
                data = json.loads(raw)
                self._keys = tuple(
                    str(data[field]).encode() for field in ("primaryKey", "secondaryKey") if data.get(field)
                )
            except (ValueError, TypeError, AttributeError):
                # Damaged: refuse everything until a good file appears.
                self._keys = ()
            self._raw = raw
        return self._keys

    def check(self, authorization: str | None) -> str | None:
        """``None`` when the header carries a current key, else why it was refused."""
        if not authorization:
            return "missing"
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return "malformed"
        presented = token.strip().encode("utf-8", "surrogateescape")
        matched = False
        # Compare with every key, without stopping early, so timing says nothing about which.
        for key in self._current():
            matched |= hmac.compare_digest(presented, key)
        return None if matched else "invalid"
