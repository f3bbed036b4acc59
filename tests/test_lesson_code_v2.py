"""Every step's SDK v2 code (azure-ai-ml) runs as written, in course order, as one notebook would.

The v2 track's counterpart of test_lesson_code: each step's code as the v2 track shows it (its
``python_v2`` form, or the one form of a step that does not use the SDK), with the learner's
username filled in, becomes one script that `tutor python` runs on a new embedded workspace,
with checks of what each step promises between the blocks. The workspace is then read
directly for what must be left in it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tutor.lessons import load_course, render, sdk_code
from tutor_testing import run_tutor, tutor_env

REPO = Path(__file__).resolve().parents[1]
USER = "nia"

CHECKS = {
    "day1-setup/connect": "assert ws.name == 'nia-ws' and ws.mlflow_tracking_uri.startswith('tutor://')",
    "day1-setup/compute-instance": "assert instance.type == 'computeinstance' and instance.state == 'Running'",
    "day1-compute/cluster": "assert cluster.provisioning_state == 'Succeeded' and cluster.type == 'amlcompute'",
    "day1-data/prepare": "assert len(df) == 23222",
    "day1-data/register": "assert data.version == '1' and data.type == 'uri_file'\n"
                          "assert ml_client.data.get('nia-green-taxi', label='latest').version == '1'",
    "day1-training/environment": "assert ml_client.environments.get('nia-taxi-env', label='latest').version == '1'",
    "day1-training/train-five": "assert [ml_client.jobs.get(j.name).status for j in jobs] == ['Completed'] * 5",
    "day1-training/compare": "assert all('R2' in m for m in metrics.values()) and best in jobs",
    "day1-training/predict-locally": "assert 5 < float(model.predict(trip)[0]) < 60",
    "day1-training/register-model": "assert (model.name, model.version) == ('nia-taxi-model', '1')",
    "day1-deploy/deploy": "assert endpoint.scoring_uri.startswith('http://127.0.0.1:')",
    "day1-deploy/call": "assert response.status_code == 200 and 5 < response.json()[0] < 60\n"
                        "assert requests.post(endpoint.scoring_uri, json.dumps(data)).status_code == 401",
    "day1-deploy/scale-out": "assert ml_client.online_deployments.get('blue', endpoint.name).instance_count == 2",
    "day1-deploy/cleanup": "assert 'nia-taxi-cost-pred' not in [e.name for e in ml_client.online_endpoints.list()]",
    "day2-python/train": "assert ml_client.jobs.get(job.name).status == 'Completed'\n"
                         "assert mlflow.get_run(job.name).data.metrics",
    "day2-deploy/call": "assert len(response.json()) == 2",
    "day2-deploy/swagger": "assert '/score' in swagger['paths']",
    "day2-deploy/rotate-key": "assert secondary != ml_client.online_endpoints.get_keys(endpoint.name).primary_key\n"
                              "assert primary == key",
    "day2-automl/run": "children = list(ml_client.jobs.list(parent_job_name=returned_job.name))\n"
                       "assert ml_client.jobs.get(returned_job.name).status == 'Completed'\n"
                       "assert best_name in [c.name for c in children]",
    "day2-automl/evaluate": "assert 2.5 < rmse < 6 and 0 < mape < 0.5",
    "day2-automl/register-model": "assert model.version == '1'",
    "day2-wrapup/cleanup": "assert list(ml_client.online_endpoints.list()) == []\n"
                           "assert not [t for t in ml_client.compute.list() if t.type == 'amlcompute']",
}


def course_script() -> tuple[str, list[str]]:
    course = load_course()
    variables = {"username": USER, "workspace": f"{USER}-ws", "course_dir": "."}
    parts, keys = [], []
    for step in course.steps:
        code = render(sdk_code(step, "v2").get("python", ""), variables).strip("\n")
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


def test_the_v2_code_imports_azure_ai_ml_and_never_azureml() -> None:
    script, _ = course_script()
    assert "from azure.ai.ml import" in script
    assert "azureml.core" not in script and "import azureml" not in script


@pytest.mark.slow
def test_the_lessons_v2_python_runs_in_course_order_on_the_embedded_workspace(tmp_path: Path,
                                                                              data_path: Path) -> None:
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
