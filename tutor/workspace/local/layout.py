"""Where things are inside one embedded workspace folder.

``workspace.db``            the SQLite store (see :mod:`.store`)
``datastore/``              the default datastore ("workspaceblobstore")
``runs/<id>/``              a run: snapshot of its source folder, ``outputs/``, ``logs/std_log.txt``,
                            ``metrics.jsonl`` (written by the script), ``exit_code`` (by the wrapper)
``models/<name>/<version>/`` registered model copies
``services/<name>/``        a deployed service's files (log, pid, keys)
``scheduler.lock``          taken while queued runs are started
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DB_FILE = "workspace.db"
EXIT_FILE = "exit_code"
LOG_FILE = "logs/std_log.txt"


@dataclass(frozen=True)
class Layout:
    root: Path

    @property
    def db(self) -> Path:
        return self.root / DB_FILE

    @property
    def datastore(self) -> Path:
        return self.root / "datastore"

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    def run_dir(self, run_id: str) -> Path:
        return self.runs / run_id

    def run_log(self, run_id: str) -> Path:
        return self.run_dir(run_id) / LOG_FILE

    def exit_file(self, run_id: str) -> Path:
        return self.run_dir(run_id) / EXIT_FILE

    @property
    def models(self) -> Path:
        return self.root / "models"

    def model_dir(self, name: str, version: int) -> Path:
        return self.models / name / str(version)

    @property
    def services(self) -> Path:
        return self.root / "services"

    def service_dir(self, name: str) -> Path:
        return self.services / name

    @property
    def scheduler_lock(self) -> Path:
        return self.root / "scheduler.lock"

    def create(self) -> None:
        for folder in (self.root, self.datastore, self.runs, self.models, self.services):
            folder.mkdir(parents=True, exist_ok=True)
