"""Every exercise's reference solution and its checks, through the learner's path, for the whole course,
on both SDK tracks: v1 (azureml-core) and v2 (azure-ai-ml), each on the embedded workspace."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tutor.lessons import load_course
from tutor_testing import run_tutor


@pytest.mark.slow
@pytest.mark.parametrize("sdk", ["v1", "v2"])
def test_the_whole_course_runs_with_the_reference_solutions_typed_in(data_path: Path, course_dir: Path,
                                                                     sdk: str) -> None:
    result = run_tutor(["start", "--yes", "--exercises", "--sdk", sdk, "-u", "rex", "-w", "local",
                        "-C", str(course_dir)], data=data_path, timeout=1500)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "Traceback" not in result.stdout
    saved = json.loads((course_dir / "progress" / "rex.json").read_text())
    assert saved["sdk"] == sdk
    steps = saved["steps"]
    exercises = [s.key for s in load_course().steps if s.exercise_for(sdk)]
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
    assert [d.version for d in ws.list_dataset_versions("rex-green-taxi-auto-train")] == [1]
    assert [m.version for m in ws.list_models("rex-taxi-model")] == [1]
    if sdk == "v2":
        # Services are managed online endpoints on this track, the learner's and the steps' own, and
        # the scale-out step gave day 1's endpoint a second instance instead of an AKS service.
        assert steps["day1-deploy/deploy"]["evidence"]["kind"] == "MIR"
        assert steps["day2-deploy/deploy"]["evidence"]["kind"] == "MIR"
        assert (steps["day1-deploy/scale-out"]["evidence"]["service_name"],
                steps["day1-deploy/scale-out"]["evidence"]["replicas"]) == ("rex-taxi-cost-pred", 2)
    # The last lesson's exercise deleted every service and cluster.
    assert ws.list_services() == []
