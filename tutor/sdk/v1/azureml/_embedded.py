"""What every module of the embedded azureml SDK shares.

* :class:`SubsetMeta` / :class:`Subset`: a class of the SDK that names what it supports, so
  a call outside the course's subset fails with an error naming the call and the subset;
* :func:`unsupported_name` and :class:`_SubsetFinder`: the same for names and modules;
* :func:`translate`: the embedded workspace's :class:`~tutor.errors.TutorError` turned into
  the exception type azureml raises for the same mistake, with the same message shape;
* :func:`backend`: the :class:`~tutor.workspace.base.Workspace` (protocol) behind an SDK
  ``Workspace``, the one implementation the step actions use too.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import sys
from typing import Any, Iterable, Iterator

AZURE_HINT = ("To use it, work against an Azure ML workspace: install azureml-core "
              "(pip install 'aml-tutor[azure]') and point the tutor at its config.json.")


class NotInEmbeddedSDK(AttributeError):
    """A class member of azureml that the embedded workspace does not implement."""


class EmbeddedImportError(ImportError):
    """A name or module of azureml that the embedded workspace does not implement."""


def _listing(names: Iterable[str]) -> str:
    return ", ".join(sorted(set(names)))


def _public(names: Iterable[str]) -> list[str]:
    return [n for n in names if not n.startswith("_")]


def supported_members(cls: type) -> list[str]:
    names: set[str] = set()
    for klass in cls.__mro__:
        if klass is object or klass.__module__ == __name__:
            continue
        names.update(_public(vars(klass)))
    return sorted(names)


V2_HINT = ("To use it, work against an Azure ML workspace: install azure-ai-ml "
           "(pip install 'aml-tutor[azure]') and run with its config.json.")


def _unsupported_member(cls: type, name: str) -> NotInEmbeddedSDK:
    v2 = cls.__module__.startswith("azure.")
    return NotInEmbeddedSDK(
        f"{cls.__name__}.{name} is not part of {'azure-ai-ml' if v2 else 'the azureml SDK'} on the embedded "
        f"workspace. {cls.__name__} supports: {_listing(supported_members(cls))}. {V2_HINT if v2 else AZURE_HINT}"
    )


class SubsetMeta(type):
    """Class-level lookups of unknown public names (``Run.get_portal_url``) explain themselves."""

    def __getattr__(cls, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        raise _unsupported_member(cls, name)


class Subset(metaclass=SubsetMeta):
    """Base of the SDK's classes: instance lookups of unknown public names explain themselves."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        raise _unsupported_member(type(self), name)


def unsupported_name(module: str, name: str, supported: Iterable[str]) -> Exception:
    """For a module's ``__getattr__``: dunder probes stay AttributeErrors, anything else explains."""
    if name.startswith("__"):
        return AttributeError(f"module {module!r} has no attribute {name!r}")
    v2 = module.startswith("azure.")
    return EmbeddedImportError(
        f"{module}.{name} is not part of {'azure-ai-ml' if v2 else 'the azureml SDK'} on the embedded workspace. "
        f"{module} provides: {_listing(_public(supported))}. {V2_HINT if v2 else AZURE_HINT}",
        name=name,
    )


def lazy_names(package: str, where: dict[str, str], submodules: Iterable[str] = ()) -> tuple[Any, Any]:
    """A package's ``__getattr__`` and ``__dir__`` that import each name from its module on first
    use (azureml's own layout, without the import cost); anything else explains itself."""
    import importlib

    namespace = sys.modules[package].__dict__
    subs = tuple(submodules)

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            if name in subs:
                return importlib.import_module(f"{package}.{name}")
            raise unsupported_name(package, name, [*where, *subs])
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(where))

    return __getattr__, __dir__


#: The modules of the embedded SDK, for the error that names them.
MODULES = (
    "azureml.core", "azureml.core.authentication", "azureml.core.compute", "azureml.core.compute_target",
    "azureml.core.conda_dependencies", "azureml.core.dataset", "azureml.core.datastore",
    "azureml.core.environment", "azureml.core.experiment", "azureml.core.model", "azureml.core.run",
    "azureml.core.script_run_config", "azureml.core.webservice", "azureml.core.workspace", "azureml.data",
    "azureml.exceptions", "azureml.train", "azureml.train.automl", "azureml.train.automl.automlconfig",
    "azureml.train.automl.exceptions", "azureml.train.automl.run",
)


#: The public modules of the embedded azure-ai-ml, for the same error in SDK v2.
V2_MODULES = ("azure.ai.ml", "azure.ai.ml.automl", "azure.ai.ml.constants", "azure.ai.ml.entities",
              "azure.ai.ml.exceptions", "azure.ai.ml.operations", "azure.identity")


class _SubsetFinder(importlib.abc.MetaPathFinder):
    """Last on ``sys.meta_path``: an ``azureml.*`` or ``azure.ai.ml.*`` module nobody found gets a clear error."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        azureml = sys.modules.get("azureml")
        if fullname.startswith("azureml.") and getattr(azureml, "__embedded__", False):
            raise ModuleNotFoundError(
                f"No module named {fullname!r}: it is not part of the azureml SDK on the embedded workspace, "
                f"which provides {', '.join(MODULES)}. {AZURE_HINT}",
                name=fullname,
            )
        v2 = sys.modules.get("azure.ai.ml")
        if fullname.startswith("azure.ai.ml.") and getattr(v2, "__embedded__", False):
            raise ModuleNotFoundError(
                f"No module named {fullname!r}: it is not part of azure-ai-ml on the embedded workspace, "
                f"which provides {', '.join(V2_MODULES)}. {V2_HINT}",
                name=fullname,
            )
        return None


def install_finder() -> None:
    if not any(isinstance(f, _SubsetFinder) for f in sys.meta_path):
        sys.meta_path.append(_SubsetFinder())


@contextlib.contextmanager
def translate(exception: type[Exception], prefix: str = "") -> Iterator[None]:
    """Raise the embedded workspace's TutorErrors as azureml's ``exception`` type.

    ``prefix`` is the error code azureml puts first (``"ComputeTargetNotFound: "``).
    """
    from tutor.errors import TutorError

    try:
        yield
    except TutorError as error:
        text = error.what + (f" {error.fix}" if error.fix else "")
        raise exception(prefix + text) from None


def backend(workspace: Any) -> Any:
    """The embedded workspace (Workspace protocol) behind an SDK ``Workspace`` object."""
    found = getattr(workspace, "_backend", None)
    if found is None:
        from azureml.exceptions import UserErrorException

        raise UserErrorException(
            f"Expected an azureml.core.Workspace, got {type(workspace).__name__}: {workspace!r}. "
            "Pass the workspace, e.g. ws = Workspace.from_config()."
        )
    return found


def require(value: Any, types: type | tuple[type, ...], what: str) -> Any:
    """azureml's check of an argument's type, as a UserErrorException naming both types."""
    if not isinstance(value, types):
        from azureml.exceptions import UserErrorException

        names = " or ".join(t.__name__ for t in (types if isinstance(types, tuple) else (types,)))
        raise UserErrorException(f"{what} must be {names}, got {type(value).__name__}: {value!r}")
    return value


def tags_match(tags: dict[str, str], wanted: Any) -> bool:
    """azureml's tag filter (``Model.list(tags=...)``, ``Webservice.list(tags=...)``): a list of
    'key' or ['key', 'value']."""
    for tag in wanted or []:
        if isinstance(tag, list):
            if tags.get(tag[0]) != tag[1]:
                return False
        elif tag not in tags:
            return False
    return True


def version_of(version: Any) -> Any:
    """azureml's version argument for the Workspace protocol: None -> "latest"."""
    if version is None or version == "latest":
        return "latest"
    return int(version) if str(version).isdigit() else version
