"""``python -m tutor.serving``: the service's processes (started by ``deploy``, not by hand).

``supervise DIR --listen-fd N`` runs a service's supervisor on an inherited listening
socket; ``worker DIR ...`` is one of its workers.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tutor.serving", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    supervise = commands.add_parser("supervise", help="run a service (started by deploy)")
    supervise.add_argument("service_dir", type=Path)
    supervise.add_argument("--listen-fd", type=int, required=True)
    worker = commands.add_parser("worker", help="one worker of a service (started by its supervisor)")
    worker.add_argument("service_dir", type=Path)
    worker.add_argument("--index", type=int, required=True)
    worker.add_argument("--listen-fd", type=int, required=True)
    worker.add_argument("--ready-fd", type=int, required=True)
    worker.add_argument("--lifeline-fd", type=int, required=True)
    args = parser.parse_args(argv)
    if args.command == "supervise":
        from tutor.serving.supervisor import run_supervisor

        return run_supervisor(args.service_dir, args.listen_fd)
    from tutor.serving.worker import run_worker

    return run_worker(args.service_dir, args.index, args.listen_fd, args.ready_fd, args.lifeline_fd)


if __name__ == "__main__":
    sys.exit(main())
