"""The evidence checks: progress that does not hang together is flagged; real progress is not."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from instructor_fixtures import NOW, iso, make_doc, write
from tutor.instructor.evidence import check_document, implausible_metrics
from tutor.progress import read_document


def kinds(flags) -> list[tuple[str, str | None]]:
    return [(f.kind, f.step) for f in flags]


def test_a_generated_finished_learner_passes(course) -> None:
    assert check_document(make_doc(course, "ok", key_evidence=True), course, now=NOW) == []


def test_the_real_rehearsed_learner_passes(rehearsed, course) -> None:
    _, scratch, _ = rehearsed
    doc = read_document(scratch / "progress" / "rehearse.json")
    assert check_document(doc, course) == []


def test_done_without_its_evidence(course) -> None:
    doc = make_doc(course, "x")
    step = next(s for s in course.steps if s.done_when)
    check = step.done_when[0]
    doc["steps"][step.key]["evidence"] = {}
    other = next(s for s in course.steps if s.done_when and s.key != step.key)
    del doc["steps"][other.key]["evidence"]
    flags = check_document(doc, course, now=NOW)
    assert kinds(flags) == [("no-evidence", step.key), ("no-evidence", other.key)]
    message = next(f.message for f in flags if f.step == step.key)
    assert check.source in message
    assert "no evidence recorded" in next(f.message for f in flags if f.step == other.key)


def test_skipped_steps_need_no_evidence(course) -> None:
    doc = make_doc(course, "x", done=4, skipped=(0, 1, 2))
    assert check_document(doc, course, now=NOW) == []


@pytest.mark.parametrize("evidence, fragment", [
    ({"R^2": 1.7}, "R^2 = 1.7 is not a plausible R^2"),
    ({"runs": {"4 full": {"R^2": -0.2}}}, "runs.4 full.R^2 = -0.2"),
    ({"Test accuracy": 2.0}, "Test accuracy = 2"),
    ({"best_r2": 1.01}, "best_r2"),
    ({"rmse": -2.0}, "rmse = -2 is not a plausible RMSE"),
    ({"RMSE Test": 1e6}, "RMSE Test = 1e+06"),
    ({"mape": -0.1}, "MAPE"),
    ({"spearman": 1.5}, "Spearman"),
    ({"r2_by_run": [0.8, 3.0]}, "r2_by_run[1] = 3"),
    ({"rows": float("nan")}, "rows is nan"),
])
def test_implausible_metrics(evidence: dict, fragment: str) -> None:
    problems = implausible_metrics(evidence)
    assert len(problems) == 1 and fragment in problems[0], problems


def test_plausible_metrics_and_unrelated_numbers_pass() -> None:
    assert implausible_metrics({"R^2": 0.89, "RMSE Test": 3.3, "Train accuracy": 0.85, "spearman": -0.3,
                                "rows": 23222, "prediction": 18.8, "bytes": 1231324, "flag": True,
                                "values": {"1 basic": 0.88}}) == []


def test_times_out_of_order(course) -> None:
    doc = make_doc(course, "x", done=3)
    first, second, third = (s.key for s in course.steps[:3])
    entry = doc["steps"][first]
    entry["finished_at"] = iso(NOW - timedelta(days=3))  # before it started
    doc["steps"][second]["started_at"] = "last tuesday"
    doc["steps"][third]["finished_at"] = iso(NOW + timedelta(days=1))  # in the future, and after updated_at
    flags = check_document(doc, course, now=NOW)
    messages = {(f.step, f.message) for f in flags if f.kind == "time-order"}
    assert any(step == first and "before it started" in m for step, m in messages)
    assert any(step == second and "not a date" in m for step, m in messages)
    assert any(step == third and "in the future" in m for step, m in messages)
    assert any(step == third and "last written" in m for step, m in messages)


def test_a_step_before_the_file_was_created_and_updated_before_created(course) -> None:
    doc = make_doc(course, "x", done=1)
    doc["created_at"] = iso(NOW)
    doc["updated_at"] = iso(NOW - timedelta(hours=1))
    flags = check_document(doc, course, now=NOW)
    assert any(f.step is None and "before created_at" in f.message for f in flags)
    assert any(f.step == course.steps[0].key and "before the file was created" in f.message for f in flags)


def test_a_training_step_done_too_fast(course) -> None:
    training = next((s for s in course.steps if s.action == "training.submit"), None)
    if training is None:
        pytest.skip("the course has no training.submit step")
    doc = make_doc(course, "x")
    doc["steps"][training.key]["duration_s"] = 0.01
    doc["steps"][training.key]["time_spent_s"] = 0.01
    flags = check_document(doc, course, now=NOW)
    assert kinds(flags) == [("too-fast", training.key)]
    assert "0.01 s" in flags[0].message
    # After an exercise the action only found the learner's runs: the time was the exercise's.
    doc["steps"][training.key]["exercise"] = {"status": "solved", "attempts": 1, "time_spent_s": 40.0}
    assert check_document(doc, course, now=NOW) == []
    doc["steps"][training.key]["exercise"] = {"status": "open", "attempts": 1, "time_spent_s": 40.0}
    assert kinds(check_document(doc, course, now=NOW)) == [("too-fast", training.key)]


def test_inconsistent_counters(course) -> None:
    doc = make_doc(course, "x", done=2)
    first, second = (s.key for s in course.steps[:2])
    doc["steps"][first]["attempts"] = 0
    doc["steps"][second].update(failures=5, attempts=2, duration_s=10.0, time_spent_s=1.0)
    doc["steps"]["gone/step"] = "not an object"
    messages = [f.message for f in check_document(doc, course, now=NOW) if f.kind == "inconsistent"]
    assert any("never attempted" in m for m in messages)
    assert any("5 failures in 2 attempts" in m for m in messages)
    assert any("time_spent_s (1) is less than" in m for m in messages)
    assert any("not a JSON object" in m for m in messages)


def test_class_check_lists_every_flag_and_exits_1(instructor, class_dir: Path) -> None:
    table = instructor(["class", "check", str(class_dir), "--now", iso(NOW)])
    assert table.returncode == 1, table.stderr
    assert "odd" in table.stdout and "implausible" in table.stdout and "no-evidence" in table.stdout
    result = instructor(["class", "check", str(class_dir), "--format", "json", "--now", iso(NOW)])
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert {f["learner"] for f in data["flags"]} == {"odd"}
    assert {f["kind"] for f in data["flags"]} == {"no-evidence", "implausible", "time-order"}
    assert data["learners_checked"] == 6


def test_class_check_passes_a_clean_class(instructor, tmp_path: Path, course) -> None:
    write(tmp_path, "a.json", make_doc(course, "a"))
    write(tmp_path, "b.json", make_doc(course, "b", done=3))
    result = instructor(["class", "check", str(tmp_path), "--now", iso(NOW)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All 2 learner(s) pass the evidence checks" in result.stdout


def test_a_step_running_again_keeps_its_old_finish_without_a_flag(course) -> None:
    doc = make_doc(course, "x", done=2)
    entry = doc["steps"][course.steps[1].key]
    entry.update(status="running", attempts=2, started_at=doc["updated_at"])  # finished_at is the earlier run's
    assert check_document(doc, course, now=NOW) == []
