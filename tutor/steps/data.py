"""Data steps: get the course dataset, prepare it as the course does, profile it."""

from __future__ import annotations

from pathlib import Path

from tutor import dataset
from tutor.display import Bars, Facts, Histogram, Note, Table
from tutor.profile import profile_frame
from tutor.steps import action
from tutor.steps.base import StepContext, StepResult

PREPARED_CSV = "green_taxi_prepared.csv"
PREPARED_PARQUET = "green_taxi_prepared.parquet"


@action("data.fetch")
def fetch(ctx: StepContext) -> StepResult:
    """Find (or download) the course dataset and check it is the right file."""
    with ctx.progress.task("Finding the course dataset", total=dataset.SIZE) as bar:
        found = dataset.locate(
            ctx.settings.data,
            on_progress=lambda done, total: bar.update(completed=done, total=total or dataset.SIZE),
        )
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(found.path).metadata
    schema = pq.read_schema(found.path)
    columns = [name for name in schema.names if name != "__index_level_0__"]
    raw = _read_raw(found.path)
    head = raw.head(5)
    shown = ["lpepPickupDatetime", "passengerCount", "tripDistance", "pickupLatitude", "totalAmount"]
    return StepResult(
        evidence={
            "source": found.source,
            "sha256": found.sha256,
            "bytes": found.size,
            "rows": int(meta.num_rows),
            "columns": len(columns),
        },
        outputs={"raw_data": str(found.path)},
        display=[
            Facts("The dataset", [
                ("file", str(found.path)),
                ("found through", found.source),
                ("size", f"{found.size:,} bytes"),
                ("sha256", f"{found.sha256[:16]}... (verified)"),
                ("rows x columns", f"{meta.num_rows:,} x {len(columns)}"),
            ]),
            Table("The first five trips (some of the columns)", shown,
                  [[str(v) for v in row] for row in head[shown].itertuples(index=False)]),
        ],
        summary=f"{meta.num_rows:,} trips and {len(columns)} columns, checksum verified.",
    )


def _read_raw(path: Path):
    from tutor.prep import load_raw

    return load_raw(path)


def _raw_path(ctx: StepContext) -> Path:
    if "raw_data" in ctx.outputs and Path(ctx.outputs["raw_data"]).exists():
        return Path(ctx.outputs["raw_data"])
    return dataset.locate(ctx.settings.data).path


@action("data.prepare", optional=("save_as",))
def prepare(ctx: StepContext) -> StepResult:
    """Build the time features, drop unused columns, apply the cleaning filters and save the result."""
    from tutor.prep import prepare as prepare_frame

    ctx.progress.status("Loading the raw trips")
    raw = _read_raw(_raw_path(ctx))
    ctx.progress.status("Building time features and filtering")
    prepared, filters = prepare_frame(raw)

    out_dir = ctx.course_dir.data
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = ctx.param("save_as") or "green_taxi_prepared"
    csv_path = out_dir / f"{stem}.csv"
    parquet_path = out_dir / f"{stem}.parquet"
    ctx.progress.status(f"Saving {csv_path.name} and {parquet_path.name}")
    prepared.to_csv(csv_path, index=False)
    prepared.to_parquet(parquet_path, index=False)

    biggest = max(filters, key=lambda f: f.removed)
    removed_total = len(raw) - len(prepared)
    rows = [[f.description, f.rows_before, f.removed, f.rows_after] for f in filters]
    return StepResult(
        evidence={
            "rows_raw": int(len(raw)),
            "rows_final": int(len(prepared)),
            "removed_total": int(removed_total),
            "removed_by_filter": {f.name: int(f.removed) for f in filters},
            "biggest_filter": biggest.name,
            "columns": [str(c) for c in prepared.columns],
        },
        outputs={
            "prepared_csv": str(csv_path),
            "prepared_parquet": str(parquet_path),
            "prepared_rows": int(len(prepared)),
        },
        display=[
            Table("The cleaning filters, in order", ["filter", "rows before", "removed", "rows after"], rows,
                  numeric=["rows before", "removed", "rows after"],
                  caption=f"{len(raw):,} trips in, {len(prepared):,} out ({removed_total:,} removed)."),
            Facts("Saved", [("csv", str(csv_path)), ("parquet", str(parquet_path)),
                            ("columns", ", ".join(map(str, prepared.columns)))]),
        ],
        summary=f"{len(prepared):,} clean trips saved; the filters removed {removed_total:,}.",
    )


def _prepared_frame(ctx: StepContext):
    import pandas as pd

    path = ctx.outputs.get("prepared_parquet")
    if path and Path(path).exists():
        return pd.read_parquet(path)
    from tutor.prep import prepare as prepare_frame

    return prepare_frame(_read_raw(_raw_path(ctx)))[0]


@action("data.profile")
def profile(ctx: StepContext) -> StepResult:
    """Profile the prepared data: type, min, max, mean, missing, distinct and a histogram per column."""
    frame = _prepared_frame(ctx)
    columns = profile_frame(frame)
    rows = [[c.name, c.kind, _fmt(c.min), _fmt(c.max), _fmt(c.mean), c.missing, c.distinct,
             Histogram(tuple(c.histogram))] for c in columns]
    label = next(c for c in columns if c.name == "totalAmount")
    missing = sum(c.missing for c in columns)
    return StepResult(
        evidence={
            "rows": int(len(frame)),
            "columns": len(columns),
            "missing_total": missing,
            "total_amount_mean": round(float(label.mean), 6),
            "total_amount_max": label.max,
            "distinct": {c.name: c.distinct for c in columns},
        },
        display=[
            Table("Profile of the prepared data",
                  ["column", "type", "min", "max", "mean", "missing", "distinct", "histogram"], rows,
                  numeric=["min", "max", "mean", "missing", "distinct"]),
            Bars("Trips by hour of day", _hour_counts(frame), fmt="{:.0f}"),
            Note("No column has missing values, and every trip now has a positive fare and a plausible distance."
                 if missing == 0 else "Some columns still have missing values.",
                 "success" if missing == 0 else "warning"),
        ],
        summary=f"{len(columns)} columns profiled over {len(frame):,} rows.",
    )


def _hour_counts(frame) -> list[tuple[str, float]]:
    counts = frame["hour_of_day"].value_counts().sort_index()
    return [(f"{int(h):02d}h", float(n)) for h, n in counts.items()]


def _fmt(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.4g}"
    return str(value)
