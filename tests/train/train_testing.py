"""Helpers for the training-script tests (a uniquely named module: tests/ has its own conftest)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
TRAIN_DIR = ROOT / "train"
TRAIN_SCRIPT = TRAIN_DIR / "train.py"

if str(ROOT) not in sys.path:  # tutor.prep, when the tests run from another folder
    sys.path.insert(0, str(ROOT))

# The day-2 pipeline on the prepared data: the original course's screenshot figures.
REFERENCE_TRAIN_R2 = 0.8577399618717584
REFERENCE_TEST_R2 = 0.8905551665244333

SAMPLE_TRIP = {
    "vendorID": 1,
    "passengerCount": 1,
    "tripDistance": 4.2,
    "month_num": 1,
    "day_of_month": 4,
    "day_of_week": 1,
    "hour_of_day": 18,
}


@dataclass
class TrainRun:
    """One finished ``train.py`` process and what it left behind."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    run_dir: Path
    cwd: Path
    metrics: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    lines: list[dict[str, Any]] = field(default_factory=list)

    @property
    def model_path(self) -> Path:
        return self.cwd / "outputs" / "model.pkl"


def read_metrics(path: Path) -> tuple[dict[str, Any], dict[str, str], list[dict[str, Any]]]:
    metrics: dict[str, Any] = {}
    tags: dict[str, str] = {}
    lines: list[dict[str, Any]] = []
    if path.exists():
        for text in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(text)
            lines.append(record)
            if "tag" in record:
                tags[record["tag"]] = record["value"]
            else:
                metrics[record["name"]] = record["value"]
    return metrics, tags, lines


def clean_env(**extra: str | None) -> dict[str, str]:
    """The test process's environment minus workspace variables, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in ("TUTOR_RUN_DIR", "TUTOR_WORKSPACE_DIR")}
    for key, value in extra.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run_train(args: list[str], workdir: Path, *, with_run_dir: bool = True, **env: str | None) -> TrainRun:
    """Run ``train.py`` in a fresh process, as the embedded workspace does (cwd = run folder)."""
    workdir.mkdir(parents=True, exist_ok=True)
    extra = dict(env)
    if with_run_dir:
        extra["TUTOR_RUN_DIR"] = str(workdir)
    proc = subprocess.run(
        [sys.executable, str(TRAIN_SCRIPT), *args],
        cwd=workdir,
        env=clean_env(**extra),
        capture_output=True,
        text=True,
        timeout=120,
    )
    metrics_file = workdir / "metrics.jsonl" if with_run_dir else workdir / "outputs" / "metrics.jsonl"
    metrics, tags, lines = read_metrics(metrics_file)
    return TrainRun(args, proc.returncode, proc.stdout, proc.stderr, workdir, workdir, metrics, tags, lines)


def synthetic_prepared(rows: int = 400, seed: int = 1) -> pd.DataFrame:
    """A small frame shaped like the prepared data, with a fare that depends on distance."""
    rng = np.random.default_rng(seed)
    distance = rng.uniform(0.3, 12, rows).round(2)
    frame = pd.DataFrame(
        {
            "vendorID": rng.integers(1, 3, rows),
            "passengerCount": rng.integers(1, 6, rows),
            "tripDistance": distance,
            "totalAmount": (3 + 2.8 * distance + rng.normal(0, 1.5, rows)).round(2).clip(0.5),
            "month_num": rng.integers(1, 13, rows),
            "day_of_month": rng.integers(1, 29, rows),
            "day_of_week": rng.integers(0, 7, rows),
            "hour_of_day": rng.integers(0, 24, rows),
        }
    )
    return frame


def embedded_workspace_api():
    """(load_dataset_frame, LocalWorkspace) from the embedded workspace, or a skip."""
    try:
        try:
            from tutor.workspace.local import load_dataset_frame
        except ImportError:
            from tutor.workspace.local.datasets import load_dataset_frame
        from tutor.workspace.local.workspace import LocalWorkspace
    except ImportError as exc:
        pytest.skip(f"the embedded workspace is not importable yet ({exc})")
    return load_dataset_frame, LocalWorkspace


def register_frame(LocalWorkspace, workspace_dir: Path, name: str, frame: pd.DataFrame) -> None:
    """Upload ``frame`` as a CSV and register it, as day 2 step 2 does."""
    workspace = LocalWorkspace(workspace_dir)
    source = workspace_dir.parent / "upload" / "prepped.csv"
    source.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(source, index=False)
    workspace.default_datastore.upload_files([source], target_path="data/prepped", overwrite=True)
    workspace.register_tabular_dataset(name, "data/prepped/prepped.csv", create_new_version=True)
