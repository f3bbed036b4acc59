"""Records of deployed web services.

The scoring server itself belongs to the deployment code; this keeps what it needs to
find a service again after the tutor restarts (pid + start token, port, scoring URI,
the models it serves) and gives each service its folder ``services/<name>/`` for its
log, pid and keys files.
"""

from __future__ import annotations

import json
import shutil
from typing import Any, Mapping, Sequence

from tutor.errors import TutorError
from tutor.workspace import naming
from tutor.workspace.base import ServiceRecord
from tutor.workspace.local.core import WorkspaceCore, loads, not_found
from tutor.workspace.local.procs import process_start_token
from tutor.workspace.local.store import dumps, utcnow

UPDATABLE = {"state", "scoring_uri", "port", "pid", "models", "properties", "kind"}


class ServicesMixin(WorkspaceCore):
    def _service_record(self, row: Any) -> ServiceRecord:
        return ServiceRecord(
            name=row["name"], kind=row["kind"], state=row["state"], scoring_uri=row["scoring_uri"], port=row["port"],
            pid=row["pid"], pid_token=row["pid_token"], models=loads(row["models"], []),
            properties=loads(row["properties"], {}), service_dir=str(self.layout.service_dir(row["name"])),
            created_at=row["created_at"], updated_at=row["updated_at"],
        )

    def record_service(self, name: str, *, kind: str, state: str, scoring_uri: str | None = None,
                       port: int | None = None, pid: int | None = None, models: Sequence[str] = (),
                       properties: Mapping[str, Any] | None = None, replace: bool = False) -> ServiceRecord:
        """Record a service (its folder is created). An existing name needs ``replace=True``.

        ``pid`` is stored with its start token, so a later reader can tell whether that
        process is still the service (``procs.process_is_running(pid, pid_token)``).
        """
        naming.check_name(naming.SERVICE, name)
        token = process_start_token(pid) if pid else None
        now = utcnow()
        with self.store.write() as conn:
            existing = conn.execute("SELECT created_at FROM services WHERE name = ?", (name,)).fetchone()
            if existing is not None and not replace:
                raise TutorError(f"A service named '{name}' already exists.",
                                 "Delete it first, update it, or choose another name.")
            conn.execute(
                "INSERT OR REPLACE INTO services (name, kind, state, scoring_uri, port, pid, pid_token, models, "
                "properties, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (name, kind, state, scoring_uri, port, pid, token, json.dumps(list(models)),
                 dumps(dict(properties or {})), existing[0] if existing else now, now),
            )
        self.layout.service_dir(name).mkdir(parents=True, exist_ok=True)
        return self._recorded_service(name)

    def update_service(self, name: str, /, **fields: Any) -> ServiceRecord:
        """Change some fields of a recorded service (state, pid, port, scoring_uri...)."""
        unknown = set(fields) - UPDATABLE
        if unknown:
            raise TutorError(f"Cannot update {', '.join(sorted(unknown))} of a service.",
                             f"Updatable fields: {', '.join(sorted(UPDATABLE))}.")
        self._recorded_service(name)
        values = dict(fields)
        if "models" in values:
            values["models"] = json.dumps(list(values["models"]))
        if "properties" in values:
            values["properties"] = dumps(dict(values["properties"] or {}))
        if "pid" in values:
            values["pid_token"] = process_start_token(values["pid"]) if values["pid"] else None
        values["updated_at"] = utcnow()
        assignments = ", ".join(f"{key} = ?" for key in values)
        with self.store.write() as conn:
            conn.execute(f"UPDATE services SET {assignments} WHERE name = ?", (*values.values(), name))
        return self._recorded_service(name)

    def get_service(self, name: str) -> ServiceRecord:
        return self._recorded_service(name)

    def _recorded_service(self, name: str) -> ServiceRecord:
        """The service as the database has it (no look at its process)."""
        with self.store.read() as conn:
            row = conn.execute("SELECT * FROM services WHERE name = ?", (name,)).fetchone()
            if row is None:
                names = [r[0] for r in conn.execute("SELECT name FROM services")]
                raise not_found("service", name, names, "deploy it first")
        return self._service_record(row)

    def list_services(self) -> list[ServiceRecord]:
        with self.store.read() as conn:
            rows = conn.execute("SELECT * FROM services ORDER BY created_at").fetchall()
        return [self._service_record(row) for row in rows]

    def delete_service_record(self, name: str, remove_files: bool = True) -> None:
        """Forget a service (stop its process first: this does not). Removes its folder too."""
        self._recorded_service(name)
        with self.store.write() as conn:
            conn.execute("DELETE FROM services WHERE name = ?", (name,))
        if remove_files:
            shutil.rmtree(self.layout.service_dir(name), ignore_errors=True)
