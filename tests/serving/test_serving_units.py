"""The serving pieces on their own: input checks, swagger, keys, process checks, the model."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import serving_model
from serving_helpers import SCORE_PY

from tutor.serving import keys as keys_mod
from tutor.serving import processes
from tutor.serving.entry import EntryScriptError, load
from tutor.serving.inputs import InputPlan, RequestError
from tutor.serving.swagger import SwaggerDocuments, SwaggerVersionError


@pytest.fixture(scope="module")
def plan() -> InputPlan:
    return InputPlan(load(SCORE_PY))


def _parse(plan: InputPlan, document: Any) -> Any:
    return plan.parse(json.dumps(document).encode())


def test_score_py_schema_is_numeric_rows(plan: InputPlan) -> None:
    entry = plan.entry
    assert entry.decorated and [p.name for p in entry.params] == ["data"]
    items = entry.input_schema["properties"]["data"]["items"]
    assert list(items["properties"]) == serving_model.FEATURES
    assert entry.output_schema["example"] == [18.2281]
    assert plan.batch_param == "data"


def test_checked_rows_are_converted_like_the_decorator_would(plan: InputPlan) -> None:
    row = {**serving_model.SAMPLE_TRIP, "vendorID": "2", "tripDistance": "3.5", "hour_of_day": 7.0}
    parsed = _parse(plan, {"data": [row]})
    assert parsed.rows == [{**serving_model.SAMPLE_TRIP, "vendorID": 2, "tripDistance": 3.5, "hour_of_day": 7}]
    frame = plan.build_frame("data", parsed.rows)
    assert list(frame.columns) == serving_model.FEATURES
    assert str(frame["vendorID"].dtype) == "int64" and str(frame["tripDistance"].dtype) == "float64"


def test_many_problems_are_listed_with_rows(plan: InputPlan) -> None:
    rows = [dict(serving_model.SAMPLE_TRIP) for _ in range(3)]
    rows[0]["vendorID"] = "one"
    del rows[2]["day_of_week"]
    with pytest.raises(RequestError) as caught:
        _parse(plan, {"data": rows})
    assert caught.value.status == 422
    problems = caught.value.details["errors"]
    assert [(p["row"], p["field"]) for p in problems] == [(0, "vendorID"), (2, "day_of_week")]
    assert "and 1 more problem" in caught.value.message


@pytest.mark.parametrize("body", [b"", b"   ", b'{"data": NaN}', b"\xff\xfe"])
def test_unreadable_bodies_are_400(plan: InputPlan, body: bytes) -> None:
    with pytest.raises(RequestError) as caught:
        plan.parse(body)
    assert caught.value.status == 400


def test_integer_range_is_checked(plan: InputPlan) -> None:
    with pytest.raises(RequestError, match="out of range"):
        _parse(plan, {"data": [{**serving_model.SAMPLE_TRIP, "vendorID": 2**70}]})


def test_a_number_too_large_for_a_float_is_422(plan: InputPlan) -> None:
    with pytest.raises(RequestError) as caught:
        plan.parse(b'{"data": [{"vendorID": 1, "passengerCount": 1, "tripDistance": 1' + b"0" * 400
                   + b', "month_num": 1, "day_of_month": 4, "day_of_week": 1, "hour_of_day": 18}]}')
    assert caught.value.status == 422
    assert caught.value.details["errors"][0]["field"] == "tripDistance"
    assert "too large" in caught.value.message


def test_swagger_documents_follow_auth_and_versions(plan: InputPlan) -> None:
    entry = plan.entry
    docs = SwaggerDocuments("svc", decorated=True, input_schema=entry.input_schema,
                            output_schema=entry.output_schema,
                            supported_versions=entry.supported_swagger_versions, auth_enabled=True)
    assert docs.get(None)["swagger"] == "2.0"
    assert docs.get("3.1")["openapi"] == "3.1.0"
    assert docs.get("3")["security"] == [{"Bearer": []}]
    with pytest.raises(SwaggerVersionError):
        docs.get("4")
    open_docs = SwaggerDocuments("svc", decorated=True, input_schema=entry.input_schema,
                                 output_schema=entry.output_schema,
                                 supported_versions=entry.supported_swagger_versions, auth_enabled=False)
    assert "security" not in open_docs.get("3")
    assert "securitySchemes" not in open_docs.get("3")["components"]


def test_keys_file_is_0600_and_checker_sees_rotation(tmp_path: Path) -> None:
    created = keys_mod.create_keys(tmp_path)
    assert stat.S_IMODE((tmp_path / "keys.json").stat().st_mode) == 0o600
    checker = keys_mod.KeyChecker(tmp_path)
    assert checker.check(f"Bearer {created.primary}") is None
    assert checker.check(f"bearer {created.secondary}") is None
    assert checker.check(None) == "missing"
    assert checker.check("Token abc") == "malformed"
    rotated = keys_mod.regenerate(tmp_path, "Primary")
    assert checker.check(f"Bearer {created.primary}") == "invalid"
    assert checker.check(f"Bearer {rotated.primary}") is None
    assert rotated.secondary == created.secondary
    (tmp_path / "keys.json").unlink()
    assert checker.check(f"Bearer {rotated.primary}") == "invalid"  # no file: nothing matches


def test_mask_hides_all_but_the_start() -> None:
    assert keys_mod.mask("abcdefgh") == "abcd****"
    assert keys_mod.mask("abc") == "***"


def test_a_dead_or_recycled_pid_is_not_running() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    started = processes.start_ticks(child.pid)
    child.wait()
    assert not processes.is_running(child.pid, started)
    assert processes.is_running(os.getpid(), processes.start_ticks(os.getpid()))
    assert not processes.is_running(os.getpid(), 1)  # same pid, different start time
    assert not processes.is_running(None, None)


def test_entry_script_without_run_is_refused(tmp_path: Path) -> None:
    script = tmp_path / "score.py"
    script.write_text("def init():\n    pass\n")
    with pytest.raises(EntryScriptError, match="run\\(\\)"):
        load(script)
    script.write_text("def init():\n    pass\n\ndef run(*args):\n    pass\n")
    with pytest.raises(EntryScriptError, match="named parameters"):
        load(script)


def test_score_py_finds_the_model_in_azures_layout(trained: Any, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    serving_model.save_model(trained, tmp_path, name="me-python-regression", version=3)
    monkeypatch.setenv("AZUREML_MODEL_DIR", str(tmp_path))
    entry = load(SCORE_PY)
    entry.init()
    fares = entry.run(data=[serving_model.SAMPLE_TRIP])
    assert isinstance(fares, list) and isinstance(fares[0], float)
    monkeypatch.setenv("AZUREML_MODEL_DIR", str(tmp_path / "empty"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match=r"no model\.pkl"):
        entry.init()


def test_fixture_model_matches_the_course_figures(trained: Any) -> None:
    assert len(trained.x_train) + len(trained.x_test) == serving_model.PREPARED_ROWS
    assert trained.train_r2 == pytest.approx(serving_model.TRAIN_R2, abs=1e-12)
    assert trained.test_r2 == pytest.approx(serving_model.TEST_R2, abs=1e-12)
