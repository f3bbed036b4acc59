"""Every Python code block of every lesson runs as written, in course order, as one notebook would.

A fresh folder holds what a learner on Azure starts with: a clone of the course repository
(`course/`, with its `train/` and `score/`) and the dataset. The blocks, with the learner's
username filled in, become one script that `tutor python` runs on a new embedded workspace.
Between the blocks the test puts its own checks of what each step promises (the service is
Healthy and answers with its key, the key was rotated...), so a block that runs but does the
wrong thing fails here too. The workspace is then read directly for what must be left in it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tutor.lessons import load_course, render
from tutor_testing import run_tutor, tutor_env

REPO = Path(__file__).resolve().parents[1]
USER = "nia"

# Checks run right after a step's block, in the same namespace: what the step promises.
CHECKS = {
    "day1-setup/connect": "assert ws.name == 'nia-ws'",
    "day1-setup/compute-instance": "assert instance.get_status() is not None and instance.type == 'ComputeInstance'",
    "day1-compute/cluster": "assert cluster.provisioning_state == 'Succeeded' and cluster.type == 'AmlCompute'",
    "day1-data/prepare": "assert len(df) == 23222",
    "day1-data/register": "assert data.version == 1 and data.to_pandas_dataframe().shape == (23222, 8)\n"
                          # other correct forms, as a learner might write them
                          "assert Dataset.get_by_name(ws, name='nia-green-taxi').version == 1\n"
                          "assert Dataset.get_by_name(ws, 'nia-green-taxi', version=1).id == data.id",
    "day1-training/environment": "assert ws.environments['nia-taxi-env'].version == '1'",
    "day1-training/train-five": "assert [r.get_status() for r in runs] == ['Completed'] * 5",
    "day1-training/compare": "assert all('R^2' in m for m in metrics.values()) and best in runs",
    "day1-training/predict-locally": "assert 5 < float(model.predict(trip)[0]) < 60",
    "day1-training/register-model": "assert (model.name, model.version) == ('nia-taxi-model', 1)",
    "day1-deploy/deploy": "assert service.state == 'Healthy' and service.scoring_uri.startswith('http://127.0.0.1:')",
    "day1-deploy/call": "assert response.status_code == 200 and 5 < response.json()[0] < 60\n"
                        "assert requests.post(service.scoring_uri, json.dumps(data)).status_code == 401\n"
                        "from azureml.core import Webservice\n"
                        "assert Webservice(ws, 'nia-taxi-cost-pred').run(json.dumps(data)) == response.json()\n"
                        "assert Model(ws, 'nia-taxi-model').version == Model(workspace=ws, name='nia-taxi-model', "
                        "version=1).version == 1\n"
                        "assert ComputeTarget(ws, 'niarcluster').name == cluster.name",
    "day1-deploy/scale-out": "assert aks_service.state == 'Healthy' and aks.type == 'AKS'",
    "day1-deploy/cleanup": "assert 'nia-taxi-cost-pred' not in ws.webservices and 'niarcluster' not in ws.compute_targets",
    "day2-python/train": "assert run.get_status() == 'Completed' and run.get_metrics()",
    "day2-deploy/call": "assert len(requests.post(uri, json.dumps(data), headers=headers).json()) == 2",
    "day2-deploy/swagger": "assert '/score' in swagger['paths']",
    "day2-deploy/rotate-key": "assert secondary != key and primary == key",
    "day2-automl/run": "children = list(automl_run.get_children())\n"
                       "assert automl_run.get_status() == 'Completed' and children and best_run in children",
    "day2-automl/evaluate": "assert 2.5 < rmse < 6 and 0 < mape < 0.5",
    "day2-automl/deploy": "assert service.state == 'Healthy'",
    "day2-wrapup/cleanup": "assert ws.webservices == {}\n"
                           "assert not [t for t in ws.compute_targets.values() if t.type == 'AmlCompute']",
}


def course_script() -> tuple[str, list[str]]:
    course = load_course()
    variables = {"username": USER, "workspace": f"{USER}-ws", "course_dir": "."}
    parts, keys = [], []
    for step in course.steps:
        code = render(step.code.get("python", ""), variables).strip("\n")
        if not code.strip():
            continue
        keys.append(step.key)
        parts.append(f"# ---- {step.key}\nprint('==== {step.key}', flush=True)\n{code}")
        if step.key in CHECKS:
            parts.append(CHECKS[step.key])
    return "\n\n".join(parts) + "\nprint('==== all blocks ran')\n", keys


def test_every_check_names_a_step_with_code() -> None:
    _, keys = course_script()
    assert set(CHECKS) <= set(keys)


@pytest.mark.slow
def test_the_lessons_python_runs_in_course_order_on_the_embedded_workspace(tmp_path: Path, data_path: Path) -> None:
    folder = tmp_path / "learner"
    (folder / "course").mkdir(parents=True)
    for part in ("train", "score"):
        shutil.copytree(REPO / part, folder / "course" / part)  # what `git clone` of the course gives
    (folder / "green_taxi_data.parquet").symlink_to(data_path)
    script, keys = course_script()
    (folder / "course.py").write_text(script)
    try:
        result = run_tutor(["python", "--username", USER, "--workspace", "local", "--course-dir", str(folder),
                            str(folder / "course.py")], timeout=900, env=tutor_env(data_path))
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
        assert "==== all blocks ran" in result.stdout
        assert [line[5:] for line in result.stdout.splitlines() if line.startswith("==== ") and "/" in line] == keys

        from tutor.workspace.local import LocalWorkspace

        ws = LocalWorkspace(folder / ".tutor" / "workspaces" / f"{USER}-ws", f"{USER}-ws", create=False)
        assert ws.get_environment(f"{USER}-taxi-env").version == 1
        runs = ws.list_runs(f"{USER}-taxi-experiment-r")
        assert len(runs) == 5 and all(r.status == "Completed" and "R^2" in ws.get_metrics(r.id) for r in runs)
        assert {r.tags["model"] for r in runs} == {"basic", "value", "full", "full, interactions"}
        assert [m.version for m in ws.list_models(f"{USER}-taxi-model")] == [1]
        automl = [r for r in ws.list_runs(f"{USER}-taxi-experiment-automl") if r.parent_id is None]
        assert len(automl) == 1 and automl[0].status == "Completed" and ws.get_children(automl[0].id)
        assert ws.get_model(f"{USER}-automl-model").version == 1
        assert ws.list_services() == []
    finally:
        from tutor.serving import stop_all

        stop_all(folder)
