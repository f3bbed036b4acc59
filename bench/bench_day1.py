"""Benchmark: the whole of day 1, from connecting to the workspace to registering the model.

Runs the real CLI (`tutor start --yes`) on a fresh course folder, once per repetition, for the
day-1 lessons only, and reports the wall time of the whole path and of each step (from the
progress file). Goal (issue 3): under 30 s on a 2-core machine.

    TUTOR_DATA=../shared/data/green_taxi_data.parquet python bench/bench_day1.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DAY1 = ["day1-setup", "day1-compute", "day1-data", "day1-training"]


def run_once(workdir: Path) -> tuple[float, dict[str, float]]:
    env = dict(os.environ, COLUMNS="120")
    started = time.perf_counter()
    for lesson in DAY1:
        result = subprocess.run(
            [sys.executable, "-m", "tutor", "start", "--yes", "-u", "bench", "-C", str(workdir), "--lesson", lesson],
            capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL,
        )
        if result.returncode != 0:
            sys.exit(f"lesson {lesson} failed:\n{result.stdout[-3000:]}\n{result.stderr[-2000:]}")
    total = time.perf_counter() - started
    doc = json.loads((workdir / "progress" / "bench.json").read_text())
    steps = {key: entry.get("duration_s", 0.0) for key, entry in doc["steps"].items()}
    return total, steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not os.environ.get("TUTOR_DATA"):
        sys.exit("Set TUTOR_DATA to the course dataset (e.g. ../shared/data/green_taxi_data.parquet).")
    totals: list[float] = []
    per_step: dict[str, list[float]] = {}
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="bench-day1-") as tmp:
            total, steps = run_once(Path(tmp))
        totals.append(total)
        for key, seconds in steps.items():
            per_step.setdefault(key, []).append(seconds)
    print(f"day 1 through model registration, {args.repeat} run(s) on {os.cpu_count()} cores")
    print(f"  wall time: median {statistics.median(totals):.1f} s, min {min(totals):.1f} s, max {max(totals):.1f} s"
          f"  (goal: under 30 s)")
    print("  median per step (s):")
    for key, values in per_step.items():
        print(f"    {key:40s} {statistics.median(values):6.2f}")


if __name__ == "__main__":
    main()
