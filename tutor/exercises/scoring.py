"""The scoring-script check, run inside the exercise kernel: the learner's score.py as a service runs it.

A service loads the entry script, calls ``init()`` once with ``AZUREML_MODEL_DIR`` set, turns
each request's JSON rows into ``run()``'s arguments as the script's decorators say, and sends
back what ``run()`` returns. :func:`problem` does exactly that with the tutor's own serving
code (:mod:`tutor.serving.entry` and :mod:`tutor.serving.inputs`, the local service's), on
sample rows and on a bad row, and compares the answers with the model's own predictions.

It runs in the kernel, not in the tutor, so a script that loops or crashes stops the
learner's Python, never the tutor. It returns None when the script works, else one sentence.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _where(exc: BaseException, path: Path) -> str:
    """" (line 12)" for the learner's line that raised, when the traceback passes through the file."""
    import traceback

    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename).resolve() == path]
    if isinstance(exc, SyntaxError) and exc.lineno:
        lines.append(exc.lineno)
    return f" (line {lines[-1]})" if lines else ""


def _numbers(answer: Any) -> list[float] | None:
    if hasattr(answer, "tolist"):
        answer = answer.tolist()
    if isinstance(answer, (str, bytes, dict)) or not hasattr(answer, "__len__"):
        return None
    try:
        values = [float(v) for v in answer]
    except (TypeError, ValueError):
        return None
    return values if all(math.isfinite(v) for v in values) else None


def _model_file(model_dir: Path) -> Path | None:
    found = sorted(model_dir.rglob("model.pkl"))
    return found[0] if found else None


def problem(file: str, model: Any, rows: list[dict[str, Any]], bad_row: dict[str, Any],
            client: Any = None) -> str | None:
    """Why ``file`` would not serve ``model`` (a registered Model: the kernel's ``model``), or None.

    With ``client`` (SDK v2's MLClient), ``model`` is an azure-ai-ml Model, downloaded through
    ``client.models.download``; else an azureml-core Model, which downloads itself."""
    from tutor.serving.entry import EntryScriptError, load
    from tutor.serving.inputs import InputPlan, RequestError

    path = Path(file).resolve()
    if not path.is_file():
        return f"{file} does not exist (the 'Get the course scripts' step makes it)"
    target = Path(tempfile.mkdtemp(prefix="tutor-model-"))
    try:
        if client is not None:
            client.models.download(model.name, model.version, download_path=str(target))
            model_dir = target / str(model.name)
        else:
            model_dir = Path(model.download(target_dir=str(target), exist_ok=True)).parent
    except Exception as exc:  # noqa: BLE001 - the learner's model object: say what went wrong
        return f"the model could not be downloaded to try your script ({_first_line(exc)})"
    previous = os.environ.get("AZUREML_MODEL_DIR")
    os.environ["AZUREML_MODEL_DIR"] = str(model_dir)
    try:
        try:
            entry = load(path)
        except EntryScriptError as exc:
            return str(exc)
        except BaseException as exc:  # noqa: BLE001 - the learner's file does not import
            return f"{file} does not load: {_first_line(exc)}{_where(exc, path)}"
        try:
            entry.init()
        except BaseException as exc:  # noqa: BLE001
            return f"init() in {file} raised {_first_line(exc)}{_where(exc, path)}"
        plan = InputPlan(entry)

        def call(batch: list[dict[str, Any]]) -> Any:
            parsed = plan.parse(json.dumps({"data": batch}).encode())
            kwargs = dict(parsed.kwargs)
            if parsed.rows is not None and plan.batch_param:
                kwargs[plan.batch_param] = plan.build_frame(plan.batch_param, parsed.rows)
            if entry.wants_headers:
                kwargs["request_headers"] = {}
            return entry.run(**kwargs)

        try:
            answer = call(rows)
        except RequestError as exc:
            return f"the service would refuse the sample trips: {exc.message}"
        except BaseException as exc:  # noqa: BLE001
            return f"run() raised {_first_line(exc)}{_where(exc, path)} on the sample trips"
        values = _numbers(answer)
        if values is None:
            return (f"run() returned {str(answer)[:80]!r}: return one predicted fare (a number) per row, "
                    "for example [float(f) for f in model.predict(data)]")
        if len(values) != len(rows):
            return f"run() returned {len(values)} fare(s) for {len(rows)} trips: return one per row of data"
        expected = _expected(model_dir, rows)
        if expected is not None:
            for number, (got, want) in enumerate(zip(values, expected), start=1):
                if abs(got - want) > 1e-6 * max(1.0, abs(want)):
                    return (f"run() returned {got:.2f} for trip {number}; the model predicts {want:.2f} for it "
                            "(predict with the model init() loaded, on the rows of data as they are)")
        try:
            call([bad_row])
        except RequestError:
            return None  # the decorators' schema refused it, with a 422 naming the row and field
        except BaseException:  # noqa: BLE001 - it reached run(), which failed: a 500 on a service
            pass
        shown = ", ".join(f"{k}={v!r}" for k, v in bad_row.items() if not isinstance(v, (int, float)) or
                          isinstance(v, bool))
        return (f"a bad trip ({shown or 'a wrong value'}) gets through to run(): keep the @input_schema "
                "decorator with the sample trip on run(), so the service refuses such a row (422) before "
                "run() sees it")
    finally:
        if previous is None:
            os.environ.pop("AZUREML_MODEL_DIR", None)
        else:
            os.environ["AZUREML_MODEL_DIR"] = previous


def _expected(model_dir: Path, rows: list[dict[str, Any]]) -> list[float] | None:
    """The model's own predictions for ``rows`` (None when its file is not a pickled model here)."""
    file = _model_file(model_dir)
    if file is None:
        return None
    try:
        import joblib
        import pandas as pd

        fitted = joblib.load(file)
        return [float(v) for v in fitted.predict(pd.DataFrame(rows))]
    except Exception:  # noqa: BLE001 - the comparison is a bonus; the script's own answers were checked
        return None
