"""A learner's path as a runnable script or notebook (``tutor export``).

For each step the learner finished, in course order: a markdown cell with the lesson and step
title, what the step proved (its summary and evidence, as the progress file recorded them),
then the step's Python code from the lesson (``code.python``, templated with the learner's
username). A header cell says how to run it here and how to redo it on Azure ML.

The lessons' code is the code a learner would type on Azure, and it runs here as it is:

* the **setup cell** makes ``green_taxi_data.parquet`` (the name the lesson code reads) point
  at the dataset: ``$TUTOR_DATA``, the copy the tutor used for this learner (the recorded
  ``raw_data`` output) or a download from the course's address; then it chooses the azureml
  SDK: in the course folder of an embedded workspace (its config.json, or the learner's
  workspace folder) the tutor's embedded SDK (:func:`tutor.sdk.activate_for_course`), else the
  installed azureml-core and the Azure ML workspace its config.json names;
* every other cell is the lesson's code, unchanged: the same file runs offline and on Azure;
* except where the learner solved the step's **exercise**: that cell is the learner's own code
  as the tutor accepted it (the ``code`` the progress file kept), headed by a comment saying so,
  with the names the exercise rebuilt from the workspace (its ``needs``) made first when no
  earlier cell makes them. When their code cannot stand in for the reference here (it is not
  valid Python, a key in it was scrubbed, it uses a name no earlier cell makes, or it leaves out
  a name later cells use), it is shown in the markdown and the reference runs;
* **shown-only cells** go into the markdown as a code block: steps whose action is in
  :data:`SHOW_ONLY_ACTIONS`, code that is not valid Python, and code that needs a name only
  a step the learner did not finish defines.

Scripts use the "percent" cell format (``# %%``) that VS Code, PyCharm and Jupytext read as
cells; notebooks are nbformat 4 JSON written directly (no dependency).
"""

from __future__ import annotations

import ast
import builtins
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tutor import __version__

# Steps whose code is an instruction for elsewhere, not for this script: action -> why.
SHOW_ONLY_ACTIONS: dict[str, str] = {
    "scripts.copy": "it copies the scripts out of a clone of the course repository (`course/`), which is not here; "
                    "the tutor already put `train/` and `score/` in your course folder",
}

DATA_NAME = "green_taxi_data.parquet"
FORMATS = ("py", "ipynb")


@dataclass
class Cell:
    kind: str  # "markdown" or "code"
    source: str


@dataclass
class _Code:
    """What a snippet needs and defines, for the Azure/local split."""

    free: set[str]  # names used before this snippet binds them
    bound: set[str]
    imports_azure: bool


def _names_in(node: ast.AST | None) -> set[str]:
    if node is None:
        return set()
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def scan(code: str) -> _Code:
    """The free and bound names of a snippet (raises SyntaxError).

    Statements are read in order, and so are the bodies of ``if``, ``for``, ``while``, ``try``
    and ``with``: a name one branch binds before a later line uses it is not free.
    """
    found = _Code(free=set(), bound=set(), imports_azure=False)
    _scan_block(ast.parse(code).body, found)
    return found


def _scan_block(statements: list[ast.stmt], found: _Code) -> None:
    for statement in statements:
        if isinstance(statement, (ast.If, ast.While)):
            _scan_simple(statement.test, found)
            _scan_block(statement.body, found)
            _scan_block(statement.orelse, found)
        elif isinstance(statement, (ast.For, ast.AsyncFor)):
            _scan_simple(statement.iter, found)
            found.bound |= _names_in(statement.target)
            _scan_block(statement.body, found)
            _scan_block(statement.orelse, found)
        elif isinstance(statement, ast.Try):
            _scan_block(statement.body, found)
            for handler in statement.handlers:
                if handler.type is not None:
                    _scan_simple(handler.type, found)
                if handler.name:
                    found.bound.add(handler.name)
                _scan_block(handler.body, found)
            _scan_block(statement.orelse, found)
            _scan_block(statement.finalbody, found)
        elif isinstance(statement, (ast.With, ast.AsyncWith)):
            for item in statement.items:
                _scan_simple(item.context_expr, found)
                found.bound |= _names_in(item.optional_vars)
            _scan_block(statement.body, found)
        else:
            _scan_simple(statement, found)


def _scan_simple(statement: ast.AST, found: _Code) -> None:
    """One statement (or expression) at a time: its loads are free unless bound before it."""
    local: set[str] = set()  # bound before use inside the statement (loop targets, arguments, imports)
    stores: set[str] = set()
    loads: set[str] = set()
    for node in ast.walk(statement):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            found.imports_azure = found.imports_azure or any(m == "azureml" or m.startswith("azureml.")
                                                             for m in modules)
            for alias in node.names:
                local.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.Name):
            (stores if isinstance(node.ctx, ast.Store) else loads).add(node.id)
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
            local |= _names_in(node.target)
        elif isinstance(node, ast.arg):
            local.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            local.add(node.name)
        elif isinstance(node, ast.withitem):
            local |= _names_in(node.optional_vars)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            local.add(node.name)
    found.free |= loads - found.bound - local
    found.bound |= stores | local


def _fmt_value(value: Any, limit: int = 240) -> str:
    if isinstance(value, float):
        text = f"{value:.6g}"
    elif isinstance(value, (dict, list)):
        text = json.dumps(value, ensure_ascii=False)
    else:
        text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _step_markdown(step: Any, lesson: Any, entry: dict[str, Any], new_lesson: bool) -> str:
    lines = []
    if new_lesson:
        lines += [f"# Day {lesson.day} · {lesson.title}", ""]
        if lesson.summary:
            lines += [lesson.summary, ""]
    lines.append(f"## {step.title}")
    meta = [f"`{step.key}`"]
    if step.ref:
        meta.append(step.ref)
    if entry.get("finished_at"):
        meta.append(f"done {str(entry['finished_at'])[:16].replace('T', ' ')}")
    if isinstance(entry.get("duration_s"), (int, float)):
        meta.append(f"in {entry['duration_s']:g} s")
    lines += ["*" + " · ".join(meta) + "*", ""]
    if entry.get("summary"):
        lines += [str(entry["summary"]), ""]
    evidence = entry.get("evidence")
    if isinstance(evidence, dict) and evidence:
        lines.append("What the tutor recorded:")
        lines += [f"- `{key}`: {_fmt_value(value)}" for key, value in evidence.items()]
    return "\n".join(lines).rstrip()


def _fence(code: str) -> str:
    return "```python\n" + code.strip("\n") + "\n```"


def _setup_code(username: str, raw_data: str | None, workspace_dir: str | None = None) -> str:
    from tutor.dataset import URL

    default = repr(raw_data) if raw_data else repr(DATA_NAME)
    return f'''\
# Setup: the course dataset, and which azureml SDK the cells use.
import json
import os
import shutil
import urllib.request
from pathlib import Path

USERNAME = {username!r}
# The dataset: $TUTOR_DATA, else the copy the tutor used for {username}.
DATA = os.environ.get("TUTOR_DATA") or {default}
DATA_URL = {URL!r}

# The lesson code reads {DATA_NAME} from the current folder: make that name point at DATA.
if not os.path.exists({DATA_NAME!r}):
    if os.path.lexists({DATA_NAME!r}):
        os.remove({DATA_NAME!r})  # a link to a file that has moved
    if Path(DATA).is_file():
        try:
            os.symlink(Path(DATA).resolve(), {DATA_NAME!r})
        except OSError:
            shutil.copyfile(DATA, {DATA_NAME!r})
    else:
        print("Downloading the course dataset from", DATA_URL)
        urllib.request.urlretrieve(DATA_URL, {DATA_NAME!r})
Path("data").mkdir(exist_ok=True)


# The azureml SDK: where the tutor is installed and this is the course folder of an embedded
# workspace, the tutor's embedded SDK (it runs everything below offline); elsewhere (Azure ML
# studio, or a config.json of an Azure workspace) the installed azureml-core.
try:
    import tutor.sdk
except ImportError:
    SDK = "azureml-core"
else:
    SDK = tutor.sdk.activate_for_course(".", workspace_dir={workspace_dir!r}) or "azureml-core"
print("azureml SDK:", SDK)
if SDK == "azureml-core" and not any(os.path.isfile(os.path.join(folder, "config.json"))
                                     for folder in (".azureml", "aml_config", ".")):
    print("There is no config.json here: run this in your course folder (the tutor's embedded workspace), "
          "or next to the config.json of your Azure ML workspace.")
'''


def _header(doc: dict[str, Any], done: int, total: int, skipped: list[str], course_dir: Path, fmt: str,
            own: int = 0) -> str:
    name = doc["learner"]
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    run_here = "run this file with Python" if fmt == "py" else "run the cells in order (Run All)"
    lines = [
        f"# Predicting NYC green-taxi fares with Azure ML: {name}'s path",
        "",
        f"Exported by aml-tutor {__version__} on {stamp} from `progress/{name}.json`: the code of the {done} "
        f"step(s) {name} finished (of {total}), in course order, each after what the tutor recorded when it ran.",
    ]
    if own:
        lines += ["", f"{own} cell(s) hold {name}'s own code from the exercises, as the tutor accepted it, instead of "
                      "the lesson's reference solution; each starts with a comment saying so."]
    if skipped:
        lines += ["", "Skipped in the tutor, so not here: " + ", ".join(f"`{k}`" for k in skipped) + "."]
    lines += [
        "",
        "## Run it here",
        f"In your course folder (`{course_dir}`): {run_here}. The setup cell finds the dataset "
        "(`$TUTOR_DATA`, the copy the tutor used, or a download) and turns on the tutor's azureml SDK for your "
        "embedded workspace, so every cell runs as it is, offline: it submits the runs, registers the model, "
        "deploys the service and cleans up again, as the tutor did.",
        "",
        "## Redo it on Azure",
        "1. Open Azure ML studio (https://ml.azure.com), choose your workspace and open **Notebooks**; upload this "
        "file and your `train/` and `score/` folders.",
        "2. Download your workspace's `config.json` (Azure portal, the workspace's overview page, *Download "
        "config.json*) and upload it next to this file.",
        "3. Run it on a compute instance (kernel *Python 3.8 - AzureML*): the `azureml-core` SDK is installed there, "
        "and the same cells run against your workspace. The first one asks you to sign in.",
        "",
        f"On Azure the cells create real resources named after you (`{name}`...): compute and services cost money "
        "while they exist, so delete them when you are done.",
    ]
    return "\n".join(lines)


def _workspace_dir(doc: dict[str, Any]) -> str | None:
    """The learner's embedded workspace folder, relative to the course folder (None on Azure)."""
    from tutor.paths import CourseDir

    workspace = doc.get("workspace") or {}
    if workspace.get("kind") != "local" or not workspace.get("name"):
        return None
    here = CourseDir(".")
    return here.workspace(str(workspace["name"])).relative_to(here.root).as_posix()


def _entry(doc: dict[str, Any], key: str) -> dict[str, Any]:
    entry = (doc.get("steps") or {}).get(key)
    return entry if isinstance(entry, dict) else {}


# A string literal the progress file scrubbed (a key the learner typed in): the code cannot run as saved.
_SCRUBBED = re.compile(r"""(["'])\*\*\*\1""")


def learner_code(entry: dict[str, Any]) -> str | None:
    """The learner's accepted code for a step whose exercise they solved themselves, else None
    (skipped, solved by the reference, open, or no code kept). A file exercise's code is the course
    file the learner wrote (score/score.py): it stays in their folder, where the step's code uses it."""
    record = entry.get("exercise")
    if not isinstance(record, dict) or record.get("status") != "solved" or record.get("file"):
        return None
    code = record.get("code")
    return code.strip("\n") if isinstance(code, str) and code.strip() else None


def _learner_cell(mine: str, step: Any, variables: dict[str, str], defined: set[str], later: set[str],
                  reference: _Code | None, track: str = "v1") -> tuple[str | None, _Code | None, str]:
    """The learner's code as a cell (its source, its names), or None and why it cannot run here."""
    from tutor.lessons import render

    if _SCRUBBED.search(mine):
        return None, None, "a key in it was replaced by `***` when the tutor saved it"
    try:
        scan(mine)
    except SyntaxError as exc:
        return None, None, f"it is not valid Python as saved: line {exc.lineno}: {exc.msg}"
    # The names the exercise rebuilt from the workspace before the learner typed, where no earlier
    # cell makes them (the tutor's kernel had them; this file starts without).
    exercise = step.exercise_for(track)
    needs: dict[str, str] = dict(exercise.needs) if exercise is not None else {}
    chosen: set[str] = set()
    while True:
        pieces = [render(code, variables).strip("\n") for name, code in needs.items() if name in chosen]
        source = "\n".join([*pieces, mine])
        try:
            info = scan(source)
        except SyntaxError as exc:  # a lesson's needs code that does not parse
            return None, None, f"the code that rebuilds what it builds on is not valid Python: {exc.msg}"
        more = (info.free - defined) & set(needs) - chosen
        if not more:
            break
        chosen |= more
    missing = sorted(info.free - defined)
    if missing:
        return None, None, f"it uses {', '.join(f'`{n}`' for n in missing)}, which no earlier cell defines"
    lacking = sorted(((reference.bound if reference else set()) - info.bound) & later)
    if lacking:
        return None, None, (f"later cells use {', '.join(f'`{n}`' for n in lacking)}, which the reference "
                            "defines and this code does not")
    lines = [f"# {variables['username']}'s own code from the exercise, as the tutor accepted it "
             "(in place of the lesson's reference solution)."]
    if pieces:
        lines.append("# First, what the exercise built on, rebuilt from the workspace as the tutor did:")
        lines += pieces
        lines.append("# Then the code that was accepted:")
    lines.append(mine)
    return "\n".join(lines), info, ""


def done_steps(doc: dict[str, Any], course: Any) -> list[Any]:
    """The course's steps this learner has done, in course order."""
    return [step for step in course.steps if _entry(doc, step.key).get("status") == "done"]


def build_cells(doc: dict[str, Any], course: Any, *, course_dir: Path, fmt: str = "ipynb") -> list[Cell]:
    """The cells of a learner's export: a header, the setup, then each done step in course order."""
    from tutor.lessons import render, sdk_code

    def entry_of(key: str) -> dict[str, Any]:
        return _entry(doc, key)

    track = doc.get("sdk") or "v1"  # the SDK the learner's steps showed their code in

    def python_of(step: Any) -> str:
        return render(sdk_code(step, track).get("python", ""), variables)

    done = done_steps(doc, course)
    skipped = [s.key for s in course.steps if entry_of(s.key).get("status") == "skipped"]
    outputs: dict[str, Any] = {}
    for step in done:
        recorded = entry_of(step.key).get("outputs")
        if isinstance(recorded, dict):
            outputs.update(recorded)
    raw = outputs.get("raw_data")
    variables = {"username": doc["learner"], "workspace": str((doc.get("workspace") or {}).get("name", "")),
                 "course_dir": str(course_dir)}
    cells = [Cell("markdown", _header(doc, len(done), len(course.steps), skipped, course_dir, fmt)),
             Cell("code", _setup_code(doc["learner"], raw if isinstance(raw, str) else None, _workspace_dir(doc)))]

    defined = set(dir(builtins)) | scan(cells[1].source).bound
    # The names each step's code (the reference, or the learner's own) uses and binds: a learner's code
    # must keep binding what the steps after it use.
    uses: list[tuple[set[str], set[str]]] = []
    for step in done:
        used: set[str] = set()
        for snippet in (python_of(step), learner_code(entry_of(step.key)) or ""):
            try:
                used |= scan(snippet).free
            except SyntaxError:
                pass
        try:
            binds = scan(python_of(step)).bound
        except SyntaxError:
            binds = set()
        uses.append((used, binds))

    def used_later(index: int) -> set[str]:
        """The names steps after ``index`` use before one of them binds it again."""
        needed: set[str] = set()
        rebound: set[str] = set()
        for used, binds in uses[index + 1:]:
            needed |= used - rebound
            rebound |= binds
        return needed

    own = 0
    shown_lesson = None
    for index, step in enumerate(done):
        lesson = course.lesson(step.lesson_id)
        text = _step_markdown(step, lesson, entry_of(step.key), lesson.id != shown_lesson)
        shown_lesson = lesson.id
        code = python_of(step).strip("\n")
        mine = learner_code(entry_of(step.key)) if step.action not in SHOW_ONLY_ACTIONS else None
        if mine is not None:
            try:
                reference: _Code | None = scan(code)
            except SyntaxError:
                reference = None
            source, own_info, why = _learner_cell(mine, step, variables, defined, used_later(index), reference,
                                                    track)
            if source is not None and own_info is not None:
                own += 1
                defined |= own_info.bound
                cells.append(Cell("markdown", text))
                cells.append(Cell("code", source))
                continue
            text += (f"\n\n{doc['learner']}'s own code from the exercise, shown but not run ({why}); the lesson's "
                     f"reference solution stands in for it:\n\n{_fence(mine)}")
        if not code.strip():
            cells.append(Cell("markdown", text + "\n\n*This step has no Python code: the tutor ran it for you.*"))
            continue
        if step.action in SHOW_ONLY_ACTIONS:
            cells.append(Cell("markdown", f"{text}\n\nThe code, shown but not run here ({SHOW_ONLY_ACTIONS[step.action]}):"
                                          f"\n\n{_fence(code)}"))
            continue
        try:
            info = scan(code)
        except SyntaxError as exc:
            cells.append(Cell("markdown", f"{text}\n\nThe lesson's code, shown but not run (it is not valid Python as "
                                          f"written: line {exc.lineno}: {exc.msg}):\n\n{_fence(code)}"))
            continue
        missing = sorted(info.free - defined)
        if missing:
            names = ", ".join(f"`{n}`" for n in missing)
            cells.append(Cell("markdown", f"{text}\n\nThe code, shown but not run: it needs {names}, which a step "
                                          f"you did not finish defines.\n\n{_fence(code)}"))
            continue
        defined |= info.bound
        cells.append(Cell("markdown", text))
        cells.append(Cell("code", code))
    if own:
        cells[0] = Cell("markdown", _header(doc, len(done), len(course.steps), skipped, course_dir, fmt, own))
    return cells


def to_py(cells: list[Cell]) -> str:
    parts = ["#!/usr/bin/env python3"]
    for cell in cells:
        if cell.kind == "markdown":
            body = "\n".join(("# " + line).rstrip() for line in cell.source.splitlines())
            parts.append("# %% [markdown]\n" + body)
        else:
            parts.append("# %%\n" + cell.source.rstrip("\n"))
    return "\n\n".join(parts) + "\n"


def to_ipynb(cells: list[Cell]) -> str:
    nb_cells = []
    for index, cell in enumerate(cells, start=1):
        item: dict[str, Any] = {"cell_type": cell.kind, "id": f"cell-{index}", "metadata": {},
                                "source": cell.source.rstrip("\n").splitlines(keepends=True)}
        if cell.kind == "code":
            item["execution_count"] = None
            item["outputs"] = []
        nb_cells.append(item)
    notebook = {
        "cells": nb_cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"


def export_text(doc: dict[str, Any], course: Any, *, fmt: str, course_dir: Path) -> tuple[str, int]:
    """The export in ``fmt`` (``py`` or ``ipynb``) and how many steps it holds."""
    cells = build_cells(doc, course, course_dir=course_dir, fmt=fmt)
    return (to_py(cells) if fmt == "py" else to_ipynb(cells)), len(done_steps(doc, course))
