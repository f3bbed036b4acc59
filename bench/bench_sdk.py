"""Benchmark: the embedded azureml SDK — its import, Workspace.from_config(), and the exported day 1.

1. ``import azureml.core`` of the embedded SDK in a fresh process (goal: under 0.3 s, and no
   pandas or scikit-learn imported);
2. ``Workspace.from_config()`` after the import, the first call and the median of later ones in
   a fresh process (goal: under 50 ms);
3. day 1 done with the tutor (``tutor start --yes``, the five day-1 lessons), exported with
   ``tutor export -f py``, then the exported script run offline with plain ``python`` in the
   course folder: every cell, from ``Workspace.from_config()`` to the clean-up (goal: under 30 s).

    TUTOR_DATA=../shared/data/green_taxi_data.parquet python bench/bench_sdk.py [--repeat 3]
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

DAY1 = ["day1-setup", "day1-compute", "day1-data", "day1-training", "day1-deploy"]

IMPORT = """
import sys, time
import tutor.sdk
tutor.sdk.activate(environ=False)
started = time.perf_counter()
import azureml.core
elapsed = time.perf_counter() - started
from azureml.core import Dataset, Environment, Experiment, Model, ScriptRunConfig, Workspace
from azureml.core.compute import AmlCompute, ComputeTarget
from azureml.core.webservice import AciWebservice
from azureml.train.automl import AutoMLConfig
every = time.perf_counter() - started
print(elapsed, every, any(m in sys.modules for m in ("pandas", "sklearn", "numpy")))
"""

FROM_CONFIG = """
import sys, time, statistics
import tutor.sdk
tutor.sdk.activate(environ=False)
from azureml.core import Workspace
from azureml.core import workspace as module
started = time.perf_counter()
Workspace.from_config()
first = time.perf_counter() - started
later = []
for _ in range(20):
    module._OPEN.clear()          # open the workspace again each time, as a fresh process would
    started = time.perf_counter()
    Workspace.from_config()
    later.append(time.perf_counter() - started)
print(first, statistics.median(later))
"""


def _env() -> dict[str, str]:
    # As a learner's install runs: bytecode cached (pip compiles it at install time; a shell with
    # PYTHONDONTWRITEBYTECODE would compile every module from source at each start instead).
    drop = ("PYTHONPATH", "TUTOR_SDK_WORKSPACE", "PYTHONDONTWRITEBYTECODE")
    return {k: v for k, v in os.environ.items() if k not in drop}


def _python(code: str, cwd: Path | None = None) -> list[float | str]:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), cwd=cwd,
                         check=True).stdout.split()
    return [float(x) if x[0].isdigit() else x for x in out]


def _tutor(args: list[str]) -> None:
    result = subprocess.run([sys.executable, "-m", "tutor", *args], capture_output=True, text=True,
                            env=dict(_env(), COLUMNS="120"), stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        sys.exit(f"tutor {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-2000:]}")


def exported_day1(folder: Path) -> float:
    for lesson in DAY1:
        _tutor(["start", "--yes", "-u", "bench", "-C", str(folder), "--lesson", lesson])
    script = folder / "bench-course.py"
    _tutor(["export", "-u", "bench", "-C", str(folder), "-f", "py", "-o", str(script)])
    started = time.perf_counter()
    result = subprocess.run([sys.executable, script.name], cwd=folder, capture_output=True, text=True, env=_env())
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"the exported script failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    if "azureml SDK: the embedded workspace bench-ws" not in result.stdout:
        sys.exit("the exported script did not use the embedded SDK:\n" + result.stdout[:2000])
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not os.environ.get("TUTOR_DATA"):
        sys.exit("Set TUTOR_DATA to the course dataset (e.g. ../shared/data/green_taxi_data.parquet).")

    # Once first, so the bytecode caches exist (as after pip install).
    subprocess.run([sys.executable, "-c", "import tutor.sdk; tutor.sdk.activate(environ=False); "
                    "import azureml.core.workspace, tutor.workspace.local"], env=_env(), check=True)
    imports = [_python(IMPORT) for _ in range(max(5, args.repeat))]
    times = [float(i[0]) for i in imports]
    every = [float(i[1]) for i in imports]
    heavy = any(i[2] == "True" for i in imports)
    print(f"import azureml.core: median {statistics.median(times) * 1000:.0f} ms "
          f"({min(times) * 1000:.0f}-{max(times) * 1000:.0f} ms over {len(times)}); with every class the lessons "
          f"import: median {statistics.median(every) * 1000:.0f} ms; pandas/sklearn/numpy imported: {heavy}")

    figures: dict[str, list[float]] = {"first": [], "later": [], "day1": []}
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="bench-sdk-") as tmp:
            folder = Path(tmp)
            figures["day1"].append(exported_day1(folder))
            first, later = _python(FROM_CONFIG, cwd=folder)
            figures["first"].append(float(first))
            figures["later"].append(float(later))
            from tutor.serving import stop_all

            stop_all(folder)
    print(f"Workspace.from_config(): first call median {statistics.median(figures['first']) * 1000:.1f} ms, "
          f"later calls median {statistics.median(figures['later']) * 1000:.1f} ms")
    day1 = figures["day1"]
    print(f"exported day-1 script, run offline: median {statistics.median(day1):.1f} s "
          f"({min(day1):.1f}-{max(day1):.1f} s over {len(day1)})")
    print(json.dumps({"import_s": times, "import_every_class_s": every, "from_config_first_s": figures["first"],
                      "from_config_later_s": figures["later"], "exported_day1_s": day1}))


if __name__ == "__main__":
    main()
