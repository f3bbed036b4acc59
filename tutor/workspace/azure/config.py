"""Finding and reading a workspace config.json, and whether the Azure backend can run here.

This module imports neither azureml nor anything heavy: the CLI may call
:func:`find_config` at start-up to offer the config.json it finds.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import Any

from tutor.errors import TutorError

CONFIG_FILENAME = "config.json"
# The folders Workspace.from_config looks in, in its order of priority: first `.azureml/`
# in the folder and each parent, then `aml_config/`, then the folders themselves.
CONFIG_DIRS: tuple[str | None, ...] = (".azureml", "aml_config", None)
REQUIRED_KEYS = ("subscription_id", "resource_group", "workspace_name")
MAX_PYTHON = (3, 12)  # azureml-core exists for Python < 3.12 only

INSTALL_HINT = "`pip install 'aml-tutor[azure]'` (in a checkout of the tutor: `pip install '.[azure]'`)"
#: The key by which a config.json written by an embedded workspace names its folder.
EMBEDDED_KEY = "embedded_path"


def embedded_folder(config: Any) -> Path | None:
    """The embedded workspace folder a config.json (read as a dict) names, or None when it names an
    Azure workspace. The one place that tells the two kinds of config.json apart."""
    if isinstance(config, dict) and config.get(EMBEDDED_KEY):
        return Path(str(config[EMBEDDED_KEY]))
    return None


def find_config(start: str | os.PathLike[str] = ".") -> Path | None:
    """The config.json ``Workspace.from_config(start)`` would use, or None.

    ``start`` may be the file itself. Otherwise, like the SDK, look for
    ``.azureml/config.json`` in ``start`` and then each parent, then for
    ``aml_config/config.json`` the same way, then for a plain ``config.json``.
    """
    path = Path(start).expanduser()
    if path.is_file():
        return path.resolve()
    try:
        folder = path.resolve()
    except OSError:
        return None
    chain = [folder, *folder.parents]
    for sub in CONFIG_DIRS:
        for candidate_dir in chain:
            candidate = (candidate_dir / sub / CONFIG_FILENAME) if sub else (candidate_dir / CONFIG_FILENAME)
            if candidate.is_file():
                return candidate
    return None


def read_config(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The JSON object in ``path``; a TutorError naming the fix if it is not one."""
    config_path = Path(path).expanduser()
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TutorError(f"The workspace config {config_path} is not readable JSON ({exc}).",
                         "Download config.json again from the Azure portal, or use --workspace local.") from exc
    if not isinstance(config, dict):
        raise TutorError(f"The workspace config {config_path} is not a JSON object.",
                         "Download config.json again from the Azure portal, or use --workspace local.")
    return config


def check_azure_config(config: dict[str, Any], config_path: Path | str = CONFIG_FILENAME) -> dict[str, str]:
    """The three names an Azure config must hold, as text; a TutorError listing what is missing."""
    missing = [key for key in REQUIRED_KEYS if not isinstance(config.get(key), str) or not config[key].strip()]
    if missing:
        raise TutorError(
            f"The workspace config {config_path} has no {', '.join(missing)}.",
            "Download config.json from the Azure portal (your workspace's overview page, \"Download config.json\"); "
            "it names subscription_id, resource_group and workspace_name.",
        )
    return {key: str(config[key]).strip() for key in REQUIRED_KEYS}


def azure_problem(version_info: tuple[int, ...] | None = None) -> str | None:
    """Why the Azure backend cannot run in this Python, or None when it can."""
    version = tuple((version_info or sys.version_info)[:2])
    if version >= MAX_PYTHON:
        return (f"The Azure backend is not available on Python {version[0]}.{version[1]}: it needs azureml-core, "
                "which Microsoft publishes for Python 3.11 and older only.")
    try:
        found = importlib.util.find_spec("azureml.core") is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        return ("The Azure backend is not available: it needs azureml-core, which is not installed "
                "(it is the tutor's optional extra 'azure').")
    return None


def require_azure(version_info: tuple[int, ...] | None = None) -> None:
    """Raise one TutorError saying what to install when the Azure backend cannot run."""
    problem = azure_problem(version_info)
    if problem is None:
        return
    version = tuple((version_info or sys.version_info)[:2])
    if version >= MAX_PYTHON:
        fix = ("Create a Python 3.11 environment (e.g. `python3.11 -m venv .venv`), install the tutor there with "
               f"{INSTALL_HINT}, and start it again; or learn on the embedded workspace with --workspace local.")
    else:
        fix = f"Install it with {INSTALL_HINT}, or use --workspace local."
    raise TutorError(problem, fix)
