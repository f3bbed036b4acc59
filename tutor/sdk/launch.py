"""What ``tutor python`` runs: a learner's script, one command, or a Python prompt, with ``ws`` bound.

``python -m tutor.sdk.launch --embedded DIR [-c CODE | SCRIPT [ARGS...]]`` activates the
embedded azureml SDK for the embedded workspace in DIR; ``--azure CONFIG`` uses the real
azureml-core (never the embedded one) and the Azure ML workspace that CONFIG names. Either
way the learner's code finds ``ws`` already bound (``Workspace.from_config()`` works too), and
``ml_client``, azure-ai-ml's client of the same workspace (the embedded one, or the real
azure-ai-ml's when it is installed beside azureml-core), and runs as ``__main__``, as ``python SCRIPT`` would run it. A failure prints the traceback of the
learner's own code, without the launcher's frames, and exits 1.

The CLI replaces its own process with this one, so Ctrl-C, exit codes and the prompt behave
as they do in plain Python; the progress file is never open here.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path
from typing import Any, NoReturn

BANNER = ("Python {python} · the azureml SDK on {where}\n"
          "`ws` is your workspace (SDK v1). Try: ws.compute_targets · list(ws.models) · help(ws)\n"
          "{v2}Ctrl-D or exit() leaves.")
V2_LINE = "`ml_client` is the same workspace in SDK v2 (azure-ai-ml). Try: list(ml_client.models.list())\n"


def _fail(message: str, code: int = 2) -> NoReturn:
    print(f"tutor python: {message}", file=sys.stderr)
    raise SystemExit(code)


def _embedded_workspace(folder: str) -> Any:
    import tutor.sdk

    tutor.sdk.activate(folder)
    from azureml.core.workspace import Workspace, _backend_at
    from azureml.exceptions import AzureMLException

    try:
        return Workspace._wrap(_backend_at(folder))
    except AzureMLException as error:
        _fail(f"the embedded workspace in {folder} cannot be opened: {error.message}")


def _azure_workspace(config: str) -> Any:
    import tutor.sdk

    tutor.sdk.deactivate()
    try:
        from azureml.core import Workspace
    except ImportError:
        _fail(f"{config} names an Azure ML workspace, and azureml-core is not installed here. "
              "Install it with pip install 'aml-tutor[azure]' (Python 3.11 or older), then run this again.")
    try:
        return Workspace.from_config(path=config)
    except Exception as error:  # noqa: BLE001 - the SDK's own sign-in and network errors, said once
        _fail(f"could not open the Azure ML workspace of {config}: {error}")


def _ml_client(embedded: str | None, config: str | None) -> Any:
    """azure-ai-ml's MLClient of the same workspace, or None where azure-ai-ml is not installed."""
    try:
        from azure.ai.ml import MLClient
        from azure.identity import DefaultAzureCredential
    except ImportError:
        return None
    if embedded is not None:
        import importlib

        embedded_client = importlib.import_module("azure.ai.ml._ml_client")  # the embedded azure-ai-ml (active)
        backend = embedded_client._backend_at(embedded)
        return MLClient(DefaultAzureCredential(), "local", "local", backend.name, _backend=backend)
    try:
        return MLClient.from_config(DefaultAzureCredential(), path=config)  # no network until a call
    except Exception:  # noqa: BLE001 - a config azure-ai-ml cannot read: `ws` still works
        return None


def _learner_traceback(error: BaseException) -> None:
    """Print the traceback without the frames of this launcher and of runpy."""
    import runpy

    skipped = {str(Path(__file__).resolve()), "<frozen runpy>"}
    if runpy.__file__:  # None only in an interpreter built without the module's source
        skipped.add(str(Path(runpy.__file__).resolve()))

    def ours(filename: str) -> bool:
        return filename in skipped or str(Path(filename).resolve()) in skipped

    tb = error.__traceback__
    while tb is not None and ours(tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    traceback.print_exception(type(error), error, tb)


def _run_code(code: str, namespace: dict[str, Any]) -> int:
    try:
        exec(compile(code, "<string>", "exec"), namespace)  # noqa: S102 - the learner's own code
    except SystemExit:
        raise
    except BaseException as error:  # noqa: BLE001 - reported like python -c does
        if isinstance(error, KeyboardInterrupt):
            return 130
        _learner_traceback(error)
        return 1
    return 0


def _run_script(script: str, args: list[str], names: dict[str, Any]) -> int:
    import runpy

    path = Path(script)
    sys.argv = [script, *args]
    sys.path.insert(0, str(path.resolve().parent))
    try:
        runpy.run_path(str(path), init_globals=names, run_name="__main__")
    except SystemExit:
        raise
    except KeyboardInterrupt:
        print("\nStopped.", file=sys.stderr)
        return 130
    except BaseException as error:  # noqa: BLE001 - printed as python would, minus our frames
        _learner_traceback(error)
        return 1
    return 0


def _prompt(names: dict[str, Any], where: str) -> int:
    import code

    namespace = {"__name__": "__main__", **names}
    try:
        import readline
        import rlcompleter

        readline.set_completer(rlcompleter.Completer(namespace).complete)
        readline.parse_and_bind("tab: complete")
    except ImportError:  # pragma: no cover - no readline on this platform
        pass
    sys.path.insert(0, "")
    banner = BANNER.format(python=sys.version.split()[0], where=where,
                           v2=V2_LINE if names.get("ml_client") is not None else "")
    code.interact(banner=banner, local=namespace, exitmsg="")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tutor python", add_help=False)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--embedded", metavar="DIR")
    where.add_argument("--azure", metavar="CONFIG")
    parser.add_argument("-c", dest="command")
    parser.add_argument("script", nargs="?")
    parser.add_argument("args", nargs=argparse.REMAINDER)
    options = parser.parse_args(argv)

    if options.embedded:
        ws = _embedded_workspace(options.embedded)
        place = f"the embedded workspace {ws.name}"
    else:
        ws = _azure_workspace(options.azure)
        place = f"Azure ML, workspace {ws.name}"
    names = {"ws": ws}
    ml_client = _ml_client(options.embedded, options.azure)
    if ml_client is not None:
        names["ml_client"] = ml_client
    if options.command is not None:
        sys.argv = ["-c", *([options.script] if options.script else []), *options.args]
        return _run_code(options.command, {"__name__": "__main__", **names})
    if options.script:
        return _run_script(options.script, options.args, names)
    return _prompt(names, place)


if __name__ == "__main__":
    sys.exit(main())
