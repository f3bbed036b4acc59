"""The embedded azure-ai-ml's managed online endpoints and deployments, on a real embedded workspace.

A LinearRegression fitted on prepared trips of the course's data is registered with
``ml_client.models``, deployed as the deployment ``blue`` of an endpoint with the course's own
``score/score.py``, and called over real HTTP on 127.0.0.1 (with ``requests`` and with
``online_endpoints.invoke``). Effects are checked on the backend and on the wire; the
``v2_course`` fixture stops every service at the end.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
TRIP = {"vendorID": 1, "passengerCount": 1, "tripDistance": 4.2, "month_num": 1, "day_of_month": 4,
        "day_of_week": 1, "hour_of_day": 18}
SHORT_TRIP = dict(TRIP, tripDistance=1.0, passengerCount=2)
IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest"
PACKAGES = ["scikit-learn", "pandas", "pyarrow", "joblib", "inference-schema", "azureml-defaults"]
ENDPOINT = "alice-taxi-cost-pred"


@pytest.fixture(scope="module")
def model_file(data_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """model.pkl: a LinearRegression fitted on 500 prepared trips (the course's seven features)."""
    import joblib
    from sklearn.linear_model import LinearRegression

    from tutor.prep import LABEL, load_raw, prepare

    frame, _ = prepare(load_raw(data_path))
    frame = frame.head(500)
    model = LinearRegression().fit(frame[list(TRIP)].astype(float), frame[LABEL])
    path = tmp_path_factory.mktemp("model") / "model.pkl"
    joblib.dump(model, path)
    return path


@pytest.fixture
def registered(ml_client: Any, v2_course: Path, model_file: Path) -> tuple[Any, Any]:
    """(model, environment) registered as the course's v2 code registers them; score/score.py copied."""
    from azure.ai.ml.constants import AssetTypes
    from azure.ai.ml.entities import Environment, Model

    (v2_course / "score").mkdir()
    shutil.copy2(REPO / "score" / "score.py", v2_course / "score" / "score.py")
    (v2_course / "models").mkdir()
    shutil.copy2(model_file, v2_course / "models" / "model.pkl")
    model = ml_client.models.create_or_update(Model(name="alice-taxi-model", path="models/model.pkl",
                                                    type=AssetTypes.CUSTOM_MODEL))
    env = ml_client.environments.create_or_update(Environment(name="alice-taxi-env", image=IMAGE, conda_file={
        "dependencies": ["python=3.11", "pip", {"pip": PACKAGES}]}))
    return model, env


def _deployment(model: Any, env: Any, **overrides: Any) -> Any:
    from azure.ai.ml.entities import CodeConfiguration, ManagedOnlineDeployment

    settings = dict(name="blue", endpoint_name=ENDPOINT, model=model, environment=env,
                    code_configuration=CodeConfiguration(code="score", scoring_script="score.py"),
                    instance_type="Standard_DS3_v2", instance_count=1)
    settings.update(overrides)
    return ManagedOnlineDeployment(**settings)


def _post(uri: str, key: str | None, rows: list[dict[str, Any]]) -> requests.Response:
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    return requests.post(uri, json.dumps({"data": rows}), headers=headers, timeout=30)


def _raises(exc_type: type, call: Any) -> str:
    with pytest.raises(exc_type) as caught:
        call()
    return str(caught.value)


@pytest.fixture
def live(ml_client: Any, registered: tuple[Any, Any]) -> Any:
    """The endpoint with its deployment blue serving all traffic, as day 1's v2 code leaves it."""
    from azure.ai.ml.entities import ManagedOnlineEndpoint

    model, env = registered
    endpoint = ManagedOnlineEndpoint(name=ENDPOINT, auth_mode="key")
    ml_client.online_endpoints.begin_create_or_update(endpoint).result()
    ml_client.online_deployments.begin_create_or_update(_deployment(model, env)).result()
    endpoint.traffic = {"blue": 100}
    ml_client.online_endpoints.begin_create_or_update(endpoint).result()
    return ml_client.online_endpoints.get(ENDPOINT)


def test_an_endpoint_has_keys_before_its_deployment_and_no_scoring_uri(ml_client: Any, registered: Any,
                                                                       backend: Any) -> None:
    from azure.ai.ml.entities import ManagedOnlineEndpoint
    from azure.core.polling import LROPoller

    poller = ml_client.online_endpoints.begin_create_or_update(ManagedOnlineEndpoint(name=ENDPOINT, auth_mode="key"))
    assert isinstance(poller, LROPoller) and poller.status() == "Succeeded"
    endpoint = ml_client.online_endpoints.get(ENDPOINT)
    assert (endpoint.name, endpoint.auth_mode, endpoint.provisioning_state) == (ENDPOINT, "key", "Succeeded")
    assert endpoint.scoring_uri is None and endpoint.traffic == {}
    keys = ml_client.online_endpoints.get_keys(ENDPOINT)
    assert len(keys.primary_key) >= 32 and keys.primary_key != keys.secondary_key
    assert [e.name for e in ml_client.online_endpoints.list()] == [ENDPOINT]
    assert list(ml_client.online_deployments.list(ENDPOINT)) == []
    record = backend.get_service(ENDPOINT)
    assert record.kind == "MIR" and record.port is None
    # Traffic can only go to deployments the endpoint has.
    from azure.core.exceptions import HttpResponseError

    assert "no deployment blue" in _raises(HttpResponseError, lambda: ml_client.online_endpoints.begin_create_or_update(
        ManagedOnlineEndpoint(name=ENDPOINT, traffic={"blue": 100})))
    assert ml_client.online_endpoints.get(ENDPOINT).traffic == {}


def test_the_deployment_serves_the_course_score_py_with_key_auth(ml_client: Any, live: Any, backend: Any,
                                                                 v2_course: Path) -> None:
    endpoint = live
    assert endpoint.traffic == {"blue": 100}
    assert endpoint.scoring_uri.startswith("http://127.0.0.1:") and endpoint.scoring_uri.endswith("/score")
    deployment = ml_client.online_deployments.get("blue", ENDPOINT)
    assert (deployment.name, deployment.endpoint_name, deployment.instance_count) == ("blue", ENDPOINT, 1)
    assert deployment.provisioning_state == "Succeeded" and "alice-taxi-model" in str(deployment.model)
    assert [d.name for d in ml_client.online_deployments.list(ENDPOINT)] == ["blue"]
    keys = ml_client.online_endpoints.get_keys(ENDPOINT)
    answer = _post(endpoint.scoring_uri, keys.primary_key, [TRIP, SHORT_TRIP])
    assert answer.status_code == 200
    fares = answer.json()
    assert len(fares) == 2 and 5 < fares[0] < 40 and fares[1] < fares[0]
    assert _post(endpoint.scoring_uri, keys.secondary_key, [TRIP]).status_code == 200
    assert _post(endpoint.scoring_uri, None, [TRIP]).status_code == 401
    assert _post(endpoint.scoring_uri, "not-the-key", [TRIP]).status_code == 401
    swagger = requests.get(endpoint.openapi_uri, timeout=30)
    assert swagger.status_code == 200 and "paths" in swagger.json()
    # invoke() posts a request file with the key, and returns the service's JSON text.
    request = v2_course / "sample-request.json"
    request.write_text(json.dumps({"data": [TRIP, SHORT_TRIP]}))
    assert json.loads(ml_client.online_endpoints.invoke(endpoint_name=ENDPOINT, request_file=str(request))) == fares
    assert json.loads(ml_client.online_endpoints.invoke(endpoint_name=ENDPOINT, request_file=str(request),
                                                        deployment_name="blue")) == fares
    from azure.ai.ml.exceptions import ValidationException

    assert "green" in _raises(ValidationException, lambda: ml_client.online_endpoints.invoke(
        endpoint_name=ENDPOINT, request_file=str(request), deployment_name="green"))
    assert "request_file" in _raises(ValidationException, lambda: ml_client.online_endpoints.invoke(ENDPOINT))
    # The deployment's log is its scoring server's.
    log = ml_client.online_deployments.get_logs("blue", ENDPOINT, lines=200)
    assert isinstance(log, str) and log.strip()
    assert "lines" in _raises(ValidationException, lambda: ml_client.online_deployments.get_logs("blue", ENDPOINT, 0))


def test_regenerated_key_replaces_the_old_one_and_bad_key_types_are_refused(ml_client: Any, live: Any) -> None:
    from azure.ai.ml.exceptions import ValidationException

    before = ml_client.online_endpoints.get_keys(ENDPOINT)
    ml_client.online_endpoints.begin_regenerate_keys(ENDPOINT, key_type="secondary").result()
    after = ml_client.online_endpoints.get_keys(ENDPOINT)
    assert after.primary_key == before.primary_key and after.secondary_key != before.secondary_key
    assert _post(live.scoring_uri, before.secondary_key, [TRIP]).status_code == 401
    assert _post(live.scoring_uri, after.secondary_key, [TRIP]).status_code == 200
    assert "primary" in _raises(ValidationException, lambda: ml_client.online_endpoints.begin_regenerate_keys(
        ENDPOINT, key_type="tertiary"))
    assert ml_client.online_endpoints.get_keys(ENDPOINT).secondary_key == after.secondary_key


def test_more_instances_keep_the_port_and_the_keys(ml_client: Any, live: Any, registered: Any, backend: Any) -> None:
    model, env = registered
    keys = ml_client.online_endpoints.get_keys(ENDPOINT)
    ml_client.online_deployments.begin_create_or_update(_deployment(model, env, instance_count=2)).result()
    assert ml_client.online_deployments.get("blue", ENDPOINT).instance_count == 2
    record = backend.get_service(ENDPOINT)
    assert (record.kind, record.properties["replicas"]) == ("MIR", 2)
    endpoint = ml_client.online_endpoints.get(ENDPOINT)
    assert endpoint.traffic == {"blue": 100} and endpoint.scoring_uri == live.scoring_uri
    assert ml_client.online_endpoints.get_keys(ENDPOINT).primary_key == keys.primary_key
    assert _post(endpoint.scoring_uri, keys.primary_key, [TRIP]).status_code == 200


def test_a_deployment_with_traffic_cannot_be_deleted_and_deleting_the_endpoint_stops_it(ml_client: Any,
                                                                                        live: Any) -> None:
    from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

    uri = live.scoring_uri
    key = ml_client.online_endpoints.get_keys(ENDPOINT).primary_key
    assert "traffic" in _raises(HttpResponseError, lambda: ml_client.online_deployments.begin_delete("blue", ENDPOINT))
    assert _post(uri, key, [TRIP]).status_code == 200
    ml_client.online_endpoints.begin_delete(name=ENDPOINT).result()
    with pytest.raises(requests.ConnectionError):
        _post(uri, key, [TRIP])
    _raises(ResourceNotFoundError, lambda: ml_client.online_endpoints.get(ENDPOINT))
    _raises(ResourceNotFoundError, lambda: ml_client.online_deployments.get("blue", ENDPOINT))
    assert list(ml_client.online_endpoints.list()) == []


def test_deleting_the_deployment_keeps_the_endpoint_and_its_keys(ml_client: Any, live: Any) -> None:
    from azure.ai.ml.entities import ManagedOnlineEndpoint
    from azure.core.exceptions import HttpResponseError

    keys = ml_client.online_endpoints.get_keys(ENDPOINT)
    uri = live.scoring_uri
    endpoint = ManagedOnlineEndpoint(name=ENDPOINT, traffic={})
    ml_client.online_endpoints.begin_create_or_update(endpoint).result()
    assert "No valid deployments" in _raises(HttpResponseError, lambda: ml_client.online_endpoints.invoke(
        ENDPOINT, request_file=_request_file(ml_client)))
    ml_client.online_deployments.begin_delete("blue", ENDPOINT).result()
    with pytest.raises(requests.ConnectionError):
        _post(uri, keys.primary_key, [TRIP])
    kept = ml_client.online_endpoints.get(ENDPOINT)
    assert kept.scoring_uri is None and list(ml_client.online_deployments.list(ENDPOINT)) == []
    assert ml_client.online_endpoints.get_keys(ENDPOINT).primary_key == keys.primary_key


def _request_file(ml_client: Any) -> str:
    path = Path("request.json")
    path.write_text(json.dumps({"data": [TRIP]}))
    return str(path)


def test_a_scoring_script_that_fails_in_init_fails_the_deployment_with_its_log(ml_client: Any, registered: Any,
                                                                               v2_course: Path) -> None:
    from azure.ai.ml.entities import CodeConfiguration, ManagedOnlineEndpoint
    from azure.core.exceptions import HttpResponseError

    model, env = registered
    (v2_course / "broken").mkdir()
    (v2_course / "broken" / "score.py").write_text(
        "def init():\n    raise RuntimeError('no model here')\n\ndef run(raw):\n    return raw\n")
    ml_client.online_endpoints.begin_create_or_update(ManagedOnlineEndpoint(name=ENDPOINT)).result()
    poller = ml_client.online_deployments.begin_create_or_update(_deployment(
        model, env, code_configuration=CodeConfiguration(code="broken", scoring_script="score.py")))
    message = _raises(HttpResponseError, poller.result)
    assert "ResourceNotReady" in message and "no model here" in message
    # The endpoint stays, with its keys, and can be deployed to again.
    assert ml_client.online_endpoints.get_keys(ENDPOINT).primary_key
    ml_client.online_deployments.begin_create_or_update(_deployment(model, env)).result()
    assert ml_client.online_endpoints.get(ENDPOINT).scoring_uri


def test_bad_endpoints_and_deployments_are_refused_with_what_to_do(ml_client: Any, registered: Any,
                                                                   backend: Any) -> None:
    from azure.ai.ml.entities import CodeConfiguration, ManagedOnlineEndpoint
    from azure.ai.ml.exceptions import ValidationException
    from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

    model, env = registered
    create = ml_client.online_endpoints.begin_create_or_update
    assert "3 and at most 32" in _raises(ValidationException, lambda: create(ManagedOnlineEndpoint(name="ab")))
    assert "start with" in _raises(ValidationException, lambda: create(ManagedOnlineEndpoint(name="1-taxi")))
    assert "auth_mode='key'" in _raises(ValidationException, lambda: create(
        ManagedOnlineEndpoint(name=ENDPOINT, auth_mode="aml_token")))
    assert "leave local out" in _raises(ValidationException, lambda: create(
        ManagedOnlineEndpoint(name=ENDPOINT), local=True))
    assert "nobody-here" in _raises(ResourceNotFoundError, lambda: ml_client.online_endpoints.get("nobody-here"))
    assert "nobody-here" in _raises(ResourceNotFoundError, lambda: ml_client.online_endpoints.get_keys("nobody-here"))
    deploy = ml_client.online_deployments.begin_create_or_update
    assert ENDPOINT in _raises(ResourceNotFoundError, lambda: deploy(_deployment(model, env)))
    create(ManagedOnlineEndpoint(name=ENDPOINT)).result()
    assert "no folder" in _raises(ValidationException, lambda: deploy(_deployment(
        model, env, code_configuration=CodeConfiguration(code="nowhere", scoring_script="score.py"))))
    assert "no file" in _raises(ValidationException, lambda: deploy(_deployment(
        model, env, code_configuration=CodeConfiguration(code="score", scoring_script="scoring.py"))))
    assert "instance_count" in _raises(ValidationException, lambda: deploy(_deployment(model, env, instance_count=0)))
    assert "no-such-model" in _raises(ResourceNotFoundError, lambda: deploy(_deployment(
        "azureml:no-such-model:1", env)))
    assert "endpoint_name" in _raises(ValidationException, lambda: deploy(_deployment(model, env, endpoint_name=None)))
    # Nothing was started by the refusals; a second deployment name is refused (one per endpoint).
    assert backend.get_service(ENDPOINT).port is None
    deploy(_deployment(model, env)).result()
    assert "one deployment per endpoint" in _raises(HttpResponseError, lambda: deploy(
        _deployment(model, env, name="green")))
    assert [d.name for d in ml_client.online_deployments.list(ENDPOINT)] == ["blue"]


def test_a_v1_web_service_name_is_not_taken_by_an_endpoint(ml_client: Any, registered: Any, backend: Any) -> None:
    from azure.ai.ml.entities import ManagedOnlineEndpoint
    from azure.core.exceptions import HttpResponseError

    model, _ = registered
    backend.deploy_service("alice-python-service", [backend.get_model("alice-taxi-model").id],
                           Path("score/score.py").resolve(), environment="alice-taxi-env")
    assert "Model.deploy" in _raises(HttpResponseError, lambda: ml_client.online_endpoints.begin_create_or_update(
        ManagedOnlineEndpoint(name="alice-python-service")))
    assert list(ml_client.online_endpoints.list()) == []
