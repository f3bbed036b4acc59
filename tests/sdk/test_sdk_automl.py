"""``azureml.train.automl`` on a real embedded workspace, with the course's data and code.

The day 2 AutoML lesson's code (the form, the run with ``show_output=True``, ``get_output``,
the test half, ``register_model``) runs against a registered split of the prepared data;
the search is shortened with ``TUTOR_AUTOML_MINUTES`` and a smaller training half so the
default tests stay well under a minute (the full-size run is marked slow). Bad settings
raise azureml's exception types with azureml's messages, and the signatures are compared
with azureml-train-automl-client 1.61's source.

``TUTOR_AUTOML_CLIENT_WHEEL`` names that package's wheel (``pip download
azureml-train-automl-client==1.61.0 --no-deps``) or the folder it was unpacked into; without
it the signature comparison is skipped.
"""

from __future__ import annotations

import ast
import inspect
import json
import logging
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.model_selection import train_test_split

LABEL = "totalAmount"
FEATURES = ["vendorID", "passengerCount", "tripDistance", "month_num", "day_of_month", "day_of_week",
            "hour_of_day"]
#: The default tests' search: 9 s on a 3,000-trip training half.
SHORT_MINUTES = "0.15"
SMALL_TRAIN_ROWS = 3000
TIMEOUT_MESSAGE = "Value for argument [experiment_timeout_hours] is out of range (Range: [0.25 - 8760.0])."
CAP_LINE = "embedded workspace: search capped at 0.15 min of the 15 asked; set TUTOR_AUTOML_MINUTES to change"


@pytest.fixture(scope="module")
def halves(data_path: Path) -> tuple[Any, Any]:
    """The course's 80/20 split of the prepared data (random_state=223)."""
    from tutor.prep import load_raw, prepare

    frame, _ = prepare(load_raw(data_path))
    return train_test_split(frame, test_size=0.2, random_state=223)


def _register(ws: Any, name: str, frame: Any) -> Any:
    """The split step's code: a CSV in data/, uploaded, registered as a tabular dataset."""
    from azureml.core import Dataset

    Path("data").mkdir(exist_ok=True)
    frame.to_csv(f"data/{name}.csv", index=False)
    datastore = ws.get_default_datastore()
    datastore.upload_files([f"data/{name}.csv"], target_path="data/automl", overwrite=True)
    dataset = Dataset.Tabular.from_delimited_files((datastore, f"data/automl/{name}.csv"))
    return dataset.register(ws, name, create_new_version=True)


def _cluster(ws: Any, backend: Any, name: str = "alice-cluster", ready: bool = True) -> Any:
    backend.get_or_create_cluster(name, max_nodes=1)
    if ready:
        backend.wait_for_compute(name)
    from azureml.core.compute import ComputeTarget

    return ComputeTarget(workspace=ws, name=name)


@pytest.fixture
def course(ws: Any, backend: Any, halves: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """train_ds (3,000 trips of the training half), test_ds (the test half), the day 2 cluster."""
    monkeypatch.setenv("TUTOR_AUTOML_MINUTES", SHORT_MINUTES)
    train, test = halves
    return {"train_ds": _register(ws, "alice-green-taxi-auto-train", train.sample(SMALL_TRAIN_ROWS, random_state=0)),
            "test_ds": _register(ws, "alice-green-taxi-auto-test", test),
            "cluster": _cluster(ws, backend)}


def _config(course: dict[str, Any], **changes: Any) -> Any:
    """The lesson's form step, with ``changes``."""
    from azureml.train.automl import AutoMLConfig

    settings = dict(task="regression", training_data=course["train_ds"], label_column_name=LABEL,
                    primary_metric="normalized_root_mean_squared_error", n_cross_validations=5,
                    featurization="auto", model_explainability=True, experiment_timeout_hours=0.25,
                    enable_early_stopping=True, compute_target=course["cluster"])
    settings.update(changes)
    return AutoMLConfig(**settings)


def _rmse_mape(fitted_model: Any, test_ds: Any) -> tuple[float, float]:
    """The evaluate step's code."""
    test_df = test_ds.to_pandas_dataframe()
    y_test = test_df.pop(LABEL)
    y_pred = fitted_model.predict(test_df)
    assert np.isfinite(y_pred).all() and len(y_pred) == len(test_df)
    rmse = float(np.sqrt(np.mean((y_pred - y_test) ** 2)))
    mape = float(np.sum(np.abs(y_pred - y_test)) / np.sum(y_test))
    return rmse, mape


def test_the_lessons_code_searches_with_child_runs_and_registers_the_best_model(
        ws: Any, backend: Any, course: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    from azureml.core import Experiment, Run
    from azureml.core.model import Model
    from azureml.train.automl.run import AutoMLRun

    automl_config = _config(course)
    experiment = Experiment(ws, "alice-taxi-experiment-automl")
    automl_run = experiment.submit(automl_config, show_output=True)
    out = capsys.readouterr().out
    assert isinstance(automl_run, AutoMLRun) and automl_run.get_status() == "Completed"
    assert out.count(CAP_LINE) == 1, out[:2000]
    assert f"Parent Run ID: {automl_run.id}" in out
    assert " ITER   PIPELINE" in out and "DURATION" in out and "BEST" in out
    assert "Submitting remote run." in out

    best_run, fitted_model = automl_run.get_output()
    children = list(automl_run.get_children())
    assert len(children) >= 2 and all(isinstance(c, Run) for c in children)
    assert {c.get_status() for c in children} <= {"Completed", "Canceled"}, [c.get_status() for c in children]
    completed = [c for c in children if c.get_status() == "Completed"]
    assert len(completed) >= 2
    assert all("normalized_root_mean_squared_error" in c.get_metrics() for c in completed)
    # Every finished iteration was printed as it came, with the pipeline Azure names.
    for child in completed:
        assert (child.display_name or "")[:20] in out
    assert best_run.id in {c.id for c in completed}
    assert automl_run.get_tags()["automl_best_child_run_id"] == best_run.id
    assert "outputs/model.pkl" in best_run.get_file_names()
    assert automl_run.get_best_child().id == best_run.id
    # The parent run is the experiment's only top-level run; the children hang below it.
    assert [r.id for r in experiment.get_runs()] == [automl_run.id]
    assert {r.parent_id for r in backend.get_children(automl_run.id)} == {automl_run.id}

    rmse, mape = _rmse_mape(fitted_model, course["test_ds"])
    assert 2.5 < rmse < 6 and 0.05 < mape < 0.3

    model = automl_run.register_model(model_name="alice-automl-model", tags={"Model Type": "AutoML"})
    assert isinstance(model, Model) and model.name == "alice-automl-model" and model.version == 1
    record = backend.get_model("alice-automl-model")
    assert record.run_id == best_run.id and record.tags == {"Model Type": "AutoML"}
    assert automl_run.model_id == "alice-automl-model"

    # Listed again, the parent is an AutoMLRun, as azureml rehydrates it.
    listed = list(experiment.get_runs())
    assert [type(r) for r in listed] == [AutoMLRun] and listed[0].id == automl_run.id
    # A new AutoMLRun object for the same run (as after a restart) reads the model back.
    again = AutoMLRun(experiment, automl_run.id)
    run_again, model_again = again.get_output()
    assert run_again.id == best_run.id
    assert np.allclose(model_again.predict(course["test_ds"].to_pandas_dataframe().drop(columns=[LABEL]).head(20)),
                       fitted_model.predict(course["test_ds"].to_pandas_dataframe().drop(columns=[LABEL]).head(20)))


def test_without_show_output_the_search_runs_in_the_background_until_waited_for(
        ws: Any, course: dict[str, Any], caplog: pytest.LogCaptureFixture,
        capsys: pytest.CaptureFixture[str]) -> None:
    from azureml.core import Experiment

    caplog.set_level(logging.WARNING)
    config = _config(course, max_concurrent_iterations=1, unknown_setting=3)
    run = Experiment(ws, "alice-background").submit(config)
    assert run.get_status() == "Running"
    assert "Received unrecognized parameter unknown_setting" in caplog.text
    details = run.wait_for_completion(show_output=False)
    assert details["status"] == "Completed" and run.get_status() == "Completed"
    best, model = run.get_output()
    assert best.get_status() == "Completed" and model.predict(
        course["test_ds"].to_pandas_dataframe()[FEATURES].head(3)).shape == (3,)
    assert CAP_LINE in capsys.readouterr().out


def test_cancel_stops_a_background_search_and_the_run_ends_canceled(ws: Any, course: dict[str, Any],
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from azureml.core import Experiment

    monkeypatch.setenv("TUTOR_AUTOML_MINUTES", "1")
    run = Experiment(ws, "alice-cancel").submit(_config(course))
    deadline = time.monotonic() + 30
    while not list(run.get_children()) and time.monotonic() < deadline:
        time.sleep(0.2)
    started = time.monotonic()
    run.cancel()
    assert time.monotonic() - started < 20  # nowhere near the one-minute budget
    assert run.get_status() == "Canceled"
    assert list(run.get_children())


def _raises(exc_type: type, call: Any) -> str:
    with pytest.raises(exc_type) as caught:
        call()
    assert type(caught.value) is exc_type
    return str(caught.value)


def test_a_budget_under_a_quarter_hour_is_refused_at_submit_as_on_azure(ws: Any, course: dict[str, Any]) -> None:
    from azureml.core import Experiment
    from azureml.train.automl.exceptions import ConfigException

    experiment = Experiment(ws, "alice-refused")
    for short in ({"experiment_timeout_hours": 0.2}, {"experiment_timeout_hours": None, "experiment_timeout_minutes": 2},
                  {"experiment_timeout_hours": 0.249}):
        config = _config(course, **short)  # accepted here, as the real AutoMLConfig accepts it
        text = _raises(ConfigException, lambda: experiment.submit(config, show_output=True))
        assert text.startswith(f"ConfigException:\n\tMessage: {TIMEOUT_MESSAGE}\n\tInnerException: None\n"
                               "\tErrorResponse \n"), text
        response = json.loads(text.split("ErrorResponse \n", 1)[1])
        assert response == _real_error_response("ArgumentOutOfRange", target="experiment_timeout_hours",
                                                argument_name="experiment_timeout_hours", min=0.25, max=8760.0)
    assert list(experiment.get_runs()) == []  # nothing was started


def test_wrong_metric_missing_label_and_compute_are_refused_with_azures_messages(
        ws: Any, backend: Any, course: dict[str, Any], halves: tuple[Any, Any]) -> None:
    from azureml.core import Experiment
    from azureml.train.automl import AutoMLConfig
    from azureml.train.automl.exceptions import ConfigException, DataException

    experiment = Experiment(ws, "alice-refused")
    text = _raises(ConfigException, lambda: experiment.submit(_config(course, primary_metric="accuracy")))
    message = text.split("\n")[1]
    assert message.startswith("\tMessage: Invalid argument(s) 'primary_metric' specified. Supported value(s): '")
    listed = message.split("Supported value(s): '")[1].rstrip("'.").split(", ")
    assert sorted(listed) == sorted(["spearman_correlation", "normalized_root_mean_squared_error", "r2_score",
                                     "normalized_mean_absolute_error"])

    text = _raises(DataException, lambda: experiment.submit(_config(course, label_column_name="fare")))
    assert "\tMessage: Expected column(s) fare (label_column_name) not found in X.\n" in text
    assert json.loads(text.split("ErrorResponse \n", 1)[1])["error"]["inner_error"]["inner_error"]["code"] == \
        "MissingColumnsInData"

    text = _raises(ConfigException, lambda: experiment.submit(_config(course, label_column_name=None)))
    assert "Message: An empty value for argument [label_column_name] is provided." in text

    text = _raises(ConfigException, lambda: experiment.submit(_config(course, compute_target="no-such-cluster")))
    assert "Message: Compute [no-such-cluster] was not found in workspace [alice-ws]." in text
    creating = _cluster(ws, backend, "alice-creating", ready=False)
    text = _raises(ConfigException, lambda: experiment.submit(_config(course, compute_target=creating)))
    assert "Message: Compute not in 'Succeeded' state. Please choose another compute or wait till it is ready." in text
    frame = halves[0].head(500)
    text = _raises(ConfigException, lambda: experiment.submit(_config(course, training_data=frame)))
    assert (f"Message: Input of type '{type(frame)}' is not supported. Supported types: "
            "[azureml.data.tabular_dataset.TabularDataset]Please refer to documentation") in text

    text = _raises(ConfigException, lambda: experiment.submit(_config(course, n_cross_validations=1)))
    assert "Message: Value for argument [n_cross_validations] is out of range (Range: [2 - 1000])." in text
    assert list(experiment.get_runs()) == []

    # Checked when the config is built, as the real AutoMLConfig does.
    text = _raises(ConfigException, lambda: AutoMLConfig(task="fortune-telling"))
    assert "Message: Invalid argument(s) 'fortune-telling' specified. Supported value(s): '['classification', " \
           "'regression', 'forecasting'," in text
    text = _raises(ConfigException, lambda: _config(course, featurization="smart"))
    assert "Message: Invalid argument(s) 'smart' specified. Supported value(s): 'off, auto'." in text
    text = _raises(ConfigException, lambda: _config(course, allowed_models=["LightGBM"], blocked_models=["LightGBM"]))
    assert "All allowed models are within blocked models list." in text


def test_what_the_embedded_workspace_cannot_do_is_refused_by_name(ws: Any, course: dict[str, Any]) -> None:
    import azureml.train.automl as automl
    from azureml.exceptions import UserErrorException

    with pytest.raises(UserErrorException, match="regression only"):
        _config(course, task="classification", primary_metric="accuracy")
    with pytest.raises(UserErrorException, match=r"AutoMLConfig\(iterations=\.\.\.\) is not supported"):
        _config(course, iterations=10)
    with pytest.raises(ImportError, match="AutoMLImageConfig"):
        automl.AutoMLImageConfig  # noqa: B018
    with pytest.raises(ModuleNotFoundError, match="azureml.train.hyperdrive"):
        import azureml.train.hyperdrive  # noqa: F401
    with pytest.raises(AttributeError, match="supports"):
        _config(course).as_serializable_dict()


@pytest.mark.slow
def test_the_full_training_half_in_the_capped_two_minutes_beats_the_linear_regression(
        ws: Any, backend: Any, halves: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The course's own setting: all 18,577 training trips, 0.25 h asked, capped at 2 minutes."""
    from azureml.core import Experiment

    monkeypatch.delenv("TUTOR_AUTOML_MINUTES", raising=False)
    train, test = halves
    course = {"train_ds": _register(ws, "alice-green-taxi-auto-train", train),
              "test_ds": _register(ws, "alice-green-taxi-auto-test", test), "cluster": _cluster(ws, backend)}
    automl_run = Experiment(ws, "alice-taxi-experiment-automl").submit(_config(course), show_output=True)
    assert "search capped at 2 min of the 15 asked" in capsys.readouterr().out
    best_run, fitted_model = automl_run.get_output()
    rmse, mape = _rmse_mape(fitted_model, course["test_ds"])
    assert rmse < 3.685 and mape < 0.139  # COURSE.md: the course's linear regression on this split


# -- azureml's own messages and signatures ---------------------------------------------------


def _real_error_response(name: str, target: str, **parameters: Any) -> dict[str, Any]:
    """The error response azureml-core (installed with the azure extra) builds for ``name``."""
    code = ("import json, sys\n"
            "from azureml._common._error_definition import AzureMLError\n"
            "from azureml._common._error_definition import user_error\n"
            "from azureml._common.exceptions import AzureMLException\n"
            "name, target, params = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])\n"
            "err = AzureMLError.create(getattr(user_error, name), target=target, **params)\n"
            "e = AzureMLException(exception_message=err.error_message, azureml_error=err)\n"
            "print(e._serialize_json(filter_fields=[AzureMLError.Keys.MESSAGE_FORMAT, "
            "AzureMLError.Keys.MESSAGE_PARAMETERS]))\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "-c", code, name, target, json.dumps(parameters)], capture_output=True,
                            text=True, env=env, cwd="/")
    if result.returncode != 0 and "No module named 'azureml" in result.stderr:
        pytest.skip("azureml-core is not installed (the azure extra)")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _client_sources() -> dict[str, str]:
    """automlconfig.py and run.py of azureml-train-automl-client (TUTOR_AUTOML_CLIENT_WHEEL)."""
    where = os.environ.get("TUTOR_AUTOML_CLIENT_WHEEL")
    if not where or not Path(where).exists():
        pytest.skip("TUTOR_AUTOML_CLIENT_WHEEL does not name azureml-train-automl-client's wheel or unpacked folder")
    files = {"automlconfig": "azureml/train/automl/automlconfig.py", "run": "azureml/train/automl/run.py"}
    path = Path(where)
    if path.is_dir():
        return {key: (path / name).read_text(encoding="utf-8") for key, name in files.items()}
    with zipfile.ZipFile(path) as wheel:
        return {key: wheel.read(name).decode("utf-8") for key, name in files.items()}


#: Defaults the real source spells as expressions, with their values.
_EXPRESSIONS = {"FeaturizationConfigMode.Auto": "auto", "os.name == 'nt'": os.name == "nt",
                "logging.INFO": logging.INFO}


def _real_signature(source: str, cls: str, method: str) -> list[tuple[str, str, Any]]:
    tree = ast.parse(source)
    klass = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls)
    function = next(n for n in klass.body if isinstance(n, ast.FunctionDef) and n.name == method)
    args = function.args
    positional = args.posonlyargs + args.args
    defaults: list[Any] = [inspect.Parameter.empty] * (len(positional) - len(args.defaults)) + list(args.defaults)
    found = []
    for arg, default in zip(positional, defaults):
        found.append((arg.arg, "POSITIONAL_OR_KEYWORD", _value(default)))
    if args.vararg:
        found.append((args.vararg.arg, "VAR_POSITIONAL", inspect.Parameter.empty))
    for arg, default in zip(args.kwonlyargs, args.kw_defaults):
        found.append((arg.arg, "KEYWORD_ONLY", inspect.Parameter.empty if default is None else _value(default)))
    if args.kwarg:
        found.append((args.kwarg.arg, "VAR_KEYWORD", inspect.Parameter.empty))
    return found


def _value(node: Any) -> Any:
    if node is inspect.Parameter.empty:
        return node
    text = ast.unparse(node)
    return _EXPRESSIONS[text] if text in _EXPRESSIONS else ast.literal_eval(node)


def _ours(function: Any) -> list[tuple[str, str, Any]]:
    return [(p.name, p.kind.name, p.default) for p in inspect.signature(function).parameters.values()]


@pytest.mark.parametrize(("module", "cls", "methods"), [
    ("automlconfig", "AutoMLConfig", ["__init__"]),
    ("run", "AutoMLRun", ["__init__", "get_output", "get_best_child", "register_model", "wait_for_completion",
                          "cancel", "complete", "fail", "summary"]),
])
def test_signatures_match_azureml_train_automl_client(sdk_course: Path, module: str, cls: str,
                                                      methods: list[str]) -> None:
    import importlib

    sources = _client_sources()
    ours = getattr(importlib.import_module(f"azureml.train.automl.{module}"), cls)
    assert importlib.util.find_spec("azureml").origin.startswith(str(Path(__file__).resolve().parents[2]))
    for method in methods:
        assert _ours(getattr(ours, method)) == _real_signature(sources[module], cls, method), f"{cls}.{method}"
