"""Environments: named, versioned lists of the packages a run needs.

Registering the same definition again returns the existing version (as Azure does:
an unchanged environment is not rebuilt); a changed one becomes the next version.
"""

from __future__ import annotations

import json
from typing import Any, Sequence

from tutor.workspace.base import EnvironmentCheck, EnvironmentRecord
from tutor.workspace.local.core import Version, WorkspaceCore, missing_version, not_found, parse_version
from tutor.workspace.local.envcheck import check_requirements, validate_environment
from tutor.workspace.local.store import utcnow


def _record(row: Any) -> EnvironmentRecord:
    return EnvironmentRecord(
        name=row["name"], version=int(row["version"]), pip_packages=json.loads(row["pip_packages"]),
        conda_packages=json.loads(row["conda_packages"]), python_version=row["python_version"],
        created_at=row["created_at"],
    )


def split_environment_ref(ref: str) -> tuple[str, Version | str]:
    """``"name"`` -> (name, "latest"); ``"name:3"`` -> (name, "3")."""
    name, _, version = ref.partition(":")
    return name, (version or "latest")


class EnvironmentsMixin(WorkspaceCore):
    def register_environment(self, name: str, pip_packages: Sequence[str], conda_packages: Sequence[str] = (),
                             python_version: str | None = None) -> EnvironmentRecord:
        """Register (or reuse, if unchanged) an environment version."""
        pip, conda = validate_environment(name, pip_packages, conda_packages, python_version)
        with self.store.write() as conn:
            latest = conn.execute(
                "SELECT * FROM environments WHERE name = ? ORDER BY version DESC LIMIT 1", (name,)
            ).fetchone()
            if latest is not None and (json.loads(latest["pip_packages"]), json.loads(latest["conda_packages"]),
                                       latest["python_version"]) == (pip, conda, python_version):
                return _record(latest)
            version = 1 if latest is None else int(latest["version"]) + 1
            conn.execute(
                "INSERT INTO environments (name, version, pip_packages, conda_packages, python_version, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (name, version, json.dumps(pip), json.dumps(conda), python_version, utcnow()),
            )
        return self.get_environment(name, version)

    def get_environment(self, name: str, version: Version | str = "latest") -> EnvironmentRecord:
        wanted = parse_version("environment", name, version)
        with self.store.read() as conn:
            rows = conn.execute("SELECT * FROM environments WHERE name = ? ORDER BY version", (name,)).fetchall()
            if not rows:
                names = [r[0] for r in conn.execute("SELECT DISTINCT name FROM environments")]
                raise not_found("environment", name, names, "register it first (register_environment)")
        if wanted is None:
            return _record(rows[-1])
        for row in rows:
            if int(row["version"]) == wanted:
                return _record(row)
        raise missing_version("environment", name, wanted, [int(r["version"]) for r in rows])

    def list_environments(self) -> list[EnvironmentRecord]:
        """The latest version of every environment."""
        with self.store.read() as conn:
            rows = conn.execute(
                "SELECT e.* FROM environments e JOIN (SELECT name, MAX(version) AS v FROM environments GROUP BY name) m "
                "ON e.name = m.name AND e.version = m.v ORDER BY e.name"
            ).fetchall()
        return [_record(row) for row in rows]

    def check_environment(self, name: str, version: Version | str = "latest") -> EnvironmentCheck:
        """What this machine lacks to run the environment (``.ok``, ``.install_command``)."""
        env = self.get_environment(name, version)
        return check_requirements(env.name, env.version, env.pip_packages, env.python_version,
                                  conda=env.conda_packages)
