"""Calling the entry script's ``run()``, alone or for several requests at once.

One worker process runs one copy of the model and calls ``run()`` on its event loop,
one call at a time, as Azure's (single-threaded) workers do.

Opportunistic batching: a scikit-learn pipeline spends about a millisecond on each
``predict`` call whatever the number of rows, so when several single-trip requests are
waiting at the same moment they are scored in one ``run()`` call over all their rows
and the predictions are handed back to each request. Nothing waits for a batch to fill:
a lone request is scored at once, so batching only ever changes the answer time of
requests that would otherwise have queued. It is used only when it cannot change an
answer: ``run()`` takes a single pandas "records" frame, declares an array output, and
returns one value per row; if a batched call returns anything else, or raises, each
request is run on its own and batching is turned off for that worker (with a log line).
"""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
from collections import deque
from dataclasses import dataclass
from typing import Any

from tutor.serving.entry import EntryScript
from tutor.serving.inputs import InputPlan, ParsedRequest, RequestError

logger = logging.getLogger("tutor.serving.scoring")

MAX_BATCH_ROWS = 512
# Loop turns given to requests that are already arriving before a batch is closed. A
# request whose task already exists reaches the queue in one turn (its body is complete,
# so its handler does not suspend before queueing); one whose bytes are still in the
# socket needs a second turn (the poll in the first creates its task). Then keep turning
# while the queue still grows.
MIN_YIELDS = 2
MAX_YIELDS = 16


class ScoringError(Exception):
    """``run()`` raised: carries a one-line summary (the traceback goes to the log)."""

    def __init__(self, summary: str) -> None:
        super().__init__(summary)
        self.summary = summary


@dataclass
class Scored:
    """What ``run()`` returned for one request, and how long ``run()`` took."""

    output: Any
    run_ms: float
    batch_size: int = 1


def _summary(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _length(output: Any) -> int | None:
    if isinstance(output, (list, tuple)):
        return len(output)
    shape = getattr(output, "shape", None)
    if shape is not None and len(shape) >= 1:
        return int(shape[0])
    return None


def _slice(output: Any, start: int, stop: int) -> Any:
    part = output[start:stop]
    return list(part) if isinstance(output, tuple) else part


class Scorer:
    """Runs requests through the entry script, batching them when that is safe."""

    def __init__(self, entry: EntryScript, plan: InputPlan, *, batching: bool = True,
                 max_batch_rows: int = MAX_BATCH_ROWS) -> None:
        self.entry = entry
        self.plan = plan
        self.max_batch_rows = max_batch_rows
        array_output = (entry.output_schema or {}).get("type") == "array"
        self.batching = bool(batching and plan.batch_param and array_output)
        self._queue: deque[tuple[list[dict[str, Any]], asyncio.Future[Scored]]] = deque()
        self._draining = False
        # The running drain task: asyncio keeps only weak references to tasks.
        self._drain_task: asyncio.Task[None] | None = None
        self.batched_calls = 0

    async def score(self, request: ParsedRequest, headers: dict[str, str]) -> Scored:
        """The output of ``run()`` for this request; :class:`ScoringError` if it raised."""
        param = self.plan.batch_param
        if request.rows is None or param is None or not self.batching:
            kwargs = request.kwargs
            if request.rows is not None and param is not None:  # batchable, batching off: build it now
                kwargs = {**kwargs, param: self.plan.build_frame(param, request.rows)}
            return self._call(kwargs, headers)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Scored] = loop.create_future()
        self._queue.append((request.rows, future))
        if not self._draining:
            self._draining = True
            self._drain_task = loop.create_task(self._drain())
        return await future

    def _call(self, kwargs: dict[str, Any], headers: dict[str, str]) -> Scored:
        if self.entry.wants_headers:
            kwargs = {**kwargs, "request_headers": headers}
        started = time.perf_counter()
        try:
            output = self.entry.run(**kwargs)
        except Exception as exc:
            logger.error("run() raised:\n%s", traceback.format_exc().rstrip())
            raise ScoringError(_summary(exc)) from None
        return Scored(output, (time.perf_counter() - started) * 1000.0)

    async def _drain(self) -> None:
        try:
            while self._queue:
                seen = -1
                for turn in range(MAX_YIELDS):
                    if turn >= MIN_YIELDS and len(self._queue) == seen:
                        break
                    seen = len(self._queue)
                    await asyncio.sleep(0)
                batch = [self._queue.popleft()]
                rows = len(batch[0][0])
                while self._queue and rows + len(self._queue[0][0]) <= self.max_batch_rows:
                    item = self._queue.popleft()
                    batch.append(item)
                    rows += len(item[0])
                try:
                    self._run_batch(batch)
                except Exception as exc:  # never leave a request waiting for an answer
                    logger.exception("scoring a batch failed")
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(ScoringError(_summary(exc)))
        finally:
            self._draining = False

    def _run_one(self, rows: list[dict[str, Any]], future: asyncio.Future[Scored]) -> None:
        if future.done():
            return
        param = self.plan.batch_param
        assert param is not None
        try:
            future.set_result(self._call({param: self.plan.build_frame(param, rows)}, {}))
        except (ScoringError, RequestError) as exc:
            future.set_exception(exc)

    def _run_batch(self, batch: list[tuple[list[dict[str, Any]], asyncio.Future[Scored]]]) -> None:
        live = [(rows, fut) for rows, fut in batch if not fut.done()]
        if len(live) <= 1 or not self.batching:
            for rows, fut in live:
                self._run_one(rows, fut)
            return
        param = self.plan.batch_param
        assert param is not None
        all_rows = [row for rows, _ in live for row in rows]
        started = time.perf_counter()
        try:
            output = self.entry.run(**{param: self.plan.build_frame(param, all_rows)})
        except Exception:
            # One request's rows may be to blame: give each its own call and its own answer.
            for rows, fut in live:
                self._run_one(rows, fut)
            return
        run_ms = (time.perf_counter() - started) * 1000.0
        if _length(output) != len(all_rows):
            self.batching = False
            logger.warning(
                "run() returned %s for %d rows, not one value per row; scoring requests one at a time from now on",
                type(output).__name__, len(all_rows),
            )
            for rows, fut in live:
                self._run_one(rows, fut)
            return
        self.batched_calls += 1
        start = 0
        for rows, fut in live:
            stop = start + len(rows)
            fut.set_result(Scored(_slice(output, start, stop), run_ms, batch_size=len(live)))
            start = stop
