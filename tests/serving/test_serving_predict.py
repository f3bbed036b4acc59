"""The prediction prompt, driven from a text stream against the real service."""

from __future__ import annotations

import io
import json
import socket
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import serving_model
from rich.console import Console
from serving_helpers import Service

from tutor import serving
from tutor.predict import StreamPrompter, predict_once, run_repl, target_from_service
from tutor.serving.client import fetch_swagger


def _drive(service: Service, script: str, key: str | None = "primary") -> tuple[list[Any], str]:
    console = Console(file=io.StringIO(), width=160, color_system=None, force_terminal=False)
    target = target_from_service(service.folder)
    chosen = target.key if key == "primary" else key
    history = run_repl(target.scoring_uri, chosen, target.swagger, console,
                       StreamPrompter(io.StringIO(script), console), keys=target.keys, name=target.name)
    output = console.file.getvalue()  # type: ignore[attr-defined]
    return history, output


def test_form_mode_uses_swagger_defaults_and_checks_types(taxi_service: Service, trained: Any,
                                                          sample_trip: dict) -> None:
    # Enter opens the form; every field keeps its default except tripDistance, typed
    # wrongly once ("far") and then correctly.
    answers = ["", "", "", "far", "10", "", "", "", ""]
    history, output = _drive(taxi_service, "\n".join(answers) + "\n:quit\n")
    assert len(history) == 1 and history[0].result.ok
    expected = float(trained.pipeline.predict(pd.DataFrame([{**sample_trip, "tripDistance": 10.0}]))[0])
    assert history[0].result.predictions[0] == pytest.approx(expected, abs=1e-9)
    assert "tripDistance takes a number" in output
    assert f"Predicted total fare: ${expected:,.2f}" in output
    assert "ms round trip" in output


def test_raw_json_and_history(taxi_service: Service, sample_trip: dict) -> None:
    script = f'{json.dumps({"data": [sample_trip]})}\n{json.dumps([sample_trip, sample_trip])}\n:history\n'
    history, output = _drive(taxi_service, script)
    assert [h.result.rows for h in history] == [1, 2]
    assert all(h.result.ok for h in history)
    assert "Calls this session" in output and "json" in output


def test_refusals_are_explained(taxi_service: Service, sample_trip: dict) -> None:
    bad_row = {**sample_trip, "tripDistance": "far"}
    script = f"{json.dumps([bad_row])}\n{{not json\n"
    history, output = _drive(taxi_service, script)
    assert history[0].result.status == 422
    assert "row 0, field 'tripDistance'" in output
    assert "not valid JSON" in output  # caught before sending: only one call made
    assert len(history) == 1
    _, refused = _drive(taxi_service, json.dumps([sample_trip]) + "\n", key="stale-key")
    assert "401 Unauthorized" in refused and "regenerated" in refused


def test_connection_refused_is_explained() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = predict_once(f"http://127.0.0.1:{port}/score", None, [{"a": 1}], timeout=5)
    assert not result["ok"] and result["status"] is None
    assert "connection refused" in result["message"] and "not running" in result["message"]


def test_predict_once_returns_a_json_safe_outcome(taxi_service: Service, sample_trip: dict) -> None:
    key, _ = serving.get_keys(taxi_service.folder)
    result = predict_once(taxi_service.uri, key, json.dumps({"data": [sample_trip]}))
    assert result["ok"] and result["status"] == 200 and result["rows"] == 1
    assert len(result["predictions"]) == 1 and result["latency_ms"] > 0
    json.dumps(result)
    refused = predict_once(taxi_service.uri, None, [sample_trip])
    assert refused["status"] == 401 and "did not accept the key" in refused["message"]


def test_keys_and_curl_are_masked_unless_asked(taxi_service: Service) -> None:
    primary, secondary = serving.get_keys(taxi_service.folder)
    _, hidden = _drive(taxi_service, ":keys\n:curl\n")
    assert primary not in hidden and secondary not in hidden
    assert primary[:4] + "****" in hidden
    assert "curl -X POST " + taxi_service.uri in hidden
    assert "requests.post(scoring_uri" in hidden
    _, shown = _drive(taxi_service, ":keys show\n:curl show\n")
    assert primary in shown and secondary in shown
    assert f"SERVICE_KEY={primary}" in shown and "Bearer $SERVICE_KEY" in shown


def test_swagger_command_lists_the_fields(taxi_service: Service) -> None:
    _, output = _drive(taxi_service, ":swagger\n")
    for name in serving_model.FEATURES:
        assert name in output
    assert "integer (int64)" in output and "number (double)" in output


def test_batch_mode_scores_a_csv(taxi_service: Service, trained: Any, tmp_path: Path) -> None:
    frame = trained.x_test.head(1500).copy()
    frame["totalAmount"] = 20.0
    source = tmp_path / "trips.csv"
    frame.to_csv(source, index=False)
    out = tmp_path / "predictions.csv"
    history, output = _drive(taxi_service, f":csv {source} {out}\n")
    assert [h.result.rows for h in history] == [1000, 500]
    assert "1500 rows scored in 2 request(s)" in output
    assert "RMSE" in output
    scored = pd.read_csv(out)
    expected = trained.pipeline.predict(trained.x_test.head(1500))
    assert scored["prediction"].to_numpy() == pytest.approx(expected, abs=1e-9)


def test_batch_mode_reports_a_bad_cell(taxi_service: Service, tmp_path: Path) -> None:
    source = tmp_path / "bad.csv"
    source.write_text(",".join(serving_model.FEATURES) + "\n1,1,four,1,4,1,18\n")
    history, output = _drive(taxi_service, f":csv {source}\n")
    assert history == []
    assert "line 2, column tripDistance" in output


def test_end_of_input_leaves_the_prompt(taxi_service: Service) -> None:
    history, output = _drive(taxi_service, "")
    assert history == [] and "Prediction prompt" in output


def test_fetch_swagger_next_to_the_scoring_uri(taxi_service: Service) -> None:
    doc = fetch_swagger(taxi_service.uri)
    assert doc is not None and doc["swagger"] == "2.0"
