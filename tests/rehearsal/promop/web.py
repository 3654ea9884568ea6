"""The small HTTP endpoints the operator and config-reloader containers answer their probes and
scrapes on (``/healthz``, ``/metrics``), bound to the pod IP."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web


def listen_port(listen_address: str, default: int) -> int:
    """The port of a ``--web.listen-address``/``--listen-address`` value such as ``:8080``."""
    _, _, port = listen_address.rpartition(":")
    return int(port) if port.isdigit() else default


async def serve(host: str, port: int, metrics: Callable[[], str]) -> web.AppRunner:
    async def healthz(_request: web.Request) -> web.Response:
        return web.Response(text="OK")

    async def metrics_page(_request: web.Request) -> web.Response:
        return web.Response(text=metrics(), content_type="text/plain")

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_page)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
