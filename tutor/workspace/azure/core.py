"""What every part of the Azure workspace shares: the connection, the cache, error mapping.

Azure keeps the workspace's state; this machine keeps a small cache next to the
learner's course (``.tutor/azure/<workspace>/``): run outputs and logs downloaded once a
run has ended, registered model files, dataset profiles (Azure computes none that the
SDK v1 can read back cheaply), and the records of services. All of it can be deleted at
any time: it is fetched again when needed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from tutor.errors import TutorError
from tutor.fileio import atomic_write
from tutor.workspace.azure.errors import explain

if TYPE_CHECKING:  # pragma: no cover - typing only
    from tutor.workspace.base import ComputeTarget, RunRecord, RunStatus

T = TypeVar("T")

DeviceCodeCallback = Callable[[str], None]


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, json.dumps(data, indent=2, default=str) + "\n")


def read_json(path: Path, default: Any = None) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return default


def iso(value: Any) -> str:
    """An SDK timestamp (datetime or text) as ISO text; "" for none."""
    if value is None or value == "":
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


class AzureCore:
    """State shared by the topic mixins of :class:`AzureWorkspace`."""

    name: str
    names: dict[str, str]
    service: Any
    cache: Path
    poll_interval: float
    on_device_code: DeviceCodeCallback | None
    auth_method: str
    _ws: Any

    if TYPE_CHECKING:  # pragma: no cover - typing only
        # What one topic's mixin calls on another's; AzureWorkspace combines them, and mypy
        # checks that each real definition matches the one declared here.
        def _target(self, name: str | ComputeTarget) -> Any: ...
        def _resolve_environment(self, environment: Any) -> Any: ...
        def _find_model(self, name: str, version: int | str = "latest") -> Any: ...
        def _run_handle(self, run_id: str) -> Any: ...
        def _status_of(self, run: Any) -> RunStatus: ...
        def get_run(self, run_id: str) -> RunRecord: ...

    # -- the connection ------------------------------------------------------------------

    def connect(self, on_device_code: DeviceCodeCallback | None = None) -> Any:
        """Sign in and open the Azure workspace now (later calls reuse it).

        ``on_device_code(message)`` receives the device-code login message (address and
        code) when a login is needed; the wizard shows it. See :mod:`.auth` for the order in
        which sign-in methods are tried.
        """
        if on_device_code is not None:
            self.on_device_code = on_device_code
        if self._ws is None:
            from tutor.workspace.azure.auth import choose_method, make_auth

            method = choose_method()
            self.auth_method = method
            auth = self._call(f"signing in to Azure with {method}", make_auth, self.names,
                              on_device_code=self.on_device_code, method=method)
            self._ws = self._call(f"opening the workspace '{self.names['workspace_name']}'",
                                  self.service.connect, self.names, auth)
        return self._ws

    @property
    def ws(self) -> Any:
        return self.connect()

    @property
    def _context(self) -> dict[str, str]:
        return {"workspace": self.names.get("workspace_name", "?"),
                "subscription": self.names.get("subscription_id", "?"),
                "resource_group": self.names.get("resource_group", "?")}

    def _call(self, doing: str, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``function(*args, **kwargs)``, its SDK errors turned into TutorErrors naming the fix."""
        try:
            return function(*args, **kwargs)
        except TutorError:
            raise
        except Exception as exc:  # noqa: BLE001 - every SDK/Azure error is explained
            raise explain(exc, doing, self._context) from exc

    def _sleep(self) -> None:
        time.sleep(self.poll_interval)

    # -- the cache ------------------------------------------------------------------------

    def _cache_dir(self, *parts: str) -> Path:
        path = self.cache.joinpath(*parts)
        path.mkdir(parents=True, exist_ok=True)
        return path
