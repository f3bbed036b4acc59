"""The course's service over real HTTP: predictions, keys, every refusal, swagger."""

from __future__ import annotations

import json
import threading
from typing import Any

import pandas as pd
import pytest
import requests
import serving_model
from serving_helpers import Service

from tutor import serving


def test_health_answers_healthy(taxi_service: Service) -> None:
    response = requests.get(taxi_service.base + "/", timeout=5)
    assert response.status_code == 200
    assert response.text == "Healthy"


def test_state_is_healthy_and_fast_to_start(taxi_service: Service) -> None:
    info = serving.get_state(taxi_service.folder)
    assert info.state == serving.HEALTHY
    assert info.startup_seconds is not None and info.startup_seconds < 30
    assert info.scoring_uri.startswith("http://127.0.0.1:") and info.scoring_uri.endswith("/score")
    assert serving.scoring_uri(taxi_service.folder) == info.scoring_uri
    assert serving.swagger_uri(taxi_service.folder) == info.base_uri + "/swagger.json"


def test_sample_trip_gets_the_models_prediction(taxi_service: Service, trained: Any, sample_trip: dict) -> None:
    response = requests.post(taxi_service.uri, json={"data": [sample_trip]}, headers=taxi_service.auth(), timeout=10)
    assert response.status_code == 200, response.text
    [fare] = response.json()
    expected = float(trained.pipeline.predict(pd.DataFrame([sample_trip]))[0])
    assert fare == pytest.approx(expected, abs=1e-9)
    # The day-2 linear model on this data: a 4.2-mile trip costs about $19.30.
    assert 15.0 < fare < 25.0
    assert float(response.headers["x-ms-run-fn-exec-ms"]) >= 0


def test_course_client_code_two_trips(taxi_service: Service, trained: Any) -> None:
    """The notebook's call: requests.post with a JSON string and a Bearer header."""
    key, _ = serving.get_keys(taxi_service.folder)
    trips = serving_model.rows(trained.x_test, 2)
    headers = {"Content-Type": "application/json", "Authorization": "Bearer " + key}
    response = requests.post(taxi_service.uri, json.dumps({"data": trips}), headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    fares = response.json()
    assert len(fares) == 2
    expected = trained.pipeline.predict(pd.DataFrame(trips))
    assert fares == pytest.approx(list(expected), abs=1e-9)


def test_original_courses_string_sample_is_accepted(taxi_service: Service, sample_trip: dict) -> None:
    as_text = {k: (str(v) if k not in ("passengerCount", "tripDistance") else v) for k, v in sample_trip.items()}
    first = requests.post(taxi_service.uri, json={"data": [as_text]}, headers=taxi_service.auth(), timeout=10)
    second = requests.post(taxi_service.uri, json={"data": [sample_trip]}, headers=taxi_service.auth(), timeout=10)
    assert first.status_code == 200, first.text
    assert first.json() == second.json()


def test_secondary_key_works_too(taxi_service: Service, sample_trip: dict) -> None:
    response = requests.post(taxi_service.uri, json={"data": [sample_trip]}, headers=taxi_service.auth(1), timeout=10)
    assert response.status_code == 200


@pytest.mark.parametrize(
    "headers, challenge",
    [
        ({}, 'Bearer realm="taxi-cost-pred"'),
        ({"Authorization": "Bearer not-a-key"}, 'error="invalid_token"'),
        ({"Authorization": "Basic abc"}, 'error="invalid_request"'),
    ],
    ids=["missing", "wrong", "not-bearer"],
)
def test_requests_without_a_valid_key_get_401(taxi_service: Service, sample_trip: dict, headers: dict,
                                               challenge: str) -> None:
    response = requests.post(taxi_service.uri, json={"data": [sample_trip]}, headers=headers, timeout=10)
    assert response.status_code == 401
    assert challenge in response.headers["WWW-Authenticate"]
    assert "key" in response.json()["message"]


def _post_raw(service: Service, body: bytes | str, content_type: str = "application/json") -> requests.Response:
    headers = {**service.auth(), "Content-Type": content_type}
    return requests.post(service.uri, data=body, headers=headers, timeout=10)


def test_malformed_json_is_400_with_line_and_column(taxi_service: Service) -> None:
    response = _post_raw(taxi_service, '{"data": [\n  {"vendorID": 1,}\n]}')
    assert response.status_code == 400
    body = response.json()
    assert (body["line"], body["column"]) == (2, 18)
    assert "line 2, column 18" in body["message"]


@pytest.mark.parametrize(
    "payload, fragment",
    [
        ({"rows": []}, "no 'data' field"),
        ([1, 2], "must be a JSON object"),
    ],
    ids=["no-data", "not-an-object"],
)
def test_body_without_data_is_400(taxi_service: Service, payload: Any, fragment: str) -> None:
    response = _post_raw(taxi_service, json.dumps(payload))
    assert response.status_code == 400
    assert fragment in response.json()["message"]


def _rows_with(sample: dict, change: dict | None = None, drop: str | None = None) -> list[dict]:
    good = dict(sample)
    bad = {**sample, **(change or {})}
    if drop:
        bad.pop(drop)
    return [good, bad]


@pytest.mark.parametrize(
    "change, drop, field, words",
    [
        (None, "tripDistance", "tripDistance", "is missing"),
        ({"color": "red"}, None, "color", "not a field"),
        ({"tripDistance": "far"}, None, "tripDistance", "must be a number"),
        ({"passengerCount": 1.5}, None, "passengerCount", "whole number"),
        ({"hour_of_day": None}, None, "hour_of_day", "no value"),
        ({"vendorID": True}, None, "vendorID", "whole number"),
    ],
    ids=["missing", "extra", "text-for-number", "fraction-for-integer", "null", "boolean"],
)
def test_bad_rows_are_422_naming_row_and_field(taxi_service: Service, sample_trip: dict, change: dict | None,
                                               drop: str | None, field: str, words: str) -> None:
    response = _post_raw(taxi_service, json.dumps({"data": _rows_with(sample_trip, change, drop)}))
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["errors"][0]["row"] == 1
    assert body["errors"][0]["field"] == field
    assert words in body["errors"][0]["problem"]
    assert f"row 1, field '{field}'" in body["message"]


def test_empty_rows_and_non_list_data_are_422(taxi_service: Service) -> None:
    empty = _post_raw(taxi_service, json.dumps({"data": []}))
    assert empty.status_code == 422 and "no rows" in empty.json()["message"]
    scalar = _post_raw(taxi_service, json.dumps({"data": 3}))
    assert scalar.status_code == 422 and "must be a list" in scalar.json()["message"]


def test_body_over_the_limit_is_413(taxi_service: Service, sample_trip: dict) -> None:
    rows = [sample_trip] * 12000  # about 1.5 MB, over the default 1 MiB
    response = _post_raw(taxi_service, json.dumps({"data": rows}))
    assert response.status_code == 413
    assert response.json()["limit"] == 1024 * 1024


def test_unknown_route_404_and_wrong_method_405(taxi_service: Service) -> None:
    missing = requests.get(taxi_service.base + "/predict", timeout=5)
    assert missing.status_code == 404
    assert "POST /score" in missing.json()["message"]
    wrong = requests.get(taxi_service.uri, timeout=5)
    assert wrong.status_code == 405
    assert wrong.headers["Allow"] == "POST"
    assert "use POST" in wrong.json()["message"]


def test_non_json_content_type_is_415(taxi_service: Service) -> None:
    response = _post_raw(taxi_service, "vendorID=1", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert "Content-Type: application/json" in response.json()["message"]


def test_service_stays_up_after_bad_requests(taxi_service: Service, sample_trip: dict) -> None:
    for body in ("{", "[]", '{"data": [{}]}', "\x00\xff"):
        _post_raw(taxi_service, body.encode("latin-1"))
    assert serving.get_state(taxi_service.folder).state == serving.HEALTHY
    ok = requests.post(taxi_service.uri, json={"data": [sample_trip]}, headers=taxi_service.auth(), timeout=10)
    assert ok.status_code == 200


def test_swagger_v2_by_default_with_example_and_bearer(taxi_service: Service, sample_trip: dict) -> None:
    response = requests.get(taxi_service.base + "/swagger.json", timeout=5)
    assert response.status_code == 200
    doc = response.json()
    assert doc["swagger"] == "2.0"
    assert set(doc["paths"]) == {"/", "/score", "/swagger.json"}
    service_input = doc["definitions"]["ServiceInput"]
    assert service_input["example"] == {"data": [sample_trip]}
    row = service_input["properties"]["data"]["items"]
    assert row["properties"]["tripDistance"]["type"] == "number"
    assert row["properties"]["vendorID"]["type"] == "integer"
    assert doc["definitions"]["ServiceOutput"]["example"] == [18.2281]
    assert doc["securityDefinitions"]["Bearer"]["name"] == "Authorization"
    assert doc["paths"]["/score"]["post"]["security"] == [{"Bearer": []}]


def test_swagger_v3_and_unknown_version(taxi_service: Service) -> None:
    doc = requests.get(taxi_service.base + "/swagger.json?version=3", timeout=5).json()
    assert doc["openapi"].startswith("3.0")
    assert doc["components"]["securitySchemes"]["Bearer"]["in"] == "header"
    assert "ServiceInput" in doc["components"]["schemas"]
    bad = requests.get(taxi_service.base + "/swagger.json?version=9", timeout=5)
    assert bad.status_code == 404 and "Supported versions" in bad.json()["message"]


def test_concurrent_requests_each_get_their_own_predictions(taxi_service: Service, trained: Any) -> None:
    """Requests scored together (batching) answer exactly as when scored alone."""
    trips = serving_model.rows(trained.x_test, 48)
    expected = trained.pipeline.predict(pd.DataFrame(trips))
    results: dict[int, Any] = {}
    headers = taxi_service.auth()

    def client(start: int) -> None:
        with requests.Session() as session:
            for index in range(start, len(trips), 8):
                chunk = trips[index:index + 1] if index % 3 else trips[index:index + 2]
                response = session.post(taxi_service.uri, json={"data": chunk}, headers=headers, timeout=10)
                results[index] = (response.status_code, response.json())

    threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == len(trips)
    for index, (status, fares) in results.items():
        assert status == 200
        assert fares[0] == pytest.approx(expected[index], abs=1e-9)
        assert len(fares) == (1 if index % 3 else min(2, len(trips) - index))
