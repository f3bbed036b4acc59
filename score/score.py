"""The course's scoring script: turn posted taxi trips into fare predictions.

A deployed service imports this file and calls ``init()`` once per worker, then ``run()``
for every request. The same file runs unchanged on Azure Machine Learning (ACI, AKS,
managed endpoints), under Microsoft's ``azureml-inference-server-http`` (``azmlinfsrv``)
and on the tutor's local scoring server.

Why the decorators: ``inference-schema`` records what ``run()`` takes and returns, so the
service can publish a swagger document (``GET /swagger.json``) and turn the posted JSON
rows into a pandas DataFrame with the right column types before ``run()`` sees them.

Why numbers in the sample: the day-2 model is a scikit-learn Pipeline trained on the
prepared CSV, where all seven features are numbers (vendorID and the four time columns
included). The decorator casts every posted column to the sample's type, so a numeric
sample tells clients to send numbers. (The original course's sample wrote vendorID and
the time columns as strings, a habit from the R model of day 1, which treated them as
factors; strings such as "1" are still accepted: the decorator converts them.)
"""

from __future__ import annotations

import os
from pathlib import Path

import joblib
import pandas as pd
from inference_schema.parameter_types.pandas_parameter_type import PandasParameterType
from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType
from inference_schema.schema_decorators import input_schema, output_schema

MODEL_FILE = "model.pkl"

# The course's sample trip: vendor 1, one passenger, 4.2 miles, 4 January at 18:00. Its
# day_of_week 1 is Tuesday in pandas' count (Monday = 0); the course took the trip from
# the R lesson, where wday 1 is Sunday (which 4 January 2015 was).
SAMPLE_INPUT = pd.DataFrame(
    {
        "vendorID": [1],
        "passengerCount": [1],
        "tripDistance": [4.2],
        "month_num": [1],
        "day_of_month": [4],
        "day_of_week": [1],
        "hour_of_day": [18],
    }
)
# What a response looks like: one predicted total fare (in dollars) per posted trip. The
# value is the original course's example, not this model's answer: the day-2 pipeline
# predicts about 19.30 for the sample trip (day 1's R model with factor columns comes
# closer to 18.2).
SAMPLE_OUTPUT = [18.2281]

model = None


def _find_model_file(model_dir: Path) -> Path:
    """The model file under ``model_dir``.

    Azure mounts a registered model either directly in AZUREML_MODEL_DIR or under
    ``<model name>/<version>/``, depending on how it was registered and deployed, so
    look in the folder first and then below it.
    """
    direct = model_dir / MODEL_FILE
    if direct.is_file():
        return direct
    found = sorted(model_dir.rglob(MODEL_FILE))
    if not found:
        raise FileNotFoundError(
            f"no {MODEL_FILE} under AZUREML_MODEL_DIR={model_dir}; "
            "register the model folder that holds the trained model.pkl"
        )
    return found[0]


def init() -> None:
    """Load the trained pipeline once, when the service starts."""
    global model
    model_dir = os.environ.get("AZUREML_MODEL_DIR")
    if not model_dir:
        raise RuntimeError("AZUREML_MODEL_DIR is not set: the service must say where the model is")
    model = joblib.load(_find_model_file(Path(model_dir)))


@input_schema("data", PandasParameterType(SAMPLE_INPUT))
@output_schema(StandardPythonParameterType(SAMPLE_OUTPUT))
def run(data: pd.DataFrame) -> list[float]:
    """Predict the total fare of each posted trip.

    ``data`` arrives as a DataFrame (the decorator built it from the JSON rows); the
    pipeline does its own scaling and encoding, so the raw columns go straight in.
    """
    if model is None:
        raise RuntimeError("init() has not loaded the model")
    return [float(fare) for fare in model.predict(data)]
