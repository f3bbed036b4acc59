"""Train a model that predicts the total fare of a NYC green-taxi trip.

One script for the whole course, run as an experiment run on the tutor's embedded
workspace or, unchanged, on Azure ML (``python train.py --data_user alice`` in a
ScriptRunConfig):

* ``--variant 1`` .. ``5``: day 1's five linear models (the original course fits them with
  R's ``lm``). Each logs ``R^2`` (on the held-out test set), ``RMSE Train`` and ``RMSE Test``.
* ``--variant pipeline`` (the default): day 2 step 4, a scikit-learn Pipeline (numeric
  columns -> StandardScaler, text columns -> impute "missing" + one-hot) then
  LinearRegression. Logs ``Train accuracy`` and ``Test accuracy`` (both R^2 from ``score``).

Every variant saves ``outputs/model.pkl`` (joblib): a whole scikit-learn Pipeline that takes
a DataFrame of the raw columns (vendorID, passengerCount, tripDistance, month_num,
day_of_month, day_of_week, hour_of_day) and predicts totalAmount. The pickle contains only
scikit-learn and numpy objects, so the scoring script can load it without this folder.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

_STARTED = time.perf_counter()

# The models are small (at most 18,577 x 145): one BLAS thread solves them in milliseconds,
# while several threads fighting over two busy cores (parallel runs on a local "cluster")
# can take seconds. Set before numpy is imported; an explicit setting by the caller wins.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

LABEL = "totalAmount"
FEATURES = [
    "vendorID",
    "passengerCount",
    "tripDistance",
    "month_num",
    "day_of_month",
    "day_of_week",
    "hour_of_day",
]
NUMERIC = ["tripDistance", "passengerCount"]
TIME_FACTORS = ["month_num", "day_of_month", "day_of_week", "hour_of_day"]

#: The levels of each categorical factor (day_of_week counts Monday = 0, as pandas does).
#: Fixing them, rather than learning them from the data, keeps the model's columns the same
#: whatever the split, and lets the script refuse data prepared another way (R's wday).
LEVELS: dict[str, list[int]] = {
    "vendorID": [1, 2],
    "month_num": list(range(1, 13)),
    "day_of_month": list(range(1, 32)),
    "day_of_week": list(range(0, 7)),
    "hour_of_day": list(range(0, 24)),
}

#: Day 1's models: name and R formula (vendorID and, from model 4, the time columns are factors).
VARIANTS: dict[str, tuple[str, str]] = {
    "1": ("basic", "totalAmount ~ tripDistance"),
    "2": ("value", "totalAmount ~ tripDistance + passengerCount"),
    "3": ("value, interactions", "totalAmount ~ vendorID*tripDistance + vendorID*passengerCount"),
    "4": (
        "full",
        "totalAmount ~ tripDistance + passengerCount + vendorID + month_num + day_of_month"
        " + day_of_week + hour_of_day",
    ),
    "5": (
        "full, interactions",
        "totalAmount ~ vendorID*(tripDistance + passengerCount + month_num + day_of_month"
        " + day_of_week + hour_of_day)",
    ),
    "pipeline": (
        "scikit-learn pipeline",
        "totalAmount ~ StandardScaler(numeric columns) + OneHot(text columns), LinearRegression",
    ),
}

#: The raw columns each variant needs (the pipeline takes every column but the label).
VARIANT_COLUMNS: dict[str, list[str]] = {
    "1": ["tripDistance"],
    "2": ["passengerCount", "tripDistance"],
    "3": ["vendorID", "passengerCount", "tripDistance"],
    "4": list(FEATURES),
    "5": list(FEATURES),
    "pipeline": [],
}

# Artefacts of saving a frame's index to a file; never features.
INDEX_ARTEFACTS = ("__index_level_0__", "Unnamed: 0", "index")


class InputError(Exception):
    """Bad input the learner can fix: printed as one message, exit status 1."""


# --------------------------------------------------------------------------- command line


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="train.py",
        description="Train a taxi-fare model and log its metrics to the current run.",
    )
    parser.add_argument(
        "--variant",
        choices=list(VARIANTS),
        default="pipeline",
        help="1-5: day 1's linear models; pipeline: day 2's scikit-learn pipeline (default)",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", metavar="PATH", help="prepared data as a .csv or .parquet file")
    source.add_argument("--dataset", metavar="NAME", help="a registered tabular dataset")
    source.add_argument(
        "--data_user",
        "--data-user",
        dest="data_user",
        metavar="USER",
        help="shorthand for --dataset USER-green-taxi-prepped (as day 2 submits it)",
    )
    parser.add_argument(
        "--dataset-version",
        "--dataset_version",
        dest="dataset_version",
        default="latest",
        metavar="V",
        help="version of the registered dataset (default: latest)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random_state of the split (default 0)")
    parser.add_argument(
        "--test-size",
        "--test_size",
        dest="test_size",
        type=float,
        default=0.2,
        help="share of rows held out for testing (default 0.2)",
    )
    parser.add_argument(
        "--output-dir",
        "--output_dir",
        dest="output_dir",
        default="outputs",
        help="where model.pkl is written (default ./outputs, which Azure ML uploads)",
    )
    args = parser.parse_args(argv)
    if not 0.0 < args.test_size < 1.0:
        parser.error(f"--test-size must be between 0 and 1 (got {args.test_size})")
    return args


# --------------------------------------------------------------------------- data


def read_table(path: str) -> Any:
    """A DataFrame from a .csv or .parquet file, or :class:`InputError` saying why not."""
    import pandas as pd

    file = Path(path)
    if not file.is_file():
        raise InputError(f"cannot read the data: {path} does not exist or is not a file")
    suffix = file.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(file)
        if suffix in (".csv", ".txt", ".gz"):
            return pd.read_csv(file)
        try:  # no telling suffix: parquet has a magic number, try it first
            return pd.read_parquet(file)
        except Exception:
            return pd.read_csv(file)
    except Exception as exc:
        raise InputError(f"cannot read the data in {path}: {type(exc).__name__}: {exc}") from exc


def load_data(args: argparse.Namespace) -> tuple[Any, str]:
    """The training frame and a description of where it came from."""
    if args.data:
        return read_table(args.data), args.data
    name = args.dataset or f"{args.data_user}-green-taxi-prepped"
    import aml_run

    try:
        frame = aml_run.load_dataset(name, args.dataset_version)
    except aml_run.DatasetUnavailable as exc:
        raise InputError(str(exc)) from exc
    return frame, f"dataset {name} (version {args.dataset_version})"


def clean_frame(df: Any, needed: list[str], notes: list[str]) -> Any:
    """Check the columns, make the label numeric and drop rows without a label.

    ``needed`` are the feature columns the variant must have (empty for the pipeline,
    which uses whatever is there).
    """
    import pandas as pd

    if df is None or len(df.columns) == 0:
        raise InputError("the data has no columns")
    artefacts = [c for c in df.columns if str(c) in INDEX_ARTEFACTS]
    if artefacts:
        df = df.drop(columns=artefacts)
        notes.append(f"ignored index column(s) {', '.join(map(str, artefacts))}")
    missing = [c for c in [LABEL, *needed] if c not in df.columns]
    if missing:
        have = ", ".join(map(str, df.columns))
        raise InputError(
            f"the data is missing the column(s) {', '.join(missing)} (it has: {have}). "
            "Train on the prepared data (see the data preparation step)."
        )
    df = df.copy()
    for column in [LABEL, *needed]:
        if not pd.api.types.is_numeric_dtype(df[column]):
            converted = pd.to_numeric(df[column], errors="coerce")
            bad = converted.isna() & df[column].notna()
            if bad.any():
                example = df.loc[bad, column].iloc[0]
                raise InputError(f"column {column} must be numeric; found {example!r}")
            df[column] = converted
    subset = [LABEL, *needed]
    incomplete = df[subset].isna().any(axis=1)
    if incomplete.any():
        notes.append(f"dropped {int(incomplete.sum()):,} row(s) with missing {', '.join(subset)} values")
        df = df.loc[~incomplete]
    if len(df) < 10:
        raise InputError(f"only {len(df)} usable row(s): not enough to train and test a model")
    for column, levels in LEVELS.items():
        if column not in needed:
            continue
        values = df[column]
        outside = ~values.isin(levels)
        if outside.any():
            odd = sorted(set(values[outside].tolist()))[:5]
            hint = " (R's wday counts Sunday = 1; the course uses Monday = 0)" if column == "day_of_week" else ""
            raise InputError(
                f"column {column} must be one of {levels[0]}..{levels[-1]}; found {odd}{hint}"
            )
    return df.reset_index(drop=True)


# --------------------------------------------------------------------------- models


def build_linear_model(variant: str) -> Any:
    """Day 1's model ``variant`` ("1".."5") as an unfitted scikit-learn Pipeline.

    Factors are one-hot encoded with the first level dropped (R's treatment contrasts).
    Interactions ``vendorID*x`` are built from scikit-learn parts only:
    PolynomialFeatures(interaction_only) makes every pairwise product and a ColumnTransformer
    keeps the main effects and the products with the vendor columns. Nothing in the
    pipeline comes from this folder, so the pickle loads anywhere scikit-learn does.
    """
    import numpy as np
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, PolynomialFeatures

    if variant not in ("1", "2", "3", "4", "5"):
        raise ValueError(f"unknown day-1 variant {variant!r}")
    factors = {"1": [], "2": [], "3": ["vendorID"], "4": ["vendorID", *TIME_FACTORS], "5": ["vendorID", *TIME_FACTORS]}[variant]
    numeric = ["tripDistance"] if variant == "1" else list(NUMERIC)
    raw = factors + numeric

    steps: list[tuple[str, Any]] = [
        # Pick the columns by name (a scoring request may carry more, in any order)...
        ("select", ColumnTransformer([("raw", "passthrough", raw)], sparse_threshold=0.0)),
        # ...and make them numbers: a JSON request may send "1" for vendor 1.
        ("to_float", FunctionTransformer(np.asarray, kw_args={"dtype": np.float64})),
    ]
    if factors:
        interactions = variant in ("3", "5")
        encoder = OneHotEncoder(
            categories=[[float(v) for v in LEVELS[c]] for c in factors],
            drop="first",
            handle_unknown="ignore",
        )
        steps.append(
            (
                "encode",
                ColumnTransformer(
                    [
                        ("factors", encoder, list(range(len(factors)))),
                        ("numeric", "passthrough", list(range(len(factors), len(raw)))),
                    ],
                    # Sparse into PolynomialFeatures (2,700 mostly-zero products for model 5),
                    # dense otherwise so LinearRegression solves exactly.
                    sparse_threshold=1.0 if interactions else 0.0,
                ),
            )
        )
        if interactions:
            vendor_columns = len(LEVELS["vendorID"]) - 1
            encoded = vendor_columns + sum(len(LEVELS[c]) - 1 for c in factors[1:]) + len(numeric)
            products = PolynomialFeatures(degree=2, interaction_only=True, include_bias=False)
            powers = products.fit(np.zeros((1, encoded))).powers_
            keep = [
                i
                for i, row in enumerate(powers)
                if row.sum() == 1  # main effects
                or (row.sum() == 2 and row[:vendor_columns].sum() == 1)  # vendor x something else
            ]
            steps.append(("interact", products))
            steps.append(("terms", ColumnTransformer([("keep", "passthrough", keep)], sparse_threshold=0.0)))
    steps.append(("regress", LinearRegression()))
    return Pipeline(steps)


def build_course_pipeline(X: Any) -> tuple[Any, list[str], list[str]]:
    """Day 2 step 4's pipeline for the columns of ``X``: (pipeline, numeric columns, text columns).

    Columns are chosen by kind, as the course does: numbers are scaled, text is imputed with
    "missing" and one-hot encoded; anything else (dates) is left out.
    """
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    types = pd.api.types
    numeric = [c for c in X.columns if types.is_numeric_dtype(X[c]) and not types.is_bool_dtype(X[c])]
    numeric += [c for c in X.columns if types.is_bool_dtype(X[c])]
    text = [
        c
        for c in X.columns
        if c not in numeric
        and (types.is_string_dtype(X[c]) or types.is_object_dtype(X[c]) or isinstance(X[c].dtype, pd.CategoricalDtype))
    ]
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
    return Pipeline([("preprocess", preprocess), ("regress", LinearRegression())]), numeric, text


# --------------------------------------------------------------------------- training


def _rmse(y_true: Any, y_pred: Any) -> float:
    import numpy as np

    diff = np.asarray(y_true, dtype=float) - np.asarray(y_pred, dtype=float)
    return float(np.sqrt(np.mean(diff * diff)))


def _r2(y_true: Any, y_pred: Any) -> float:
    import numpy as np

    y = np.asarray(y_true, dtype=float)
    residual = float(np.sum((y - np.asarray(y_pred, dtype=float)) ** 2))
    total = float(np.sum((y - y.mean()) ** 2))
    return 1.0 - residual / total if total > 0 else float("nan")


def train(args: argparse.Namespace) -> dict[str, Any]:
    """Load, fit, log and save; returns what the summary prints."""
    import warnings

    import joblib
    from sklearn.model_selection import train_test_split

    import aml_run

    variant = args.variant
    name, formula = VARIANTS[variant]
    notes: list[str] = []
    raw, source = load_data(args)
    needed = VARIANT_COLUMNS[variant]
    df = clean_frame(raw, needed, notes)

    X = df.drop(columns=[LABEL])
    y = df[LABEL]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=args.test_size, random_state=args.seed)

    metrics: dict[str, float] = {}
    with warnings.catch_warnings():
        # Rank-deficient designs (a factor level missing from the split) are fine for lstsq.
        warnings.simplefilter("ignore", category=RuntimeWarning)
        try:
            if variant == "pipeline":
                model, numeric, text = build_course_pipeline(X_train)
                ignored = [c for c in X.columns if c not in numeric and c not in text]
                if ignored:
                    notes.append(f"ignored column(s) that are neither numbers nor text: {', '.join(map(str, ignored))}")
                if not numeric and not text:
                    raise InputError("the data has no numeric or text feature columns besides totalAmount")
                model.fit(X_train, y_train)
                metrics["Train accuracy"] = float(model.score(X_train, y_train))
                metrics["Test accuracy"] = float(model.score(X_test, y_test))
                extra = {
                    "RMSE Train": _rmse(y_train, model.predict(X_train)),
                    "RMSE Test": _rmse(y_test, model.predict(X_test)),
                }
                features = numeric + text
            else:
                model = build_linear_model(variant)
                model.fit(X_train, y_train)
                train_pred = model.predict(X_train)
                test_pred = model.predict(X_test)
                metrics["R^2"] = _r2(y_test, test_pred)
                metrics["RMSE Train"] = _rmse(y_train, train_pred)
                metrics["RMSE Test"] = _rmse(y_test, test_pred)
                extra = {"R^2 Train": _r2(y_train, train_pred)}
                features = needed
        except InputError:
            raise
        except (ValueError, TypeError) as exc:
            raise InputError(f"the model could not be trained on this data: {exc}") from exc

    run = aml_run.get_run()
    run.tag("variant", variant)
    run.tag("formula", formula)
    for key, value in metrics.items():
        run.log(key, value)

    output_dir = Path(args.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    model_path = output_dir / "model.pkl"
    joblib.dump(model, model_path)

    return {
        "variant": variant,
        "name": name,
        "formula": formula,
        "source": source,
        "rows": len(df),
        "train_rows": len(X_train),
        "test_rows": len(X_test),
        "features": features,
        "metrics": metrics,
        "extra": extra,
        "model_path": str(model_path),
        "run_kind": run.kind,
        "notes": notes,
    }


def summary(result: dict[str, Any], args: argparse.Namespace) -> str:
    """The human-readable report that becomes the run's log."""
    lines = [
        f"train.py: variant {result['variant']} ({result['name']})",
        f"  model      {result['formula']}",
        f"  data       {result['source']}: {result['rows']:,} rows",
        f"  features   {', '.join(map(str, result['features']))}",
        f"  split      {1 - args.test_size:.0%}/{args.test_size:.0%} with random_state={args.seed}: "
        f"{result['train_rows']:,} train, {result['test_rows']:,} test rows",
    ]
    if result["variant"] != "pipeline":
        lines.append("  factors    one-hot, first level dropped (R's treatment contrasts)"
                     if result["variant"] in ("3", "4", "5") else "  factors    none")
    for note in result["notes"]:
        lines.append(f"  note       {note}")
    lines.append("  logged metrics:")
    for key, value in result["metrics"].items():
        label = "R^2 (test set)" if key == "R^2" else key
        lines.append(f"    {label:<16}{value:.6f}")
    lines.append("  also (not logged):")
    for key, value in result["extra"].items():
        lines.append(f"    {key:<16}{value:.6f}")
    lines.append(f"  model      saved to {result['model_path']}")
    lines.append(f"  run        {result['run_kind']}; finished in {time.perf_counter() - _STARTED:.1f} s")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # aml_run.py sits next to this file; make sure it is importable however we are started.
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    try:
        result = train(args)
    except InputError as exc:
        print(f"train.py: error: {exc}", file=sys.stderr)
        return 1
    print(summary(result, args))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
