"""A process killed (kill -9) while it starts a run: the resumed tutor finishes the run at once.

Starting a queued run is three steps: claim it in the database (Queued -> Preparing), start
the run's wrapper process, record that process's pid. A submitting process killed between
the first and the last used to leave a claim no one owned: the next reader waited out the
launch grace, failed the run, and the learner had to resume a second time.

The tests stop a real submitting process at exactly those moments, without hooks:

* the run's log is made a named pipe, so the submitter blocks opening it: after the claim,
  before the wrapper starts;
* then, holding the database's write lock while the pipe is opened, the wrapper starts and
  the submitter blocks recording its pid: after the start, before the record.

There it is killed with SIGKILL, and a new workspace object (what a resumed tutor opens)
must take the run to Completed on its first wait, with the script executed exactly once.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from tutor.workspace.base import RunStatus, ScriptRunConfig
from tutor.workspace.local import LocalWorkspace
from tutor.workspace.local.procs import process_is_running
from tutor.workspace.local.scheduler import LAUNCH_GRACE

pytestmark = pytest.mark.parametrize("backend", ["local"], indirect=True)

REPO = Path(__file__).resolve().parents[2]
# Well inside the launch grace: a resume that has to wait it out fails here.
RESUME_TIMEOUT = LAUNCH_GRACE.total_seconds() / 2

# The submitting process: submits, says the run's id, waits for a line, then waits for the run.
SUBMITTER = """
import sys
from pathlib import Path
from tutor.workspace.base import ScriptRunConfig
from tutor.workspace.local import LocalWorkspace
root, source, target, marker, go = sys.argv[1:6]
ws = LocalWorkspace(Path(root), "learner-ws")
run = ws.submit("claims", ScriptRunConfig(source, "train.py", arguments=[marker, go], compute_target=target))
print(run.id, flush=True)
sys.stdin.readline()
ws.wait_for_completion(run.id)
"""

# Counts its executions in ``marker``; waits for the file ``go`` when it exists as a path arg.
TRAIN = """
import sys, time
from pathlib import Path
marker, go = Path(sys.argv[1]), Path(sys.argv[2])
with open(marker, "a") as handle:
    handle.write("ran\\n")
while not go.exists():
    time.sleep(0.02)
"""


def _row(ws: LocalWorkspace, run_id: str) -> dict[str, Any]:
    with ws.store.read() as conn:  # read only: never promotes or refreshes
        return dict(conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone())


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat[stat.rfind(")") + 2:].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""


class Scene:
    """A submitter blocked right after claiming run ``run_id`` (its log is a named pipe)."""

    def __init__(self, ws: LocalWorkspace, proc: subprocess.Popen[str], run_id: str, marker: Path, go: Path) -> None:
        self.ws, self.proc, self.run_id, self.marker, self.go = ws, proc, run_id, marker, go
        self.log = ws.layout.run_log(run_id)
        self.drained: list[bytes] = []
        self.drain: threading.Thread | None = None

    def open_pipe(self) -> None:
        """Read the pipe (as a log reader would), which lets the submitter's open() return."""

        def drain() -> None:
            with open(self.log, "rb") as pipe:
                while chunk := pipe.read(4096):
                    self.drained.append(chunk)

        self.drain = threading.Thread(target=drain, daemon=True)
        self.drain.start()

    def kill_submitter(self) -> None:
        self.proc.kill()  # SIGKILL
        self.proc.wait(timeout=10)

    def executions(self) -> int:
        return len(self.marker.read_text().splitlines()) if self.marker.exists() else 0


@pytest.fixture
def scene(wait_until, workspace: LocalWorkspace, write_scripts, cluster, tmp_path: Path) -> Iterator[Scene]:
    target = cluster("claims", max_nodes=1)
    # A run that holds the cluster's only slot, so the submitter's run waits in the queue.
    blocker = workspace.submit("claims", ScriptRunConfig(write_scripts(train="import time; time.sleep(60)"),
                                                         "train.py", compute_target=target))
    wait_until(lambda: _row(workspace, blocker.id)["pid"] and workspace.get_run(blocker.id).status
               == RunStatus.RUNNING)
    source = tmp_path / "src-claimed"
    source.mkdir()
    (source / "train.py").write_text(TRAIN)
    marker, go = tmp_path / "executions.txt", tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen(
        [sys.executable, "-c", SUBMITTER, str(workspace.layout.root), str(source), target, str(marker), str(go)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=tmp_path,
    )
    try:
        assert proc.stdout is not None and proc.stdin is not None
        run_id = proc.stdout.readline().strip()
        assert run_id and _row(workspace, run_id)["status"] == RunStatus.QUEUED.value
        stage = Scene(workspace, proc, run_id, marker, go)
        os.mkfifo(stage.log)
        # Free the slot without the blocker's wrapper starting the queued run on its way out.
        os.killpg(_row(workspace, blocker.id)["pid"], signal.SIGKILL)
        proc.stdin.write("go on\n")
        proc.stdin.flush()
        wait_until(lambda: _row(workspace, run_id)["status"] == RunStatus.PREPARING.value)
        time.sleep(0.2)
        assert proc.poll() is None and _row(workspace, run_id)["pid"] is None  # blocked opening the pipe
        yield stage
    finally:
        go.touch()
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _resume_and_finish(make_workspace: Callable[[], LocalWorkspace], scene: Scene) -> float:
    scene.go.touch()
    again = make_workspace()  # a resumed tutor: a new process opening the same folder
    started = time.monotonic()
    done = again.wait_for_completion(scene.run_id, timeout=RESUME_TIMEOUT)
    assert done.status == RunStatus.COMPLETED, done.error
    assert scene.executions() == 1
    return time.monotonic() - started


def test_killed_after_the_claim_before_the_start(make_workspace, scene: Scene) -> None:
    scene.kill_submitter()
    scene.log.unlink()  # the pipe; the run's wrapper writes a real log when it starts
    assert scene.executions() == 0
    assert _resume_and_finish(make_workspace, scene) < RESUME_TIMEOUT


def _stop_after_start(scene: Scene) -> int:
    """Let the submitter start the wrapper, but not record its pid; kill it there. The wrapper's pid."""
    db = sqlite3.connect(scene.ws.layout.db, isolation_level=None)
    try:
        db.execute("BEGIN IMMEDIATE")  # every write now waits: the submitter's pid record too
        scene.open_pipe()
        deadline = time.monotonic() + 10
        while not (wrappers := [pid for pid in _children(scene.proc.pid) if "tutor.workspace.runner" in _cmdline(pid)]):
            # (a child seen between fork and exec still shows the submitter's command line)
            assert time.monotonic() < deadline, "the submitter never started the run's wrapper"
            time.sleep(0.01)
        (wrapper,) = wrappers
        time.sleep(0.2)
        assert _row_raw(db, scene.run_id)["pid"] is None
        scene.kill_submitter()
        return wrapper
    finally:
        db.execute("ROLLBACK")
        db.close()


def _row_raw(db: sqlite3.Connection, run_id: str) -> dict[str, Any]:
    db.row_factory = sqlite3.Row
    return dict(db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone())


def test_killed_after_the_start_before_the_pid_record(wait_until, make_workspace, scene: Scene) -> None:
    """The wrapper outlives the submitter: it records itself, so the run is known to be running."""
    wrapper = _stop_after_start(scene)
    wait_until(lambda: _row(scene.ws, scene.run_id)["pid"] == wrapper, timeout=RESUME_TIMEOUT)
    wait_until(lambda: scene.ws.get_run(scene.run_id).status == RunStatus.RUNNING)  # the script is waiting
    assert _row(scene.ws, scene.run_id)["pid"] == wrapper
    assert _resume_and_finish(make_workspace, scene) < RESUME_TIMEOUT


def test_a_resume_that_restarts_the_run_first_wins_over_the_late_wrapper(wait_until, make_workspace,
                                                                         scene: Scene) -> None:
    """The resumed tutor restarts the orphaned claim before the first wrapper records itself:
    that wrapper, when it gets going, must step aside, not execute the script a second time."""
    wrapper = _stop_after_start(scene)
    os.kill(wrapper, signal.SIGSTOP)
    try:
        assert _resume_and_finish(make_workspace, scene) < RESUME_TIMEOUT
    finally:
        os.kill(wrapper, signal.SIGCONT)
    wait_until(lambda: not process_is_running(wrapper, None))
    done = make_workspace().get_run(scene.run_id)
    assert done.status == RunStatus.COMPLETED and done.exit_code == 0
    assert scene.executions() == 1


def test_five_kills_at_random_moments_each_resume_finishes_first_time(make_workspace, tmp_path: Path) -> None:
    """kill -9 a submitting process at random moments; each resume finishes what it submitted."""
    import random

    ws = make_workspace()
    source = tmp_path / "src-random"
    source.mkdir()
    (source / "train.py").write_text(TRAIN)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    go = tmp_path / "go"
    go.touch()  # the script ends at once
    rng = random.Random(int(os.environ.get("TUTOR_TEST_SEED", time.time())))
    for attempt in range(5):
        marker = tmp_path / f"executions-{attempt}.txt"
        before = {run.id for run in ws.list_runs()} if ws.list_experiments() else set()
        proc = subprocess.Popen(
            [sys.executable, "-c", SUBMITTER, str(ws.layout.root), str(source), "local", str(marker), str(go)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=tmp_path,
        )
        time.sleep(rng.uniform(0.2, 1.2))
        proc.kill()
        proc.wait(timeout=10)
        again = make_workspace()
        new = [run.id for run in again.list_runs()] if again.list_experiments() else []
        for run_id in set(new) - before:
            done = again.wait_for_completion(run_id, timeout=RESUME_TIMEOUT)
            assert done.status == RunStatus.COMPLETED, (attempt, done.error)
            assert len(marker.read_text().splitlines()) == 1
