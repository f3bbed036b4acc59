"""The embedded azureml SDK's models and web services, on a real embedded workspace.

A small LinearRegression is trained on rows of the course's prepared data, stored by a
logged run and registered with ``run.register_model`` as day 1 does; it is deployed with
the course's own ``score/score.py`` as a real HTTP service on 127.0.0.1 and called with
requests and ``service.run``. Effects are checked on the backend (the LocalWorkspace the
step actions use). Services are stopped at the end by the ``sdk_course`` fixture.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import requests

SCORE_PY = Path(__file__).resolve().parents[2] / "score" / "score.py"
TRIP = {"vendorID": 1, "passengerCount": 1, "tripDistance": 4.2, "month_num": 1, "day_of_month": 4,
        "day_of_week": 1, "hour_of_day": 18}
SHORT_TRIP = dict(TRIP, tripDistance=1.0, passengerCount=2)
COURSE_PACKAGES = ["scikit-learn", "pandas", "pyarrow", "joblib", "inference-schema", "azureml-defaults"]


@pytest.fixture(scope="session")
def model_file(data_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """model.pkl: a LinearRegression fitted on 500 prepared trips (the course's seven features)."""
    import joblib
    from sklearn.linear_model import LinearRegression

    from tutor.prep import LABEL, load_raw, prepare

    frame, _ = prepare(load_raw(data_path))
    frame = frame.head(500)
    features = list(TRIP)
    model = LinearRegression().fit(frame[features].astype(float), frame[LABEL])
    path = tmp_path_factory.mktemp("model") / "model.pkl"
    joblib.dump(model, path)
    return path


@pytest.fixture
def course(sdk_course: Path, model_file: Path) -> Path:
    """The course folder with score/score.py (the course's) and models/model.pkl."""
    (sdk_course / "score").mkdir()
    shutil.copy2(SCORE_PY, sdk_course / "score" / "score.py")
    (sdk_course / "models").mkdir()
    shutil.copy2(model_file, sdk_course / "models" / "model.pkl")
    return sdk_course


def _registered_by_run(ws: Any, course: Path) -> Any:
    """Day 1's run.register_model: the model stored as a run's output, then registered from the run."""
    from azureml.core import Experiment

    run = Experiment(ws, "alice-taxi-experiment-r").start_logging()
    run.upload_file("outputs/model.pkl", str(course / "models" / "model.pkl"))
    run.log("R^2", 0.81)
    run.complete()
    return run, run.register_model(model_name="alice-taxi-model", model_path="outputs/model.pkl",
                                   tags={"R^2": 0.81})


def _course_env(ws: Any) -> Any:
    from azureml.core import Environment
    from azureml.core.conda_dependencies import CondaDependencies

    env = Environment("alice-taxi-env")
    env.python.conda_dependencies = CondaDependencies.create(pip_packages=COURSE_PACKAGES)
    env.register(workspace=ws)
    return env


def _post(uri: str, key: str | None, rows: list[dict[str, Any]]) -> requests.Response:
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    return requests.post(uri, json.dumps({"data": rows}), headers=headers, timeout=30)


# --------------------------------------------------------------------------- models


def test_run_register_model_and_model_lookups(course: Path, ws: Any, backend: Any, capsys: Any) -> None:
    from azureml.core import Model as CoreModel
    from azureml.core.model import Model
    from azureml.exceptions import WebserviceException

    assert CoreModel is Model
    run, model = _registered_by_run(ws, course)
    print(model.name, model.version)
    assert capsys.readouterr().out == "alice-taxi-model 1\n"
    assert isinstance(model, Model) and model.id == "alice-taxi-model:1" and model.tags == {"R^2": "0.81"}
    assert model.run_id == run.id and model.experiment_name == "alice-taxi-experiment-r" and model.run == run
    assert model.created_time is not None and model.url.startswith("file://")
    assert backend.get_model("alice-taxi-model").run_id == run.id

    again = Model.register(ws, model_path="models/model.pkl", model_name="alice-taxi-model",
                           tags={"source": "local"}, description="from a file")
    assert capsys.readouterr().out == "Registering model alice-taxi-model\n"
    assert (again.version, again.description, again.run_id, again.run) == (2, "from a file", None, None)

    assert Model(ws, "alice-taxi-model").version == 2
    assert Model(ws, "alice-taxi-model", version=1) == model
    assert Model(ws, id="alice-taxi-model:1").run_id == run.id
    assert Model(ws, name="alice-taxi-model", tags=[["R^2", "0.81"]]).version == 1
    assert Model(ws, name="alice-taxi-model", run_id=run.id).version == 1
    assert ws.models["alice-taxi-model"].version == 2
    assert [m.version for m in Model.list(ws, name="alice-taxi-model")] == [1, 2]
    assert [m.version for m in Model.list(ws, latest=True)] == [2]
    assert [m.version for m in Model.list(ws, tags=["source"])] == [2]
    assert Model.list(ws, properties=["x"]) == []
    assert model.serialize()["id"] == "alice-taxi-model:1" and model.serialize()["runId"] == run.id

    with pytest.raises(WebserviceException) as missing:
        Model(ws, "alice-no-such-model")
    assert missing.value.message.startswith(
        "ModelNotFound: Model with name alice-no-such-model not found in provided workspace")
    with pytest.raises(WebserviceException) as no_version:
        Model(ws, "alice-taxi-model", version=9)
    assert no_version.value.message.startswith(
        "ModelNotFound: Model with id alice-taxi-model:9 not found in provided workspace")
    with pytest.raises(WebserviceException, match="one of id or name must be provided"):
        Model(ws)
    with pytest.raises(TypeError, match="unexpected keyword argument 'nmae'"):
        Model(ws, nmae="alice-taxi-model")
    with pytest.raises(TypeError):
        Model.register(ws, model_path="models/model.pkl", name="x")
    with pytest.raises(WebserviceException, match="provided model name is invalid"):
        Model.register(ws, "models/model.pkl", "bad name!")
    with pytest.raises(FileNotFoundError):
        Model.register(ws, "models/nothing.pkl", "alice-taxi-model")
    assert [m.version for m in backend.list_models("alice-taxi-model")] == [1, 2]  # nothing half-registered
    with pytest.raises(Exception, match="Model properties is not supported"):
        Model.register(ws, "models/model.pkl", "alice-taxi-model", properties={"a": "b"})


def test_download_and_get_model_path(course: Path, ws: Any, model_file: Path) -> None:
    from azureml.core.model import Model
    from azureml.exceptions import ModelNotFoundException, WebserviceException

    model = Model.register(ws, "models/model.pkl", "alice-taxi-model")
    path = model.download(target_dir="downloaded")
    assert path == os.path.join("downloaded", "model.pkl")
    assert Path(path).read_bytes() == model_file.read_bytes()
    with pytest.raises(WebserviceException, match="File already exists. To overwrite, set exist_ok to True"):
        model.download(target_dir="downloaded")
    assert model.download(target_dir="downloaded", exist_ok=True) == path

    cached = Model.get_model_path("alice-taxi-model", _workspace=ws)
    assert cached == os.path.join("azureml-models", "alice-taxi-model", "1", "model.pkl")
    assert Path(cached).read_bytes() == model_file.read_bytes()
    assert Model.get_model_path("alice-taxi-model") == cached  # from the cache, without a workspace
    assert Model.get_model_path("alice-taxi-model", version=1) == cached
    with pytest.raises(WebserviceException, match="version should be an int"):
        Model.get_model_path("alice-taxi-model", version="1")
    with pytest.raises(ModelNotFoundException, match="Model/Version alice-other/None not found in workspace"):
        Model.get_model_path("alice-other", _workspace=ws)


# --------------------------------------------------------------------------- an ACI service


def test_deploy_call_keys_update_delete(course: Path, ws: Any, backend: Any, capsys: Any) -> None:
    from azureml.core import Webservice as CoreWebservice
    from azureml.core.model import InferenceConfig, Model
    from azureml.core.webservice import AciWebservice, Webservice
    from azureml.exceptions import WebserviceException

    assert CoreWebservice is Webservice
    _, model = _registered_by_run(ws, course)
    env = _course_env(ws)
    # The day-1 deployment, as the lesson writes it.
    inference_config = InferenceConfig(entry_script="score/score.py", environment=env)
    deployment_config = AciWebservice.deploy_configuration(cpu_cores=1, memory_gb=0.5, auth_enabled=True,
                                                           tags={"Model Type": "linear regression"})
    service = Model.deploy(ws, "alice-taxi-cost-pred", [model], inference_config, deployment_config,
                           overwrite=True)
    assert isinstance(service, AciWebservice) and service.compute_type == "ACI"
    assert service.state == "Transitioning"
    capsys.readouterr()
    service.wait_for_deployment(show_output=True)
    out = capsys.readouterr().out
    assert out.startswith("Tips: You can try get_logs()")
    assert "Note: The environment asks for Python 3.10.18" in out  # CondaDependencies' default: only a note
    assert out.rstrip().endswith('ACI service creation operation finished, operation "Succeeded"')
    print(service.state, service.scoring_uri)
    assert capsys.readouterr().out.startswith("Healthy http://127.0.0.1:")
    record = backend.get_service("alice-taxi-cost-pred")
    assert record.state == "Healthy" and record.models == ["alice-taxi-model:1"]
    assert record.properties["environment"] == f"alice-taxi-env:{env.version}"
    assert service.tags == {"Model Type": "linear regression"}
    assert service.auth_enabled is True and service.models == [model]
    assert service.container_resource_requirements.cpu == 1.0

    # The course's client code, with the key.
    key, secondary = service.get_keys()
    assert (key, secondary) == backend.service_keys("alice-taxi-cost-pred")
    fares = _post(service.scoring_uri, key, [TRIP, SHORT_TRIP]).json()
    assert len(fares) == 2 and fares[0] > fares[1] > 0
    assert _post(service.scoring_uri, None, [TRIP]).status_code == 401
    # service.run: a JSON string in, the parsed answer out.
    assert service.run(json.dumps({"data": [TRIP, SHORT_TRIP]})) == pytest.approx(fares)
    same = Webservice(ws, "alice-taxi-cost-pred")
    assert isinstance(same, AciWebservice) and same.state == "Healthy" and same == service
    assert same.run(json.dumps({"data": [TRIP]}))[0] == pytest.approx(fares[0])
    with pytest.raises(WebserviceException) as bad:
        service.run(json.dumps({"data": [{"vendorID": 1}]}))
    assert bad.value.status_code in (400, 422)
    assert "Received bad response from service" in bad.value.message and "tripDistance" in bad.value.message

    # Swagger, logs.
    swagger = requests.get(service.swagger_uri, timeout=30).json()
    assert "/score" in "".join(swagger["paths"])
    logs = service.get_logs()
    assert logs and len(service.get_logs(num_lines=2).splitlines()) <= 2

    # Rotating the secondary key, as day 2 does.
    service.regen_key("Secondary")
    primary, new_secondary = service.get_keys()
    assert primary == key and new_secondary != secondary
    assert _post(service.scoring_uri, secondary, [TRIP]).status_code == 401
    assert _post(service.scoring_uri, new_secondary, [TRIP]).status_code == 200
    service.regen_key("primary")  # azureml capitalizes the name
    assert service.get_keys()[0] != key and service.run(json.dumps({"data": [TRIP]}))  # run() follows the new key
    with pytest.raises(WebserviceException) as wrong_key:
        service.regen_key("Tertiary")
    assert wrong_key.value.message == ("Error, invalid value provided for key: Tertiary.\n"
                                       "Valid options are: Primary, Secondary")
    with pytest.raises(NotImplementedError, match="ACI webservices do not support Token Authentication"):
        service.get_token()

    # Update: tags without a redeploy, then a new model version (a redeploy keeping the keys).
    keys = service.get_keys()
    service.update(tags={"stage": "test"}, description="day 1")
    assert service.tags == {"stage": "test"} and service.description == "day 1"
    assert Webservice(ws, "alice-taxi-cost-pred").tags == {"stage": "test"} and service.get_keys() == keys
    second = Model.register(ws, "models/model.pkl", "alice-taxi-model")
    service.update(models=[second], inference_config=inference_config)
    service.wait_for_deployment()
    assert service.state == "Healthy" and backend.get_service("alice-taxi-cost-pred").models == ["alice-taxi-model:2"]
    assert service.get_keys() == keys and _post(service.scoring_uri, keys[0], [TRIP]).status_code == 200
    assert service.tags == {"stage": "test"}
    with pytest.raises(WebserviceException, match="No parameters provided to update"):
        service.update()
    with pytest.raises(WebserviceException, match='both "models" and "inference_config"'):
        service.update(models=[model])
    with pytest.raises(TypeError):
        service.update(num_replicas=2)  # an AKS parameter

    # Listing; deploying again under the name without overwrite.
    assert list(ws.webservices) == ["alice-taxi-cost-pred"]
    assert [s.name for s in Webservice.list(ws, compute_type="ACI")] == ["alice-taxi-cost-pred"]
    assert Webservice.list(ws, compute_type="AKS") == [] and Webservice.list(ws, model_name="other") == []
    assert [s.name for s in Webservice.list(ws, tags=[["stage", "test"]])] == ["alice-taxi-cost-pred"]
    with pytest.raises(WebserviceException, match='Invalid compute type "VM"'):
        Webservice.list(ws, compute_type="VM")
    with pytest.raises(WebserviceException, match="already exists"):
        Model.deploy(ws, "alice-taxi-cost-pred", [model], inference_config, deployment_config)
    assert backend.get_service("alice-taxi-cost-pred").state == "Healthy"  # the running one is untouched
    assert service.serialize()["computeType"] == "ACI" and service.serialize()["scoringUri"] == service.scoring_uri

    # The wrap-up's cleanup loop.
    uri = service.scoring_uri
    for each in ws.webservices.values():
        each.delete()
    assert ws.webservices == {} and backend.list_services() == []
    with pytest.raises(requests.ConnectionError):
        requests.post(uri, json.dumps({"data": [TRIP]}), timeout=5)
    with pytest.raises(WebserviceException) as gone:
        Webservice(ws, "alice-taxi-cost-pred")
    assert gone.value.message.startswith(
        "WebserviceNotFound: Webservice with name alice-taxi-cost-pred not found in provided workspace")
    capsys.readouterr()
    service.delete()
    assert capsys.readouterr().out == "No service with name alice-taxi-cost-pred found to delete.\n"


def test_deploy_refusals_leave_nothing(course: Path, ws: Any, backend: Any) -> None:
    from azureml.core import Environment
    from azureml.core.conda_dependencies import CondaDependencies
    from azureml.core.model import InferenceConfig, Model
    from azureml.core.webservice import AciWebservice, AksWebservice
    from azureml.exceptions import UserErrorException, WebserviceException

    model = Model.register(ws, "models/model.pkl", "alice-taxi-model")
    config = InferenceConfig(entry_script="score/score.py")
    aci = AciWebservice.deploy_configuration(auth_enabled=True)
    env = Environment("alice-broken-env")
    env.python.conda_dependencies = CondaDependencies.create(pip_packages=["no-such-package-for-the-course"])
    with pytest.raises(WebserviceException, match="no-such-package-for-the-course"):
        Model.deploy(ws, "alice-broken", [model], InferenceConfig("score/score.py", environment=env), aci)
    with pytest.raises(WebserviceException, match="provided service name is invalid"):
        Model.deploy(ws, "Alice_Service", [model], config, aci)
    with pytest.raises(WebserviceException, match="Must have a deployment target for an AKS web service."):
        Model.deploy(ws, "alice-aks", [model], config, AksWebservice.deploy_configuration(num_replicas=2))
    with pytest.raises(WebserviceException, match="not found in provided workspace"):
        Model.deploy(ws, "alice-aks", [model], config,
                     AksWebservice.deploy_configuration(num_replicas=2, compute_target_name="alice-no-aks"))
    with pytest.raises(WebserviceException, match="entry_script .*missing.py doesn't exist"):
        InferenceConfig(entry_script="score/missing.py")
    with pytest.raises(WebserviceException, match="need to specify entry_script"):
        InferenceConfig(entry_script=None)
    with pytest.raises(WebserviceException, match="cpu_cores must be positive"):
        AciWebservice.deploy_configuration(cpu_cores=0)
    with pytest.raises(WebserviceException, match="autoscale enabled and num_replicas provided"):
        AksWebservice.deploy_configuration(autoscale_enabled=True, num_replicas=2)
    with pytest.raises(UserErrorException, match="not supported by the embedded workspace"):
        AciWebservice.deploy_configuration(ssl_enabled=True, ssl_cert_pem_file="c", ssl_key_pem_file="k",
                                           ssl_cname="x")
    with pytest.raises(UserErrorException, match="no-code deployment"):
        Model.deploy(ws, "alice-nocode", [model])
    with pytest.raises(TypeError):
        AciWebservice.deploy_configuration(cpu=1)
    with pytest.raises(TypeError):
        Model.deploy(ws, "alice-svc", [model], config, aci, overwrit=True)
    assert backend.list_services() == [] and ws.webservices == {}
    assert not (backend.layout.service_dir("alice-broken")).exists()


def test_a_failing_entry_script_fails_the_deployment(course: Path, ws: Any, backend: Any) -> None:
    from azureml.core.model import InferenceConfig, Model
    from azureml.core.webservice import AciWebservice
    from azureml.exceptions import WebserviceException

    model = Model.register(ws, "models/model.pkl", "alice-taxi-model")
    (course / "score" / "broken.py").write_text(
        "def init():\n    raise RuntimeError('the model cannot be loaded')\n\n"
        "def run(data):\n    return []\n")
    service = Model.deploy(ws, "alice-broken-service", [model], InferenceConfig(entry_script="score/broken.py"),
                           AciWebservice.deploy_configuration())
    with pytest.raises(WebserviceException) as failed:
        service.wait_for_deployment(timeout_sec=60)
    assert failed.value.message.startswith("Service deployment polling reached non-successful terminal state, "
                                           "current service state: Failed")
    assert service.state == "Failed" and service.error["code"] == "DeploymentFailed"
    assert "the model cannot be loaded" in service.get_logs()
    assert backend.get_service("alice-broken-service").state == "Failed"
    with pytest.raises(WebserviceException, match="deployed without authentication"):
        service.get_keys()  # ACI: keys only with auth_enabled=True
    service.delete()
    assert backend.list_services() == []


def test_local_webservice_is_refused(sdk_course: Path) -> None:
    import azureml.core.webservice as webservice

    with pytest.raises(ImportError, match="LocalWebservice is not part of the azureml SDK on the embedded"):
        webservice.LocalWebservice  # noqa: B018


# --------------------------------------------------------------------------- an AKS service


def test_aks_deployment_with_replicas(course: Path, ws: Any, backend: Any) -> None:
    try:
        from azureml.core.compute import AksCompute, ComputeTarget
    except ImportError as error:
        pytest.skip(f"azureml.core.compute has no AksCompute yet ({error})")
    from azureml.core.model import InferenceConfig, Model
    from azureml.core.webservice import AksWebservice, Webservice
    from azureml.exceptions import UserErrorException, WebserviceException

    model = Model.register(ws, "models/model.pkl", "alice-taxi-model")
    inference_config = InferenceConfig(entry_script="score/score.py")
    # Day 1's extra credit, as the lesson writes it.
    aks = ComputeTarget.create(ws, "alice-aks", AksCompute.provisioning_configuration())
    aks_config = AksWebservice.deploy_configuration(num_replicas=2, cpu_cores=1, memory_gb=0.5)
    service = Model.deploy(ws, "alice-taxi-aks", [model], inference_config, aks_config, deployment_target=aks)
    assert isinstance(service, AksWebservice) and service.compute_type == "AKS"
    service.wait_for_deployment()
    assert service.state == "Healthy" and service.num_replicas == 2 and service.compute_name == "alice-aks"
    assert service.auth_enabled is True  # AKS: keys on by default
    record = backend.get_service("alice-taxi-aks")
    assert (record.kind, record.properties["replicas"]) == ("AKS", 2)
    assert len(service.run(json.dumps({"data": [TRIP, SHORT_TRIP]}))) == 2
    assert isinstance(Webservice(ws, "alice-taxi-aks"), AksWebservice)
    with pytest.raises(UserErrorException, match="Token authentication"):
        service.get_token()
    keys, uri = service.get_keys(), service.scoring_uri
    service.update(num_replicas=1)
    service.wait_for_deployment()
    assert backend.get_service("alice-taxi-aks").properties["replicas"] == 1 and service.get_keys() == keys
    assert service.scoring_uri == uri  # an update keeps the service's address, as on Azure
    assert service.compute_name == "alice-aks"
    cluster = backend.get_or_create_cluster("alice-cluster", max_nodes=1)
    target = ws.compute_targets[cluster.name]
    with pytest.raises(WebserviceException, match="not an AKS cluster"):
        Model.deploy(ws, "alice-taxi-aks2", [model], inference_config, aks_config, deployment_target=target)
    service.delete()
    assert backend.list_services() == []
