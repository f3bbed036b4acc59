"""Every exercise's reference solution and its checks, through the learner's path, for the whole course."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutor.lessons import load_course
import json

from tutor_testing import run_tutor


@pytest.mark.slow
def test_the_whole_course_runs_with_the_reference_solutions_typed_in(data_path: Path, course_dir: Path) -> None:
    result = run_tutor(["start", "--yes", "--exercises", "-u", "rex", "-w", "local", "-C", str(course_dir)],
                       data=data_path, timeout=1500)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "Traceback" not in result.stdout
    steps = json.loads((course_dir / "progress" / "rex.json").read_text())["steps"]
    exercises = [s.key for s in load_course().steps if s.exercise]
    assert len(exercises) >= 12
    for key in exercises:
        assert steps[key]["status"] == "done", key
        assert steps[key]["exercise"]["status"] == "solved-by-reference", key
    from tutor.workspace.local import LocalWorkspace

    ws = LocalWorkspace(course_dir / ".tutor" / "workspaces" / "rex-ws", "rex-ws", create=False)
    # The actions adopted what the solutions made: nothing was made twice.
    assert len(ws.list_runs("rex-taxi-experiment-r")) == 5
    assert len(ws.list_runs("rex-taxi-experiment-python")) == 1
    # One AutoML search, the learner's (the reference's): the step read it back, with its iterations.
    [search] = ws.list_runs("rex-taxi-experiment-automl")
    assert steps["day2-automl/run"]["evidence"]["parent_run_id"] == search.id
    assert steps["day2-automl/run"]["evidence"]["iterations"] == len(ws.get_children(search.id)) >= 2
    assert steps["day2-automl/form"]["evidence"]["settings"]["training_data"] == "rex-green-taxi-auto-train"
    # The test RMSE the reference computed in the kernel is the one the step measured.
    assert 3.0 < steps["day2-automl/evaluate"]["evidence"]["rmse"] < 4.5
    assert [d.version for d in ws.list_dataset_versions("rex-green-taxi")] == [1]
    assert [m.version for m in ws.list_models("rex-taxi-model")] == [1]
    # The last lesson's exercise deleted every service and cluster.
    assert ws.list_services() == []
