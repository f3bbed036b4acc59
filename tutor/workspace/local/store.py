"""The embedded workspace's SQLite database.

Several processes write it at once: the tutor, and every run's wrapper when the run
starts and ends. So: WAL mode (readers never block the writer), a busy timeout (writers
wait for each other instead of failing), short write transactions opened with
``BEGIN IMMEDIATE`` (the lock is taken up front, so two read-then-write transactions
cannot deadlock), and one connection per operation (safe across threads and forks).

The schema is versioned with ``PRAGMA user_version``: ``MIGRATIONS[i]`` takes a database
from version i to i+1, so a workspace made by an older tutor is upgraded in place.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from tutor.errors import TutorError

SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 30_000

MIGRATIONS: list[str] = [
    # 1: the first schema.
    """
    CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE compute (
        name TEXT PRIMARY KEY,
        type TEXT NOT NULL CHECK (type IN ('AmlCompute', 'ComputeInstance')),
        vm_size TEXT NOT NULL,
        min_nodes INTEGER NOT NULL DEFAULT 0,
        max_nodes INTEGER NOT NULL DEFAULT 1,
        idle_seconds INTEGER NOT NULL DEFAULT 0,
        state TEXT NOT NULL,
        state_message TEXT NOT NULL DEFAULT '',
        properties TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL
    );
    CREATE TABLE dataset_versions (
        name TEXT NOT NULL,
        version INTEGER NOT NULL CHECK (version >= 1),
        file_format TEXT NOT NULL,
        paths TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        tags TEXT NOT NULL DEFAULT '{}',
        row_count INTEGER NOT NULL,
        column_count INTEGER NOT NULL,
        profile TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (name, version)
    );
    CREATE TABLE environments (
        name TEXT NOT NULL,
        version INTEGER NOT NULL CHECK (version >= 1),
        pip_packages TEXT NOT NULL,
        conda_packages TEXT NOT NULL,
        python_version TEXT,
        created_at TEXT NOT NULL,
        PRIMARY KEY (name, version)
    );
    CREATE TABLE experiments (
        name TEXT PRIMARY KEY,
        created_at TEXT NOT NULL
    );
    CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        experiment TEXT NOT NULL REFERENCES experiments(name),
        seq INTEGER NOT NULL,
        status TEXT NOT NULL,
        compute TEXT NOT NULL,
        script TEXT NOT NULL,
        arguments TEXT NOT NULL,
        environment TEXT,
        environment_version INTEGER,
        tags TEXT NOT NULL DEFAULT '{}',
        display_name TEXT,
        source_directory TEXT NOT NULL,
        submitted_at TEXT NOT NULL,
        claimed_at TEXT,
        started_at TEXT,
        ended_at TEXT,
        pid INTEGER,
        pid_token TEXT,
        exit_code INTEGER,
        error TEXT,
        warnings TEXT NOT NULL DEFAULT '[]',
        metrics_offset INTEGER NOT NULL DEFAULT 0,
        metrics_lines INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX runs_by_experiment ON runs (experiment, seq);
    CREATE INDEX runs_by_compute_status ON runs (compute, status, seq);
    CREATE TABLE metrics (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        value TEXT NOT NULL,
        time TEXT NOT NULL,
        step INTEGER NOT NULL
    );
    CREATE INDEX metrics_by_run ON metrics (run_id, name, step);
    CREATE TABLE models (
        name TEXT NOT NULL,
        version INTEGER NOT NULL CHECK (version >= 1),
        file_name TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        tags TEXT NOT NULL DEFAULT '{}',
        run_id TEXT REFERENCES runs(id),
        experiment TEXT,
        size_bytes INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        PRIMARY KEY (name, version)
    );
    CREATE TABLE services (
        name TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        state TEXT NOT NULL,
        scoring_uri TEXT,
        port INTEGER,
        pid INTEGER,
        pid_token TEXT,
        models TEXT NOT NULL DEFAULT '[]',
        properties TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    """,
    # 2: runs logged from a process rather than submitted (Azure's experiment.start_logging), and
    # child runs (AutoML's iterations) under a parent run.
    """
    ALTER TABLE runs ADD COLUMN parent_id TEXT REFERENCES runs(id);
    CREATE INDEX runs_by_parent ON runs (parent_id, seq);
    """,
    # 3: AKS clusters (Azure's compute type "AKS"), which host deployed services. SQLite cannot
    # change a CHECK constraint, so the table is rebuilt (nothing references it).
    """
    CREATE TABLE compute_new (
        name TEXT PRIMARY KEY,
        type TEXT NOT NULL CHECK (type IN ('AmlCompute', 'ComputeInstance', 'AKS')),
        vm_size TEXT NOT NULL,
        min_nodes INTEGER NOT NULL DEFAULT 0,
        max_nodes INTEGER NOT NULL DEFAULT 1,
        idle_seconds INTEGER NOT NULL DEFAULT 0,
        state TEXT NOT NULL,
        state_message TEXT NOT NULL DEFAULT '',
        properties TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL
    );
    INSERT INTO compute_new (name, type, vm_size, min_nodes, max_nodes, idle_seconds, state, state_message,
                             properties, created_at)
        SELECT name, type, vm_size, min_nodes, max_nodes, idle_seconds, state, state_message, properties,
               created_at FROM compute;
    DROP TABLE compute;
    ALTER TABLE compute_new RENAME TO compute;
    """,
]


def utcnow() -> str:
    """Timestamps are ISO 8601 in UTC with microseconds: sortable as text."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _damaged(path: Path, reason: str) -> TutorError:
    return TutorError(
        f"The workspace database {path} is damaged ({reason}).",
        f"Move it aside (for example: mv '{path}' '{path}.damaged') and run the command again: "
        "a fresh, empty database is created. Nothing else in the workspace folder is touched, "
        "but its registered datasets, runs and models must be registered again.",
    )


class Store:
    """Opens connections to one workspace database and applies migrations."""

    def __init__(self, path: Path, *, check: bool = True) -> None:
        """``check`` runs ``PRAGMA integrity_check`` (the tutor does; run wrappers skip it)."""
        self.path = Path(path)
        self._prepare(check)

    # -- opening ------------------------------------------------------------------------

    def _prepare(self, check: bool) -> None:
        if self.path.exists() and self.path.stat().st_size > 0:
            with open(self.path, "rb") as handle:
                header = handle.read(len(SQLITE_HEADER))
            if header != SQLITE_HEADER:
                raise _damaged(self.path, "it is not a SQLite database")
        try:
            conn = self._connect()
            try:
                mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
                if str(mode).lower() != "wal":
                    raise TutorError(
                        f"The workspace database {self.path} cannot use write-ahead logging (mode {mode}).",
                        "Keep the course folder on a local disk (not a network share) and try again.",
                    )
                if check:
                    result = [row[0] for row in conn.execute("PRAGMA integrity_check").fetchall()]
                    if result != ["ok"]:
                        raise _damaged(self.path, "integrity check: " + "; ".join(result[:3]))
                self._migrate(conn)
            finally:
                conn.close()
        except sqlite3.OperationalError as exc:
            if "unable to open" in str(exc) or "readonly" in str(exc):
                raise TutorError(
                    f"Cannot open the workspace database {self.path} ({exc}).",
                    f"Check that the folder {self.path.parent} exists and that you may write to it.",
                ) from exc
            if "locked" in str(exc) or "busy" in str(exc):
                raise TutorError(
                    f"The workspace database {self.path} stayed busy for {BUSY_TIMEOUT_MS // 1000} s ({exc}).",
                    "Another tutor or run may be stuck writing it: wait a moment and try again.",
                ) from exc
            raise _damaged(self.path, str(exc)) from exc
        except sqlite3.DatabaseError as exc:
            raise _damaged(self.path, str(exc)) from exc

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, so transactions are explicit.
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def _migrate(self, conn: sqlite3.Connection) -> None:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version == len(MIGRATIONS):
            return
        if version > len(MIGRATIONS):
            raise TutorError(
                f"The workspace database {self.path} was written by a newer aml-tutor (schema {version}, "
                f"this one knows {len(MIGRATIONS)}).",
                "Upgrade aml-tutor (python -m pip install -U aml-tutor) and try again.",
            )
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have migrated while we waited for the lock.
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            for number in range(version, len(MIGRATIONS)):
                for statement in _split_sql(MIGRATIONS[number]):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version={number + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    # -- using ------------------------------------------------------------------------

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A connection for queries (each statement sees a consistent snapshot)."""
        conn = self._open()
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction, committed on success and rolled back on any error."""
        conn = self._open()
        try:
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:  # still locked after the busy timeout
                raise TutorError(
                    f"The workspace database {self.path} stayed busy for {BUSY_TIMEOUT_MS // 1000} s ({exc}).",
                    "Another tutor or run may be stuck writing it: wait a moment and try again, "
                    "or close other tutor windows.",
                ) from exc
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            conn.close()

    def _open(self) -> sqlite3.Connection:
        try:
            return self._connect()
        except sqlite3.DatabaseError as exc:  # pragma: no cover - the file changed under us
            raise _damaged(self.path, str(exc)) from exc

    def get_meta(self, key: str) -> str | None:
        with self.read() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta_default(self, key: str, value: str) -> str:
        """Set ``key`` unless it is set already; return the stored value."""
        with self.write() as conn:
            conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", (key, value))
            return str(conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()[0])


def _split_sql(script: str) -> list[str]:
    """Split a migration into statements (ours contain no ';' inside literals)."""
    return [part.strip() for part in script.split(";") if part.strip()]
