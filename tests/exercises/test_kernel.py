"""The exercise kernel, a real child Python: what the learner's code can and cannot do to it."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from tutor.errors import TutorError
from tutor.exercises.session import Kernel
from tutor.workspace.local import LocalWorkspace


@pytest.fixture
def kernel(tmp_path: Path):
    LocalWorkspace(tmp_path / "ws", "kim-ws", create=True)
    with Kernel(embedded=tmp_path / "ws", cwd=tmp_path) as running:
        yield running


def collect() -> tuple[list[tuple[str, str]], object]:
    seen: list[tuple[str, str]] = []
    return seen, lambda stream, text: seen.append((stream, text))


def test_names_live_from_one_run_to_the_next_and_output_streams(kernel: Kernel) -> None:
    seen, on_output = collect()
    assert kernel.run("x = 41\nprint('hello')", on_output).status == "ok"
    assert kernel.run("x += 1", on_output).status == "ok"
    assert kernel.evaluate("x") == (True, 42)
    assert kernel.names(["x", "nope"])["x"].type == "builtins.int"
    assert not kernel.names(["nope"])["nope"].defined
    assert "".join(text for stream, text in seen if stream == "stdout") == "hello\n"  # (in chunks, as printed)


def test_a_traceback_shows_only_the_learners_own_lines(kernel: Kernel) -> None:
    _, on_output = collect()
    outcome = kernel.run("import json\n\ndef f():\n    return json.loads('{')\n\nf()", on_output)
    assert outcome.status == "error"
    text = outcome.error or ""
    assert text.startswith("Traceback (most recent call last):")
    assert 'File "<your code>", line 6' in text and 'File "<your code>", line 4' in text
    assert "json/decoder.py" not in text and "tutor" not in text
    assert text.strip().endswith("json.decoder.JSONDecodeError: Expecting property name enclosed in double quotes: "
                                 "line 1 column 2 (char 1)")


def test_exit_input_and_os_exit(kernel: Kernel) -> None:
    _, on_output = collect()
    outcome = kernel.run("exit()", on_output)
    assert outcome.status == "error" and "it does nothing" in (outcome.error or "")
    outcome = kernel.run("name = input('Your name? ')", on_output)
    assert outcome.status == "error" and "cannot read input here" in (outcome.error or "")
    assert kernel.alive
    outcome = kernel.run("import os\nos._exit(3)", on_output)
    assert outcome.status == "died" and not kernel.alive
    kernel.restart()
    assert kernel.run("y = 1", on_output).status == "ok"


def test_an_interrupt_stops_a_runaway_loop_and_the_names_stay(kernel: Kernel) -> None:
    _, on_output = collect()
    timer = threading.Timer(1.0, kernel.interrupt)
    timer.start()
    started = time.monotonic()
    outcome = kernel.run("n = 0\nwhile True:\n    n += 1", on_output)
    timer.join()
    assert outcome.status == "interrupted" and time.monotonic() - started < 5
    ok, n = kernel.evaluate("n")
    assert ok and n > 0


def test_a_kernel_that_cannot_start_says_why(tmp_path: Path) -> None:
    broken = tmp_path / "site"
    broken.mkdir()
    (broken / "sitecustomize.py").write_text("import sys\nprint('this Python is broken: no numpy', file=sys.stderr)\n"
                                             "sys.exit(3)\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(broken)}
    LocalWorkspace(tmp_path / "ws", "kim-ws", create=True)
    kernel = Kernel(embedded=tmp_path / "ws", cwd=tmp_path, env=env)
    with pytest.raises(TutorError) as caught:
        kernel.start()
    assert "stopped as it started: this Python is broken: no numpy" in caught.value.what


def test_everything_a_run_printed_is_shown_before_the_run_returns(kernel: Kernel) -> None:
    """Output that comes after the reply (a big print, both streams, a print the SDK flushes late) is
    all delivered up to the kernel's end-of-run mark, in order, and none of it leaks into the next run."""
    seen, on_output = collect()
    code = ("import sys\nfor i in range(2000):\n    print('line', i)\n"
            "print('to stderr', file=sys.stderr)\nsys.stdout.write('no newline at the end')")
    started = time.monotonic()
    assert kernel.run(code, on_output).status == "ok"
    assert time.monotonic() - started < 1.9  # the marks came: no waiting out the limit
    out = "".join(text for stream, text in seen if stream == "stdout")
    err = "".join(text for stream, text in seen if stream == "stderr")
    assert out.count("\n") == 2000 and out.endswith("line 1999\nno newline at the end")
    assert err == "to stderr\n" and "tutor-end" not in out + err
    later, on_later = collect()
    assert kernel.run("print('next')", on_later).status == "ok"
    assert "".join(text for _, text in later) == "next\n"
    # A quiet bind prints nothing and leaves nothing for the next run.
    assert kernel.bind("print('quiet')\nz = 3").status == "ok"
    last, on_last = collect()
    assert kernel.run("print(z)", on_last).status == "ok" and "".join(text for _, text in last) == "3\n"
