"""`tutor export`: a finished learner's path as a script and a notebook that really run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from instructor_fixtures import make_doc, write
from tutor.instructor.export import SHOW_ONLY_ACTIONS, build_cells, scan
from tutor.lessons import render
from tutor_testing import flat, tutor_env

# Runs a notebook's code cells in order in one namespace, as Jupyter would (no Jupyter needed).
RUN_NOTEBOOK = """
import json, sys
notebook = json.load(open(sys.argv[1]))
namespace = {"__name__": "__main__"}
for number, cell in enumerate(notebook["cells"], 1):
    if cell["cell_type"] == "code":
        exec(compile("".join(cell["source"]), f"<cell {number}>", "exec"), namespace)
print("cells ran:", sum(c["cell_type"] == "code" for c in notebook["cells"]))
"""


def prepared_rows(folder: Path) -> int:
    with open(folder / "data" / "green_taxi_prepared.csv", encoding="utf-8") as handle:
        return sum(1 for _ in handle) - 1


def _workspace(scratch: Path) -> Any:
    from tutor.workspace.local import LocalWorkspace

    return LocalWorkspace(scratch / ".tutor" / "workspaces" / "rehearse-ws", "rehearse-ws", create=False)


def _runs(ws: Any, experiment: str) -> list[Any]:
    return [r for r in ws.list_runs(experiment) if r.parent_id is None]


def test_the_exported_script_runs_every_cell_on_the_embedded_workspace(rehearsed, instructor,
                                                                      data_path: Path) -> None:
    """Plain python, in the course folder of a finished course: every lesson cell runs, offline."""
    _, scratch, _ = rehearsed
    result = instructor(["export", "--username", "rehearse", "--course-dir", str(scratch), "--format", "py"])
    assert result.returncode == 0, result.stderr
    script = scratch / "rehearse-course.py"
    assert script.exists() and "Wrote" in flat(result.stderr)
    text = script.read_text()
    assert "# %% [markdown]" in text and "https://ml.azure.com" in text and "ON_AZURE" not in text
    ws = _workspace(scratch)
    before = {exp: len(_runs(ws, exp)) for exp in ("rehearse-taxi-experiment-r", "rehearse-taxi-experiment-python",
                                                   "rehearse-taxi-experiment-automl")}
    model_version = ws.get_model("rehearse-taxi-model").version
    (scratch / "data" / "green_taxi_prepared.csv").unlink()  # the script must make it again
    run = subprocess.run([sys.executable, script.name], cwd=scratch, capture_output=True, text=True, timeout=600,
                         env={k: v for k, v in tutor_env(data_path).items() if k != "PYTHONPATH"})
    try:
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        assert "azureml SDK: the embedded workspace rehearse-ws" in run.stdout
        assert prepared_rows(scratch) == 23222
        # What the cells did is in the learner's workspace.
        day1 = _runs(ws, "rehearse-taxi-experiment-r")
        assert len(day1) == before["rehearse-taxi-experiment-r"] + 5
        new = sorted(day1, key=lambda r: r.submitted_at)[-5:]
        assert all(r.status == "Completed" and "R^2" in ws.get_metrics(r.id) for r in new)
        assert ws.get_model("rehearse-taxi-model").version == model_version + 1
        assert len(_runs(ws, "rehearse-taxi-experiment-python")) == before["rehearse-taxi-experiment-python"] + 1
        automl = sorted(_runs(ws, "rehearse-taxi-experiment-automl"), key=lambda r: r.submitted_at)
        assert len(automl) == before["rehearse-taxi-experiment-automl"] + 1
        assert automl[-1].status == "Completed" and ws.get_children(automl[-1].id)
        assert "95% interval of the RMSE" in run.stdout
        assert ws.list_services() == []  # the wrap-up deleted every service
        assert not [t for t in ws.list_compute() if t.type == "AmlCompute"]
    finally:
        from tutor.serving import stop_all

        stop_all(scratch)


def test_the_exported_notebook_is_nbformat_with_every_step_in_order(rehearsed, instructor, tmp_path: Path,
                                                                   course) -> None:
    _, scratch, _ = rehearsed
    notebook = tmp_path / "take-home.ipynb"
    result = instructor(["export", "-u", "rehearse", "-C", str(scratch), "-o", str(notebook)])
    assert result.returncode == 0, result.stderr
    nb = json.loads(notebook.read_text())
    assert (nb["nbformat"], nb["nbformat_minor"]) == (4, 5)
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    ids = [c["id"] for c in nb["cells"]]
    assert len(ids) == len(set(ids))
    for cell in nb["cells"]:
        assert cell["cell_type"] in ("markdown", "code") and isinstance(cell["source"], list)
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None
    code = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    markdown = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    for step in course.steps:
        assert f"`{step.key}`" in markdown  # every finished step, in course order
    keys = [markdown.index(f"`{s.key}`") for s in course.steps]
    assert keys == sorted(keys)
    assert not any("course/train" in c for c in code) and "course/train" in markdown  # shown, not run
    assert code[0].startswith("# Setup")
    assert not any("ON_AZURE" in c for c in code)
    assert "rows_final" in markdown  # what each step recorded


def test_the_exported_setup_elsewhere_finds_the_data_and_says_what_is_missing(rehearsed, instructor,
                                                                            tmp_path: Path) -> None:
    """A fresh folder and no TUTOR_DATA: the setup cell uses the copy the tutor recorded for this learner,
    and, with no workspace here, says where to run the rest."""
    _, scratch, _ = rehearsed
    notebook = tmp_path / "take-home.ipynb"
    assert instructor(["export", "-u", "rehearse", "-C", str(scratch), "-o", str(notebook)]).returncode == 0
    nb = json.loads(notebook.read_text())
    setup = next(c for c in nb["cells"] if c["cell_type"] == "code")
    only_setup = dict(nb, cells=[setup])
    (tmp_path / "setup.ipynb").write_text(json.dumps(only_setup))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in tutor_env(None).items() if k not in ("TUTOR_DATA", "PYTHONPATH")}
    run = subprocess.run([sys.executable, "-c", RUN_NOTEBOOK, str(tmp_path / "setup.ipynb")], cwd=elsewhere,
                         capture_output=True, text=True, timeout=120, env=env)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    assert (elsewhere / "green_taxi_data.parquet").exists()
    assert "azureml SDK: azureml-core" in run.stdout and "There is no config.json here" in run.stdout


@pytest.mark.slow
def test_the_exported_notebook_runs_with_nbclient_in_a_finished_course(tmp_path: Path, data_path: Path,
                                                                       instructor) -> None:
    """A second finished course (a rehearsal of its own), its notebook executed cell by cell by a kernel."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    scratch = tmp_path / "course"
    rehearsal = subprocess.run([sys.executable, "-m", "tutor", "lessons", "rehearse", "--keep", str(scratch),
                                "--plain"], capture_output=True, text=True, timeout=900, env=tutor_env(data_path))
    try:
        assert rehearsal.returncode == 0, rehearsal.stdout[-3000:]
        notebook = scratch / "rehearse-course.ipynb"
        assert instructor(["export", "-u", "rehearse", "-C", str(scratch)]).returncode == 0
        nb = nbformat.read(notebook, as_version=4)
        import os

        saved = dict(os.environ)
        os.environ.update({k: v for k, v in tutor_env(data_path).items() if k.startswith("TUTOR_")})
        try:
            nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                    resources={"metadata": {"path": str(scratch)}}).execute()
        finally:
            os.environ.clear()
            os.environ.update(saved)
        printed = "".join(out.get("text", "") for cell in nb.cells if cell.cell_type == "code"
                          for out in cell.get("outputs", []))
        assert "azureml SDK: the embedded workspace rehearse-ws" in printed
        assert _workspace(scratch).list_services() == []
    finally:
        from tutor.serving import stop_all

        stop_all(scratch)


def test_export_to_standard_output_is_valid_python(rehearsed, instructor) -> None:
    _, scratch, _ = rehearsed
    result = instructor(["export", "-u", "rehearse", "-C", str(scratch), "-f", "py", "-o", "-"])
    assert result.returncode == 0, result.stderr
    compile(result.stdout, "export.py", "exec")
    assert result.stdout.startswith("#!/usr/bin/env python3")


def test_every_cell_is_the_lessons_code_unchanged_or_shown(course, tmp_path: Path) -> None:
    cells = build_cells(make_doc(course, "alice"), course, course_dir=tmp_path)
    code = [c.source for c in cells if c.kind == "code"]
    variables = {"username": "alice", "workspace": "alice-ws", "course_dir": str(tmp_path)}
    for step in course.steps:
        python = render(step.code.get("python", ""), variables).strip("\n")
        if not python.strip():
            continue
        if step.action in SHOW_ONLY_ACTIONS:
            assert python not in code, step.key
        else:
            assert python in code, step.key  # as the lesson writes it: the same cell runs on Azure
    assert "{username}" not in "".join(code) and "alice" in "".join(code)
    assert "activate_for_course" in code[0] and "'.tutor/workspaces/alice-ws'" in code[0]


def test_a_step_that_needs_a_skipped_step_is_shown_not_run(course, tmp_path: Path) -> None:
    keys = [s.key for s in course.steps]
    load, prepare = keys.index("day1-data/load"), keys.index("day1-data/prepare")
    doc = make_doc(course, "alice", done=prepare + 1, skipped=(load,))
    cells = build_cells(doc, course, course_dir=tmp_path)
    note = next(c.source for c in cells if "`day1-data/prepare`" in c.source)
    assert "needs `df`" in note and "```python" in note
    assert "Skipped in the tutor" in cells[0].source and "day1-data/load" in cells[0].source


def test_scan_finds_free_and_bound_names() -> None:
    info = scan("import pandas as pd\nfor run in runs:\n    run.wait()\nbest = max(runs, key=lambda r: m[r])\n"
                "df = df[df.x > 0]\n")
    assert info.free == {"runs", "m", "df", "max"} and {"pd", "best", "df", "run"} <= info.bound
    assert not info.imports_azure
    assert scan("from azureml.core import Workspace").imports_azure


@pytest.mark.parametrize("setup, args, code, message", [
    ("none", ["-u", "zed"], 4, "There is no progress for 'zed'"),
    ("fresh", ["-u", "fresh"], 1, "fresh has not finished any step yet"),
    ("half", ["-u", "half", "-o", "{dir}/out.txt"], 2, "Name the file .py or .ipynb"),
    ("half", ["-u", "Bad_Name"], 2, "cannot be used"),
    ("two", [], 2, "No username was given"),
], ids=["no-progress", "nothing-done", "bad-suffix", "bad-username", "ambiguous"])
def test_export_mistakes_are_explained(tmp_path: Path, course, setup: str, args: list[str], code: int,
                                       message: str) -> None:
    progress = tmp_path / "progress"
    if setup in ("fresh", "two"):
        write(progress, "fresh.json", make_doc(course, "fresh", done=0))
    if setup in ("half", "two"):
        write(progress, "half.json", make_doc(course, "half", done=3))
    env_user = {"USER": "Nobody_valid", "LOGNAME": "Nobody_valid"}
    result = subprocess.run([sys.executable, "-m", "tutor", "export", "-C", str(tmp_path),
                             *[a.format(dir=tmp_path) for a in args]], capture_output=True, text=True, timeout=60,
                            env={**tutor_env(None), **env_user}, stdin=subprocess.DEVNULL)
    out = flat(result.stdout + result.stderr)
    assert result.returncode == code, out
    assert message in out and "Traceback" not in out
    assert not list(tmp_path.glob("*-course.*")) and not (tmp_path / "out.txt").exists()


# -- the learner's own exercise code ------------------------------------------------------------------
MY_EXPERIMENT = ('from azureml.core import Experiment\n'
                 'exp = Experiment(ws, "{username}-taxi-experiment-r")  # my experiment\n'
                 'print("my experiment:", exp.name)')
MY_COMPARE = ('metrics = {}\n'
              'for run in runs:\n'
              '    metrics[run.id] = run.get_metrics()\n'
              'best = sorted(runs, key=lambda r: metrics[r.id]["R^2"])[-1]\n'
              'print(f"best by my code: {best.id} R^2={metrics[best.id][\'R^2\']:.4f}")')


def _own_code_doc(tmp_path: Path, course, learner: str = "alice", **make: Any) -> Path:
    """A finished learner's progress file with exercises recorded by the tutor's Progress: two solved with
    their own code, one solved with code that leaves out `ws`, one with a key typed in, one skipped, one run
    by the reference."""
    from instructor_fixtures import record_exercises

    path = write(tmp_path / "progress", f"{learner}.json", make_doc(course, learner, **make))
    record_exercises(path, learner, {
        "day1-setup/connect": {"attempts": 2, "status": "solved",
                               "code": "from azureml.core import Workspace as W\nw = W.from_config()\nprint(w.name)"},
        "day1-compute/experiment": {"attempts": 1, "status": "solved", "code": MY_EXPERIMENT.format(username=learner)},
        "day1-compute/cluster": {"attempts": 3, "hints": 2, "status": "skipped"},
        "day1-training/environment": {"status": "solved-by-reference"},
        "day1-training/compare": {"attempts": 2, "status": "solved", "code": MY_COMPARE},
        "day2-deploy/call": {"attempts": 1, "status": "solved",
                             "code": "import requests\nkey = \"***\"\nuri = service.scoring_uri\n"
                                     "response = requests.post(uri, json={'data': []}, "
                                     "headers={'Authorization': 'Bearer ' + key})"},
    })
    return path


def _code_cells_and_markdown(notebook: dict) -> tuple[list[str], str]:
    code = ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"]
    markdown = "\n".join("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "markdown")
    return code, markdown


def test_a_solved_exercise_exports_the_learners_own_code(tmp_path: Path, course, instructor) -> None:
    _own_code_doc(tmp_path, course)
    variables = {"username": "alice", "workspace": "alice-ws", "course_dir": str(tmp_path)}
    reference = {s.key: render(s.code.get("python", ""), variables).strip("\n") for s in course.steps}

    result = instructor(["export", "-u", "alice", "-C", str(tmp_path), "-o", str(tmp_path / "alice.ipynb")])
    assert result.returncode == 0, result.stderr
    code, markdown = _code_cells_and_markdown(json.loads((tmp_path / "alice.ipynb").read_text()))
    mine = {"day1-compute/experiment": MY_EXPERIMENT.format(username="alice"), "day1-training/compare": MY_COMPARE}
    for key, text in mine.items():
        cell = next(c for c in code if text in c)
        assert cell.splitlines()[0] == ("# alice's own code from the exercise, as the tutor accepted it "
                                        "(in place of the lesson's reference solution).")
        assert cell.splitlines()[1:] == text.splitlines(), key  # as they wrote it: not templated, nothing added
        assert reference[key] not in code, key  # the reference does not run too
    # Skipped, or run by the reference: the lesson's code, as before.
    assert reference["day1-compute/cluster"] in code and reference["day1-training/environment"] in code
    # Code that cannot stand in for the reference: shown, and the reference runs.
    assert reference["day1-setup/connect"] in code and not any("W.from_config()" in c for c in code)
    assert "W.from_config()" in markdown and "later cells use `ws`" in markdown
    assert reference["day2-deploy/call"] in code and 'key = "***"' in markdown
    assert "a key in it was replaced by `***`" in markdown
    assert "2 cell(s) hold alice's own code from the exercises" in markdown

    script = tmp_path / "alice.py"
    result = instructor(["export", "-u", "alice", "-C", str(tmp_path), "-o", str(script)])
    assert result.returncode == 0, result.stderr
    text = script.read_text()
    compile(text, str(script), "exec")
    assert "# %%\n# alice's own code from the exercise, as the tutor accepted it" in text
    assert MY_COMPARE in text and reference["day1-training/compare"] not in text
    assert "# " + 'key = "***"' in text  # the scrubbed code only as a comment (markdown)


def test_own_code_gets_what_its_exercise_rebuilt_when_no_earlier_cell_makes_it(tmp_path: Path, course) -> None:
    """The five runs skipped: the tutor rebuilt `runs` from the workspace for the comparison, and so does the file."""
    from tutor.progress import read_document

    keys = [s.key for s in course.steps]
    path = _own_code_doc(tmp_path, course, "bob", done=keys.index("day1-training/compare") + 1,
                         skipped=(keys.index("day1-training/train-five"),))
    cells = build_cells(read_document(path), course, course_dir=tmp_path, fmt="py")
    cell = next(c.source for c in cells if c.kind == "code" and MY_COMPARE in c.source)
    lines = cell.splitlines()
    assert lines[0].startswith("# bob's own code from the exercise")
    assert lines[1] == "# First, what the exercise built on, rebuilt from the workspace as the tutor did:"
    assert lines[2] == "runs = [r for r in exp.get_runs() if r.get_status() == 'Completed'][:5]"
    assert lines[3] == "# Then the code that was accepted:" and "\n".join(lines[4:]) == MY_COMPARE
    scan(cell)  # valid Python, and every name it uses is made before it
    assert not (scan(cell).free - set(dir(__import__("builtins"))) - {"exp"})
    compile("\n\n".join(c.source for c in cells if c.kind == "code"), "bob.py", "exec")


def test_own_code_that_uses_a_name_nothing_makes_is_shown_and_the_reference_runs(tmp_path: Path, course) -> None:
    from instructor_fixtures import record_exercises
    from tutor.progress import read_document

    path = write(tmp_path / "progress", "cy.json", make_doc(course, "cy"))
    record_exercises(path, "cy", {"day1-compute/experiment": {
        "attempts": 1, "status": "solved", "code": "exp = Experiment(my_ws, 'cy-taxi-experiment-r')"}})
    cells = build_cells(read_document(path), course, course_dir=tmp_path)
    note = next(c.source for c in cells if c.kind == "markdown" and "`day1-compute/experiment`" in c.source)
    # `Experiment` is not imported before it either (the tutor's kernel had it from the exercise before).
    assert "it uses `Experiment`, `my_ws`, which no earlier cell defines" in note
    assert not any("my_ws" in c.source for c in cells if c.kind == "code")
    assert not any("own code" in c.source for c in cells if c.kind == "code")
    assert "cell(s) hold" not in cells[0].source


@pytest.mark.slow  # runs a whole exported course a second time
def test_the_exported_script_runs_the_learners_own_code(rehearsed, data_path: Path, tmp_path: Path, course) -> None:
    """A finished course whose learner solved three exercises their own way: the script runs their code, and
    the lesson cells after it run on what it made."""
    from tutor.instructor.export import export_text
    from tutor.progress import read_document

    from instructor_fixtures import record_exercises

    _, scratch, _ = rehearsed
    copy = write(tmp_path / "progress", "rehearse.json", (scratch / "progress" / "rehearse.json").read_text())
    record_exercises(copy, "rehearse", {
        "day1-compute/experiment": {"attempts": 1, "status": "solved",
                                    "code": MY_EXPERIMENT.format(username="rehearse")},
        "day1-training/compare": {"attempts": 2, "status": "solved", "code": MY_COMPARE},
        "day2-deploy/call": {"attempts": 1, "status": "solved", "code": (
            'import json, requests\nuri = service.scoring_uri\nkey = service.get_keys()[0]\n'
            'trip = {"vendorID": 1, "passengerCount": 1, "tripDistance": 4.2, "month_num": 1, "day_of_month": 4,\n'
            '        "day_of_week": 1, "hour_of_day": 18}\n'
            'data = {"data": [trip, dict(trip, tripDistance=1.1)]}\n'
            'headers = {"Content-Type": "application/json", "Authorization": "Bearer " + key}\n'
            'response = requests.post(uri, json.dumps(data), headers=headers)\n'
            'print("my call:", response.status_code, response.json())')}})
    text, _ = export_text(read_document(copy), course, fmt="py", course_dir=scratch)
    compile(text, "own.py", "exec")
    assert text.count("# rehearse's own code from the exercise") == 3
    script = scratch / "rehearse-own-code.py"
    script.write_text(text)
    try:
        run = subprocess.run([sys.executable, script.name], cwd=scratch, capture_output=True, text=True, timeout=600,
                             env={k: v for k, v in tutor_env(data_path).items() if k != "PYTHONPATH"})
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        assert "my experiment: rehearse-taxi-experiment-r" in run.stdout
        assert "best by my code: " in run.stdout
        assert "my call: 200 [" in run.stdout
        assert "95% interval of the RMSE" in run.stdout  # the lesson cells after them ran to the end
    finally:
        script.unlink(missing_ok=True)
        from tutor.serving import stop_all

        stop_all(scratch)


def test_a_file_exercise_exports_the_steps_code_which_uses_the_learners_file(tmp_path: Path, course) -> None:
    """The scoring script is written in score/score.py itself: the export keeps the step's code, which tests it."""
    from instructor_fixtures import record_exercises
    from tutor.progress import read_document

    path = write(tmp_path / "progress", "fay.json", make_doc(course, "fay"))
    mine = blanked_score("return list(map(float, model.predict(data)))")
    record_exercises(path, "fay", {"day1-deploy/scoring-script": {"attempts": 2, "status": "solved",
                                                                  "code": mine, "file": "score/score.py"}})
    cells = build_cells(read_document(path), course, course_dir=tmp_path, fmt="py")
    source = "\n\n".join(c.source for c in cells if c.kind == "code")
    # Neither run nor shown as the step's code: it is a file in the learner's folder, not a cell.
    assert not any("list(map(float, model.predict(data)))" in c.source for c in cells)
    assert 'runpy.run_path("score/score.py"' in source
    compile(source, "fay.py", "exec")


def blanked_score(body: str) -> str:
    from tutor.exercises.spec import blanked
    from tutor.paths import course_resource

    return blanked((course_resource("score") / "score.py").read_text(encoding="utf-8"), "run", body)


@pytest.mark.slow
def test_a_v2_learners_export_runs_offline_in_azure_ai_ml(data_path: Path, course_dir: Path) -> None:
    """A learner who did the whole course on the SDK v2 track: the exported script is their course in
    azure-ai-ml (no azureml import), and plain python runs it again in the course folder, offline."""
    from tutor.workspace.local import LocalWorkspace
    from tutor_testing import run_tutor

    done = run_tutor(["start", "--yes", "--sdk", "v2", "-u", "vera", "-w", "local", "-C", str(course_dir)],
                     data=data_path, timeout=1500)
    assert done.returncode == 0, done.stdout[-3000:]
    exported = run_tutor(["export", "-u", "vera", "-C", str(course_dir), "--format", "py"], data=data_path)
    assert exported.returncode == 0, exported.stderr
    script = course_dir / "vera-course.py"
    text = script.read_text()
    assert "MLClient.from_config" in text and "ml_client.online_deployments.begin_create_or_update" in text
    assert "from azureml" not in text and "import azureml" not in text
    ws = LocalWorkspace(course_dir / ".tutor" / "workspaces" / "vera-ws", "vera-ws", create=False)
    before = len(_runs(ws, "vera-taxi-experiment-r"))
    run = subprocess.run([sys.executable, script.name], cwd=course_dir, capture_output=True, text=True, timeout=900,
                         env={k: v for k, v in tutor_env(data_path).items() if k != "PYTHONPATH"})
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "azureml SDK: the embedded workspace vera-ws" in run.stdout
    assert len(_runs(ws, "vera-taxi-experiment-r")) == before + 5
    assert "95% interval of the RMSE" in run.stdout
    assert ws.list_services() == []  # the script's own clean-up deleted its endpoints
