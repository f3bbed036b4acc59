"""The service folder and its ``service.json``: what a deployed service is, where and how.

Three parties write the record: ``deploy`` (creates it), the service's supervisor
process (moves it through its states) and ``get_state`` (marks a service Failed when its
process has died behind everyone's back). They take an ``flock`` on ``service.lock`` for
every read-modify-write, and the file is replaced atomically, so nobody reads half a
record. The record never holds a key: those live in ``keys.json``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tutor import fileio
from tutor.errors import TutorError

RECORD_FILE = "service.json"
LOCK_FILE = "service.lock"
LOG_FILE = "service.log"
APP_DIR = "app"
# The log is rotated when it reaches log_max_bytes: service.log.1 is the previous part,
# up to service.log.<LOG_BACKUPS>, so a service keeps at most (LOG_BACKUPS + 1) parts.
DEFAULT_LOG_MAX_BYTES = 1024 * 1024
LOG_BACKUPS = 3

TRANSITIONING = "Transitioning"
HEALTHY = "Healthy"
FAILED = "Failed"
# A service that was stopped on purpose (its folder is about to be removed).
DELETED = "Deleted"
STATES = (TRANSITIONING, HEALTHY, FAILED, DELETED)
# States in which a live supervisor process is expected.
LIVE_STATES = (TRANSITIONING, HEALTHY)


@dataclass
class ServiceConfig:
    """How a service was asked to run: the deploy arguments, as stored."""

    name: str
    entry_script: str
    app_script: str
    model_dir: str
    auth_enabled: bool = True
    workers: int = 1
    cpu_cores: float = 1.0
    memory_gb: float = 0.5
    tags: dict[str, str] = field(default_factory=dict)
    description: str = ""
    max_body_bytes: int = 1024 * 1024
    batching: bool = True
    log_max_bytes: int = DEFAULT_LOG_MAX_BYTES
    host: str = "127.0.0.1"
    port: int = 0


@dataclass
class ServiceInfo:
    """A snapshot of a service: its configuration, its state and why."""

    config: ServiceConfig
    state: str
    reason: str = ""
    pid: int | None = None
    # The supervisor's start time in clock ticks since boot (/proc/<pid>/stat), so a
    # recycled pid is never mistaken for the service.
    pid_start: int | None = None
    created_at: float = 0.0
    healthy_at: float | None = None
    updated_at: float = 0.0

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def port(self) -> int:
        return self.config.port

    @property
    def scoring_uri(self) -> str:
        return f"http://{self.config.host}:{self.config.port}/score"

    @property
    def swagger_uri(self) -> str:
        return f"http://{self.config.host}:{self.config.port}/swagger.json"

    @property
    def base_uri(self) -> str:
        return f"http://{self.config.host}:{self.config.port}"

    @property
    def startup_seconds(self) -> float | None:
        """Seconds from deploy to Healthy (None until it is Healthy)."""
        if self.healthy_at is None:
            return None
        return self.healthy_at - self.created_at

    def to_json(self) -> dict[str, Any]:
        """The record as stored (and safe to show: it holds no key)."""
        return {
            "name": self.config.name,
            "state": self.state,
            "reason": self.reason,
            "pid": self.pid,
            "pid_start": self.pid_start,
            "scoring_uri": self.scoring_uri,
            "swagger_uri": self.swagger_uri,
            "created_at": self.created_at,
            "healthy_at": self.healthy_at,
            "updated_at": self.updated_at,
            "config": self.config.__dict__,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ServiceInfo:
        config = ServiceConfig(**data["config"])
        return cls(
            config=config,
            state=data["state"],
            reason=data.get("reason", ""),
            pid=data.get("pid"),
            pid_start=data.get("pid_start"),
            created_at=data.get("created_at", 0.0),
            healthy_at=data.get("healthy_at"),
            updated_at=data.get("updated_at", 0.0),
        )


def record_path(service_dir: Path) -> Path:
    return Path(service_dir) / RECORD_FILE


def log_path(service_dir: Path) -> Path:
    return Path(service_dir) / LOG_FILE


def log_parts(service_dir: Path) -> list[Path]:
    """The log's files that exist, oldest first (the rotated parts, then ``service.log``)."""
    current = log_path(service_dir)
    older = [current.with_name(f"{LOG_FILE}.{n}") for n in range(LOG_BACKUPS, 0, -1)]
    return [path for path in [*older, current] if path.exists()]


def is_log_file(name: str) -> bool:
    """``service.log`` or one of its rotated parts."""
    return name == LOG_FILE or (name.startswith(LOG_FILE + ".") and name[len(LOG_FILE) + 1:].isdigit())


@contextmanager
def locked(service_dir: Path) -> Iterator[None]:
    """Hold the service's lock (an advisory ``flock``) for a read-modify-write."""
    with fileio.locked(Path(service_dir) / LOCK_FILE, mode=0o600):
        yield


def read(service_dir: Path) -> ServiceInfo:
    """The stored record; a clear error when there is no service there."""
    path = record_path(service_dir)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TutorError(
            f"There is no service in {service_dir}.",
            "Deploy the model first (the deployment step), or check the service name.",
        ) from None
    except ValueError as exc:
        raise TutorError(
            f"The service record {path} is damaged ({exc}).",
            "Delete the service and deploy it again.",
        ) from None
    return ServiceInfo.from_json(data)


def write(service_dir: Path, info: ServiceInfo) -> None:
    """Store the record atomically (callers hold :func:`locked`)."""
    info.updated_at = time.time()
    path = record_path(service_dir)
    fileio.atomic_write(path, json.dumps(info.to_json(), indent=2) + "\n")


def update(service_dir: Path, **changes: Any) -> ServiceInfo:
    """Change some fields of the record under the lock and return the new record."""
    with locked(service_dir):
        info = read(service_dir)
        for key, value in changes.items():
            setattr(info, key, value)
        write(service_dir, info)
        return info
