"""Benchmark: the tutor's local scoring service against Microsoft's azureml-inference-server-http.

Both servers run the course's unchanged ``score/score.py`` with the same model (the
day-2 pipeline trained on the real data) on 127.0.0.1, and the same client measures:

- startup: seconds from ``deploy()`` to Healthy (ours) / from launch to ``GET /`` (theirs);
- single-row latency: sequential requests on one keep-alive connection, p50 and p95;
- throughput: N concurrent keep-alive connections for a few seconds, requests/s.

The client is a small raw-socket HTTP/1.1 client with TCP_NODELAY (as urllib3, and so
``requests``, sets it); when a server closes the connection after a response (gunicorn's
sync workers do) it reconnects, and that cost is part of that server's figures. Every
row comes from the test split, cycling, so nothing can be served from a cache.
Microsoft's server is installed only into its own virtualenv (``--venv``, default
``/tmp/aml-tutor-bench-venv``), never into the tutor's environment; it is bound to
127.0.0.1 (its CLI hard-codes 0.0.0.0, so the bench sets its module's default host
before calling its own ``run()``). All traffic goes to 127.0.0.1, bounded in count and time.

Run: ``TUTOR_DATA=../shared/data/green_taxi_data.parquet python bench/bench_serving.py``
(``--help`` for the knobs; ``--skip-azure`` to measure only ours).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tutor import serving  # noqa: E402

SCORE_PY = REPO / "score" / "score.py"
AZURE_PACKAGE = "azureml-inference-server-http==1.5.1"
# Packages the model and score.py need, pinned to this environment's versions so both
# servers run the very same numerical code.
SHARED_PACKAGES = ("numpy", "pandas", "scikit-learn", "joblib", "inference-schema", "pyarrow")
MAX_REQUESTS_PER_PHASE = 60_000
AZURE_LAUNCHER = (
    "import sys\n"
    "import azureml_inference_server_http.amlserver as server\n"
    "server.DEFAULT_HOST = '127.0.0.1'\n"
    "server.run()\n"
)


def _load_serving_model() -> Any:
    path = REPO / "tests" / "serving" / "serving_model.py"
    spec = importlib.util.spec_from_file_location("serving_model", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["serving_model"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


# -- the client ------------------------------------------------------------------------
class Client:
    """One keep-alive HTTP/1.1 connection that posts pre-encoded requests."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sock: socket.socket | None = None
        self.reconnects = 0

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=30)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def post(self, request: bytes) -> tuple[int, bytes]:
        """Send one request, return (status, body); reconnect once if the server hung up."""
        for attempt in (1, 2):
            if self.sock is None:
                self.sock = self._connect()
                self.reconnects += 1
            try:
                return self._exchange(request)
            except (ConnectionError, OSError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _exchange(self, request: bytes) -> tuple[int, bytes]:
        assert self.sock is not None
        self.sock.sendall(request)
        buffer = b""
        while b"\r\n\r\n" not in buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed before the response")
            buffer += chunk
        head, _, body = buffer.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ")[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get(b"content-length", b"-1"))
        if length < 0:
            while chunk := self.sock.recv(65536):
                body += chunk
            self.close()
            return status, body
        while len(body) < length:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed in the middle of the body")
            body += chunk
        if headers.get(b"connection", b"").lower() == b"close":
            self.close()
        return status, body


def encode_requests(rows: list[dict[str, Any]], key: str | None, per_request: int = 1) -> list[bytes]:
    """Pre-encoded POSTs of ``per_request`` rows each, cycling through ``rows``."""
    requests_out = []
    for start in range(len(rows)):
        chunk = [rows[(start + i) % len(rows)] for i in range(per_request)]
        body = json.dumps({"data": chunk}).encode()
        head = (
            "POST /score HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n"
            + (f"Authorization: Bearer {key}\r\n" if key else "")
            + "\r\n"
        )
        requests_out.append(head.encode() + body)
    return requests_out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


@dataclass
class Phase:
    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    errors: int
    reconnects: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def sequential(port: int, requests_in: list[bytes], count: int) -> Phase:
    client = Client(port)
    for request in requests_in[:20]:  # warm up the connection and the model
        client.post(request)
    client.reconnects = 0
    latencies: list[float] = []
    errors = 0
    started = time.perf_counter()
    for index in range(count):
        t0 = time.perf_counter()
        status, _ = client.post(requests_in[index % len(requests_in)])
        latencies.append(time.perf_counter() - t0)
        errors += status != 200
    elapsed = time.perf_counter() - started
    client.close()
    return Phase(count, elapsed, percentile(latencies, 0.5) * 1e3, percentile(latencies, 0.95) * 1e3,
                 errors, client.reconnects)


def concurrent(port: int, requests_in: list[bytes], connections: int, seconds: float) -> Phase:
    latencies: list[list[float]] = [[] for _ in range(connections)]
    errors = [0] * connections
    reconnects = [0] * connections
    stop_at = time.perf_counter() + seconds
    budget = MAX_REQUESTS_PER_PHASE // connections
    barrier = threading.Barrier(connections + 1)

    def worker(slot: int) -> None:
        client = Client(port)
        mine = latencies[slot]
        offset = slot * 37
        client.post(requests_in[offset % len(requests_in)])
        client.reconnects = 0
        barrier.wait()
        sent = 0
        while time.perf_counter() < stop_at and sent < budget:
            t0 = time.perf_counter()
            status, _ = client.post(requests_in[(offset + sent) % len(requests_in)])
            mine.append(time.perf_counter() - t0)
            errors[slot] += status != 200
            sent += 1
        reconnects[slot] = client.reconnects
        client.close()

    threads = [threading.Thread(target=worker, args=(slot,)) for slot in range(connections)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    merged = [x for part in latencies for x in part]
    return Phase(len(merged), elapsed, percentile(merged, 0.5) * 1e3, percentile(merged, 0.95) * 1e3,
                 sum(errors), sum(reconnects))


# -- the servers -------------------------------------------------------------------------
@dataclass
class Server:
    label: str
    port: int
    key: str | None
    startup_s: list[float] = field(default_factory=list)
    stop: Callable[[], None] = lambda: None


def start_ours(root: Path, model_dir: Path, workers: int, batching: bool, label: str) -> Server:
    folder = root / "services" / label
    started = time.perf_counter()
    serving.deploy(folder, SCORE_PY, model_dir, auth_enabled=True, workers=workers, batching=batching,
                   overwrite=True)
    info = serving.wait_for_deployment(folder, timeout=60)
    startup = time.perf_counter() - started
    key = serving.get_keys(folder)[0]
    return Server(label, info.port, key, [startup], stop=lambda: serving.delete(folder))


def measure_our_startup(root: Path, model_dir: Path, times: int) -> list[float]:
    """deploy() to Healthy, repeated: the number the course's 'wait for deployment' shows."""
    results = []
    for attempt in range(times):
        folder = root / "services" / f"startup-{attempt}"
        t0 = time.perf_counter()
        serving.deploy(folder, SCORE_PY, model_dir)
        serving.wait_for_deployment(folder, timeout=60)
        results.append(time.perf_counter() - t0)
        serving.delete(folder)
    return results


def ensure_azure_venv(venv: Path) -> Path:
    """The virtualenv with Microsoft's server, created on first use; returns its python."""
    python = venv / "bin" / "python"
    marker = venv / ".aml-tutor-bench-ready"
    wanted = [AZURE_PACKAGE] + [f"{name}=={metadata.version(name)}" for name in SHARED_PACKAGES]
    if marker.exists() and marker.read_text() == "\n".join(wanted):
        return python
    print(f"Preparing {venv} with {AZURE_PACKAGE} (one time; needs PyPI) ...", flush=True)
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q", *wanted],
                   check=True, timeout=900)
    marker.write_text("\n".join(wanted))
    return python


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_azure(python: Path, root: Path, model_dir: Path, workers: int) -> Server:
    port = _free_port()
    log = open(root / "azmlinfsrv.log", "wb")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZUREML_", "AML_"))}
    env["WORKER_COUNT"] = str(workers)
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(python), "-c", AZURE_LAUNCHER, "--entry_script", str(SCORE_PY), "--model_dir", str(model_dir),
         "--port", str(port), "--worker_count", str(workers)],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True,
        cwd=str(root),
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"azmlinfsrv exited with {process.returncode}; see {root / 'azmlinfsrv.log'}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                if b"Healthy" in sock.recv(4096):
                    break
        except OSError:
            pass
        time.sleep(0.05)
    else:
        os.killpg(process.pid, signal.SIGKILL)
        raise RuntimeError("azmlinfsrv did not answer GET / within 90 s")
    startup = time.perf_counter() - started

    def stop() -> None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()

    return Server(f"azmlinfsrv w{workers}", port, None, [startup], stop=stop)


def check_answers(server: Server, rows: list[dict[str, Any]], expected: list[float]) -> None:
    """Both servers must give the model's own predictions before anything is timed."""
    client = Client(server.port)
    for row, want in zip(rows, expected, strict=True):
        status, body = client.post(encode_requests([row], server.key)[0])
        got = json.loads(body)
        if status != 200 or abs(got[0] - want) > 1e-9:
            raise RuntimeError(f"{server.label} answered {status} {body[:200]!r}, expected [{want}]")
    client.close()


# -- the report --------------------------------------------------------------------------
def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def summarize(results: dict[str, dict[str, list[Phase]]], key: str, attr: str) -> dict[str, float]:
    return {label: _median([getattr(p, attr) for p in phases[key]]) for label, phases in results.items()
            if phases.get(key)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=None, help="the course parquet (default: TUTOR_DATA)")
    parser.add_argument("--venv", type=Path,
                        default=Path(os.environ.get("AML_BENCH_VENV", "/tmp/aml-tutor-bench-venv")),
                        help="virtualenv for Microsoft's server (created on first use)")
    parser.add_argument("--skip-azure", action="store_true", help="measure only the tutor's server")
    parser.add_argument("--workers", default="1,2",
                        help="worker counts to measure, each for every server (default 1,2)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, alternating the servers (medians reported)")
    parser.add_argument("--sequential", type=int, default=400, help="requests in each latency phase")
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each throughput phase")
    parser.add_argument("--connections", default="1,8,16", help="concurrent connections for throughput")
    parser.add_argument("--startups", type=int, default=3, help="extra deploy-to-Healthy measurements")
    parser.add_argument("--rows-per-request", type=int, default=1,
                        help="rows in each request (default 1; e.g. 100 to load the server more than the client)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this file")
    args = parser.parse_args(argv)

    model_module = _load_serving_model()
    data = args.data or model_module.data_path()
    if data is None or not Path(data).is_file():
        print("Set TUTOR_DATA (or --data) to the course parquet, e.g. ../shared/data/green_taxi_data.parquet",
              file=sys.stderr)
        return 2
    connections = [int(c) for c in args.connections.split(",") if c.strip()]
    worker_counts = [int(w) for w in args.workers.split(",") if w.strip()]
    print(f"Training the day-2 model on {data} ...", flush=True)
    trained = model_module.train(model_module.prepare(Path(data)))
    rows = model_module.rows(trained.x_test, 500)
    import pandas as pd

    expected = [float(x) for x in trained.pipeline.predict(pd.DataFrame(rows[:50]))]
    root = Path(tempfile.mkdtemp(prefix="aml-tutor-bench-"))
    model_dir = model_module.save_model(trained, root / "models")
    servers: list[Server] = []
    load_before = os.getloadavg()
    try:
        print("Measuring deploy -> Healthy ...", flush=True)
        startups = measure_our_startup(root, model_dir, args.startups)
        python = None if args.skip_azure else ensure_azure_venv(args.venv)
        for workers in worker_counts:
            servers.append(start_ours(root, model_dir, workers, True, f"tutor w{workers}"))
            servers.append(start_ours(root, model_dir, workers, False, f"tutor nobatch w{workers}"))
            if python is not None:
                servers.append(start_azure(python, root, model_dir, workers))
        startups = [s.startup_s[0] for s in servers if s.label.startswith("tutor")] + startups
        for server in servers:
            check_answers(server, rows[:50], expected)
        encoded = {s.label: encode_requests(rows, s.key, args.rows_per_request) for s in servers}
        results: dict[str, dict[str, list[Phase]]] = {s.label: {} for s in servers}
        for round_index in range(args.rounds):
            order = servers if round_index % 2 == 0 else list(reversed(servers))
            for server in order:
                print(f"round {round_index + 1}/{args.rounds}: {server.label}", flush=True)
                phases = results[server.label]
                phases.setdefault("sequential", []).append(
                    sequential(server.port, encoded[server.label], args.sequential))
                for count in connections:
                    phases.setdefault(f"c{count}", []).append(
                        concurrent(server.port, encoded[server.label], count, args.seconds))
    finally:
        for server in servers:
            try:
                server.stop()
            except Exception as exc:  # noqa: BLE001 - keep stopping the others
                print(f"could not stop {server.label}: {exc}", file=sys.stderr)
        shutil.rmtree(root, ignore_errors=True)

    report = build_report(results, servers, startups, connections, worker_counts, args, load_before)
    print(report["text"])
    if args.json:
        args.json.write_text(json.dumps(report["figures"], indent=2) + "\n")
    return 0


def build_report(results: dict[str, dict[str, list[Phase]]], servers: list[Server], startups: list[float],
                 connections: list[int], worker_counts: list[int], args: argparse.Namespace,
                 load_before: tuple[float, ...]) -> dict[str, Any]:
    labels = [s.label for s in servers]
    lines = []
    figures: dict[str, Any] = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "loadavg_before": load_before, "loadavg_after": os.getloadavg()},
        "workers": worker_counts, "rounds": args.rounds, "rows_per_request": args.rows_per_request,
        "startup_s": {"tutor_deploy_to_healthy": startups,
                      "azmlinfsrv_launch_to_healthy": {s.label: s.startup_s[0] for s in servers
                                                       if s.label.startswith("azmlinfsrv")}},
        "phases": {},
    }
    width = max(len(label) for label in labels) + 2
    lines.append(f"rounds={args.rounds} (medians), {args.rows_per_request} row(s) per request, "
                 f"load average before {load_before[0]:.2f}, "
                 f"after {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs")
    lines.append(f"{'':26}" + "".join(f"{label:>{width}}" for label in labels))
    for key in ["sequential"] + [f"c{c}" for c in connections]:
        title = "sequential" if key == "sequential" else f"{key[1:]} conn"
        for attr in ("p50_ms", "p95_ms", "rps"):
            values = summarize(results, key, attr)
            figures["phases"].setdefault(key, {})[attr] = values
            unit = "req/s" if attr == "rps" else attr.replace("_ms", " ms")
            cells = "".join(f"{values.get(label, float('nan')):>{width}.2f}" for label in labels)
            lines.append(f"{title + ' ' + unit:26}{cells}")
        figures["phases"][key]["errors"] = {label: sum(p.errors for p in results[label][key]) for label in labels}
        figures["phases"][key]["reconnects"] = {
            label: sum(p.reconnects for p in results[label][key]) for label in labels
        }
    lines.append(f"tutor deploy -> Healthy: median {statistics.median(startups):.2f} s, "
                 f"max {max(startups):.2f} s over {len(startups)} deploys")
    for server in servers:
        if server.label.startswith("azmlinfsrv"):
            lines.append(f"{server.label} launch -> Healthy: {server.startup_s[0]:.2f} s")
    for workers in worker_counts:
        ours, plain, theirs = f"tutor w{workers}", f"tutor nobatch w{workers}", f"azmlinfsrv w{workers}"
        if theirs not in labels:
            continue
        seq = figures["phases"]["sequential"]["p50_ms"]
        lines.append(f"w{workers} p50 sequential: tutor {seq[ours]:.2f} ms vs azmlinfsrv {seq[theirs]:.2f} ms "
                     f"-> {seq[theirs] / seq[ours]:.2f}x lower")
        for count in connections:
            rps = figures["phases"][f"c{count}"]["rps"]
            lines.append(f"w{workers} throughput, {count} conn: tutor {rps[ours]:.0f} req/s vs azmlinfsrv "
                         f"{rps[theirs]:.0f} req/s -> {rps[ours] / rps[theirs]:.2f}x "
                         f"(without batching {rps[plain] / rps[theirs]:.2f}x)")
    errors_total = sum(sum(v["errors"].values()) for v in figures["phases"].values())
    lines.append(f"non-200 answers during the load phases: {errors_total}")
    return {"text": "\n".join(lines), "figures": figures}

if __name__ == "__main__":
    sys.exit(main())
