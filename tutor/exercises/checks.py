"""Exercise checks: each looks at an effect of the learner's code and says what is missing.

Like swirl's answer tests, a check never reads the code's text: it asks the workspace
(through the Workspace protocol, so the same check holds on Azure) or the learner's own
names in the kernel. A check returns None when it holds, else one sentence the learner
can act on ("the experiment has no run with --variant 3 yet"). Checks are named in the
lesson (``{ check = "dataset", name = "{username}-green-taxi" }``) and validated when the
lesson loads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable

from tutor.errors import TutorError


@dataclass
class Probe:
    """What a check may look at: the learner's kernel, the workspace, the step's outputs and evidence."""

    kernel: Any  # tutor.exercises.session.Kernel: names() and evaluate()
    open_workspace: Callable[[], Any]
    outputs: dict[str, Any] = field(default_factory=dict)
    evidence: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def workspace(self) -> Any:
        return self.open_workspace()


CheckFunc = Callable[[Probe, dict[str, Any]], "str | None"]


@dataclass(frozen=True)
class CheckSpec:
    name: str
    func: CheckFunc
    required: frozenset[str]
    optional: frozenset[str]
    after_action: bool = False

    @property
    def params(self) -> frozenset[str]:
        return self.required | self.optional


_REGISTRY: dict[str, CheckSpec] = {}


def check(name: str, required: tuple[str, ...] = (), optional: tuple[str, ...] = (),
          after_action: bool = False) -> Callable[[CheckFunc], CheckFunc]:
    def register(func: CheckFunc) -> CheckFunc:
        _REGISTRY[name] = CheckSpec(name, func, frozenset(required), frozenset(optional), after_action)
        return func
    return register


def registry() -> dict[str, CheckSpec]:
    return dict(_REGISTRY)


def run_check(name: str, probe: Probe, params: dict[str, Any]) -> str | None:
    """Run one check; a workspace or kernel problem becomes the check's message, never a traceback."""
    try:
        return _REGISTRY[name].func(probe, params)
    except TutorError as exc:
        return exc.what
    except Exception as exc:  # noqa: BLE001 - a check must not take the tutor down
        return f"the check '{name}' could not look ({type(exc).__name__}: {exc})"


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


# -- the learner's names --------------------------------------------------------------------
@check("bound", required=("name",), optional=("type",))
def bound(probe: Probe, p: dict[str, Any]) -> str | None:
    """``name`` is defined in the learner's code, and is a ``type`` (its class name) if given."""
    name, wanted = p["name"], p.get("type")
    info = probe.kernel.names([name])[name]
    if not info.defined:
        return f"`{name}` is not defined yet: assign it in your code ({name} = ...)"
    if wanted:
        # Any subclass counts: exp.submit() gives a ScriptRun, which is a Run.
        ok, classes = probe.kernel.evaluate(f"[c.__name__ for c in type({name}).__mro__]")
        if not ok or wanted not in (classes or []):
            return f"`{name}` is a {_short(info.type or '?')}, not a {wanted}"
    return None


@check("true", required=("expr", "message"))
def true(probe: Probe, p: dict[str, Any]) -> str | None:
    """A Python expression over the learner's names holds (e.g. ``len(runs) == 5``)."""
    ok, value = probe.kernel.evaluate(p["expr"])
    if not ok or not value:
        return str(p["message"])
    return None


def _against_evidence(probe: Probe, p: dict[str, Any]) -> tuple[str, Any, Any] | str:
    """(what, the learner's value, the step's own) — or why they cannot be compared."""
    from tutor.lessons import lookup

    what = p.get("what") or f"`{p['expr']}`"
    ok, value = probe.kernel.evaluate(p["expr"])
    if not ok:
        return f"{what} cannot be read: {value}"
    found, expected = lookup(probe.evidence, p["key"])
    if not found:
        return f"the step found no {p['key']} to compare {what} with"
    return what, value, expected


@check("close_to_evidence", required=("expr", "key"), optional=("tolerance", "what"), after_action=True)
def close_to_evidence(probe: Probe, p: dict[str, Any]) -> str | None:
    """The learner's number (``expr``) is what the step measured itself (evidence ``key``)."""
    compared = _against_evidence(probe, p)
    if isinstance(compared, str):
        return compared
    what, value, expected = compared
    try:
        number = float(value)
    except (TypeError, ValueError):
        return f"{what} is {value!r}, not a number"
    tolerance = float(p.get("tolerance", 1e-6))
    if not math.isfinite(number) or abs(number - float(expected)) > tolerance * max(1.0, abs(float(expected))):
        return f"{what} is {number:.4f}; the step measured {float(expected):.4f}"
    return None


@check("equals_evidence", required=("expr", "key"), optional=("what",), after_action=True)
def equals_evidence(probe: Probe, p: dict[str, Any]) -> str | None:
    """The learner's value (``expr``) is what the step found itself (evidence ``key``)."""
    compared = _against_evidence(probe, p)
    if isinstance(compared, str):
        return compared
    what, value, expected = compared
    if value != expected:
        return f"{what} is {value}; the step found {expected}"
    return None


# -- the workspace --------------------------------------------------------------------------
@check("compute", required=("name",), optional=("type", "max_nodes"))
def compute(probe: Probe, p: dict[str, Any]) -> str | None:
    """A compute target ``name`` exists (of ``type``, with ``max_nodes`` if given)."""
    found = {c.name: c for c in probe.workspace.list_compute()}
    target = found.get(p["name"])
    if target is None:
        return f"the workspace has no compute target named {p['name']} yet"
    if p.get("type") and target.type != p["type"]:
        return f"{p['name']} is a {target.type}, not an {p['type']}"
    if p.get("max_nodes") is not None and int(target.max_nodes) != int(p["max_nodes"]):
        return f"{p['name']} has max_nodes={target.max_nodes}; the course uses {p['max_nodes']}"
    return None


@check("dataset", required=("name",))
def dataset(probe: Probe, p: dict[str, Any]) -> str | None:
    """A dataset ``name`` is registered."""
    if p["name"] not in {d.name for d in probe.workspace.list_datasets()}:
        return f"no dataset named {p['name']} is registered yet"
    return None


@check("datastore_files", required=("paths",))
def datastore_files(probe: Probe, p: dict[str, Any]) -> str | None:
    """Every path in ``paths`` is on the default datastore."""
    store = probe.workspace.default_datastore
    missing = [path for path in p["paths"] if path not in set(store.list(path.rsplit("/", 1)[0]))]
    if missing:
        return f"the datastore {store.name} has no {missing[0]} yet"
    return None


@check("environment", required=("name",), optional=("how",))
def environment(probe: Probe, p: dict[str, Any]) -> str | None:
    """An environment ``name`` is registered (``how``: the call that registers it, for the message)."""
    if p["name"] not in {e.name for e in probe.workspace.list_environments()}:
        return f"`{p['name']}` is not registered as an environment yet ({p.get('how') or 'env.register(ws)'})"
    return None


def _arguments(values: list[Any]) -> list[str]:
    return [str(v) for v in values]


@check("runs", required=("experiment", "arguments"), optional=("completed", "prefix"))
def runs(probe: Probe, p: dict[str, Any]) -> str | None:
    """The experiment has a run for every argument list in ``arguments`` (completed, if asked).

    With ``prefix`` a run's arguments need only start with the list: an SDK v2 job's data
    argument is a path the workspace chose (``--data ${{inputs.data}}``)."""
    records = probe.workspace.list_runs(p["experiment"])
    for wanted in p["arguments"]:
        args = _arguments(wanted)
        if p.get("prefix"):
            matching = [r for r in records if _arguments(r.arguments)[:len(args)] == args]
        else:
            matching = [r for r in records if _arguments(r.arguments) == args]
        shown = " ".join(args) + (" ..." if p.get("prefix") else "")
        if not matching:
            return f"the experiment {p['experiment']} has no run with `{shown}` yet"
        alive = [r for r in matching if str(r.status) not in ("Failed", "Canceled")]
        if not alive:
            last = max(matching, key=lambda r: str(r.submitted_at or ""))  # the latest try says why
            return f"the run with `{shown}` {str(last.status).lower()}: {last.error or 'see its log'}"
        if p.get("completed") and not any(str(r.status) == "Completed" for r in alive):
            return f"the run with `{shown}` has not completed yet (wait_for_completion)"
    return None


@check("model", required=("name",))
def model(probe: Probe, p: dict[str, Any]) -> str | None:
    """A model ``name`` is registered."""
    if not probe.workspace.list_models(p["name"]):
        return f"no model named {p['name']} is registered yet"
    return None


@check("service", required=("name",), optional=("auth",))
def service(probe: Probe, p: dict[str, Any]) -> str | None:
    """A service ``name`` is deployed and Healthy (with key authentication, if ``auth``)."""
    found = {s.name: s for s in probe.workspace.list_services()}
    record = found.get(p["name"])
    if record is None:
        return f"no service named {p['name']} is deployed yet"
    if record.state != "Healthy":
        reason = record.properties.get("reason", "")
        return f"the service {p['name']} is {record.state}" + (f": {reason}" if reason else "")
    if p.get("auth") and not record.properties.get("auth_enabled", False):
        return f"the service {p['name']} does not ask for a key: deploy it with auth_enabled=True"
    return None


@check("no_service", required=("names",), optional=("how",))
def no_service(probe: Probe, p: dict[str, Any]) -> str | None:
    """None of ``names`` is deployed any more (``how``: the call that deletes one, for the message)."""
    return _still_there({s.name for s in probe.workspace.list_services()}, p["names"], "the service",
                        "the services", ("runs", "run"), p.get("how") or "service.delete()")


@check("no_compute", required=("names",), optional=("how",))
def no_compute(probe: Probe, p: dict[str, Any]) -> str | None:
    """None of the compute targets ``names`` exists any more (``how``: the call that deletes one)."""
    return _still_there({c.name for c in probe.workspace.list_compute()}, p["names"], "the compute target",
                        "the compute targets", ("exists", "exist"), p.get("how") or "target.delete()")


def _still_there(existing: set[str], names: list[str], one: str, many: str, verbs: tuple[str, str],
                 how: str) -> str | None:
    """"the service X still runs (service.delete())" for what of ``names`` is still there, else None."""
    left = sorted(existing & set(names))
    if not left:
        return None
    single = len(left) == 1
    return f"{one if single else many} {', '.join(left)} still {verbs[0] if single else verbs[1]} ({how})"


# -- files the learner writes ---------------------------------------------------------------
@check("scoring_script", required=("file", "model", "rows", "bad_row"), optional=("client",))
def scoring_script(probe: Probe, p: dict[str, Any]) -> str | None:
    """The scoring script ``file`` serves the kernel's ``model`` as a service would: ``rows`` get the
    model's own predictions, ``bad_row`` is refused before ``run()`` (see tutor.exercises.scoring).
    ``client`` names SDK v2's MLClient when ``model`` is an azure-ai-ml Model."""
    client = p.get("client") or "None"
    call = (f"__import__('tutor.exercises.scoring', fromlist=['problem']).problem("
            f"{str(p['file'])!r}, {p['model']}, {p['rows']!r}, {p['bad_row']!r}, client={client})")
    ok, value = probe.kernel.evaluate(call)
    if not ok:
        return f"your scoring script could not be tried: {value}"
    return str(value) if value else None


@check("automl_run", required=("experiment",))
def automl_run(probe: Probe, p: dict[str, Any]) -> str | None:
    """The experiment has a finished AutoML run (a parent run whose iterations are its child runs)."""
    searches = [r for r in probe.workspace.list_runs(p["experiment"])
                if r.parent_id is None and r.tags.get("kind") == "automl"]
    if not searches:
        return f"the experiment {p['experiment']} has no AutoML run yet (experiment.submit(automl_config))"
    if any(str(r.status) == "Completed" for r in searches):
        return None
    last = max(searches, key=lambda r: str(r.submitted_at or ""))
    return f"your AutoML run {last.id} is {last.status}" + (f": {last.error}" if last.error else "")
