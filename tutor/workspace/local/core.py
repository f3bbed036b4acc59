"""What every part of the embedded workspace shares: its folder, its store, its errors."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Iterable, Literal

from tutor.errors import TutorError
from tutor.workspace.local.layout import Layout
from tutor.workspace.local.store import Store

if TYPE_CHECKING:  # pragma: no cover - typing only
    from tutor.workspace.base import EnvironmentCheck, EnvironmentRecord, ModelRecord, RunRecord

Version = int | Literal["latest"]


class WorkspaceCore:
    """The state the topic mixins (compute, datasets, runs...) of LocalWorkspace use."""

    name: str
    layout: Layout
    store: Store

    if TYPE_CHECKING:  # pragma: no cover - typing only
        # What one topic's mixin calls on another's; LocalWorkspace combines them, and mypy
        # checks that each real definition matches the one declared here.
        def experiment(self, name: str) -> Any: ...
        def get_run(self, run_id: str) -> RunRecord: ...
        def _run_row(self, run_id: str) -> Any: ...
        def get_model(self, name: str, version: Version | str = "latest") -> ModelRecord: ...
        def get_environment(self, name: str, version: Version | str = "latest") -> EnvironmentRecord: ...
        def check_environment(self, name: str, version: Version | str = "latest") -> EnvironmentCheck: ...


def loads(text: str | None, default: Any) -> Any:
    return default if text is None else json.loads(text)


def parse_version(what: str, name: str, version: Version | str) -> int | None:
    """None for "latest", else a positive int; anything else is the learner's typo."""
    if version == "latest":
        return None
    if isinstance(version, bool):
        pass
    elif isinstance(version, int) and version >= 1:
        return version
    elif isinstance(version, str) and version.isdigit() and int(version) >= 1:
        return int(version)
    raise TutorError(
        f"'{version}' is not a version of {what} '{name}'.",
        'Versions are whole numbers starting at 1, or "latest".',
    )


def not_found(what: str, name: str, available: Iterable[str], register_hint: str) -> TutorError:
    """The error for a name that does not exist, listing what does."""
    names = sorted(set(available))
    listing = ", ".join(names[:10]) + (" ..." if len(names) > 10 else "")
    existing = f" This workspace has: {listing}." if names else f" This workspace has no {what}s yet."
    return TutorError(f"There is no {what} named '{name}'.{existing}",
                      f"Check the spelling, or {register_hint}.")


def missing_version(what: str, name: str, version: int, versions: list[int]) -> TutorError:
    return TutorError(
        f"{what.capitalize()} '{name}' has no version {version} (it has "
        + ", ".join(str(v) for v in versions) + ").",
        'Use one of those, or "latest".',
    )
