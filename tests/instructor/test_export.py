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
