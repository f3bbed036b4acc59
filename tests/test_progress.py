"""The progress file: atomic writes, the lock, damaged and foreign files, versions, secrets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

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

        monkeypatch.setattr(progress_mod.os, "replace", broken_replace)
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
