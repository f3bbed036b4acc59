"""tutor.fileio: an interrupted write keeps the old file whole; the lock refuses and names its holder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tutor import fileio
from tutor.fileio import FileLock, atomic_write


def test_a_failed_rename_leaves_the_old_file_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "f.json"
    atomic_write(path, "old")

    def broken(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fileio.os, "replace", broken)
    with pytest.raises(OSError, match="No space"):
        atomic_write(path, b"new")
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["f.json"]


def test_a_mode_is_set_before_the_data_is_written(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    atomic_write(path, "secret", mode=0o600)
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.read_text() == "secret"


def test_a_second_locker_is_refused_and_told_who_holds_it_then_a_dead_holders_lock_is_free(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    code = ("import sys, time\nfrom tutor.fileio import FileLock\n"
            f"FileLock({str(path)!r}, record_holder=True).acquire()\nprint('locked', flush=True)\ntime.sleep(60)\n")
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        second = FileLock(path, record_holder=True)
        assert not second.try_acquire()
        assert not second.acquire(timeout=0.1)
        assert second.holder()["pid"] == holder.pid
    finally:
        holder.kill()
        holder.wait()
    assert second.try_acquire()
    assert second.holder()["pid"] == os.getpid()
    second.release()
    assert second.holder() == {}
