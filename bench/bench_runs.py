"""Benchmark: run overhead and cluster concurrency on the embedded workspace.

Measures, on a fresh temporary workspace:

1. one run submitted alone: wall time from submit to Completed, and how much of it is
   the workspace's overhead (process start, snapshot, status bookkeeping) rather than
   the script's own time (which the script logs as a metric);
2. N runs (default 5) submitted at once to a cluster with max_nodes M (default 3): total
   wall time, compared with N times the single run. A cluster runs at most
   min(M, CPU count) runs at once, so on 2 cores the five runs go two at a time.

The default script sleeps (waiting on I/O) and then computes (CPU), like a small
training run. ``--source/--script`` plug in a real training folder instead.

    python bench/bench_runs.py                      # the built-in script
    python bench/bench_runs.py --runs 5 --nodes 3 --sleep 1.0 --work 0.5
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

from tutor.workspace.base import RunStatus, ScriptRunConfig  # noqa: E402
from tutor.workspace.local import LocalWorkspace  # noqa: E402
from tutor.workspace.local.scheduler import cpu_count  # noqa: E402

SCRIPT = '''
import datetime, json, os, sys, time

def log_metric(name, value):
    with open(os.path.join(os.environ["TUTOR_RUN_DIR"], "metrics.jsonl"), "a") as handle:
        handle.write(json.dumps({"name": name, "value": value,
                                 "time": datetime.datetime.now(datetime.timezone.utc).isoformat()}) + "\\n")

sleep_s, work_s = float(sys.argv[1]), float(sys.argv[2])
started = time.perf_counter()
time.sleep(sleep_s)                      # waiting, like reading data
deadline = time.perf_counter() + work_s  # computing, like fitting a model
total = 0
while time.perf_counter() < deadline:
    total += sum(i * i for i in range(10_000))
log_metric("script seconds", time.perf_counter() - started)
log_metric("checksum", total % 1000)
'''


def write_source(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bench_train.py").write_text(textwrap.dedent(SCRIPT))
    return folder


def run_batch(ws: LocalWorkspace, count: int, config: ScriptRunConfig) -> tuple[float, list[float]]:
    """Submit ``count`` runs at once; (wall seconds until all completed, script seconds of each)."""
    started = time.perf_counter()
    ids = [ws.submit("bench", config).id for _ in range(count)]
    runs = ws.wait_for_runs(ids, timeout=600, poll_interval=0.05)
    wall = time.perf_counter() - started
    failed = [r for r in runs if r.status != RunStatus.COMPLETED]
    if failed:
        raise SystemExit(f"run {failed[0].id} {failed[0].status.value}:\n{ws.get_log_tail(failed[0].id)}")
    script_seconds = [float(ws.get_metrics(r.id).get("script seconds", float("nan"))) for r in runs]
    return wall, script_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="runs in the concurrent batch (default 5)")
    parser.add_argument("--nodes", type=int, default=3, help="max_nodes of the cluster (default 3)")
    parser.add_argument("--sleep", type=float, default=1.0, help="seconds the built-in script sleeps")
    parser.add_argument("--work", type=float, default=0.5, help="seconds the built-in script computes")
    parser.add_argument("--repeat", type=int, default=3, help="single runs to average (default 3)")
    parser.add_argument("--source", type=Path, help="a training folder to run instead of the built-in script")
    parser.add_argument("--script", default="bench_train.py", help="the script in --source")
    parser.add_argument("--args", nargs=argparse.REMAINDER, default=None, help="arguments for --script")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="aml-tutor-bench-") as tmp:
        root = Path(tmp)
        source = options.source or write_source(root / "src")
        arguments = options.args if options.args is not None else (
            [] if options.source else [str(options.sleep), str(options.work)])
        ws = LocalWorkspace(root / "ws", "bench-ws")
        ws.get_or_create_cluster("benchcluster", "STANDARD_D2_V2", 0, options.nodes, 60)
        ready = ws.wait_for_compute("benchcluster")
        config = ScriptRunConfig(source, options.script, arguments, compute_target="benchcluster")

        run_batch(ws, 1, config)  # warm-up: file caches, first interpreter start
        singles = [run_batch(ws, 1, config) for _ in range(options.repeat)]
        single_wall = statistics.median(wall for wall, _ in singles)
        single_script = statistics.median(s[0] for _, s in singles)
        batch_wall, batch_scripts = run_batch(ws, options.runs, config)

        serial = options.runs * single_wall
        print(f"embedded workspace, {cpu_count()} cores, cluster max_nodes={options.nodes} "
              f"-> {ready.slots} runs at once; script: {options.script} {' '.join(arguments)}")
        print()
        print(f"{'scenario':<34}{'wall s':>9}{'script s':>10}{'overhead s':>12}")
        print(f"{'1 run alone (median of ' + str(options.repeat) + ')':<34}{single_wall:>9.2f}"
              f"{single_script:>10.2f}{single_wall - single_script:>12.2f}")
        print(f"{str(options.runs) + ' runs at once':<34}{batch_wall:>9.2f}"
              f"{statistics.mean(batch_scripts):>10.2f}{'':>12}")
        print(f"{str(options.runs) + ' x 1 run (serial estimate)':<34}{serial:>9.2f}")
        print()
        print(f"speed-up vs serial: {serial / batch_wall:.2f}x "
              f"(ideal with {ready.slots} slots: {options.runs / -(-options.runs // ready.slots):.2f}x)")


if __name__ == "__main__":
    main()
