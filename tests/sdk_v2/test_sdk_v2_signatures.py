"""Every public name of the embedded azure-ai-ml and azure-identity has the real packages'
import path and signature (azure-ai-ml 1.35, installed with the ``azure`` extra).

One process, with the embedded SDK active, lists every public name the packages export (the
lazy maps of ``azure.ai.ml``, ``azure.ai.ml.entities``, ``azure.ai.ml.operations``,
``azure.ai.ml.automl``, ``azure.ai.ml.constants``, ``azure.ai.ml.exceptions`` and
``azure.identity``) and, for each class, every public method, classmethod and property it
defines, and ``__init__``. A second process, without the embedded SDK, looks each up in the
real packages. A signature is compared as ``str(inspect.signature(...))`` without annotations:
parameter names, order, kinds and defaults; a constant by its value. Every mismatch is
reported in one assertion message.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

#: Members that may differ, each with why.
JUSTIFIED = {
    "__init__ of azure.ai.ml.operations.*": "operations are made by MLClient (its properties), never by a "
                                            "learner: theirs take the service clients, ours the MLClient",
}


def _justified(path: str, member: str) -> bool:
    return member == "__init__" and path.startswith("azure.ai.ml.operations.")

DUMP = r'''
import importlib, inspect, json, re, sys

def plain(function):
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError) as error:
        return f"<no signature: {error}>"
    params = [p.replace(annotation=inspect.Parameter.empty) for p in signature.parameters.values()]
    text = str(signature.replace(parameters=params, return_annotation=inspect.Signature.empty))
    return re.sub(r" at 0x[0-9a-fA-F]+", "", text)

def kind_of(cls, name):
    for klass in inspect.getmro(cls):
        if name in vars(klass):
            raw = vars(klass)[name]
            if isinstance(raw, staticmethod):
                return "method", plain(raw.__func__)
            if isinstance(raw, classmethod):
                return "classmethod", plain(getattr(cls, name))
            if isinstance(raw, property):
                return "property", None
            if inspect.isfunction(raw):
                return "method", plain(raw)
            if isinstance(raw, (str, int, float, bool)):
                return "value", repr(raw)
            return "other", None
    if hasattr(cls, name):
        return "dynamic", None
    return None, None

MODE, WANTED = sys.argv[1], json.loads(sys.argv[2]) if len(sys.argv) > 2 else None
if MODE == "embedded":
    import tutor.sdk
    tutor.sdk.activate()
out = {}
if WANTED is None:
    import azure.ai.ml._embedded as embedded
    packages = ["azure.ai.ml", "azure.ai.ml.entities", "azure.ai.ml.operations", "azure.ai.ml.automl",
                "azure.ai.ml.constants", "azure.ai.ml.exceptions", "azure.identity"]
    for package in packages:
        module = importlib.import_module(package)
        for name in getattr(module, "__all__", []):
            path = f"{package}.{name}"
            try:
                value = getattr(module, name)
            except ImportError as error:
                out[path] = {"kind": "broken", "error": str(error)}
                continue
            if inspect.isclass(value):
                own = {}
                for klass in inspect.getmro(value):
                    if not klass.__module__.startswith(("azure.ai.ml", "azure.identity")):
                        continue
                    for member in vars(klass):
                        if member == "__init__" or not member.startswith("_"):
                            own.setdefault(member, kind_of(value, member))
                out[path] = {"kind": "class", "members": own}
            elif callable(value):
                out[path] = {"kind": "function", "signature": plain(value)}
            else:
                out[path] = {"kind": "value", "value": repr(value)}
else:
    for path, members in WANTED.items():
        module, _, name = path.rpartition(".")
        try:
            value = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError) as error:
            out[path] = {"missing": str(error)}
            continue
        if inspect.isclass(value):
            out[path] = {"kind": "class", "members": {m: kind_of(value, m) for m in members}}
        elif callable(value):
            out[path] = {"kind": "function", "signature": plain(value)}
        else:
            out[path] = {"kind": "value", "value": repr(value)}
print(json.dumps(out))
'''


def _run(*args: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run([sys.executable, "-c", DUMP, *args], capture_output=True, text=True, env=env,
                          cwd=REPO, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_every_public_name_matches_azure_ai_ml() -> None:
    pytest.importorskip("azure.ai.ml", reason="the real azure-ai-ml is installed with the azure extra")
    ours = _run("embedded")
    assert len(ours) > 30
    broken = [f"{path}: {item['error']}" for path, item in ours.items() if item["kind"] == "broken"]
    assert not broken, "names that do not import:\n" + "\n".join(broken)
    wanted = {path: list(item.get("members", {})) for path, item in ours.items()}
    real = _run("real", json.dumps(wanted))
    problems = []
    for path, mine in sorted(ours.items()):
        theirs = real[path]
        if "missing" in theirs:
            problems.append(f"{path}: not in the real package ({theirs['missing']})")
            continue
        if mine["kind"] != theirs["kind"]:
            problems.append(f"{path}: ours is a {mine['kind']}, the real one a {theirs['kind']}")
        elif mine["kind"] == "function" and mine["signature"] != theirs["signature"]:
            problems.append(f"{path}{mine['signature']} != real {theirs['signature']}")
        elif mine["kind"] == "value" and mine["value"] != theirs["value"]:
            problems.append(f"{path} = {mine['value']} != real {theirs['value']}")
        elif mine["kind"] == "class":
            for member, (kind, signature) in sorted(mine["members"].items()):
                real_kind, real_signature = theirs["members"][member]
                where = f"{path}.{member}"
                if _justified(path, member):
                    continue
                if real_kind is None:
                    problems.append(f"{where}: not in the real class")
                elif kind in ("method", "classmethod") and (kind, signature) != (real_kind, real_signature):
                    problems.append(f"{where}: {kind}{signature} != real {real_kind}{real_signature}")
                elif kind == "value" and signature != real_signature:
                    problems.append(f"{where} = {signature} != real {real_signature}")
    assert not problems, "\n".join(problems)
