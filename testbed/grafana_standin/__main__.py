"""Run a Grafana stand-in until SIGTERM or SIGINT.

``python -m testbed.grafana_standin --host 127.0.0.1 --port 3000 [--request-log FILE]
[--datasources FILE] [--unhealthy-for SECONDS]``

Admin credentials come from ``GF_SECURITY_ADMIN_USER``/``GF_SECURITY_ADMIN_PASSWORD``
(or their ``__FILE`` forms); without a password the server refuses to start (exit 2).
When listening it prints one JSON line ``{"event": "ready", "url": ...}``; ``--port 0``
picks a free port and the line tells which.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from pathlib import Path

from aiohttp import web

from .config import ConfigError, GrafanaConfig, admin_from_environment
from .datasources import ProvisioningError
from .server import create_app

EXIT_CONFIG = 2
EXIT_LISTEN = 1


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m testbed.grafana_standin",
                                     description="Grafana HTTP API stand-in (test equipment).")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (loopback)")
    parser.add_argument("--port", type=int, default=3000, help="port; 0 picks a free one")
    parser.add_argument("--request-log", type=Path, help="append one JSON line per request")
    parser.add_argument("--datasources", type=Path,
                        help="datasource provisioning YAML replacing the chart's defaults")
    parser.add_argument("--unhealthy-for", type=float, default=0.0, metavar="SECONDS",
                        help="answer /api/health with 503 for this long after start")
    return parser.parse_args(argv)


async def serve(app: web.Application, host: str, port: int) -> None:
    """Listen until SIGTERM/SIGINT, announcing readiness on stdout."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound = runner.addresses[0]
        url = f"http://{host}:{bound[1]}"
        print(json.dumps({"event": "ready", "url": url}), flush=True)
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        config = GrafanaConfig(admin=admin_from_environment(os.environ),
                               request_log=args.request_log, datasources=args.datasources,
                               unhealthy_for=args.unhealthy_for)
        app = create_app(config)
    except (ConfigError, ProvisioningError) as error:
        print(f"grafana stand-in: {error}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        asyncio.run(serve(app, args.host, args.port))
    except OSError as error:
        print(f"grafana stand-in: cannot listen on {args.host}:{args.port}: {error}",
              file=sys.stderr)
        return EXIT_LISTEN
    return 0


if __name__ == "__main__":
    sys.exit(main())
