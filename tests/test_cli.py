"""The command line as a learner and a script use it: real processes, no terminal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tutor_testing import flat, run_tutor, tutor_env

COMMANDS = [[], ["start"], ["status"], ["lessons"], ["lessons", "check"], ["lessons", "rehearse"], ["reset"],
            ["data"], ["class"], ["class", "report"], ["class", "check"], ["export"], ["review"]]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "tutor")
def test_help_of_every_command(command: list[str]) -> None:
    result = run_tutor([*command, "--help"])
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout


def test_version() -> None:
    from tutor import __version__

    result = run_tutor(["--version"])
    assert result.returncode == 0
    assert result.stdout.strip() == f"aml-tutor {__version__}"


def test_help_does_not_import_pandas_or_sklearn() -> None:
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from tutor.cli import app\n"
        "r = CliRunner().invoke(app, ['--help'])\n"
        "assert r.exit_code == 0, r.output\n"
        "r = CliRunner().invoke(app, ['lessons'])\n"
        "assert r.exit_code == 0, r.output\n"
        "heavy = [m for m in ('pandas', 'sklearn', 'numpy', 'azureml', 'pyarrow') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=tutor_env(None))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_python_dash_m_works() -> None:
    result = subprocess.run([sys.executable, "-m", "tutor", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "start" in result.stdout


@pytest.mark.parametrize("bad", ["Alice", "averyverylongname", "9lives", "al_ice"])
def test_a_bad_username_is_explained(bad: str, course_dir: Path) -> None:
    result = run_tutor(["start", "--yes", "--username", bad, "--course-dir", str(course_dir)])
    assert result.returncode == 2
    out = flat(result.stdout + result.stderr)
    assert f"'{bad}' cannot be used" in out
    assert "Traceback" not in out
    assert not (course_dir / "progress").exists()


def test_unknown_lesson_is_explained(course_dir: Path) -> None:
    result = run_tutor(["start", "--yes", "-u", "alice", "-C", str(course_dir), "--lesson", "nope"])
    assert result.returncode == 3
    assert "There is no lesson 'nope'" in flat(result.stdout)
    assert "Traceback" not in result.stdout + result.stderr


def test_missing_workspace_config_is_explained(course_dir: Path) -> None:
    result = run_tutor(["start", "--yes", "-u", "alice", "-C", str(course_dir), "--workspace", "/no/config.json"])
    assert result.returncode == 2
    assert "no such config file" in flat(result.stdout)


def test_status_without_progress(course_dir: Path) -> None:
    result = run_tutor(["status", "-u", "alice", "-C", str(course_dir)])
    assert result.returncode == 4
    assert "There is no progress for 'alice'" in flat(result.stderr)
    assert "tutor start --username alice" in flat(result.stderr)


def test_offline_without_data_says_how_to_point_at_a_copy(course_dir: Path) -> None:
    result = run_tutor(["start", "--yes", "-u", "alice", "-C", str(course_dir), "--lesson", "day1-data"])
    assert result.returncode == 1
    out = flat(result.stdout)
    assert "Could not download the course dataset" in out
    assert "--data PATH or TUTOR_DATA=PATH" in out
    doc = json.loads((course_dir / "progress" / "alice.json").read_text())
    assert doc["steps"]["day1-data/load"]["status"] == "failed"


def test_wrong_data_file_is_refused(course_dir: Path, tmp_path: Path) -> None:
    fake = tmp_path / "fake.parquet"
    fake.write_bytes(b"not the data")
    result = run_tutor(["start", "--yes", "-u", "alice", "-C", str(course_dir), "--lesson", "day1-data",
                        "--data", str(fake)])
    assert result.returncode == 1
    assert "is not the course's dataset" in flat(result.stdout)


def test_reset_needs_exactly_one_target(course_dir: Path) -> None:
    result = run_tutor(["reset", "-u", "alice", "-C", str(course_dir)])
    assert result.returncode == 2
    assert "exactly one of --step ID, --lesson ID or --all" in flat(result.stdout)


def test_data_command_with_a_local_copy(data_path: Path) -> None:
    result = run_tutor(["data", "--data", str(data_path)])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(data_path)


def _unwritable_folders(tmp_path: Path) -> list[tuple[str, Path]]:
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder")
    folders = [("/proc/self", Path("/proc/self")), ("under a file", a_file / "course")]
    if os.geteuid() != 0:  # root writes through permissions
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o555)
        folders.append(("read-only", locked))
    return folders


@pytest.mark.parametrize("command", [["start", "--yes", "--lesson", "day1-setup"], ["reset", "--yes", "--all"],
                                     ["cleanup", "--yes"], ["status"]], ids=lambda c: c[0])
def test_an_unwritable_course_folder_is_explained(command: list[str], tmp_path: Path) -> None:
    for label, folder in _unwritable_folders(tmp_path):
        result = run_tutor([command[0], "-u", "alice", "-C", str(folder), *command[1:]])
        out = flat(result.stdout + result.stderr)
        assert "Traceback" not in out, (label, out)
        assert result.returncode == 4, (label, out)
        if command[0] == "start":
            assert "cannot be written" in out and "--course-dir" in out, (label, out)


def test_an_unknown_sdk_track_is_explained(course_dir: Path) -> None:
    result = run_tutor(["start", "--yes", "-u", "alice", "-C", str(course_dir), "--sdk", "v3"])
    assert result.returncode == 2
    out = flat(result.stdout)
    assert "--sdk v3: there is no such SDK track" in out and "--sdk v2 (azure-ai-ml)" in out
    assert not (course_dir / "progress").exists()


def test_the_sdk_track_is_kept_in_the_progress_file_until_changed(course_dir: Path) -> None:
    first = run_tutor(["start", "--yes", "-u", "alice", "-C", str(course_dir), "--lesson", "day1-setup", "--sdk", "v2"])
    assert first.returncode == 0, first.stdout[-2000:]
    out = flat(first.stdout)
    assert "SDK v2 (azure-ai-ml)" in out and "The code (Python · SDK v2)" in out
    assert "MLClient.from_config" in out and "from azureml.core import Workspace" not in out
    doc = json.loads((course_dir / "progress" / "alice.json").read_text())
    assert doc["sdk"] == "v2"
    again = run_tutor(["start", "--yes", "-u", "alice", "-C", str(course_dir), "--lesson", "day1-setup"])
    assert "SDK v2 (azure-ai-ml)" in flat(again.stdout)
    back = run_tutor(["start", "--yes", "-u", "alice", "-C", str(course_dir), "--lesson", "day1-setup", "--sdk", "v1"])
    assert "SDK v1 (azureml-core)" in flat(back.stdout)
    assert json.loads((course_dir / "progress" / "alice.json").read_text())["sdk"] == "v1"
