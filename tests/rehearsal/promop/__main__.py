"""Command line: ``operator``, ``prometheus`` and ``reloader``, one per image the rehearsal
kubelet maps (see the promop entries of tests/rehearsal/kubelet.yml).

Each takes the pod IP and the container's own arguments (the kubelet's ``{args}``), reaches the
API server through ``--kubeconfig`` or ``--server``/``--token`` and stops on SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
import time

from . import kubeaccess
from .operator import Operator, reloader_settings
from .server import run_server
from .version import Version, binary_version
from .web import listen_port, serve

START = time.time()


def _operator_flags(args: list[str]) -> argparse.Namespace:
    """The real operator's flags the stand-in honours; the others are accepted and ignored."""
    flags = argparse.ArgumentParser(add_help=False)
    flags.add_argument("--prometheus-config-reloader",
                       default="quay.io/prometheus-operator/prometheus-config-reloader:v0.93.1")
    flags.add_argument("--config-reloader-cpu-request", dest="reloader_cpu_request")
    flags.add_argument("--config-reloader-cpu-limit", dest="reloader_cpu_limit")
    flags.add_argument("--config-reloader-memory-request", dest="reloader_memory_request")
    flags.add_argument("--config-reloader-memory-limit", dest="reloader_memory_limit")
    flags.add_argument("--web.listen-address", dest="listen", default=":8080")
    return flags.parse_known_args(args)[0]


async def _until_terminated(main: asyncio.Future[None]) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, main.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await main


async def run_operator(options: argparse.Namespace) -> None:
    flags = _operator_flags(options.args)
    version = Version.parse(options.prometheus_version) if options.prometheus_version \
        else binary_version()
    async with kubeaccess.client(options, "prometheus-operator-standin") as api:
        operator = Operator(api, version, reloader_settings(flags))
        runner = await serve(options.pod_ip, listen_port(flags.listen, 8080),
                             lambda: f"prometheus_operator_build_info 1\n"
                                     f"process_start_time_seconds {START}\n")
        try:
            await _until_terminated(asyncio.ensure_future(operator.run()))
        finally:
            await runner.cleanup()


async def run_prometheus(options: argparse.Namespace) -> None:
    async with kubeaccess.client(options, "prometheus-config-reloader-standin") as api:
        pod_name = options.pod_name or os.environ.get("HOSTNAME", "")
        await _until_terminated(asyncio.ensure_future(
            run_server(api, pod_name, options.pod_ip, options.args)))


async def run_reloader(options: argparse.Namespace) -> None:
    """The config-reloader container: its work is done by the prometheus process; it answers
    /healthz and /metrics on reloader-web, and as the init container it exits at once."""
    flags = argparse.ArgumentParser(add_help=False)
    flags.add_argument("--watch-interval", default="")
    flags.add_argument("--listen-address", default=":8080")
    parsed = flags.parse_known_args(options.args)[0]
    if parsed.watch_interval == "0":
        return
    runner = await serve(options.pod_ip, listen_port(parsed.listen_address, 8080),
                         lambda: f"reloader_last_reload_successful 1\n"
                                 f"process_start_time_seconds {START}\n")
    try:
        await _until_terminated(asyncio.ensure_future(asyncio.Event().wait()))
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.rehearsal.promop")
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("operator", "prometheus", "reloader"):
        command = commands.add_parser(name)
        command.add_argument("--pod-ip", required=True)
        command.add_argument("--log-level", default="INFO")
        if name != "reloader":
            kubeaccess.add_arguments(command)
        if name == "operator":
            command.add_argument("--prometheus-version",
                                 help="version the configuration is generated for "
                                      "(default: the installed binary's)")
        if name == "prometheus":
            command.add_argument("--pod-name", help="default: $HOSTNAME, as the kubelet sets it")
        command.add_argument("args", nargs=argparse.REMAINDER,
                             help="the container's own arguments (kubelet {args})")
    options = parser.parse_args(argv)
    options.args = [a for a in options.args if a != "--"]
    logging.basicConfig(level=options.log_level, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    runners = {"operator": run_operator, "prometheus": run_prometheus, "reloader": run_reloader}
    asyncio.run(runners[options.command](options))
    return 0


if __name__ == "__main__":
    sys.exit(main())
