"""The learner's own scripts: edits are kept, a broken train.py fails its runs clearly, a fix runs again."""

from __future__ import annotations

import json
from pathlib import Path

from tutor_testing import flat, run_tutor


def _progress(course_dir: Path, user: str) -> dict:
    return json.loads((course_dir / "progress" / f"{user}.json").read_text())


def test_an_edited_script_is_kept_unless_the_learner_says_replace(data_path: Path, course_dir: Path) -> None:
    start = ["start", "-u", "erin", "-w", "local", "-C", str(course_dir), "--lesson", "day1-setup"]
    assert run_tutor([*start, "--yes"], data=data_path).returncode == 0
    train = course_dir / "train" / "train.py"
    edited = train.read_text() + "\n# my change\n"
    train.write_text(edited)

    assert run_tutor(["reset", "--yes", "-u", "erin", "-C", str(course_dir), "--step", "get-scripts"]).returncode == 0
    again = run_tutor([*start, "--yes"], data=data_path)
    assert again.returncode == 0
    assert train.read_text() == edited  # --yes answers "replace?" with its default: no
    evidence = _progress(course_dir, "erin")["steps"]["day1-setup/get-scripts"]["evidence"]
    assert evidence["kept_files"] == ["train/train.py"]

    assert run_tutor(["reset", "--yes", "-u", "erin", "-C", str(course_dir), "--step", "get-scripts"]).returncode == 0
    # Interactive: run the step (Enter) and answer yes to replacing the edited file.
    replaced = run_tutor([*start[:-2], "--lesson", "day1-setup", "--plain"], data=data_path, input="\ny\n")
    assert replaced.returncode == 0, replaced.stdout[-2000:]
    assert "# my change" not in train.read_text()


def test_a_broken_train_py_fails_with_its_log_and_a_fix_runs_again(data_path: Path, course_dir: Path) -> None:
    for lesson in ("day1-setup", "day1-compute", "day1-data"):
        assert run_tutor(["start", "--yes", "-u", "finn", "-C", str(course_dir), "--lesson", lesson],
                         data=data_path).returncode == 0
    train = course_dir / "train" / "train.py"
    original = train.read_text()
    train.write_text("raise SystemExit('something is wrong in my training script')\n")
    failed = run_tutor(["start", "--yes", "-u", "finn", "-C", str(course_dir), "--lesson", "day1-training"],
                       data=data_path, timeout=300)
    assert failed.returncode == 1
    out = flat(failed.stdout)
    assert "runs did not complete" in out
    assert "something is wrong in my training script" in out  # the log tail is shown
    assert "Traceback (most recent call last)" not in failed.stderr
    entry = _progress(course_dir, "finn")["steps"]["day1-training/train-five"]
    assert entry["status"] == "failed" and entry["failures"] == 1

    train.write_text(original)
    fixed = run_tutor(["start", "--yes", "-u", "finn", "-C", str(course_dir), "--lesson", "day1-training"],
                      data=data_path, timeout=300)
    assert fixed.returncode == 0, fixed.stdout[-3000:]
    evidence = _progress(course_dir, "finn")["steps"]["day1-training/train-five"]["evidence"]
    assert evidence["completed"] == 5 and evidence["reattached"] == 0  # failed runs are submitted again
