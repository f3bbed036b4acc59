"""Reading a run's ``metrics.jsonl`` into the workspace database.

The contract with training scripts is one JSON object per line, appended to
``$TUTOR_RUN_DIR/metrics.jsonl``::

    {"name": "R^2", "value": 0.89, "time": "2024-01-04T18:00:00+00:00"}

``value`` is a number, a string or a list; ``time`` is optional. A line
``{"tag": "variant", "value": "4"}`` sets a tag on the run instead (Azure's ``run.tag``). A file is simpler than a
socket or the database for a script: it needs no import from the tutor, survives the
tutor being closed, and appending lines is atomic enough for one writer.

Ingestion remembers how many bytes it has read (``runs.metrics_offset``) and reads the
rest inside a write transaction, so the tutor polling and the run's wrapper finishing
at the same moment never store a line twice. A metric logged again gets the next step
number: that is its history.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tutor.workspace.local.store import Store, dumps, utcnow

METRICS_FILE = "metrics.jsonl"
MAX_WARNINGS = 20


def metrics_path(run_dir: Path) -> Path:
    return run_dir / METRICS_FILE


def pending_bytes(run_dir: Path, offset: int) -> bool:
    """Cheap check (no transaction) whether the file has grown past ``offset``."""
    try:
        return metrics_path(run_dir).stat().st_size > offset
    except FileNotFoundError:
        return False


def ingest_metrics(store: Store, run_id: str, run_dir: Path, *, final: bool = False) -> int:
    """Store new metric lines of one run; return how many were stored.

    Only lines ending in a newline are read while the run may still be writing; with
    ``final`` (the process has ended) a last line without newline is read too.
    """
    path = metrics_path(run_dir)
    if not path.exists():
        return 0
    stored = 0
    with store.write() as conn:
        row = conn.execute(
            "SELECT metrics_offset, metrics_lines, warnings FROM runs WHERE id = ?", (run_id,)
        ).fetchone()
        if row is None:
            return 0
        offset, line_no, warnings = int(row[0]), int(row[1]), json.loads(row[2])
        with open(path, "rb") as handle:
            handle.seek(offset)
            data = handle.read()
        end = len(data) if final else data.rfind(b"\n") + 1
        chunk = data[:end]
        if not chunk:
            return 0
        steps: dict[str, int] = {}
        new_tags: dict[str, str] = {}
        lines = chunk.split(b"\n")
        if chunk.endswith(b"\n"):
            lines.pop()  # the empty text after the last newline
        for raw in lines:
            line_no += 1
            if not raw.strip():
                continue
            tag = _parse_tag(raw)
            if tag is not None:
                new_tags[tag[0]] = tag[1]
                continue
            parsed, problem = _parse(raw)
            if problem:
                if len(warnings) < MAX_WARNINGS:
                    warnings.append(f"{METRICS_FILE} line {line_no}: {problem}")
                continue
            name, value, time = parsed
            if name not in steps:
                last = conn.execute(
                    "SELECT MAX(step) FROM metrics WHERE run_id = ? AND name = ?", (run_id, name)
                ).fetchone()[0]
                steps[name] = -1 if last is None else int(last)
            steps[name] += 1
            conn.execute(
                "INSERT INTO metrics (run_id, name, value, time, step) VALUES (?, ?, ?, ?, ?)",
                (run_id, name, json.dumps(value), time, steps[name]),
            )
            stored += 1
        conn.execute(
            "UPDATE runs SET metrics_offset = ?, metrics_lines = ?, warnings = ? WHERE id = ?",
            (offset + len(chunk), line_no, dumps(warnings), run_id),
        )
        if new_tags:
            current = json.loads(conn.execute("SELECT tags FROM runs WHERE id = ?", (run_id,)).fetchone()[0] or "{}")
            current.update(new_tags)
            conn.execute("UPDATE runs SET tags = ? WHERE id = ?", (dumps(current), run_id))
    return stored


def _parse_tag(raw: bytes) -> tuple[str, str] | None:
    """(key, value) when the line is a tag line, else None (then it is read as a metric)."""
    try:
        record = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(record, dict) or "name" in record or not isinstance(record.get("tag"), str):
        return None
    value = record.get("value")
    return record["tag"], "" if value is None else str(value)


def _parse(raw: bytes) -> tuple[tuple[str, Any, str], str | None]:
    """(name, value, time) of one line, or a reason why the line is not a metric."""
    empty = ("", None, "")
    try:
        record = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return empty, f"not valid JSON ({exc})"
    if not isinstance(record, dict):
        return empty, 'not a JSON object like {"name": ..., "value": ...}'
    name = record.get("name")
    if not isinstance(name, str) or not name:
        return empty, 'no "name" (a non-empty string)'
    if "value" not in record:
        return empty, f'metric "{name}" has no "value"'
    value = record["value"]
    if not _is_metric_value(value):
        return empty, f'metric "{name}" has a {type(value).__name__} value; use a number, a string, a list or a row of them'
    time = record.get("time")
    if not isinstance(time, str) or not time:
        time = utcnow()
    return (name, value, time), None


def _is_metric_value(value: Any) -> bool:
    if isinstance(value, (bool, int, str)):
        return True
    if isinstance(value, float):
        return True  # NaN and infinities are stored too: a diverging loss is worth seeing
    if isinstance(value, list):
        return all(isinstance(item, (bool, int, float, str)) or item is None for item in value)
    if isinstance(value, dict):  # one row of a table metric (Azure's run.log_row)
        return all(isinstance(k, str) and (isinstance(v, (bool, int, float, str)) or v is None)
                   for k, v in value.items())
    return False

