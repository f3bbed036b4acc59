"""No import cycle between the CLI modules, nor between the steps and the workspace package.

Each module is imported first in a fresh interpreter and what it pulls into ``sys.modules``
is checked; the import statements inside functions (run later) are checked from the source
with ``ast``.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# (module, a module it must never import, directly or through what it imports)
FORBIDDEN = [
    ("tutor.instructor.cli", "tutor.cli"),
    ("tutor.workspace", "tutor.steps.base"),
    ("tutor.steps.base", "tutor.workspace"),
]

PROBE = """
import json, sys
before = set(sys.modules)
import importlib
importlib.import_module(sys.argv[1])
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def _imported_by(module: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", PROBE, module], cwd=ROOT, capture_output=True, text=True,
                         check=True, timeout=60)
    return set(json.loads(out.stdout))


@pytest.mark.parametrize("module", ["tutor.cli", "tutor.instructor.cli", "tutor.steps.base", "tutor.workspace"])
def test_each_module_imports_first_in_a_fresh_interpreter(module: str) -> None:
    assert module in _imported_by(module)


@pytest.mark.parametrize("module, forbidden", FORBIDDEN)
def test_importing_a_module_does_not_pull_in_the_other(module: str, forbidden: str) -> None:
    assert forbidden not in _imported_by(module)


def _source(module: str) -> Path:
    path = ROOT / Path(*module.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def _all_imports(module: str) -> set[str]:
    """Every module an import statement anywhere in the file names (also inside functions and
    ``if TYPE_CHECKING:`` blocks)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(_source(module).read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("module, forbidden", FORBIDDEN[:2])
def test_no_import_statement_names_the_other_module(module: str, forbidden: str) -> None:
    hits = {name for name in _all_imports(module) if name == forbidden or name.startswith(forbidden + ".")}
    assert not hits, f"{module} imports {sorted(hits)}"


def test_the_cli_pair_is_one_way() -> None:
    assert "tutor.instructor.cli" in _all_imports("tutor.cli")
    assert not {n for n in _all_imports("tutor.instructor.cli") if n == "tutor.cli" or n.startswith("tutor.cli.")}


def test_the_steps_open_the_workspace_only_when_a_step_asks() -> None:
    """tutor.steps.base -> tutor.workspace is one way, and only inside a function (not at import)."""
    tree = ast.parse(_source("tutor.steps.base").read_text(encoding="utf-8"))
    top = {n.module for n in tree.body if isinstance(n, ast.ImportFrom)}
    assert not {m for m in top if m and m.startswith("tutor.workspace")}
