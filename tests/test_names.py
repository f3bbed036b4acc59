"""The resource names a username must fit are read from the lessons, not from a table in the engine."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tutor.lessons import load_course
from tutor.names import course_names, learner_names, username_problem
from tutor.paths import course_resource

CLUSTER_LESSON = """
id = "extra-compute"
title = "A second cluster"
day = 2
order = 99

[[steps]]
id = "big-cluster"
title = "A cluster with a long name"
explanation = "More nodes for {username}."
action = "compute.cluster"
params = { name = "{username}-gpu-pool", max_nodes = 2 }
"""


def shipped_with(tmp_path: Path, body: str) -> object:
    extra = tmp_path / "extra.toml"
    extra.write_text(textwrap.dedent(body), encoding="utf-8")
    return load_course([*sorted(course_resource("lessons").glob("*.toml")), extra])


def test_every_resource_the_lessons_name_is_known_with_its_kind() -> None:
    names = {(n.template, n.kind) for n in course_names(load_course())}
    # Beyond the services and clusters: environments, models and every dataset the lessons register.
    for expected in [("{username}-taxi-env", "environment"), ("{username}-sklearn-env", "environment"),
                     ("{username}-taxi-model", "model"), ("{username}-automl-model", "model"),
                     ("{username}-python-regression", "model"), ("{username}-green-taxi", "dataset"),
                     ("{username}-green-taxi-auto-test", "dataset"), ("{username}-dev", "compute_instance"),
                     ("{username}rcluster", "cluster"), ("{username}-taxi-cost-pred", "service"),
                     ("{username}-taxi-experiment-automl", "experiment"), ("{username}-aks", "compute")]:
        assert expected in names, expected
    assert len(names) >= 20
    assert all("{username}" in template for template, _ in names)


def test_learner_names_are_the_templates_filled_in() -> None:
    services = learner_names(load_course(), "bob", ["service"])
    assert services == {"bob-taxi-cost-pred", "bob-taxi-aks", "bob-python-service", "bob-automl-service"}


def test_the_longest_username_fits_every_name_of_the_shipped_course() -> None:
    assert username_problem("abcdefgh") is None
    assert username_problem("a") is None


def test_a_lesson_with_a_new_resource_gets_its_name_checked(tmp_path: Path) -> None:
    course = shipped_with(tmp_path, CLUSTER_LESSON)
    # "abcdefgh-gpu-pool" has 17 characters: one more than a compute cluster may have.
    problem = username_problem("abcdefgh", course)
    assert problem is not None
    assert "'abcdefgh-gpu-pool'" in problem and "compute cluster" in problem and "2-16 characters" in problem
    assert username_problem("abcdefg", course) is None
    assert "abcdefgh-gpu-pool" in learner_names(course, "abcdefgh", ["cluster"])


def test_a_bad_username_names_the_rule_it_breaks() -> None:
    problem = username_problem("Bob")
    assert problem is not None and "'Bob' cannot be used" in problem and "lowercase" in problem
    assert username_problem("") is not None


def test_a_broken_service_is_sent_back_to_the_step_that_deploys_it(data_path: Path, course_dir: Path) -> None:
    from tutor.paths import CourseDir
    from tutor.settings import Settings
    from tutor.workspace import open_workspace
    from tutor_testing import flat, run_tutor

    started = run_tutor(["start", "--yes", "-u", "dave", "-C", str(course_dir), "--lesson", "day1-setup"],
                        data=data_path, timeout=300)
    assert started.returncode == 0, started.stdout[-2000:]
    ws = open_workspace(Settings(username="dave", course_dir=CourseDir(course_dir), workspace="local"))
    ws.record_service("dave-python-service", kind="ACI", state="Failed", properties={"reason": "init() raised"})
    result = run_tutor(["predict", "-u", "dave", "-C", str(course_dir), "--service", "dave-python-service",
                        "--data", '{"data": []}'], data=data_path)
    text = flat(result.stdout + result.stderr)
    assert result.returncode != 0
    assert "dave-python-service is Failed: init() raised" in text, text
    # The day-2 service comes from day 2's deployment step, not day 1's.
    assert "tutor reset --step day2-deploy/deploy --username dave" in text, text
