"""The embedded workspace's folder, database and opening rules."""

from __future__ import annotations

import json
import sys
import multiprocessing
import sqlite3
from pathlib import Path

import pytest

from tutor.errors import TutorError
from tutor.paths import CourseDir
from tutor.steps.base import Settings
from tutor.workspace import open_workspace
from tutor.workspace.local import LocalWorkspace
from tutor.workspace.local.metrics import ingest_metrics
from tutor.workspace.local.store import MIGRATIONS, Store

# Tests taking the ``workspace`` fixture pin it to the embedded backend.
local_only = pytest.mark.parametrize("backend", ["local"], indirect=True)


def test_open_workspace_local_creates_the_learners_workspace(tmp_path: Path) -> None:
    settings = Settings(username="alice", course_dir=CourseDir(tmp_path / "course"))
    ws = open_workspace(settings)
    assert ws.name == "alice-ws" and ws.kind == "local"
    root = tmp_path / "course" / ".tutor" / "workspaces" / "alice-ws"
    assert ws.get_details()["workspace_dir"] == str(root)
    for part in ("workspace.db", "datastore", "runs", "models", "services"):
        assert (root / part).exists()


def test_config_json_reopens_the_embedded_workspace(tmp_path: Path) -> None:
    ws = open_workspace(Settings(username="bob", course_dir=CourseDir(tmp_path)))
    ws.experiment("kept")
    config = ws.write_config(tmp_path / "cfg")
    data = json.loads(config.read_text())
    assert config == tmp_path / "cfg" / "config.json"
    assert set(data) == {"subscription_id", "resource_group", "workspace_name", "embedded_path"}
    assert data["workspace_name"] == "bob-ws"
    again = open_workspace(Settings(username="someone-else", course_dir=CourseDir(tmp_path / "x"),
                                    workspace=str(config)))
    assert again.name == "bob-ws"
    assert [e.name for e in again.list_experiments()] == ["kept"]
    assert ws.write_config(tmp_path / "named.json") == tmp_path / "named.json"


def test_config_problems_are_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # As on a machine without the optional extra 'azure' (azureml-core hidden).
    monkeypatch.setitem(sys.modules, "azureml", None)
    monkeypatch.setitem(sys.modules, "azureml.core", None)

    def settings(path: Path) -> Settings:
        return Settings(username="alice", course_dir=CourseDir(tmp_path), workspace=str(path))

    with pytest.raises(TutorError, match="no workspace config file"):
        open_workspace(settings(tmp_path / "missing.json"))
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(TutorError, match="not readable JSON"):
        open_workspace(settings(bad))
    azure = tmp_path / "azure.json"
    azure.write_text(json.dumps({"subscription_id": "x", "resource_group": "rg", "workspace_name": "prod"}))
    with pytest.raises(TutorError, match="Azure backend is not available") as caught:
        open_workspace(settings(azure))
    assert "--workspace local" in str(caught.value) and "azureml-core" in str(caught.value)
    gone = tmp_path / "gone.json"
    gone.write_text(json.dumps({"workspace_name": "w", "embedded_path": str(tmp_path / "nowhere")}))
    with pytest.raises(TutorError, match="no embedded workspace at"):
        open_workspace(settings(gone))


def test_workspace_names_follow_azure_rules(tmp_path: Path) -> None:
    with pytest.raises(TutorError, match="not a valid workspace name"):
        LocalWorkspace(tmp_path / "w", "a")


@local_only
def test_database_uses_wal_foreign_keys_and_the_latest_schema(workspace: LocalWorkspace) -> None:
    with workspace.store.read() as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    with pytest.raises(sqlite3.IntegrityError):
        with workspace.store.write() as conn:
            conn.execute("INSERT INTO metrics (run_id, name, value, time, step) VALUES ('nope', 'x', '1', 't', 0)")


@local_only
def test_a_database_from_a_newer_tutor_is_refused(workspace: LocalWorkspace) -> None:
    with workspace.store.write() as conn:
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    with pytest.raises(TutorError, match="newer aml-tutor"):
        Store(workspace.layout.db)


def test_a_file_that_is_not_a_database_is_named_with_the_fix(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    LocalWorkspace(root, "alice-ws").default_datastore.upload_files([_file(tmp_path)], "keep")
    (root / "workspace.db").write_bytes(b"this is not a database at all" * 100)
    for leftover in ("workspace.db-wal", "workspace.db-shm"):
        (root / leftover).unlink(missing_ok=True)
    with pytest.raises(TutorError) as caught:
        LocalWorkspace(root, "alice-ws")
    message = str(caught.value)
    assert str(root / "workspace.db") in message and "damaged" in message
    assert "Move it aside" in message
    assert (root / "datastore" / "keep" / "data.csv").exists(), "nothing else is touched"


def test_a_database_failing_its_integrity_check_is_reported(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    ws = LocalWorkspace(root, "alice-ws")
    with ws.store.write() as conn:
        conn.execute("CREATE TABLE filler (id INTEGER PRIMARY KEY, text TEXT)")
        conn.execute("CREATE INDEX filler_text ON filler (text)")
        conn.executemany("INSERT INTO filler (text) VALUES (?)", [(f"row {i}" * 20,) for i in range(3000)])
    with ws.store.read() as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray((root / "workspace.db").read_bytes())
    page = 4096
    for offset in range(len(data) // 2, len(data) // 2 + 4 * page):
        data[offset] = 0x5A
    (root / "workspace.db").write_bytes(bytes(data))
    with pytest.raises(TutorError, match="is damaged") as caught:
        LocalWorkspace(root, "alice-ws")
    assert "mv " in str(caught.value)


def _file(tmp_path: Path) -> Path:
    path = tmp_path / "data.csv"
    path.write_text("a\n1\n")
    return path


def _ingest_in_process(args: tuple[str, str, str]) -> int:
    db, run_id, run_dir = args
    total = 0
    for _ in range(20):
        total += ingest_metrics(Store(Path(db), check=False), run_id, Path(run_dir))
    return total


@local_only
def test_concurrent_ingestion_stores_each_metric_once(workspace: LocalWorkspace) -> None:
    """The tutor polling and a run's wrapper finishing may ingest at the same moment."""
    workspace.experiment("conc")
    run_dir = workspace.layout.run_dir("conc_1_00000000")
    run_dir.mkdir(parents=True)
    with workspace.store.write() as conn:
        conn.execute(
            "INSERT INTO runs (id, experiment, seq, status, compute, script, arguments, source_directory, submitted_at) "
            "VALUES ('conc_1_00000000', 'conc', 1, 'Running', 'local', 't.py', '[]', '.', 'now')"
        )
    lines = [json.dumps({"name": "loss", "value": i}) for i in range(500)]
    (run_dir / "metrics.jsonl").write_text("\n".join(lines) + "\n")
    context = multiprocessing.get_context("spawn")
    with context.Pool(4) as pool:
        stored = pool.map(_ingest_in_process, [(str(workspace.layout.db), "conc_1_00000000", str(run_dir))] * 4)
    assert sum(stored) == 500
    history = workspace.get_metrics("conc_1_00000000").history["loss"]
    assert [p.value for p in history] == list(range(500))
    assert [p.step for p in history] == list(range(500))


def test_importing_the_workspace_does_not_import_pandas() -> None:
    """The CLI imports it at start-up and every run's wrapper imports it: keep it light."""
    import subprocess
    import sys

    code = ("import sys, tutor.workspace, tutor.workspace.local, tutor.workspace.runner; "
            "print(sorted(m for m in ('pandas', 'numpy', 'sklearn', 'pyarrow') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == "[]"
