"""Deploying, failing, killing, redeploying and deleting real service processes."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
from pathlib import Path

import pytest
import requests
from serving_helpers import SCORE_PY, Service, ServiceFactory, wait_for

from tutor import serving
from tutor.errors import StepFailed, TutorError


def test_key_rotation_refuses_the_old_key_at_once(taxi_service: Service, sample_trip: dict) -> None:
    old_primary, secondary = serving.get_keys(taxi_service.folder)
    with requests.Session() as session:  # one kept-alive connection, like a long-lived client
        body = {"data": [sample_trip]}
        assert session.post(taxi_service.uri, json=body, headers={"Authorization": f"Bearer {old_primary}"},
                            timeout=10).status_code == 200
        new_primary, same_secondary = serving.regen_key(taxi_service.folder, "Primary")
        assert new_primary != old_primary and same_secondary == secondary
        refused = session.post(taxi_service.uri, json=body, headers={"Authorization": f"Bearer {old_primary}"},
                               timeout=10)
        assert refused.status_code == 401
        assert session.post(taxi_service.uri, json=body, headers={"Authorization": f"Bearer {new_primary}"},
                            timeout=10).status_code == 200
        assert session.post(taxi_service.uri, json=body, headers={"Authorization": f"Bearer {secondary}"},
                            timeout=10).status_code == 200
    _, new_secondary = serving.regen_key(taxi_service.folder, "secondary")
    assert new_secondary != secondary
    assert serving.get_keys(taxi_service.folder) == (new_primary, new_secondary)


def test_keys_are_private_and_never_in_record_or_log(taxi_service: Service, sample_trip: dict) -> None:
    keys_file = taxi_service.folder / "keys.json"
    assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600
    requests.post(taxi_service.uri, json={"data": [sample_trip]}, headers={"Authorization": "Bearer wrong"},
                  timeout=10)
    primary, secondary = serving.get_keys(taxi_service.folder)
    for name in ("service.json", "service.log"):
        text = (taxi_service.folder / name).read_text()
        assert primary not in text and secondary not in text
    record = json.loads((taxi_service.folder / "service.json").read_text())
    assert record["config"]["tags"] == {"Model Type": "linear regression"}


def test_unknown_key_name_is_refused(taxi_service: Service) -> None:
    with pytest.raises(TutorError, match="'Primary' or 'Secondary'"):
        serving.regen_key(taxi_service.folder, "Tertiary")


def test_deploying_over_an_existing_service_needs_overwrite(taxi_service: Service, model_dir: Path) -> None:
    with pytest.raises(TutorError, match="overwrite=True"):
        serving.deploy(taxi_service.folder, SCORE_PY, model_dir)


def test_killed_service_is_failed_and_can_be_redeployed(services: ServiceFactory, model_dir: Path,
                                                        sample_trip: dict) -> None:
    service = services.deploy("killed", SCORE_PY, model_dir)
    os.kill(service.info.pid, signal.SIGKILL)
    info = wait_for(lambda: (s := serving.get_state(service.folder)).state == serving.FAILED and s)
    assert f"pid {service.info.pid}" in info.reason and "killed or crashed" in info.reason
    # The workers follow their supervisor down: nothing answers on the old port.
    wait_for(lambda: _port_closed(service.info.port))
    again = services.deploy("killed", SCORE_PY, model_dir, overwrite=True)
    assert again.info.state == serving.HEALTHY
    response = requests.post(again.uri, json={"data": [sample_trip]}, headers=again.auth(), timeout=10)
    assert response.status_code == 200


def _port_closed(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return False
    except OSError:
        return True


def test_init_that_raises_fails_the_service_with_the_reason_in_the_log(services: ServiceFactory,
                                                                       tmp_path: Path) -> None:
    script = tmp_path / "score.py"
    script.write_text(
        "def init():\n"
        "    raise RuntimeError('model.pkl is not a scikit-learn model')\n\n"
        "def run(data):\n"
        "    return data\n"
    )
    service = services.deploy("broken", script, tmp_path, wait=False)
    with pytest.raises(StepFailed) as failure:
        serving.wait_for_deployment(service.folder, timeout=60)
    assert "Failed" in failure.value.what
    assert "model.pkl is not a scikit-learn model" in failure.value.what
    assert "RuntimeError: model.pkl is not a scikit-learn model" in (failure.value.log_tail or "")
    assert "Traceback" in serving.get_logs(service.folder)
    assert serving.get_state(service.folder).state == serving.FAILED


def test_wait_streams_the_log(services: ServiceFactory, tmp_path: Path) -> None:
    script = tmp_path / "score.py"
    script.write_text("def init():\n    print('loading the model')\n\ndef run(data):\n    return data\n")
    lines: list[str] = []
    service = services.deploy("streamed", script, tmp_path, wait=False, auth_enabled=False)
    info = serving.wait_for_deployment(service.folder, on_log_line=lines.append, timeout=60)
    assert info.state == serving.HEALTHY
    assert any("loading the model" in line for line in lines)
    assert any("Healthy" in line for line in lines)


def test_undecorated_run_gets_the_raw_body(services: ServiceFactory, tmp_path: Path) -> None:
    """Any init()/run() script works: an undecorated run() parses the body itself, as on Azure."""
    script = tmp_path / "score.py"
    script.write_text(
        "import json\n\n"
        "def init():\n    pass\n\n"
        "def run(raw_data):\n"
        "    rows = json.loads(raw_data)['data']\n"
        "    return [len(rows), type(raw_data).__name__]\n"
    )
    service = services.deploy("raw", script, tmp_path, auth_enabled=False)
    response = requests.post(service.uri, json={"data": [1, 2, 3]}, timeout=10)
    assert response.json() == [3, "str"]
    swagger = requests.get(service.base + "/swagger.json", timeout=5).json()
    assert swagger["definitions"]["ServiceInput"] == {"type": "object", "example": {}}


def test_service_without_auth_two_workers_small_limit(services: ServiceFactory, model_dir: Path,
                                                      sample_trip: dict) -> None:
    service = services.deploy("open", SCORE_PY, model_dir, auth_enabled=False, workers=2, max_body_bytes=2048)
    response = requests.post(service.uri, json={"data": [sample_trip]}, timeout=10)
    assert response.status_code == 200
    too_big = requests.post(service.uri, json={"data": [sample_trip] * 40}, timeout=10)
    assert too_big.status_code == 413 and too_big.json()["limit"] == 2048
    doc = requests.get(service.base + "/swagger.json", timeout=5).json()
    assert "securityDefinitions" not in doc and "security" not in doc["paths"]["/score"]["post"]
    with pytest.raises(TutorError, match="without authentication"):
        serving.get_keys(service.folder)
    assert not (service.folder / "keys.json").exists()
    log = serving.get_logs(service.folder)
    assert "worker 0" in log and "worker 1" in log


@pytest.mark.slow
def test_a_killed_worker_is_restarted(services: ServiceFactory, model_dir: Path, sample_trip: dict) -> None:
    service = services.deploy("selfheal", SCORE_PY, model_dir, auth_enabled=False)
    log = serving.get_logs(service.folder)
    worker_pid = int(log.split("started worker 0 (pid ")[1].split(")")[0])
    os.kill(worker_pid, signal.SIGKILL)
    wait_for(lambda: "restarting it" in serving.get_logs(service.folder))
    info = serving.wait_for_deployment(service.folder, timeout=60)
    assert info.state == serving.HEALTHY
    assert requests.post(service.uri, json={"data": [sample_trip]}, timeout=10).status_code == 200


def test_delete_stops_the_service_and_removes_its_folder(services: ServiceFactory, tmp_path: Path) -> None:
    script = tmp_path / "score.py"
    script.write_text("def init():\n    pass\n\ndef run(data):\n    return data\n")
    service = services.deploy("doomed", script, tmp_path, auth_enabled=False)
    serving.delete(service.folder)
    assert not service.folder.exists()
    assert _port_closed(service.info.port)
    with pytest.raises(TutorError, match="no service"):
        serving.get_state(service.folder)


def test_bad_deploy_arguments_are_explained(tmp_path: Path) -> None:
    with pytest.raises(TutorError, match="entry script"):
        serving.deploy(tmp_path / "svc", tmp_path / "missing.py", tmp_path)
    script = tmp_path / "score.py"
    script.write_text("def init(): pass\ndef run(data): return data\n")
    with pytest.raises(TutorError, match="model folder"):
        serving.deploy(tmp_path / "svc", script, tmp_path / "no-model")
    with pytest.raises(TutorError, match="workers"):
        serving.deploy(tmp_path / "svc", script, tmp_path, workers=0)


def test_request_headers_reach_run_without_the_key(services: ServiceFactory, tmp_path: Path) -> None:
    script = tmp_path / "score.py"
    script.write_text(
        "def init():\n    pass\n\n"
        "def run(raw_data, request_headers):\n"
        "    return sorted(name.lower() for name in request_headers)\n"
    )
    service = services.deploy("headers", script, tmp_path)
    response = requests.post(service.uri, data="{}", headers={**service.auth(), "X-Trace": "42"}, timeout=10)
    assert response.status_code == 200
    names = response.json()
    assert "x-trace" in names and "authorization" not in names
