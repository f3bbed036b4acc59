"""Does this machine have what an environment asks for?

On Azure an environment is built into an image; here runs use the tutor's own Python,
so "building" means checking that the packages are installed (by their distribution
metadata, without importing them) and saying exactly what to pip install when not.

Conda specs (``numpy=1.26``) are checked as pip distributions of the same name, which
holds for the packages this course uses. ``azureml-*`` packages are Azure's own run-time
libraries: the embedded workspace stands in for them, so they are reported apart instead
of failing the run.
"""

from __future__ import annotations

import re
import sys
from typing import Any, Iterable

from tutor.workspace.base import EnvironmentCheck

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
# Packages a conda spec may list that are not Python distributions to check.
_CONDA_SKIP = {"python", "pip"}


def _conda_to_pip(spec: str) -> str:
    """``numpy=1.26`` (conda: any 1.26.x) -> ``numpy==1.26.*``; other specs unchanged."""
    match = re.fullmatch(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*=\s*([0-9][0-9A-Za-z.]*)\s*", spec)
    if match:
        return f"{match.group(1)}=={match.group(2)}.*"
    return spec


def requirement_name(spec: str) -> str:
    match = _NAME.match(spec)
    if not match:
        from tutor.errors import TutorError

        raise TutorError(f"'{spec}' is not a package requirement.", 'Write it like "scikit-learn" or "pandas>=2.1".')
    return match.group(1)


def validate_environment(name: str, pip_packages: Any, conda_packages: Any,
                         python_version: str | None) -> tuple[list[str], list[str]]:
    """The checked (pip, conda) requirements of an environment definition, as both backends
    accept them; a TutorError naming the fix for a bad name, list or Python version."""
    from tutor.errors import TutorError
    from tutor.workspace import naming

    naming.check_name(naming.ENVIRONMENT, name)
    if isinstance(pip_packages, str) or isinstance(conda_packages, str):
        raise TutorError("Packages must be a list of requirements, not one string.",
                         'Write pip_packages=["scikit-learn", "pandas"].')
    pip = validate_requirements(pip_packages)
    conda = validate_requirements(conda_packages)
    if python_version is not None and not all(p.isdigit() for p in str(python_version).split(".")):
        raise TutorError(f"'{python_version}' is not a Python version.", 'Write it like "3.11", or leave it out.')
    return pip, conda


def validate_requirements(specs: Iterable[str]) -> list[str]:
    """Check that every spec parses; return them stripped (the registration keeps them as text)."""
    clean = []
    for spec in specs:
        if not isinstance(spec, str) or not spec.strip():
            from tutor.errors import TutorError

            raise TutorError(f"Package requirement {spec!r} is empty or not text.", 'Write it like "pandas>=2.1".')
        requirement_name(spec)
        clean.append(spec.strip())
    return clean


def _installed_version(name: str) -> str | None:
    import importlib.metadata  # here, not at import: it costs ~10 ms, and opening a workspace needs none of it

    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _satisfies(spec: str, installed: str) -> bool:
    """Whether ``installed`` meets the version part of ``spec`` (True if it cannot be told)."""
    try:
        from packaging.requirements import InvalidRequirement, Requirement
        from packaging.version import InvalidVersion
    except ImportError:  # without packaging only presence is checked
        return True
    try:
        return Requirement(spec).specifier.contains(installed, prereleases=True)
    except (InvalidRequirement, InvalidVersion):
        return True


def _marker_applies(spec: str) -> bool:
    if ";" not in spec:
        return True
    try:
        from packaging.requirements import Requirement

        marker = Requirement(spec).marker
        return marker is None or marker.evaluate()
    except Exception:  # an unparseable marker: check the package anyway
        return True


def check_requirements(name: str, version: int, requirements: Iterable[str],
                       python_version: str | None = None, *, conda: Iterable[str] = ()) -> EnvironmentCheck:
    """Compare ``requirements`` (pip specs) and ``conda`` specs with this interpreter's packages."""
    found = f"{sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}"
    check = EnvironmentCheck(name=name, version=version, python_found=found)
    if python_version:
        wanted = python_version.strip().split(".")
        check.python_ok = found.split(".")[: len(wanted)] == wanted
    specs = list(requirements) + [_conda_to_pip(spec) for spec in conda]
    for spec in specs:
        package = requirement_name(spec)
        if package.lower() in _CONDA_SKIP or not _marker_applies(spec):
            continue
        if package.lower().startswith("azureml-") or package.lower().startswith("azureml_"):
            check.provided_by_workspace.append(spec)
            continue
        installed = _installed_version(package)
        if installed is None:
            check.missing.append(spec)
            continue
        check.installed[package] = installed
        if not _satisfies(spec, installed):
            check.wrong_version.append(spec)
    return check
