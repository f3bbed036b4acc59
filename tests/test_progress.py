"""The progress file: atomic writes, the lock, damaged and foreign files, versions, secrets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tutor import fileio
from tutor import progress as progress_mod
from tutor.errors import ProgressError
from tutor.progress import SCHEMA_VERSION, Progress, read_document, scrub


def open_progress(path: Path, user: str = "alice", **kw) -> Progress:
    return Progress.open(path, user, workspace_kind="local", workspace_name=f"{user}-ws", **kw)


def test_a_finished_step_is_on_disk_at_once(tmp_path: Path) -> None:
    path = tmp_path / "progress" / "alice.json"
    with open_progress(path) as progress:
        progress.mark_running("l/a")
        assert read_document(path)["steps"]["l/a"]["status"] == "running"
        progress.mark_done("l/a", evidence={"rows": 1}, outputs={"x": 2}, duration_s=0.5)
        doc = read_document(path)
    assert doc["steps"]["l/a"]["status"] == "done"
    assert doc["steps"]["l/a"]["evidence"] == {"rows": 1}
    assert doc["schema_version"] == SCHEMA_VERSION
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def test_a_failed_write_leaves_the_old_file_intact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "alice.json"
    with open_progress(path) as progress:
        progress.mark_done("l/a", evidence={}, outputs={}, duration_s=1)
        before = path.read_text()

        def broken_replace(src, dst):
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(fileio.os, "replace", broken_replace)
        with pytest.raises(ProgressError, match="No space left"):
            progress.mark_done("l/b", evidence={}, outputs={}, duration_s=1)
    assert path.read_text() == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_secrets_never_reach_the_file(tmp_path: Path) -> None:
    path = tmp_path / "alice.json"
    with open_progress(path) as progress:
        progress.mark_done(
            "l/deploy",
            evidence={"primary_key": "abc123SECRET", "scoring_uri": "http://127.0.0.1:1/score",
                      "nested": {"api-key": "zzzSECRET", "token": "tttSECRET"}, "keys_file": "/x/keys.json"},
            outputs={"password": "pwSECRET", "service": "alice-svc"},
            duration_s=1,
        )
    text = path.read_text()
    assert "SECRET" not in text
    doc = json.loads(text)
    assert doc["steps"]["l/deploy"]["evidence"]["keys_file"] == "/x/keys.json"
    assert doc["steps"]["l/deploy"]["outputs"]["service"] == "alice-svc"
    assert scrub({"key": "k", "key_count": 2}) == {"key": "***", "key_count": 2}


def test_step_ids_that_end_in_key_are_not_taken_for_secrets(tmp_path: Path) -> None:
    path = tmp_path / "alice.json"
    with open_progress(path) as progress:
        progress.mark_done("day2-deploy/rotate-key", evidence={"old_key_status": 401}, outputs={}, duration_s=1)
    doc = read_document(path)
    assert doc["steps"]["day2-deploy/rotate-key"]["evidence"] == {"old_key_status": 401}


def test_a_second_holder_is_refused_and_told_who_holds_it(tmp_path: Path) -> None:
    path = tmp_path / "alice.json"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from pathlib import Path; from tutor.progress import Progress;"
         f"p = Progress.open(Path({str(path)!r}), 'alice'); print('locked', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(ProgressError) as caught:
            open_progress(path)
        assert f"tutor process {holder.pid}" in caught.value.what
        assert "alice's progress is in use" in caught.value.what
    finally:
        holder.kill()
        holder.wait()
    # The holder died: its lock died with it.
    with open_progress(path) as progress:
        progress.save()


def test_a_damaged_file_names_itself_and_the_backup(tmp_path: Path) -> None:
    path = tmp_path / "alice.json"
    with open_progress(path) as progress:
        progress.mark_done("l/a", evidence={"n": 1}, outputs={}, duration_s=1)
        progress.mark_done("l/b", evidence={"n": 2}, outputs={}, duration_s=1)
    good = path.read_text()
    path.write_text(good[: len(good) // 2])  # cut short, as a crash mid-copy would
    with pytest.raises(ProgressError) as caught:
        open_progress(path)
    assert str(path) in caught.value.what and "damaged" in caught.value.what
    backup = path.with_name("alice.json.bak")
    assert str(backup) in caught.value.fix
    # The backup is a good copy that can be restored as the message says.
    restored = json.loads(backup.read_text())
    assert restored["steps"]["l/a"]["status"] == "done"


def test_a_future_version_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "alice.json"
    with open_progress(path) as progress:
        progress.save()
    doc = json.loads(path.read_text())
    doc["schema_version"] = SCHEMA_VERSION + 1
    path.write_text(json.dumps(doc))
    before = path.read_text()
    with pytest.raises(ProgressError, match="newer aml-tutor"):
        open_progress(path)
    assert path.read_text() == before


def test_an_older_version_is_migrated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "alice.json"
    with open_progress(path) as progress:
        progress.mark_done("l/a", evidence={}, outputs={}, duration_s=1)
    doc = json.loads(path.read_text())
    # Pretend the current format is one newer, with a migration that renames a field.
    doc["steps"]["l/a"]["time_spent"] = doc["steps"]["l/a"].pop("time_spent_s")
    path.write_text(json.dumps(doc))

    def rename(old: dict) -> dict:
        for entry in old["steps"].values():
            entry["time_spent_s"] = entry.pop("time_spent")
        return old

    monkeypatch.setattr(progress_mod, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    monkeypatch.setitem(progress_mod.MIGRATIONS, SCHEMA_VERSION, rename)
    migrated = read_document(path)
    assert migrated["schema_version"] == SCHEMA_VERSION + 1
    assert migrated["steps"]["l/a"]["time_spent_s"] == 1.0


@pytest.mark.parametrize("content", ['{"hello": "world"}', "[1, 2, 3]", '{"format": "aml-tutor-progress"}'])
def test_foreign_json_is_refused_clearly(tmp_path: Path, content: str) -> None:
    path = tmp_path / "alice.json"
    path.write_text(content)
    with pytest.raises(ProgressError) as caught:
        open_progress(path)
    assert str(path) in caught.value.what


def test_someone_elses_file(tmp_path: Path) -> None:
    path = tmp_path / "bob.json"
    with open_progress(path, "alice") as progress:
        progress.save()
    with pytest.raises(ProgressError, match="belongs to 'alice'"):
        open_progress(path, "bob")


def test_lock_file_is_released(tmp_path: Path) -> None:
    path = tmp_path / "alice.json"
    for _ in range(3):
        with open_progress(path) as progress:
            progress.save()
    assert os.path.exists(path)


def _started(path: Path) -> str:
    """A learner with two finished steps (so a .bak exists); returns the good file's text."""
    with open_progress(path) as progress:
        progress.set_workspace("local", "alice-ws")
        progress.mark_done("day1-setup/connect", evidence={"workspace": "alice-ws"}, outputs={}, duration_s=1)
        progress.mark_done("day1-setup/write-config", evidence={"config_path": "x"}, outputs={}, duration_s=1)
    return path.read_text()


@pytest.mark.parametrize("entry", [None, [], ["done"], "done", 3], ids=["null", "empty-list", "list", "string", "number"])
def test_a_step_entry_that_is_not_an_object_is_refused_by_status_and_start(tmp_path: Path, entry) -> None:
    from tutor_testing import flat, run_tutor

    course = tmp_path / "course"
    path = course / "progress" / "alice.json"
    _started(path)
    backup = path.with_name("alice.json.bak")
    good_backup = backup.read_text()
    doc = json.loads(path.read_text())
    doc["steps"]["day1-setup/connect"] = entry
    path.write_text(json.dumps(doc))
    damaged = path.read_text()
    for command in (["status"], ["status", "--json"], ["start", "--yes"], ["reset", "--yes", "--all"]):
        result = run_tutor([command[0], "-u", "alice", "-C", str(course), *command[1:]])
        out = flat(result.stdout + result.stderr)
        assert result.returncode == 4, (command, out)
        assert "Traceback" not in out
        assert "day1-setup/connect" in out and str(backup) in out, out
        # Nothing written: the damaged file stays for a look, the last good copy stays good.
        assert path.read_text() == damaged
        assert backup.read_text() == good_backup
    assert json.loads(good_backup)["steps"]["day1-setup/connect"]["status"] == "done"


@pytest.mark.parametrize("field, value", [("status", 7), ("status", "finished"), ("evidence", []), ("outputs", "x"),
                                          ("attempts", "two"), ("partial", [1])])
def test_a_step_entry_with_a_wrong_field_is_refused(tmp_path: Path, field: str, value) -> None:
    path = tmp_path / "alice.json"
    _started(path)
    doc = json.loads(path.read_text())
    doc["steps"]["day1-setup/connect"][field] = value
    path.write_text(json.dumps(doc))
    with pytest.raises(ProgressError) as caught:
        open_progress(path)
    assert "day1-setup/connect" in caught.value.what and field in caught.value.what


@pytest.mark.parametrize("field, value", [("workspace", []), ("workspace", "local"), ("current_step", 3),
                                          ("sdk", "v3"), ("sdk", 2)])
def test_a_document_with_a_wrong_field_is_refused(tmp_path: Path, field: str, value) -> None:
    path = tmp_path / "alice.json"
    _started(path)
    doc = json.loads(path.read_text())
    doc[field] = value
    path.write_text(json.dumps(doc))
    with pytest.raises(ProgressError, match=field):
        read_document(path)


def test_a_damaged_file_is_never_copied_over_the_last_good_copy(tmp_path: Path) -> None:
    path = tmp_path / "alice.json"
    with open_progress(path) as progress:
        progress.mark_done("l/a", evidence={}, outputs={}, duration_s=1)
        progress.mark_done("l/b", evidence={}, outputs={}, duration_s=1)
        good = path.read_text()
        # Someone edits the file by hand under the running tutor: valid JSON, not a progress file.
        doc = json.loads(good)
        doc["steps"]["l/a"] = None
        path.write_text(json.dumps(doc))
        progress.mark_done("l/c", evidence={}, outputs={}, duration_s=1)
    assert json.loads(path.with_name("alice.json.bak").read_text())["steps"]["l/a"] is not None


def test_a_failed_attempts_evidence_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "alice.json"
    with open_progress(path) as progress:
        progress.mark_running("l/a")
        progress.keep_unmet("l/a", evidence={"max_nodes": 4, "primary_key": "SECRET"}, unmet=["max_nodes == 3"])
        progress.mark_failed("l/a", error="not done", duration_s=1)
        entry = read_document(path)["steps"]["l/a"]
        assert entry["status"] == "failed" and entry["evidence"] == {"max_nodes": 4, "primary_key": "***"}
        assert entry["unmet"] == ["max_nodes == 3"]
        progress.mark_running("l/a")
        assert "unmet" not in read_document(path)["steps"]["l/a"]  # a new attempt
        progress.mark_done("l/a", evidence={"max_nodes": 3}, outputs={}, duration_s=1)
        entry = read_document(path)["steps"]["l/a"]
    assert entry["evidence"] == {"max_nodes": 3} and "unmet" not in entry
