"""The course's part of the azureml SDKs (v1 and v2), on the embedded workspace.

``tutor/sdk/v1/`` is a folder of import roots, not a package: it holds an ``azureml``
package with the import paths, classes, signatures and exceptions of azureml-core 1.61
(``azureml.core``, ``azureml.core.compute``, ``azureml.core.webservice``,
``azureml.train.automl``...) for the calls the course makes, implemented over the
embedded workspace's :class:`~tutor.workspace.base.Workspace` protocol. Code written for
Azure ML runs on it unchanged, and the same code runs on Azure with the real package.

``tutor/sdk/v2/`` is the same for SDK v2: ``azure.ai.ml`` (azure-ai-ml 1.35's import paths
and signatures: ``MLClient``, ``command``, ``Input``, ``azure.ai.ml.entities``,
``azure.ai.ml.automl``...) and ``azure.identity``'s credentials, which the embedded workspace
accepts and never uses. ``azure`` and ``azure.ai`` stay namespace packages there, so the real
``azure.core`` (a dependency) serves the exceptions and pollers both SDKs raise and return.
Activation puts both roots first: the v1 track imports ``azureml``, the v2 track
``azure.ai.ml``, and neither shadows the other.

It is active only where the tutor puts it: ``tutor python``, the processes of runs on the
embedded workspace, and exported scripts run against an embedded workspace's config.json
(:func:`activate_for_config`). It never shadows an installed azureml-core when the
config.json names a real Azure workspace.

This module imports nothing heavy: activation is a change to ``sys.path``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

#: The import root that holds the embedded ``azureml`` package.
V1_ROOT = Path(__file__).resolve().parent / "v1"
#: The import root that holds the embedded ``azure.ai.ml`` and ``azure.identity`` packages.
V2_ROOT = Path(__file__).resolve().parent / "v2"
ROOTS = (V1_ROOT, V2_ROOT)
#: The modules the embedded roots provide (anything else under ``azure`` stays the real one).
_OURS = ("azureml", "azure.ai.ml", "azure.identity")
#: The embedded workspace ``Workspace.from_config()`` opens when no config.json is found
#: (set by ``tutor python`` and, as TUTOR_WORKSPACE_DIR, in runs of the embedded workspace).
WORKSPACE_ENV = "TUTOR_SDK_WORKSPACE"
RUN_WORKSPACE_ENV = "TUTOR_WORKSPACE_DIR"

__all__ = ["ROOTS", "V1_ROOT", "V2_ROOT", "WORKSPACE_ENV", "activate", "activate_for_course", "deactivate", "is_active",
           "is_embedded_config"]


def _provided(name: str) -> bool:
    return any(name == top or name.startswith(top + ".") for top in _OURS)


def _from_roots(module: object) -> bool:
    where = str(getattr(module, "__file__", "") or "")
    return any(where.startswith(str(root)) for root in ROOTS)


def _purge_azureml() -> None:
    """Forget azureml / azure.ai.ml modules imported from elsewhere, so the next import finds ours."""
    for name in [n for n in sys.modules if _provided(n)]:
        if not _from_roots(sys.modules[name]):
            del sys.modules[name]


def activate(workspace_dir: str | os.PathLike[str] | None = None, *, environ: bool = True) -> None:
    """Make ``import azureml`` find the embedded SDK in this process.

    ``workspace_dir`` is the embedded workspace that ``Workspace.from_config()`` opens when
    it finds no config.json. With ``environ`` the choice is also put in the environment
    (PYTHONPATH and TUTOR_SDK_WORKSPACE), so child processes the learner starts see the same.
    """
    roots = [str(root) for root in ROOTS]
    sys.path[:] = roots + [p for p in sys.path if p not in roots]
    _purge_azureml()
    azure = sys.modules.get("azure")
    if azure is not None and hasattr(azure, "__path__"):  # a namespace imported before: let it see ours
        try:
            azure.__path__._recalculate()  # type: ignore[attr-defined]
        except AttributeError:  # a plain list (an old-style azure/__init__.py)
            if str(V2_ROOT / "azure") not in azure.__path__:
                azure.__path__.insert(0, str(V2_ROOT / "azure"))
    if workspace_dir is not None:
        os.environ[WORKSPACE_ENV] = str(Path(workspace_dir).expanduser().resolve())
    if environ:
        os.environ["PYTHONPATH"] = pythonpath(os.environ.get("PYTHONPATH", ""))


def pythonpath(current: str = "") -> str:
    """A PYTHONPATH with the embedded roots first and the tutor's own package importable."""
    roots = [str(root) for root in ROOTS]
    paths = [p for p in current.split(os.pathsep) if p and p not in roots]
    package_parent = str(V1_ROOT.parent.parent.parent)
    if package_parent not in paths:
        paths.append(package_parent)
    return os.pathsep.join([*roots, *paths])


def deactivate() -> None:
    """Undo :func:`activate` in this process (tests; a prompt switching to Azure)."""
    roots = [str(root) for root in ROOTS]
    sys.path[:] = [p for p in sys.path if p not in roots]
    for name in [n for n in sys.modules if _provided(n)]:
        if _from_roots(sys.modules[name]):
            del sys.modules[name]
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p not in roots]
    if paths:
        os.environ["PYTHONPATH"] = os.pathsep.join(paths)
    else:
        os.environ.pop("PYTHONPATH", None)
    os.environ.pop(WORKSPACE_ENV, None)


def is_active() -> bool:
    """Whether ``import azureml`` finds (or found) the embedded SDK in this process."""
    module = sys.modules.get("azureml")
    if module is not None:
        return bool(getattr(module, "__embedded__", False))
    return str(V1_ROOT) in sys.path


def is_embedded_config(config_path: str | os.PathLike[str]) -> bool:
    """Whether a config.json reopens an embedded workspace (written by its ``write_config``)."""
    from tutor.workspace.azure.config import embedded_folder, read_config

    try:
        return embedded_folder(read_config(config_path)) is not None
    except Exception:  # unreadable: not ours to claim
        return False


def activate_for_course(start: str | os.PathLike[str] = ".",
                        workspace_dir: str | os.PathLike[str] | None = None) -> str | None:
    """Activate the embedded SDK where the code in ``start`` is meant for an embedded workspace.

    That is: the config.json ``Workspace.from_config(start)`` would read names an embedded
    workspace, or there is none and ``workspace_dir`` (a learner's workspace folder) exists.
    A config.json of an Azure workspace leaves an installed azureml-core alone. Exported
    scripts call this first. Returns what is active ("the embedded workspace NAME") or None
    when the installed azureml-core is the one to use.
    """
    from tutor.workspace.azure.config import find_config, read_config

    found = find_config(start)
    if found is not None:
        if not is_embedded_config(found):
            return None
        activate()
        return f"the embedded workspace {read_config(found).get('workspace_name') or '?'}"
    if workspace_dir is not None:
        folder = Path(start, workspace_dir).expanduser()
        if folder.is_dir():
            activate(folder)
            return f"the embedded workspace {folder.name}"
    return None
