"""Test helpers for the scoring service: deployed services as the tests see them.

A plain module (not conftest) so test files import it by a name no other test folder uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tutor import serving

REPO = Path(__file__).resolve().parents[2]
SCORE_PY = REPO / "score" / "score.py"


@dataclass
class Service:
    """A deployed service, as a test sees it."""

    folder: Path
    info: serving.ServiceInfo

    @property
    def uri(self) -> str:
        return self.info.scoring_uri

    @property
    def base(self) -> str:
        return self.info.base_uri

    def keys(self) -> tuple[str, str]:
        return serving.get_keys(self.folder)

    def auth(self, which: int = 0) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys()[which]}"}


class ServiceFactory:
    """Deploys services under one folder and deletes them all at the end."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.folders: list[Path] = []

    def deploy(self, name: str, entry: Path, model_dir: Path, *, wait: bool = True, **options: Any) -> Service:
        folder = self.root / "services" / name
        info = serving.deploy(folder, entry, model_dir, **options)
        self.folders.append(folder)
        if wait:
            info = serving.wait_for_deployment(folder, timeout=60)
        return Service(folder, info)

    def cleanup(self) -> None:
        for folder in self.folders:
            if folder.exists():
                try:
                    serving.delete(folder)
                except Exception:  # noqa: BLE001 - best effort at teardown
                    pass


def wait_for(predicate: Any, timeout: float = 15.0) -> Any:
    """Poll ``predicate`` until it returns something true (returned), or fail after ``timeout`` s."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")
