"""Deploying through the lessons, then calling the service as the course's client code and `tutor predict` do."""

from __future__ import annotations

import json
from pathlib import Path

import requests

from tutor_testing import flat, run_tutor

LESSONS = ["day1-setup", "day1-compute", "day1-data", "day1-training", "day1-deploy"]
SAMPLE = {"vendorID": 1, "passengerCount": 1, "tripDistance": 4.2, "month_num": 1, "day_of_month": 4,
          "day_of_week": 1, "hour_of_day": 18}


def _workspace(course_dir: Path, user: str):
    from tutor.workspace.local import LocalWorkspace

    return LocalWorkspace(course_dir / ".tutor" / "workspaces" / f"{user}-ws", f"{user}-ws")


def test_day1_deploys_and_the_service_answers(data_path: Path, course_dir: Path) -> None:
    for lesson in LESSONS:
        result = run_tutor(["start", "--yes", "-u", "carol", "-C", str(course_dir), "--lesson", lesson],
                           data=data_path, timeout=300)
        assert result.returncode == 0, result.stdout[-3000:]
    progress_text = (course_dir / "progress" / "carol.json").read_text()
    doc = json.loads(progress_text)
    deploy = doc["steps"]["day1-deploy/deploy"]["evidence"]
    assert deploy["state"] == "Healthy" and deploy["auth_enabled"] is True
    assert deploy["seconds_to_healthy"] < 30
    scale = doc["steps"]["day1-deploy/scale-out"]["evidence"]
    assert scale["replicas"] == 2 and scale["requests_per_s_parallel"] > 0
    # --yes keeps what the learner may still call.
    assert doc["steps"]["day1-deploy/cleanup"]["evidence"]["removed"] == []

    ws = _workspace(course_dir, "carol")
    primary, secondary = ws.service_keys("carol-taxi-cost-pred")
    assert primary not in progress_text and secondary not in progress_text  # no secret in the progress file
    uri = ws.get_service("carol-taxi-cost-pred").scoring_uri

    # The original course's client code: two rows, a Bearer key, two fares back.
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {primary}"}
    second = dict(SAMPLE, tripDistance=1.0, passengerCount=2)
    answer = requests.post(uri, json.dumps({"data": [SAMPLE, second]}), headers=headers, timeout=30)
    assert answer.status_code == 200
    fares = answer.json()
    assert len(fares) == 2 and fares[0] > fares[1] > 0
    assert requests.post(uri, json.dumps({"data": [SAMPLE]}), timeout=30).status_code == 401

    once = run_tutor(["predict", "-u", "carol", "-C", str(course_dir), "--service", "carol-taxi-cost-pred",
                      "--data", json.dumps({"data": [SAMPLE]})])
    assert once.returncode == 0, once.stderr
    outcome = json.loads(once.stdout)
    assert outcome["ok"] and abs(outcome["predictions"][0] - fares[0]) < 1e-9

    bad = run_tutor(["predict", "-u", "carol", "-C", str(course_dir), "--service", "carol-taxi-cost-pred",
                     "--data", '{"data": [{"vendorID": 1}]}'])
    assert bad.returncode == 1
    assert json.loads(bad.stdout)["status"] == 422

    # The prompt, driven without a terminal: a form with one changed field, then quit.
    repl = run_tutor(["predict", "-u", "carol", "-C", str(course_dir), "--service", "carol-taxi-cost-pred"],
                     input="\n\n\n10\n\n\n\n\n:quit\n")
    assert repl.returncode == 0, repl.stderr
    assert "Predicted total fare: $" in repl.stdout

    refused = run_tutor(["cleanup", "-u", "carol", "-C", str(course_dir)], input="n\n")
    assert refused.returncode == 1 and "Nothing was removed" in refused.stdout
    removed = run_tutor(["cleanup", "--yes", "-u", "carol", "-C", str(course_dir)])
    assert removed.returncode == 0, removed.stdout
    text = flat(removed.stdout)
    assert "service carol-taxi-cost-pred" in text and "cluster carolrcluster" in text
    assert ws.list_services() == []
    try:
        requests.post(uri, json.dumps({"data": [SAMPLE]}), headers=headers, timeout=5)
        raise AssertionError("the deleted service still answers")
    except requests.ConnectionError:
        pass
