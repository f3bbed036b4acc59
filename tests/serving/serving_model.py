"""The course's day-2 model, built from the real data for the serving tests and the bench.

The preparation follows COURSE.md ("Preparation used by the course") and the training
follows day 2, step 4: a ColumnTransformer (numbers scaled, text imputed and one-hot
encoded) in front of a LinearRegression, split 80/20 with ``random_state=0``. The data
goes through a CSV round trip first, as the course's prepared file does, so every
feature is numeric, exactly what the deployed service receives.

Kept free of pytest so ``bench/bench_serving.py`` can load it by path.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tutor.prep import FEATURES, LABEL  # noqa: F401 - FEATURES is used by the serving tests

SAMPLE_TRIP = {
    "vendorID": 1,
    "passengerCount": 1,
    "tripDistance": 4.2,
    "month_num": 1,
    "day_of_month": 4,
    "day_of_week": 1,
    "hour_of_day": 18,
}
# The published figures for this split (COURSE.md, "Reference figures").
TRAIN_R2 = 0.8577399618717584
TEST_R2 = 0.8905551665244333
PREPARED_ROWS = 23222

def data_path() -> Path | None:
    """The course parquet: TUTOR_DATA, else ``../shared/data/`` beside the checkout; None if neither."""
    value = os.environ.get("TUTOR_DATA")
    if value:
        path = Path(value).expanduser()
        return path if path.is_file() else None
    beside = Path(__file__).resolve().parents[3] / "shared" / "data" / "green_taxi_data.parquet"
    return beside if beside.is_file() else None


def prepare(parquet: Path) -> Any:
    """The prepared frame (23,222 rows), read back from CSV like the course's prepared file."""
    import pandas as pd

    from tutor.prep import load_raw, prepare as prepare_frame

    df, _ = prepare_frame(load_raw(parquet))  # the course's preparation, as the tutor does it
    buffer = io.StringIO()
    df.to_csv(buffer, index=False)
    buffer.seek(0)
    return pd.read_csv(buffer)


@dataclass
class TrainedModel:
    pipeline: Any
    x_train: Any
    x_test: Any
    train_r2: float
    test_r2: float


def train(prepared: Any) -> TrainedModel:
    """Day 2's pipeline, fitted on the 80 % split."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LinearRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    y = prepared[LABEL]
    x = prepared.drop(columns=[LABEL])
    numeric = x.select_dtypes("number").columns.tolist()
    text = [c for c in x.columns if c not in numeric]
    preprocess = ColumnTransformer(
        [
            ("numeric", StandardScaler(), numeric),
            (
                "text",
                Pipeline(
                    [
                        ("impute", SimpleImputer(strategy="constant", fill_value="missing")),
                        ("onehot", OneHotEncoder(handle_unknown="ignore")),
                    ]
                ),
                text,
            ),
        ]
    )
    pipeline = Pipeline([("preprocess", preprocess), ("regression", LinearRegression())])
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=0)
    pipeline.fit(x_train, y_train)
    return TrainedModel(
        pipeline=pipeline,
        x_train=x_train,
        x_test=x_test,
        train_r2=float(pipeline.score(x_train, y_train)),
        test_r2=float(pipeline.score(x_test, y_test)),
    )


def save_model(model: TrainedModel, models_root: Path, name: str = "taxi-model", version: int = 1) -> Path:
    """Save ``model.pkl`` in Azure's ``<name>/<version>/`` layout; returns ``models_root``."""
    import joblib

    folder = Path(models_root) / name / str(version)
    folder.mkdir(parents=True, exist_ok=True)
    joblib.dump(model.pipeline, folder / "model.pkl")
    return Path(models_root)


def rows(frame: Any, count: int) -> list[dict[str, Any]]:
    """The first ``count`` rows of ``frame`` as JSON-ready dicts (Python numbers)."""
    out = []
    for record in frame.head(count).to_dict(orient="records"):
        out.append({k: (int(v) if k != "tripDistance" else float(v)) for k, v in record.items()})
    return out
