"""`tutor export`: a finished learner's path as a script and a notebook that really run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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


def test_the_exported_script_runs_in_the_course_folder(rehearsed, instructor, data_path: Path) -> None:
    _, scratch, _ = rehearsed
    result = instructor(["export", "--username", "rehearse", "--course-dir", str(scratch), "--format", "py"])
    assert result.returncode == 0, result.stderr
    script = scratch / "rehearse-course.py"
    assert script.exists() and "Wrote" in flat(result.stderr)
    text = script.read_text()
    assert "# %% [markdown]" in text and "https://ml.azure.com" in text
    (scratch / "data" / "green_taxi_prepared.csv").unlink()  # the script must make it again
    run = subprocess.run([sys.executable, script.name], cwd=scratch, capture_output=True, text=True, timeout=120,
                         env=tutor_env(data_path))
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    assert "Azure ML cells: skipped" in run.stdout
    assert prepared_rows(scratch) == 23222


def test_the_exported_notebook_runs_elsewhere_with_the_recorded_dataset(rehearsed, instructor, tmp_path: Path,
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
    assert all(c.startswith("# Azure ML") for c in code[1:] if "azureml" in c)
    assert "rows_final" in markdown  # what each step recorded

    # A fresh folder and no TUTOR_DATA: the setup cell uses the copy the tutor recorded for this learner.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in tutor_env(None).items() if k != "TUTOR_DATA"}
    run = subprocess.run([sys.executable, "-c", RUN_NOTEBOOK, str(notebook)], cwd=elsewhere, capture_output=True,
                         text=True, timeout=120, env=env)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    assert prepared_rows(elsewhere) == 23222
    assert (elsewhere / "green_taxi_data.parquet").exists()


def test_export_to_standard_output_is_valid_python(rehearsed, instructor) -> None:
    _, scratch, _ = rehearsed
    result = instructor(["export", "-u", "rehearse", "-C", str(scratch), "-f", "py", "-o", "-"])
    assert result.returncode == 0, result.stderr
    compile(result.stdout, "export.py", "exec")
    assert result.stdout.startswith("#!/usr/bin/env python3")


def test_cells_split_local_azure_and_shown_only_code(course, tmp_path: Path) -> None:
    cells = build_cells(make_doc(course, "alice"), course, course_dir=tmp_path)
    code = [c.source for c in cells if c.kind == "code"]
    variables = {"username": "alice", "workspace": "alice-ws", "course_dir": str(tmp_path)}
    for step in course.steps:
        python = render(step.code.get("python", ""), variables)
        if not python.strip():
            continue
        info = scan(python)
        if step.action in SHOW_ONLY_ACTIONS:
            assert not any(python.strip().splitlines()[-1].strip() in c for c in code), step.key
        elif info.imports_azure:
            assert any("if ON_AZURE:" in c and python.strip().splitlines()[-1].strip() in c for c in code), step.key
    data_steps = [s for s in course.steps if s.lesson_id == "day1-data" and s.action.startswith("data.")]
    for step in data_steps:
        last = step.code["python"].strip().splitlines()[-1]
        assert any(c.startswith(step.code["python"].strip().splitlines()[0]) and last in c for c in code), step.key
    assert "{username}" not in "".join(code) and "alice" in "".join(code)


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
