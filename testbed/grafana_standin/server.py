"""The aiohttp application: routes, a browser's pages, authentication, error answers, the request log and /metrics."""

from __future__ import annotations

import sys
import time
import traceback

from aiohttp import web
from aiohttp.typedefs import Handler

from . import datasources, metrics, pages, routes_dashboards, routes_folders, routes_platform
from .auth import Authenticator
from .config import GrafanaConfig
from .context import (
    AUTH_ERROR,
    AUTHENTICATOR,
    CONFIG,
    IDENTITY,
    REQUEST_LOG,
    STARTED,
    STATE,
    respond,
)
from .errors import GrafanaError
from .identity import Identity
from .requestlog import RequestLog
from .state import State

UNAUTHENTICATED_PATHS = frozenset({"/api/health", "/metrics"})
MAX_BODY_BYTES = 16 * 1024 * 1024


def create_app(config: GrafanaConfig) -> web.Application:
    """A Grafana stand-in answering on whatever site the caller binds it to.

    Raises :class:`datasources.ProvisioningError` for a provisioning file Grafana
    would refuse.
    """
    state = State(datasources=datasources.load(config.datasources))
    app = web.Application(middlewares=[metrics.instrument, _log_requests, _answer_errors, _authenticate],
                          client_max_size=MAX_BODY_BYTES)
    app[CONFIG] = config
    app[STATE] = state
    app[AUTHENTICATOR] = Authenticator(admin=config.admin, state=state)
    app[REQUEST_LOG] = RequestLog(config.request_log)
    app[STARTED] = time.monotonic()
    app[metrics.METRICS] = metrics.RequestMetrics(version=config.version, revision=config.commit)
    app.router.add_get("/metrics", metrics.serve_metrics)
    for table in (routes_platform.routes, routes_folders.routes, routes_dashboards.routes, pages.routes):
        app.router.add_routes(table)
    return app


@web.middleware
async def _log_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    identity = request.get(IDENTITY)
    request.app[REQUEST_LOG].record(
        request.method, request.path, request.query_string, response.status,
        identity.login if isinstance(identity, Identity) else None)
    return response


@web.middleware
async def _answer_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except GrafanaError as error:
        return respond(error.body, error.status)
    except (web.HTTPNotFound, web.HTTPMethodNotAllowed):
        return respond({"message": "Not found"}, 404)
    except web.HTTPException as error:
        return respond({"message": error.reason}, error.status)
    except Exception:
        traceback.print_exc(file=sys.stderr)
        return respond({"message": "Internal Server Error"}, 500)


@web.middleware
async def _authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path not in UNAUTHENTICATED_PATHS:
        try:
            identity = request.app[AUTHENTICATOR].authenticate(
                request.headers.get("Authorization"))
        except GrafanaError as error:
            request[AUTH_ERROR] = error
        else:
            request[IDENTITY] = identity
    return await handler(request)
