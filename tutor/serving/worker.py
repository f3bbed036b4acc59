"""One worker process of a scoring service: load score.py, call init(), serve HTTP.

The supervisor starts ``workers`` of these on the one listening socket it holds (the
kernel hands each new connection to whichever worker accepts first), so a service
with several workers scores in parallel on one port, like gunicorn's workers behind
Azure's server. Each worker reports to the supervisor through a pipe: ``ready`` once
``init()`` returned, or ``failed <reason>`` when loading or ``init()`` raised (the
traceback goes to the service log). A second pipe is the worker's lifeline: when the
supervisor dies, its end closes and the worker shuts down instead of lingering.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sys
import traceback
from pathlib import Path

from tutor.serving import record

logger = logging.getLogger("tutor.serving.worker")

EXIT_INIT_FAILED = 3


def _report(fd: int, message: str) -> None:
    """One line to the supervisor; kept under PIPE_BUF so the write is atomic."""
    line = " ".join(message.split())[:3000] + "\n"
    try:
        os.write(fd, line.encode("utf-8", "replace"))
    except OSError:
        pass  # the supervisor is gone; the lifeline will end this process


def _setup_logging(index: int) -> None:
    logging.basicConfig(
        level=logging.INFO,
        format=f"%(asctime)s worker {index} [%(process)d] %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def run_worker(service_dir: Path, index: int, listen_fd: int, ready_fd: int, lifeline_fd: int) -> int:
    """Serve until told to stop; the exit code tells the supervisor how it ended."""
    _setup_logging(index)
    info = record.read(service_dir)
    config = info.config
    os.environ["AZUREML_MODEL_DIR"] = config.model_dir
    os.environ["AZUREML_ENTRY_SCRIPT"] = config.app_script
    try:
        from tutor.serving.entry import load

        entry = load(Path(config.app_script))
        logger.info("calling init() of %s", config.app_script)
        entry.init()
    except BaseException as exc:  # noqa: BLE001 - any failure of the learner's script is reported
        traceback.print_exc()
        summary = str(exc).strip().splitlines()
        detail = f"{type(exc).__name__}: {summary[0]}" if summary else type(exc).__name__
        _report(ready_fd, f"failed {index} loading or init() of the entry script raised {detail}")
        return EXIT_INIT_FAILED

    import uvicorn

    from tutor.serving.app import AppSettings, build_app
    from tutor.serving.inputs import InputPlan
    from tutor.serving.keys import KeyChecker
    from tutor.serving.scoring import Scorer
    from tutor.serving.swagger import SwaggerDocuments

    plan = InputPlan(entry)
    scorer = Scorer(entry, plan, batching=config.batching)
    swagger = SwaggerDocuments(
        config.name,
        decorated=entry.decorated,
        input_schema=plan.published_schema(),
        output_schema=entry.output_schema,
        supported_versions=entry.supported_swagger_versions,
        auth_enabled=config.auth_enabled,
    )
    keys = KeyChecker(service_dir) if config.auth_enabled else None
    app = build_app(
        AppSettings(config.name, config.max_body_bytes, config.auth_enabled), plan, scorer, swagger, keys
    )
    logger.info(
        "input: %s; batching %s",
        "checked against the decorators' schema" if entry.decorated else "raw body text (run() is not decorated)",
        "on" if scorer.batching else "off",
    )
    sock = socket.socket(fileno=listen_fd)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            lifespan="off",
            access_log=False,
            log_config=None,
            ws="none",
            server_header=False,
            timeout_keep_alive=15,
            timeout_graceful_shutdown=5,
        )
    )

    async def serve() -> None:
        loop = asyncio.get_running_loop()

        def supervisor_gone() -> None:
            logger.warning("the service supervisor is gone; shutting down")
            loop.remove_reader(lifeline_fd)
            server.should_exit = True

        loop.add_reader(lifeline_fd, supervisor_gone)
        _report(ready_fd, f"ready {index} {os.getpid()}")
        await server.serve(sockets=[sock])

    asyncio.run(serve())
    return 0
