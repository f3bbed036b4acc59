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


def _learner_with_resources(course_dir: Path, user: str, clusters: list[str], services: list[str]):
    """A learner who has started (a progress file on the embedded workspace) and whose workspace
    holds these clusters and service records (a service that never started: no process to stop)."""
    from tutor.progress import Progress

    with Progress.open(course_dir / "progress" / f"{user}.json", user, workspace_name=f"{user}-ws") as progress:
        progress.set_workspace("local", f"{user}-ws")
        progress.save()
    ws = _workspace(course_dir, user)
    for name in clusters:
        ws.get_or_create_cluster(name)
    for name in services:
        ws.record_service(name, kind="ACI", state="Failed")
    return ws


def test_cleanup_is_refused_while_a_tutor_holds_the_learner(course_dir: Path) -> None:
    import subprocess
    import sys

    ws = _learner_with_resources(course_dir, "erin", ["erinrcluster"], ["erin-taxi-cost-pred"])
    path = course_dir / "progress" / "erin.json"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys; from pathlib import Path; from tutor.progress import Progress;"
         f"p = Progress.open(Path({str(path)!r}), 'erin'); print('locked', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        refused = run_tutor(["cleanup", "--yes", "-u", "erin", "-C", str(course_dir)])
        text = flat(refused.stdout + refused.stderr)
        assert refused.returncode == 4, text
        assert f"erin's progress is in use by tutor process {holder.pid}" in text
        assert "Traceback" not in text
        # Nothing was deleted under the running tutor.
        assert [s.name for s in ws.list_services()] == ["erin-taxi-cost-pred"]
        assert "erinrcluster" in [c.name for c in ws.list_compute()]
    finally:
        holder.kill()
        holder.wait()
    done = run_tutor(["cleanup", "--yes", "-u", "erin", "-C", str(course_dir)])
    assert done.returncode == 0, done.stdout + done.stderr
    assert ws.list_services() == []


def test_cleanup_removes_exactly_the_learners_own_resources(course_dir: Path) -> None:
    # bob and bob2 share one workspace (as a class on one Azure workspace does); bob also made
    # a cluster of his own by hand, which the course did not create.
    ws = _learner_with_resources(
        course_dir, "bob",
        ["bobrcluster", "bob-cluster", "bob2rcluster", "bob2-cluster", "bob-mine"],
        ["bob-taxi-cost-pred", "bob-python-service", "bob2-taxi-cost-pred", "bob2-automl-service", "bobby-taxi-aks"],
    )
    ws.get_or_create_aks("bob-aks")    # day 1's extra credit, when its code is run as shown
    ws.get_or_create_aks("bob2-aks")
    ws.create_compute_instance("bob-dev")  # the learner's own machine: stopped, never deleted
    result = run_tutor(["cleanup", "--yes", "-u", "bob", "-C", str(course_dir)])
    text = flat(result.stdout)
    assert result.returncode == 0, text
    assert sorted(s.name for s in ws.list_services()) == ["bob2-automl-service", "bob2-taxi-cost-pred", "bobby-taxi-aks"]
    left = sorted(c.name for c in ws.list_compute())
    assert left == ["bob-dev", "bob-mine", "bob2-aks", "bob2-cluster", "bob2rcluster"], left
    for gone in ("service bob-taxi-cost-pred", "service bob-python-service", "cluster bobrcluster",
                 "cluster bob-cluster", "cluster bob-aks"):
        assert gone in text, text
    assert "bob2" not in text and "bob-mine" not in text and "bob-dev" not in text


def test_the_course_names_every_resource_it_creates() -> None:
    from tutor.lessons import load_course
    from tutor.steps.deployment import course_resource_names

    services, clusters = course_resource_names(load_course(), "bob")
    assert services == {"bob-taxi-cost-pred", "bob-taxi-aks", "bob-python-service", "bob-automl-service"}
    assert clusters == {"bobrcluster", "bob-cluster", "bob-aks", "bob-dev"}
