"""Facts about this machine, recorded when it is registered as the learner's compute instance.

On Azure a compute instance is a VM with a known size and image; here it is the machine
the tutor runs on, so the record says what that really is: the Python, the cores, the
memory and the versions of the packages the course uses. A learner (or an instructor
reading a progress file) can then tell why a run was slow or a package was missing.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sys
from typing import Any

KEY_PACKAGES = (
    "pandas", "numpy", "pyarrow", "scikit-learn", "inference-schema", "uvicorn", "starlette",
    "requests", "typer", "rich", "azureml-core",
)


def memory_bytes() -> int | None:
    """Total physical memory, or None where the platform does not say."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return None


def package_versions(names: tuple[str, ...] = KEY_PACKAGES) -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def machine_facts() -> dict[str, Any]:
    from tutor.workspace.local.scheduler import cpu_count

    memory = memory_bytes()
    return {
        "hostname": platform.node(),
        "os": f"{platform.system()} {platform.release()}",
        "machine": platform.machine(),
        "python_version": platform.python_version(),
        "python_executable": sys.executable,
        "cpu_count": cpu_count(),
        "memory_gb": round(memory / 2**30, 1) if memory else None,
        "packages": package_versions(),
    }
