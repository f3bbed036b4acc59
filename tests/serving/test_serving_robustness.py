"""What an attacker, a crash or a careful reviewer would try against a real service.

Nesting that breaks the JSON parser, predictions JSON cannot carry, a swagger document
that must say exactly what the server does, a log flooded by refused keys, and key
rotations the server must never miss.
"""

from __future__ import annotations

import http.client
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from serving_helpers import SCORE_PY, Service, ServiceFactory, wait_for

from tutor import serving
from tutor.serving import keys as keys_mod
from tutor.serving import record


def _log_lines(service: Service) -> list[str]:
    return serving.get_logs(service.folder).splitlines()


def _strict_json(text: str) -> Any:
    """``text`` as strict JSON: NaN and Infinity are not JSON."""

    def refuse(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


# -- 1. JSON nested deeper than the parser can go ---------------------------------


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deeply_nested_json_is_400_and_the_connection_stays_open(taxi_service: Service, sample_trip: dict,
                                                                 depth: int) -> None:
    before = len(_log_lines(taxi_service))
    body = '{"data": ' + "[" * depth + "]" * depth + "}"
    headers = {**taxi_service.auth(), "Content-Type": "application/json"}
    connection = http.client.HTTPConnection("127.0.0.1", taxi_service.info.port, timeout=10)
    try:
        connection.request("POST", "/score", body=body, headers=headers)
        response = connection.getresponse()
        answer = _strict_json(response.read().decode())
        assert response.status == 400, answer
        assert "nested" in answer["message"] and '{"data": [' in answer["message"]
        assert not response.will_close and response.getheader("connection") != "close"
        sock = connection.sock
        # The same kept-alive connection answers the next request.
        connection.request("POST", "/score", body=json.dumps({"data": [sample_trip]}), headers=headers)
        follow_up = connection.getresponse()
        assert follow_up.status == 200
        json.loads(follow_up.read())
        assert connection.sock is sock
    finally:
        connection.close()
    new = wait_for(lambda: [line for line in _log_lines(taxi_service)[before:] if "-> 400" in line], timeout=10.0)
    time.sleep(0.2)  # anything else the refusal wrote has reached the log by now
    added = _log_lines(taxi_service)[before:]
    assert len(new) == 1 and added == new, added
    assert "Traceback" not in "\n".join(added)


# -- 2. predictions that are not finite numbers --------------------------------------


@pytest.mark.parametrize("distance", [-1e308, 1e308])
def test_a_non_finite_prediction_is_422_in_strict_json(taxi_service: Service, sample_trip: dict,
                                                       distance: float) -> None:
    rows = [sample_trip, {**sample_trip, "tripDistance": distance}]
    response = requests.post(taxi_service.uri, json={"data": rows}, headers=taxi_service.auth(), timeout=10)
    body = _strict_json(response.text)  # never NaN or Infinity on the wire
    assert response.status_code == 422, body
    assert response.headers["content-type"].startswith("application/json")
    assert "not a finite number" in body["message"] and "row 1" in body["message"]
    assert [error["row"] for error in body["errors"]] == [1]
    # The same service still answers the finite trip.
    ok = requests.post(taxi_service.uri, json={"data": [sample_trip]}, headers=taxi_service.auth(), timeout=10)
    assert ok.status_code == 200 and _strict_json(ok.text)[0] > 0


# -- 3. the swagger document says what the server does ----------------------------------


def _service_input(doc: dict[str, Any]) -> dict[str, Any]:
    if "definitions" in doc:
        return doc["definitions"]["ServiceInput"]
    return doc["components"]["schemas"]["ServiceInput"]


@pytest.mark.parametrize("version", ["2", "3"])
def test_swagger_requires_data_with_at_least_one_complete_row(taxi_service: Service, sample_trip: dict,
                                                              version: str) -> None:
    doc = requests.get(f"{taxi_service.base}/swagger.json?version={version}", timeout=5).json()
    service_input = _service_input(doc)
    assert service_input["required"] == ["data"]
    data = service_input["properties"]["data"]
    assert data["minItems"] == 1
    row = data["items"]
    assert sorted(row["required"]) == sorted(sample_trip) and row["additionalProperties"] is False
    assert row["properties"]["vendorID"]["minimum"] == -(2**63)
    assert row["properties"]["vendorID"]["maximum"] == 2**63 - 1
    # ... and the server refuses what the document says is not valid.
    for body, status in (({}, 400), ({"data": []}, 422)):
        response = requests.post(taxi_service.uri, json=body, headers=taxi_service.auth(), timeout=10)
        assert response.status_code == status, body


def test_swagger_describes_the_health_route_as_text(taxi_service: Service) -> None:
    health = requests.get(taxi_service.base + "/", timeout=5)
    assert health.text == "Healthy" and health.headers["content-type"].startswith("text/plain")
    v2 = requests.get(taxi_service.base + "/swagger.json", timeout=5).json()
    assert v2["paths"]["/"]["get"]["produces"][0] == "text/plain"
    assert v2["paths"]["/swagger.json"]["get"]["responses"]["200"]["schema"]["type"] == "object"
    v3 = requests.get(taxi_service.base + "/swagger.json?version=3", timeout=5).json()
    assert "text/plain" in v3["paths"]["/"]["get"]["responses"]["200"]["content"]
    # Only /score checks a key, so only /score asks for one.
    assert v3["paths"]["/"]["get"]["security"] == [] and v3["paths"]["/swagger.json"]["get"]["security"] == []
    assert requests.get(taxi_service.base + "/", timeout=5, headers={}).status_code == 200


# -- 4. the service log stays bounded under a key-guessing flood ---------------------------


def test_the_log_rotates_under_a_flood_of_refused_keys(services: ServiceFactory, tmp_path: Path) -> None:
    script = tmp_path / "score.py"
    script.write_text("def init():\n    print('model loaded')\n\ndef run(data):\n    return data\n")
    limit = 16 * 1024
    service = services.deploy("flooded", script, tmp_path, log_max_bytes=limit)
    with requests.Session() as session:
        for attempt in range(1_500):
            response = session.post(service.uri, data="{}", timeout=10,
                                    headers={"Authorization": f"Bearer guess-{attempt}"})
            assert response.status_code == 401
        last = session.post(service.uri, data="{}", timeout=10, headers={"Authorization": "Bearer final-guess"})
        assert last.status_code == 401
    folder = service.folder
    logs = sorted(folder.glob("service.log*"))
    wait_for(lambda: "-> 401" in serving.get_logs(folder, tail=1), timeout=10.0)
    assert (folder / "service.log").stat().st_size <= limit
    assert len(logs) >= 2  # it did rotate
    assert sum(p.stat().st_size for p in logs) <= limit * (record.LOG_BACKUPS + 1)
    assert len(logs) <= record.LOG_BACKUPS + 1
    text = serving.get_logs(folder)
    assert text.count("-> 401") > 100 and all(line.count(" worker ") <= 1 for line in text.splitlines())
    # A refused key costs one short line, and the service still answers.
    assert max(len(line) for line in text.splitlines() if "-> 401" in line) < 160
    assert requests.post(service.uri, data="{}", headers=service.auth(), timeout=10).status_code == 200
    assert serving.get_state(folder).state == serving.HEALTHY


def test_wait_streams_every_line_across_rotations(services: ServiceFactory, tmp_path: Path) -> None:
    script = tmp_path / "score.py"
    script.write_text(
        "import time\n\n"
        "def init():\n"
        "    for batch in range(30):\n"
        "        for n in range(40):\n"
        "            print(f'init line {batch * 40 + n:05d} ' + 'x' * 40)\n"
        "        time.sleep(0.05)\n\n"
        "def run(data):\n    return data\n"
    )
    lines: list[str] = []
    service = services.deploy("rotating-start", script, tmp_path, wait=False, auth_enabled=False,
                              log_max_bytes=8 * 1024)
    serving.wait_for_deployment(service.folder, on_log_line=lines.append, timeout=60)
    printed = [line for line in lines if line.startswith("init line ")]
    assert printed == [f"init line {n:05d} " + "x" * 40 for n in range(1200)]
    assert (service.folder / "service.log.1").exists()


def test_worker_output_still_reaches_the_log(services: ServiceFactory, tmp_path: Path) -> None:
    script = tmp_path / "score.py"
    script.write_text(
        "import sys, warnings\n\n"
        "def init():\n"
        "    print('model loaded')\n"
        "    print('a warning on stderr', file=sys.stderr)\n"
        "    warnings.warn('a library warning')\n\n"
        "def run(data):\n"
        "    raise ValueError('run failed on purpose')\n"
    )
    service = services.deploy("chatty", script, tmp_path, auth_enabled=False)
    response = requests.post(service.uri, data='{"data": 1}', timeout=10)
    assert response.status_code == 500
    text = wait_for(lambda: (t := serving.get_logs(service.folder)) and "run failed on purpose" in t and t, timeout=10.0)
    for fragment in ("model loaded", "a warning on stderr", "a library warning", "Traceback",
                     "ValueError: run failed on purpose", "service state: Healthy"):
        assert fragment in text, fragment


# -- 5. key rotations the server cannot miss ------------------------------------------------


def test_two_rotations_in_one_clock_tick_are_both_seen(tmp_path: Path) -> None:
    """Coarse timestamps, a reused inode and a fixed size: the old key is still refused."""
    first = keys_mod.create_keys(tmp_path)
    path = tmp_path / "keys.json"
    checker = keys_mod.KeyChecker(tmp_path)
    assert checker.check(f"Bearer {first.primary}") is None
    seen = os.stat(path)
    for _ in range(10):  # rotate until the file is back on the inode the checker saw
        keys_mod.regenerate(tmp_path, "Primary")
        keys_mod.regenerate(tmp_path, "Primary")
        if os.stat(path).st_ino == seen.st_ino:
            break
    now = os.stat(path)
    assert now.st_size == seen.st_size
    os.utime(path, ns=(seen.st_atime_ns, seen.st_mtime_ns))  # both rotations "in the same tick"
    current = keys_mod.read_keys(tmp_path)
    assert checker.check(f"Bearer {first.primary}") == "invalid"
    assert checker.check(f"Bearer {current.primary}") is None
    assert checker.check(f"Bearer {first.secondary}") is None  # the secondary was never rotated


def test_a_rotated_key_is_refused_by_every_worker_at_once(services: ServiceFactory, model_dir: Path,
                                                          sample_trip: dict) -> None:
    service = services.deploy("rotating", SCORE_PY, model_dir, workers=2)
    body = {"data": [sample_trip]}
    for _ in range(5):
        old, _ = serving.get_keys(service.folder)
        new, _ = serving.regen_key(service.folder, "Primary")
        # Fresh connections land on either worker; none may still take the old key.
        for _ in range(8):
            assert requests.post(service.uri, json=body, headers={"Authorization": f"Bearer {old}"},
                                 timeout=10).status_code == 401
            assert requests.post(service.uri, json=body, headers={"Authorization": f"Bearer {new}"},
                                 timeout=10).status_code == 200
